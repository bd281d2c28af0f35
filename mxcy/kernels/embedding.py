"""Embedding, CPU and CUDA: out[i, :] = weight[row(data[i]), :] over a flat index array, and the dense weight
gradient dweight[row(data[i]), :] += dy[i, :]. row() is MXNet 1.9.1's CPU rule: the index value truncated toward
zero as x86 converts it (NaN and values beyond int64, infinities included, become int64's minimum), then clipped
to [0, rows - 1]. data may be any integer or float type (is_float says which); weights are (rows, D) and outputs
(n, D), C-contiguous, of one float32/float64/int32/int64 type (the CUDA gradient adds atomically)."""
import numba
import numpy as np
from numba import cuda

from .common import REQ_ADD, REQ_NULL, assign, parallel_kernel
from .elemwise_gpu import fill_gpu
from .launch import grid_1d

_INT64_END = 9223372036854775808.0  # 2**63: the first float past int64
# Columns one CPU thread accumulates for every index, in index order: results do not depend on the thread count.
_COLUMNS_PER_TASK = 64


@numba.njit(inline="always", nogil=True)
def row_of(v, n_rows, is_float):
    """The weight row of index value v."""
    if is_float and not (v >= 1.0 and v < _INT64_END):
        return 0  # truncates to 0 or below; or NaN / beyond int64, which x86 turns into int64's minimum
    j = numba.int64(v)
    return 0 if j < 0 else min(j, n_rows - 1)


# ---------------------------------------------------------------- CPU drivers
@parallel_kernel(nogil=True, cache=True)
def embedding_fwd_cpu(data, weight, out, is_float, req):
    """out (n, D) (req)= the weight rows of the n index values in data."""
    n_rows, d = weight.shape
    if req == REQ_NULL:
        return
    for i in numba.prange(data.size):
        r = row_of(data[i], n_rows, is_float)
        for j in range(d):
            out[i, j] = assign(out[i, j], weight[r, j], req)


@parallel_kernel(nogil=True, cache=True)
def embedding_bwd_cpu(data, dy, dweight, is_float, req):
    """dweight (rows, D) (req)= dy's rows added at the rows of data's index values, in index order."""
    n_rows, d = dweight.shape
    if req == REQ_NULL:
        return
    if req != REQ_ADD:
        dweight[:] = 0
    rows = np.empty(data.size, np.int64)
    for i in numba.prange(data.size):
        rows[i] = row_of(data[i], n_rows, is_float)
    for task in numba.prange((d + _COLUMNS_PER_TASK - 1) // _COLUMNS_PER_TASK):
        lo = task * _COLUMNS_PER_TASK
        hi = min(lo + _COLUMNS_PER_TASK, d)
        for i in range(data.size):
            for j in range(lo, hi):
                dweight[rows[i], j] += dy[i, j]


# ---------------------------------------------------------------- GPU drivers
def _embedding_fwd_kernel(data, weight, out, is_float, req):
    # One thread per output element (i, j), grid-stride.
    n_rows, d = weight.shape
    e = cuda.grid(1)
    while e < out.size:
        i, j = e // d, e % d
        r = row_of(data[i], n_rows, is_float)
        out[i, j] = assign(out[i, j], weight[r, j], req)
        e += cuda.gridsize(1)


def _embedding_bwd_kernel(data, dy, dweight, is_float):
    # One thread per head-gradient element (i, j), grid-stride; repeated indices meet in one row, hence atomics.
    n_rows, d = dweight.shape
    e = cuda.grid(1)
    while e < dy.size:
        i, j = e // d, e % d
        cuda.atomic.add(dweight, (row_of(data[i], n_rows, is_float), j), dy[i, j])
        e += cuda.gridsize(1)


embedding_fwd_kernel = cuda.jit(_embedding_fwd_kernel)
embedding_bwd_kernel = cuda.jit(_embedding_bwd_kernel)


def embedding_fwd_gpu(data, weight, out, is_float, req, stream=0):
    """Same contract as embedding_fwd_cpu, on device arrays."""
    if req != REQ_NULL and out.size:
        blocks, threads = grid_1d(out.size)
        embedding_fwd_kernel[blocks, threads, stream](data, weight, out, is_float, req)


def embedding_bwd_gpu(data, dy, dweight, is_float, req, stream=0):
    """Same contract as embedding_bwd_cpu, on device arrays; the order of additions into a row varies."""
    if req == REQ_NULL:
        return
    if req != REQ_ADD:
        fill_gpu(dweight, 0, req, stream)
    if dy.size:
        blocks, threads = grid_1d(dy.size)
        embedding_bwd_kernel[blocks, threads, stream](data, dy, dweight, is_float)


PTX_CHECKS = []
for _idx in ("int32", "int64", "float32", "float64"):
    for _t in ("float32", "float64", "int32"):
        _v, _m = f"{_idx}[::1]", f"{_t}[:, ::1]"
        PTX_CHECKS += [
            (_embedding_fwd_kernel, f"void({_v}, {_m}, {_m}, boolean, int64)"),
            (_embedding_bwd_kernel, f"void({_v}, {_m}, {_m}, boolean)"),
        ]
