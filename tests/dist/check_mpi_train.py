#!/usr/bin/env python3
"""check_mpi_train.py BNLAB WORK WITH_MPI SANITIZED: data-parallel training through the real binary, on
loopback (mpirun -np 2), against one process.

  equivalence  `mpirun -np 2 bnlab train --model mlp-bn --subset 2000 --max-steps 20` (global
               BatchNorm) ends within 1e-5 of one process's weights and moving statistics,
               relative to each tensor (the norm of the difference over the tensor's), with the same
               predictions on the 10000 test images; rank 1 prints
               nothing; config.json and metrics.json record the ranks and the BatchNorm mode.
  determinism  a second 2-process run writes the same model.safetensors, byte for byte.
  images       a conv net with BatchNorm over image channels (CONV_NET), 12 steps at batch 30 of the
               first 300 images (2 epochs): 2 processes end within 1e-5 of one, with the same test
               predictions.

Exits 77 (ctest's skip) when mpirun is not installed, bnlab was built without MPI, or with the
sanitizers.
"""
import json
import math
import struct
import subprocess
import sys

from mpi_job import ENV, MPIRUN, start

bnlab, work = start(sys.argv)
TRAIN = ["train", "--model", "mlp-bn", "--subset", "2000", "--epochs", "1", "--max-steps", "20",
         "--seed", "5", "--threads", "1"]


def run(args, ranks):
    cmd = ([*MPIRUN, str(ranks)] if ranks > 1 else []) + [bnlab, *args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=ENV)
    assert p.returncode == 0, f"{cmd}: exit {p.returncode}\n{p.stdout[-2000:]}\n{p.stderr[-3000:]}"
    return p


def tensors(path):
    """name -> list of floats of a safetensors file (F32 tensors only)."""
    data = path.read_bytes()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    out = {}
    for name, t in header.items():
        if name == "__metadata__" or t["dtype"] != "F32":
            continue
        b, e = t["data_offsets"]
        raw = data[8 + n + b:8 + n + e]
        out[name] = struct.unpack(f"<{len(raw) // 4}f", raw)
    return out


def predictions(run_dir):
    p = run(["predict", str(run_dir / "model.safetensors"), "--indices", "0:10000", "--json"], 1)
    return [row["predicted"] for row in json.loads(p.stdout)["predictions"]]


one, two, again = work / "one", work / "two", work / "again"
run([*TRAIN, "--out", str(one)], 1)
p = run([*TRAIN, "--out", str(two)], 2)
run([*TRAIN, "--out", str(again)], 2)


def expect_one_process_model(got_dir, want_dir, what):
    """Every tensor within 1e-5 of one process's, relative to the tensor's size (Adam divides a
    gradient by its own running size, so a gradient near 0 whose rounding differs can move its one
    weight by far more than the others: for mlp-bn at this seed, one weight of 237,482 by 1.6e-6,
    4.5e-5 of itself), and the same test predictions."""
    want, got = tensors(want_dir / "model.safetensors"), tensors(got_dir / "model.safetensors")
    assert want.keys() == got.keys(), (want.keys(), got.keys())
    worst = 0.0
    for name in want:
        diff = math.sqrt(sum((a - b) ** 2 for a, b in zip(got[name], want[name])))
        size = math.sqrt(sum(b * b for b in want[name]))
        err = diff / size if size else diff
        worst = max(worst, err)
        assert err <= 1e-5, f"{what}, {name}: relative difference {err:.2e} from one process's"
    print(f"{what}, 2 processes against 1: largest relative difference of a tensor {worst:.2e}")
    assert predictions(got_dir) == predictions(want_dir), f"{what}: the test predictions differ"


expect_one_process_model(two, one, "mlp-bn")
assert (two / "model.safetensors").read_bytes() == (again / "model.safetensors").read_bytes(), \
    "two 2-process runs wrote different weights"

# Rank 0 prints the one-process output; nothing else is printed (Keras progress once per epoch).
assert p.stdout.count("Epoch 1/1") == 1, p.stdout
config = json.loads((two / "config.json").read_text())
metrics = json.loads((two / "metrics.json").read_text())
for d in (config, metrics):
    assert d["ranks"] == 2 and d["bn_sync"] == "global", d

# BatchNorm over image channels, synchronised (each channel over the N * H * W values of every shard).
# The convs have no bias: a bias before BN has a gradient of 0 but for rounding, which Adam, dividing
# it by its own size, turns into steps of the learning rate in a direction the rounding picks.
CONV_NET = "conv:8:3:nobias,bn,relu,maxpool:2,conv:8:3:nobias,bn,relu,maxpool:2,flatten,dense:10:softmax"
CONV = ["train", "--model", CONV_NET, "--subset", "300", "--epochs", "2", "--batch-size", "30", "--max-steps", "12",
        "--seed", "5", "--threads", "1", "--bn-sync", "global"]
conv_one, conv_two = work / "conv-one", work / "conv-two"
run([*CONV, "--out", str(conv_one)], 1)
run([*CONV, "--out", str(conv_two)], 2)
expect_one_process_model(conv_two, conv_one, "conv net")
print("2-process runs: the one-process weights within 1e-5, its predictions, the same bits run to run")
