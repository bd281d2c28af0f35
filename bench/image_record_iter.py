"""ImageRecordIter throughput: images/s decoding and augmenting 224x224 JPEG records (rand_crop, rand_mirror,
mean/std normalisation, batch 32, preprocess_threads=2), mxcy against MXNet 1.9.1 side by side.

    .venv/bin/python bench/image_record_iter.py [--images 512] [--epochs 3] [--resize 256]

--resize N adds MXNet's resize=N (the shorter edge to N, bilinear) before the random 224x224 crop.

The records are written once with mxcy.recordio (MXNet's byte format) into a temporary folder; the same file is
then read by `mxcy` in this process and by MXNet in /tmp/mxnet-venv (this script again, `--impl mxnet`).
Images are smooth gradients with noise, so their JPEG sizes (~15-25 kB) are like photographs'."""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

MXNET_PYTHON = "/tmp/mxnet-venv/bin/python"
ITER_ARGS = {"data_shape": (3, 224, 224), "batch_size": 32, "preprocess_threads": 2, "rand_crop": True,
             "rand_mirror": True, "mean_r": 123.68, "mean_g": 116.28, "mean_b": 103.53, "std_r": 58.395,
             "std_g": 57.12, "std_b": 57.375, "shuffle": False}


def write_records(path, count):
    import numpy as np

    import mxcy as mx
    rng = np.random.RandomState(0)
    yy, xx = np.mgrid[0:224, 0:224]
    writer = mx.recordio.MXRecordIO(path, "w")
    for number in range(count):
        base = np.stack([(xx * rng.uniform(0.3, 1.1) + yy * rng.uniform(0.3, 1.1) + rng.uniform(0, 255)) % 256
                         for _ in range(3)], axis=2)
        img = np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)
        writer.write(mx.recordio.pack_img(mx.recordio.IRHeader(0, float(number % 10), number, 0), img,
                                          quality=90))
    writer.close()


def measure(impl, path, epochs, resize):
    """Per pass (after one warm-up pass): images per second, and the process's CPU milliseconds per image (all
    threads)."""
    if impl == "mxnet":
        import mxnet as mx
    else:
        import mxcy as mx
    it = mx.io.ImageRecordIter(path_imgrec=path, resize=resize, **ITER_ARGS)
    rates, cpu_ms = [], []
    for epoch in range(epochs + 1):
        it.reset()
        start, start_cpu, images = time.perf_counter(), time.process_time(), 0
        for batch in it:
            batch.data[0].wait_to_read()
            images += batch.data[0].shape[0] - batch.pad
        if epoch:  # the first pass warms caches and compiles
            rates.append(images / (time.perf_counter() - start))
            cpu_ms.append((time.process_time() - start_cpu) * 1e3 / images)
    return rates, cpu_ms


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=512)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--resize", type=int, default=-1)
    parser.add_argument("--impl", choices=["mxcy", "mxnet"], default=None, help="measure one (internal)")
    parser.add_argument("--rec", help="an existing .rec file (internal)")
    args = parser.parse_args()
    if args.impl:
        print(json.dumps(measure(args.impl, args.rec, args.epochs, args.resize)))
        return
    env = dict(os.environ, OMP_NUM_THREADS="2", MXNET_CPU_WORKER_NTHREADS="2", NUMBA_NUM_THREADS="2")
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "bench.rec")
        write_records(path, args.images)
        print(f"{args.images} JPEG records of 224x224, {os.path.getsize(path) / args.images / 1024:.1f} kB each; "
              f"resize={args.resize}, {ITER_ARGS}")
        results, cpu = {}, {}
        for impl in ("mxnet", "mxcy", "mxnet", "mxcy"):  # alternate, so both see the same machine load
            python = MXNET_PYTHON if impl == "mxnet" else sys.executable
            out = subprocess.run([python, __file__, "--impl", impl, "--rec", path, "--epochs", str(args.epochs),
                                  "--resize", str(args.resize)], env=env, capture_output=True, text=True, check=True)
            rates, cpu_ms = json.loads(out.stdout.strip().splitlines()[-1])
            results.setdefault(impl, []).extend(rates)
            cpu.setdefault(impl, []).extend(cpu_ms)
    for impl, rates in results.items():
        print(f"{impl:6s} images/s per pass: {', '.join(f'{r:.0f}' for r in rates)}; best {max(rates):.0f}, "
              f"median {statistics.median(rates):.0f}; CPU ms/image median {statistics.median(cpu[impl]):.3f}")
    print(f"mxcy / MXNet: best passes {max(results['mxcy']) / max(results['mxnet']):.2f}, medians "
          f"{statistics.median(results['mxcy']) / statistics.median(results['mxnet']):.2f}; CPU per image (MXNet / "
          f"mxcy, medians) {statistics.median(cpu['mxnet']) / statistics.median(cpu['mxcy']):.2f}")


if __name__ == "__main__":
    main()
