#!/usr/bin/env bash
# check_bn_sync_sweep.sh BNLAB OUT: bnlab sweep bn-sync --quick on MNIST with 4 emulated ranks, end
# to end: its table and verdict, every output file, and global BN apart from local BN at the
# smallest per-rank batch in bn_sync.json.
set -u
bnlab=$1 out=$2
rm -rf "$out"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
fail() { echo "FAIL: $*"; tail -c 3000 "$log"; exit 1; }
"$bnlab" sweep bn-sync --quick --out "$out" >"$log" 2>&1 </dev/null || fail "exit code $?"
grep -q "on 4 emulated ranks (threads of one process" "$log" || fail "the output does not say the ranks were emulated"
grep -Eq '^Verdict: \*\*(supported|mixed|not supported)\*\*$' "$log" || fail "no verdict"
[ "$(grep -Ec '^\| (2|8) \| (8|32) \| ' "$log")" = 2 ] || fail "expected table rows for per-rank batches 2 and 8"
for f in bn_sync.json bn_sync.csv bn_sync.md experiments.html section.html \
         bn_sync_test_accuracy.png bn_sync_mismatch.svg bn_sync_ms_per_step.png; do
  [ -s "$out/$f" ] || fail "no $f"
done
python3 - "$out/bn_sync.json" <<'PY' || fail "bn_sync.json"
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["ranks"] == 4 and doc["emulated_ranks"] is True, doc["ranks"]
cells = {(c["variant"], c["per_rank_batch"]): c for c in doc["cells"]}
assert len(cells) == 6, cells.keys()
g, l, k = cells[("bn global", 2)], cells[("bn local", 2)], cells[("control", 2)]
assert g["global_batch"] == 8 and g["steps"] == 150 and cells[("bn local", 8)]["steps"] == 150, g
assert g["test_accuracy"]["mean"] != l["test_accuracy"]["mean"], "global and local BN gave the same accuracy"
assert g["mismatch"]["mean"] != l["mismatch"]["mean"], "global and local BN gave the same mismatch"
assert k["mismatch"]["mean"] == 0 and k["normalisation"] == "layernorm", k
assert doc["verdicts"]["mlp-bn"]["verdict"] in ("supported", "mixed", "not supported")
assert "smallest per-rank batch" in doc["rule"]
PY
echo "ok"
