"""Peak memory of an Executor training step on ResNet-18 (the MXNet-exported graph in the test fixtures)
against the sum of every intermediate output, i.e. what a planner-less executor that keeps all of them
would hold. Run by hand: python bench/executor_memory.py [batch] [image size]

NumPy reports its buffers to tracemalloc, so the traced peak covers every array the step allocates.
"""
import os
import sys
import time
import tracemalloc

import numpy as np

import mxcy as mx

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "tests", "symbol", "fixtures", "resnet18_v1-symbol.json")


def main():
    batch = int(sys.argv[1]) if len(sys.argv) > 1 else 32
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 224
    sym = mx.sym.load(FIXTURE)
    shapes = {"data": (batch, 3, size, size)}
    internals = sym.get_internals()
    _, out_shapes, _ = internals.infer_shape(**shapes)
    arg_names = set(sym.list_inputs())
    inter = sum(int(np.prod(s)) * 4 for n, s in zip(internals.list_outputs(), out_shapes) if n not in arg_names)
    exe = sym.simple_bind(mx.cpu(), grad_req="write", **shapes)
    rng = np.random.default_rng(0)
    for name, arr in exe.arg_dict.items():
        arr[:] = rng.standard_normal(arr.shape).astype(np.float32) * 0.05
    for name, arr in exe.aux_dict.items():
        arr[:] = 1.0 if name.endswith("var") else 0.0
    bound = sum(a.size * 4 for a in list(exe.arg_dict.values()) + list(exe.grad_dict.values())
                + list(exe.aux_dict.values()))
    head = mx.nd.ones(exe.outputs[0].shape)
    exe.forward(is_train=True)
    exe.backward([head])
    mx.nd.waitall()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    t0 = time.perf_counter()
    exe.forward(is_train=True)
    exe.backward([head])
    mx.nd.waitall()
    elapsed = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    mib = 1 << 20
    print(f"ResNet-18 training step, batch {batch}, {size}x{size}: {elapsed:.2f} s")
    print(f"  bound arrays (args, grads, aux):      {bound / mib:8.1f} MiB")
    print(f"  sum of all intermediate outputs:      {inter / mib:8.1f} MiB")
    print(f"  peak allocated during forward+backward: {peak / mib:8.1f} MiB "
          f"({peak / inter:.2f} of the intermediates' sum)")


if __name__ == "__main__":
    main()
