#!/usr/bin/env bash
# The `sova` command: every subcommand answers --help with exit 0; unknown ones exit 2.
set -u
pass=0; fail=0
check() { if "$@"; then pass=$((pass+1)); else fail=$((fail+1)); echo "failed: $*" >&2; fi; }
"$SOVA_BIN" --help > /tmp/sova-help.$$ ; check test $? -eq 0
for c in $(awk '/^commands:/{f=1;next} f&&NF{print $1}' /tmp/sova-help.$$ | grep -v "^'sova"); do
  "$SOVA_BIN" "$c" --help >/dev/null 2>&1; check test $? -eq 0
done
"$SOVA_BIN" no-such-command >/dev/null 2>&1; check test $? -eq 2
"$SOVA_BIN" >/dev/null 2>&1; check test $? -eq 2
"$SOVA_BIN" --version | grep -q '^sova [0-9]'; check test $? -eq 0
rm -f /tmp/sova-help.$$
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
