#!/usr/bin/env python3
"""make_resume_cases.py BNLAB WORK: the run directories that `bnlab train --resume` must refuse.

A real run is stopped by its non-finite guard (Adam with lr 1e30 wrecks the weights in the first
step, so the loss of epoch 2 is NaN): it must exit 3 with one line and keep the checkpoint of
epoch 1. Each case is then a copy of that run directory with one thing broken; CMakeLists.txt
holds the message each must give. The training state comes from the binary under test, so the
cases follow its format.
"""
import json
import pathlib
import shutil
import struct
import subprocess
import sys

bnlab, work = sys.argv[1], pathlib.Path(sys.argv[2])
shutil.rmtree(work, ignore_errors=True)
work.mkdir(parents=True)
stopped = work / "stopped"

p = subprocess.run([bnlab, "train", "--model", "flatten,dense:8:relu,dense:10:softmax", "--subset", "64", "--batch-size", "64",
                    "--epochs", "3", "--lr", "1e30", "--out", str(stopped)], capture_output=True, text=True, timeout=300)
assert p.returncode == 3, f"exit {p.returncode}, expected 3\n{p.stderr[-2000:]}"
lines = p.stderr.strip().splitlines()
assert len(lines) == 1 and "non-finite loss" in lines[0] and "epoch 2, step 1" in lines[0], lines
assert "last good checkpoint" in lines[0], lines
assert sorted(f.name for f in stopped.iterdir()) == ["config.json", "train_state.safetensors"], list(stopped.iterdir())


def read_state(path):
    data = path.read_bytes()
    n = struct.unpack("<Q", data[:8])[0]
    return json.loads(data[8:8 + n]), data[8 + n:]


def write_state(path, header, body):
    text = json.dumps(header, separators=(",", ":")).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + body)


header, body = read_state(stopped / "train_state.safetensors")
assert json.loads(header["__metadata__"]["position"])["epoch"] == 2, header["__metadata__"]


def case(name, config=None, state=None, extra=None):
    """A copy of the stopped run; config(dict) and state(header, body) edit it in place."""
    d = work / name
    shutil.copytree(stopped, d)
    if config:
        c = json.loads((d / "config.json").read_text())
        config(c)
        (d / "config.json").write_text(json.dumps(c))
    if state:
        h, b = json.loads(json.dumps(header)), bytearray(body)
        b = state(h, b) or b
        write_state(d / "train_state.safetensors", h, bytes(b))
    if extra:
        extra(d)


def tensor_bytes(h, b, name):
    begin, end = h[name]["data_offsets"]
    return begin, end


def duplicate_order(h, b):
    begin, _ = tensor_bytes(h, b, "data.order")
    b[begin + 8:begin + 16] = b[begin:begin + 8]


def zero_rng(h, b):
    begin, end = tensor_bytes(h, b, "data.order_rng")
    b[begin:end] = bytes(end - begin)


def set_meta(key, value):
    def edit(h, b):
        h["__metadata__"][key] = value
    return edit


def set_position(**changes):
    def edit(h, b):
        position = json.loads(h["__metadata__"]["position"])
        position.update(changes)
        h["__metadata__"]["position"] = json.dumps(position)
    return edit


def drop_tensor(name):
    def edit(h, b):
        begin, end = h.pop(name)["data_offsets"]
        for entry in h.values():
            if "data_offsets" in entry and entry["data_offsets"][0] >= end:
                entry["data_offsets"] = [o - (end - begin) for o in entry["data_offsets"]]
        return b[:begin] + b[end:]
    return edit


case("not_a_run", extra=lambda d: (d / "config.json").unlink())
case("complete", extra=lambda d: (d / "metrics.json").write_text("{}"))
case("config_bad_json", extra=lambda d: (d / "config.json").write_text('{"model": "mlp",'))
case("config_wrong_type", config=lambda c: c.update(epochs="3"))
case("config_unknown_setting", config=lambda c: c.update(learning_rate=0.1))
case("config_missing_setting", config=lambda c: c.pop("seed"))
case("config_bad_value", config=lambda c: c.update(batch_size=0))
case("config_future_version", config=lambda c: c.update(format_version=2))
case("state_other_model", state=set_meta("spec", "flatten,dense:9:relu,dense:10:softmax"))
case("state_future_version", state=set_meta("format_version", "9"))
case("state_position_not_json", state=set_meta("position", "{epoch: 2"))
case("state_step_past_epoch", state=set_position(step=5))
case("state_history_short", state=set_meta("history", "[]"))
case("state_order_not_permutation", state=duplicate_order)
case("state_zero_generator", state=zero_rng)
case("state_missing_tensor", state=drop_tensor("optimizer.v.3"))
case("state_truncated", extra=lambda d: (d / "train_state.safetensors").write_bytes(
    (d / "train_state.safetensors").read_bytes()[:-1000]))
print(f"ok: stopped run and {len(list(work.iterdir())) - 1} broken copies in {work}")
