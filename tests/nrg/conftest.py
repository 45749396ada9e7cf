"""Fixtures for the latent reward model and Flow-NRG tests: tiny pipelines and one reward model trained per session."""

from __future__ import annotations

import copy

import pytest
import torch

from nrg_helpers import RENDER, prompts
from videobench.testing.tiny_pipelines import (
    build_tiny_ltx_pipeline,
    build_tiny_wan_pipeline,
    make_decoder_informative,
)


@pytest.fixture(scope="session")
def _wan_session():
    return make_decoder_informative(build_tiny_wan_pipeline(seed=0))


@pytest.fixture(scope="session")
def _ltx_session():
    return make_decoder_informative(build_tiny_ltx_pipeline(seed=0))


@pytest.fixture
def wan(_wan_session):
    return copy.deepcopy(_wan_session)


@pytest.fixture
def ltx(_ltx_session):
    return copy.deepcopy(_ltx_session)


@pytest.fixture(scope="session")
def trained_rm(_wan_session, tmp_path_factory):
    """A 1-block latent RM for tiny Wan, trained on rollouts labelled VQ = brightness, MQ = saturation (pixel rewards)."""
    from videobench.align.latent_rm_train import LatentRMConfig, train_latent_rm

    out = tmp_path_factory.mktemp("latent-rm")
    cfg = LatentRMConfig(
        output_dir=str(out), prompts=prompts(48), samples_per_prompt=4, dimensions=["VQ", "MQ"],
        dimension_rewards={"VQ": "pixel:brightness", "MQ": "pixel:saturation"}, num_inference_steps=2,
        guidance_scale=1.0, num_blocks=1, head_hidden=64, max_steps=400, batch_size=16, lr=1e-3, eval_fraction=0.25,
        cpu=True, **RENDER,
    )
    with torch.random.fork_rng(devices=[]):
        result = train_latent_rm(cfg, pipe=copy.deepcopy(_wan_session))
    return result
