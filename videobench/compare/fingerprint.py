"""Fingerprints of generator checkpoints: they key the render store, so equal content must give equal fingerprints
(a copied folder reuses renders) and changed weights must not.

A local folder or file: every file's relative path and size; small files (configs, tokenizers, weights up to
``FULL_HASH_BYTES``) are hashed in full; a larger weight file contributes its first 1 MiB (the safetensors header
and the first tensors) and four more 1 MiB samples spread over the file, which changes whenever fine-tuning changes
the weights without reading many GB. Hidden entries (``.git``, ``.cache``) are skipped. A Hub repo: the commit
the revision resolves to (a commit hash names its content).
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

FULL_HASH_BYTES = 256 * 1024 * 1024
_SAMPLE = 1024 * 1024
_SHA_RE = re.compile(r"^[0-9a-f]{40}$")
_REPO_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)?$")


class FingerprintError(ValueError):
    pass


def _file_digest(path: Path, size: int) -> bytes:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        if size <= FULL_HASH_BYTES:
            for block in iter(lambda: f.read(4 * _SAMPLE), b""):
                digest.update(block)
        else:
            for k in range(5):
                f.seek(0 if k == 0 else size * k // 4 - (_SAMPLE if k == 4 else 0))
                digest.update(f.read(_SAMPLE))
    return digest.digest()


def path_fingerprint(path: str | os.PathLike) -> str:
    """Content fingerprint of a file or folder (see the module docstring)."""
    root = Path(path).expanduser()
    if not root.exists():
        raise FingerprintError(f"{root} does not exist")
    files = [root] if root.is_file() else sorted(
        p for p in root.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )
    digest = hashlib.sha256(b"videobench-path-fp-v1")
    for f in files:
        size = f.stat().st_size
        rel = f.name if f == root else f.relative_to(root).as_posix()
        digest.update(f"{rel}\x00{size}\x00".encode())
        digest.update(_file_digest(f, size))
    return digest.hexdigest()[:32]


def is_repo_id(target: str) -> bool:
    return bool(_REPO_RE.match(target)) and ".." not in target


def resolve_hub_commit(repo_id: str, revision: str | None, repo_type: str = "model") -> str:
    """The commit hash ``revision`` (default ``main``) of a Hub repo resolves to: the local cache's ref when
    ``HF_HUB_OFFLINE`` is set, else the Hub (``HF_ENDPOINT``)."""
    rev = revision or "main"
    if _SHA_RE.match(rev):
        return rev
    from huggingface_hub import HfApi, constants

    if constants.HF_HUB_OFFLINE:
        folder = Path(constants.HF_HUB_CACHE) / f"{repo_type}s--{repo_id.replace('/', '--')}"
        ref = folder / "refs" / rev
        if ref.is_file():
            return ref.read_text().strip()
        raise FingerprintError(f"{repo_id}@{rev}: HF_HUB_OFFLINE is set and the revision is not in the local cache")
    try:
        info = HfApi().repo_info(repo_id, revision=rev, repo_type=repo_type)
    except Exception as exc:  # the client raises many kinds (not found, gated, network)
        raise FingerprintError(f"{repo_id}@{rev}: cannot resolve on the Hub ({type(exc).__name__}: {exc})") from None
    if not info.sha:
        raise FingerprintError(f"{repo_id}@{rev}: the Hub returned no commit hash")
    return info.sha


def target_fingerprint(target: str, revision: str | None = None) -> tuple[str, str | None]:
    """(fingerprint, resolved commit or None) of a local path or a Hub repo id."""
    local = Path(target).expanduser()
    if local.exists():
        if revision:
            raise FingerprintError(f"{target}: a local path takes no @revision")
        return path_fingerprint(local), None
    if not is_repo_id(target):
        raise FingerprintError(f"{target}: no such file or folder, and not a Hub repo id")
    commit = resolve_hub_commit(target, revision)
    return hashlib.sha256(f"hub\x00{target}\x00{commit}".encode()).hexdigest()[:32], commit


def combine(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]
