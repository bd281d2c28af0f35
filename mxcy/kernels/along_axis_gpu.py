"""CUDA gather and scatter-add along the middle axis of C-contiguous (outer, n, inner) arrays by an index array
(outer, k, inner): gather out[o, j, i] (req)= data[o, index[o, j, i], i]; scatter out[o, s, i] (req)= the sum of
data[o, j, i] over index[o, j, i] = s, in a float64/int64 atomic accumulator (exact where indices do not repeat).
Indices truncate to integers and negative ones count from the end (NumPy); any other outside [0, n) sets bad[0]."""
import numba
import numpy as np
from numba import cuda

from .common import REQ_NULL, REQ_WRITE, assign, flat
from .elemwise_gpu import copy_gpu, fill_gpu
from .launch import grid_1d


@cuda.jit(device=True, inline="always")
def _position(v, n, bad):
    """Index value v as a position in [0, n), or -1 after flagging bad."""
    p = -1
    if v == v:  # NaN is no position
        p = numba.int64(v)
        if p < 0:
            p += n
    if p < 0 or p >= n:
        bad[0] = 1
        return -1
    return p


def _gather_kernel(data, index, out, n, k, inner, bad, req):
    t = cuda.grid(1)
    while t < out.size:
        p = _position(index[t], n, bad)
        if p >= 0:
            out[t] = assign(out[t], data[(t // (k * inner) * n + p) * inner + t % inner], req)
        t += cuda.gridsize(1)


def _scatter_kernel(data, index, acc, n, k, inner, bad):
    t = cuda.grid(1)
    while t < data.size:
        p = _position(index[t], n, bad)
        if p >= 0:
            cuda.atomic.add(acc, (t // (k * inner) * n + p) * inner + t % inner, data[t])
        t += cuda.gridsize(1)


_gather = cuda.jit(_gather_kernel)
_scatter = cuda.jit(_scatter_kernel)
PTX_CHECKS = []
for _t, _i, _acc in (("float32", "int64", "float64"), ("float64", "float32", "float64"), ("int32", "int32", "int64")):
    PTX_CHECKS += [
        (_gather_kernel, f"void({_t}[::1], {_i}[::1], {_t}[::1], int64, int64, int64, int32[::1], int64)"),
        (_scatter_kernel, f"void({_t}[::1], {_i}[::1], {_acc}[::1], int64, int64, int64, int32[::1])")]


def _checked(launch, stream):
    # Run launch(bad) with a zeroed flag; whether every index was in range (a small copy back, which waits).
    bad = cuda.to_device(np.zeros(1, np.int32), stream=stream)
    launch(bad)
    return not bad.copy_to_host(stream=stream)[0]


_ACC_TYPES = {"f": np.float64, "u": np.uint64}  # otherwise int64


def gather_axis_gpu(data, index, out, n, k, inner, req, stream=0):
    """out (req)= data (outer, n, inner) gathered at index (outer, k, inner), out shaped like index; returns
    whether every index was in range (out is unspecified where one was not)."""
    if req == REQ_NULL or out.size == 0:
        return True
    blocks, threads = grid_1d(out.size)
    return _checked(lambda bad: _gather[blocks, threads, stream](
        flat(data), flat(index), flat(out), n, k, inner, bad, req), stream)


def scatter_axis_gpu(data, index, out, k, size, inner, req, stream=0):
    """out (outer, size, inner) (req)= zeros with data (outer, k, inner) added at index (data's shape) along the
    middle axis; returns whether every index was in range (out is then left as it was)."""
    if req == REQ_NULL or out.size == 0:
        return True
    acc = cuda.device_array(out.size, _ACC_TYPES.get(data.dtype.kind, np.int64), stream=stream)
    fill_gpu(acc, 0, REQ_WRITE, stream)
    blocks, threads = grid_1d(max(data.size, 1))
    ok = data.size == 0 or _checked(lambda bad: _scatter[blocks, threads, stream](
        flat(data), flat(index), acc, size, k, inner, bad), stream)
    if ok:
        copy_gpu(acc, flat(out), req, stream)
    return ok
