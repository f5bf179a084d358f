#!/usr/bin/env bash
# Builds bench_image and runs it against Pillow in the same run (one thread).
# Needs python3 with pillow and numpy (e.g. a venv: pip install pillow numpy).
set -euo pipefail
cd "$(dirname "$0")/../.."
build="${BUILD:-build-image}"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C "$build" -j2 bench_image
"${PYTHON:-python3}" bench/image/bench_pillow.py "$build/bench/image/bench_image" "${ITERS:-20}"
