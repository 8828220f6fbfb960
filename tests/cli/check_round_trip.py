#!/usr/bin/env python3
"""A checkpoint round trip: the predictions and test accuracy of a model reloaded from
model.safetensors equal, bit for bit, those of the trained model still in memory.

  check_round_trip.py BNLAB OUT [MODEL [TRAIN_ARGS...]]   (default: mlp-bn, one epoch of 3,000 images)"""
import json, shutil, struct, subprocess, sys

bnlab, out = sys.argv[1], sys.argv[2]
model = sys.argv[3] if len(sys.argv) > 3 else "mlp-bn"
train_args = sys.argv[4:] or ["--epochs", "1", "--subset", "3000"]
shutil.rmtree(out, ignore_errors=True)

def run(*args):
    p = subprocess.run([bnlab, *args], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, f"{args}: exit {p.returncode}\n{p.stderr[-3000:]}"
    return json.loads(p.stdout)

def f32(x):
    return struct.pack("<f", x)

trained = run("train", "--model", model, *train_args, "--json", "--out", out)
ckpt = f"{out}/model.safetensors"
predicted = run("predict", ckpt, "--indices", "5:12", "--json")["predictions"]
assert [r["index"] for r in predicted] == list(range(5, 12))
for row, probs in zip(predicted, trained["predictions"]["probabilities"]):
    assert [f32(v) for v in row["probabilities"]] == [f32(v) for v in probs], (row, probs)
evaluated = run("evaluate", ckpt, "--json")
assert evaluated["accuracy"] == trained["test"]["accuracy"], (evaluated, trained["test"])
assert evaluated["loss"] == trained["test"]["loss"], (evaluated, trained["test"])
print(f"ok: {model}: checkpoint round trip reproduces predictions and test metrics bit for bit")
