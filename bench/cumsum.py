"""cumsum over 10^7 float32 elements (a flat vector), forward and forward + backward. Run with mxcy or MXNet 1.9.1
(same data from a fixed seed; the checksums printed must agree to float32 rounding):

    python bench/cumsum.py [mxcy|mxnet]
"""
import sys

import numpy as np

from timing import best_of, report

N = 10 ** 7


def run(lib):
    mx = __import__(lib)
    x = mx.nd.array(np.random.RandomState(0).uniform(-1, 1, N), dtype="float32")
    x.attach_grad()
    head = mx.nd.ones((N,))

    def forward():
        mx.nd.cumsum(x).wait_to_read()

    def forward_backward():
        with mx.autograd.record():
            out = mx.nd.cumsum(x)
        out.backward(head)
        x.grad.wait_to_read()

    report(lib, "cumsum 1e7 forward", best_of(forward))
    report(lib, "cumsum 1e7 forward+backward", best_of(forward_backward))
    print(f"{lib:6s} checksums: last {mx.nd.cumsum(x).asnumpy()[-1]:.4f}, gradient {x.grad.asnumpy()[:3]}", flush=True)


if __name__ == "__main__":
    run(sys.argv[1] if len(sys.argv) > 1 else "mxcy")
