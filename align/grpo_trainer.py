"""Flow-GRPO: online policy-gradient RL for flow-matching video pipelines (method ``grpo`` of :func:`.trainer.train`).

One step: every process renders ``prompts_per_step`` prompts × ``samples_per_prompt`` videos with the SDE sampler of
:mod:`.grpo_math` (keeping each stochastic step's log-probability), decodes and scores them once with every reward,
gathers the rewards of all processes to compute group-relative advantages, then optimises the clipped-ratio objective
(plus β·KL to the reference: the same transformer with its adapter disabled) on the stochastic steps it sampled.

Everything random is a function of (seed, step, prompt position, sample), never of the process count or of how far
a previous run got, so a resumed run equals an uninterrupted one and N processes equal one with N× the prompts.
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch

from .config import AlignConfig
from .grpo_math import clipped_policy_loss, gaussian_kl, gaussian_log_prob, group_advantages, sde_step
from .models import FlowFamily

__all__ = ["Rollouts", "Trajectories", "guided_velocity", "loss_and_backward", "sample_sde", "train_grpo"]

Predict = Callable[[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]], torch.Tensor]


def guided_velocity(predict: Predict, x: torch.Tensor, sigma: float, cond: dict[str, torch.Tensor],
                    uncond: dict[str, torch.Tensor] | None = None, guidance_scale: float = 1.0) -> torch.Tensor:
    """The velocity the sampler follows at σ, in float32: v_c, or with classifier-free guidance (scale > 1)
    v_u + g·(v_c − v_u), both halves in one batch as the pipelines do."""
    b = x.shape[0]
    t = torch.full((b,), 1000.0 * float(sigma), device=x.device, dtype=torch.float32)
    if guidance_scale <= 1.0 or uncond is None:
        return predict(x, t, cond).float()
    both = {k: torch.cat([uncond[k].expand(b, *uncond[k].shape[1:]).to(v), v]) for k, v in cond.items()}
    v_u, v_c = predict(torch.cat([x, x]), torch.cat([t, t]), both).float().chunk(2)
    return v_u + guidance_scale * (v_c - v_u)


@dataclass
class Trajectories:
    """What training needs from a batch of SDE rollouts: the states around the stochastic steps and their
    log-probabilities under the sampling policy."""

    #: (B, W + 1, …): x at steps window[0] … window[-1] + 1
    states: torch.Tensor
    #: (B, W): log p(x_{j+1} | x_j) for j in window
    log_probs: torch.Tensor
    #: (B, …): the final latents (σ = 0)
    final: torch.Tensor


@torch.no_grad()
def sample_sde(predict: Predict, x: torch.Tensor, cond: dict[str, torch.Tensor], sigmas: torch.Tensor,
               noise_level: float, window: range, generators: list[torch.Generator],
               uncond: dict[str, torch.Tensor] | None = None, guidance_scale: float = 1.0) -> Trajectories:
    """Denoise ``x`` (B, …) along ``sigmas`` (σ_0 = 1 … σ_N = 0): SDE steps (noise from each sample's own
    generator) for j in ``window``, Euler steps elsewhere."""
    if len(generators) != x.shape[0]:
        raise ValueError(f"{len(generators)} generators for {x.shape[0]} samples")
    kept, log_probs = [], []
    x = x.float()
    for j in range(len(sigmas) - 1):
        s, s_next = float(sigmas[j]), float(sigmas[j + 1])
        if j == window.start and len(window):
            kept.append(x)
        v = guided_velocity(predict, x, s, cond, uncond, guidance_scale)
        if j in window:
            noise = torch.stack([torch.randn(x.shape[1:], generator=g) for g in generators]).to(x.device)
            step = sde_step(x, v, s, s_next, noise_level, noise)
            log_probs.append(gaussian_log_prob(step.sample, step.mean, step.std))
            x = step.sample
            kept.append(x)
        else:
            x = sde_step(x, v, s, s_next, 0.0).mean
    if not log_probs:  # no stochastic step: the plain ODE sampler
        return Trajectories(x.new_zeros((x.shape[0], 0, *x.shape[1:])), x.new_zeros((x.shape[0], 0)), x)
    return Trajectories(torch.stack(kept, dim=1), torch.stack(log_probs, dim=1), x)


def _window(config: AlignConfig, step: int, n_steps: int) -> range:
    """The stochastic (trained) steps of GRPO step ``step``: all, or a random window shared by every process."""
    size = config.sde_window or n_steps
    if size >= n_steps:
        return range(n_steps)
    from .trainer import _generator

    start = int(torch.randint(0, n_steps - size + 1, (1,), generator=_generator(config.seed, f"grpo/{step}/window")))
    return range(start, start + size)


@dataclass
class Rollouts:
    """One step's rollouts on this process: trajectories, log-probs, conditioning, rewards, groups."""

    states: torch.Tensor
    log_probs: torch.Tensor
    cond: dict[str, torch.Tensor]
    rewards: torch.Tensor  # (n,) total
    scores: dict[str, torch.Tensor]  # per reward term, (n,)
    positions: torch.Tensor  # (n,) the global prompt position (the group)


