#!/usr/bin/env python3
"""bnlab compare --quick --json: exit 0, exactly one JSON document on stdout, the human output on
stderr, and the run directory laid out as documented."""
import json, os, shutil, subprocess, sys

bnlab, out = sys.argv[1], sys.argv[2]
shutil.rmtree(out, ignore_errors=True)
p = subprocess.run([bnlab, "compare", "--quick", "--json", "--unscaled-test", "--out", out],
                   capture_output=True, text=True, timeout=600)
assert p.returncode == 0, f"exit {p.returncode}\n{p.stderr[-3000:]}"
doc = json.loads(p.stdout)  # raises unless stdout is exactly one JSON document
assert "Epoch 1/2" in p.stderr and "Epoch 1/2" not in p.stdout, "human output belongs on stderr with --json"
for model in ("mlp", "mlp-bn"):
    m = doc[model]
    assert m["test"]["accuracy"] > 0.75, (model, m["test"])
    assert m["test"]["unscaled"]["accuracy"] < m["test"]["accuracy"], (model, m["test"])
    for f in ("model.safetensors", "history.csv", "summary.txt", "metrics.json"):
        assert os.path.getsize(os.path.join(out, model, f)) > 0, (model, f)
    rows = open(os.path.join(out, model, "history.csv")).read().splitlines()
    assert rows[0] == "epoch,loss,accuracy,val_loss,val_accuracy,seconds", rows[0]
    assert len(rows) == 3, rows
    metrics = json.load(open(os.path.join(out, model, "metrics.json")))
    assert metrics["predictions"]["actual"] == [1, 4, 9, 5, 9, 0, 6], metrics["predictions"]["actual"]
assert doc["mlp"]["params"] == {"total": 235146, "trainable": 235146, "non_trainable": 0}
assert doc["mlp-bn"]["params"] == {"total": 239818, "trainable": 237482, "non_trainable": 2336}
for f in ("comparison.json", "report.html"):
    assert os.path.getsize(os.path.join(out, f)) > 0, f
print("ok: compare --quick --json")
