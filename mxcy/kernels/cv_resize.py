"""OpenCV's cv::resize arithmetic (mxcy/ops/_cv_resize.py states the paths and picks one), CPU and CUDA.

CPU: the uint8 two-tap path (bilinear, enlarging area): a horizontal pass with 11-bit integer weights, then the
two-row blend as OpenCV's SIMD code computes it (drop 4 bits, keep the high halves of the 16-bit products, round at 2
bits). The other CPU paths are NumPy in _cv_resize.

CUDA: every path, one thread per output element (n, i, j, c) of (N, h, w, C) arrays, grid-stride, over per-axis tap
and weight tables built on the host: nearest, the uint8 exact halving, integer-block area means, the uint8 two-tap
path, the float64 separable sum (floats and uint8 Lanczos), its float32 variant (shrinking area) and uint8
bicubic's SIMD/scalar split. Each thread recomputes the horizontal sums of the source rows it blends, in the CPU's tap
order and types, and multiplies through launch.mul_rn32/64, which a GPU never fuses into an fma (rounded
once, where NumPy rounds the product and the sum apart), so the results equal the CPU's bit for bit. The simulator
multiplies NumPy scalars, which round the same way. One exception: float images on the integer-block area path (an
exact halving with bilinear or area, area shrinking by whole blocks) are summed here row by row in float32, while
NumPy's order depends on the layout (with one channel it sums each block row first, pairwise, then adds the rows),
so a block mean can differ from the CPU's in float32's last place; integer images sum in int64, exactly.

This module imports numba.cuda, so mxcy/ops/_cv_resize.py loads it on first use (_nn_common.kernels), as the
ops load theirs.
"""
import math

import numba
import numpy as np
from numba import cuda, njit

from .launch import grid_1d, mul_rn32, mul_rn64, store


@njit(nogil=True, cache=True)
def resize_linear_uint8(x, col_taps, col_weights, row_taps, row_weights, out):
    """x (N, H, W, C) uint8 -> out (N, h, w, C); taps (w or h, 2) are clamped to the image, weights (w or h, 2)
    are integers scaled by 2048. Each source row's horizontal pass is computed once, when first needed."""
    count, src_h, src_w, channels = x.shape
    height, width = out.shape[1], out.shape[2]
    span = width * channels
    # per output pixel of a row: the flat positions of its two source pixels (unsigned: no negative-index
    # wraparound in the gather loop, ~1.7x faster) and their weights
    first, second = np.empty(width, np.uint32), np.empty(width, np.uint32)
    w_first, w_second = np.empty(width, np.int32), np.empty(width, np.int32)
    for j in range(width):
        first[j] = min(max(col_taps[j, 0], 0), src_w - 1) * channels
        second[j] = min(max(col_taps[j, 1], 0), src_w - 1) * channels
        w_first[j], w_second[j] = col_weights[j, 0], col_weights[j, 1]
    flat = x.reshape(count, src_h, src_w * channels)
    result = out.reshape(count, height, span)
    passes = np.empty((src_h, span), np.int32)
    for n in range(count):
        done = np.zeros(src_h, np.bool_)
        for i in range(height):
            upper = min(max(row_taps[i, 0], 0), src_h - 1)
            lower = min(max(row_taps[i, 1], 0), src_h - 1)
            for src_row in (upper, lower):
                if not done[src_row]:
                    done[src_row] = True
                    _horizontal_pass(flat[n, src_row], first, second, w_first, w_second, channels,
                                     passes[src_row])
            top, bottom = np.int32(row_weights[i, 0]), np.int32(row_weights[i, 1])
            up, down, row = passes[upper], passes[lower], result[n, i]
            for k in range(span):  # int32 throughout (the values fit), so the loop vectorises
                value = np.int32(np.int32(np.int32(np.int32(up[k] >> 4) * top) >> 16)
                                 + np.int32(np.int32(np.int32(down[k] >> 4) * bottom) >> 16) + 2) >> 2
                row[k] = min(max(value, 0), 255)