def _render_step(config: AlignConfig, pipe: Any, family: FlowFamily, predict: Predict, terms: list, prompts: list[str],
                 positions: list[tuple[int, int]], sigmas: torch.Tensor, window: range, uncond: dict | None, step: int,
                 device: torch.device, timings: dict[str, float], show_progress: bool = False) -> Rollouts:
    from tqdm.auto import tqdm

    from .trainer import _generator

    k = config.samples_per_prompt
    shape = family.latent_shape(config.num_frames, config.height, config.width)
    states, log_probs, conds, totals, positions_out = [], [], [], [], []
    scores: dict[str, list[float]] = {t.name: [] for t in terms}
    bar = tqdm(positions, desc="rollouts", unit="prompt", leave=False, disable=not show_progress)
    for pos, prompt_index in bar:  # (global position in this step: the group and its seeds, prompt)
        prompt = prompts[prompt_index]
        t0 = time.perf_counter()
        cond = {key: v.to(device) for key, v in family.encode_prompts(pipe, [prompt], config.max_sequence_length).items()}
        cond_k = {key: v.expand(k, *v.shape[1:]).contiguous() for key, v in cond.items()}
        if config.shared_initial_noise:
            x_t = torch.randn(shape, generator=_generator(config.seed, f"grpo/{step}/{pos}/init")).expand(k, *shape)
        else:
            x_t = torch.stack([torch.randn(shape, generator=_generator(config.seed, f"grpo/{step}/{pos}/{j}/init"))
                               for j in range(k)])
        gens = [_generator(config.seed, f"grpo/{step}/{pos}/{j}/sde") for j in range(k)]
        traj = sample_sde(predict, x_t.to(device), cond_k, sigmas, config.noise_level, window, gens, uncond,
                          config.guidance_scale)
        videos = family.decode(pipe, traj.final)
        t1 = time.perf_counter()
        total = np.zeros(k)
        for term in terms:
            s = term.score(list(videos), [prompt] * k)
            scores[term.name].extend(s.tolist())
            total += term.weight * s
        timings["rollout_seconds"] += t1 - t0
        timings["reward_seconds"] += time.perf_counter() - t1
        states.append(traj.states)
        log_probs.append(traj.log_probs)
        conds.append(cond_k)
        totals.extend(total.tolist())
        positions_out.extend([pos] * k)
    return Rollouts(
        states=torch.cat(states),
        log_probs=torch.cat(log_probs),
        cond={key: torch.cat([c[key] for c in conds]) for key in conds[0]},
        rewards=torch.tensor(totals, dtype=torch.float64),
        scores={name: torch.tensor(v, dtype=torch.float64) for name, v in scores.items()},
        positions=torch.tensor(positions_out),
    )


def _advantages(config: AlignConfig, acc: Any, roll: Rollouts) -> tuple[torch.Tensor, dict[str, float]]:
    """Gather every process's rewards (same count on each), compute the advantages over all of them, keep ours."""
    local = torch.stack([roll.rewards, roll.positions.double(), *roll.scores.values()], dim=1).to(acc.device)
    table = acc.gather(local).cpu() if acc.num_processes > 1 else local.cpu()
    adv = group_advantages(table[:, 0], table[:, 1].long(), config.advantage_std, clip=config.adv_clip)
    n = roll.rewards.shape[0]
    mine = adv[acc.process_index * n:(acc.process_index + 1) * n]
    stats = {"reward": float(table[:, 0].mean()), "reward_std": float(table[:, 0].std(unbiased=False)),
             "advantage_abs": float(adv.abs().mean())}
    for i, name in enumerate(roll.scores, start=2):
        stats[f"reward/{name}"] = float(table[:, i].mean())
        stats[f"reward/{name}/std"] = float(table[:, i].std(unbiased=False))
    return mine, stats


