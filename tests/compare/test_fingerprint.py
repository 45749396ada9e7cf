import shutil

import pytest

from videobench.compare import fingerprint as fpmod
from videobench.compare.fingerprint import FingerprintError, path_fingerprint, target_fingerprint
from videobench.compare.generators import build_generator

from compare_helpers import TINY


def test_copy_has_same_fingerprint_and_weights_change_it(tiny_wan, tiny_wan_b, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(tiny_wan, copy)
    assert path_fingerprint(copy) == path_fingerprint(tiny_wan)
    assert path_fingerprint(tiny_wan_b) != path_fingerprint(tiny_wan)  # same architecture, other weights
    (copy / ".cache").mkdir()
    (copy / ".cache" / "junk").write_text("x")
    assert path_fingerprint(copy) == path_fingerprint(tiny_wan)  # hidden entries are ignored
    cfg = copy / "scheduler" / "scheduler_config.json"
    cfg.write_text(cfg.read_text().replace("7.0", "5.0"))
    assert path_fingerprint(copy) != path_fingerprint(tiny_wan)


def test_large_files_are_sampled(tmp_path, monkeypatch):
    monkeypatch.setattr(fpmod, "FULL_HASH_BYTES", 1024)
    data = bytearray(5 * 1024 * 1024)
    (tmp_path / "w.safetensors").write_bytes(data)
    before = path_fingerprint(tmp_path)
    data[len(data) // 2 + 10] = 1  # inside the middle sample
    (tmp_path / "w.safetensors").write_bytes(data)
    assert path_fingerprint(tmp_path) != before


def test_generator_fingerprint_covers_lora_settings_and_modifiers(tiny_wan, tiny_lora):
    base = build_generator("a", f"wan:{tiny_wan}{TINY}")
    assert build_generator("b", f"wan:{tiny_wan}{TINY}").fingerprint == base.fingerprint
    assert build_generator("c", f"wan:{tiny_wan}{TINY}+lora:{tiny_lora}").fingerprint != base.fingerprint
    assert (build_generator("c", f"wan:{tiny_wan}{TINY}+lora:{tiny_lora}?scale=0.5").fingerprint
            != build_generator("c", f"wan:{tiny_wan}{TINY}+lora:{tiny_lora}").fingerprint)
    assert build_generator("d", f"wan:{tiny_wan}{TINY}+blur:3").fingerprint != base.fingerprint
    # sampling settings are not in the fingerprint but in the render key
    assert build_generator("e", f"wan:{tiny_wan}?steps=3").fingerprint == base.fingerprint


def test_hub_ids_resolve_through_the_offline_cache(tmp_path, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    sha = "a" * 40
    (tmp_path / "models--org--m" / "refs").mkdir(parents=True)
    (tmp_path / "models--org--m" / "refs" / "main").write_text(sha)
    fp, commit = target_fingerprint("org/m")
    assert commit == sha and fp == target_fingerprint("org/m", sha)[0]
    with pytest.raises(FingerprintError, match="not in the local cache"):
        target_fingerprint("org/m", "v2")
    with pytest.raises(FingerprintError, match="not a Hub repo id"):
        target_fingerprint("/no/such/dir")
