"""The one spec grammar of videobench: generator specs (``compare``) and reward-model specs (``eval``, ``compare
--reward``, ``submit``, the queue, align's ``reward:``) are both written ::

    part  := NAME [":" TARGET] ["@" REVISION] ["?" QUERY]
    QUERY := KEY "=" VALUE ("&" KEY "=" VALUE)*          keys and values are %-decoded

The first ``?`` always starts the options (a path holding ``?`` cannot be written); ``@REVISION`` is split off the
target only when the target as a whole is not an existing path. A generator spec joins parts with ``+``
(``videobench.compare.spec``); a reward spec is one part whose NAME is a registered prefix
(``videobench.rewards.registry``). On a command line, quote a spec holding ``?`` or ``&``: the shell splits at ``&``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping
from urllib.parse import quote, unquote

#: characters left as they are when a value is written back into a spec (``&``, ``=``, ``?``, ``#``, ``+``, ``%``
#: and spaces are %-encoded, so what is written parses back to the same value)
_SAFE = "/:,.-_~@*!$'()[]{};"
_HEAD = re.compile(r"^([A-Za-z_][A-Za-z0-9_.-]*)(?::(.*))?$", re.S)


class SpecError(ValueError):
    """A spec string that does not follow the grammar (see ``videobench.specs``)."""


@dataclass(frozen=True)
class Part:
    """One ``name:target[@rev][?query]`` piece of a spec; ``target`` is None for a bare ``name[?query]``."""

    name: str
    target: str | None
    revision: str | None = None
    options: dict[str, str] = field(default_factory=dict, hash=False)

    def __str__(self) -> str:
        return format_part(self.name, self.target, self.revision, self.options)


def quote_value(text: str) -> str:
    return quote(str(text), safe=_SAFE)


def format_query(options: Mapping[str, str]) -> str:
    """``key=value&...`` (%-encoded), the inverse of :func:`parse_query`."""
    return "&".join(f"{quote_value(k)}={quote_value(v)}" for k, v in options.items())


def format_part(name: str, target: str | None, revision: str | None = None,
                options: Mapping[str, str] | None = None) -> str:
    head = name if target is None else f"{name}:{target}"
    rev = f"@{revision}" if revision else ""
    query = format_query(options or {})
    return f"{head}{rev}{'?' + query if query else ''}"


def parse_query(query: str, where: str = "") -> dict[str, str]:
    """``key=value&key=value`` -> dict (values %-decoded); a key given twice or an item without ``=`` is an error."""
    options: dict[str, str] = {}
    for item in query.split("&"):
        if not item:
            continue
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SpecError(f"{where}query item {item!r} is not key=value")
        key = unquote(key)
        if key in options:
            raise SpecError(f"{where}{key!r} is given twice")
        options[key] = unquote(value)
    return options


def split_revision(target: str) -> tuple[str, str | None]:
    """``repo@rev`` -> (repo, rev), unless ``target`` as a whole is an existing path (a folder may hold an ``@``)."""
    if "@" not in target or Path(target).expanduser().exists():
        return target, None
    base, rev = target.rsplit("@", 1)
    if not base or not rev:
        raise SpecError(f"empty repo id or revision in {target!r}")
    return base, rev


def parse_part(text: str, *, target_required: bool = True, revision: bool = True) -> Part:
    """Parse ``NAME[:TARGET][@REVISION][?QUERY]``.

    ``target_required``: a bare ``NAME`` is an error (generator parts) or allowed (``random``, ``classical?fps=8``).
    ``revision``: split ``@REVISION`` off the target (see :func:`split_revision`), or leave the target whole.
    """
    head, _, query = text.partition("?")
    m = _HEAD.match(head)
    if not m:
        raise SpecError(f"{text!r} is not NAME:TARGET (e.g. wan:/models/wan, videoreward:org/model)")
    name, target = m.group(1), m.group(2)
    if target == "" and not target_required:
        target = None  # "name:" reads as a bare "name": its owner says what argument it misses
    if target is not None and not target:
        raise SpecError(f"{text!r}: empty target after {name}:")
    if target is None and target_required:
        raise SpecError(f"{text!r} is not NAME:TARGET (e.g. wan:/models/wan or lora:/ckpt/lora)")
    rev = None
    if target is not None and revision:
        target, rev = split_revision(target)
    return Part(name, target, rev, parse_query(query, f"{name}: "))
