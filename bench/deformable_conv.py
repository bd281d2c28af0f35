"""contrib.DeformableConvolution on a detection-head-sized input (batch 8, 64 -> 64 channels, 32 x 32, 3x3, pad 1,
offsets up to 2 pixels): forward, and forward + backward of every input. Run with mxcy or MXNet 1.9.1 (same data from
a fixed seed; the checksums printed must agree) with equal threads, e.g. OMP_NUM_THREADS=2 NUMBA_NUM_THREADS=2:

    python bench/deformable_conv.py [mxcy|mxnet]
"""
import sys
import time

import numpy as np

N, C, H, W, O = 8, 64, 32, 32, 64


def run(lib, repeat=5):
    mx = __import__(lib)
    rng = np.random.RandomState(0)
    inputs = [mx.nd.array(rng.rand(N, C, H, W)), mx.nd.array(rng.uniform(-2, 2, (N, 18, H, W))),
              mx.nd.array(rng.randn(O, C, 3, 3) * 0.05), mx.nd.zeros(O)]
    for a in inputs:
        a.attach_grad()

    def step(backward):
        with mx.autograd.record():
            y = mx.nd.contrib.DeformableConvolution(*inputs, kernel=(3, 3), pad=(1, 1), num_filter=O)
        if backward:
            y.backward()
        mx.nd.waitall()
        return y

    for backward in (False, True):
        y = step(backward)  # warm-up (and compilation)
        best = float("inf")
        for _ in range(repeat):
            start = time.perf_counter()
            step(backward)
            best = min(best, time.perf_counter() - start)
        check = float(y.asnumpy().sum()) + (float(inputs[1].grad.asnumpy().sum()) if backward else 0.0)
        print(f"{lib:6s} {'forward + backward' if backward else 'forward':18s} {best * 1e3:8.1f} ms  "
              f"checksum {check:.4g}")


if __name__ == "__main__":
    run(sys.argv[1] if len(sys.argv) > 1 else "mxcy")
