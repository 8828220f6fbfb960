#!/usr/bin/env python3
"""bnlab against PyTorch on the same machine, the same data and the same protocol, run alternately
in one go so that both see the same machine state; prints medians and the ratio per workload.

  /usr/bin/python3 bench/compare_torch.py [--bnlab build/bnlab] [--repeats 3] [--full]
  /usr/bin/python3 bench/compare_torch.py --conv [--accuracy] [--repeats 3]

PyTorch is tuned fairly: torch threads = cores, BLAS threads 1 (no oversubscription). Workloads
(one epoch = the 55,000 training images, shuffled, Adam lr 1e-3): mlp-bn at batch 64, mlp at
batch 32, mlp at batch 64 (for the BN overhead); BatchNorm forward+backward on 256 x 4096 (also
alternated, once per repeat); with --full, the whole protocol of `bnlab compare` on both sides
(30 epochs of mlp at batch 32 and 15 of mlp-bn at 64, each with validation, then test evaluation),
with each side's seconds per epoch over the whole run: the epochs a user waits for, not only fresh
ones (subnormal floats appear as training goes on; docs/performance.md).
With --conv, the conv nets instead: one epoch of cnn and of cnn-bn at batch 128 on each side (bnlab
through `bnlab train --epochs 1`, its epoch time from the run's history; both sides' epoch times
include evaluating the 5,000 validation images, as bnlab's epochs do), with each side's BN overhead
(cnn-bn over cnn); --accuracy adds each side's test accuracy after 2 epochs of each model.
Each repeat prints its own times (PyTorch / bnlab) and ratios, and the time to hand 200 KB from
one thread to the other (bench_kernels' BM_Handoff) measured before it: about twice the usual value
marks a repeat in which the two cores did not share their caches (docs/performance.md).
Not part of CI: it needs Debian's python3-torch.
"""
import argparse, gzip, json, os, statistics, subprocess, sys, tempfile, time

CORES = os.cpu_count() or 1
for var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "GOTO_NUM_THREADS"):
    os.environ[var] = "1"
os.environ["OMP_NUM_THREADS"] = str(CORES)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

torch.set_num_threads(CORES)
CONV_BATCH, CONV_ACCURACY_EPOCHS = 128, 2


def idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    rank = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * rank).reshape(dims)


def find(root, name):
    for candidate in (os.path.join(root, name), os.path.join(root, name + ".gz")):
        if os.path.exists(candidate):
            return candidate
    sys.exit(f"compare_torch: {name} not in {root}; run `bnlab data fetch` first")


def load_mnist():
    root = os.environ.get("BNLAB_DATA") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "bnlab")
    root = os.path.join(root, "mnist")
    x = torch.from_numpy(idx(find(root, "train-images-idx3-ubyte")).astype(np.float32) / 255.0)
    y = torch.from_numpy(idx(find(root, "train-labels-idx1-ubyte")).astype(np.int64))
    xt = torch.from_numpy(idx(find(root, "t10k-images-idx3-ubyte")).astype(np.float32) / 255.0)
    yt = torch.from_numpy(idx(find(root, "t10k-labels-idx1-ubyte")).astype(np.int64))
    return (x[5000:], y[5000:]), (x[:5000], y[:5000]), (xt, yt)


def model(bn):
    if bn:
        return nn.Sequential(nn.Flatten(), nn.BatchNorm1d(784, eps=1e-3, momentum=0.01), nn.Linear(784, 256), nn.ReLU(),
                             nn.BatchNorm1d(256, eps=1e-3, momentum=0.01), nn.Linear(256, 128), nn.ReLU(),
                             nn.BatchNorm1d(128, eps=1e-3, momentum=0.01), nn.Linear(128, 10))
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))


def conv_model(bn):
    """Keras's mnist_convnet (bnlab's cnn) and, with bn, the same with BatchNorm2d between each
    convolution and its ReLU (bnlab's cnn-bn), Keras's BN settings."""
    def block(c_in, c_out):
        norm = [nn.BatchNorm2d(c_out, eps=1e-3, momentum=0.01)] if bn else []
        return [nn.Conv2d(c_in, c_out, 3), *norm, nn.ReLU(), nn.MaxPool2d(2)]
    return nn.Sequential(*block(1, 32), *block(32, 64), nn.Flatten(), nn.Dropout(0.5), nn.Linear(1600, 10))


