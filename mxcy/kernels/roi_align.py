"""ROIAlign kernels (Mask R-CNN's region pooling, MXNet 1.9.1's _contrib_ROIAlign) on NCHW data, CPU and CUDA:
each output bin averages bilinear samples on a regular grid inside its part of the region, forward and backward
(the backward scatters each bin's gradient to the sampled pixels). Arithmetic in float64; arrays are flat."""
import math

import numba
import numpy as np
from numba import cuda, prange

from .bilinear import blend
from .common import REQ_WRITE, flat, parallel_kernel
from .elemwise_gpu import fill_gpu
from .launch import dual, grid_1d

# rois (R, 5) = (batch index, x1, y1, x2, y2) in image pixels, times spatial_scale (minus half a pixel when
# `aligned`: Detectron2's continuous coordinates). Unaligned regions are at least 1 x 1. Bin (ph, pw) of a
# PH x PW split samples a grid_h x grid_w grid of points at the centres of equal cells (sample_ratio per side,
# or ceil(side / bins) when it is not positive); a point more than a pixel outside the map reads 0 but still
# counts in the mean, and a point in the outer pixel band is clamped to the edge, as MXNet does. A row whose
# batch index lies outside [0, N), or an aligned region of no extent (MXNet refuses it), gives 0 and no gradient.
# position_sensitive (R-FCN): output channel c of bin (ph, pw) reads input channel (c * PH + ph) * PW + pw.


@numba.njit(inline="always", nogil=True)
def _region(batch, x1, y1, x2, y2, scale, aligned, bins_h, bins_w, ratio):
    """(batch index, top, left, bin height, bin width, grid rows, grid columns) of one roi row."""
    offset = 0.5 if aligned else 0.0
    top, left = y1 * scale - offset, x1 * scale - offset
    height, width = y2 * scale - offset - top, x2 * scale - offset - left
    if not aligned:
        height, width = max(height, 1.0), max(width, 1.0)
    bin_h, bin_w = height / bins_h, width / bins_w
    grid_h = ratio if ratio > 0 else int(math.ceil(bin_h))
    grid_w = ratio if ratio > 0 else int(math.ceil(bin_w))
    if aligned and (height <= 0 or width <= 0):
        grid_h = 0
    return int(batch), top, left, bin_h, bin_w, grid_h, grid_w


@numba.njit(inline="always", nogil=True)
def _tap(start, step, grid, k, size):
    """tap_at of the k-th sample coordinate start + (k + 0.5) * step / grid."""
    return tap_at(start + (k + 0.5) * step / grid, size)


@numba.njit(inline="always", nogil=True)
def tap_at(v, size):
    """(low, high, fraction) of sample coordinate v along an axis of `size` pixels; low is -1 when the sample lies
    more than a pixel outside (RROIAlign's rotated samples share this rule)."""
    if v < -1.0 or v > size:
        return -1, -1, 0.0
    v = max(v, 0.0)
    low = int(v)
    if low >= size - 1:
        return size - 1, size - 1, 0.0
    return low, low + 1, v - low


