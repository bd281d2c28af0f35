"""Our CUDA kernels against PyTorch (cuDNN/cuBLAS) on the same GPU, on issue 3's shapes and an input pipeline's
image ops.

Run by hand on a machine with a GPU and PyTorch:  python bench/gpu_kernels.py [--quick]
Prints one line per case (GFLOP/s or GB/s, and the ratio to PyTorch) and writes JSON to stdout's end.
"""
import json
import sys
import time

import numpy as np
from numba import cuda

from mxcy.kernels import conv_gpu, dense, norm_gpu, pool
from mxcy.kernels.common import REQ_WRITE

QUICK = "--quick" in sys.argv
BATCH = 8 if QUICK else 32


def _time(fn, sync, repeat=5):
    fn()
    sync()
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        sync()
        best = min(best, time.perf_counter() - start)
    return best


def _dev(shape, rng):
    return cuda.to_device(rng.standard_normal(shape).astype(np.float32))


def conv_case(n, c, h, w, o, k, s, p, rng):
    import torch
    oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    x, wt, dy = _dev((n, c, h, w), rng), _dev((o, c, k, k), rng), _dev((n, o, oh, ow), rng)
    b = cuda.to_device(np.zeros(o, np.float32))
    out = cuda.device_array((n, o, oh, ow), np.float32)
    dx, dw = cuda.device_array_like(x), cuda.device_array_like(wt)
    args = ((s, s), (p, p), (1, 1), 1)

    def ours():
        conv_gpu.conv_fwd_gpu(x, wt, b, out, REQ_WRITE, *args)
        conv_gpu.conv_bwd_data_gpu(dy, wt, dx, REQ_WRITE, *args)
        conv_gpu.conv_bwd_weight_gpu(x, dy, dw, REQ_WRITE, *args)
    tx = torch.randn(n, c, h, w, device="cuda", requires_grad=True)
    tw = torch.randn(o, c, k, k, device="cuda", requires_grad=True)
    tdy = torch.randn(n, o, oh, ow, device="cuda")

    def theirs():
        torch.nn.functional.conv2d(tx, tw, stride=s, padding=p).backward(tdy)
    flops = 3 * 2.0 * n * o * oh * ow * c * k * k
    return flops / 1e9, ours, theirs, "GFLOP/s"


def dense_case(n, i, o, rng):
    import torch
    x, wt, dy = _dev((n, i), rng), _dev((o, i), rng), _dev((n, o), rng)
    b = cuda.to_device(np.zeros(o, np.float32))
    out, dx, dw, db = (cuda.device_array((n, o), np.float32), cuda.device_array_like(x),
                       cuda.device_array_like(wt), cuda.device_array_like(b))

    def ours():
        dense.fc_fwd_gpu(x, wt, b, out, REQ_WRITE)
        dense.fc_bwd_gpu(dy, x, wt, dx, dw, db, REQ_WRITE, REQ_WRITE, REQ_WRITE)
    tx = torch.randn(n, i, device="cuda", requires_grad=True)
    lin = torch.nn.Linear(i, o).cuda()
    tdy = torch.randn(n, o, device="cuda")

    def theirs():
        lin(tx).backward(tdy)
    return 3 * 2.0 * n * i * o / 1e9, ours, theirs, "GFLOP/s"


def bn_case(n, c, h, w, rng):
    import torch
    x, dy = _dev((n, c, h * w), rng), _dev((n, c, h * w), rng)
    gamma, beta = cuda.to_device(np.ones(c, np.float32)), cuda.to_device(np.zeros(c, np.float32))
    mm, mv = cuda.to_device(np.zeros(c, np.float32)), cuda.to_device(np.ones(c, np.float32))
    out, dx = cuda.device_array_like(x), cuda.device_array_like(x)
    mean, invstd = cuda.device_array(c, np.float32), cuda.device_array(c, np.float32)
    dgamma, dbeta = cuda.device_array(c, np.float32), cuda.device_array(c, np.float32)

    def ours():
        norm_gpu.batch_norm_fwd_gpu(x, gamma, beta, mm, mv, out, mean, invstd, 1e-3, False, False,
                                    REQ_WRITE)
        norm_gpu.batch_norm_bwd_gpu(dy, x, gamma, mean, invstd, mm, mv, dx, dgamma, dbeta, 1e-3, 0.9,
                                    False, False, True, REQ_WRITE, REQ_WRITE, REQ_WRITE)
    bn = torch.nn.BatchNorm2d(c).cuda()
    tx = torch.randn(n, c, h, w, device="cuda", requires_grad=True)
    tdy = torch.randn(n, c, h, w, device="cuda")

    def theirs():
        bn(tx).backward(tdy)
    # bytes: forward reads x and writes out; backward reads dy and x, writes dx
    return 5 * 4.0 * n * c * h * w / 1e9, ours, theirs, "GB/s"