def _train_on(config: AlignConfig, acc: Any, setup: Any, family: FlowFamily, roll: Rollouts, adv: torch.Tensor,
              sigmas: torch.Tensor, window: range, uncond: dict | None, step: int) -> dict[str, float]:
    from .trainer import _generator, update_ema

    model, reference = setup.model, setup.reference
    policy = lambda x, t, c: family.predict(model, x, t, c)  # noqa: E731
    n = roll.states.shape[0]
    device = acc.device
    per_update = n // config.grpo_minibatches
    sums: dict[str, float] = {}
    lows, highs, grad_norms = [], [], []
    updates = 0
    for epoch in range(config.grpo_inner_epochs):
        order = torch.randperm(n, generator=_generator(config.seed, f"grpo/{step}/order/{epoch}"))
        for m in range(config.grpo_minibatches):
            chunk = order[m * per_update:(m + 1) * per_update]
            micro = list(chunk.split(config.batch_size))
            for mi, idx in enumerate(micro):
                for wi, j in enumerate(window):
                    last = mi == len(micro) - 1 and wi == len(window) - 1
                    with contextlib.nullcontext() if last else acc.no_sync(model):
                        stats = loss_and_backward(config, acc.backward, policy, reference.predict, roll, adv,
                                                  idx.to(roll.states.device), wi, float(sigmas[j]),
                                                  float(sigmas[j + 1]), uncond, len(idx) / (len(chunk) * len(window)),
                                                  device)
                    lows.append(stats.pop("ratio_min"))
                    highs.append(stats.pop("ratio_max"))
                    for key, v in stats.items():
                        sums[key] = sums.get(key, 0.0) + v
            if config.max_grad_norm:
                grad_norms.append(float(acc.clip_grad_norm_(setup.params, config.max_grad_norm)))
            setup.optimizer.step()
            setup.scheduler.step()
            setup.optimizer.zero_grad(set_to_none=True)
            update_ema(setup.ema, setup.unwrapped, config.ema_decay)
            updates += 1
    count = len(lows)
    out = {key: v / count for key, v in sums.items()}
    out |= {"ratio_min": min(lows), "ratio_max": max(highs), "updates": updates}
    if grad_norms:
        out["grad_norm"] = float(np.mean(grad_norms))
    return out


def loss_and_backward(config: AlignConfig, backward: Callable[[torch.Tensor], None], policy: Predict,
                      reference: Predict, roll: "Rollouts", adv: torch.Tensor, idx: torch.Tensor, wi: int, s: float,
                      s_next: float, uncond: dict | None, scale: float, device: torch.device) -> dict[str, float]:
    """The GRPO loss of samples ``idx`` at the ``wi``-th step of the window (σ → σ_next): the clipped ratio of the
    policy's log-probability of the step taken to the rollout's, plus β·KL to ``reference``; backpropagated with
    weight ``scale`` (the samples' share of the optimiser step). Returns the step's statistics."""
    x = roll.states[idx, wi].to(device)
    x_next = roll.states[idx, wi + 1].to(device)
    cond = {key: v[idx].to(device) for key, v in roll.cond.items()}
    v = guided_velocity(policy, x, s, cond, uncond, config.guidance_scale)
    step = sde_step(x, v, s, s_next, config.noise_level)
    log_prob = gaussian_log_prob(x_next, step.mean, step.std)
    loss, stats = clipped_policy_loss(log_prob, roll.log_probs[idx, wi].to(device), adv[idx].to(device),
                                      config.clip_range)
    stats["policy_loss"] = float(loss.detach())
    kl_value = 0.0
    if config.kl_beta > 0:
        with torch.no_grad():
            v_ref = guided_velocity(reference, x, s, cond, uncond, config.guidance_scale)
            ref_mean = sde_step(x, v_ref, s, s_next, config.noise_level).mean
        kl = gaussian_kl(step.mean, ref_mean, step.std).mean()
        loss = loss + config.kl_beta * kl
        kl_value = float(kl.detach())
    stats["kl"] = kl_value
    stats["loss"] = float(loss.detach())
    backward(loss * scale)
    return stats


