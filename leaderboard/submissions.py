"""Submissions: a request file per (model, revision, benchmark), checked before any compute is spent.

Checks, in order: the spec parses and names acceptable ids; every adapter is one the board loads weights with (a
registered reward-model adapter, or a generator kind and modifiers of ``compare``); the benchmark (a registered name or
a local benchmark) or prompt suite exists; every Hub component's revision resolves to a commit; the weights are
safetensors, or ``.pth`` files that ``torch.load(weights_only=True)`` accepts (the VideoReward format); other pickle
files are refused unless a safetensors file sits beside them; no config asks for remote code (``auto_map``,
``custom_pipeline``, ``trust_remote_code``, custom classes in ``model_index.json``) unless the board allows it; a
VideoReward checkpoint's base model (``model_config.json``) passes the same weight checks; then, inside the same commit
that files the request, duplicates and the submitter's quota. Nothing is filed and no quota is used unless all pass.
The request also records what the board shows about the checkpoint (parameters, licence, base model: ``metadata.py``).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import struct
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal

from videobench.leaderboard.errors import LeaderboardError, SubmissionRefused, UnsafeNameError
from videobench.leaderboard.layout import REQUESTS_DIR, check_benchmark, request_id, request_path, split_model_id
from videobench.leaderboard.metadata import CheckpointInfo, combine, read_info
from videobench.leaderboard.store import Snapshot, Store
from videobench.provenance import utc_now

Status = Literal["PENDING", "RUNNING", "FINISHED", "FAILED"]
Kind = Literal["reward_model", "generator"]
ACTIVE: tuple[str, ...] = ("PENDING", "RUNNING", "FINISHED")

#: Reward-model adapters that never load the submitted files (or would import the submitter's code).
NOT_SUBMITTABLE = frozenset({"scores", "random", "classical", "pixel", "python"})
NOT_IMPORTED = frozenset({"python"})
SAFE_WEIGHTS = (".safetensors",)
PICKLE_SUFFIXES = (".bin", ".pt", ".ckpt", ".pkl", ".pickle", ".joblib", ".dill")
CONFIG_MAX_BYTES = 2 * 1024 * 1024
KNOWN_LIBRARIES = {"diffusers", "transformers", None}


@dataclass
class Component:
    adapter: str
    target: str
    revision: str = ""
    #: the part's options as spec text (``key=value&...``, ``videobench.specs``); text, so every request has one type
    options: str = ""


@dataclass
class Request:
    """One queue entry. Every field always has a value of one type (no nulls), so ``load_dataset`` reads the folder."""

    id: str
    kind: Kind
    model: str
    model_id: str
    revision: str
    benchmark: str
    components: list[Component]
    submitter: str
    submitted_at: str
    status: Status = "PENDING"
    claimed_by: str = ""
    claimed_at: str = ""
    #: where the claiming worker runs: a dead process on this host can be told from a slow one
    claimed_host: str = ""
    claimed_pid: int = 0
    attempts: int = 0
    reason: str = ""
    result_files: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    history: list[dict[str, str]] = field(default_factory=list)
    #: read from the checkpoint's files at submission (``metadata.py``); 0 / "" when unknown
    parameters: int = 0
    license: str = ""
    base_model: str = ""

    def to_bytes(self) -> bytes:
        # One JSON object per line (JSON Lines with one line): what the `json` builder of `datasets` reads fastest.
        return (json.dumps(asdict(self), sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes, source: str) -> "Request":
        try:
            obj = json.loads(data.decode("utf-8"))
            obj["components"] = [Component(**c) for c in obj["components"]]
            req = cls(**obj)
        except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
            raise LeaderboardError(f"{source}: not a valid request ({exc})") from exc
        if req.status not in ("PENDING", "RUNNING", "FINISHED", "FAILED") or req.kind not in ("reward_model", "generator"):
            raise LeaderboardError(f"{source}: unknown status {req.status!r} or kind {req.kind!r}")
        if request_path(req.id) != source and not source.startswith("<"):
            raise LeaderboardError(f"{source}: request id {req.id!r} does not match its file name")
        return req

    def transition(self, status: Status, by: str, reason: str = "") -> None:
        self.status = status
        self.reason = reason
        self.history.append({"status": status, "time": utc_now(), "by": by, "reason": reason[:500]})


@dataclass
class SubmissionPolicy:
    max_per_window: int = 5
    window_days: float = 7.0
    allow_remote_code: bool = False
    #: whether a spec may name a folder on this machine (a public form, the Space on a Hub store, must not)
    allow_local_paths: bool = True
    #: checkpoints one run may file at once (``+lora:RUN/checkpoints/checkpoint-*``); the run counts once in the quota
    max_checkpoints: int = 10


def parse_spec(spec: str) -> list[Component]:
    """``adapter:target[@rev][?key=value&...]`` joined by ``+`` (a base pipeline plus LoRAs): one component each, in
    the grammar every videobench spec uses (``videobench.specs``)."""
    from videobench.compare.spec import split_parts
    from videobench.specs import SpecError, format_query, parse_part

    out = []
    for text in split_parts(spec.strip()):
        try:
            part = parse_part(text.strip())
        except SpecError as exc:
            raise SubmissionRefused(f"model spec part {text!r}: {exc} (e.g. videoreward:org/model)") from None
        out.append(Component(part.name, part.target or "", part.revision or "", format_query(part.options)))
    return out


def canonical_reward_spec(spec: str, policy: SubmissionPolicy | None = None) -> str:
    """A reward-model spec as the registry reads it (prefix known, options valid and typed, local paths absolute):
    the text the request records and the queue runs. An option that turns remote code on is the board's call."""
    from videobench.rewards.registry import RewardSpecError, parse_reward_spec

    try:
        parsed = parse_reward_spec(spec)
    except RewardSpecError as exc:
        raise SubmissionRefused(f"model spec {spec!r}: {exc}") from None
    if parsed.options.get("trust_remote_code") and not (policy and policy.allow_remote_code):
        raise SubmissionRefused(f"model spec {spec!r}: trust_remote_code=true, and this board runs no remote code")
    return str(parsed)


