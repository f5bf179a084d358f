#!/usr/bin/env bash
# Installs the Debian 12 packages sova builds, tests and fuzzes with.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
  build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev \
  libxxhash-dev xxhash libssl-dev \
  libjpeg62-turbo-dev libpng-dev libgif-dev libwebp-dev libcurl4-openssl-dev \
  libpcre2-dev libutf8proc-dev libjansson-dev libopenblas-dev \
  python3 python3-venv ca-certificates \
  gcc-aarch64-linux-gnu qemu-user libc6-dev-arm64-cross >/dev/null

# Test tools: reference renderers and array checks in the test scripts use
# jinja2 and numpy from whichever python3 is first on PATH.
if ! python3 -c 'import jinja2, numpy' 2>/dev/null; then
  python3 -m pip install -q jinja2 numpy 2>/dev/null ||
    python3 -m pip install -q --break-system-packages jinja2 numpy ||
    apt-get install -y -qq --no-install-recommends python3-jinja2 python3-numpy >/dev/null
fi
