#!/usr/bin/env bash
# full_disk.sh BNLAB WORK: training onto a full disk exits 2 with one line naming the file that
# could not be written and leaves no partial file behind; once the run has a checkpoint it is kept,
# and `--resume` finishes it when there is room again. The disk is a small tmpfs in a private
# mount namespace (unshare); where that is not allowed, the test is skipped (exit 77).
set -u
bnlab=$1 work=$2
rm -rf "$work" && mkdir -p "$work/disk"
unshare -rm true 2>/dev/null || { echo "skip: cannot create a mount namespace"; exit 77; }

# In the namespace, `mlp` (a 0.94 MB model, a 2.8 MB training state):
#   1 MiB:    the config fits, the first checkpoint does not;
#   3.5 MiB:  the checkpoint fits, model.safetensors then does not; resumed on a 64 MiB disk.
unshare -rm bash -c '
  set -u
  bnlab=$1 work=$2 disk=$2/disk
  train() { "$bnlab" train --model mlp --subset 500 --epochs 1 --threads 1 "$@" >/dev/null 2>>"$work/stderr"; echo $?; }
  mount -t tmpfs -o size=1m tmpfs "$disk" || exit 77
  echo "$(train --out "$disk/run")" >"$work/codes"
  find "$disk" -mindepth 1 >"$work/left_small"
  umount "$disk" && mount -t tmpfs -o size=3584k tmpfs "$disk" || exit 1
  echo "$(train --out "$disk/run")" >>"$work/codes"
  find "$disk" -mindepth 1 -printf "%P\n" | sort >"$work/left_medium"
  mount -o remount,size=64m "$disk" || exit 1
  "$bnlab" train --resume "$disk/run" >/dev/null 2>>"$work/stderr"
  echo $? >>"$work/codes"
  ls "$disk/run" >"$work/resumed"
' _ "$bnlab" "$work"
case $? in 77) echo "skip: cannot mount a tmpfs"; exit 77 ;; 0) ;; *) echo "FAIL: namespace setup"; exit 1 ;; esac

fail() {
  echo "FAIL: $*"
  for f in codes stderr left_small left_medium resumed; do echo "--- $f:"; cat "$work/$f" 2>/dev/null; done
  exit 1
}
[ "$(tr '\n' ' ' <"$work/codes")" = "2 2 0 " ] || fail "exit codes, expected 2 2 0"
[ "$(wc -l <"$work/stderr")" = 2 ] || fail "expected one line on stderr per failed run"
sed -n 1p "$work/stderr" | grep -Eq "^bnlab: cannot write .*/disk/run/train_state.safetensors: No space left on device$" ||
  fail "first message"
sed -n 2p "$work/stderr" | grep -Eq "^bnlab: cannot write .*/disk/run/model.safetensors: No space left on device$" ||
  fail "second message"
[ ! -s "$work/left_small" ] || fail "files left behind before the first checkpoint"
[ "$(tr '\n' ' ' <"$work/left_medium")" = "run run/config.json run/train_state.safetensors " ] ||
  fail "after the first checkpoint, the run folder must hold exactly config.json and train_state.safetensors"
grep -qx metrics.json "$work/resumed" && grep -qx report.html "$work/resumed" || fail "the resumed run is incomplete"
echo "ok: $(tr '\n' '|' <"$work/stderr")"
