#!/usr/bin/env python3
"""kill_resume.py BNLAB WORK: a run killed mid-epoch and resumed ends with the weights of a run
never interrupted, bit for bit.

Four runs of the same training (BN, dropout and Adam, so every kind of state matters):
  reference    uninterrupted;
  killed       SIGKILL in epoch 2, after the checkpoint of epoch 1: `--resume` goes on from it;
  sigint, sigterm
               SIGINT or SIGTERM in epoch 2: bnlab saves the step it is at, exits 130 or 143 with
               one line, and `--resume` goes on from that step.
Each resumed run's model.safetensors must equal the reference's byte for byte (weights and
metadata), and its history the reference's losses and accuracies.
"""
import json
import pathlib
import shutil
import signal
import struct
import subprocess
import sys
import time

bnlab, work = sys.argv[1], pathlib.Path(sys.argv[2])
shutil.rmtree(work, ignore_errors=True)
work.mkdir(parents=True)
TRAIN = ["train", "--model", "flatten,bn,dense:256:relu,dropout:0.2,bn,dense:128:relu,bn,dense:10:softmax",
         "--subset", "8000", "--epochs", "3", "--batch-size", "32", "--seed", "11", "--threads", "2"]


def run(*args, code=0):
    p = subprocess.run([bnlab, *args], capture_output=True, text=True, timeout=600)
    assert p.returncode == code, f"{args}: exit {p.returncode}, expected {code}\n{p.stderr[-3000:]}"
    return p


def position(run_dir):
    data = (run_dir / "train_state.safetensors").read_bytes()
    n = struct.unpack("<Q", data[:8])[0]
    return json.loads(json.loads(data[8:8 + n])["__metadata__"]["position"])


def stop_in_epoch_2(name, sig, delay):
    """Starts a run and sends sig once it is `delay` seconds into epoch 2 (after the checkpoint of
    epoch 1). Returns the run folder, the process and the position saved when it ended."""
    run_dir = work / name
    shutil.rmtree(run_dir, ignore_errors=True)
    p = subprocess.Popen([bnlab, *TRAIN, "--out", str(run_dir)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    state = run_dir / "train_state.safetensors"
    deadline = time.monotonic() + 300
    while not state.exists() and p.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    assert state.exists(), f"no checkpoint after epoch 1 (exit {p.poll()})"
    time.sleep(delay)
    p.send_signal(sig)
    _, err = p.communicate(timeout=300)
    return run_dir, p.returncode, err, position(run_dir) if state.exists() else None


def history(run_dir):
    return [line.split(",")[:5] for line in (run_dir / "history.csv").read_text().splitlines()]


reference = work / "reference"
run(*TRAIN, "--out", str(reference))
expected = (reference / "model.safetensors").read_bytes()


def check_resumed(run_dir):
    run("train", "--resume", str(run_dir))
    assert (run_dir / "model.safetensors").read_bytes() == expected, f"{run_dir.name}: weights differ from the reference"
    assert history(run_dir) == history(reference), f"{run_dir.name}: history differs"
    assert not (run_dir / "train_state.safetensors").exists(), "a finished run keeps no training state"


# SIGKILL: nothing runs after it, so the run goes on from the checkpoint of epoch 1. A kill that
# lands after epoch 2 ended (a slow machine) would test less: retry sooner.
for delay in (0.15, 0.05, 0.0):
    killed, code, _, at = stop_in_epoch_2("killed", signal.SIGKILL, delay)
    if at["epoch"] == 2:
        break
assert code == -signal.SIGKILL, f"killed run exited {code}"
assert at["epoch"] == 2 and at["step"] == 0, f"the kill did not land in epoch 2: {at}"
assert sorted(f.name for f in killed.iterdir()) == ["config.json", "train_state.safetensors"], list(killed.iterdir())
check_resumed(killed)

# SIGINT (Ctrl-C) and SIGTERM: bnlab checkpoints the step boundary it reaches and says so in one line.
for sig, name, exit_code in ((signal.SIGINT, "SIGINT", 130), (signal.SIGTERM, "SIGTERM", 143)):
    for delay in (0.15, 0.05, 0.0):
        stopped, code, err, at = stop_in_epoch_2(name.lower(), sig, delay)
        if at and at["epoch"] == 2 and at["step"] > 0:
            break
    assert code == exit_code, f"{name}: exit {code}, expected {exit_code}\n{err}"
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"bnlab: stopped at epoch 2, step {at['step']} of 250 by {name}; saved "), lines
    assert f"bnlab train --resume {stopped}" in lines[0], lines
    check_resumed(stopped)
    print(f"ok: {name} at epoch 2, step {at['step']}: resumed to the reference weights")
print("ok: killed in epoch 2 (SIGKILL): resumed from the end of epoch 1 to the reference weights")
