"""Per-op cost of a tiny imperative op (1-element `a + b`, 10,000 calls, then waitall), plain and
under autograd.record(). Run with any of mxcy, MXNet 1.9.1, PyTorch or NumPy:

    python bench/nd_overhead.py [mxcy|mxnet|torch|numpy]
"""
import sys
import time

N = 10_000


def _timeit(step, sync, repeat=5):
    best = float("inf")
    for _ in range(repeat):
        sync()
        start = time.perf_counter()
        for _ in range(N):
            step()
        sync()
        best = min(best, time.perf_counter() - start)
    return best / N * 1e6


def run(lib):
    if lib in ("mxcy", "mxnet"):
        mx = __import__(lib)
        a, b = mx.nd.ones((1,)), mx.nd.ones((1,))
        plain = _timeit(lambda: a + b, mx.nd.waitall)
        a.attach_grad()
        rec = mx.autograd.record()
        rec.__enter__()
        recorded = _timeit(lambda: a + b, mx.nd.waitall)
        rec.__exit__(None, None, None)
        return plain, recorded
    if lib == "torch":
        import torch
        torch.set_num_threads(2)
        a, b = torch.ones(1), torch.ones(1)
        plain = _timeit(lambda: a + b, lambda: None)
        a.requires_grad_(True)
        return plain, _timeit(lambda: a + b, lambda: None)
    import numpy as np
    a, b = np.ones(1, np.float32), np.ones(1, np.float32)
    return _timeit(lambda: a + b, lambda: None), float("nan")


if __name__ == "__main__":
    lib = sys.argv[1] if len(sys.argv) > 1 else "mxcy"
    plain, recorded = run(lib)
    print(f"{lib}: a+b {plain:.2f} us/op, recording {recorded:.2f} us/op")
