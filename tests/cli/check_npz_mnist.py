#!/usr/bin/env python3
"""check_npz_mnist.py BNLAB WORK: MNIST as Keras's mnist.npz holds it (x_train (60000, 28, 28) uint8,
y_train (60000,) uint8, x_test, y_test; numpy.savez_compressed's deflated zip) trains to the same
weights, bit for bit, as `--dataset mnist`: the same pixels, scaling and validation split.

The .npz is made from the cached IDX files with the standard library only (no numpy in CI).
"""
import gzip
import json
import pathlib
import struct
import subprocess
import sys
import zipfile

BNLAB, WORK = sys.argv[1], pathlib.Path(sys.argv[2])


def npy(descr, shape, data):
    shape_text = "(%s)" % (", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else ""))
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape_text)
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + data


def idx_content(path):
    data = pathlib.Path(path).read_bytes()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def run(*args):
    p = subprocess.run([BNLAB, *map(str, args)], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"FAIL: bnlab {' '.join(map(str, args))}: exit {p.returncode}\n{p.stderr[-3000:]}")
    return p.stdout


def tensors(checkpoint):
    raw = pathlib.Path(checkpoint).read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    return raw[8 + n:]


subprocess.run(["rm", "-rf", str(WORK)], check=True)
WORK.mkdir(parents=True)
info = json.loads(run("data", "info", "--json"))
npz = WORK / "mnist.npz"
with zipfile.ZipFile(npz, "w", zipfile.ZIP_DEFLATED) as z:
    for split in ("train", "test"):
        images, labels = idx_content(info[split]["images"]), idx_content(info[split]["labels"])
        n = struct.unpack(">I", images[4:8])[0]
        z.writestr(f"x_{split}.npy", npy("|u1", [n, 28, 28], images[16:]))
        z.writestr(f"y_{split}.npy", npy("|u1", [n], labels[8:]))
common = ["train", "--model", "mlp-bn", "--epochs", 1, "--max-steps", 100, "--threads", 1, "--json"]
from_idx = json.loads(run(*common, "--out", WORK / "idx"))
from_npz = json.loads(run(*common, "--dataset", npz, "--out", WORK / "npz"))
assert from_npz["test"] == from_idx["test"], (from_npz["test"], from_idx["test"])
assert tensors(WORK / "npz/model.safetensors") == tensors(WORK / "idx/model.safetensors"), "weights differ"
print(f"ok: test {from_npz['test']} from both, the same weights")
