"""Training objectives as pure tensor functions: Flow-DPO, Flow-RWR, SFT and Bradley–Terry with ties.

Every function takes per-sample errors or scores (shape (B,)) so it is independent of the model and of the video
layout; :func:`videobench.align.flow.per_sample_mse` turns predictions into errors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F

__all__ = [
    "DPOOutput",
    "dpo_beta",
    "flow_dpo_loss",
    "rwr_weights",
    "weighted_flow_loss",
    "sft_loss",
    "bt_ties_log_probs",
    "bt_ties_loss",
    "PREFERENCE_LOSSES",
    "preference_loss",
]


@dataclass
class DPOOutput:
    """The Flow-DPO loss and what to log about it (all detached except ``loss``)."""

    loss: torch.Tensor
    #: r = (err_ref_w − err_w) − (err_ref_l − err_l): how much more the policy improved on the winner; > 0 is "right".
    margin: torch.Tensor
    #: share of pairs with margin > 0 (the implicit reward ranks the winner first).
    implicit_accuracy: torch.Tensor
    #: σ(−β/2·r): the weight each pair's gradient gets (0.5 at the start, → 0 once a pair is learned).
    grad_factor: torch.Tensor

    def stats(self) -> dict[str, float]:
        return {
            "loss": float(self.loss.detach()),
            "margin": float(self.margin.mean()),
            "implicit_acc": float(self.implicit_accuracy),
            "grad_factor": float(self.grad_factor.mean()),
        }


def dpo_beta(beta: float, sigma: torch.Tensor, schedule: Literal["constant", "sigma"] = "constant") -> torch.Tensor:
    """β per sample: ``constant`` → β (the paper's choice, β = 500); ``sigma`` → β·(1 − σ)².

    The σ schedule is what Diffusion-DPO's ELBO weighting becomes under the rectified-flow parameterisation; the paper
    found the constant better and free of reward hacking.
    """
    if schedule == "constant":
        return torch.full_like(sigma, float(beta), dtype=torch.float32)
    if schedule == "sigma":
        return float(beta) * (1 - sigma.float()) ** 2
    raise ValueError(f"unknown beta schedule {schedule!r}; use 'constant' or 'sigma'")


def flow_dpo_loss(
    err_w: torch.Tensor,
    err_l: torch.Tensor,
    ref_err_w: torch.Tensor,
    ref_err_l: torch.Tensor,
    beta: torch.Tensor | float,
) -> DPOOutput:
    """Flow-DPO: L = −mean log σ(−β/2 · [(err_w − err_ref_w) − (err_l − err_ref_l)]).

    ``err_*`` are per-sample velocity errors of the policy and ``ref_err_*`` of the frozen reference on the winner (w)
    and loser (l) of each pair, computed with the same noise and σ for both videos. ``beta`` is a float or (B,).
    When the policy equals the reference the argument is 0 and L = ln 2.
    """
    shapes = {tuple(t.shape) for t in (err_w, err_l, ref_err_w, ref_err_l)}
    if len(shapes) != 1 or len(next(iter(shapes))) != 1:
        raise ValueError(f"per-sample errors must all have shape (B,), got {sorted(shapes)}")
    if err_w.shape[0] == 0:
        raise ValueError("Flow-DPO needs at least one pair")
    ref_w, ref_l = ref_err_w.detach().float(), ref_err_l.detach().float()
    margin = (ref_w - err_w.float()) - (ref_l - err_l.float())  # = −[(err_w − ref_w) − (err_l − ref_l)]
    inside = 0.5 * beta * margin
    loss = -F.logsigmoid(inside).mean()
    with torch.no_grad():
        return DPOOutput(
            loss=loss,
            margin=margin.detach(),
            implicit_accuracy=(margin.detach() > 0).float().mean(),
            grad_factor=torch.sigmoid(-inside.detach()),
        )


def rwr_weights(
    rewards: torch.Tensor,
    temperature: float = 1.0,
    groups: torch.Tensor | None = None,
    mode: Literal["softmax", "zscore", "raw"] = "softmax",
    eps: float = 1e-6,
) -> torch.Tensor:
    """Per-sample weights for Flow-RWR.

    - ``softmax``: w_i = exp(r_i/τ) / mean_{j∈g(i)} exp(r_j/τ) — mean weight 1 in each group g (the whole batch when
      ``groups`` is None); computed as exp((r_i − max_g r)/τ) so equal rewards give exactly w = 1.
    - ``zscore``: the same with r replaced by z_i = (r_i − mean_g r) / (std_g r + eps): scale-free rewards.
    - ``raw``: w_i = r_i (rewards used as weights as they are; they should be non-negative).
    """
    if rewards.ndim != 1 or rewards.numel() == 0:
        raise ValueError(f"rewards must be a non-empty (B,) tensor, got shape {tuple(rewards.shape)}")
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    r = rewards.detach().float()
    if mode == "raw":
        return r.clone()
    if mode not in ("softmax", "zscore"):
        raise ValueError(f"unknown RWR weighting {mode!r}; use 'softmax', 'zscore' or 'raw'")
    g = torch.zeros_like(r, dtype=torch.long) if groups is None else torch.as_tensor(groups).long().to(r.device)
    if g.shape != r.shape:
        raise ValueError(f"groups {tuple(g.shape)} must match rewards {tuple(r.shape)}")
    weights = torch.empty_like(r)
    for gid in torch.unique(g):
        idx = g == gid
        rg = r[idx]
        if mode == "zscore":
            std = rg.std(unbiased=False) if rg.numel() > 1 else rg.new_zeros(())
            rg = (rg - rg.mean()) / (std + eps)
        e = torch.exp((rg - rg.max()) / temperature)
        weights[idx] = e / e.mean()
    return weights


def weighted_flow_loss(err: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Flow-RWR: L = mean_i w_i·err_i (with w ≡ 1 this is exactly the SFT loss)."""
    if err.shape != weights.shape:
        raise ValueError(f"errors {tuple(err.shape)} and weights {tuple(weights.shape)} differ in shape")
    if err.numel() == 0:
        raise ValueError("empty batch")
    return (weights.to(err.dtype) * err).mean()


def sft_loss(err: torch.Tensor) -> torch.Tensor:
    """Supervised flow matching: L = mean_i err_i."""
    if err.numel() == 0:
        raise ValueError("empty batch")
    return err.mean()


def bt_ties_log_probs(score_a: torch.Tensor, score_b: torch.Tensor, theta: float = 5.0) -> torch.Tensor:
    """log P(A ≻ B), log P(B ≻ A), log P(tie) under Bradley–Terry with ties (Rao–Kupper), stacked as (..., 3).

    With d = s_A − s_B and θ > 1:  P(A ≻ B) = σ(d − ln θ),  P(B ≻ A) = σ(−d − ln θ),
    P(tie) = (θ² − 1)·σ(d − ln θ)·σ(−d − ln θ); the three sum to 1. θ → 1 recovers plain Bradley–Terry (no ties).
    """
    if theta <= 1:
        raise ValueError(f"theta must be > 1 (Rao–Kupper), got {theta}")
    d = score_a.float() - score_b.float()
    log_theta = math.log(theta)
    lp_a = F.logsigmoid(d - log_theta)
    lp_b = F.logsigmoid(-d - log_theta)
    lp_tie = math.log(theta**2 - 1) + lp_a + lp_b
    return torch.stack([lp_a, lp_b, lp_tie], dim=-1)


def bt_ties_loss(
    score_a: torch.Tensor,
    score_b: torch.Tensor,
    labels: torch.Tensor,
    theta: float = 5.0,
    weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """Negative log-likelihood of labels (+1 A better, −1 B better, 0 tie) under :func:`bt_ties_log_probs`.

    Works on any matching shapes (e.g. (B,) or (B, dims) for one score per dimension); ``weights`` (same shape,
    e.g. 0 for a missing label) give a weighted mean.
    """
    if score_a.shape != score_b.shape or labels.shape != score_a.shape:
        raise ValueError(f"scores {tuple(score_a.shape)}, {tuple(score_b.shape)} and labels {tuple(labels.shape)} differ")
    lp = bt_ties_log_probs(score_a, score_b, theta)
    lab = labels.long()
    if not torch.isin(lab, torch.tensor([-1, 0, 1], device=lab.device)).all():
        raise ValueError("labels must be +1 (A better), -1 (B better) or 0 (tie)")
    index = torch.where(lab == 1, 0, torch.where(lab == -1, 1, 2))
    nll = -lp.gather(-1, index.unsqueeze(-1)).squeeze(-1)
    if weights is None:
        return nll.mean()
    w = weights.to(nll.dtype)
    return (w * nll).sum() / w.sum().clamp_min(1e-12)


#: Preference losses of the reward model (VideoAlign's ``loss_type``): Bradley–Terry with ties, Bradley–Terry
#: (ties dropped), regression to mean opinion scores.
PREFERENCE_LOSSES = ("btt", "bt", "reg")


def preference_loss(
    rewards_a: torch.Tensor,
    rewards_b: torch.Tensor,
    labels: torch.Tensor,
    loss: str = "btt",
    theta: float = 5.0,
    mos_a: torch.Tensor | None = None,
    mos_b: torch.Tensor | None = None,
    mos_center: float = 3.0,
) -> torch.Tensor:
    """The reward model's loss on a batch of pairs, rewards and labels of shape (B, D), one column per dimension.

    ``labels``: +1 (A better), −1 (B better), 0 (tie), NaN where the pair has no label on that dimension.

    - ``btt``: −log P(label) under Rao–Kupper with ties (:func:`bt_ties_log_probs`, θ = ``theta``) on every labelled
      entry. As θ → 1 the term of a decided entry tends to the ``bt`` term and a tie's term grows without bound
      (log(θ² − 1) → −∞): without ties, use ``bt``.
    - ``bt``: −log σ(±(r_A − r_B)) on decided entries only (ties and missing labels are masked).
    - ``reg``: (r − (MOS − ``mos_center``))² for both videos of every entry with a MOS (``mos_a``/``mos_b``, NaN
      where unknown); VideoAlign centres 1–5 scores at 3.

    Masked entries count as zero and the sum is divided by the number of entries (B·D, or 2·B·D for ``reg``), as
    VideoAlign's trainer averages ``loss * mask``: the same batch always gets the same scale, whatever its labels.
    """
    if rewards_a.shape != rewards_b.shape or labels.shape != rewards_a.shape or rewards_a.ndim != 2:
        raise ValueError(f"rewards {tuple(rewards_a.shape)}, {tuple(rewards_b.shape)} and labels "
                         f"{tuple(labels.shape)} must all be (B, D)")
    if rewards_a.shape[0] == 0:
        raise ValueError("empty batch")
    ra, rb = rewards_a.float(), rewards_b.float()
    lab = labels.to(ra.device, torch.float32)
    known = ~torch.isnan(lab)
    safe = torch.nan_to_num(lab)
    if loss == "btt":
        lp = bt_ties_log_probs(ra, rb, theta)
        index = torch.where(safe > 0, 0, torch.where(safe < 0, 1, 2))
        nll = -lp.gather(-1, index.unsqueeze(-1)).squeeze(-1)
        return torch.where(known, nll, torch.zeros_like(nll)).sum() / nll.numel()
    if loss == "bt":
        decided = known & (safe != 0)
        nll = -F.logsigmoid(torch.sign(safe) * (ra - rb))
        return torch.where(decided, nll, torch.zeros_like(nll)).sum() / nll.numel()
    if loss == "reg":
        if mos_a is None or mos_b is None:
            raise ValueError("loss='reg' needs mean opinion scores (mos_a, mos_b)")
        rewards = torch.stack([ra, rb])
        target = torch.stack([mos_a, mos_b]).to(ra.device, torch.float32) - mos_center
        have = ~torch.isnan(target)
        err = (rewards - torch.nan_to_num(target)) ** 2
        return torch.where(have, err, torch.zeros_like(err)).sum() / err.numel()
    raise ValueError(f"unknown preference loss {loss!r}; use one of {', '.join(PREFERENCE_LOSSES)}")
