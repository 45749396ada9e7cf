"""The VideoReward adapter's pure rules without a model: frame sampling choices and the prompt template checks.

Expected values are written out by hand from VideoAlign's ``prepare_batch`` / ``DataConfig`` (a 240 x 320 frame
budget, 2 fps unless the checkpoint or the call says otherwise) and from the adapter's documented error texts.
"""

from __future__ import annotations

import pytest

from videobench.rewards.base import Sampling
from videobench.rewards.videoreward import CheckpointError, _sampling, check_template, prompt_field


@pytest.mark.parametrize(("data_cfg", "fps", "num_frames", "max_pixels", "expected"), [
    ({}, None, None, None, Sampling(fps=2.0, num_frames=None, max_pixels=76800)),  # DataConfig's 240 x 320
    ({"fps": 8}, None, None, None, Sampling(fps=8.0, num_frames=None, max_pixels=76800)),
    ({"fps": None}, None, None, None, Sampling(fps=2.0, num_frames=None, max_pixels=76800)),
    ({"num_frames": 12, "fps": 8}, None, None, None, Sampling(fps=None, num_frames=12, max_pixels=76800)),
    ({"num_frames": 0, "fps": 4}, None, None, None, Sampling(fps=4.0, num_frames=None, max_pixels=76800)),
    ({"num_frames": 12}, 3, None, None, Sampling(fps=3.0, num_frames=None, max_pixels=76800)),  # the call wins
    ({"fps": 8}, None, 5, None, Sampling(fps=None, num_frames=5, max_pixels=76800)),
    ({"max_frame_pixels": 1000}, None, None, None, Sampling(fps=2.0, num_frames=None, max_pixels=1000)),
    ({"max_frame_pixels": None}, None, None, None, Sampling(fps=2.0, num_frames=None, max_pixels=None)),
    ({"max_frame_pixels": 1000}, None, None, 1, Sampling(fps=2.0, num_frames=None, max_pixels=1)),
])
def test_sampling_choices(data_cfg, fps, num_frames, max_pixels, expected):
    got = _sampling(data_cfg, fps, num_frames, max_pixels)
    assert got == expected
    assert [type(v) for v in got.as_dict().values()] == [type(v) for v in expected.as_dict().values()]


@pytest.mark.parametrize(("args", "message"), [
    (({}, None, None, 0), "max_pixels=0: the per-frame pixel budget must be positive"),
    (({"max_frame_pixels": -5}, None, None, None), "max_pixels=-5: the per-frame pixel budget must be positive"),
    (({}, 2.0, 8, None), "fps and num_frames cannot both be set (as in VideoAlign's reward())"),
])
def test_sampling_errors(args, message):
    with pytest.raises(CheckpointError) as info:
        _sampling(*args)
    assert str(info.value) == message


def test_prompt_template_rules():
    assert prompt_field("Rate: {text_prompt} <A><B>", "t") == "{text_prompt}"
    assert prompt_field("Rate: {prompt}", "t") == "{prompt}"
    for template, found in [("no field", "0 and 0"), ("{prompt} {text_prompt}", "1 and 1"), ("{prompt}{prompt}", "0 and 2")]:
        with pytest.raises(CheckpointError) as info:
            prompt_field(template, "ckpt/template.txt")
        assert str(info.value) == ("ckpt/template.txt: the prompt template must contain the placeholder {text_prompt} "
                                   f"(as in VideoAlign's templates) or {{prompt}} exactly once; found {found}")
    check_template("{prompt} <VQ> <MQ> <TA>", ["<VQ>", "<MQ>", "<TA>"], "t")
    with pytest.raises(CheckpointError) as info:
        check_template("{prompt} <VQ> <TA>", ["<VQ>", "<MQ>", "<TA>"], "t")
    assert str(info.value) == "t: the prompt template must contain <MQ> exactly once"
    with pytest.raises(CheckpointError) as info:
        check_template("{prompt} <VQ> <MQ> <MQ> <TA>", ["<VQ>", "<MQ>", "<TA>"], "t")
    assert str(info.value) == "t: the prompt template must contain <MQ> exactly once"
    with pytest.raises(CheckpointError) as info:
        check_template("{prompt} <MQ> <VQ> <TA>", ["<VQ>", "<MQ>", "<TA>"], "t")
    assert str(info.value) == ("t: the reward tokens must appear in the order ['<VQ>', '<MQ>', '<TA>'] (the head's rows "
                               "are read in that order, as in training)")
    with pytest.raises(CheckpointError) as info:
        check_template("<VQ> <MQ> <TA>", ["<VQ>", "<MQ>", "<TA>"], "t")
    assert str(info.value).startswith("t: the prompt template must contain the placeholder {text_prompt}")
