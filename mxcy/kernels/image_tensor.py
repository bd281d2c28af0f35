"""The per-image layout ops of input pipelines, CPU and CUDA: to_tensor ((N, H, W, C) pixels -> (N, C, H, W)
float32 / 255), normalize ((x - mean[c]) / std[c] over (N, C, H*W), and its gradient g / std[c]) and flips of
(N, H, W, C) images. Each CPU driver walks rows in `prange` (threaded only for batches: a single image is less than
a parallel region is worth); each CUDA kernel is a grid-stride loop over output elements. Values are computed as
NumPy's ufuncs do (x cast to float32, then divided by 255; subtraction then division in the array's type), so both
devices equal NumPy bit for bit."""
import numpy as np
from numba import cuda, prange

from .common import LIGHT, REQ_ADD, REQ_NULL, assign, parallel_kernel
from .launch import grid_1d, store

_BYTE_MAX = np.float32(255)


@parallel_kernel(light=LIGHT, nogil=True, cache=True)
def _to_tensor_cpu(x, out, req):
    """out[n, c, i, j] (req)= float32(x[n, i, j, c]) / 255; x (N, H, W, C), out (N, C, H, W). Each row is
    converted in one contiguous pass that vectorizes, then spread over the channel planes."""
    count, height, width, channels = x.shape
    span = width * channels
    for r in prange(count * height):
        n, i = r // height, r % height
        src = x[n, i].reshape(span)
        row = np.empty(span, np.float32)
        for t in range(span):
            row[t] = np.float32(src[t]) / _BYTE_MAX
        if channels == 3 and req != REQ_ADD:  # RGB: three planes filled in one pass over the row
            red, green, blue = out[n, 0, i], out[n, 1, i], out[n, 2, i]
            for j in range(width):
                red[j], green[j], blue[j] = row[3 * j], row[3 * j + 1], row[3 * j + 2]
            continue
        for c in range(channels):
            plane = out[n, c, i]
            for j in range(width):
                plane[j] = assign(plane[j], row[j * channels + c], req)


@parallel_kernel(light=LIGHT, nogil=True, cache=True)
def _normalize_cpu(x, shift, scale, out, req):
    """out[n, c, p] (req)= (x[n, c, p] - shift[c]) / scale[c] on (N, C, P); shift and scale in x's type."""
    count, channels, plane = x.shape
    for r in prange(count * channels):
        n, c = r // channels, r % channels
        m, s, src, dst = shift[c], scale[c], x[n, c], out[n, c]
        if req == REQ_ADD:
            for p in range(plane):
                dst[p] += (src[p] - m) / s
        else:
            for p in range(plane):
                dst[p] = (src[p] - m) / s


@parallel_kernel(light=LIGHT, nogil=True, cache=True)
def _flip_cpu(x, rows, columns, out, req):
    """out[n, i, j] (req)= x[n, i', j'] with i' = H-1-i when `rows`, j' = W-1-j when `columns`; x (N, H, W, C).
    Rows are handled flat (W * C values), so the copies run as contiguous loops."""
    count, height, width, channels = x.shape
    span = width * channels
    for r in prange(count * height):
        n, i = r // height, r % height
        src = x[n, height - 1 - i if rows else i].reshape(span)
        dst = out[n, i].reshape(span)
        if not columns:
            if req == REQ_ADD:
                for t in range(span):
                    dst[t] += src[t]
            else:
                dst[:] = src
            continue
        if channels == 3 and req != REQ_ADD:  # RGB pixels moved whole
            for j in range(width):
                back = 3 * (width - 1 - j)
                dst[3 * j], dst[3 * j + 1], dst[3 * j + 2] = src[back], src[back + 1], src[back + 2]
            continue
        for j in range(width):
            back = (width - 1 - j) * channels
            for c in range(channels):
                dst[j * channels + c] = assign(dst[j * channels + c], src[back + c], req)


@cuda.jit
def _to_tensor_kernel(x, out, req):
    count, channels, height, width = out.shape
    size = count * channels * height * width
    for t in range(cuda.grid(1), size, cuda.gridsize(1)):
        j = t % width
        i = (t // width) % height
        c = (t // (width * height)) % channels
        n = t // (width * height * channels)
        store(out[n, c, i], j, np.float32(x[n, i, j, c]) / _BYTE_MAX, req)


@cuda.jit
def _normalize_kernel(x, shift, scale, out, req):
    count, channels, plane = x.shape
    for t in range(cuda.grid(1), count * channels * plane, cuda.gridsize(1)):
        p, c, n = t % plane, (t // plane) % channels, t // (plane * channels)
        store(out[n, c], p, (x[n, c, p] - shift[c]) / scale[c], req)


@cuda.jit
def _flip_kernel(x, rows, columns, out, req):
    count, height, width, channels = x.shape
    for t in range(cuda.grid(1), count * height * width * channels, cuda.gridsize(1)):
        c = t % channels
        j = (t // channels) % width
        i = (t // (channels * width)) % height
        n = t // (channels * width * height)
        ii = height - 1 - i if rows else i
        jj = width - 1 - j if columns else j
        store(out[n, i, j], c, x[n, ii, jj, c], req)


def _launch(kernel, size, *args):
    blocks, threads = grid_1d(size)
    kernel[blocks, threads](*args)


def to_tensor_cpu(x, out, req):
    if req != REQ_NULL:
        _to_tensor_cpu(x, out, req)


def to_tensor_gpu(x, out, req):
    if req != REQ_NULL and out.size:
        _launch(_to_tensor_kernel, out.size, x, out, req)


def normalize_cpu(x, shift, scale, out, req):
    """shift and scale: NumPy arrays of x's type, one value per channel."""
    if req != REQ_NULL:
        _normalize_cpu(x, shift, scale, out, req)


def normalize_gpu(x, shift, scale, out, req):
    if req != REQ_NULL and out.size:
        _launch(_normalize_kernel, out.size, x, cuda.to_device(shift), cuda.to_device(scale), out, req)


def flip_cpu(x, rows, columns, out, req):
    if req != REQ_NULL:
        _flip_cpu(x, rows, columns, out, req)


def flip_gpu(x, rows, columns, out, req):
    if req != REQ_NULL and out.size:
        _launch(_flip_kernel, out.size, x, rows, columns, out, req)


PTX_CHECKS = []
for _t in ("uint8", "int32", "float32", "float64"):
    PTX_CHECKS += [(_to_tensor_kernel, f"void({_t}[:, :, :, ::1], float32[:, :, :, ::1], int64)"),
                   (_flip_kernel, f"void({_t}[:, :, :, ::1], boolean, boolean, {_t}[:, :, :, ::1], int64)")]
for _t in ("float32", "float64"):
    PTX_CHECKS.append((_normalize_kernel, f"void({_t}[:, :, ::1], {_t}[::1], {_t}[::1], {_t}[:, :, ::1], int64)"))
