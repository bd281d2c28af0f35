"""Module.fit throughput (samples/s) of a symbolic MLP, 784-128-64-10 with ReLU and SoftmaxOutput, batch 100,
on MNIST-sized random data (6000 samples of 784 floats, 10 classes), plain SGD, run by hand:

    python bench/module_fit.py --lib mxcy
    /tmp/mxnet-venv/bin/python bench/module_fit.py --lib mxnet

Set the same threads for both (OMP_NUM_THREADS, MXNET_CPU_WORKER_NTHREADS, NUMBA_NUM_THREADS). One warm-up epoch
(mxcy compiles its kernels there), then `--epochs` timed epochs of fit; prints one JSON line with the best epoch.
"""
import argparse
import importlib
import json
import logging
import time

import numpy as np


def mlp(mx):
    net = mx.sym.Variable("data")
    for i, width in enumerate((128, 64)):
        net = mx.sym.Activation(mx.sym.FullyConnected(net, num_hidden=width, name=f"fc{i + 1}"), act_type="relu")
    net = mx.sym.FullyConnected(net, num_hidden=10, name="fc3")
    return mx.sym.SoftmaxOutput(net, name="softmax")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lib", choices=("mxcy", "mxnet"), required=True)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--samples", type=int, default=6000)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()
    mx = importlib.import_module(args.lib)
    logging.getLogger().setLevel(logging.WARNING)
    rng = np.random.RandomState(0)
    x = rng.rand(args.samples, 784).astype(np.float32)
    y = rng.randint(0, 10, args.samples).astype(np.float32)
    train = mx.io.NDArrayIter(x, y, batch_size=args.batch, shuffle=False)
    mod = mx.mod.Module(mlp(mx), context=mx.cpu())
    fit = dict(optimizer="sgd", optimizer_params={"learning_rate": 0.05}, initializer=mx.init.Xavier(),
               eval_metric="acc")
    mod.fit(train, num_epoch=1, **fit)  # warm-up: binds, initialises, compiles
    times, cpu_times = [], []
    for epoch in range(1, args.epochs + 1):
        train.reset()
        start, start_cpu = time.perf_counter(), time.process_time()
        mod.fit(train, begin_epoch=epoch, num_epoch=epoch + 1, **fit)
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - start_cpu)  # all threads; steadier than wall time on a shared machine
    best = min(times)
    print(json.dumps({"lib": args.lib, "case": "Module.fit MLP 784-128-64-10", "batch": args.batch,
                      "samples_per_epoch": args.samples, "epoch_s": [round(t, 3) for t in times],
                      "epoch_cpu_s": [round(t, 3) for t in cpu_times],
                      "samples_per_s": round(args.samples / best, 1)}))


if __name__ == "__main__":
    main()
