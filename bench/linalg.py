"""Batched linalg.potrf (Cholesky) and linalg.trsm (triangular solve with as many right-hand sides as rows):
256 matrices of 64 x 64 and 32 of 256 x 256, float32, forward and forward + backward. Run with mxcy or MXNet 1.9.1
(same data from a fixed seed; the checksums printed must agree):

    python bench/linalg.py [mxcy|mxnet]
"""
import sys

import numpy as np

from timing import best_of, report

CASES = ((256, 64), (32, 256))


def spd_and_factor(batch, n):
    """SPD matrices M M^T / n + I, their lower Cholesky factors (float64 NumPy), and right-hand sides."""
    rng = np.random.RandomState(0)
    m = rng.standard_normal((batch, n, n))
    spd = m @ np.swapaxes(m, -1, -2) / n + np.eye(n)
    return spd, np.linalg.cholesky(spd), rng.standard_normal((batch, n, n))


def run(lib):
    mx = __import__(lib)
    for batch, n in CASES:
        spd, chol, rhs = (mx.nd.array(a, dtype="float32") for a in spd_and_factor(batch, n))
        for x in (spd, chol, rhs):
            x.attach_grad()
        head = mx.nd.ones((batch, n, n))
        ops = {"potrf": (lambda: mx.nd.linalg.potrf(spd), (spd,)),
               "trsm": (lambda: mx.nd.linalg.trsm(chol, rhs), (chol, rhs))}
        for name, (op, wrt) in ops.items():
            def forward():
                op().wait_to_read()

            def forward_backward():
                with mx.autograd.record():
                    out = op()
                out.backward(head)
                for x in wrt:
                    x.grad.wait_to_read()
            report(lib, f"{name} {batch}x{n}x{n} forward", best_of(forward))
            report(lib, f"{name} {batch}x{n}x{n} forward+backward", best_of(forward_backward))
            print(f"{lib:6s} {name} {batch}x{n}x{n} checksums: output {op().asnumpy().astype(np.float64).sum():.4f}, "
                  f"gradient {wrt[0].grad.asnumpy().astype(np.float64).sum():.4f}", flush=True)


if __name__ == "__main__":
    run(sys.argv[1] if len(sys.argv) > 1 else "mxcy")
