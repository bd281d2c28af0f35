"""The inference epilogue of a fused convolution (nn_conv's _fused_conv_bn): BatchNorm with its moving statistics
folded into a per-channel scale and shift (in float64), optionally plus a residual, optionally through ReLU, in
one pass over the convolution's output; CPU and CUDA."""
import math

import numba
import numpy as np
from numba import cuda

from .common import parallel_kernel
from .launch import grid_1d


@numba.njit(inline="always", nogil=True)
def affine(o, bias, has_bias, gamma, beta, mean, var, eps):
    """(scale, shift) of channel o: BatchNorm(x + bias) = x * scale + shift."""
    scale = float(gamma[o]) / math.sqrt(float(var[o]) + eps)
    shift = float(beta[o]) - float(mean[o]) * scale
    if has_bias:
        shift += float(bias[o]) * scale
    return scale, shift


@numba.njit(inline="always", nogil=True)
def _run(y, lo, q, a, b, res, has_res, relu, tmp):
    # One loop per case, free of per-element branches, so each vectorizes; results go through the scratch tmp
    # (a loop writing over what it reads became masked stores, slow on AMD; see kernels/activation.py).
    zero = y.dtype.type(0)
    if has_res:
        for i in range(numba.uint64(q)):
            tmp[i] = y[lo + i] * a + b + res[lo + i]
    else:
        for i in range(numba.uint64(q)):
            tmp[i] = y[lo + i] * a + b
    if relu:
        for i in range(numba.uint64(q)):
            t = tmp[i]
            y[lo + i] = t if t > zero else zero  # as Activation's ReLU: NaN becomes 0
    else:
        for i in range(numba.uint64(q)):
            y[lo + i] = tmp[i]


# Elements per pass through the scratch, and chunks of rows with one scratch each: a scratch per row (batch 32:
# ~10^5 small allocations a ResNet-50 call) fragmented malloc's pool of large blocks, whose pages then faulted
# in again (~0.3 s a call).
_SPAN = 4096
_CHUNKS = 64


# Not a light kernel: it runs right after the convolution's own parallel region, whose threads are still awake.
@parallel_kernel(nogil=True, cache=True)
def conv_epilogue_cpu(y, bias, has_bias, gamma, beta, mean, var, eps, res, has_res, relu):
    """In place over y (N, O, P): y[n, o] = f((y[n, o] + bias[o] - mean[o]) / sqrt(var[o] + eps) * gamma[o]
    + beta[o] (+ res[n, o])), f = ReLU or identity; bias and res are read only when has_bias, has_res (res then
    has y's shape)."""
    N, O, P = y.shape
    yf, rf = y.reshape(y.size), res.reshape(res.size)
    rows = N * O
    nchunks = min(rows, _CHUNKS)
    for c in numba.prange(nchunks):
        tmp = np.empty(min(P, _SPAN), y.dtype)
        r0, r1 = c * rows // nchunks, (c + 1) * rows // nchunks
        for n in range(r0 // O, (r1 - 1) // O + 1):  # the rows of image n within [r0, r1)
            lo, hi = max(r0, n * O), min(r1, (n + 1) * O)
            finish_rows(yf, lo * P, lo - n * O, hi - lo, P, bias, has_bias, gamma, beta, mean, var, eps, rf, has_res,
                        relu, tmp)


@numba.njit(inline="always", nogil=True)
def finish_rows(yf, start, o0, rows, P, bias, has_bias, gamma, beta, mean, var, eps, rf, has_res, relu, tmp):
    """The epilogue over `rows` consecutive channel rows of P elements from flat offset `start` of y (and of the
    residual rf), channels o0, o0 + 1, ...; tmp: scratch of at least min(P, _SPAN) elements."""
    t = yf.dtype.type
    for r in range(rows):
        scale, shift = affine(o0 + r, bias, has_bias, gamma, beta, mean, var, eps)
        for lo in range(0, P, _SPAN):
            _run(yf, numba.uint64(start + r * P + lo), min(P - lo, _SPAN), t(scale), t(shift), rf, has_res, relu,
                 tmp)


def _epilogue(y, O, P, bias, has_bias, gamma, beta, mean, var, eps, res, has_res, relu):
    # Flat y, grid-stride; the channel of element i is i // P % O.
    i = cuda.grid(1)
    while i < y.size:
        o = i // P % O
        scale = float(gamma[o]) / math.sqrt(float(var[o]) + eps)
        shift = float(beta[o]) - float(mean[o]) * scale
        if has_bias:
            shift += float(bias[o]) * scale
        yi = y[i]
        v = yi * type(yi)(scale) + type(yi)(shift)
        if has_res:
            v += res[i]
        if relu and not v > 0:
            v = type(yi)(0)
        y[i] = v
        i += cuda.gridsize(1)


_epilogue_kernel = cuda.jit(_epilogue)


def conv_epilogue_gpu(y, bias, has_bias, gamma, beta, mean, var, eps, res, has_res, relu, stream=0):
    """Same contract as conv_epilogue_cpu, on device arrays."""
    N, O, P = y.shape
    if y.size == 0:
        return
    blocks, threads = grid_1d(y.size)
    _epilogue_kernel[blocks, threads, stream](y.reshape(y.size), O, P, bias, has_bias, gamma, beta, mean, var,
                                              float(eps), res.reshape(res.size), has_res, relu)


PTX_CHECKS = [(_epilogue,
               f"void({t}[::1], int64, int64, {t}[::1], boolean, {t}[::1], {t}[::1], {t}[::1], {t}[::1], float64, "
               f"{t}[::1], boolean, boolean)") for t in ("float32", "float64")]
