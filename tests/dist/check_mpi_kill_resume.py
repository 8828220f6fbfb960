#!/usr/bin/env python3
"""check_mpi_kill_resume.py BNLAB WORK WITH_MPI SANITIZED: a 2-process run whose rank 1 is killed, and its
resumption, through the real binary on loopback.

  kill     SIGKILL of rank 1 in epoch 2 (after rank 0's checkpoint of epoch 1): every rank is gone
           within 10 s, mpirun exits non-zero, and the checkpoint is whole;
  resume   `mpirun -np 2 bnlab train --resume` ends with the weights of an uninterrupted 2-process
           run, byte for byte; one process resumes the same checkpoint too, saying so in one line.

Exits 77 (ctest's skip) when mpirun is not installed, bnlab was built without MPI, or with the
sanitizers.
"""
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time

from mpi_job import ENV, MPIRUN as LAUNCH, start

bnlab, work = start(sys.argv)
MPIRUN = LAUNCH + ["2"]
TRAIN = ["train", "--model", "mlp-bn", "--subset", "3000", "--epochs", "2", "--batch-size", "32",
         "--seed", "7", "--threads", "1"]


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=ENV)
    assert p.returncode == 0, f"{cmd}: exit {p.returncode}\n{p.stdout[-2000:]}\n{p.stderr[-3000:]}"
    return p


def rank_of(pid):
    try:
        env = pathlib.Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return None
    for item in env:
        if item.startswith(b"OMPI_COMM_WORLD_RANK="):
            return int(item.split(b"=")[1])
    return None


def bnlab_ranks(launcher):
    """pid -> rank of the bnlab processes that launcher started (its children)."""
    out = {}
    for line in subprocess.run(["ps", "-o", "pid=", "--ppid", str(launcher)], capture_output=True,
                               text=True).stdout.split():
        r = rank_of(int(line))
        if r is not None:
            out[int(line)] = r
    return out


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = pathlib.Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


reference, killed = work / "reference", work / "killed"
run([*MPIRUN, bnlab, *TRAIN, "--out", str(reference)])

launcher = subprocess.Popen([*MPIRUN, bnlab, *TRAIN, "--out", str(killed)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, env=ENV)
state = killed / "train_state.safetensors"
deadline = time.monotonic() + 200
while not state.exists() and launcher.poll() is None and time.monotonic() < deadline:
    time.sleep(0.005)
assert state.exists(), f"no checkpoint after epoch 1 (exit {launcher.poll()})"
time.sleep(0.1)
ranks = bnlab_ranks(launcher.pid)
assert sorted(ranks.values()) == [0, 1], ranks
victim = next(pid for pid, r in ranks.items() if r == 1)
killed_at = time.monotonic()
os.kill(victim, signal.SIGKILL)
try:
    _, err = launcher.communicate(timeout=10)
except subprocess.TimeoutExpired:
    launcher.kill()
    raise AssertionError("mpirun still running 10 s after rank 1 was killed")
gone = time.monotonic() - killed_at
assert all(not alive(pid) for pid in ranks), "a rank outlived mpirun"
assert launcher.returncode != 0, "mpirun exited 0 after a rank was killed"
assert not (killed / "metrics.json").exists(), "the killed run finished before the kill"
print(f"rank 1 killed: every rank gone in {gone:.1f} s, mpirun exit {launcher.returncode}")

one = work / "one-process"
shutil.copytree(killed, one)
run([*MPIRUN, bnlab, "train", "--resume", str(killed)])
assert (killed / "model.safetensors").read_bytes() == (reference / "model.safetensors").read_bytes(), \
    "resumed by 2 processes: not the uninterrupted run's weights"
p = run([bnlab, "train", "--resume", str(one)])
assert "trained so far by 2 processes, resumed by 1" in p.stdout, p.stdout
assert (one / "metrics.json").exists()
print("resumed by 2 processes: the uninterrupted weights, byte for byte; resumed by 1: completes")
