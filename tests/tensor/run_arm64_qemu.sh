#!/usr/bin/env bash
# Cross-builds the tensor library's tests for arm64 (the NEON kernels; once
# for armv8.0 and once with the dot-product extension) and runs them under
# qemu-user. Correctness only: qemu timings say nothing about real cores.
# Exits 77 (skipped) when the cross compiler or qemu is missing.
# Needs: gcc-aarch64-linux-gnu qemu-user libc6-dev-arm64-cross.
set -uo pipefail

CC=${AARCH64_CC:-aarch64-linux-gnu-gcc}
QEMU=${QEMU_AARCH64:-qemu-aarch64}
SYSROOT=${AARCH64_SYSROOT:-/usr/aarch64-linux-gnu}
if ! command -v "$CC" >/dev/null || ! command -v "$QEMU" >/dev/null || [ ! -d "$SYSROOT" ]; then
  echo "skipped: $CC, $QEMU or $SYSROOT missing"
  exit 77
fi

SRC=${SOVA_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sova-arm64.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# The tensor tests need only these sources; the rest of the project (and its
# libxxhash/OpenSSL users) stays out, so no arm64 builds of those are needed.
# quantize_mix.c reads GGUF metadata and is not used by these tests.
cd "$SRC" || exit 1
LIB_SRCS=$(ls src/tensor/*.c src/tensor/arm/*.c src/gguf/gguf_types.c tests/common/check.c src/base/*.c |
           grep -v -e quantize_mix.c -e src/base/hash.c)
TESTS="test_quant_dot test_quant_fixtures test_graph test_planner"
CFLAGS="-std=c11 -O2 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wconversion -Wno-sign-conversion
        -Wstrict-prototypes -Wmissing-prototypes -fno-strict-aliasing -ffp-contract=off -Werror
        -Isrc -Itests/common"

passed=0
failed=0
for variant in armv8-a armv8.2-a+dotprod; do
  out="$WORK/$variant"
  mkdir -p "$out"
  # shellcheck disable=SC2086
  if ! printf '%s\n' $LIB_SRCS $(printf 'tests/tensor/%s.c ' $TESTS) |
       xargs -P 2 -I{} sh -c 'o="$1/$(echo "$2" | tr / _).o"; $3 $4 -march=$5 -c "$2" -o "$o"' \
             _ "$out" {} "$CC" "$CFLAGS" "$variant"; then
    echo "FAIL $variant: compile"
    failed=$((failed + 1))
    continue
  fi
  lib_objs=$(ls "$out"/*.o | grep -v '/tests_tensor_test_')
  for t in $TESTS; do
    # shellcheck disable=SC2086
    if ! "$CC" -march="$variant" -o "$out/$t" "$out/tests_tensor_$t.c.o" $lib_objs -lm -lpthread; then
      echo "FAIL $variant $t: link"
      failed=$((failed + 1))
      continue
    fi
    log="$out/$t.log"
    if "$QEMU" -L "$SYSROOT" "$out/$t" >"$log" 2>&1; then
      echo "ok   $variant $t: $(tail -n 1 "$log")"
      passed=$((passed + 1))
    else
      echo "FAIL $variant $t"
      cat "$log"
      failed=$((failed + 1))
    fi
  done
  # The portable path must still be the one SOVA_CPU=generic selects.
  if SOVA_CPU=generic "$QEMU" -L "$SYSROOT" "$out/test_quant_dot" 2>&1 | grep -q '^active kernels: generic$'; then
    echo "ok   $variant SOVA_CPU=generic"
    passed=$((passed + 1))
  else
    echo "FAIL $variant SOVA_CPU=generic did not select the portable kernels"
    failed=$((failed + 1))
  fi
  if "$QEMU" -L "$SYSROOT" "$out/test_quant_dot" 2>&1 | grep -q '^active kernels: neon$'; then
    echo "ok   $variant NEON selected by default"
    passed=$((passed + 1))
  else
    echo "FAIL $variant NEON not selected by default"
    failed=$((failed + 1))
  fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
