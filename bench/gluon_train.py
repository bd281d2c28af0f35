"""Training-step throughput of Gluon models, run by hand: LeNet-5 (batch 128, 1x28x28), a CIFAR ResNet-18
(batch 64, 3x32x32), imperative and hybridized, and the per-call cost of a 20-layer Dense(16) MLP at batch 1.

    python bench/gluon_train.py --lib mxcy            # in mxcy's venv
    /tmp/mxnet-venv/bin/python bench/gluon_train.py --lib mxnet
    /tmp/torch-venv/bin/python bench/gluon_train.py --lib torch

A step is forward, backward and a plain SGD update written the same way in each library (w -= lr * g per
parameter). Set the same thread count for all (OMP_NUM_THREADS, MXNET_CPU_WORKER_NTHREADS,
NUMBA_NUM_THREADS); each prints one JSON line per case.
"""
import argparse
import json
import time

import numpy as np

LR = 0.01


def gluon_models(mx):
    nn = mx.gluon.nn

    def lenet():
        net = nn.HybridSequential()
        with net.name_scope():
            net.add(nn.Conv2D(6, 5, padding=2, activation="relu"), nn.MaxPool2D(2, 2),
                    nn.Conv2D(16, 5, activation="relu"), nn.MaxPool2D(2, 2), nn.Flatten(),
                    nn.Dense(120, activation="relu"), nn.Dense(84, activation="relu"), nn.Dense(10))
        return net

    class Residual(nn.HybridBlock):
        def __init__(self, channels, stride, **kwargs):
            super().__init__(**kwargs)
            with self.name_scope():
                self.body = nn.HybridSequential()
                self.body.add(nn.Conv2D(channels, 3, stride, 1, use_bias=False), nn.BatchNorm(),
                              nn.Activation("relu"), nn.Conv2D(channels, 3, 1, 1, use_bias=False),
                              nn.BatchNorm())
                self.down = None
                if stride != 1:
                    self.down = nn.HybridSequential()
                    self.down.add(nn.Conv2D(channels, 1, stride, use_bias=False), nn.BatchNorm())

        def hybrid_forward(self, F, x):
            skip = self.down(x) if self.down is not None else x
            return F.relu(self.body(x) + skip)

    def resnet18():
        net = nn.HybridSequential()
        with net.name_scope():
            net.add(nn.Conv2D(64, 3, 1, 1, use_bias=False), nn.BatchNorm(), nn.Activation("relu"))
            for channels, stride in ((64, 1), (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1)):
                net.add(Residual(channels, stride))
            net.add(nn.GlobalAvgPool2D(), nn.Flatten(), nn.Dense(10))
        return net

    def mlp():
        net = nn.HybridSequential()
        with net.name_scope():
            for _ in range(20):
                net.add(nn.Dense(16, activation="relu"))
        return net

    return {"lenet": lenet, "resnet18": resnet18, "mlp20": mlp}


def run_gluon(mx, case, shape, hybridize, steps):
    net = gluon_models(mx)[case]()
    net.initialize(mx.init.Xavier())
    if hybridize:
        net.hybridize(static_alloc=True, static_shape=True)
    rng = np.random.default_rng(0)
    x = mx.nd.array(rng.standard_normal(shape).astype(np.float32))
    y = mx.nd.array(rng.integers(0, 10, shape[0]).astype(np.float32))
    loss_fn = mx.gluon.loss.SoftmaxCrossEntropyLoss()
    params = [p for p in net.collect_params().values() if p.grad_req != "null"]

    def step():
        with mx.autograd.record():
            out = net(x)
            loss = loss_fn(out, y) if case != "mlp20" else out.sum()
        loss.backward()
        for p in params:
            p.data()[:] -= LR * p.grad()
    step()
    mx.nd.waitall()
    return timed(step, lambda: mx.nd.waitall(), steps)