def _reduce(acc: Any, stats: dict[str, float]) -> dict[str, float]:
    """Means over processes (min / max for the ratio's extremes)."""
    if acc.num_processes == 1:
        return stats
    keys = list(stats)
    table = acc.gather(torch.tensor([[stats[k] for k in keys]], dtype=torch.float64, device=acc.device)).cpu()
    out = {}
    for i, key in enumerate(keys):
        col = table[:, i]
        out[key] = float(col.min() if key == "ratio_min" else col.max() if key == "ratio_max" else col.mean())
    return out


def train_grpo(config: AlignConfig, pipe: Any = None, accelerator: Any = None) -> Any:
    """Flow-GRPO on ``config`` (see the module docstring); writes what :func:`.trainer.train` writes, plus
    ``monitor.jsonl`` / ``monitor.html`` when ``eval_every`` is set."""
    from tqdm.auto import tqdm

    from .models import family_for
    from .monitor import Monitor
    from .rewards import reward_terms
    from .trainer import (
        AlignResult,
        _prompt_list,
        _stream,
        append_log,
        maybe_checkpoint,
        run_info,
        save_final,
        setup_training,
        start_run,
    )

    acc, out, pipe, _ = start_run(config, pipe, accelerator)
    family = family_for(pipe)
    prompts = _prompt_list(config)
    entries = config.rewards if config.rewards is not None else [config.reward]
    terms = reward_terms(entries, config.reward_dimension, config.reward_weights)
    sigmas = family.sigmas(pipe, config.num_inference_steps, config.num_frames, config.height, config.width)
    uncond = None
    if config.guidance_scale > 1.0:
        uncond = {k: v.to(acc.device) for k, v in
                  family.encode_prompts(pipe, [config.negative_prompt], config.max_sequence_length).items()}
    pipeline_cls = type(pipe)
    setup = setup_training(config, pipe.transformer, pipeline_cls, family, acc)
    step = setup.step
    sampler_predict = lambda x, t, c: family.predict(setup.unwrapped, x, t, c)  # noqa: E731
    monitor = Monitor.from_config(config, pipe, terms, acc)

    log: list[dict[str, Any]] = []
    log_path = out / "log.jsonl"
    if acc.is_main_process and step == 0 and log_path.exists():
        log_path.unlink()
    rank, world, per = acc.process_index, acc.num_processes, config.prompts_per_step
    if monitor is not None:
        monitor.maybe_run(step, force=step == 0)
    bar = tqdm(total=config.max_steps, initial=step, desc="grpo", unit="step", disable=not acc.is_main_process)
    while step < config.max_steps:
        started = time.perf_counter()
        timings = {"rollout_seconds": 0.0, "reward_seconds": 0.0}
        window = _window(config, step, len(sigmas) - 1)
        first = (step * world + rank) * per
        positions = list(enumerate(_stream(len(prompts), first, per, config.seed), start=first))
        setup.unwrapped.eval()
        with acc.autocast():
            roll = _render_step(config, pipe, family, sampler_predict, terms, prompts, positions, sigmas, window,
                                uncond, step, acc.device, timings, show_progress=acc.is_main_process)
        setup.unwrapped.train()
        adv, reward_stats = _advantages(config, acc, roll)
        t0 = time.perf_counter()
        train_stats = _reduce(acc, _train_on(config, acc, setup, family, roll, adv, sigmas, window, uncond, step))
        timings["train_seconds"] = time.perf_counter() - t0
        step += 1
        bar.update(1)
        bar.set_postfix(reward=f"{reward_stats['reward']:.4g}", refresh=False)
        if step % config.log_every == 0 or step == config.max_steps:
            entry = {"step": step, **reward_stats, **train_stats, "lr": setup.scheduler.get_last_lr()[0],
                     "window_start": window.start, "window_size": len(window), **_reduce(acc, timings),
                     "step_seconds": time.perf_counter() - started}
            append_log(log, entry, log_path, acc)
        maybe_checkpoint(config, step, setup, pipeline_cls, acc)
        if monitor is not None:
            monitor.maybe_run(step, force=step == config.max_steps)
    bar.close()

    acc.wait_for_everyone()
    summary = monitor.summary() if monitor is not None else None
    if acc.is_main_process:
        save_final(setup.unwrapped, setup.ema, pipeline_cls, out)
        info = run_info(config, step, world) | {"prompts": len(prompts), "rewards": [t.name for t in terms]}
        if summary is not None:
            info["monitor"] = summary
        (out / "run.json").write_text(json.dumps(info, indent=2))
    acc.wait_for_everyone()
    return AlignResult(out, step, log, {"source": "grpo", "prompts": len(prompts)}, family.name, monitor=summary)
