"""softmax / log_softmax along one axis with temperature and optional length masking, CPU and CUDA.

Arrays are C-contiguous (outer, M, inner) views with the softmax axis in the middle.
"""
import math

import numba
import numpy as np
from numba import cuda

from .launch import block_sum, dual, grid_1d, pow2_threads
from .common import REQ_NULL, assign, parallel_kernel


@numba.njit(inline="always", nogil=True)
def clip_length(v, m):
    """Valid prefix of a row of m items given its length entry v."""
    return min(max(int(v), 0), m)


@numba.njit(inline="always", nogil=True)
def scaled(v, mx, temperature):
    """(v - max) / temperature in v's dtype; the divide is skipped at temperature 1 as MXNet does."""
    d = v - mx
    return d if temperature == 1.0 else d / type(d)(temperature)


def _softmax_row(x, out, o, i, length, temperature, log, req):
    """Thread-per-row GPU body (the CPU driver computes the same with a scratch row).
    out[o, j, i] = exp(z_j - max) / sum_k exp(z_k - max) for j < n (log: z_j - max - log sum), 0 beyond n;
    n = length[o, i] clipped to [0, M], or M when length is empty."""
    m = x.shape[1]
    n = clip_length(length[o, i], m) if length.size else m
    mx = x[o, 0, i]
    for j in range(1, n):
        if x[o, j, i] > mx:
            mx = x[o, j, i]
    s = 0.0
    for j in range(n):
        s += math.exp(scaled(x[o, j, i], mx, temperature))
    ls = math.log(s) if n > 0 else 0.0
    for j in range(m):
        if j >= n:
            v = 0.0
        elif log:
            v = scaled(x[o, j, i], mx, temperature) - ls
        else:
            v = math.exp(scaled(x[o, j, i], mx, temperature)) / s
        out[o, j, i] = assign(out[o, j, i], v, req)


def _softmax_grad_row(dy, y, dx, o, i, length, temperature, log, req):
    """softmax: dx = y * (dy - sum dy*y) / T;  log_softmax: dx = (dy - exp(y) * sum dy) / T;  0 beyond n."""
    m = y.shape[1]
    n = clip_length(length[o, i], m) if length.size else m
    s = 0.0
    for j in range(n):
        s += dy[o, j, i] * y[o, j, i] if not log else dy[o, j, i]
    for j in range(m):
        if j >= n:
            v = 0.0
        elif log:
            v = dy[o, j, i] - math.exp(y[o, j, i]) * s
        else:
            v = y[o, j, i] * (dy[o, j, i] - s)
        if temperature != 1.0:
            v /= temperature
        dx[o, j, i] = assign(dx[o, j, i], v, req)


softmax_row_dev = cuda.jit(device=True, inline="always")(_softmax_row)
softmax_grad_row, softmax_grad_row_dev = dual(_softmax_grad_row)


