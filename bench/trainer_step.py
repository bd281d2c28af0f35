"""One optimizer step over ResNet-50's parameter set (161 trainable float32 arrays, 25.6 M values, shapes from
mxcy's model zoo resnet50_v1), run by hand in each library with the same thread count:

    python bench/trainer_step.py --lib mxcy --shapes /tmp/resnet50_shapes.json     # writes the shapes first
    /tmp/mxnet-venv/bin/python bench/trainer_step.py --lib mxnet --shapes /tmp/resnet50_shapes.json
    /tmp/torch-venv/bin/python bench/trainer_step.py --lib torch --shapes /tmp/resnet50_shapes.json

mxcy and MXNet time `gluon.Trainer.step` (SGD with momentum 0.9, aggregated by MXNet's rule into multi_* updates of
aggregate_num weights; Adam one adam_update per weight), PyTorch `optim.SGD`/`optim.Adam` with foreach=True. Each
prints one JSON line per optimizer: median ms/step, the bytes every update must move (SGD momentum reads weight,
gradient and momentum and writes weight and momentum: 5 x 4 bytes a value; Adam 7 x 4), the achieved GB/s, and the
memory-bandwidth bound: those bytes over the bandwidth of a NumPy copy of the same size (2 x 4 bytes a value),
timed just before each step (ratio_to_bound is the median over steps of step time / that step's bound).
Set OMP_NUM_THREADS / NUMBA_NUM_THREADS / MXNET_CPU_WORKER_NTHREADS to the same count for every library.
"""
import argparse
import json
import os
import time

import numpy as np

LR = 0.01
BYTES_PER_VALUE = {"sgd": 5 * 4, "adam": 7 * 4}


def resnet50_shapes():
    """The shapes of resnet50_v1's trainable parameters (grad_req not 'null'), in mxcy's model zoo."""
    import mxcy as mx
    net = mx.gluon.model_zoo.vision.resnet50_v1()
    net.initialize()
    net(mx.nd.zeros((1, 3, 224, 224)))
    return [list(p.shape) for p in net.collect_params().values() if p.grad_req != "null"]


def timed(step, sync, n_values, repeats):
    """(step seconds, copy seconds) per repeat after 3 warm-up steps: each step is timed right after a NumPy copy
    of n_values float32 values, so that both see the same load on a shared machine."""
    src, dst = np.random.rand(n_values).astype(np.float32), np.empty(n_values, np.float32)
    steps, copies = [], []
    for k in range(repeats + 3):
        sync()
        t = time.perf_counter()
        np.copyto(dst, src)
        copy = time.perf_counter() - t
        t = time.perf_counter()
        step()
        sync()
        if k >= 3:  # warm-up: compiles, state creation
            steps.append(time.perf_counter() - t)
            copies.append(copy)
    return np.array(steps), np.array(copies)


def gluon_step(mx, shapes, optimizer, kwargs):
    """A Trainer.step over Parameters of `shapes` whose gradients hold random values, and the sync function."""
    params = mx.gluon.ParameterDict()
    for k, shape in enumerate(shapes):
        params.get(f"p{k}", shape=tuple(shape))
    params.initialize(mx.init.Normal(0.01), ctx=mx.cpu())
    rng = np.random.default_rng(0)
    for p in params.values():
        p.grad()[:] = rng.standard_normal(p.shape).astype(np.float32) * 1e-3
    trainer = mx.gluon.Trainer(params, optimizer, dict(kwargs, learning_rate=LR))
    datas = [p.list_data()[0] for p in params.values()]

    def step():
        for d in datas:
            d._fresh_grad = True  # as backward would mark them; the gradients themselves are reused
        trainer.step(1)
    return step, mx.nd.waitall


def torch_step(shapes, optimizer, kwargs):
    import torch
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    params = [torch.nn.Parameter(torch.randn(*s) * 0.01) for s in shapes]
    for p in params:
        p.grad = torch.randn_like(p) * 1e-3
    cls = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}[optimizer]
    return cls(params, lr=LR, foreach=True, **kwargs).step, lambda: None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lib", choices=["mxcy", "mxnet", "torch"], required=True)
    parser.add_argument("--shapes", required=True, help="JSON file of the parameter shapes (mxcy writes it)")
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    if args.lib == "mxcy" and not os.path.exists(args.shapes):
        with open(args.shapes, "w") as f:
            json.dump(resnet50_shapes(), f)
    with open(args.shapes) as f:
        shapes = json.load(f)
    n_values = sum(int(np.prod(s)) for s in shapes)
    cases = {"sgd": ({"momentum": 0.9}, {"momentum": 0.9}), "adam": ({}, {})}
    for optimizer, (gluon_kwargs, torch_kwargs) in cases.items():
        if args.lib == "torch":
            step, sync = torch_step(shapes, optimizer, torch_kwargs)
        else:
            step, sync = gluon_step(__import__(args.lib), shapes, optimizer, gluon_kwargs)
        steps, copies = timed(step, sync, n_values, args.repeats)
        moved = BYTES_PER_VALUE[optimizer] * n_values
        copy_bytes = 2 * 4 * n_values
        bound = moved / copy_bytes * copies  # each step's bound at the bandwidth its own copy reached
        print(json.dumps({"lib": args.lib, "optimizer": optimizer, "arrays": len(shapes), "values": n_values,
                          "ms_per_step": round(float(np.median(steps)) * 1e3, 2),
                          "min_ms": round(float(steps.min()) * 1e3, 2),
                          "GB_per_s": round(moved / float(np.median(steps)) / 1e9, 2),
                          "copy_GB_per_s": round(copy_bytes / float(np.median(copies)) / 1e9, 2),
                          "bound_ms": round(float(np.median(bound)) * 1e3, 2),
                          "ratio_to_bound": round(float(np.median(steps / bound)), 2)}), flush=True)

if __name__ == "__main__":
    main()
