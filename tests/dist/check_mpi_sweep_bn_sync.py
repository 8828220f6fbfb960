#!/usr/bin/env python3
"""check_mpi_sweep_bn_sync.py BNLAB WORK WITH_MPI SANITIZED: `mpirun -np 2 bnlab sweep bn-sync --quick`
trains on the 2 processes, not on emulated ranks: rank 0 alone prints and writes, the output and
bn_sync.json say 2 processes, and global BN differs from local BN at the smallest per-rank batch.

Exits 77 (ctest's skip) when mpirun is not installed, bnlab was built without MPI, or with the
sanitizers.
"""
import json
import subprocess
import sys

from mpi_job import ENV, MPIRUN, start

bnlab, work = start(sys.argv)
out = work / "sweep"
cmd = [*MPIRUN, "2", bnlab, "sweep", "bn-sync", "--quick", "--out", str(out)]
p = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=ENV)
assert p.returncode == 0, f"{cmd}: exit {p.returncode}\n{p.stdout[-2000:]}\n{p.stderr[-3000:]}"
assert "on 2 processes (mpirun)" in p.stdout, p.stdout
assert p.stdout.count("rule: ") == 1, "a rank other than 0 printed"
doc = json.loads((out / "bn_sync.json").read_text())
assert doc["ranks"] == 2 and doc["emulated_ranks"] is False, (doc["ranks"], doc["emulated_ranks"])
cells = {(c["variant"], c["per_rank_batch"]): c for c in doc["cells"]}
g, l = cells[("bn global", 2)], cells[("bn local", 2)]
assert g["global_batch"] == 4, g
assert g["test_accuracy"]["mean"] != l["test_accuracy"]["mean"], "global and local BN gave the same accuracy"
print(f"2 processes: at per-rank batch 2, global BN {g['test_accuracy']['mean']:.4f}, "
      f"local BN {l['test_accuracy']['mean']:.4f}; verdict {doc['verdicts']['mlp-bn']['verdict']}")