def train_epoch(m, opt, x, y, batch, generator):
    m.train()
    order = torch.randperm(len(x), generator=generator)
    for i in range(0, len(x), batch):
        idx_ = order[i:i + batch]
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(m(x[idx_]), y[idx_]).backward()
        opt.step()


@torch.no_grad()
def evaluate(m, x, y, batch=32):
    m.eval()
    correct, loss = 0, 0.0
    for i in range(0, len(x), batch):
        out = m(x[i:i + batch])
        loss += F.cross_entropy(out, y[i:i + batch], reduction="sum").item()
        correct += (out.argmax(1) == y[i:i + batch]).sum().item()
    return loss / len(x), correct / len(x)


def torch_epoch_seconds(train, bn, batch, seed):
    torch.manual_seed(seed)
    m = model(bn)
    opt = torch.optim.Adam(m.parameters(), lr=1e-3, eps=1e-7)
    t0 = time.perf_counter()
    train_epoch(m, opt, *train, batch, torch.Generator().manual_seed(seed))
    return time.perf_counter() - t0


def torch_batchnorm_ms(reps=200):
    x = torch.randn(256, 4096, requires_grad=True)
    bn = nn.BatchNorm1d(4096)
    dy = torch.randn(256, 4096)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        y = bn(x)
        y.backward(dy)
        times.append(time.perf_counter() - t0)
    return statistics.median(times[10:]) * 1000


def torch_full_protocol(train, valid, test):
    """Wall seconds, test accuracy per model, and seconds per epoch (validation included) per model."""
    t0 = time.perf_counter()
    accs, epochs_s = {}, {}
    for bn, epochs, batch in ((False, 30, 32), (True, 15, 64)):
        name = "mlp-bn" if bn else "mlp"
        torch.manual_seed(1)
        m = model(bn)
        opt = torch.optim.Adam(m.parameters(), lr=1e-3, eps=1e-7)
        g = torch.Generator().manual_seed(1)
        epochs_s[name] = []
        for _ in range(epochs):
            e0 = time.perf_counter()
            train_epoch(m, opt, *train, batch, g)
            evaluate(m, *valid)
            epochs_s[name].append(time.perf_counter() - e0)
        accs[name] = evaluate(m, *test)[1]
    return time.perf_counter() - t0, accs, epochs_s


def print_epochs(name, torch_s, bnlab_s):
    """Both sides' seconds per epoch, and how the last five epochs compare with the first five."""
    print(f"{name} seconds per epoch (torch / bnlab):")
    for i, (t, b) in enumerate(zip(torch_s, bnlab_s)):
        print(f"  epoch {i + 1:>2}: {t:7.3f} / {b:6.3f}  {t / b:5.2f}x")
    if len(bnlab_s) >= 10:
        late = lambda s: statistics.mean(s[-5:]) / statistics.mean(s[:5])
        print(f"  mean of the last 5 epochs over the first 5: torch {late(torch_s):.2f}, bnlab {late(bnlab_s):.2f}")


def bnlab_json(bnlab, *args):
    p = subprocess.run([bnlab, *args, "--json"], capture_output=True, text=True, check=True)
    return json.loads(p.stdout)


def images(split):
    """(N, 28, 28) images as (N, 1, 28, 28) for the convolutions."""
    return split[0].unsqueeze(1), split[1]


def torch_conv_run(train, valid, test, name, epochs, seed):
    """Seconds of each epoch (training, then evaluating valid, at batch 128, as bnlab's epochs do)
    and the test accuracy after them (None without a test set)."""
    torch.manual_seed(seed)
    m = conv_model(name == "cnn-bn")
    opt = torch.optim.Adam(m.parameters(), lr=1e-3, eps=1e-7)
    g = torch.Generator().manual_seed(seed)
    seconds = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        train_epoch(m, opt, *train, CONV_BATCH, g)
        evaluate(m, *valid, CONV_BATCH)
        seconds.append(time.perf_counter() - t0)
    return seconds, evaluate(m, *test, CONV_BATCH)[1] if test else None