@numba.njit(inline="always", nogil=True)
def _sample(top, left, bin_h, bin_w, grid_h, grid_w, s, H, W):
    """Sample s (row-major over a bin's grid): (plane index of its top-left tap or -1 for a sample that reads
    nothing, step to the lower taps, step to the right taps, row fraction, column fraction)."""
    y0, y1, ly = _tap(top, bin_h, grid_h, s // grid_w, H)
    x0, x1, lx = _tap(left, bin_w, grid_w, s % grid_w, W)
    if y0 < 0 or x0 < 0:
        return -1, 0, 0, 0.0, 0.0
    return y0 * W + x0, (y1 - y0) * W, x1 - x0, ly, lx


def _bin(rois, e, N, C, H, W, PH, PW, scale, ratio, aligned, sensitive):
    """(first data index of the plane, top, left, bin height, bin width, grid rows, grid columns) of output
    element e of (R, C_out, PH, PW); the plane index is -1 for a bin that reads nothing."""
    C_out = C // (PH * PW) if sensitive else C
    r, c, ph, pw = e // (C_out * PH * PW), e // (PH * PW) % C_out, e // PW % PH, e % PW
    b, top, left, bin_h, bin_w, grid_h, grid_w = _region(rois[r * 5], rois[r * 5 + 1], rois[r * 5 + 2],
                                                         rois[r * 5 + 3], rois[r * 5 + 4], scale, aligned,
                                                         PH, PW, ratio)
    plane = (c * PH + ph) * PW + pw if sensitive else c
    base = (b * C + plane) * H * W if 0 <= b < N and grid_h > 0 and grid_w > 0 else -1
    return base, top + ph * bin_h, left + pw * bin_w, bin_h, bin_w, grid_h, grid_w


def _align_value(data, base, top, left, bin_h, bin_w, grid_h, grid_w, H, W):
    """The mean of a bin's bilinear samples (the bin as _bin gives it): one GPU thread's output element."""
    if base < 0:
        return 0.0
    total = 0.0
    for s in range(grid_h * grid_w):
        i, down, right, ly, lx = _sample(top, left, bin_h, bin_w, grid_h, grid_w, s, H, W)
        if i >= 0:
            i += base
            total += blend(1.0 * data[i], 1.0 * data[i + right], 1.0 * data[i + down], 1.0 * data[i + down + right],
                           ly, lx)
    return total / (grid_h * grid_w)


_bin_cpu, _bin_gpu = dual(_bin)
_align_value_gpu = dual(_align_value)[1]  # the CPU forward gathers its taps once per bin instead


@numba.njit(inline="always", nogil=True, error_model="numpy")
def _taps_of(rois, e, N, C, H, W, PH, PW, scale, ratio, aligned, sensitive):
    """(data indices, weights) of every tap of output element e's samples, each weight over the number of
    samples: the element is their weighted sum (samples that read nothing have no taps). CPU only; MXNet's
    pre-calculation, shared by a bin's channels."""
    base, top, left, bin_h, bin_w, grid_h, grid_w = _bin_cpu(rois, e, N, C, H, W, PH, PW, scale, ratio, aligned,
                                                             sensitive)
    n = grid_h * grid_w if base >= 0 else 0
    where, weight, taps = np.empty(4 * n, np.int64), np.empty(4 * n), 0
    for s in range(n):
        i, down, right, ly, lx = _sample(top, left, bin_h, bin_w, grid_h, grid_w, s, H, W)
        if i >= 0:
            i += base
            where[taps], where[taps + 1], where[taps + 2], where[taps + 3] = i, i + right, i + down, i + down + right
            weight[taps], weight[taps + 1] = (1.0 - ly) * (1.0 - lx) / n, (1.0 - ly) * lx / n
            weight[taps + 2], weight[taps + 3] = ly * (1.0 - lx) / n, ly * lx / n
            taps += 4
    return where[:taps], weight[:taps]


@parallel_kernel(nogil=True, cache=True, error_model="numpy")
def _fwd_cpu(data, rois, out, N, C, H, W, PH, PW, scale, ratio, aligned, sensitive):
    C_out, B = (C // (PH * PW) if sensitive else C), PH * PW
    plane_step = (B if sensitive else 1) * H * W  # from one output channel's plane to the next's
    for rk in prange(out.size // C_out):  # one bin of one roi: its taps found once for all channels
        e = rk // B * C_out * B + rk % B
        where, weight = _taps_of(rois, e, N, C, H, W, PH, PW, scale, ratio, aligned, sensitive)
        for c in range(C_out):
            total = 0.0
            for t in range(where.size):
                total += weight[t] * data[where[t] + c * plane_step]
            out[e + c * B] = total


# Channels per item of the CPU backward: each item finds a bin's taps once for this many channels.
_CHANNEL_BLOCK = 16


@parallel_kernel(nogil=True, cache=True, error_model="numpy")
def _bwd_cpu(dy, rois, dx, N, C, H, W, PH, PW, scale, ratio, aligned, sensitive):
    for i in range(dx.size):
        dx[i] = 0.0
    C_out, B = (C // (PH * PW) if sensitive else C), PH * PW
    plane_step = (B if sensitive else 1) * H * W
    R = dy.size // (C_out * B)
    # Output channels read disjoint input planes: no two items write one pixel.
    for block in prange((C_out + _CHANNEL_BLOCK - 1) // _CHANNEL_BLOCK):
        c0 = block * _CHANNEL_BLOCK
        for rk in range(R * B):
            e = rk // B * C_out * B + rk % B
            where, weight = _taps_of(rois, e, N, C, H, W, PH, PW, scale, ratio, aligned, sensitive)
            for c in range(c0, min(c0 + _CHANNEL_BLOCK, C_out)):
                g = dy[e + c * B]
                for t in range(where.size):
                    dx[where[t] + c * plane_step] += g * weight[t]


def _fwd_kernel(data, rois, out, N, C, H, W, PH, PW, scale, ratio, aligned, sensitive):
    e = cuda.grid(1)
    while e < out.size:
        base, top, left, bin_h, bin_w, grid_h, grid_w = _bin_gpu(rois, e, N, C, H, W, PH, PW, scale, ratio, aligned,
                                                                 sensitive)
        out[e] = _align_value_gpu(data, base, top, left, bin_h, bin_w, grid_h, grid_w, H, W)
        e += cuda.gridsize(1)


def _bwd_kernel(dy, rois, dx, N, C, H, W, PH, PW, scale, ratio, aligned, sensitive):
    """One thread per output element; dx must be zeroed before. Regions overlap, hence atomics."""
    e = cuda.grid(1)
    while e < dy.size:
        base, top, left, bin_h, bin_w, grid_h, grid_w = _bin_gpu(rois, e, N, C, H, W, PH, PW, scale, ratio, aligned,
                                                                 sensitive)
        if base >= 0:
            g = dy[e] / (grid_h * grid_w)
            for s in range(grid_h * grid_w):
                i, down, right, ly, lx = _sample(top, left, bin_h, bin_w, grid_h, grid_w, s, H, W)
                if i >= 0:
                    i += base
                    cuda.atomic.add(dx, i, g * (1.0 - ly) * (1.0 - lx))
                    cuda.atomic.add(dx, i + right, g * (1.0 - ly) * lx)
                    cuda.atomic.add(dx, i + down, g * ly * (1.0 - lx))
                    cuda.atomic.add(dx, i + down + right, g * ly * lx)
        e += cuda.gridsize(1)


fwd_kernel = cuda.jit(_fwd_kernel)
bwd_kernel = cuda.jit(_bwd_kernel)


def launch(kernel, n, *args):
    """kernel over n items with a grid-stride launch (nothing for n = 0)."""
    if n:
        blocks, threads = grid_1d(n)
        kernel[blocks, threads](*args)


def region_drivers(cpu_fwd, cpu_bwd, gpu_fwd, gpu_bwd, args):
    """(fwd_cpu, bwd_cpu, fwd_gpu, bwd_gpu) drivers of a region op's kernels, which take flat arrays and then
    args(data_shape, *params): forward (data, rois, out, *params) writes out; backward (dy, rois, dx, *params)
    writes dx, data's gradient (the CUDA one zeroes dx and launches one thread per head-gradient element)."""
    def fwd_cpu(data, rois, out, *params):
        cpu_fwd(flat(data), flat(rois), flat(out), *args(data.shape, *params))

    def bwd_cpu(dy, rois, dx, *params):
        cpu_bwd(flat(dy), flat(rois), flat(dx), *args(dx.shape, *params))

    def fwd_gpu(data, rois, out, *params):
        launch(gpu_fwd, out.size, flat(data), flat(rois), flat(out), *args(data.shape, *params))

    def bwd_gpu(dy, rois, dx, *params):
        fill_gpu(dx, 0, REQ_WRITE)
        launch(gpu_bwd, dy.size, flat(dy), flat(rois), flat(dx), *args(dx.shape, *params))
    return fwd_cpu, bwd_cpu, fwd_gpu, bwd_gpu


def _args(data_shape, pooled_size, spatial_scale, sample_ratio, aligned, position_sensitive):
    # MXNet keeps spatial_scale as a float32.
    return tuple(data_shape) + tuple(pooled_size) + (float(np.float32(spatial_scale)), int(sample_ratio),
                                                     bool(aligned), bool(position_sensitive))


# fwd_cpu(data, rois, out, *params): out (R, C_out, PH, PW) = ROIAlign of data (N, C, H, W) over rois (R, 5) for
# params pooled_size, spatial_scale, sample_ratio, aligned, position_sensitive; bwd_cpu(dy, rois, dx, *params): dx
# (N, C, H, W) its gradient wrt data; fwd_gpu, bwd_gpu their CUDA twins.
fwd_cpu, bwd_cpu, fwd_gpu, bwd_gpu = region_drivers(_fwd_cpu, _bwd_cpu, fwd_kernel, bwd_kernel, _args)


PTX_CHECKS = []
for _t in ("float32", "float64"):
    _a, _i = f"{_t}[::1]", "int64"
    _sig = f"void({_a}, {_a}, {_a}, {_i}, {_i}, {_i}, {_i}, {_i}, {_i}, float64, {_i}, boolean, boolean)"
    PTX_CHECKS += [(_fwd_kernel, _sig), (_bwd_kernel, _sig)]