@njit(nogil=True, cache=True, inline="always")
def _horizontal_pass(source, first, second, w_first, w_second, channels, target):
    """target[j * C + c] = source[first[j] + c] * w_first[j] + source[second[j] + c] * w_second[j] (int32)."""
    if channels == 3:  # RGB unrolled: the taps and weights of a pixel are loaded once
        for j in range(first.shape[0]):
            a, b, wa, wb = first[j], second[j], w_first[j], w_second[j]
            target[3 * j] = np.int32(source[a]) * wa + np.int32(source[b]) * wb
            target[3 * j + 1] = np.int32(source[a + 1]) * wa + np.int32(source[b + 1]) * wb
            target[3 * j + 2] = np.int32(source[a + 2]) * wa + np.int32(source[b + 2]) * wb
        return
    for j in range(first.shape[0]):
        a, b, wa, wb = first[j], second[j], w_first[j], w_second[j]
        for c in range(channels):
            target[j * channels + c] = np.int32(source[a + c]) * wa + np.int32(source[b + c]) * wb


# How a kernel writes a result into the output's dtype: float64, float32, or an integer type (rounded, then clipped
# to the type's range [lo, hi]).
OUT_DOUBLE, OUT_SINGLE, OUT_INT = range(3)

def out_format(dtype):
    """(kind, lo, hi) of the kernels' output arguments for an output of `dtype`."""
    dtype = np.dtype(dtype)
    if dtype.kind in "ui":
        info = np.iinfo(dtype)
        return OUT_INT, float(info.min), float(info.max)
    return (OUT_SINGLE if dtype == np.float32 else OUT_DOUBLE), 0.0, 0.0


@njit(inline="always", nogil=True)
def _pixel(k, height, width, channels):
    """(n, i, j, c) of flat output element k over (N, height, width, channels)."""
    rest = k // channels
    return rest // width // height, rest // width % height, rest % width, k % channels


@njit(inline="always", nogil=True)
def _clamp(tap, size):
    return min(max(tap, 0), size - 1)


@njit(inline="always", nogil=True)
def _half_up(v):
    """floor(v + 0.5), as NumPy computes it (the addition rounded first)."""
    return math.floor(v + 0.5)


@njit(inline="always", nogil=True)
def _half_even(v):
    """v rounded to the nearest integer, ties to even (np.rint), exactly."""
    low = math.floor(v)
    rest = v - low  # exact: low is v's integer part
    return low + 1 if rest > 0.5 or (rest == 0.5 and low % 2 != 0) else low


@cuda.jit(device=True, inline="always")
def _emit(out, at, v, req, kind, lo, hi):
    """out[at] (req)= v in out's dtype; for integer types v is already rounded and is clipped here."""
    if kind == OUT_INT:
        store(out, at, numba.int64(min(max(v, lo), hi)), req)
    elif kind == OUT_SINGLE:
        store(out, at, numba.float32(v), req)
    else:
        store(out, at, numba.float64(v), req)


@cuda.jit(device=True, inline="always")
def _row64(x, n, r, j, c, taps, weights):
    """Source row r's horizontal sum for output column j in float64: sum_t x[n, r, taps[j, t], c] * weights[j, t]."""
    acc = 0.0
    for t in range(taps.shape[1]):
        acc += mul_rn64(numba.float64(x[n, r, _clamp(taps[j, t], x.shape[2]), c]), weights[j, t])
    return acc


@cuda.jit(device=True, inline="always")
def _row32(x, n, r, j, c, taps, weights):
    """_row64 in float32 (x's values cast to float32 first, as the CPU's area path does)."""
    acc = numba.float32(0)
    for t in range(taps.shape[1]):
        acc += mul_rn32(numba.float32(x[n, r, _clamp(taps[j, t], x.shape[2]), c]), weights[j, t])
    return acc


def _nearest_kernel(x, rows, cols, out, req):
    """out (req)= x at source rows[i], cols[j] (positions inside the image)."""
    _, height, width, channels = out.shape
    k = cuda.grid(1)
    while k < out.size:
        n, i, j, c = _pixel(k, height, width, channels)
        store(out, (n, i, j, c), x[n, rows[i], cols[j], c], req)
        k += cuda.gridsize(1)


def _halve_uint8_kernel(x, out, req):
    """uint8 exact halving: (a + b + c + d + 2) >> 2 over each 2x2 block."""
    _, height, width, channels = out.shape
    k = cuda.grid(1)
    while k < out.size:
        n, i, j, c = _pixel(k, height, width, channels)
        total = (numba.int64(x[n, 2 * i, 2 * j, c]) + numba.int64(x[n, 2 * i, 2 * j + 1, c])
                 + numba.int64(x[n, 2 * i + 1, 2 * j, c]) + numba.int64(x[n, 2 * i + 1, 2 * j + 1, c]))
        store(out, (n, i, j, c), (total + 2) >> 2, req)
        k += cuda.gridsize(1)


