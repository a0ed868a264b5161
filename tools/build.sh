#!/usr/bin/env bash
# Configures and builds into ./build (RelWithDebInfo, warnings as errors).
set -euo pipefail
cd "$(dirname "$0")/.."
./tools/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTRACELEDGER_WERROR=ON >/dev/null
cmake --build build -j"$(nproc)"
