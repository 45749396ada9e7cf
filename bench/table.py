"""The one table writer of the bench/ scripts: rows with computed targets, printed as markdown and saved as
``bench/results/<name>.json``, from which ``bench/render_docs.py`` renders docs/benchmarks.md.

The rules it enforces (docs/testing.md, "Benchmarks"): a row with a target carries ``met``, computed by the script
(a target never stands alone as text), and the script exits 1 when any target is missed. Where a number is
extrapolated or a baseline differs from ours in any way, the row says so in its own text.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass
class Row:
    what: str
    cells: dict[str, str]
    target: str = ""
    met: bool | None = None


@dataclass
class Table:
    """``name``: the JSON file's stem (the script's name). ``columns``: the measured columns after "what"."""

    name: str
    title: str
    columns: list[str]
    command: str
    notes: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    started: float = field(default_factory=time.time)
    load_start: float = field(default_factory=lambda: os.getloadavg()[0])

    def add(self, what: str, *, target: str = "", met: bool | None = None, **cells: object) -> Row:
        if bool(target) != (met is not None):
            raise ValueError(f"row {what!r}: a target needs a computed `met` and `met` needs a target")
        unknown = set(cells) - set(self.columns)
        if unknown:
            raise ValueError(f"row {what!r}: unknown columns {sorted(unknown)}")
        row = Row(what, {c: "" if cells.get(c) is None else str(cells[c]) for c in self.columns}, target,
                  None if met is None else bool(met))
        self.rows.append(row)
        print(f"  {what}: " + ", ".join(f"{c} {v}" for c, v in row.cells.items() if v)
              + (f" (target {target}: {'met' if row.met else 'MISSED'})" if target else ""), file=sys.stderr, flush=True)
        return row

    def note(self, text: str) -> None:
        self.notes.append(text)

    def markdown(self) -> str:
        cols = ["what", *self.columns, "target", "met"]
        lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        for r in self.rows:
            met = "" if r.met is None else ("yes" if r.met else "**NO**")
            lines.append("| " + " | ".join([r.what, *(r.cells[c] for c in self.columns), r.target, met]) + " |")
        return "\n".join(lines)

    def write(self, out_dir: Path = RESULTS) -> int:
        """Print the table, save the JSON, return the exit status (1 if a target was missed)."""
        print(f"\n{self.title}\n")
        print(self.markdown())
        for n in self.notes:
            print(f"\n- {n}")
        out_dir.mkdir(parents=True, exist_ok=True)
        data = {"name": self.name, "title": self.title, "command": self.command, "columns": self.columns,
                "rows": [asdict(r) for r in self.rows], "notes": self.notes, "machine": machine(self.load_start),
                "wall_s": round(time.time() - self.started, 1)}
        path = out_dir / f"{self.name}.json"
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(data, indent=1) + "\n")
        tmp.replace(path)
        missed = [r.what for r in self.rows if r.met is False]
        print(f"\nwrote {path}" + (f"; targets missed: {missed}" if missed else ""), file=sys.stderr)
        return 1 if missed else 0


def machine(load_start: float) -> dict[str, object]:
    """Where and under what load the numbers were taken: the same script on another machine gives other numbers."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                cwd=Path(__file__).parent, timeout=10).stdout.strip() or None
    except OSError:
        commit = None
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {"python": platform.python_version()}
    for mod in ("torch", "numpy"):
        if mod in sys.modules:
            versions[mod] = getattr(sys.modules[mod], "__version__", "?")
    return {"cpu": cpu, "cpu_count": os.cpu_count(), "load_avg_start": round(load_start, 1),
            "load_avg_end": round(os.getloadavg()[0], 1), "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "commit": commit, **versions}
