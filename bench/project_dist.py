#!/usr/bin/env python3
"""The cost model of docs/distributed.md: a data-parallel step's time and efficiency projected for
many processes, from one process's compute measured here, and checked against loopback runs.

  python3 bench/project_dist.py [--bnlab build/bnlab] [--batch 128] [--loopback 2,3,4]

For each model (mlp-bn, cnn-bn) it times one process of one thread at the per-process batch
(`bnlab bench`, median of 5 windows), then projects, for N processes with the batch `--batch`
each, on 10 Gb/s Ethernet (alpha 30 us, beta 1.25 GB/s) and a 100 Gb/s fabric (3 us, 12.5 GB/s):

    T_step = c(b) + T_grad + T_bn + T_small
    T_grad = 2 log2(N) alpha + 2 (N - 1)/N * gradient bytes / beta   (reduce-scatter + all-gather)
    T_bn   = gathers * log2(N) alpha + (N - 1) * BN bytes / beta       (global; all-gathers)
           = log2(N) (alpha + moving statistics bytes / beta)          (local; one broadcast)
    T_small = 2 log2(N) alpha                                          (loss and stop flag)

With --loopback, `mpirun -np N bnlab train` runs N processes of one thread on this machine's
loopback (alpha about 1 us, beta about 10 GB/s, bench_collectives' figures) and its time per step
is set beside the model's, the compute scaled by N / cores when the processes outnumber the
cores. Not part of CI (it times things).
"""
import argparse, json, math, os, subprocess, tempfile

CORES = os.cpu_count() or 1

# What each step sends (docs/distributed.md, "What a step sends"): trainable parameters (float
# gradients), and per BatchNorm layer its features C and whether its input gradient is needed
# (the input BatchNorm of mlp-bn needs none, so it has no backward gather).
MODELS = {
    "mlp-bn": {"params": 237482, "bn": [(784, False), (256, True), (128, True)]},
    "cnn-bn": {"params": 35018, "bn": [(32, True), (64, True)]},
}
NETWORKS = [("10 Gb/s", 30e-6, 1.25e9), ("100 Gb/s", 3e-6, 12.5e9)]
LOOPBACK = (1e-6, 10e9)


def sends(model):
    m = MODELS[model]
    forward = [(1 + 2 * c) * 8 for c, _ in m["bn"]]  # count, mean, m2 as doubles
    backward = [2 * c * 8 for c, needed in m["bn"] if needed]  # the two sums as doubles
    return {
        "grad": 4 * m["params"],
        "bn": sum(forward) + sum(backward),
        "gathers": len(forward) + len(backward),
        "moving": 2 * 4 * sum(c for c, _ in m["bn"]),
    }


def comm_terms(model, n, alpha, beta, sync):
    """(T_grad, T_bn, T_small) in seconds."""
    if n == 1:
        return 0.0, 0.0, 0.0
    s, lg = sends(model), math.log2(n)
    t_grad = 2 * lg * alpha + 2 * (n - 1) / n * s["grad"] / beta
    if sync == "global":
        t_bn = s["gathers"] * lg * alpha + (n - 1) * s["bn"] / beta
    else:
        t_bn = lg * (alpha + s["moving"] / beta)
    return t_grad, t_bn, 2 * lg * alpha


def comm_seconds(model, n, alpha, beta, sync):
    return sum(comm_terms(model, n, alpha, beta, sync))


def compute_ms(bnlab, model, batch):
    out = subprocess.run([bnlab, "bench", "--models", model, "--batch-sizes", str(batch), "--threads", "1",
                          "--steps", "20", "--repeats", "5", "--epoch-repeats", "0", "--json"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)["steps"][0]["ms_per_step"]


def loopback_ms(bnlab, model, n, batch, sync, steps):
    """Time per step of N processes of one thread, from the run's metrics (training only)."""
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    with tempfile.TemporaryDirectory() as d:
        cmd = [bnlab, "train", "--model", model, "--batch-size", str(batch * n), "--threads", "1",
               "--max-steps", str(steps), "--valid", "1", "--bn-sync", sync, "--out", d + "/run", "--json"]
        if n > 1:
            cmd = ["mpirun", "-np", str(n), "--oversubscribe"] + cmd
        out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
        return 1000 * json.loads(out)["train_seconds"] / steps


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bnlab", default="build/bnlab")
    ap.add_argument("--batch", type=int, default=128, help="samples per process")
    ap.add_argument("--models", default="mlp-bn,cnn-bn")
    ap.add_argument("--loopback", default="", help="process counts to run on loopback, e.g. 2,3,4")
    ap.add_argument("--steps", type=int, default=200, help="steps per loopback run")
    a = ap.parse_args()
    for model in a.models.split(","):
        c = compute_ms(a.bnlab, model, a.batch) / 1000
        s = sends(model)
        print(f"\n{model}: c({a.batch}) = {1000 * c:.2f} ms (one process, one thread); per step each rank sends "
              f"{s['grad']:,} B of gradients, {s['bn']:,} B in {s['gathers']} BatchNorm gathers (global), "
              f"or a {s['moving']:,} B broadcast (local)")
        print("| processes | network | T_grad (ms) | T_bn global (ms) | step, global (ms) | efficiency, global | "
              "efficiency, local |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for name, alpha, beta in NETWORKS:
            for n in (8, 64, 512):
                t_grad, t_bn, _ = comm_terms(model, n, alpha, beta, "global")
                g = c + comm_seconds(model, n, alpha, beta, "global")
                loc = c + comm_seconds(model, n, alpha, beta, "local")
                print(f"| {n} | {name} | {1000 * t_grad:.2f} | {1000 * t_bn:.2f} | {1000 * g:.2f} | {100 * c / g:.0f}% "
                      f"| {100 * c / loc:.0f}% |")
        if not a.loopback:
            continue
        print(f"\nloopback, {a.batch} samples per process, one thread each, {a.steps} steps:")
        print("| processes | sync | measured ms/step | model ms/step |")
        print("| --- | --- | --- | --- |")
        for n in [1] + [int(v) for v in a.loopback.split(",")]:
            for sync in (("global", "local") if n > 1 else ("global",)):
                measured = loopback_ms(a.bnlab, model, n, a.batch, sync, a.steps)
                predicted = c * max(1.0, n / CORES) + comm_seconds(model, n, *LOOPBACK, sync)
                print(f"| {n} | {sync} | {measured:.2f} | {1000 * predicted:.2f} |", flush=True)


if __name__ == "__main__":
    main()
