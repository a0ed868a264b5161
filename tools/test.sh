#!/usr/bin/env bash
# Installs what is missing (Debian packages, Anvil and playwright-core from npm), builds, and runs
# every test through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
./tools/build.sh
./tools/install-anvil.sh >/dev/null  # the local Ethereum node of the anchoring tests
./tools/install-playwright.sh >/dev/null  # the browser driver of the real-browser test (Debian chromium)
cd build
ctest --output-on-failure -j"$(nproc)" --timeout 900
