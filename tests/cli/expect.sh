#!/usr/bin/env bash
# expect.sh CODE REGEX -- COMMAND...: runs COMMAND and passes when it exits with CODE and, for a
# non-zero CODE, prints exactly one line on stderr that matches REGEX (for CODE 0, REGEX must match
# stdout).
set -u
code=$1 regex=$2
shift 3
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
"$@" >"$out" 2>"$err" </dev/null
got=$?
fail() { echo "FAIL: $*"; echo "--- stdout:"; head -c 3000 "$out"; echo "--- stderr:"; head -c 3000 "$err"; exit 1; }
[ "$got" = "$code" ] || fail "exit code $got, expected $code"
if [ "$code" = 0 ]; then
  grep -Eq -- "$regex" "$out" || fail "stdout does not match /$regex/"
else
  lines=$(wc -l <"$err")
  [ "$lines" = 1 ] || fail "stderr has $lines lines, expected exactly 1"
  grep -Eq -- "$regex" "$err" || fail "stderr does not match /$regex/"
fi
echo "ok: exit $got"
