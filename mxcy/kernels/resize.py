"""Bilinear resizing of C-contiguous (P, H, W) planes (MXNet's contrib BilinearResize2D), forward and backward,
CPU (NumPy) and CUDA. Both take their taps from resize_taps, MXNet 1.9.1's arithmetic: along an axis of n_in ->
n_out a float32 scale, (n_in - 1) / (n_out - 1) with align_corners, else n_in / n_out (0 when n_out <= 1); a
source position scale * k, or without align_corners max(scale * (k + 0.5) - 0.5, 0) in double rounded to
float32; taps lo = int(src) and hi = min(lo + 1, n_in - 1) weighted 1 - f and f, f = src - lo.
out[p, i, j] = sum over a, b in {0, 1} of x[p, row[i, a], col[j, b]] * (row_w[i, a] * col_w[j, b]), summed in
that order in the data's type; the backward scatters dy onto the same taps (atomic adds on CUDA)."""
import numpy as np
from numba import cuda

from .common import REQ_ADD, REQ_NULL, assign
from .elemwise_gpu import fill_gpu
from .launch import grid_1d


def resize_axis(n_in, n_out, align_corners):
    """Along one axis: (lower source index, upper source index, the upper one's float32 weight) per output."""
    f32 = np.float32
    if n_out <= 1:
        scale = f32(0)
    else:
        scale = f32(n_in - 1) / f32(n_out - 1) if align_corners else f32(n_in) / f32(n_out)
    k = np.arange(n_out)
    if align_corners:
        src = scale * k.astype(f32)
    else:
        src = np.maximum(np.float64(scale) * (k + 0.5) - 0.5, 0.0).astype(f32)
    lo = src.astype(np.int64)
    return lo, np.where(lo < n_in - 1, lo + 1, lo), src - lo.astype(f32)


def resize_taps(in_hw, out_hw, align_corners, dtype):
    """[(index, weight) for rows, then for columns]: int64 (n_out, 2) source indices and (n_out, 2) weights
    (1 - f, f) of `dtype`."""
    taps = []
    for n_in, n_out in zip(in_hw, out_hw):
        lo, hi, f = resize_axis(n_in, n_out, align_corners)
        f = f.astype(dtype)
        taps.append((np.stack([lo, hi], 1), np.stack([dtype.type(1) - f, f], 1)))
    return taps


# ---------------------------------------------------------------- CPU drivers
def _tap_views(taps):
    """Per tap (a, b): (row index column, col index row, weight grid) that broadcast over (out H, out W)."""
    (ri, rw), (ci, cw) = taps
    return [(ri[:, a, None], ci[:, b], rw[:, a, None] * cw[:, b]) for a in (0, 1) for b in (0, 1)]


def resize_fwd_cpu(x, out, align_corners, req):
    """out (P, OH, OW) (req)= x (P, H, W) resized."""
    if req == REQ_NULL:
        return
    taps = _tap_views(resize_taps(x.shape[1:], out.shape[1:], align_corners, x.dtype))
    v = sum(x[:, rows, cols] * w for rows, cols, w in taps)
    if req == REQ_ADD:
        out += v
    else:
        out[...] = v


def resize_bwd_cpu(dy, dx, align_corners, req):
    """dx (P, H, W) (req)= dy (P, OH, OW) scattered onto each output's taps."""
    if req == REQ_NULL:
        return
    if req != REQ_ADD:
        dx[...] = 0
    for rows, cols, w in _tap_views(resize_taps(dx.shape[1:], dy.shape[1:], align_corners, dy.dtype)):
        np.add.at(dx, (slice(None), rows, cols), dy * w)


# ---------------------------------------------------------------- GPU drivers
def _resize_fwd_kernel(x, ri, rw, ci, cw, out, req):
    # One thread per output (p, i, j), grid-stride; the tap order of resize_fwd_cpu.
    npl, oh, ow = out.shape
    e = cuda.grid(1)
    while e < out.size:
        p, i, j = e // (oh * ow), (e // ow) % oh, e % ow
        v = x[p, ri[i, 0], ci[j, 0]] * (rw[i, 0] * cw[j, 0])
        v += x[p, ri[i, 0], ci[j, 1]] * (rw[i, 0] * cw[j, 1])
        v += x[p, ri[i, 1], ci[j, 0]] * (rw[i, 1] * cw[j, 0])
        v += x[p, ri[i, 1], ci[j, 1]] * (rw[i, 1] * cw[j, 1])
        out[p, i, j] = assign(out[p, i, j], v, req)
        e += cuda.gridsize(1)


def _resize_bwd_kernel(dy, ri, rw, ci, cw, dx):
    # One thread per head gradient (p, i, j), grid-stride, adding it onto its taps: taps of neighbouring outputs
    # share source pixels, hence atomics.
    npl, oh, ow = dy.shape
    e = cuda.grid(1)
    while e < dy.size:
        p, i, j = e // (oh * ow), (e // ow) % oh, e % ow
        g = dy[p, i, j]
        for a in range(2):
            for b in range(2):
                cuda.atomic.add(dx, (p, ri[i, a], ci[j, b]), g * (rw[i, a] * cw[j, b]))
        e += cuda.gridsize(1)


resize_fwd_kernel = cuda.jit(_resize_fwd_kernel)
resize_bwd_kernel = cuda.jit(_resize_bwd_kernel)


def _device_taps(in_hw, out_hw, align_corners, dtype):
    return [cuda.to_device(a) for axis in resize_taps(in_hw, out_hw, align_corners, dtype) for a in axis]


def resize_fwd_gpu(x, out, align_corners, req, stream=0):
    """Same contract as resize_fwd_cpu, on device arrays."""
    if req == REQ_NULL or out.size == 0:
        return
    ri, rw, ci, cw = _device_taps(x.shape[1:], out.shape[1:], align_corners, x.dtype)
    blocks, threads = grid_1d(out.size)
    resize_fwd_kernel[blocks, threads, stream](x, ri, rw, ci, cw, out, req)


def resize_bwd_gpu(dy, dx, align_corners, req, stream=0):
    """Same contract as resize_bwd_cpu, on device arrays."""
    if req == REQ_NULL:
        return
    if req != REQ_ADD:
        fill_gpu(dx, 0, req, stream)
    if dy.size == 0:
        return
    ri, rw, ci, cw = _device_taps(dx.shape[1:], dy.shape[1:], align_corners, dy.dtype)
    blocks, threads = grid_1d(dy.size)
    resize_bwd_kernel[blocks, threads, stream](dy, ri, rw, ci, cw, dx)


PTX_CHECKS = []
for _t in ("float32", "float64"):
    _a, _w, _i = f"{_t}[:, :, ::1]", f"{_t}[:, ::1]", "int64[:, ::1]"
    PTX_CHECKS += [
        (_resize_fwd_kernel, f"void({_a}, {_i}, {_w}, {_i}, {_w}, {_a}, int64)"),
        (_resize_bwd_kernel, f"void({_a}, {_i}, {_w}, {_i}, {_w}, {_a})"),
    ]