def _block_area_kernel(x, out, req, scale, kind, lo, hi):
    """Integer-block area: each block's sum (int64 for integer types, float32 for floats, row by row) times float32
    `scale` (1 / block size), rounded half to even for integer outputs."""
    _, height, width, channels = out.shape
    block_h, block_w = x.shape[1] // height, x.shape[2] // width
    k = cuda.grid(1)
    while k < out.size:
        n, i, j, c = _pixel(k, height, width, channels)
        whole, single = numba.int64(0), numba.float32(0)
        for r in range(i * block_h, (i + 1) * block_h):
            for s in range(j * block_w, (j + 1) * block_w):
                if kind == OUT_INT:
                    whole += numba.int64(x[n, r, s, c])
                else:
                    single += numba.float32(x[n, r, s, c])
        v = mul_rn32(numba.float32(whole) if kind == OUT_INT else single, scale)
        _emit(out, (n, i, j, c), _half_even(v) if kind == OUT_INT else v, req, kind, lo, hi)
        k += cuda.gridsize(1)


def _linear_uint8_kernel(x, col_taps, col_weights, row_taps, row_weights, out, req):
    """resize_linear_uint8's arithmetic per output element (the values fit int32, so int64 gives the same)."""
    _, height, width, channels = out.shape
    src_h, src_w = x.shape[1], x.shape[2]
    k = cuda.grid(1)
    while k < out.size:
        n, i, j, c = _pixel(k, height, width, channels)
        left, right = _clamp(col_taps[j, 0], src_w), _clamp(col_taps[j, 1], src_w)
        value = numba.int64(2)
        for t in range(2):
            r = _clamp(row_taps[i, t], src_h)
            row = (numba.int64(x[n, r, left, c]) * col_weights[j, 0]
                   + numba.int64(x[n, r, right, c]) * col_weights[j, 1])
            value += ((row >> 4) * row_weights[i, t]) >> 16
        store(out, (n, i, j, c), min(max(value >> 2, 0), 255), req)
        k += cuda.gridsize(1)


def _separable_kernel(x, col_taps, col_weights, row_taps, row_weights, out, req, kind, lo, hi):
    """The generic path: sum_t row_weights[i, t] * (source row row_taps[i, t]'s horizontal sum), all in float64,
    rounded half up for integer outputs."""
    _, height, width, channels = out.shape
    k = cuda.grid(1)
    while k < out.size:
        n, i, j, c = _pixel(k, height, width, channels)
        v = 0.0
        for t in range(row_taps.shape[1]):
            r = _clamp(row_taps[i, t], x.shape[1])
            v += mul_rn64(_row64(x, n, r, j, c, col_taps, col_weights), row_weights[i, t])
        _emit(out, (n, i, j, c), _half_up(v) if kind == OUT_INT else v, req, kind, lo, hi)
        k += cuda.gridsize(1)


def _separable32_kernel(x, col_taps, col_weights, row_taps, row_weights, out, req, kind, lo, hi):
    """The shrinking area path: _separable_kernel in float32, rounded half to even for integer outputs."""
    _, height, width, channels = out.shape
    k = cuda.grid(1)
    while k < out.size:
        n, i, j, c = _pixel(k, height, width, channels)
        v = numba.float32(0)
        for t in range(row_taps.shape[1]):
            r = _clamp(row_taps[i, t], x.shape[1])
            v += mul_rn32(_row32(x, n, r, j, c, col_taps, col_weights), row_weights[i, t])
        _emit(out, (n, i, j, c), _half_even(v) if kind == OUT_INT else v, req, kind, lo, hi)
        k += cuda.gridsize(1)


