"""The Hub Space of the board: the folder `videobench leaderboard space` writes, and its Gradio app launched here,
driven through gradio_client (a submission lands in the store, a bad one is refused with the message of
`submit_request`, the function `videobench submit` runs) and in headless chromium (a screenshot)."""

from __future__ import annotations

import os
import re
import runpy
import socket
from pathlib import Path

import pytest
from leaderboard_helpers import add, chromium, reward_model_folder
from typer.testing import CliRunner

from videobench.cli import _register, app
from videobench.leaderboard.build import publish
from videobench.leaderboard.errors import SubmissionRefused
from videobench.leaderboard.store import LocalStore
from videobench.leaderboard.submissions import read_requests, submit_request

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
_register()
runner = CliRunner()


def _front_matter(readme: str) -> dict:
    from huggingface_hub import SpaceCard

    return SpaceCard(readme).data.to_dict()


def test_space_folder_has_the_space_metadata(tmp_path):
    import tomllib
    from importlib.metadata import version

    import videobench
    from videobench.leaderboard.space import GRADIO_VERSION

    on_hub = runner.invoke(app, ["leaderboard", "space", "--store", "org/board", "--out", str(tmp_path / "hub"),
                                 "--title", "My board"])
    assert on_hub.exit_code == 0, on_hub.output
    meta = _front_matter((tmp_path / "hub/README.md").read_text())
    assert meta["sdk"] == "gradio" and meta["app_file"] == "app.py" and meta["title"] == "My board"
    # the Space runs the Gradio release the tests ran, and the dev extra installs
    dev = tomllib.loads(Path(videobench.__file__).parents[1].joinpath("pyproject.toml").read_text())
    assert meta["sdk_version"] == GRADIO_VERSION == version("gradio")
    extras = dev["project"]["optional-dependencies"]
    assert f"gradio[oauth]=={GRADIO_VERSION}" in extras["dev"] and extras["space"] == [f"gradio[oauth]=={GRADIO_VERSION}"]
    assert meta["hf_oauth"] is True and meta["datasets"] == ["org/board"]
    requirements = (tmp_path / "hub/requirements.txt").read_text().splitlines()
    assert f"videobench=={videobench.__version__}" in requirements and f"gradio[oauth]=={GRADIO_VERSION}" in requirements
    app_py = (tmp_path / "hub/app.py").read_text()
    compile(app_py, "app.py", "exec")
    assert "'org/board'" in app_py and "'My board'" in app_py

    local = runner.invoke(app, ["leaderboard", "space", "--store", str(tmp_path / "st"), "--out", str(tmp_path / "lo"),
                                "--requirement", "videobench @ git+https://example.org/videobench"])
    assert local.exit_code == 0, local.output
    meta = _front_matter((tmp_path / "lo/README.md").read_text())
    assert "hf_oauth" not in meta and "datasets" not in meta
    assert "videobench @ git+https://example.org/videobench" in (tmp_path / "lo/requirements.txt").read_text()
    assert repr(str((tmp_path / "st").resolve())) in (tmp_path / "lo/app.py").read_text()

    missing = runner.invoke(app, ["leaderboard", "space", "--out", str(tmp_path / "x")], env={"VIDEOBENCH_STORE": ""})
    assert missing.exit_code == 2 and "no store given" in missing.output


