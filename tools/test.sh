#!/usr/bin/env bash
# Installs what is missing (Debian packages, Anvil from npm), builds, and runs
# every test through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
./tools/build.sh
./tools/install-anvil.sh >/dev/null  # the local Ethereum node of the anchoring tests
cd build
ctest --output-on-failure -j"$(nproc)" --timeout 900
