#!/usr/bin/env bash
# Installs the Debian packages the tests use when run as root; otherwise says what is missing.
# FFmpeg 5 libraries: torchcodec's CPU build links against them. chromium: PNG export and report screenshots.
set -euo pipefail
packages=(libavcodec59 libavformat59 libavutil57 libswscale6 libswresample4 libavdevice59 libavfilter8 chromium)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "Missing Debian packages (tests that need them will be skipped): ${missing[*]}" >&2
  echo "Install them with: sudo apt-get install ${missing[*]}" >&2
fi
