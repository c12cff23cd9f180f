#!/usr/bin/env bash
# Installs everything APEX needs to build, run and test on Debian bookworm.
# Idempotent: a second run on a machine that has everything installs nothing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  qt6-base-dev qt6-base-dev-tools qt6-websockets-dev qt6-httpserver-dev
  qt6-multimedia-dev libqt6svg6 qt6-qpa-plugins
  libhiredis-dev libspdlog-dev libfmt-dev libsoxr-dev libmpg123-dev libmp3lame-dev
  flite1-dev libespeak-ng-dev espeak-ng-data
  libpocketsphinx-dev libsphinxbase-dev pocketsphinx-en-us
  libqt6sql6-sqlite libqt6sql6-psql
  redis-server postgresql xvfb xauth
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo_cmd=""
[ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo_cmd apt-get update -q
$sudo_cmd apt-get install -y -q --no-install-recommends "${missing[@]}"