def is_local(target: str) -> bool:
    return target.startswith(("/", ".", "~")) or Path(target).expanduser().exists()


def default_model_id(components: list[Component]) -> str:
    last = components[-1].target
    if is_local(last):
        return Path(last).expanduser().resolve().name
    return last


# ---------------------------------------------------------------------------------------------------------------------
# Weight and config checks. They read a *listing* (path -> size) and fetch small files through `fetch`, so the same
# code checks a local folder and a Hub repo at a commit.

def _contains_key(obj: Any, keys: set[str]) -> str | None:
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in keys and v not in (None, False, "", {}, []):
                return k
            found = _contains_key(v, keys)
            if found:
                return found
    elif isinstance(obj, list):
        for v in obj:
            found = _contains_key(v, keys)
            if found:
                return found
    return None


def check_files(
    name: str,
    listing: dict[str, int],
    fetch: Callable[[str], Path],
    policy: SubmissionPolicy,
) -> list[str]:
    """Refuse unsafe weights and remote code; return notes on what was checked."""
    notes: list[str] = []
    safetensors = [p for p in listing if p.endswith(SAFE_WEIGHTS)]
    pth = [p for p in listing if p.endswith(".pth")]
    pickles = [p for p in listing if p.endswith(PICKLE_SUFFIXES)]
    if not safetensors and not pth:
        raise SubmissionRefused(f"{name}: no weights found (expected .safetensors, or VideoReward's .pth files)")
    safe_dirs = {os.path.dirname(p) for p in safetensors}
    unsafe = [p for p in pickles if os.path.dirname(p) not in safe_dirs]
    if unsafe:
        raise SubmissionRefused(
            f"{name}: pickle weights {unsafe[:5]} without safetensors beside them; pickles can run code when loaded. "
            "Convert them to safetensors (safetensors.torch.save_file) and submit again")
    for p in pickles:
        notes.append(f"ignored pickle {p} (safetensors beside it is loaded instead)")
    for p in pth:
        check_pth(fetch(p), f"{name}/{p}")
        notes.append(f"{p}: loads with torch.load(weights_only=True)")
    for p in safetensors:
        if listing[p] < 8:
            raise SubmissionRefused(f"{name}/{p}: {listing[p]} bytes is too small for a safetensors file")
    notes.append(f"{len(safetensors)} safetensors file(s)")
    configs = [p for p in listing if p.endswith(".json") and p.count("/") <= 2 and listing[p] <= CONFIG_MAX_BYTES]
    code_files = [p for p in listing if p.endswith(".py")]
    for p in configs:
        try:
            cfg = json.loads(fetch(p).read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SubmissionRefused(f"{name}/{p}: config is not valid JSON ({exc})") from exc
        reason = _contains_key(cfg, {"auto_map", "custom_pipeline", "trust_remote_code"})
        if reason is None and os.path.basename(p) == "model_index.json" and isinstance(cfg, dict):
            for key, value in cfg.items():
                if isinstance(value, list) and len(value) == 2 and value[0] not in KNOWN_LIBRARIES:
                    reason = f"custom component {key} from {value[0]!r}"
                    break
        if reason is not None:
            if not policy.allow_remote_code:
                raise SubmissionRefused(
                    f"{name}/{p}: needs remote code ({reason}); this board does not run submitted code "
                    "(a maintainer can allow it with --allow-remote-code)")
            notes.append(f"{p}: remote code ({reason}) allowed by the board")
    if code_files:
        notes.append(f"python files present but never imported: {code_files[:5]}")
    return notes


def check_pth(path: Path, source: str) -> None:
    import pickle

    import torch

    try:
        torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except (pickle.UnpicklingError, RuntimeError, ValueError, EOFError, AttributeError, TypeError) as exc:
        raise SubmissionRefused(
            f"{source}: does not load with torch.load(weights_only=True) ({type(exc).__name__}: {str(exc)[:300]}); "
            "only plain tensors and containers are accepted") from exc


def check_safetensors_header(path: Path, source: str) -> None:
    """Local files only: the 8-byte length and JSON header must be sane before a loader maps the file."""
    with path.open("rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise SubmissionRefused(f"{source}: truncated safetensors file")
        (n,) = struct.unpack("<Q", head)
        if n > 100 * 1024 * 1024 or n > path.stat().st_size - 8:
            raise SubmissionRefused(f"{source}: safetensors header length {n} is implausible")
        try:
            json.loads(f.read(n))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SubmissionRefused(f"{source}: safetensors header is not JSON") from exc


def _local_listing(root: Path) -> dict[str, int]:
    return {p.relative_to(root).as_posix(): p.stat().st_size for p in root.rglob("*")
            if p.is_file() and not p.is_symlink() and ".git" not in p.parts}


def local_fingerprint(folder: str | Path) -> str:
    """The fingerprint ``submit`` records for a local folder (its revision), computed on the folder as it is now."""
    root = Path(folder)
    return _local_fingerprint(root, _local_listing(root))


def _local_fingerprint(root: Path, listing: dict[str, int]) -> str:
    digest = hashlib.sha256()
    for rel in sorted(listing):
        digest.update(f"{rel}\0{listing[rel]}\0".encode())
        with (root / rel).open("rb") as f:  # head and tail: cheap on multi-GB checkpoints, changes with retraining
            digest.update(f.read(1 << 20))
            if listing[rel] > 2 << 20:
                f.seek(-(1 << 20), os.SEEK_END)
                digest.update(f.read())
    return "local-" + digest.hexdigest()[:32]


def check_component(comp: Component, default_revision: str, policy: SubmissionPolicy, *,
                    endpoint: str | None = None, token: str | None = None,
                    cache_dir: str | None = None) -> tuple[Component, list[str], CheckpointInfo]:
    """Resolve the revision to a commit (or a content fingerprint for a local folder), check the files, and read
    what the board shows about the checkpoint (``metadata.read_info``)."""
    from huggingface_hub import parse_local_safetensors_file_metadata

    if is_local(comp.target):
        root = Path(comp.target).expanduser().resolve()
        if not root.is_dir():
            raise SubmissionRefused(f"{comp.target}: not a folder")
        listing = _local_listing(root)
        for rel in listing:
            if rel.endswith(".safetensors"):
                check_safetensors_header(root / rel, f"{comp.target}/{rel}")
        notes = check_files(comp.target, listing, lambda rel: root / rel, policy)
        notes += _check_base_model(comp, listing, lambda rel: root / rel, policy, endpoint, token, cache_dir)
        info = read_info(listing, lambda rel: root / rel, lambda rel: parse_local_safetensors_file_metadata(root / rel))
        return Component(comp.adapter, str(root), _local_fingerprint(root, listing), comp.options), notes, info
    try:
        split_model_id(comp.target)
    except UnsafeNameError as exc:
        raise SubmissionRefused(f"{comp.target!r} is neither a local folder nor a Hub repo id: {exc}") from exc
    from huggingface_hub import HfApi
    from huggingface_hub.errors import RepositoryNotFoundError, RevisionNotFoundError
    from huggingface_hub.hf_api import RepoFile

    api = HfApi(endpoint=endpoint, token=token)
    revision = comp.revision or default_revision
    try:
        sha = api.model_info(comp.target, revision=revision).sha
    except (RepositoryNotFoundError, RevisionNotFoundError) as exc:
        raise SubmissionRefused(f"{comp.target}@{revision}: not found on {api.endpoint} ({type(exc).__name__})") from exc
    if not sha:
        raise SubmissionRefused(f"{comp.target}@{revision}: the Hub did not return a commit")
    listing = {e.path: (e.lfs.size if e.lfs else e.size) for e in api.list_repo_tree(comp.target, revision=sha, recursive=True)
               if isinstance(e, RepoFile)}

    def fetch(rel: str) -> Path:
        return Path(api.hf_hub_download(comp.target, rel, revision=sha, cache_dir=cache_dir))

    notes = check_files(f"{comp.target}@{sha[:12]}", listing, fetch, policy)
    notes += _check_base_model(comp, listing, fetch, policy, endpoint, token, cache_dir)
    info = read_info(listing, fetch, lambda rel: api.parse_safetensors_file_metadata(comp.target, rel, revision=sha))
    return Component(comp.adapter, comp.target, sha, comp.options), notes, info


def _check_base_model(comp: Component, listing: dict[str, int], fetch: Callable[[str], Path],
                      policy: SubmissionPolicy, endpoint: str | None, token: str | None,
                      cache_dir: str | None) -> list[str]:
    """A VideoReward checkpoint loads the base model named in its ``model_config.json`` before its own weights: that
    base passes the same checks (safe weights, no remote code) before the request is filed."""
    if comp.adapter != "videoreward":
        return []
    if "model_config.json" not in listing:
        raise SubmissionRefused(f"{comp.target}: no model_config.json (a VideoReward checkpoint names its base model "
                                "and dimensions there)")
    try:
        config = json.loads(fetch("model_config.json").read_text(encoding="utf-8"))
        model_cfg = config.get("model_config") or {}
        base = str(model_cfg.get("model_name_or_path") or "")
        base_revision = str(model_cfg.get("model_revision") or "")
    except (UnicodeDecodeError, json.JSONDecodeError, AttributeError) as exc:
        raise SubmissionRefused(f"{comp.target}/model_config.json: not a JSON object ({exc})") from exc
    if not base:
        raise SubmissionRefused(f"{comp.target}/model_config.json: model_config.model_name_or_path is empty")
    try:
        resolved, notes, _ = check_component(Component("base", base, base_revision), "main", policy,
                                             endpoint=endpoint, token=token, cache_dir=cache_dir)
    except SubmissionRefused as exc:
        raise SubmissionRefused(f"{comp.target}: its base model {base} (model_config.json) is refused: {exc}") from exc
    return [f"base model {base}@{resolved.revision[:12]}: {note}" for note in notes]


def check_adapters(kind: Kind, components: list[Component]) -> None:
    """Every adapter of the spec is one the board loads weights through; refuse the rest before any download."""
    if kind == "reward_model":
        from videobench.rewards.registry import available_reward_models

        known = available_reward_models()
        allowed = [p for p in known if p not in NOT_SUBMITTABLE]
        if len(components) != 1:
            raise SubmissionRefused(f"a reward model is one component ADAPTER:TARGET, got {len(components)}")
        prefix = components[0].adapter
        if prefix not in allowed:
            what = "is not one the board loads submitted weights with" if prefix in known else "is unknown"
            raise SubmissionRefused(f"reward model {prefix!r} {what}; a submission uses one of {allowed}")
        return
    from videobench.compare.modifiers import available_modifiers
    from videobench.compare.spec import SOURCE_KINDS

    if components[0].adapter not in SOURCE_KINDS:
        raise SubmissionRefused(f"generator kind {components[0].adapter!r} is unknown; use one of {list(SOURCE_KINDS)}")
    for comp in components[1:]:
        if comp.adapter not in available_modifiers():
            raise SubmissionRefused(f"generator modifier {comp.adapter!r} is unknown; use one of "
                                    f"{available_modifiers()}")


def check_target(kind: Kind, benchmark: str) -> str:
    """The benchmark (reward models) or prompt suite (generators) the request names exists; returns a note."""
    if kind == "reward_model":
        from videobench.data.registry import load_benchmark, registered_benchmarks

        if benchmark in registered_benchmarks():
            return f"benchmark {benchmark} is registered"
        if Path(benchmark).exists():
            try:
                load_benchmark(benchmark)
            except (ValueError, OSError) as exc:
                raise SubmissionRefused(f"benchmark {benchmark}: {exc}") from exc
            return f"benchmark {benchmark} loads"
        raise SubmissionRefused(f"unknown benchmark {benchmark!r}; this board evaluates reward models on "
                                f"{registered_benchmarks()} (or a local benchmark path)")
    from videobench.prompts import load_prompts

    try:
        suite = load_prompts(benchmark)
    except (ValueError, OSError) as exc:
        raise SubmissionRefused(f"prompt suite {benchmark!r}: {exc}") from exc
    return f"prompt suite {benchmark}: {len(suite)} prompts"


# ---------------------------------------------------------------------------------------------------------------------

def read_requests(snap: Snapshot) -> tuple[list[Request], list[tuple[str, str]]]:
    requests, problems = [], []
    for path in snap.list(REQUESTS_DIR):
        if not path.endswith(".json"):
            continue
        try:
            requests.append(Request.from_bytes(snap.read(path), path))
        except LeaderboardError as exc:
            problems.append((path, str(exc)))
    return requests, problems


def _parse_time(text: str) -> _dt.datetime:
    return _dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=_dt.timezone.utc)


def quota_units(requests: list[Request]) -> int:
    """Submissions as the quota counts them: the checkpoints of one run, filed together (same series, same
    ``submitted_at``), are one submission; every other request is one."""
    from videobench.leaderboard.tables import series_of

    return len({(series_of(r.model_id), r.submitted_at) for r in requests})


def admission_plan(requests: Request | list[Request], policy: SubmissionPolicy,
                   now: _dt.datetime | None = None) -> Callable[[Snapshot], dict[str, bytes | None]]:
    """A store plan that files ``requests`` (one, or a run's checkpoints: all or none) after the duplicate and quota
    checks on the snapshot being committed to."""
    batch = [requests] if isinstance(requests, Request) else list(requests)

    def plan(snap: Snapshot) -> dict[str, bytes | None]:
        existing, _ = read_requests(snap)
        for request in batch:
            for other in existing:
                same = (other.kind, other.model_id, other.revision, other.benchmark) == (
                    request.kind, request.model_id, request.revision, request.benchmark)
                if same and other.status in ACTIVE:
                    raise SubmissionRefused(
                        f"duplicate: {other.model_id}@{other.revision[:12]} on {other.benchmark} is already "
                        f"{other.status} (request {other.id})")
        submitter = batch[0].submitter
        moment = now or _dt.datetime.now(_dt.timezone.utc)
        window = _dt.timedelta(days=policy.window_days)
        recent = [o for o in existing if o.submitter == submitter and o.status != "FAILED"
                  and moment - _parse_time(o.submitted_at) < window]
        used = quota_units(recent)
        if used + quota_units(batch) > policy.max_per_window:
            raise SubmissionRefused(
                f"quota: {submitter} has {used} submissions in the last {policy.window_days:g} days "
                f"(limit {policy.max_per_window})")
        return {request_path(r.id): r.to_bytes() for r in batch}
    return plan


def submit(store: Store, spec: str, benchmark: str, *, kind: Kind = "reward_model", revision: str = "main",
           model_id: str | None = None, submitter: str = "anonymous", policy: SubmissionPolicy | None = None,
           endpoint: str | None = None, token: str | None = None, cache_dir: str | None = None) -> Request:
    policy = policy or SubmissionPolicy()
    req = checked_request(spec, benchmark, kind=kind, revision=revision, model_id=model_id, submitter=submitter,
                          policy=policy, endpoint=endpoint, token=token, cache_dir=cache_dir)
    store.ensure()
    store.update(admission_plan(req, policy), f"videobench: submit {req.model_id}@{req.revision[:12]} for {benchmark}")
    return req


def checked_request(spec: str, benchmark: str, *, kind: Kind, revision: str, model_id: str | None, submitter: str,
                    policy: SubmissionPolicy, endpoint: str | None = None, token: str | None = None,
                    cache_dir: str | None = None, submitted_at: str | None = None) -> Request:
    """Every check before the commit (all but duplicates and quota), then the PENDING request they allow."""
    check_benchmark(benchmark)
    # cheap checks first: nothing is downloaded for a request that cannot run, and submitted code is never imported
    # (the registry imports a python: target to read its options)
    if kind == "reward_model" and parse_spec(spec)[0].adapter in NOT_IMPORTED:
        raise SubmissionRefused(f"model spec {spec!r}: this board never imports submitted code")
    if kind == "reward_model":
        spec = canonical_reward_spec(spec, policy)
    check_adapters(kind, parse_spec(spec))
    if not policy.allow_local_paths:
        local = [c.target for c in parse_spec(spec) if is_local(c.target)]
        if local:
            raise SubmissionRefused(f"{local[0]!r}: this board takes Hub repos (org/name) only, not local paths")
    components, checks, infos = [], [check_target(kind, benchmark)], []
    for comp in parse_spec(spec):
        resolved, notes, info = check_component(comp, revision, policy, endpoint=endpoint, token=token,
                                                cache_dir=cache_dir)
        components.append(resolved)
        checks += notes
        infos.append(info)
    info = combine(infos, [c.target for c in components])
    mid = model_id or default_model_id(components)
    split_model_id(mid)
    rev = components[-1].revision
    req = Request(
        id=request_id(kind, mid, rev, benchmark), kind=kind, model=spec, model_id=mid, revision=rev,
        benchmark=benchmark, components=components, submitter=submitter, submitted_at=submitted_at or utc_now(),
        checks=checks, parameters=info.parameters, license=info.license, base_model=info.base_model,
    )
    req.transition("PENDING", submitter, "submitted")
    return req


def run_checkpoints(spec: str, name: str | None, policy: SubmissionPolicy) -> dict[str, str] | None:
    """Board id -> spec of each checkpoint of a run when a ``+lora:`` target is a glob
    (``wan:BASE+lora:RUN/checkpoints/checkpoint-*``), in step order, named ``NAME-checkpoint-N`` so that they form one
    series on the board (``tables.series_of``); None for any other spec. NAME defaults to the run folder's name."""
    from videobench.compare.spec import expand_checkpoint_globs
    from videobench.specs import SpecError

    globbed = [c.target for c in parse_spec(spec)[1:] if c.adapter == "lora" and any(ch in c.target for ch in "*?[")]
    if not globbed:
        return None
    if name is None:
        parent = Path(globbed[0]).expanduser().resolve().parent
        name = parent.parent.name if parent.name == "checkpoints" else parent.name
    try:
        expanded = expand_checkpoint_globs({name: spec})
    except SpecError as exc:
        raise SubmissionRefused(str(exc)) from None
    if len(expanded) > policy.max_checkpoints:
        raise SubmissionRefused(f"{spec}: {len(expanded)} checkpoints, this board takes at most {policy.max_checkpoints} "
                                "of one run; narrow the pattern (e.g. checkpoint-*000)")
    return expanded


def submit_request(store: Store, **form: Any) -> Request:
    """:func:`submit_requests` for callers that file one model: the request filed (for a run's checkpoints, the last
    checkpoint's)."""
    return submit_requests(store, **form)[-1]


def submit_requests(store: Store, *, model: str | None = None, generator: str | None = None,
                    bench: str | None = None, prompts: str | None = None, revision: str = "main",
                    name: str | None = None, submitter: str | None = None, verified_user: str | None = None,
                    policy: SubmissionPolicy | None = None, endpoint: str | None = None) -> list[Request]:
    """What ``videobench submit``, ``align --submit`` and the Space's submission tab all run: the form's rules
    (exactly one of a reward model with its benchmark, or a generator with its prompt suite), the submitter's identity
    (``identity.submitter_identity``), then every check of ``submit``. A generator whose ``+lora:`` target is a glob
    over a run's checkpoints files one request per checkpoint (:func:`run_checkpoints`), in one commit, all or none."""
    from videobench.leaderboard.identity import submitter_identity

    model = (model or "").strip() or None
    generator = (generator or "").strip() or None
    if (model is None) == (generator is None):
        raise SubmissionRefused("pass exactly one of --model (a reward model) or --generator")
    target = (bench if model is not None else prompts) or ""
    if not target.strip():
        raise SubmissionRefused("--model needs --bench NAME" if model is not None else "--generator needs --prompts SUITE")
    who = submitter_identity(store, (submitter or "").strip() or None, verified_user=verified_user)
    policy = policy or SubmissionPolicy()
    kind: Kind = "reward_model" if model else "generator"
    revision = (revision or "").strip() or "main"
    name = (name or "").strip() or None
    run = run_checkpoints(generator, name, policy) if generator else None
    if run is None:
        return [submit(store, model or generator or "", target.strip(), kind=kind, revision=revision, model_id=name,
                       submitter=who, policy=policy, endpoint=endpoint)]
    if not policy.allow_local_paths:
        raise SubmissionRefused("this board takes Hub repos (org/name) only, not a run's local checkpoints")
    stamp = utc_now()  # shared: the quota counts the run once (quota_units)
    batch = [checked_request(spec, target.strip(), kind=kind, revision=revision, model_id=mid, submitter=who,
                             policy=policy, endpoint=endpoint, submitted_at=stamp) for mid, spec in run.items()]
    store.ensure()
    store.update(admission_plan(batch, policy), f"videobench: submit {len(batch)} checkpoints "
                 f"({batch[0].model_id} .. {batch[-1].model_id}) for {target.strip()}")
    return batch
