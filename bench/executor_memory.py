"""Memory of an Executor training step on ResNet-18 (the MXNet-exported graph in the test fixtures): the
peak resident memory a forward+backward step adds over the bound arrays, against the sum of every
intermediate output (what an executor that keeps each output in its own buffer would hold).
The same script runs on mxcy or on MXNet 1.9.1, whose API it uses:

    python bench/executor_memory.py [batch] [image size]                      # mxcy
    /tmp/mxnet-venv/bin/python bench/executor_memory.py [batch] [size] mxnet  # MXNet 1.9.1
"""
import importlib
import os
import resource
import sys
import time

import numpy as np

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "symbol", "fixtures",
                       "resnet18_v1-symbol.json")


def rss_mib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main():
    batch = int(sys.argv[1]) if len(sys.argv) > 1 else 32
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 224
    mx = importlib.import_module(sys.argv[3] if len(sys.argv) > 3 else "mxcy")
    sym = mx.sym.load(FIXTURE)
    shapes = {"data": (batch, 3, size, size)}
    internals = sym.get_internals()
    _, out_shapes, _ = internals.infer_shape(**shapes)
    inputs = set(sym.list_inputs())
    inter = sum(int(np.prod(s)) * 4 for n, s in zip(internals.list_outputs(), out_shapes) if n not in inputs)
    exe = sym.simple_bind(mx.cpu(), grad_req="write", **shapes)
    rng = np.random.default_rng(0)
    for arr in exe.arg_dict.values():
        arr[:] = rng.standard_normal(arr.shape).astype(np.float32) * 0.05
    for name, arr in exe.aux_dict.items():
        arr[:] = 1.0 if name.endswith("var") else 0.0
    head = mx.nd.ones(exe.outputs[0].shape)
    mx.nd.waitall()
    bound = rss_mib()
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        exe.forward(is_train=True)
        exe.backward([head])
        mx.nd.waitall()
        times.append(time.perf_counter() - t0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - bound
    mib = 2**20
    print(f"{mx.__name__} ResNet-18 training step, batch {batch}, {size}x{size}: best {min(times):.2f} s")
    print(f"  sum of all intermediate outputs:          {inter / mib:8.1f} MiB")
    print(f"  peak resident memory added by the steps:  {peak:8.1f} MiB ({peak * mib / inter:.2f} of that sum)")


if __name__ == "__main__":
    main()