def _cubic_uint8_kernel(x, col_taps, col_weights, row_taps, betas, betas32, out, req, vector_end):
    """uint8 bicubic: exact integer row sums (col_weights are the 11-bit weights, so the float64 sums are exact),
    blended by betas (row weights / 2048^2): in float32 rounded half to even where the CPU's SIMD code runs (flat
    row positions j * C + c below vector_end), in float64 rounded half up in the scalar tail."""
    _, height, width, channels = out.shape
    k = cuda.grid(1)
    while k < out.size:
        n, i, j, c = _pixel(k, height, width, channels)
        simd, exact = numba.float32(0), 0.0
        for t in range(row_taps.shape[1]):
            row = _row64(x, n, _clamp(row_taps[i, t], x.shape[1]), j, c, col_taps, col_weights) * 2048.0
            simd += mul_rn32(numba.float32(row), betas32[i, t])
            exact += mul_rn64(row, betas[i, t])
        v = _half_even(simd) if j * channels + c < vector_end else _half_up(exact)
        store(out, (n, i, j, c), min(max(v, 0), 255), req)
        k += cuda.gridsize(1)


(nearest_kernel, halve_uint8_kernel, block_area_kernel, linear_uint8_kernel, separable_kernel, separable32_kernel,
 cubic_uint8_kernel) = (cuda.jit(k) for k in (
    _nearest_kernel, _halve_uint8_kernel, _block_area_kernel, _linear_uint8_kernel, _separable_kernel,
    _separable32_kernel, _cubic_uint8_kernel))


def _launch(kernel, out, *args):
    """kernel(*args) with a thread per element of out (grid-stride)."""
    blocks, threads = grid_1d(out.size)
    kernel[blocks, threads](*args)


def nearest_gpu(x, rows, cols, out, req):
    """out (N, h, w, C) (req)= x (N, H, W, C) at rows (h,) and cols (w,), device arrays."""
    _launch(nearest_kernel, out, x, rows, cols, out, req)


def halve_uint8_gpu(x, out, req):
    _launch(halve_uint8_kernel, out, x, out, req)


def block_area_gpu(x, out, req):
    """Integer-block area averages of x (N, H, W, C) into out (N, h, w, C) (h divides H, w divides W)."""
    scale = np.float32(1 / ((x.shape[1] // out.shape[1]) * (x.shape[2] // out.shape[2])))
    _launch(block_area_kernel, out, x, out, req, scale, *out_format(out.dtype))


def linear_uint8_gpu(x, col_taps, col_weights, row_taps, row_weights, out, req):
    """The uint8 two-tap path on device tables: int64 taps (w or h, 2), int64 weights scaled by 2048."""
    _launch(linear_uint8_kernel, out, x, col_taps, col_weights, row_taps, row_weights, out, req)


def separable_gpu(x, col_taps, col_weights, row_taps, row_weights, out, req):
    """Two-pass tap sums; float64 weights sum in float64 (rounded half up), float32 weights in float32 (rounded half
    to even)."""
    kernel = separable32_kernel if col_weights.dtype == np.float32 else separable_kernel
    _launch(kernel, out, x, col_taps, col_weights, row_taps, row_weights, out, req, *out_format(out.dtype))


def cubic_uint8_gpu(x, col_taps, col_weights, row_taps, betas, betas32, out, req, vector_end):
    _launch(cubic_uint8_kernel, out, x, col_taps, col_weights, row_taps, betas, betas32, out, req, vector_end)


def _ptx_checks():
    checks = [(_halve_uint8_kernel, "void(uint8[:, :, :, ::1], uint8[:, :, :, ::1], int64)"),
              (_linear_uint8_kernel, "void(uint8[:, :, :, ::1], int64[:, ::1], int64[:, ::1], int64[:, ::1], "
                                     "int64[:, ::1], uint8[:, :, :, ::1], int64)"),
              (_cubic_uint8_kernel, "void(uint8[:, :, :, ::1], int64[:, ::1], float64[:, ::1], int64[:, ::1], "
                                    "float64[:, ::1], float32[:, ::1], uint8[:, :, :, ::1], int64, int64)")]
    for t in ("uint8", "int8", "int32", "float32", "float64"):
        a, fmt = f"{t}[:, :, :, ::1]", "int64, float64, float64"
        checks += [(_nearest_kernel, f"void({a}, int64[::1], int64[::1], {a}, int64)"),
                   (_block_area_kernel, f"void({a}, {a}, int64, float32, {fmt})")]
        for w, kernel in (("float64", _separable_kernel), ("float32", _separable32_kernel)):
            tables = f"int64[:, ::1], {w}[:, ::1], int64[:, ::1], {w}[:, ::1]"
            checks.append((kernel, f"void({a}, {tables}, {a}, int64, {fmt})"))
    return checks


PTX_CHECKS = _ptx_checks()