def bnlab_conv_run(bnlab, name, epochs, seed):
    """bnlab train's seconds per epoch (from its history) and test accuracy."""
    with tempfile.TemporaryDirectory(prefix="bnlab-compare-torch-") as out:
        doc = bnlab_json(bnlab, "train", "--model", name, "--epochs", str(epochs), "--batch-size", str(CONV_BATCH),
                         "--threads", str(CORES), "--seed", str(seed), "--out", os.path.join(out, "run"))
    return [e["seconds"] for e in doc["history"]], doc["test"]["accuracy"]


def compare_conv(a, train, valid, test):
    """--conv: one epoch of cnn and cnn-bn on each side, alternated, medians of a.repeats."""
    train, valid, test = images(train), images(valid), images(test)
    names = ("cnn", "cnn-bn")
    t_times = {n: [] for n in names}
    b_times = {n: [] for n in names}
    for r in range(a.repeats):
        for n in names:
            t_times[n].append(torch_conv_run(train, valid, None, n, 1, seed=r + 1)[0][0])
        handoff = handoff_us(a.bench_kernels)
        for n in names:
            b_times[n].append(bnlab_conv_run(a.bnlab, n, 1, seed=r + 1)[0][0])
        ratios = ", ".join(f"{n} {t_times[n][-1]:.2f} / {b_times[n][-1]:.2f} s = {t_times[n][-1] / b_times[n][-1]:.2f}x"
                           for n in names)
        over = lambda times: 100 * (times["cnn-bn"][-1] / times["cnn"][-1] - 1)  # noqa: E731
        hand = f"handoff {handoff:.1f} us; " if handoff else ""
        print(f"  repeat {r + 1}/{a.repeats}: {hand}{ratios}; BN overhead torch {over(t_times):+.1f}%, "
              f"bnlab {over(b_times):+.1f}%", flush=True)
    print(f"\n{'workload':<32} {'torch s':>9} {'bnlab s':>9} {'speed-up':>9}")
    for n in names:
        t, b = statistics.median(t_times[n]), statistics.median(b_times[n])
        print(f"{n + ' batch ' + str(CONV_BATCH) + ', one epoch':<32} {t:>9.3f} {b:>9.3f} {t / b:>8.2f}x")
    for side, times in (("torch", t_times), ("bnlab", b_times)):
        over = statistics.median(times["cnn-bn"]) / statistics.median(times["cnn"]) - 1
        print(f"BN overhead, cnn-bn over cnn ({side}): {100 * over:+.1f}%")
    if a.accuracy:
        print(f"\ntest accuracy after {CONV_ACCURACY_EPOCHS} epochs (seed 1):", flush=True)
        for n in names:
            t_acc = torch_conv_run(train, valid, test, n, CONV_ACCURACY_EPOCHS, seed=1)[1]
            b_acc = bnlab_conv_run(a.bnlab, n, CONV_ACCURACY_EPOCHS, seed=1)[1]
            print(f"  {n:<8} torch {100 * t_acc:.2f}%, bnlab {100 * b_acc:.2f}%", flush=True)


def bnlab_epochs(bnlab):
    """Seconds per epoch by (model, batch)."""
    doc = bnlab_json(bnlab, "bench", "--models", "mlp", "--batch-sizes", "32", "--steps", "1", "--repeats", "1",
                     "--threads", str(CORES), "--epoch-repeats", "1")
    return {(e["model"], e["batch"]): e["seconds"] for e in doc["epochs"] if e["regime"] == "fresh"}


def handoff_us(bench_kernels):
    """Microseconds to hand 200 KB from one thread to another; None on one core."""
    if CORES < 2:
        return None
    p = subprocess.run([bench_kernels, "--benchmark_filter=BM_Handoff/1/", "--benchmark_format=json"],
                       capture_output=True, text=True, check=True)
    runs = [b for b in json.loads(p.stdout)["benchmarks"] if "handoff" in b]
    return runs[0]["handoff"] * 1e6 if runs else None