def torch_models(torch):
    nn = torch.nn

    def lenet():
        return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2, 2), nn.Conv2d(6, 16, 5),
                             nn.ReLU(), nn.MaxPool2d(2, 2), nn.Flatten(), nn.Linear(400, 120), nn.ReLU(),
                             nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))

    class Residual(nn.Module):
        def __init__(self, cin, channels, stride):
            super().__init__()
            self.body = nn.Sequential(nn.Conv2d(cin, channels, 3, stride, 1, bias=False), nn.BatchNorm2d(channels),
                                      nn.ReLU(), nn.Conv2d(channels, channels, 3, 1, 1, bias=False),
                                      nn.BatchNorm2d(channels))
            self.down = nn.Sequential(nn.Conv2d(cin, channels, 1, stride, bias=False), nn.BatchNorm2d(channels)) \
                if stride != 1 else None

        def forward(self, x):
            skip = self.down(x) if self.down is not None else x
            return torch.relu(self.body(x) + skip)

    def resnet18():
        layers = [nn.Conv2d(3, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU()]
        cin = 64
        for channels, stride in ((64, 1), (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1)):
            layers.append(Residual(cin, channels, stride))
            cin = channels
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, 10)]
        return nn.Sequential(*layers)

    def mlp():
        layers = [nn.Linear(16, 16), nn.ReLU()]
        for _ in range(19):
            layers += [nn.Linear(16, 16), nn.ReLU()]
        return nn.Sequential(*layers)

    return {"lenet": lenet, "resnet18": resnet18, "mlp20": mlp}


def run_torch(torch, case, shape, steps):
    net = torch_models(torch)[case]()
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.standard_normal(shape).astype(np.float32))
    y = torch.from_numpy(rng.integers(0, 10, shape[0]))
    loss_fn = torch.nn.CrossEntropyLoss(reduction="none")
    params = list(net.parameters())

    def step():
        out = net(x)
        loss = loss_fn(out, y) if case != "mlp20" else out.sum()
        loss.backward(torch.ones_like(loss))
        with torch.no_grad():
            for p in params:
                p -= LR * p.grad
                p.grad = None
    step()
    return timed(step, lambda: None, steps)


def timed(step, sync, steps):
    """Best wall-clock seconds per step of three rounds, and the best process CPU seconds per step (all threads:
    on a shared machine the CPU time is the steadier number)."""
    best, best_cpu = float("inf"), float("inf")
    for _ in range(3):
        start, start_cpu = time.perf_counter(), time.process_time()
        for _ in range(steps):
            step()
        sync()
        best = min(best, (time.perf_counter() - start) / steps)
        best_cpu = min(best_cpu, (time.process_time() - start_cpu) / steps)
    return best, best_cpu


CASES = {"lenet": ((128, 1, 28, 28), 10), "resnet18": ((64, 3, 32, 32), 2), "mlp20": ((1, 16), 200)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lib", choices=("mxcy", "mxnet", "torch"), required=True)
    parser.add_argument("--cases", default="lenet,resnet18,mlp20")
    parser.add_argument("--modes", default="imperative,hybridized", help="mxcy's and MXNet's modes to run")
    args = parser.parse_args()
    for case in args.cases.split(","):
        shape, steps = CASES[case]
        if args.lib == "torch":
            import torch
            modes = [("eager", lambda: run_torch(torch, case, shape, steps))]
        else:
            mx = __import__(args.lib)
            modes = [(m, lambda h=h: run_gluon(mx, case, shape, h, steps))
                     for m, h in (("imperative", False), ("hybridized", True)) if m in args.modes.split(",")]
        for mode, fn in modes:
            seconds, cpu_seconds = fn()
            print(json.dumps({"lib": args.lib, "case": case, "mode": mode, "batch": shape[0],
                              "ms_per_step": round(seconds * 1e3, 3), "cpu_ms_per_step": round(cpu_seconds * 1e3, 3),
                              "samples_per_s": round(shape[0] / seconds, 1)}), flush=True)


if __name__ == "__main__":
    main()
