"""A test hook, nothing else: ``VIDEOBENCH_FAULT=POINT[:N]`` ends the process at once (``os._exit(137)``, as a SIGKILL
would: no clean-up, no ``finally``) the N-th time (default 1st) the code reaches ``fault_point(POINT)``.

The fault-injection tests (``tests/faults``) use it to stop a run between two writes that must stay consistent.
Unset, it costs one dictionary look-up per call.
"""

from __future__ import annotations

import os

_reached: dict[str, int] = {}


def fault_point(name: str) -> None:
    spec = os.environ.get("VIDEOBENCH_FAULT")
    if not spec:
        return
    point, _, nth = spec.rpartition(":")
    if not nth.isdigit():  # no count given: the point's own name may hold colons
        point, nth = spec, "1"
    if point != name:
        return
    _reached[name] = _reached.get(name, 0) + 1
    if _reached[name] >= int(nth):
        os._exit(137)
