#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
./tools/build.sh
cd build
ctest --output-on-failure -j"$(nproc)" --timeout 900
