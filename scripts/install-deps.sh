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
  python3 ca-certificates >/dev/null