def test_views_filter_rows_and_columns_like_the_report(local_store):
    from videobench.leaderboard.space import gen_view, load_board, queue_view, rm_view

    files = {}
    for i in range(3):
        files.update(add(f"org/rm-step{i}", seed=i, skill=0.6 + 0.05 * i))
    files.update(add("other/model", seed=7))
    publish(local_store, files)
    data = load_board(local_store)

    def rows(page: str) -> list[str]:
        return re.findall(r'<tr (?:class="(?:ref|apart)" )?(?:data-name="([^"]*)")?', page)

    every = rm_view(data, "videogen-rewardbench")
    assert len(rows(every)) == 5  # 4 models + the reference line
    filtered = rm_view(data, "videogen-rewardbench", "STEP")
    assert sorted(n for n in rows(filtered) if n) == ["org/rm-step0 org/rm-step0", "org/rm-step1 org/rm-step1",
                                                      "org/rm-step2 org/rm-step2"]
    assert 'class="ref"' in filtered  # the reference line is never filtered out
    headers = lambda page: re.findall(r"<th[^>]*>([^<]*)</th>", page)  # noqa: E731
    # defaults: "details" off (no revision column); w/o ties off: its 4 dimensions and their average go
    assert "revision" not in headers(every) and "VQ w/o ties" in headers(every)
    no_wo = rm_view(data, "videogen-rewardbench", "", ["w", "d-VQ", "d-MQ", "d-TA", "d-Overall", "avg", "ci"])
    assert len(headers(every)) - len(headers(no_wo)) == 5 and "avg w/o ties" not in headers(no_wo)
    assert 'class="ci"' in every and 'class="ci"' not in rm_view(data, "videogen-rewardbench", "", ["wo", "w"])
    assert "No generator results" in gen_view(data, None) and "No requests" in queue_view(data)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.needs_chromium
