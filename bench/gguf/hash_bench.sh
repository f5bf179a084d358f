#!/usr/bin/env bash
# Hash throughput of `sova gguf hash` against xxhsum and sha256sum on the same
# file from page cache, in the same run. Usage (from the repository root):
#   bench/gguf/hash_bench.sh BUILD_DIR [SIZE_MB]
# Prints MB/s of each and the ratios the issue asks for, on per-tensor
# hashing (--no-model: the whole-model stream is sequential by definition
# and is measured separately):
#   xxh64, 2 threads:  sova -t 2 --no-model / xxhsum -H1        (target >= 1.5)
#   sha256 per thread: sova -t 1 --sha256 --no-model / sha256sum (target >= 0.9)
set -euo pipefail
build="${1:?usage: hash_bench.sh BUILD_DIR [SIZE_MB]}"
mb="${2:-1536}"
sova="$build/tools/sova"
file="${TMPDIR:-/tmp}/sova-bench-$$.gguf"
trap 'rm -f "$file"' EXIT
"$build/bench/gguf/bench_gguf_make" "$file" "$mb"
size=$(stat -c %s "$file")
cat "$file" > /dev/null # into the page cache

best() { # best of 3 wall times of a command, in seconds
  local b=""
  for _ in 1 2 3; do
    local t0 t1 t
    t0=$(date +%s.%N); "$@" > /dev/null; t1=$(date +%s.%N)
    t=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')
    if [ -z "$b" ] || awk -v t="$t" -v b="$b" 'BEGIN { exit !(t < b) }'; then b=$t; fi
  done
  echo "$b"
}
rate() { awk -v s="$size" -v t="$1" 'BEGIN { printf "%.0f", s / t / 1e6 }'; }
ratio() { awk -v a="$1" -v b="$2" -v k="${3:-1}" 'BEGIN { printf "%.2f", a / b / k }'; }

nc=$(nproc)
t_xxhsum=$(best xxhsum -H1 "$file")
t_sha256sum=$(best sha256sum "$file")
line() { printf '%-50s %7s MB/s\n' "$1" "$(rate "$2")"; }
echo "file: $size bytes, $nc cores"
line "xxhsum -H1" "$t_xxhsum"
line "sha256sum" "$t_sha256sum"
for t in 1 2 $( [ "$nc" -gt 2 ] && echo "$nc"); do
  eval "t_x$t=\$(best \"\$sova\" gguf hash -t $t --no-model \"\$file\")"
  eval "t_s$t=\$(best \"\$sova\" gguf hash -t $t --no-model --sha256 \"\$file\")"
  eval "t_f$t=\$(best \"\$sova\" gguf hash -t $t \"\$file\")"
  eval line "\"sova gguf hash -t $t --no-model (xxh64)\"" "\$t_x$t"
  eval line "\"sova gguf hash -t $t --no-model --sha256\"" "\$t_s$t"
  eval line "\"sova gguf hash -t $t (xxh64, llama-gguf-hash lines)\"" "\$t_f$t"
done
t_stream=$(best "$sova" gguf hash --no-layer "$file")
line "sova gguf hash --no-layer (one xxh64 stream)" "$t_stream"
echo "ratio per-tensor xxh64 -t 2 / xxhsum -H1:     $(ratio "$t_xxhsum" "$t_x2")   (target >= 1.5)"
echo "ratio per-tensor sha256 -t 1 / sha256sum:     $(ratio "$t_sha256sum" "$t_s1")   (target >= 0.9)"
echo "ratio per-tensor sha256 -t 2 per thread:      $(ratio "$t_sha256sum" "$t_s2" 2)"
echo "ratio full output xxh64 -t 2 / xxhsum -H1:    $(ratio "$t_xxhsum" "$t_f2")"
