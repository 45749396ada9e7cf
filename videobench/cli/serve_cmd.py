"""``videobench serve-reward SPEC``: one reward model behind HTTP, for the ``http:`` spec (``rewards.served_server``)."""

from __future__ import annotations

import typer

from videobench.cli import app
from videobench.cli.common import UserError, console, err_console, friendly_errors


@app.command("serve-reward")
def serve_reward(
    spec: str = typer.Argument(
        ..., help="Reward model spec to serve, as --model takes it, e.g. 'videoreward:DIR?device=cuda'."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (default loopback only; there is no "
                             "authentication, so bind elsewhere only behind something that authenticates)."),
    port: int = typer.Option(8000, "--port", min=0, max=65535, help="Port to listen on (0: a free one, printed)."),
    allow_paths: bool = typer.Option(
        False, "--allow-paths", help="Also accept requests naming a video by its path on this machine "
                                     "(http:...?send=path); by default clients send frames or file bytes."),
    max_body_mb: float = typer.Option(1024, "--max-body-mb", min=1, help="Largest request accepted, in MiB."),
) -> None:
    """Serve a reward model over HTTP until interrupted (Ctrl-C): other environments score through it with the spec
    http://HOST:PORT (eval, compare, align). Endpoints: GET /v1/info (spec, dimensions, sampling, fingerprint,
    versions), GET /v1/health, POST /v1/score (JSON; protocol in docs/reward-models.md). Prints one line with the
    address once the model is loaded and the port is bound; writes nothing."""
    with friendly_errors():
        from videobench.rewards.served_server import is_loopback, make_server

        try:
            server = make_server(spec, host, port, allow_paths=allow_paths, max_body_mb=max_body_mb)
        except OSError as exc:
            raise UserError(f"--host {host} --port {port}: cannot listen there ({exc.strerror or exc})") from None
        if not is_loopback(host):
            err_console.print(f"warning: serving on {host} without authentication: anyone who reaches it can use "
                              "the model", highlight=False)
        info = server.info
        console.print(f"serving {info['name']} ({', '.join(info['dimensions'])}; fingerprint {info['fingerprint']}) "
                      f"at {server.url}", markup=False, highlight=False, soft_wrap=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
