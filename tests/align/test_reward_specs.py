"""align's `reward:` key takes the reward spec syntax of every other command, checked when the config is made."""

from __future__ import annotations

import numpy as np
import pytest

from videobench.align.config import AlignConfig, ConfigError
from videobench.align.rewards import PixelReward, resolve_reward, score_frames


def test_reward_key_takes_spec_options(tmp_path):
    config = AlignConfig(reward="pixel:contrast?name=grey-contrast")
    reward = resolve_reward(config.reward)
    assert isinstance(reward, PixelReward) and (reward.kind, reward.name) == ("contrast", "grey-contrast")
    frames = np.zeros((2, 4, 4, 3), dtype=np.uint8)
    frames[:, :, 2:] = 255  # 16 black and 16 white grey levels: sample std = 0.5 * sqrt(32 / 31)
    assert score_frames(reward, [frames], ["p"])[0] == pytest.approx(0.5 * (32 / 31) ** 0.5)
    path = tmp_path / "cfg.yaml"
    path.write_text("reward: 'random:3?dimensions=Overall'\n")
    assert AlignConfig.from_yaml(path).reward == "random:3?dimensions=Overall"


def test_bad_reward_spec_fails_when_the_config_is_made():
    with pytest.raises(ConfigError, match=r"^reward: pixel: unknown option 'nme'; valid options: dimensions, name, "
                                          r"needs_frames, sampling$"):
        AlignConfig(reward="pixel:brightness?nme=x")
    with pytest.raises(ConfigError, match=r"^reward: unknown reward model 'pixle'"):
        AlignConfig(reward="pixle:brightness")
