#!/usr/bin/env python3
"""check_npz.py BNLAB WORK: `bnlab train --dataset FILE.npz` on generated .npz files, through the real
binary: uint8 (N, H, W) images stored as Keras's mnist.npz stores them, float32 channels-last
(N, H, W, 3) images, and channels-first (N, 1, H, W) ones chosen by --channels, each trained by the
`mlp` preset (after Flatten) to a test accuracy a learnable set must reach; `data info`, `evaluate` (which finds the
file through the checkpoint) and `show` on the same file; and an IDX folder as --dataset.

The files are written here with the standard library only (zipfile, struct), in numpy's own .npy
format (numpy.save's bytes; tests/corpus/make_corpus.py shows they match), so CI needs no numpy.
"""
import gzip
import io
import json
import pathlib
import random
import struct
import subprocess
import sys
import zipfile

BNLAB, WORK = sys.argv[1], pathlib.Path(sys.argv[2])
SIDE, CLASSES = 28, 10


def npy(descr, shape, data):
    shape_text = "(%s)" % (", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else ""))
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape_text)
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + data


def images(n, seed):
    """n learnable images: class c is a bright band of rows 2c..2c+6 over noise; labels cycle."""
    rng = random.Random(seed)
    labels = [i % CLASSES for i in range(n)]
    pixels = bytearray()
    for c in labels:
        for r in range(SIDE):
            bright = 2 * c <= r < 2 * c + 7
            pixels += bytes(min(255, (200 if bright else 0) + rng.randrange(56)) for _ in range(SIDE))
    return bytes(pixels), labels


def write_npz(path, members, deflate):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED) as z:
        for name, data in members.items():
            z.writestr(name + ".npy", data)


def dataset(path, layout, dtype, deflate=True):
    members = {}
    for split, n, seed in (("train", 600, 1), ("test", 100, 2)):
        pixels, labels = images(n, seed)
        shape = {"nhw": [n, SIDE, SIDE], "nhwc": [n, SIDE, SIDE, 3], "nchw": [n, 1, SIDE, SIDE]}[layout]
        if layout == "nhwc":  # three channels: the pixel, scaled by 1/3, 2/3 and 1
            pixels = [p * (c + 1) // 3 for p in pixels for c in range(3)]
        if dtype == "f4":
            members["x_" + split] = npy("<f4", shape, struct.pack(f"<{len(pixels)}f", *(p / 255 for p in pixels)))
        else:
            members["x_" + split] = npy("|u1", shape, pixels)
        members["y_" + split] = npy("<i8", [n], struct.pack(f"<{n}q", *labels))
    write_npz(path, members, deflate)
    return path


def run(*args, code=0):
    p = subprocess.run([BNLAB, *map(str, args)], capture_output=True, text=True)
    if p.returncode != code:
        sys.exit(f"FAIL: bnlab {' '.join(map(str, args))}: exit {p.returncode}, expected {code}\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
    return p


def train(name, data, *flags, expect_layout):
    out = WORK / name
    p = run("train", "--model", "mlp", "--dataset", data, "--epochs", 3, "--batch-size", 32, "--threads", 1,
            "--out", out, "--json", *flags)
    if expect_layout not in p.stderr:
        sys.exit(f"FAIL: {name}: the layout '{expect_layout}' is not stated:\n{p.stderr[:2000]}")
    metrics = json.loads(p.stdout)
    accuracy = metrics["test"]["accuracy"]
    print(f"{name}: test accuracy {accuracy:.3f} after {metrics['epochs_run']} epochs")
    if accuracy < 0.9:
        sys.exit(f"FAIL: {name}: test accuracy {accuracy} on a learnable set")
    return out


def main():
    subprocess.run(["rm", "-rf", str(WORK)], check=True)
    WORK.mkdir(parents=True)
    u8 = dataset(WORK / "digits.npz", "nhw", "u1", deflate=False)
    run_dir = train("uint8", u8, expect_layout="(N, H, W) = (600, 28, 28): one channel")
    config = json.loads((run_dir / "config.json").read_text())
    assert config["dataset"] == str(u8.resolve()), config["dataset"]

    info = run("data", "info", "--dataset", u8).stdout
    for text in ("digits.npz/train (600 images of 28x28)", "digits.npz/test (100 images of 28x28)",
                 "labels: 0:60 1:60", "valid = the first 60 training images, train = the remaining 540, test = 100"):
        assert text in info, f"data info lacks '{text}':\n{info}"
    evaluated = run("evaluate", run_dir / "model.safetensors", "--json").stdout
    assert json.loads(evaluated)["samples"] == 100, evaluated
    assert "█" in run("show", "--dataset", u8, "--index", 3, "--split", "test").stdout

    f32 = dataset(WORK / "floats.npz", "nhwc", "f4")
    train("float32_channels_last", f32, expect_layout="(N, H, W, C) = (600, 28, 28, 3): channels last (auto), transposed to (N, C, H, W)")
    info = run("data", "info", "--dataset", f32).stdout
    assert "float32 values, used as they are" in info, info
    doc = json.loads(run("data", "info", "--dataset", f32, "--json").stdout)
    assert doc["divide_by"] == 1 and doc["dtype"] == "float32" and doc["train"]["sample_shape"] == [3, 28, 28], doc

    first = dataset(WORK / "first.npz", "nchw", "u1")
    train("channels_first_flag", first, "--channels", "first", "--valid", 100,
          expect_layout="(N, C, H, W) = (600, 1, 28, 28): channels first (--channels)")

    idx = WORK / "idx"
    idx.mkdir()
    for prefix, n, seed in (("train", 600, 1), ("t10k", 100, 2)):
        pixels, labels = images(n, seed)
        (idx / f"{prefix}-images-idx3-ubyte.gz").write_bytes(
            gzip.compress(bytes([0, 0, 8, 3]) + struct.pack(">3I", n, SIDE, SIDE) + pixels, mtime=0))
        (idx / f"{prefix}-labels-idx1-ubyte").write_bytes(bytes([0, 0, 8, 1]) + struct.pack(">I", n) + bytes(labels))
    train("idx_folder", idx, expect_layout="IDX images (N, H, W) = (600, 28, 28): one channel")
    print("ok")


main()
