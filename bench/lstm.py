"""Recurrent and vision throughput, run by hand: a 2-layer LSTM (PTB "medium": hidden 650, input 650, batch 32,
35 steps) forward+backward, and ResNet-50 v1 inference images/s at batch 1 and 32.

    python bench/lstm.py --lib mxcy                 # in mxcy's venv
    /tmp/mxnet-venv/bin/python bench/lstm.py --lib mxnet
    /tmp/torch-venv/bin/python bench/lstm.py --lib torch

mxcy and MXNet run the same Gluon code (gluon.rnn.LSTM, the fused RNN operator; model_zoo resnet50_v1
hybridized); PyTorch runs nn.LSTM and a ResNet-50 v1 written here (torchvision is not installed), the same
architecture as the model zoo's (stride in the bottleneck's first 1x1 convolution). Set the same thread count
for all (OMP_NUM_THREADS, MXNET_CPU_WORKER_NTHREADS, NUMBA_NUM_THREADS); each prints one JSON line per case.
"""
import argparse
import json
import time

import numpy as np

STEPS, BATCH, HIDDEN, LAYERS = 35, 32, 650, 2


def _timed(step, repeats, warmup):
    """(best wall, median wall, median process CPU time) of a step in seconds. CPU time sums every thread's, so it
    measures the work (and any spinning) rather than the wait when other processes share the cores."""
    for _ in range(warmup):
        step()
    walls, cpus = [], []
    for _ in range(repeats):
        start, cpu = time.perf_counter(), time.process_time()
        step()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return min(walls), float(np.median(walls)), float(np.median(cpus))


def mx_lstm_step(mx):
    net = mx.gluon.rnn.LSTM(HIDDEN, num_layers=LAYERS, input_size=HIDDEN)
    net.initialize(mx.init.Uniform(0.05))
    rng = np.random.default_rng(0)
    x = mx.nd.array(rng.standard_normal((STEPS, BATCH, HIDDEN)).astype(np.float32))
    states = net.begin_state(batch_size=BATCH)
    params = list(net.collect_params().values())

    def step():
        with mx.autograd.record():
            out, _ = net(x, states)
        out.backward()
        for p in params:
            p.grad().wait_to_read()
    return step


def mx_resnet_step(mx, batch):
    net = mx.gluon.model_zoo.vision.resnet50_v1()
    net.initialize(mx.init.Xavier())
    net.hybridize(static_alloc=True, static_shape=True)
    x = mx.nd.array(np.random.default_rng(0).standard_normal((batch, 3, 224, 224)).astype(np.float32))

    def step():
        net(x).wait_to_read()
    return step


def torch_lstm_step(torch):
    net = torch.nn.LSTM(HIDDEN, HIDDEN, LAYERS)
    x = torch.randn(STEPS, BATCH, HIDDEN)
    states = (torch.zeros(LAYERS, BATCH, HIDDEN), torch.zeros(LAYERS, BATCH, HIDDEN))

    def step():
        net.zero_grad()
        out, _ = net(x, states)
        out.backward(torch.ones_like(out))
    return step


def torch_resnet50(torch):
    nn = torch.nn

    class Bottleneck(nn.Module):
        def __init__(self, cin, channels, stride):
            super().__init__()
            mid = channels // 4
            self.body = nn.Sequential(
                nn.Conv2d(cin, mid, 1, stride, bias=False), nn.BatchNorm2d(mid), nn.ReLU(),
                nn.Conv2d(mid, mid, 3, 1, 1, bias=False), nn.BatchNorm2d(mid), nn.ReLU(),
                nn.Conv2d(mid, channels, 1, bias=False), nn.BatchNorm2d(channels))
            self.down = None if stride == 1 and cin == channels else nn.Sequential(
                nn.Conv2d(cin, channels, 1, stride, bias=False), nn.BatchNorm2d(channels))

        def forward(self, x):
            return torch.relu(self.body(x) + (x if self.down is None else self.down(x)))

    layers = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1)]
    cin = 64
    for blocks, channels, stride in ((3, 256, 1), (4, 512, 2), (6, 1024, 2), (3, 2048, 2)):
        for k in range(blocks):
            layers.append(Bottleneck(cin, channels, stride if k == 0 else 1))
            cin = channels
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2048, 1000)]
    return nn.Sequential(*layers).eval()


def torch_resnet_step(torch, batch):
    net = torch_resnet50(torch)
    x = torch.randn(batch, 3, 224, 224)

    def step():
        with torch.no_grad():
            net(x)
    return step


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lib", choices=("mxcy", "mxnet", "torch"), required=True)
    parser.add_argument("--cases", default="lstm,resnet50_b1,resnet50_b32")
    args = parser.parse_args()
    if args.lib == "torch":
        import torch
        cases = {"lstm": lambda: torch_lstm_step(torch), "resnet50_b1": lambda: torch_resnet_step(torch, 1),
                 "resnet50_b32": lambda: torch_resnet_step(torch, 32)}
    else:
        mx = __import__(args.lib)
        cases = {"lstm": lambda: mx_lstm_step(mx), "resnet50_b1": lambda: mx_resnet_step(mx, 1),
                 "resnet50_b32": lambda: mx_resnet_step(mx, 32)}
    plan = {"lstm": (10, 2), "resnet50_b1": (20, 3), "resnet50_b32": (4, 1)}
    for case in args.cases.split(","):
        step = cases[case]()
        best, median, cpu = _timed(step, *plan[case])
        row = {"lib": args.lib, "case": case, "best_ms": round(best * 1e3, 2), "median_ms": round(median * 1e3, 2),
               "cpu_s_median": round(cpu, 3)}
        if case.startswith("resnet50"):
            batch = int(case.split("_b")[1])
            row["img_per_s_best"] = round(batch / best, 2)
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