def pool_case(n, c, h, w, rng):
    import torch
    oh, ow = (h + 2 - 3) // 2 + 1, (w + 2 - 3) // 2 + 1
    x = _dev((n * c, 1, h, w), rng)
    out = cuda.device_array((n * c, 1, oh, ow), np.float32)
    dy, dx = _dev((n * c, 1, oh, ow), rng), cuda.device_array_like(x)
    kw = ((1, 3, 3), (1, 2, 2), (0, 1, 1), pool.POOL_TYPES["max"], True, 2.0, REQ_WRITE)

    def ours():
        pool.pool_fwd_gpu(x, out, *kw)
        pool.pool_bwd_gpu(dy, x, out, dx, *kw)
    tx = torch.randn(n, c, h, w, device="cuda", requires_grad=True)
    tdy = torch.randn(n, c, oh, ow, device="cuda")

    def theirs():
        torch.nn.functional.max_pool2d(tx, 3, 2, 1).backward(tdy)
    return (2 * 4.0 * n * c * h * w + 3 * 4.0 * n * c * oh * ow) / 1e9, ours, theirs, "GB/s"


def image_case(n, rng):
    """A batch of 224 x 224 RGB uint8 images through resize (from 256 x 256, bilinear), to_tensor and normalize."""
    import torch
    from mxcy.kernels import image_tensor
    from mxcy.ops import _cv_resize
    large = cuda.to_device(rng.integers(0, 256, (n, 256, 256, 3), dtype=np.uint8))
    small = cuda.device_array((n, 224, 224, 3), np.uint8)
    tensor, out = (cuda.device_array((n, 3, 224, 224), np.float32) for _ in range(2))
    mean, std = np.float32([0.485, 0.456, 0.406]), np.float32([0.229, 0.224, 0.225])

    def ours():
        _cv_resize.resize_gpu(large, small, _cv_resize.LINEAR, REQ_WRITE)
        image_tensor.to_tensor_gpu(small, tensor, REQ_WRITE)
        image_tensor.normalize_gpu(tensor.reshape((n, 3, 224 * 224)), mean, std, out.reshape((n, 3, 224 * 224)),
                                   REQ_WRITE)
    t_large = torch.randint(0, 256, (n, 3, 256, 256), device="cuda", dtype=torch.uint8)
    t_mean, t_std = (torch.tensor(v, device="cuda").view(1, 3, 1, 1) for v in (mean, std))

    def theirs():
        resized = torch.nn.functional.interpolate(t_large.float(), size=(224, 224), mode="bilinear",
                                                  align_corners=False)
        (resized.div(255) - t_mean) / t_std
    moved = n * (256 * 256 * 3 + 224 * 224 * 3 * (1 + 1 + 4 + 4 + 4))  # bytes read and written
    return moved / 1e9, ours, theirs, "GB/s"


CASES = [
    ("conv3x3 (N,64,56,56)->64", lambda r: conv_case(BATCH, 64, 56, 56, 64, 3, 1, 1, r)),
    ("conv3x3 (N,128,28,28)->128", lambda r: conv_case(BATCH, 128, 28, 28, 128, 3, 1, 1, r)),
    ("conv3x3 (N,256,14,14)->256", lambda r: conv_case(BATCH, 256, 14, 14, 256, 3, 1, 1, r)),
    ("conv7x7/2 (N,3,224,224)->64", lambda r: conv_case(BATCH, 3, 224, 224, 64, 7, 2, 3, r)),
    ("conv1x1 (N,256,56,56)->64", lambda r: conv_case(BATCH, 256, 56, 56, 64, 1, 1, 0, r)),
    ("conv3x3 (2N,64,32,32)->64", lambda r: conv_case(2 * BATCH, 64, 32, 32, 64, 3, 1, 1, r)),
    ("dense (128,4096)->4096", lambda r: dense_case(128, 4096, 4096, r)),
    ("batchnorm train (N,64,56,56)", lambda r: bn_case(BATCH, 64, 56, 56, r)),
    ("maxpool 3x3/2 (N,64,112,112)", lambda r: pool_case(BATCH, 64, 112, 112, r)),
    ("image resize+to_tensor+normalize (N,224,224,3)", lambda r: image_case(2 * BATCH, r)),
]


def main():
    import torch
    rng = np.random.default_rng(0)
    results = []
    for name, make in CASES:
        try:
            work, ours, theirs, unit = make(rng)
            t_ours = _time(ours, cuda.synchronize)
            t_theirs = _time(theirs, torch.cuda.synchronize)
            row = {"case": name, "unit": unit, "mxcy": work / t_ours, "torch": work / t_theirs,
                   "ratio": t_theirs / t_ours}
            print(f"{name:32s} mxcy {row['mxcy']:9.1f} {unit}  torch {row['torch']:9.1f}  "
                  f"mxcy/torch speed {row['ratio']:.3f}", flush=True)
        except Exception as err:  # noqa: BLE001 - report every case, even a failing one
            row = {"case": name, "error": f"{type(err).__name__}: {err}"}
            print(f"{name:32s} FAILED {row['error']}", flush=True)
        results.append(row)
    print(json.dumps({"batch": BATCH, "device": torch.cuda.get_device_name(), "results": results}))


if __name__ == "__main__":
    main()