def test_space_app_files_requests_and_renders(tmp_path, monkeypatch):
    """The generated app.py, launched on loopback: gradio_client files a good request and gets the refusal of a bad one
    word for word; headless chromium renders the board."""
    from gradio_client import Client
    from PIL import Image

    from videobench.leaderboard.space import launch

    store = LocalStore(tmp_path / "store")
    files = {}
    for i in range(3):
        files.update(add(f"org/rm-step{i}", seed=i, skill=0.6 + 0.05 * i))
    publish(store, files)
    assert runner.invoke(app, ["leaderboard", "space", "--store", str(store.root), "--out",
                               str(tmp_path / "space")]).exit_code == 0
    monkeypatch.delenv("VIDEOBENCH_STORE", raising=False)
    demo = runpy.run_path(str(tmp_path / "space/app.py"))["demo"]  # the generated file, as the Space runs it
    port = _free_port()
    launch(demo, server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        model = reward_model_folder(tmp_path)
        with pytest.raises(SubmissionRefused) as refused:  # what `videobench submit` says to the same input
            submit_request(store, model=f"videoreward:{model}", bench="no-such-bench", submitter="ann")
        bad = client.predict("reward model", f"videoreward:{model}", "no-such-bench", "main", "org/rm", "ann",
                             api_name="/submit")
        assert bad == f"Refused: {refused.value}" and not read_requests(store.snapshot())[0]
        good = client.predict("reward model", f"videoreward:{model}", "videogen-rewardbench", "main", "org/rm", "ann",
                              api_name="/submit")
        (req,), _ = read_requests(store.snapshot())
        assert good.startswith(f"Filed request {req.id} (PENDING) for ann")
        assert (req.model_id, req.submitter, req.benchmark) == ("org/rm", "ann", "videogen-rewardbench")

        shot = tmp_path / "space.png"
        run = chromium(tmp_path, f"http://127.0.0.1:{port}/", "--dump-dom", f"--screenshot={shot}")
        assert run.returncode == 0 and shot.is_file(), run.stderr[-2000:]
        assert "org/rm-step2" in run.stdout and "random (expected)" in run.stdout  # the table, drawn by the browser
        pixels = Image.open(shot).convert("L").resize((120, 160))
        lo, hi = pixels.getextrema()
        assert hi - lo > 100 and len(set(pixels.getdata())) > 20  # not blank
    finally:
        demo.close()


@pytest.mark.filterwarnings("ignore:Gradio does not support OAuth features outside of a Space")
def test_space_on_a_hub_store_files_under_the_signed_in_user(hub, tmp_path, monkeypatch):
    """The Space's own token (the board's) writes; the submitter is the user its OAuth sign-in names, and nobody
    else: without a sign-in, or with a local path, nothing is filed. Driven through the server, so Gradio itself
    fills the profile parameter from the session."""
    import httpx
    import huggingface_hub.hf_api
    from gradio_client import Client
    from leaderboard_helpers import model_config_json, safetensors_bytes

    from videobench.leaderboard.hub_store import HubStore
    from videobench.leaderboard.space import launch, make_app

    hub.state.users.update({"tok-board": "board-bot", "tok-alice": "alice"})
    # Off Spaces, Gradio's sign-in is a mock that signs in the user of the local token (huggingface_hub's default
    # client): here alice, while the Space writes with the board's token
    monkeypatch.setenv("HF_TOKEN", "tok-alice")
    monkeypatch.setattr(huggingface_hub.hf_api.api, "endpoint", hub.url)
    weights = {"model.safetensors": safetensors_bytes(), "config.json": b"{}"}
    hub.state.create("model", "org/base", weights)
    hub.state.create("model", "org/rm", {**weights, "model_config.json": model_config_json("org/base")})
    store = HubStore("board/results", endpoint=hub.url, token="tok-board", cache_dir=tmp_path / "c", backoff=0.001)
    demo = make_app(store, endpoint=hub.url)
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    launch(demo, server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    form = ("reward model", "videoreward:org/rm", "sanity", "main", "")
    local = ("reward model", f"videoreward:{reward_model_folder(tmp_path)}", "sanity", "main", "org/x")
    try:
        assert Client(url, verbose=False).predict(*form, api_name="/submit").startswith(
            "Refused: sign in with Hugging Face")
        # the sign-in's session cookie (Secure, so copied by hand onto plain http)
        session = httpx.get(f"{url}login/callback", follow_redirects=False).cookies["session"]
        signed_in = Client(url, verbose=False, headers={"Cookie": f"session={session}"})
        assert "takes Hub repos (org/name) only" in signed_in.predict(*local, api_name="/submit")
        assert not read_requests(store.snapshot())[0]
        assert signed_in.predict(*form, api_name="/submit").startswith("Filed request")
    finally:
        demo.close()
    (req,), _ = read_requests(store.snapshot())
    assert (req.submitter, req.model_id, len(req.revision)) == ("alice", "org/rm", 40)


def test_mos_benchmarks_get_the_reports_mos_table(local_store):
    import json as _json

    from videobench.leaderboard.build import result_files
    from videobench.leaderboard.layout import result_path
    from videobench.leaderboard.space import load_board, rm_figure, rm_groups, rm_view
    from videobench.leaderboard.synthetic import mos_result
    from videobench.results import result_to_dict

    def mos(model, value):
        data = _json.dumps(result_to_dict(mos_result(model, "t2vqa", {"Overall": value}))).encode()
        return result_files(data, result_path("t2vqa", model, "20260101T000000000000Z"))

    publish(local_store, {**add("org/pairs"), **mos("org/a", 0.6), **mos("org/b", 0.8)})
    data = load_board(local_store)
    assert data.benchmarks == ["videogen-rewardbench", "t2vqa"]
    keys = [key for _, key in rm_groups(data)]
    assert {"wo", "w", "srcc", "krcc", "plcc"} <= set(keys)
    page = rm_view(data, "t2vqa", "", keys)
    headers = re.findall(r"<th[^>]*>([^<]*)</th>", page)
    assert "Overall SRCC" in headers and "mean SRCC" in headers and "Overall w/ ties" not in headers
    # ranked on the mean SRCC: org/b (0.8) above org/a (0.6), and no random reference row
    assert page.index("org/b") < page.index("org/a") and 'class="ref"' not in page
    assert "Overall KRCC" not in re.findall(r"<th[^>]*>([^<]*)</th>", rm_view(data, "t2vqa", "", ["srcc", "d-Overall"]))
    assert rm_figure(data, "t2vqa") is None and rm_figure(data, "videogen-rewardbench") is not None
