#!/usr/bin/env bash
# check_denormals.sh BNLAB WORK: bnlab train records its denormal mode in config.json and
# metrics.json, and --resume continues with the saved mode and refuses --denormals.
set -eu
bnlab=$1 work=$2
rm -rf "$work" && mkdir -p "$work"
run="$work/run"
"$bnlab" train --model flatten,dense:10:softmax --epochs 1 --subset 200 --denormals keep --out "$run" >/dev/null 2>&1
grep -q '"denormals": "keep"' "$run/config.json" || { echo "FAIL: config.json has no keep"; exit 1; }
grep -q '"denormals": "keep"' "$run/metrics.json" || { echo "FAIL: metrics.json has no keep"; exit 1; }
# A stopped run: its config without the finished run's files.
rm "$run/metrics.json"
err=$("$bnlab" train --resume "$run" --denormals flush 2>&1 >/dev/null) && { echo "FAIL: resume took --denormals"; exit 1; }
[ "$err" = "bnlab: --denormals: a resumed run keeps the mode it started with ($run/config.json)" ] ||
  { echo "FAIL: $err"; exit 1; }
BNLAB_DENORMALS=flush "$bnlab" train --resume "$run" >/dev/null 2>&1
grep -q '"denormals": "keep"' "$run/metrics.json" || { echo "FAIL: the resumed run did not keep its mode"; exit 1; }
echo ok