def bnlab_batchnorm_ms(bench_kernels):
    env = dict(os.environ, BNLAB_THREADS=str(CORES))
    p = subprocess.run([bench_kernels, "--benchmark_filter=BM_BatchNormTrain/256/4096", "--benchmark_format=json",
                        "--benchmark_repetitions=5"], capture_output=True, text=True, check=True, env=env)
    runs = [b for b in json.loads(p.stdout)["benchmarks"] if b.get("run_type") == "iteration"]
    return statistics.median(b["real_time"] for b in runs) / 1e6  # ns -> ms


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bnlab", default="build/bnlab")
    ap.add_argument("--bench-kernels", default="build/bench/bench_kernels")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--full", action="store_true", help="also time the whole protocol of bnlab compare (about 2 minutes for torch)")
    ap.add_argument("--conv", action="store_true",
                    help="time the conv nets cnn and cnn-bn at batch 128 instead of the MLPs (about 100 s a repeat on 2 cores)")
    ap.add_argument("--accuracy", action="store_true",
                    help="with --conv, also give each side's test accuracy after 2 epochs of each model (about 4 minutes on 2 cores)")
    a = ap.parse_args()
    if a.accuracy and not a.conv:
        ap.error("--accuracy: needs --conv")
    if a.full and a.conv:
        ap.error("--full: times the MLPs' protocol, not with --conv")
    train, valid, test = load_mnist()
    print(f"{CORES} cores; torch {torch.__version__} with {torch.get_num_threads()} threads, BLAS threads 1")
    if a.conv:
        compare_conv(a, train, valid, test)
        return
    workloads = [("mlp-bn", True, 64), ("mlp", False, 32), ("mlp", False, 64)]
    t_times = {w: [] for w in workloads}
    b_times = {w: [] for w in workloads}
    t_bn, b_bn = [], []
    for r in range(a.repeats):  # alternate: each repeat runs both, so both see the same machine state
        for w in workloads:
            t_times[w].append(torch_epoch_seconds(train, w[1], w[2], seed=r + 1))
        handoff = handoff_us(a.bench_kernels)
        got = bnlab_epochs(a.bnlab)
        for w in workloads:
            b_times[w].append(got[(w[0], w[2])])
        t_bn.append(torch_batchnorm_ms())
        b_bn.append(bnlab_batchnorm_ms(a.bench_kernels))
        ratios = ", ".join(f"{w[0]} {w[2]} {t_times[w][-1]:.3f} / {b_times[w][-1]:.3f} s = "
                           f"{t_times[w][-1] / b_times[w][-1]:.2f}x" for w in workloads[:2])
        over = b_times[workloads[0]][-1] / b_times[workloads[2]][-1] - 1
        hand = f"handoff {handoff:.1f} us; " if handoff else ""
        print(f"  repeat {r + 1}/{a.repeats}: {hand}{ratios}; BN overhead {100 * over:+.1f}%; "
              f"BatchNorm {t_bn[-1] / b_bn[-1]:.2f}x")
    print(f"\n{'workload':<32} {'torch s':>9} {'bnlab s':>9} {'speed-up':>9}")
    for w in workloads:
        t, b = statistics.median(t_times[w]), statistics.median(b_times[w])
        print(f"{w[0] + ' batch ' + str(w[2]) + ', one epoch':<32} {t:>9.3f} {b:>9.3f} {t / b:>8.2f}x")
    for name, times in (("torch", t_times), ("bnlab", b_times)):
        over = statistics.median(times[workloads[0]]) / statistics.median(times[workloads[2]]) - 1
        print(f"BN overhead at batch 64 ({name}): {100 * over:+.1f}%")
    t_bn, b_bn = statistics.median(t_bn), statistics.median(b_bn)
    print(f"{'BatchNorm fwd+bwd 256x4096':<32} {t_bn:>8.3f}ms {b_bn:>8.3f}ms {t_bn / b_bn:>8.2f}x")
    if a.full:
        t_full, accs, t_epochs = torch_full_protocol(train, valid, test)
        out = "/tmp/bnlab-compare-torch-full"
        subprocess.run(["rm", "-rf", out], check=True)
        t0 = time.perf_counter()
        doc = bnlab_json(a.bnlab, "compare", "--out", out)
        b_full = time.perf_counter() - t0
        for name in ("mlp", "mlp-bn"):
            print_epochs(name, t_epochs[name], [e["seconds"] for e in doc[name]["history"]])
        print(f"{'bnlab compare, whole protocol':<32} {t_full:>9.1f} {b_full:>9.1f} {t_full / b_full:>8.2f}x")
        print(f"test accuracy torch: mlp {accs['mlp']:.4f}, mlp-bn {accs['mlp-bn']:.4f}; "
              f"bnlab: mlp {doc['mlp']['test']['accuracy']:.4f}, mlp-bn {doc['mlp-bn']['test']['accuracy']:.4f}")


if __name__ == "__main__":
    main()
