"""The ``+nrg:`` generator-spec modifier: Flow-NRG guided sampling as a generator in ``videobench compare``.

    wan:/models/wan+nrg:/ckpt/latent-rm?w=100&weights=VQ:0.5,MQ:0.5

Target: a latent reward model folder (``videobench align latent-rm`` output) or a Hub repo id. Options: ``w``
(default 100), ``weights`` (``DIM:λ`` or ``DIM=λ`` pairs joined by ``,``; default 1 for every dimension),
``sigma_min``, ``sigma_max``, ``max_factor``, ``max_grad_norm``. Registered in ``videobench.compare.modifiers``
as ``register_modifier("nrg", "videobench.align.nrg_compare:NRGModifier")``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .nrg import NRGSettings, parse_weights

if TYPE_CHECKING:
    from videobench.compare.generators import PipelineGenerator
    from videobench.compare.spec import Part

__all__ = ["NRGModifier", "settings_from_part", "register"]

_FLOATS = ("w", "sigma_min", "sigma_max", "max_factor", "max_grad_norm")


def settings_from_part(part: "Part") -> NRGSettings:
    """Typed :class:`NRGSettings` from a spec part's options (errors name the option)."""
    from videobench.compare.spec import SpecError

    values: dict[str, Any] = {}
    for key in _FLOATS:
        if key in part.options:
            try:
                values[key] = float(part.options[key])
            except ValueError:
                raise SpecError(f"+nrg: {key}={part.options[key]!r} is not a number") from None
    try:
        weights = parse_weights(part.options.get("weights")) if part.options.get("weights") else {}
        return NRGSettings(weights=weights, **values)
    except ValueError as exc:
        raise SpecError(f"+nrg: {exc}") from None


class NRGModifier:
    options = ("weights",) + _FLOATS

    def fingerprint(self, part: "Part") -> str:
        from videobench.compare.fingerprint import combine, target_fingerprint

        fp, _ = target_fingerprint(part.target, part.revision)
        s = settings_from_part(part)
        settings = {"w": s.w, "weights": sorted(s.weights.items()), "sigma_min": s.sigma_min,
                    "sigma_max": s.sigma_max, "max_factor": s.max_factor, "max_grad_norm": s.max_grad_norm}
        return combine("nrg-v1", fp, json.dumps(settings, sort_keys=True))

    def apply(self, generator: "PipelineGenerator", part: "Part") -> None:
        from pathlib import Path

        from videobench.compare.spec import SpecError

        from .latent_rm import LatentRewardModel
        from .models import NotFlowMatchingError
        from .nrg import apply_nrg

        s = settings_from_part(part)
        local = Path(part.target).expanduser()
        source = str(local) if local.exists() else part.target
        kwargs = {"revision": part.revision} if part.revision else {}
        rm = LatentRewardModel.from_pretrained(source, **kwargs)
        try:
            apply_nrg(generator.pipe, rm, s.w, s.weights or None, s.sigma_min, s.sigma_max, s.max_factor,
                      s.max_grad_norm)
        except (NotFlowMatchingError, ValueError, TypeError) as exc:
            raise SpecError(f"+nrg: {exc}") from None


def register() -> None:
    """Make ``+nrg:`` available in generator specs (what ``videobench.compare.modifiers`` should do at import)."""
    from videobench.compare.modifiers import register_modifier

    register_modifier("nrg", NRGModifier())
