"""scripts/system_deps.sh against fake dpkg-query / apt-get / id on PATH: it skips apt when everything is installed,
and waits for another apt process's lock instead of failing (issue 14, item 10)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "system_deps.sh"


def _fake_bin(tmp_path: Path, installed: bool, update_failures: int) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    status = "install ok installed" if installed else "unknown ok not-installed"
    scripts = {
        "dpkg-query": f"#!/bin/sh\nprintf '{status}'\n",
        "id": "#!/bin/sh\necho 0\n",
        # apt-get: log each call; `update` fails (as with the lists lock held) the first N times
        "apt-get": f"""#!/bin/sh
echo "$@" >> "{tmp_path}/apt.log"
case " $* " in *" update "*)
  n=$(cat "{tmp_path}/updates" 2>/dev/null || echo 0); echo $((n + 1)) > "{tmp_path}/updates"
  if [ "$n" -lt {update_failures} ]; then echo "E: Could not get lock /var/lib/apt/lists/lock" >&2; exit 100; fi;;
esac
exit 0
""",
    }
    for name, text in scripts.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    return bin_dir


def _run(tmp_path: Path, **fake) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{_fake_bin(tmp_path, **fake)}:{os.environ['PATH']}", "APT_RETRY_SECONDS": "0"}
    return subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60)


def test_nothing_runs_through_apt_when_every_package_is_installed(tmp_path):
    res = _run(tmp_path, installed=True, update_failures=0)
    assert res.returncode == 0, res.stderr
    assert not (tmp_path / "apt.log").exists()


def test_a_held_lock_is_waited_for_not_fatal(tmp_path):
    res = _run(tmp_path, installed=False, update_failures=2)
    assert res.returncode == 0, res.stderr
    calls = (tmp_path / "apt.log").read_text().splitlines()
    assert ["update" in c.split() for c in calls] == [True, True, True, False] and "install" in calls[3].split()
    assert all("DPkg::Lock::Timeout=600" in c for c in calls)  # install waits for the dpkg lock as well
