#!/usr/bin/env bash
# `sova image info|prep` on fixture files, a data: URI and a URL served by a
# local python3 http.server on 127.0.0.1 (no outside address is ever used).
set -u
pass=0; fail=0
check() { if "$@"; then pass=$((pass+1)); else fail=$((fail+1)); echo "failed: $*" >&2; fi; }
IMG="$SOVA_FIXTURES/images"
tmp=$(mktemp -d)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

out=$("$SOVA_BIN" image info "$IMG/gif_anim.gif"); check test $? -eq 0
echo "$out" | grep -q '^format: gif$'; check test $? -eq 0
echo "$out" | grep -q '^size: 64x48$'; check test $? -eq 0
echo "$out" | grep -q '^frames: 3$'; check test $? -eq 0
"$SOVA_BIN" image info "$IMG/jpeg_cmyk.jpg" | grep -q '^components: 4$'; check test $? -eq 0
"$SOVA_BIN" image info "$IMG/index.json" >/dev/null 2>"$tmp/err"; check test $? -eq 1
grep -q 'unknown format' "$tmp/err"; check test $? -eq 0
"$SOVA_BIN" image info "$tmp/missing.png" >/dev/null 2>&1; check test $? -eq 1
"$SOVA_BIN" image info "data:image/png;base64,$(base64 -w0 "$IMG/png_rgb.png")" | grep -q '^format: png$'; check test $? -eq 0
"$SOVA_BIN" image info "data:image/png;base64,@@@@" >/dev/null 2>"$tmp/err"; check test $? -eq 1
grep -q 'base64' "$tmp/err"; check test $? -eq 0
"$SOVA_BIN" image --help >/dev/null; check test $? -eq 0
"$SOVA_BIN" image prep --help >/dev/null; check test $? -eq 0
"$SOVA_BIN" image nope >/dev/null 2>&1; check test $? -eq 2

# prep: the C tests check the tensor values against pixel_values.npy; here
# the command's shape line, grid output and files.
M="$SOVA_FIXTURES/models"
"$SOVA_BIN" image prep --model "$M/gemma3vl/mmproj-gemma3vl-F16.gguf" "$M/gemma3vl/image.png" -o "$tmp/g.npy" > "$tmp/g.txt"
check test $? -eq 0
grep -q '^shape: 1 3 112 112$' "$tmp/g.txt"; check test $? -eq 0
check test -s "$tmp/g.npy"
"$SOVA_BIN" image prep --model "$M/qwen25vl/mmproj-qwen25vl-F16.gguf" "$M/qwen25vl/image.png" -o "$tmp/q.npy" --grid "$tmp/grid.npy" > "$tmp/q.txt"
check test $? -eq 0
grep -q '^shape: 96 1176$' "$tmp/q.txt"; check test $? -eq 0
grep -q '^grid_thw: 1 8 12$' "$tmp/q.txt"; check test $? -eq 0
check test -s "$tmp/grid.npy"
# 61x37 rounds to 56x28 < min_pixels, so smart_resize scales up to 84x56 (HF does the same).
"$SOVA_BIN" image prep --model "$M/qwen25vl/mmproj-qwen25vl-F16.gguf" "$IMG/jpeg_444.jpg" -o "$tmp/q2.npy" --max-pixels 3136 | grep -q '^grid_thw: 1 4 6$'
check test $? -eq 0
"$SOVA_BIN" image prep --model "$M/qwen25vl/qwen25vl-F32.gguf" "$IMG/png_rgb.png" -o "$tmp/x.npy" >/dev/null 2>&1; check test $? -eq 1
"$SOVA_BIN" image prep --model "$M/gemma3vl/mmproj-gemma3vl-F16.gguf" "$IMG/png_rgb.png" -o "$tmp/x.npy" --image-limit 100 >/dev/null 2>"$tmp/err"
check test $? -eq 1
grep -q 'exceeds the limit' "$tmp/err"; check test $? -eq 0

# URLs from a local server.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$IMG" >/dev/null 2>&1 &
server=$!
for _ in $(seq 50); do
  python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null && break
  sleep 0.1
done
"$SOVA_BIN" image info "http://127.0.0.1:$port/webp_alpha.webp" > "$tmp/u.txt"; check test $? -eq 0
grep -q '^format: webp$' "$tmp/u.txt"; check test $? -eq 0
grep -q '^alpha: yes$' "$tmp/u.txt"; check test $? -eq 0
"$SOVA_BIN" image info "http://127.0.0.1:$port/no-such.png" >/dev/null 2>"$tmp/err"; check test $? -eq 1
grep -q 'HTTP status 404' "$tmp/err"; check test $? -eq 0
"$SOVA_BIN" image prep --model "$M/gemma3vl/mmproj-gemma3vl-F16.gguf" "http://127.0.0.1:$port/jpeg_422.jpg" -o "$tmp/u.npy" | grep -q '^shape: 1 3 112 112$'
check test $? -eq 0
"$SOVA_BIN" image info "ftp://127.0.0.1:$port/x.png" >/dev/null 2>&1; check test $? -eq 1

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
