#!/usr/bin/env bash
# fuzz.sh [SECONDS]: runs each libFuzzer target of build-asan/ (scripts/sanitize.sh builds it) for
# SECONDS (default 60), all four side by side, starting from the committed seeds (fuzz/README.md).
# New inputs go to build-asan/fuzz/corpus/TARGET, crashing ones to build-asan/fuzz/crashes/TARGET/;
# any crash fails. Prints, per target, the executions it ran.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
source scripts/sanitizer_env.sh

seeds_idx=(tests/corpus/idx)
seeds_npy=(tests/corpus/npy)
seeds_checkpoint=(tests/corpus/checkpoints tests/corpus/train_states tests/fixtures/corrupt)
seeds_spec=(tests/corpus/specs fuzz/seeds/spec)
work=build-asan/fuzz
targets=(idx npy checkpoint spec)

fuzz_one() {
  local target=$1
  mkdir -p "$work/corpus/$target" "$work/crashes/$target"
  local seeds="seeds_${target}[@]"
  local regressions=() dict=()
  [ -d "fuzz/regressions/$target" ] && regressions=("fuzz/regressions/$target")
  [ -f "fuzz/$target.dict" ] && dict=(-dict="fuzz/$target.dict")
  # -timeout: a legal spec near the parameter limit allocates and initialises about 280 MB before it
  # is refused, which under ASan takes 11 s when four targets share two cores.
  "$work/fuzz_$target" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 "${dict[@]}" \
    -artifact_prefix="$work/crashes/$target/" "$work/corpus/$target" "${!seeds}" "${regressions[@]}" \
    >"$work/$target.log" 2>&1
}

pids=()
for target in "${targets[@]}"; do
  fuzz_one "$target" &
  pids+=($!)
done
status=0
for i in "${!targets[@]}"; do
  target=${targets[$i]}
  log=$work/$target.log
  if ! wait "${pids[$i]}"; then
    echo "fuzz $target: FAILED (see $log and $work/crashes/$target/)"
    tail -40 "$log"
    status=1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  echo "fuzz $target: ${runs:-?} executions in ${seconds} s (${rate:-?}/s)"
done
exit $status
