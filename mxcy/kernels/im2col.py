"""im2col / col2im of whole (N, C, *spatial) arrays, CPU and CUDA. CPU: drivers over the convolution kernels' per-image
_im2col/_col2im (conv_cpu.py); CUDA: one thread per column (im2col) or image element (col2im, a gather over the taps
that read it: no atomics, the same sum on every run), on the CUDA convolution's tap arithmetic (conv_gpu.py). Column
rows are channel * kernel volume + tap, as MXNet's im2col op."""
import math

import numpy as np
from numba import cuda

from .common import REQ_ADD, REQ_NULL
from .conv_cpu import _col2im, _im2col
from .conv_common import as_5d, geometry_3d
from .conv_gpu import GEO_LEN, _in_pos, _kvol, _out_pos
from .launch import grid_1d, store


def _geometry(image, kernel, stride, pad, dilate, out_spatial):
    """(image as (N, C, D*H*W) flat rows, isz, osz, ksz, s, p, d) in the kernels' 3-d form."""
    s, p, d = geometry_3d(stride, pad, dilate)
    lead = (1,) * (3 - len(kernel))
    isz = as_5d(image).shape[2:]
    return image.reshape(image.shape[0], image.shape[1], math.prod(isz)), isz, lead + tuple(out_spatial), \
        lead + tuple(int(k) for k in kernel), s, p, d


def im2col_cpu(x, col, req, kernel, stride, pad, dilate, out_spatial):
    """col[n] (C * prod(kernel), prod(out_spatial)) = the sliding windows of x[n]; x (N, C, *spatial)."""
    if req == REQ_NULL:
        return
    xr, isz, osz, ksz, s, p, d = _geometry(x, kernel, stride, pad, dilate, out_spatial)
    target = np.empty_like(col) if req == REQ_ADD else col
    rows = osz[0] * osz[1]
    for n in range(x.shape[0]):
        _im2col(xr[n].reshape(-1), 0, target[n], 0, rows, isz, osz, ksz, s, p, d)
    if req == REQ_ADD:
        col += target


def col2im_cpu(col, x, req, kernel, stride, pad, dilate, out_spatial):
    """x[n] = the sum of col[n]'s windows placed back where im2col took them (the transpose of im2col)."""
    if req == REQ_NULL:
        return
    if req != REQ_ADD:
        x[...] = 0
    xr, isz, osz, ksz, s, p, d = _geometry(x, kernel, stride, pad, dilate, out_spatial)
    rows = osz[0] * osz[1]
    for n in range(x.shape[0]):
        _col2im(np.ascontiguousarray(col[n]), xr[n].reshape(-1), 0, 0, rows, isz, osz, ksz, s, p, d)


def _im2col_kernel(x, col, geo, req):
    """col (N, C*kvol, L)[n, c*kvol + t, q] (req)= x (N, C, S)[n, c, the input position tap t reads for q] (0 in
    the padding)."""
    kvol, L = _kvol(geo), col.shape[2]
    e = cuda.grid(1)
    while e < col.size:
        n, r, q = e // (col.shape[1] * L), e // L % col.shape[1], e % L
        i = _in_pos(geo, r % kvol, q)
        v = x[n, r // kvol, i] if i >= 0 else x.dtype.type(0)
        store(col[n, r], q, v, req)
        e += cuda.gridsize(1)


def _col2im_kernel(col, x, geo, req):
    """x (N, C, S)[n, c, i] (req)= the sum over taps t of col (N, C*kvol, L)[n, c*kvol + t, the output position
    whose tap t reads i]."""
    kvol, S = _kvol(geo), x.shape[2]
    e = cuda.grid(1)
    while e < x.size:
        n, c, i = e // (x.shape[1] * S), e // S % x.shape[1], e % S
        acc = x.dtype.type(0)
        for t in range(kvol):
            q = _out_pos(geo, t, i)
            if q >= 0:
                acc += col[n, c * kvol + t, q]
        store(x[n, c], i, acc, req)
        e += cuda.gridsize(1)


im2col_kernel = cuda.jit(_im2col_kernel)
col2im_kernel = cuda.jit(_col2im_kernel)


def _gpu_args(image, col, kernel, stride, pad, dilate, out_spatial):
    """The (N, C, S) image view, the (N, C*kvol, L) col view and the conv_gpu geometry tuple."""
    xr, isz, osz, ksz, s, p, d = _geometry(image, kernel, stride, pad, dilate, out_spatial)
    geo = (image.shape[0], 1, image.shape[1], 0) + isz + osz + ksz + s + p + d + (0, 1, 0)
    return xr, col.reshape(col.shape[0], col.shape[1], col.size // max(1, col.shape[0] * col.shape[1])), geo


def im2col_gpu(x, col, req, kernel, stride, pad, dilate, out_spatial, stream=0):
    """CUDA twin of im2col_cpu on C-contiguous device arrays."""
    if req == REQ_NULL or col.size == 0:
        return
    xr, col3, geo = _gpu_args(x, col, kernel, stride, pad, dilate, out_spatial)
    blocks, threads = grid_1d(col.size)
    im2col_kernel[blocks, threads, stream](xr, col3, geo, req)


def col2im_gpu(col, x, req, kernel, stride, pad, dilate, out_spatial, stream=0):
    """CUDA twin of col2im_cpu on C-contiguous device arrays."""
    if req == REQ_NULL or x.size == 0:
        return
    xr, col3, geo = _gpu_args(x, col, kernel, stride, pad, dilate, out_spatial)
    blocks, threads = grid_1d(x.size)
    col2im_kernel[blocks, threads, stream](col3, xr, geo, req)


PTX_CHECKS = []
for _t in ("float32", "float64"):
    _sig = f"void({_t}[:, :, ::1], {_t}[:, :, ::1], UniTuple(int64, {GEO_LEN}), int64)"
    PTX_CHECKS += [(_im2col_kernel, _sig), (_col2im_kernel, _sig)]
