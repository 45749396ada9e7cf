#!/usr/bin/env bash
# Installs the Debian packages the tests use when run as root; otherwise says what is missing.
# FFmpeg 5 libraries: torchcodec's CPU build links against them. chromium: PNG export and report screenshots.
# Nothing is run through apt when every package is installed already. Another apt/dpkg process (unattended
# upgrades, a second `make test`) is waited for, up to APT_LOCK_TIMEOUT seconds (default 600), instead of failing.
set -euo pipefail
packages=(libavcodec59 libavformat59 libavutil57 libswscale6 libswresample4 libavdevice59 libavfilter8 chromium)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  timeout="${APT_LOCK_TIMEOUT:-600}"
  # DPkg::Lock::Timeout makes apt-get wait for the dpkg lock (apt >= 1.9.11); `update` also takes the lists lock,
  # which older apt does not wait for, so it is retried until the same deadline.
  apt=(apt-get -o "DPkg::Lock::Timeout=${timeout}")
  echo "Installing Debian packages: ${missing[*]}"
  deadline=$((SECONDS + timeout))
  until "${apt[@]}" update -qq; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "apt-get update failed for ${timeout} s (another apt process holding its lock?)" >&2
      exit 100
    fi
    echo "apt-get update failed; retrying (another apt process may hold the lock)" >&2
    sleep "${APT_RETRY_SECONDS:-10}"
  done
  DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "Missing Debian packages (tests that need them will be skipped): ${missing[*]}" >&2
  echo "Install them with: sudo apt-get install ${missing[*]}" >&2
fi
