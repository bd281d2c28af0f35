"""CPU kernels side by side: mxcy's Numba kernels, MXNet 1.9.1 (oneDNN) and PyTorch, same shapes,
forward+backward, as GFLOP/s (GB/s for memory-bound ops) and ratios. Each library runs in its own
interpreter (MXNet needs NumPy < 1.24):

    python bench/kernels.py --all [--batch 32] [--mxnet /tmp/mxnet-venv/bin/python]
                                  [--torch /tmp/torch-venv/bin/python]
    python bench/kernels.py --lib mxcy|mxnet|torch     (one library; prints JSON)

Also reports process CPU time / wall time per case, so a contended run shows as < 2.0 on 2 cores.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

PEAK_GFLOPS = 425.0  # FP32 FMA ceiling measured on this machine's 2 cores (issue 3)


def shapes(batch):
    return [
        ("conv3x3 (N,64,56,56)->64", "conv", (batch, 64, 56, 56, 64, 3, 1, 1)),
        ("conv3x3 (N,128,28,28)->128", "conv", (batch, 128, 28, 28, 128, 3, 1, 1)),
        ("conv3x3 (N,256,14,14)->256", "conv", (batch, 256, 14, 14, 256, 3, 1, 1)),
        ("conv7x7/2 (N,3,224,224)->64", "conv", (batch, 3, 224, 224, 64, 7, 2, 3)),
        ("conv1x1 (N,256,56,56)->64", "conv", (batch, 256, 56, 56, 64, 1, 1, 0)),
        ("conv3x3 (2N,64,32,32)->64", "conv", (2 * batch, 64, 32, 32, 64, 3, 1, 1)),
        ("dense (128,4096)->4096", "dense", (128, 4096, 4096)),
        ("batchnorm train (N,64,56,56)", "bn", (batch, 64, 56, 56)),
        ("maxpool 3x3/2 (N,64,112,112)", "pool", (batch, 64, 112, 112)),
    ]


def work(kind, dims):
    """(amount, unit): FLOPs of forward+backward, or bytes moved for memory-bound ops."""
    if kind == "conv":
        n, c, h, w, o, k, s, p = dims
        oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
        return 3 * 2.0 * n * o * oh * ow * c * k * k / 1e9, "GFLOP/s"
    if kind == "dense":
        n, i, o = dims
        return 3 * 2.0 * n * i * o / 1e9, "GFLOP/s"
    if kind == "bn":
        n, c, h, w = dims
        return 5 * 4.0 * n * c * h * w / 1e9, "GB/s"
    n, c, h, w = dims
    oh, ow = (h - 1) // 2 + 1, (w - 1) // 2 + 1
    return (2 * 4.0 * n * c * h * w + 3 * 4.0 * n * c * oh * ow) / 1e9, "GB/s"


def _time(fn, repeat=3):
    fn()
    best, ratio = float("inf"), 0.0
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        if wall < best:
            best, ratio = wall, cpu / wall
    return best, ratio


def mxcy_case(kind, dims, rng):
    from mxcy.kernels import conv_cpu, dense, norm_cpu, pool
    from mxcy.kernels.common import REQ_WRITE
    f32 = np.float32
    if kind == "conv":
        n, c, h, w, o, k, s, p = dims
        oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
        x, wt = rng.standard_normal((n, c, h, w)).astype(f32), rng.standard_normal((o, c, k, k)).astype(f32)
        dy, b = rng.standard_normal((n, o, oh, ow)).astype(f32), np.zeros(o, f32)
        out, dx, dw = np.empty((n, o, oh, ow), f32), np.empty_like(x), np.empty_like(wt)
        a = ((s, s), (p, p), (1, 1), 1)
        return lambda: (conv_cpu.conv_fwd_cpu(x, wt, b, out, REQ_WRITE, *a),
                        conv_cpu.conv_bwd_data_cpu(dy, wt, dx, REQ_WRITE, *a),
                        conv_cpu.conv_bwd_weight_cpu(x, dy, dw, REQ_WRITE, *a))
    if kind == "dense":
        n, i, o = dims
        x, wt, dy = (rng.standard_normal(s).astype(f32) for s in ((n, i), (o, i), (n, o)))
        b, out = np.zeros(o, f32), np.empty((n, o), f32)
        dx, dw, db = np.empty_like(x), np.empty_like(wt), np.empty_like(b)
        return lambda: (dense.fc_fwd_cpu(x, wt, b, out, REQ_WRITE),
                        dense.fc_bwd_cpu(dy, x, wt, dx, dw, db, REQ_WRITE, REQ_WRITE, REQ_WRITE))
    if kind == "bn":
        n, c, h, w = dims
        x, dy = (rng.standard_normal((n, c, h * w)).astype(f32) for _ in range(2))
        g, bt, mm, mv = np.ones(c, f32), np.zeros(c, f32), np.zeros(c, f32), np.ones(c, f32)
        out, dx = np.empty_like(x), np.empty_like(x)
        mean, inv, dg, db = (np.empty(c, f32) for _ in range(4))
        return lambda: (norm_cpu.batch_norm_fwd_cpu(x, g, bt, mm, mv, out, mean, inv, 1e-3, False, False,
                                                    REQ_WRITE),
                        norm_cpu.batch_norm_bwd_cpu(dy, x, g, mean, inv, mm, mv, dx, dg, db, 1e-3, 0.9, False,
                                                    False, True, REQ_WRITE, REQ_WRITE, REQ_WRITE))
    n, c, h, w = dims
    oh, ow = (h - 1) // 2 + 1, (w - 1) // 2 + 1
    x = rng.standard_normal((n * c, 1, h, w)).astype(f32)
    out, dy, dx = np.empty((n * c, 1, oh, ow), f32), rng.standard_normal((n * c, 1, oh, ow)).astype(f32), \
        np.empty_like(x)
    kw = ((1, 3, 3), (1, 2, 2), (0, 1, 1), pool.POOL_TYPES["max"], True, 2.0, REQ_WRITE)
    return lambda: (pool.pool_fwd_cpu(x, out, *kw), pool.pool_bwd_cpu(dy, x, out, dx, *kw))


def mxnet_case(kind, dims, rng):
    import mxnet as mx

    def run(forward, arrays, dy):
        for a in arrays:
            a.attach_grad()

        def step():
            with mx.autograd.record():
                y = forward()
            y.backward(dy)
            mx.nd.waitall()
        return step
    nd = lambda s: mx.nd.array(rng.standard_normal(s).astype(np.float32))  # noqa: E731
    if kind == "conv":
        n, c, h, w, o, k, s, p = dims
        oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
        x, wt = nd((n, c, h, w)), nd((o, c, k, k))
        return run(lambda: mx.nd.Convolution(x, wt, kernel=(k, k), stride=(s, s), pad=(p, p), num_filter=o,
                                             no_bias=True), [x, wt], nd((n, o, oh, ow)))
    if kind == "dense":
        n, i, o = dims
        x, wt, b = nd((n, i)), nd((o, i)), nd((o,))
        return run(lambda: mx.nd.FullyConnected(x, wt, b, num_hidden=o), [x, wt, b], nd((n, o)))
    if kind == "bn":
        n, c, h, w = dims
        x, g, b = nd((n, c, h, w)), mx.nd.ones(c), mx.nd.zeros(c)
        mm, mv = mx.nd.zeros(c), mx.nd.ones(c)
        return run(lambda: mx.nd.BatchNorm(x, g, b, mm, mv, fix_gamma=False), [x, g, b], nd((n, c, h, w)))
    n, c, h, w = dims
    x = nd((n, c, h, w))
    return run(lambda: mx.nd.Pooling(x, kernel=(3, 3), stride=(2, 2), pad=(1, 1), pool_type="max"),
               [x], nd((n, c, (h - 1) // 2 + 1, (w - 1) // 2 + 1)))


def torch_case(kind, dims, rng):
    import torch
    torch.set_num_threads(os.cpu_count())
    F = torch.nn.functional
    t = lambda s, g=True: torch.tensor(rng.standard_normal(s).astype(np.float32), requires_grad=g)  # noqa: E731
    if kind == "conv":
        n, c, h, w, o, k, s, p = dims
        oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
        x, wt, dy = t((n, c, h, w)), t((o, c, k, k)), t((n, o, oh, ow), False)
        return lambda: F.conv2d(x, wt, stride=s, padding=p).backward(dy)
    if kind == "dense":
        n, i, o = dims
        x, wt, b, dy = t((n, i)), t((o, i)), t((o,)), t((n, o), False)
        return lambda: F.linear(x, wt, b).backward(dy)
    if kind == "bn":
        n, c, h, w = dims
        x, dy, bn = t((n, c, h, w)), t((n, c, h, w), False), torch.nn.BatchNorm2d(c)
        return lambda: bn(x).backward(dy)
    n, c, h, w = dims
    x, dy = t((n, c, h, w)), t((n, c, (h - 1) // 2 + 1, (w - 1) // 2 + 1), False)
    return lambda: F.max_pool2d(x, 3, 2, 1).backward(dy)


def run_lib(lib, batch):
    make = {"mxcy": mxcy_case, "mxnet": mxnet_case, "torch": torch_case}[lib]
    rng = np.random.default_rng(0)
    results = {}
    for name, kind, dims in shapes(batch):
        amount, unit = work(kind, dims)
        seconds, cpu_ratio = _time(make(kind, dims, rng))
        results[name] = {"rate": amount / seconds, "unit": unit, "cpu_per_wall": cpu_ratio}
    return results


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lib")
    parser.add_argument("--all", action="store_true")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--mxnet", default="/tmp/mxnet-venv/bin/python")
    parser.add_argument("--torch", default="/tmp/torch-venv/bin/python")
    args = parser.parse_args()
    if args.lib:
        print(json.dumps(run_lib(args.lib, args.batch)))
        return
    here = os.path.dirname(os.path.abspath(__file__))
    # Same thread count for all: MXNet's OpenMP default halves the logical cores.
    env = dict(os.environ, PYTHONPATH=os.path.dirname(here), OMP_NUM_THREADS=str(os.cpu_count()))
    table = {}
    for lib, python in (("mxcy", sys.executable), ("mxnet", args.mxnet), ("torch", args.torch)):
        out = subprocess.run([python, __file__, "--lib", lib, "--batch", str(args.batch)],
                             capture_output=True, text=True, env=env, check=True)
        table[lib] = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"| case (batch {args.batch}) | mxcy | MXNet 1.9.1 | PyTorch | mxcy/MXNet | mxcy/PyTorch | "
          f"% of FP32 peak | CPU/wall (mxcy, MXNet, torch) |")
    print("|---|---|---|---|---|---|---|---|")
    for name in table["mxcy"]:
        ours, mxn, tch = table["mxcy"][name], table["mxnet"][name], table["torch"][name]
        peak = f"{100 * ours['rate'] / PEAK_GFLOPS:.0f}%" if ours["unit"] == "GFLOP/s" else "-"
        print(f"| {name} | {ours['rate']:.1f} {ours['unit']} | {mxn['rate']:.1f} | {tch['rate']:.1f} | "
              f"{ours['rate'] / mxn['rate']:.2f} | {ours['rate'] / tch['rate']:.2f} | {peak} | "
              f"{ours['cpu_per_wall']:.2f}, {mxn['cpu_per_wall']:.2f}, {tch['cpu_per_wall']:.2f} |")


if __name__ == "__main__":
    main()
