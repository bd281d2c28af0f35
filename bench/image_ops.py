"""Microseconds per call of the per-image ops an input pipeline runs (224 x 224 RGB uint8 image, one thread):
to_tensor, normalize, flip_left_right, resize (bilinear, 300 x 280 -> 224 x 224) and random_brightness, in mxcy,
MXNet 1.9.1 (mx.nd.image) and PyTorch (the same arithmetic written with torch ops; resize: F.interpolate on the
float image, as torchvision does for tensors).

    python bench/image_ops.py              # every library, side by side, BENCH_ROUNDS rounds (default 3), interleaved
    python bench/image_ops.py LIB          # one library: mxcy | mxnet | torch
"""
import os
import subprocess
import sys
import time

import numpy as np

PYTHONS = {"mxcy": os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".venv", "bin", "python"),
           "mxnet": "/tmp/mxnet-venv/bin/python", "torch": "/tmp/torch-venv/bin/python"}
OPS = ("to_tensor", "normalize", "flip_left_right", "resize", "random_brightness")
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
CALLS = 200


def _images():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (224, 224, 3), dtype=np.uint8), rng.integers(0, 256, (300, 280, 3), dtype=np.uint8)


def _gluon_calls(mx):
    image, large = (mx.nd.array(a, dtype="uint8") for a in _images())
    tensor = mx.nd.image.to_tensor(image)
    return {"to_tensor": lambda: mx.nd.image.to_tensor(image),
            "normalize": lambda: mx.nd.image.normalize(tensor, mean=MEAN, std=STD),
            "flip_left_right": lambda: mx.nd.image.flip_left_right(image),
            "resize": lambda: mx.nd.image.resize(large, size=(224, 224), interp=1),
            "random_brightness": lambda: mx.nd.image.random_brightness(image, 0.5, 1.5)}, mx.nd.waitall


def _torch_calls(torch):
    image, large = (torch.from_numpy(a) for a in _images())
    tensor = image.permute(2, 0, 1).float().div(255)
    mean, std = torch.tensor(MEAN).view(3, 1, 1), torch.tensor(STD).view(3, 1, 1)
    large_f = large.permute(2, 0, 1).float()[None]
    return {"to_tensor": lambda: image.permute(2, 0, 1).float().div(255),
            "normalize": lambda: (tensor - mean) / std,
            "flip_left_right": lambda: image.flip(1),
            "resize": lambda: torch.nn.functional.interpolate(large_f, size=(224, 224), mode="bilinear",
                                                              align_corners=False),
            "random_brightness": lambda: (image.float() * float(np.random.uniform(0.5, 1.5))).clamp(0, 255)
            .to(torch.uint8)}, lambda: None


def microseconds(lib):
    """{op: best microseconds a call over 5 repeats of CALLS calls} (each repeat waits for its results)."""
    if lib == "torch":
        import torch
        torch.set_num_threads(1)
        calls, wait = _torch_calls(torch)
    else:
        calls, wait = _gluon_calls(__import__(lib))
    best = {}
    for name in OPS:
        fn = calls[name]
        for _ in range(20):
            fn()
        wait()
        times = []
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(CALLS):
                fn()
            wait()
            times.append((time.perf_counter() - start) / CALLS * 1e6)
        best[name] = min(times)
    return best


def main():
    env = dict(os.environ, OMP_NUM_THREADS="1", MXNET_CPU_WORKER_NTHREADS="1", MKL_NUM_THREADS="1",
               NUMBA_NUM_THREADS="1")
    env.setdefault("NUMBA_CACHE_DIR", os.path.join(os.path.dirname(PYTHONS["mxcy"]), "..", "..", ".numba_cache"))
    results = {}
    for round_ in range(int(os.environ.get("BENCH_ROUNDS", 3))):
        for lib in PYTHONS:
            out = subprocess.run([PYTHONS[lib], os.path.abspath(__file__), lib], env=env, capture_output=True,
                                 text=True, check=True)
            values = [float(v) for v in out.stdout.split()[-len(OPS):]]
            print(f"round {round_ + 1} {lib:6s} " + " ".join(f"{n} {v:8.1f}" for n, v in zip(OPS, values)),
                  flush=True)
            for name, value in zip(OPS, values):
                results[lib, name] = min(value, results.get((lib, name), float("inf")))
    print(f"best (us a call): {'op':18s} " + " ".join(f"{lib:>8s}" for lib in PYTHONS) + "  mxcy/MXNet  mxcy/torch")
    for name in OPS:
        row = [results[lib, name] for lib in PYTHONS]
        print(f"{'':18s}{name:18s} " + " ".join(f"{v:8.1f}" for v in row)
              + f"  {row[1] / row[0]:9.2f}x  {row[2] / row[0]:9.2f}x")


if __name__ == "__main__":
    if len(sys.argv) == 2:
        print(*microseconds(sys.argv[1]).values())
    else:
        main()
