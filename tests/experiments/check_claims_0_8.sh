#!/usr/bin/env bash
# check_claims_0_8.sh BNLAB OUT: bnlab claims --only 0,8 on a few steps of MNIST, end to end: three
# rows for claim 0 and one for claim 8 with verdicts, their charts, the page, and the protocol in
# claims.json.
set -u
bnlab=$1 out=$2
rm -rf "$out"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
fail() { echo "FAIL: $*"; tail -c 3000 "$log"; exit 1; }
"$bnlab" claims --only 0,8 --seeds 1 --steps 40 --threads 1 --out "$out" >"$log" 2>&1 </dev/null || fail "exit code $?"
verdict='\*\*(supported|mixed|not supported)\*\*'
[ "$(grep -Ec "^\| 0 \| .*$verdict" "$log")" = 3 ] || fail "expected three rows for claim 0"
[ "$(grep -Ec "^\| 8 \| .*$verdict" "$log")" = 1 ] || fail "expected one row for claim 8"
for chart in claim0_ioffe_accuracy claim0_percentiles_bn claim0_gradient_cosine claim0_mlp_accuracy claim8_loss_range_ioffe claim8_beta; do
  [ -s "$out/$chart.png" ] || fail "no $chart.png"
done
for title in "Claim 0: input of last hidden layer" "Claim 8: effective beta"; do
  grep -q "$title" "$out/experiments.html" || fail "experiments.html lacks '$title'"
done
python3 - "$out/claims.json" <<'PY' || fail "claims.json"
import json, sys
doc = json.load(open(sys.argv[1]))
p = doc["protocol"]
assert p["covariate_shift"]["nets"]["steps"] == 40 and p["covariate_shift"]["nets"]["ioffe_batch"] == 60
assert p["landscape"]["lr_multiples"] and p["covariate_shift"]["noise"]["shift"] > 0
numbers = [c["number"] for c in doc["claims"]]
assert numbers == [0, 0, 0, 8], numbers
assert len(doc["claims"][0]["data"]["ioffe"]["steps"]) == 5  # steps 0, 10, 20, 30, 40
PY
echo "ok"
