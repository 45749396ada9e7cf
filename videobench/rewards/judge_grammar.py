"""The declared answer grammar of generative judges (``judge:``): what text counts as an answer, and what it means.

Pure functions on strings, no model: every parse is tested on scripted answers.

An answer holds one line per dimension, ``LABEL: VALUE`` (the label as the template asks for it, e.g. ``visual
quality``; case, surrounding spaces, Markdown bullets and ``**bold**`` are ignored)::

    scores mode     VALUE := a number              -> the dimension's score    ("visual quality: 4", "TA: 3.5")
    pairwise mode   VALUE := ["video"] A | B | tie -> +1 / -1 / 0 for the FIRST-shown video ("overall: B" -> -1)
                    (also 1 | 2, first | second, same | equal; optionally followed by "is better" and a full stop)

After the value only a full stop, ``/5`` or ``out of 5`` (scores), ``is better`` (pairwise), or an explanation set off
by ``,`` ``;`` ``(`` or a dash may follow: ``4 - sharp frames`` reads 4, ``4 or 5`` and ``A or B`` read nothing.

A dimension whose line is missing, whose value does not match, or whose label occurs on several lines with different
values is unparseable: NaN, never a guess. ``pattern=`` replaces the line rule with a user's regular expression
(``{label}`` is replaced by the escaped label; the value is its group ``value``), matched case-insensitively per line.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

Mode = Literal["scores", "pairwise"]

_LEAD = r"^[ \t>*#\-+]*"  # Markdown bullets, quotes, headings and bold before the label
_SEP = r"[ \t*_]*[:=][ \t*_]*"
_NUMBER = r"(?P<value>[-+]?(?:\d+(?:\.\d*)?|\.\d+))"
_CHOICE = r"(?:video[ \t]*)?(?P<value>a|b|1|2|first|second|tie|same|equal)"
#: after the value: "4/5", "4 out of 5", a full stop, or an explanation set off by , ; ( or a dash ("4 - sharp")
_REASON = r"(?:[ \t]*[,;(\u2013\u2014-].*)?"
_TAIL_SCORES = r"(?:[ \t]*(?:/[ \t]*\d+(?:\.\d+)?|out of[ \t]*\d+))?[ \t*_.]*" + _REASON + "$"
_TAIL_CHOICE = r"[ \t*_]*(?:is[ \t]+better|wins)?[ \t*_.!]*" + _REASON + "$"
VERDICTS = {"a": 1.0, "1": 1.0, "first": 1.0, "b": -1.0, "2": -1.0, "second": -1.0,
            "tie": 0.0, "same": 0.0, "equal": 0.0}


class GrammarError(ValueError):
    """A ``pattern=`` that is not a regular expression with a ``value`` group."""


@dataclass(frozen=True)
class Grammar:
    """How answers of one judge are read: the mode, the dimension labels, the line rule."""

    mode: Mode
    labels: tuple[str, ...]
    pattern: str | None = None

    def __post_init__(self) -> None:
        if self.mode not in ("scores", "pairwise"):
            raise GrammarError(f"mode={self.mode!r}: choose scores or pairwise")
        if not self.labels or any(not label.strip() for label in self.labels):
            raise GrammarError("a judge needs one non-empty label per dimension")
        for label in self.labels:
            try:
                regex = self.regex(label)
            except re.error as exc:
                raise GrammarError(f"pattern={self.pattern!r} is not a regular expression: {exc}") from None
            if "value" not in regex.groupindex:
                raise GrammarError(f"pattern={self.pattern!r} needs a group named value: (?P<value>...)")

    def regex(self, label: str) -> re.Pattern[str]:
        escaped = re.escape(label.strip()).replace(r"\ ", r"[ \t_-]+")  # "visual quality" = "visual_quality"
        if self.pattern is not None:
            return re.compile(self.pattern.replace("{label}", escaped), re.IGNORECASE | re.MULTILINE)
        value, tail = (_NUMBER, _TAIL_SCORES) if self.mode == "scores" else (_CHOICE, _TAIL_CHOICE)
        return re.compile(_LEAD + escaped + _SEP + value + tail, re.IGNORECASE | re.MULTILINE)

    def describe(self) -> str:
        """The grammar as recorded in results."""
        if self.pattern is not None:
            return f"pattern {self.pattern}"
        kind = "a number" if self.mode == "scores" else "A | B | tie (first-shown video = A)"
        return f"one line per dimension, LABEL: VALUE with VALUE {kind}; labels {list(self.labels)}"

    def parse(self, text: str) -> list[float]:
        """One value per label (NaN where unparseable)."""
        return [self._value(text, label) for label in self.labels]

    def _value(self, text: str, label: str) -> float:
        # a user pattern's optional value group may match nothing (None): an empty, unparseable value
        found = {(m.group("value") or "").strip().lower() for m in self.regex(label).finditer(text or "")}
        if len(found) != 1:
            return math.nan  # missing, or several different answers for one label: no guess
        raw = found.pop()
        if self.mode == "pairwise":
            return VERDICTS.get(re.sub(r"^video\s*", "", raw), math.nan)
        try:
            value = float(raw)
        except ValueError:
            return math.nan
        return value if math.isfinite(value) else math.nan
