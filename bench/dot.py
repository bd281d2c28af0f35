"""GFLOP/s of a large float32 matrix product (n x n x n), mxcy against MXNet, PyTorch and NumPy.

    python bench/dot.py [mxcy|mxnet|torch|numpy] [n]
"""
import os
import sys
import time


def _best(step, sync, repeat=5):
    step()
    sync()
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        step()
        sync()
        best = min(best, time.perf_counter() - start)
    return best


def run(lib, n):
    import numpy as np
    a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    b = np.random.default_rng(1).standard_normal((n, n)).astype(np.float32)
    if lib in ("mxcy", "mxnet"):
        mx = __import__(lib)
        x, y = mx.nd.array(a), mx.nd.array(b)
        seconds = _best(lambda: mx.nd.dot(x, y), mx.nd.waitall)
    elif lib == "torch":
        import torch
        torch.set_num_threads(os.cpu_count())
        x, y = torch.from_numpy(a), torch.from_numpy(b)
        seconds = _best(lambda: x @ y, lambda: None)
    else:
        seconds = _best(lambda: a @ b, lambda: None)
    return 2 * n ** 3 / seconds / 1e9


if __name__ == "__main__":
    lib = sys.argv[1] if len(sys.argv) > 1 else "mxcy"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 2048
    print(f"{lib}: dot {n}x{n}x{n} float32 {run(lib, n):.1f} GFLOP/s")
