"""``videobench align dpo|rwr|sft|grpo``: train a LoRA on a flow-matching video pipeline.

Each training command is one function registered on the ``align`` sub-app; a new command (``latent-rm``, ``nrg``)
is one more decorated function that reuses :func:`load_settings`.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import typer

from videobench.cli import app
from videobench.cli.common import UserError, check_output_dir, console, friendly_errors

align_app = typer.Typer(
    name="align",
    help="Align a text-to-video generator with human feedback: Flow-DPO, Flow-RWR, SFT (LoRA, diffusers format); "
         "the noisy-latent reward model and Flow-NRG guided sampling.",
    no_args_is_help=True,
)
app.add_typer(align_app, name="align")

CONFIG_HELP = ("YAML file of settings (the keys of videobench.align.AlignConfig; `videobench align settings` "
               "prints them all as YAML).")
SET_HELP = (  # "\\[": a literal bracket for rich, which would take [to_q,to_v] for markup and drop it
    "Override any setting: --set key=value (repeatable; values parsed as YAML, e.g. --set lr=1e-4 "
    "--set lora_targets=\\[to_q,to_v] --set prompts=\\[a cat,a dog]). Run `videobench align settings` for the list."
)


def load_settings(config: Optional[Path], sets: list[str], **flags: Any) -> dict[str, Any]:
    """Merge (lowest first): the YAML file, explicit flags (when given), then ``--set key=value`` pairs."""
    import yaml

    from videobench.align.config import ConfigError, parse_override

    values: dict[str, Any] = {}
    if config is not None:
        if not config.is_file():
            raise UserError(f"config file not found: {config}")
        loaded = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
        if not isinstance(loaded, dict):
            raise UserError(f"{config}: expected a mapping of settings")
        values.update(loaded)
    values.update({k: v for k, v in flags.items() if v is not None})
    try:
        for item in sets:
            key, value = parse_override(item)
            values[key] = value
    except ConfigError as exc:
        raise UserError(str(exc)) from None
    return values


def config_from(config_class: type, values: dict[str, Any], sets: list[str]) -> Any:
    """``config_class`` from merged settings plus ``--set key=value`` pairs (keys checked against its fields); a bad
    setting is a one-line UserError, and the output folder is checked before any work."""
    from videobench.align.config import ConfigError, parse_override

    try:
        values = {**values, **dict(parse_override(item, config_class) for item in sets)}
        cfg = config_class.from_dict(values)
    except (ConfigError, TypeError) as exc:
        raise UserError(str(exc)) from None
    check_output_dir(cfg.output_dir, "--output-dir")
    return cfg


def _run(method: str, config: Optional[Path], sets: list[str], submission: Optional["_Submission"] = None,
         **flags: Any) -> None:
    with friendly_errors():
        from videobench.align.config import AlignConfig, ConfigError

        values = load_settings(config, sets, **flags)
        values["method"] = method
        try:
            cfg = AlignConfig.from_dict(values)
        except (ConfigError, TypeError) as exc:
            raise UserError(str(exc)) from None
        check_output_dir(cfg.output_dir, "--output-dir")
        if submission is not None:
            submission.check()  # before any compute: a bad store or suite should not wait for the end of training
        from videobench.align.data import EmptyDataError
        from videobench.align.models import NotFlowMatchingError
        from videobench.align.trainer import train

        os.environ.setdefault("VIDEOBENCH_COMMAND", " ".join(["videobench", *sys.argv[1:]]))
        try:
            result = train(cfg)
        except (EmptyDataError, NotFlowMatchingError) as exc:
            raise UserError(str(exc)) from None
        last = result.log[-1] if result.log else {}
        console.print(f"{method}: {result.steps} steps, final loss {last.get('loss', float('nan')):.4f}; "
                      f"LoRA written to {result.output_dir}")
        if result.monitor is not None:
            _print_monitor(result.monitor)
        if submission is not None:
            lora = Path(result.output_dir) / "checkpoints" / "checkpoint-*" if submission.checkpoints else \
                result.output_dir
            submission.file(lora_generator_spec(cfg.pipeline, result.family, lora), result.output_dir)


def _print_monitor(summary: dict[str, Any]) -> None:
    from rich.markup import escape

    if summary["diverged"]:
        console.print(f"[bold red]monitor: possible reward hacking[/] from step {summary['first_divergence_step']}: "
                      f"training reward up while held-out {escape(', '.join(summary['diverged_rewards']))} went down "
                      f"beyond its 95% CI ({escape(summary['log'])}, monitor.html)")
    else:
        console.print(f"monitor: {summary['evaluations']} evaluations, no divergence flagged ({escape(summary['log'])})")


def lora_generator_spec(pipeline: str, family: str, lora_dir: Path) -> str:
    """The `compare` / leaderboard spec of a trained LoRA: ``FAMILY:BASE+lora:DIR`` (local paths made absolute)."""
    local = Path(pipeline).expanduser()
    base = str(local.resolve()) if local.exists() else pipeline
    lora = Path(lora_dir)  # a checkpoint glob (checkpoint-*) keeps its pattern: only its folder is made absolute
    lora = lora.parent.resolve() / lora.name if "*" in lora.name else lora.resolve()
    return f"{family}:{base}+lora:{lora}"


@dataclass
class _Submission:
    """``--submit STORE``: file what training made on a leaderboard when training ends: a LoRA as a generator request
    on a prompt suite (``target``), or a reward model as a reward-model request on a benchmark."""

    store: str
    target: Optional[str]
    name: Optional[str]
    endpoint: Optional[str]
    kind: str = "generator"
    #: file the run's saved checkpoints (``+lora:OUTPUT_DIR/checkpoints/checkpoint-*``), not the final LoRA
    checkpoints: bool = False

    @staticmethod
    def _refusals() -> tuple[type[Exception], ...]:
        from huggingface_hub.errors import HfHubHTTPError

        from videobench.leaderboard.errors import LeaderboardError

        return LeaderboardError, HfHubHTTPError  # the board's checks; auth, permissions, missing repos on the Hub

    def check(self) -> None:
        from videobench.leaderboard.identity import submitter_identity
        from videobench.leaderboard.layout import check_benchmark, split_model_id
        from videobench.leaderboard.store import open_store

        if not self.target:
            raise UserError("--submit needs --submit-prompts SUITE (the prompt suite the board evaluates on)"
                            if self.kind == "generator" else
                            "--submit needs --eval-bench or --submit-bench NAME (the benchmark the board evaluates on)")
        try:
            check_benchmark(self.target)
            if self.name:
                split_model_id(self.name)
            store = open_store(self.store, endpoint=self.endpoint)
            store.ensure()  # exists (or is created) and is writable
            submitter_identity(store)  # a Hub store needs a token whose user the request is filed under
        except self._refusals() as exc:
            raise UserError(f"--submit: {exc}") from None

    def file(self, spec: str, output_dir: Path) -> None:
        from videobench.leaderboard.store import open_store
        from videobench.leaderboard.submissions import submit_requests
        from videobench.scoring.distributed import current_process

        if not current_process().is_main:
            return
        flag = "--generator" if self.kind == "generator" else "--model"
        where = "--prompts" if self.kind == "generator" else "--bench"
        try:
            what = {"generator": spec, "prompts": str(self.target)} if self.kind == "generator" else \
                {"model": spec, "bench": str(self.target)}
            filed = submit_requests(open_store(self.store, endpoint=self.endpoint), name=self.name,
                                    endpoint=self.endpoint, **what)
        except self._refusals() as exc:
            raise UserError(f"the model is saved in {output_dir}, but the submission was refused: {exc}\n"
                            f"file it later with: videobench submit {flag} '{spec}' {where} {self.target} "
                            f"--store {self.store}") from None
        for req in filed:
            console.print(f"submitted: request {req.id} PENDING ({req.model_id} on {req.benchmark})", highlight=False)


# Options shared by the training commands; every other setting goes through --set.
_CONFIG = typer.Option(None, "--config", "-c", help=CONFIG_HELP, exists=False)
_SET = typer.Option([], "--set", "-s", help=SET_HELP)
_PIPELINE = typer.Option(None, "--pipeline", help="Diffusers pipeline folder or Hub id (Wan or LTX).")
_OUTPUT = typer.Option(None, "--output-dir", "-o", help="Where the LoRA, config, log and checkpoints go.")
_STEPS = typer.Option(None, "--max-steps", help="Optimiser steps.")
_LR = typer.Option(None, "--lr", help="Learning rate.")
_RESUME = typer.Option(None, "--resume-from", help="'latest' or a checkpoint folder.")
_SUBMIT = typer.Option(None, "--submit", help="When training ends, file the LoRA as a generator request on this "
                       "leaderboard store (a local folder or a Hub dataset repo); checked before training starts.")
_SUBMIT_PROMPTS = typer.Option(None, "--submit-prompts", help="Prompt suite the board evaluates the submission on "
                               "(needed with --submit), e.g. vbench-946.")
_SUBMIT_NAME = typer.Option(None, "--submit-name", help="Board id org/name of the submission (default: the LoRA "
                            "folder's name).")
_ENDPOINT = typer.Option(None, "--endpoint", help="Hub endpoint of the --submit store (default: HF_ENDPOINT).")
_SUBMIT_CHECKPOINTS = typer.Option(False, "--submit-checkpoints", help="With --submit: file every saved checkpoint "
                                   "(OUTPUT_DIR/checkpoints/checkpoint-*, one request each named NAME-checkpoint-N, "
                                   "one quota unit) instead of the final LoRA (which is not among them); the board shows them as the run's "
                                   "history.")


def _submission(store: Optional[str], prompts: Optional[str], name: Optional[str],
                endpoint: Optional[str], checkpoints: bool = False) -> Optional[_Submission]:
    return _Submission(store, prompts, name, endpoint, checkpoints=checkpoints) if store else None


@align_app.command("dpo")
def dpo_command(
    config: Optional[Path] = _CONFIG,
    sets: list[str] = _SET,
    pipeline: Optional[str] = _PIPELINE,
    output_dir: Optional[str] = _OUTPUT,
    max_steps: Optional[int] = _STEPS,
    lr: Optional[float] = _LR,
    resume_from: Optional[str] = _RESUME,
    submit: Optional[str] = _SUBMIT,
    submit_prompts: Optional[str] = _SUBMIT_PROMPTS,
    submit_name: Optional[str] = _SUBMIT_NAME,
    submit_checkpoints: bool = _SUBMIT_CHECKPOINTS,
    endpoint: Optional[str] = _ENDPOINT,
    beta: Optional[float] = typer.Option(None, "--beta", help="Flow-DPO β (default 500)."),
) -> None:
    """Flow-DPO: −log σ(−β/2·[(err_w − err_ref_w) − (err_l − err_ref_l)]) on preference pairs."""
    _run("dpo", config, sets, _submission(submit, submit_prompts, submit_name, endpoint, submit_checkpoints),
         pipeline=pipeline,
         output_dir=output_dir, max_steps=max_steps, lr=lr, resume_from=resume_from, beta=beta)


@align_app.command("rwr")
def rwr_command(
    config: Optional[Path] = _CONFIG,
    sets: list[str] = _SET,
    pipeline: Optional[str] = _PIPELINE,
    output_dir: Optional[str] = _OUTPUT,
    max_steps: Optional[int] = _STEPS,
    lr: Optional[float] = _LR,
    resume_from: Optional[str] = _RESUME,
    submit: Optional[str] = _SUBMIT,
    submit_prompts: Optional[str] = _SUBMIT_PROMPTS,
    submit_name: Optional[str] = _SUBMIT_NAME,
    submit_checkpoints: bool = _SUBMIT_CHECKPOINTS,
    endpoint: Optional[str] = _ENDPOINT,
    rwr_temperature: Optional[float] = typer.Option(None, "--temperature", help="τ in exp(r/τ) (default 1)."),
) -> None:
    """Flow-RWR: flow matching weighted by exp(r/τ), normalised to mean 1 per prompt group."""
    _run("rwr", config, sets, _submission(submit, submit_prompts, submit_name, endpoint, submit_checkpoints),
         pipeline=pipeline,
         output_dir=output_dir, max_steps=max_steps, lr=lr, resume_from=resume_from, rwr_temperature=rwr_temperature)


@align_app.command("sft")
def sft_command(
    config: Optional[Path] = _CONFIG,
    sets: list[str] = _SET,
    pipeline: Optional[str] = _PIPELINE,
    output_dir: Optional[str] = _OUTPUT,
    max_steps: Optional[int] = _STEPS,
    lr: Optional[float] = _LR,
    resume_from: Optional[str] = _RESUME,
    submit: Optional[str] = _SUBMIT,
    submit_prompts: Optional[str] = _SUBMIT_PROMPTS,
    submit_name: Optional[str] = _SUBMIT_NAME,
    submit_checkpoints: bool = _SUBMIT_CHECKPOINTS,
    endpoint: Optional[str] = _ENDPOINT,
) -> None:
    """Supervised flow matching on the preferred videos (baseline)."""
    _run("sft", config, sets, _submission(submit, submit_prompts, submit_name, endpoint, submit_checkpoints),
         pipeline=pipeline,
         output_dir=output_dir, max_steps=max_steps, lr=lr, resume_from=resume_from)


@align_app.command("grpo")
def grpo_command(
    config: Optional[Path] = _CONFIG,
    sets: list[str] = _SET,
    pipeline: Optional[str] = _PIPELINE,
    output_dir: Optional[str] = _OUTPUT,
    max_steps: Optional[int] = _STEPS,
    lr: Optional[float] = _LR,
    resume_from: Optional[str] = _RESUME,
    submit: Optional[str] = _SUBMIT,
    submit_prompts: Optional[str] = _SUBMIT_PROMPTS,
    submit_name: Optional[str] = _SUBMIT_NAME,
    submit_checkpoints: bool = _SUBMIT_CHECKPOINTS,
    endpoint: Optional[str] = _ENDPOINT,
    kl_beta: Optional[float] = typer.Option(None, "--kl-beta", help="Weight of the KL to the base policy "
                                                                   "(default 0.004; 0 = none)."),
) -> None:
    """Flow-GRPO: online RL. Each step renders samples_per_prompt videos per prompt with the SDE sampler, scores
    them with `rewards` (weighted sum), and optimises the clipped-ratio objective on group-relative advantages.
    Writes the LoRA, log.jsonl (rewards, KL, clip fraction, ratios, timings per step), checkpoints and, with
    eval_every, monitor.jsonl / monitor.html."""
    _run("grpo", config, sets, _submission(submit, submit_prompts, submit_name, endpoint, submit_checkpoints),
         pipeline=pipeline,
         output_dir=output_dir, max_steps=max_steps, lr=lr, resume_from=resume_from, kl_beta=kl_beta)


@align_app.command("settings")
def settings_command(
    command: str = typer.Argument("dpo", help="dpo, rwr, sft or grpo (the settings of videobench.align.AlignConfig), "
                                              "latent-rm (videobench.align.latent_rm_train.LatentRMConfig) or "
                                              "reward-model (videobench.align.reward_model_train.RewardModelConfig)."),
) -> None:
    """Print every setting of COMMAND with its default, as YAML to paste into a --config file."""
    with friendly_errors():
        import dataclasses

        import yaml

        if command in ("dpo", "rwr", "sft", "grpo"):
            from videobench.align.config import AlignConfig as config_class
        elif command == "latent-rm":
            from videobench.align.latent_rm_train import LatentRMConfig as config_class
        elif command == "reward-model":
            from videobench.align.reward_model_train import RewardModelConfig as config_class
        else:
            raise UserError(f"unknown command {command!r}: settings exist for dpo, rwr, sft, grpo, latent-rm and "
                            "reward-model")
        values = {}
        for f in dataclasses.fields(config_class):
            if f.name == "method":  # set by the command itself (align dpo / rwr / sft)
                continue
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
            values[f.name] = list(default) if isinstance(default, tuple) else default
        typer.echo(yaml.safe_dump(values, sort_keys=False, default_flow_style=None, allow_unicode=True), nl=False)


# ---------------------------------------------------------------------------------------------------------------
# latent reward model and Flow-NRG (videobench.align.latent_rm_train / videobench.align.nrg)
# ---------------------------------------------------------------------------------------------------------------
@align_app.command("latent-rm")
def latent_rm_command(
    config: Optional[Path] = typer.Option(None, "--config", "-c", help="YAML file of settings (the keys of "
                                          "LatentRMConfig; `videobench align settings latent-rm` lists them)."),
    sets: list[str] = typer.Option([], "--set", "-s", help="Override any setting: --set key=value (repeatable; "
                                   "values parsed as YAML)."),
    pipeline: Optional[str] = _PIPELINE,
    output_dir: Optional[str] = typer.Option(None, "--output-dir", "-o", help="Where the reward model (config.json "
                                             "+ safetensors, what --rm and +nrg: take), its config, logs, eval and "
                                             "checkpoints go."),
    max_steps: Optional[int] = _STEPS,
    lr: Optional[float] = _LR,
    resume_from: Optional[str] = _RESUME,
    num_blocks: Optional[int] = typer.Option(None, "--num-blocks", help="Transformer blocks the reward model copies."),
) -> None:
    """Train the noisy-latent reward model (Bradley–Terry with ties, per dimension) for Flow-NRG."""
    with friendly_errors():
        values = load_settings(config, [], pipeline=pipeline, output_dir=output_dir, max_steps=max_steps, lr=lr,
                               resume_from=resume_from, num_blocks=num_blocks)
        if values.get("output_dir"):  # before the heavy imports below; the default folder is checked after them
            check_output_dir(values["output_dir"], "--output-dir")
        from videobench.align.data import EmptyDataError
        from videobench.align.latent_rm_train import LatentRMConfig, train_latent_rm
        from videobench.align.models import NotFlowMatchingError

        cfg = config_from(LatentRMConfig, values, sets)
        try:
            result = train_latent_rm(cfg)
        except (EmptyDataError, NotFlowMatchingError) as exc:
            raise UserError(str(exc)) from None
        acc = ", ".join(f"{d} {a:.3f}" for d, a in result.eval.get("accuracy", {}).items())
        console.print(f"latent-rm: {result.steps} steps; held-out accuracy {acc or 'n/a'}; model written to "
                      f"{result.output_dir}", highlight=False)


@align_app.command("nrg")
def nrg_command(
    pipeline: str = typer.Option(..., "--pipeline", help="Diffusers pipeline folder or Hub id (Wan or LTX)."),
    reward_model: str = typer.Option(..., "--reward-model", "--rm", help="Latent reward model folder."),
    prompts: list[str] = typer.Option(..., "--prompt", "-p", help="Prompt (repeatable)."),
    output_dir: Path = typer.Option(Path("nrg-output"), "--output-dir", "-o", help="Where the videos (promptNNN__seedS.mp4), .items/ (one record per video) and nrg.json (settings, per-step guidance history) go; a rerun into the same folder renders only what is missing or was made with other settings."),
    weights: Optional[str] = typer.Option(None, "--weights", help="λ per dimension, e.g. VQ=0.1,MQ=0.1,TA=0.8."),
    w: float = typer.Option(100.0, "--w", help="Guidance strength (the paper: 100; 0 = unguided)."),
    seeds: list[int] = typer.Option([0], "--seed", help="Seed (repeatable)."),
    steps: int = typer.Option(50, "--steps", help="Denoising steps."),
    guidance: float = typer.Option(5.0, "--guidance", help="Classifier-free guidance scale."),
    height: int = typer.Option(480, "--height", help="Frame height of each video."),
    width: int = typer.Option(832, "--width", help="Frame width of each video."),
    num_frames: int = typer.Option(81, "--num-frames", help="Frames per video."),
    fps: float = typer.Option(16.0, "--fps", help="Frame rate written into the mp4 files."),
    sigma_min: float = typer.Option(0.0, "--sigma-min", help="Guide only for σ >= this."),
    sigma_max: float = typer.Option(1.0, "--sigma-max", help="Guide only for σ <= this."),
    max_factor: float = typer.Option(50.0, "--max-factor", help="Clamp of σ/(1 − σ)."),
    max_grad_norm: Optional[float] = typer.Option(None, "--max-grad-norm", help="Per-sample gradient norm cap."),
) -> None:
    """Sample with Flow-NRG: v ← v − w·σ/(1−σ)·∇ₓ Σₖ λₖ rₖ(x, σ, prompt) at every step."""
    with friendly_errors():
        check_output_dir(output_dir, "--output-dir")
        import torch
        from tqdm.auto import tqdm

        from videobench.align.models import NotFlowMatchingError
        from videobench.align.nrg import apply_nrg
        from videobench.align.nrg_sample import NRGRun, sample_nrg
        from videobench.align.trainer import load_pipeline

        try:
            pipe = load_pipeline(pipeline, "cuda" if torch.cuda.is_available() else "cpu")
            apply_nrg(pipe, reward_model, w, weights, sigma_min, sigma_max, max_factor, max_grad_norm)
        except (NotFlowMatchingError, ValueError, TypeError) as exc:
            raise UserError(str(exc)) from None
        run = NRGRun(pipeline, reward_model, prompts, seeds, steps, guidance, height, width, num_frames, fps)
        with tqdm(total=len(prompts) * len(seeds), desc="nrg", unit="video") as bar:
            items = sample_nrg(pipe, run, output_dir, progress=bar.update)["items"]
        console.print(f"nrg: {len(items)} video(s) written to {output_dir}", highlight=False)


# ---------------------------------------------------------------------------------------------------------------
# the VideoReward-style reward model (videobench.align.reward_model_train)
# ---------------------------------------------------------------------------------------------------------------
@align_app.command("reward-model")
def reward_model_command(
    config: Optional[Path] = typer.Option(None, "--config", "-c", help="YAML file of settings (the keys of "
                                          "RewardModelConfig; `videobench align settings reward-model` lists them)."),
    sets: list[str] = typer.Option([], "--set", "-s", help="Override any setting: --set key=value (repeatable; "
                                   "values parsed as YAML)."),
    base_model: Optional[str] = typer.Option(None, "--base-model",
                                             help="Qwen2-VL or Qwen2.5-VL base: a folder or Hub id."),
    benchmark: Optional[str] = typer.Option(None, "--benchmark", help="Labelled pairs: a benchmark name, file "
                                            "(VideoAlign's training CSV, VideoGen-RewardBench CSV, ...), folder or "
                                            "Hub id."),
    output_dir: Optional[str] = typer.Option(None, "--output-dir", "-o", help="Where the model (VideoAlign's layout: "
                                             "model_config.json, prompt_template.txt, checkpoint-N/; what "
                                             "videoreward:DIR loads), logs, split, checkpoints and frame cache go."),
    max_steps: Optional[int] = _STEPS,
    lr: Optional[float] = _LR,
    resume_from: Optional[str] = _RESUME,
    eval_bench: Optional[str] = typer.Option(None, "--eval-bench", help="After training, evaluate the model on this "
                                             "benchmark (as videobench eval) and write the EvalResult into "
                                             "OUTPUT_DIR/eval/."),
    submit: Optional[str] = typer.Option(None, "--submit", help="When training ends, file the model "
                                         "(videoreward:OUTPUT_DIR) as a reward-model request on this leaderboard "
                                         "store (a local folder or a Hub dataset repo), for the --eval-bench "
                                         "benchmark or --submit-bench; checked before training starts."),
    submit_bench: Optional[str] = typer.Option(None, "--submit-bench", help="Benchmark the board evaluates the "
                                               "submission on (default: --eval-bench)."),
    submit_name: Optional[str] = typer.Option(None, "--submit-name", help="Board id org/name of the submission "
                                              "(default: from the model folder)."),
    endpoint: Optional[str] = _ENDPOINT,
) -> None:
    """Train a VideoReward-style Qwen2-VL / Qwen2.5-VL reward model (VQ/MQ/TA) from pairwise human labels."""
    with friendly_errors():
        values = load_settings(config, [], base_model=base_model, benchmark=benchmark, output_dir=output_dir,
                               max_steps=max_steps, lr=lr, resume_from=resume_from, eval_bench=eval_bench)
        if values.get("output_dir"):
            check_output_dir(values["output_dir"], "--output-dir")
        from videobench.align.config import ConfigError
        from videobench.align.data import EmptyDataError
        from videobench.align.reward_model_train import RewardModelConfig, train_reward_model
        from videobench.data.benchmark import BenchmarkError
        from videobench.rewards.videoreward_files import CheckpointError

        cfg = config_from(RewardModelConfig, values, sets)
        submission = None
        if submit:
            submission = _Submission(submit, submit_bench or cfg.eval_bench, submit_name, endpoint,
                                     kind="reward_model")
            submission.check()  # before any compute
        os.environ.setdefault("VIDEOBENCH_COMMAND", " ".join(["videobench", *sys.argv[1:]]))
        try:
            result = train_reward_model(cfg)
        except (ConfigError, EmptyDataError, BenchmarkError, CheckpointError) as exc:
            raise UserError(str(exc)) from None
        acc = ", ".join(f"{d} {v['accuracy_without_ties']:.3f}" for d, v in result.eval.items()
                        if isinstance(v, dict) and v.get("accuracy_without_ties") is not None)
        console.print(f"reward-model: {result.steps} steps; validation accuracy w/o ties {acc or 'n/a'}; model "
                      f"written to {result.output_dir} (use it as videoreward:{result.output_dir})", highlight=False)
        if result.eval_result is not None:
            console.print(f"evaluation on {cfg.eval_bench}: {result.eval_result}", highlight=False)
        if submission is not None:
            submission.file(result.spec, result.output_dir)
