#!/usr/bin/env bash
# Installs the Debian 12 packages TraceLedger builds and tests with, only
# those that are missing. Safe to run repeatedly; needs root (or sudo).
set -euo pipefail

packages=(
  cmake g++ ninja-build pkg-config
  libsecp256k1-dev libleveldb-dev libsnappy-dev libssl-dev
  nlohmann-json3-dev libcli11-dev libgtest-dev
  zlib1g-dev libzxing-dev libstb-dev libcrypto++-dev libcpp-httplib-dev
  libqrencode-dev libpng-dev zbar-tools
  poppler-utils
  chromium fonts-wqy-microhei  # the browser test; a CJK font so zh-CN screenshots are legible
)
# npm (for test tooling) may come from Debian or with a NodeSource nodejs,
# which conflicts with Debian's npm package: only ask for it when absent.
if ! command -v npm >/dev/null 2>&1; then packages+=(nodejs npm); fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