# ---------------------------------------------------------------- CPU drivers
@parallel_kernel(nogil=True, cache=True)
def softmax_fwd_cpu(x, out, length, temperature, log, req):
    """Row-wise (log_)softmax of x (outer, M, inner); length is int (outer, inner), or size 0 for no mask.
    Same values as _softmax_row, with each exp computed once into a scratch row."""
    outer, m, inner = x.shape
    rows = outer * inner
    if req == REQ_NULL or m == 0 or rows == 0:
        return
    chunks = min(rows, 256)
    for ch in numba.prange(chunks):
        buf = np.empty(m)
        for r in range(ch * rows // chunks, (ch + 1) * rows // chunks):
            o, i = r // inner, r % inner
            n = clip_length(length[o, i], m) if length.size else m
            mx = x[o, 0, i]
            for j in range(1, n):
                mx = max(mx, x[o, j, i])
            s = 0.0
            for j in range(n):
                d = scaled(x[o, j, i], mx, temperature)
                e = math.exp(d)
                buf[j] = d if log else e
                s += e
            ls = math.log(s) if n > 0 else 0.0
            inv = 1.0 / s if n > 0 else 0.0
            for j in range(m):
                v = 0.0 if j >= n else (buf[j] - ls if log else buf[j] * inv)
                out[o, j, i] = assign(out[o, j, i], v, req)


@parallel_kernel(nogil=True, cache=True)
def softmax_bwd_cpu(dy, y, dx, length, temperature, log, req):
    """Gradient of softmax_fwd_cpu from its output y (log-probabilities when log)."""
    outer, m, inner = y.shape
    if req == REQ_NULL or m == 0:
        return
    for r in numba.prange(outer * inner):
        softmax_grad_row(dy, y, dx, r // inner, r % inner, length, temperature, log, req)


# ---------------------------------------------------------------- GPU drivers
def _softmax_lanes_kernel(x, out, length, temperature, log, req):
    # One thread per row: coalesced across inner lanes, and right for short rows.
    outer, m, inner = x.shape
    r = cuda.grid(1)
    while r < outer * inner:
        softmax_row_dev(x, out, r // inner, r % inner, length, temperature, log, req)
        r += cuda.gridsize(1)


def _softmax_grad_lanes_kernel(dy, y, dx, length, temperature, log, req):
    # One thread per row, as _softmax_lanes_kernel.
    outer, m, inner = y.shape
    r = cuda.grid(1)
    while r < outer * inner:
        softmax_grad_row_dev(dy, y, dx, r // inner, r % inner, length, temperature, log, req)
        r += cuda.gridsize(1)


def _softmax_rows_kernel(x, out, length, temperature, log, req):
    # One block per row (inner == 1): threads stride the row, shared-memory max and sum.
    m = x.shape[1]
    red = cuda.shared.array(256, numba.float64)
    tid, nt, o = cuda.threadIdx.x, cuda.blockDim.x, cuda.blockIdx.x
    n = clip_length(length[o, 0], m) if length.size else m
    mx = -math.inf
    for j in range(tid, n, nt):
        mx = max(mx, float(x[o, j, 0]))
    red[tid] = mx
    cuda.syncthreads()
    s = nt // 2
    while s > 0:
        if tid < s:
            red[tid] = max(red[tid], red[tid + s])
        cuda.syncthreads()
        s //= 2
    xmax = x.dtype.type(red[0]) if n > 0 else x.dtype.type(0.0)
    cuda.syncthreads()
    acc = 0.0
    for j in range(tid, n, nt):
        acc += math.exp(scaled(x[o, j, 0], xmax, temperature))
    block_sum(red, acc, tid, nt)
    total = red[0]
    ls = math.log(total) if n > 0 else 0.0
    for j in range(tid, m, nt):
        if j >= n:
            v = 0.0
        elif log:
            v = scaled(x[o, j, 0], xmax, temperature) - ls
        else:
            v = math.exp(scaled(x[o, j, 0], xmax, temperature)) / total
        out[o, j, 0] = assign(out[o, j, 0], v, req)


def _softmax_grad_rows_kernel(dy, y, dx, length, temperature, log, req):
    # One block per row (inner == 1): shared-memory sum of dy * y (or dy), then _softmax_grad_row's formula.
    m = y.shape[1]
    red = cuda.shared.array(256, numba.float64)
    tid, nt, o = cuda.threadIdx.x, cuda.blockDim.x, cuda.blockIdx.x
    n = clip_length(length[o, 0], m) if length.size else m
    acc = 0.0
    for j in range(tid, n, nt):
        acc += dy[o, j, 0] * y[o, j, 0] if not log else dy[o, j, 0]
    block_sum(red, acc, tid, nt)
    s = red[0]
    for j in range(tid, m, nt):
        if j >= n:
            v = 0.0
        elif log:
            v = dy[o, j, 0] - math.exp(y[o, j, 0]) * s
        else:
            v = y[o, j, 0] * (dy[o, j, 0] - s)
        if temperature != 1.0:
            v /= temperature
        dx[o, j, 0] = assign(dx[o, j, 0], v, req)


softmax_lanes_kernel = cuda.jit(_softmax_lanes_kernel)
softmax_grad_lanes_kernel = cuda.jit(_softmax_grad_lanes_kernel)
softmax_rows_kernel = cuda.jit(_softmax_rows_kernel)
softmax_grad_rows_kernel = cuda.jit(_softmax_grad_rows_kernel)


def _length_or_empty(length):
    # Kernels take an empty (0, 0) length array for "no mask".
    return length if length is not None else cuda.device_array((0, 0), dtype="int64")


def _launch(rows_kernel, lanes_kernel, a, args, stream):
    # Long contiguous rows get a block each; short or strided rows a thread each.
    outer, m, inner = a.shape
    if inner == 1 and m > 32:
        rows_kernel[outer, pow2_threads(m), stream](*args)
    else:
        blocks, threads = grid_1d(outer * inner)
        lanes_kernel[blocks, threads, stream](*args)


def softmax_fwd_gpu(x, out, length, temperature, log, req, stream=0):
    """Same contract as softmax_fwd_cpu on device arrays; length may also be None (no mask)."""
    if req == REQ_NULL or x.size == 0:
        return
    args = (x, out, _length_or_empty(length), float(temperature), bool(log), req)
    _launch(softmax_rows_kernel, softmax_lanes_kernel, x, args, stream)


def softmax_bwd_gpu(dy, y, dx, length, temperature, log, req, stream=0):
    """Same contract as softmax_bwd_cpu on device arrays; length may also be None (no mask)."""
    if req == REQ_NULL or y.size == 0:
        return
    args = (dy, y, dx, _length_or_empty(length), float(temperature), bool(log), req)
    _launch(softmax_grad_rows_kernel, softmax_grad_lanes_kernel, y, args, stream)


PTX_CHECKS = []
for _t in ("float32", "float64"):
    _a = f"{_t}[:, :, ::1]"
    _fwd = f"void({_a}, {_a}, int64[:, ::1], float64, boolean, int64)"
    _bwd = f"void({_a}, {_a}, {_a}, int64[:, ::1], float64, boolean, int64)"
    PTX_CHECKS += [(_softmax_lanes_kernel, _fwd), (_softmax_rows_kernel, _fwd),
                   (_softmax_grad_lanes_kernel, _bwd), (_softmax_grad_rows_kernel, _bwd)]
