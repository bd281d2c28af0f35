"""CUDA elementwise kernels (unary math, binary flat/broadcast/scalar, fill, copy/cast) and axis reductions
(sum, mean, prod, max, min, nansum, nanprod, and the L1/L2 norms), with host drivers on C-contiguous device arrays. Kernels walk flat arrays grid-stride and store under req:
write/inplace assign, add accumulates, null launches nothing."""
import math

import numba
import numpy as np
from numba import cuda

from .common import REQ_NULL, REQ_WRITE, flat
from .elemwise_common import BINARY_FUNCS, UNARY_FUNCS
from .launch import store

MAX_DIMS = 5  # dims of a broadcast or reduction layout, after merging neighbouring axes
THREADS = 256
MAX_BLOCKS = 2048  # enough to fill a GPU; grid-stride loops cover larger arrays
# Reductions: one thread per output when outputs are many or each reduces few items; otherwise blocks of
# (output, split) reduce SPLIT_ITEMS items each into partials that a second kernel combines in order.
ROWS_MIN_OUTPUTS = 16384
ROWS_MAX_COUNT = 64
SPLIT_ITEMS = THREADS * 16
MAX_SPLITS = 1024
REDUCE_KINDS = {"sum": 0, "mean": 1, "prod": 2, "max": 3, "min": 4, "nansum": 5, "nanprod": 6, "norm1": 7,
                "norm2": 8}
_SUM, _MEAN, _PROD, _MAX, _MIN, _NANSUM, _NANPROD, _NORM1, _NORM2 = range(9)


@numba.njit(inline="always", nogil=True)
def _offset(i, shape, strides):
    # Element offset of flat index i in C-order `shape` (MAX_DIMS dims) with element `strides`.
    off = 0
    for d in range(MAX_DIMS - 1, -1, -1):
        if i == 0:
            break
        off += (i % shape[d]) * strides[d]
        i //= shape[d]
    return off


@numba.njit(inline="always", nogil=True, error_model="numpy")
def _combine(acc, v, kind):
    # acc (kind) v; nan propagates through max/min, nansum/nanprod skip nan items.
    if kind == _PROD:
        return acc * v
    if kind == _MAX:
        return v if v > acc or v != v else acc
    if kind == _MIN:
        return v if v < acc or v != v else acc
    if kind == _NANSUM:
        return acc + v if v == v else acc
    if kind == _NANPROD:
        return acc * v if v == v else acc
    if kind == _NORM1:
        return acc + abs(v)
    if kind == _NORM2:
        return acc + v * v
    return acc + v


@numba.njit(inline="always", nogil=True)
def _merge_kind(kind):
    # How partial results of a `kind` reduction combine: those of item-transforming or nan-skipping kinds add
    # (or multiply) plainly.
    if kind == _NANSUM or kind == _MEAN or kind == _NORM1 or kind == _NORM2:
        return _SUM
    if kind == _NANPROD:
        return _PROD
    return kind


@cuda.jit(device=True, inline="always")
def _store_result(out, o, acc, count, kind, req):
    # out[o] (req)= the finished reduction: mean divides by count, norm2 takes the root. Separate stores keep
    # integer sums out of floating point.
    if kind == _MEAN:
        store(out, o, acc / count, req)
    elif kind == _NORM2:
        store(out, o, math.sqrt(acc), req)
    else:
        store(out, o, acc, req)


def _make_unary(f):
    def _unary_kernel(x, out, req):
        # out[i] (req)= f(x[i]); flat arrays of one length.
        i = cuda.grid(1)
        while i < out.size:
            store(out, i, f(x[i]), req)
            i += cuda.gridsize(1)
    return _unary_kernel


def _make_binary(f):
    def _binary_kernel(a, b, out, req):
        # out[i] (req)= f(a[i], b[i]); flat arrays of one length.
        i = cuda.grid(1)
        while i < out.size:
            store(out, i, f(a[i], b[i]), req)
            i += cuda.gridsize(1)
    return _binary_kernel


def _make_broadcast(f):
    def _broadcast_kernel(a, b, out, shape, sa, sb, req):
        # out[i] (req)= f(a[ia], b[ib]): i's coordinates in C-order `shape` (MAX_DIMS dims) dotted with the
        # element strides sa of a and sb of b (0 on broadcast axes).
        i = cuda.grid(1)
        while i < out.size:
            r = i
            ia = 0
            ib = 0
            for d in range(MAX_DIMS - 1, -1, -1):
                if r == 0:
                    break
                c = r % shape[d]
                r //= shape[d]
                ia += c * sa[d]
                ib += c * sb[d]
            store(out, i, f(a[ia], b[ib]), req)
            i += cuda.gridsize(1)
    return _broadcast_kernel


def _make_scalar(f):
    def _scalar_kernel(x, s, out, reverse, req):
        # out[i] (req)= f(s, x[i]) if reverse else f(x[i], s); s has x's dtype.
        i = cuda.grid(1)
        while i < out.size:
            store(out, i, f(s, x[i]) if reverse else f(x[i], s), req)
            i += cuda.gridsize(1)
    return _scalar_kernel


def _fill_kernel(out, value, req):
    # out[i] (req)= value; value has out's dtype.
    i = cuda.grid(1)
    while i < out.size:
        store(out, i, value, req)
        i += cuda.gridsize(1)


def _copy_kernel(x, out, req):
    # out[i] (req)= x[i] converted to out's dtype (copy and cast); flat arrays of one length.
    i = cuda.grid(1)
    while i < out.size:
        store(out, i, x[i], req)
        i += cuda.gridsize(1)


def _reduce_rows_kernel(x, out, kshape, kstride, oshape, ostride, inner, istride, init, count, kind, req):
    # Thread per output o (C order over the kept axes kshape/kstride): combine x over the reduced axes, the
    # outer ones as flat index j in oshape/ostride and the innermost (inner items, istride) walked directly.
    o = cuda.grid(1)
    while o < out.size:
        base = _offset(o, kshape, kstride)
        acc = init
        for j in range(count // inner):
            p = base + _offset(j, oshape, ostride)
            for k in range(inner):
                acc = _combine(acc, x[p + k * istride], kind)
        _store_result(out, o, acc, count, kind, req)
        o += cuda.gridsize(1)


def _make_reduce_split(acc_type):
    def _reduce_split_kernel(x, part, kshape, kstride, rshape, rstride, init, count, kind):
        # Block (o, s), blockDim a power of two: combine the s-th of part.shape[1] equal chunks of output o's
        # reduced items (flat index j in rshape/rstride) through a shared-memory tree into part[o, s].
        acc_sh = cuda.shared.array(THREADS, acc_type)
        tid, nt = cuda.threadIdx.x, cuda.blockDim.x
        o, s, ns = cuda.blockIdx.x, cuda.blockIdx.y, cuda.gridDim.y
        base = _offset(o, kshape, kstride)
        acc = init
        for j in range(s * count // ns + tid, (s + 1) * count // ns, nt):
            acc = _combine(acc, x[base + _offset(j, rshape, rstride)], kind)
        acc_sh[tid] = acc
        cuda.syncthreads()
        merge = _merge_kind(kind)
        step = nt // 2
        while step > 0:
            if tid < step:
                acc_sh[tid] = _combine(acc_sh[tid], acc_sh[tid + step], merge)
            cuda.syncthreads()
            step //= 2
        if tid == 0:
            part[o, s] = acc_sh[0]
    return _reduce_split_kernel


def _reduce_finish_kernel(part, out, init, count, kind, req):
    # Thread per output o: merge part[o, :] in order, finish and store (req) into out[o].
    o = cuda.grid(1)
    merge = _merge_kind(kind)
    while o < out.size:
        acc = init
        for s in range(part.shape[1]):
            acc = _combine(acc, part[o, s], merge)
        _store_result(out, o, acc, count, kind, req)
        o += cuda.gridsize(1)


fill_kernel = cuda.jit(_fill_kernel)
copy_kernel = cuda.jit(_copy_kernel)
reduce_rows_kernel = cuda.jit(_reduce_rows_kernel)
reduce_finish_kernel = cuda.jit(_reduce_finish_kernel)
_ACC_TYPES = {"f": (np.float64, numba.float64), "u": (np.uint64, numba.uint64), "i": (np.int64, numba.int64)}
reduce_split_kernels = {k: cuda.jit(_make_reduce_split(t)) for k, (_, t) in _ACC_TYPES.items()}
_KERNELS = {}  # (family, op name) -> compiled kernel, built on first use


def _kernel(family, name):
    k = _KERNELS.get((family, name))
    if k is None:
        funcs = UNARY_FUNCS if family == "unary" else BINARY_FUNCS
        make = {"unary": _make_unary, "binary": _make_binary, "broadcast": _make_broadcast,
                "scalar": _make_scalar}[family]
        k = _KERNELS[(family, name)] = cuda.jit(make(funcs[name]))
    return k


def _grid(n):
    # (blocks, threads) for a grid-stride loop over n items: whole warps, at most THREADS per block.
    threads = min(THREADS, -(-n // 32) * 32)
    return min(-(-n // threads), MAX_BLOCKS), threads


def unary_gpu(name, x, out, req, stream=0):
    """out (req)= UNARY_FUNCS[name](x) elementwise; x and out of one shape, not float16 (callers widen it)."""
    if req != REQ_NULL and out.size:
        _kernel("unary", name)[_grid(out.size) + (stream,)](flat(x), flat(out), req)


def _c_strides(shape):
    strides, s = [], 1
    for n in reversed(shape):
        strides.append(s)
        s *= n
    return strides[::-1]


def _pad(dims, width):
    # Columns of `dims` (tuples) left-padded to MAX_DIMS rows with the tuple `width`.
    if len(dims) > MAX_DIMS:
        raise ValueError(f"more than {MAX_DIMS} dimensions after merging axes: {dims}")
    return tuple(zip(*([width] * (MAX_DIMS - len(dims)) + dims)))


def broadcast_layout(a_shape, b_shape, out_shape):
    """(shape, a strides, b strides), each MAX_DIMS long: out_shape with size-1 axes dropped and neighbouring
    axes merged where both inputs allow, element strides 0 on broadcast axes."""
    nd = len(out_shape)
    dims = []
    for shape in (a_shape, b_shape):
        shape = (1,) * (nd - len(shape)) + tuple(shape)
        dims.append([0 if n == 1 else s for n, s in zip(shape, _c_strides(shape))])
    merged = []
    for n, sa, sb in zip(out_shape, *dims):
        if n == 1:
            continue
        if merged and merged[-1][1] == n * sa and merged[-1][2] == n * sb:
            merged[-1] = (merged[-1][0] * n, sa, sb)
        else:
            merged.append((n, sa, sb))
    return _pad(merged, (1, 0, 0))


def binary_gpu(name, a, b, out, req, stream=0):
    """out (req)= BINARY_FUNCS[name](a, b) elementwise with NumPy broadcasting (at most MAX_DIMS dims after
    merging axes); a and b share a dtype, not float16 (callers widen it)."""
    if req == REQ_NULL or not out.size:
        return
    grid = _grid(out.size) + (stream,)
    if a.shape == b.shape == out.shape:
        _kernel("binary", name)[grid](flat(a), flat(b), flat(out), req)
    else:
        shape, sa, sb = broadcast_layout(a.shape, b.shape, out.shape)
        _kernel("broadcast", name)[grid](flat(a), flat(b), flat(out), shape, sa, sb, req)


def scalar_gpu(name, x, scalar, out, reverse, req, stream=0):
    """out (req)= f(x, scalar), or f(scalar, x) when `reverse`, with f = BINARY_FUNCS[name]; the scalar is
    cast to x's dtype first, as MXNet computes in the array's type. x is not float16 (callers widen it, after
    rounding the scalar to float16)."""
    if req != REQ_NULL and out.size:
        _kernel("scalar", name)[_grid(out.size) + (stream,)](flat(x), x.dtype.type(scalar), flat(out),
                                                             bool(reverse), req)


def fill_gpu(out, value, req, stream=0):
    """out (req)= value, cast to out's dtype."""
    if req != REQ_NULL and out.size:
        fill_kernel[_grid(out.size) + (stream,)](flat(out), out.dtype.type(value), req)


def copy_gpu(x, out, req, stream=0):
    """out (req)= x in C order, cast to out's dtype; x and out have the same size (shapes may differ)."""
    if x.size != out.size:
        raise ValueError(f"copy: sizes differ, {x.shape} vs {out.shape}")
    if req != REQ_NULL and out.size:
        copy_kernel[_grid(out.size) + (stream,)](flat(x), flat(out), req)


def reduce_layout(shape, axes):
    """(kept, reduced) lists of (size, element stride) of a C-contiguous `shape` reduced over `axes`: size-1
    axes dropped, neighbouring axes of one kind merged; reduced is [(1, 0)] when nothing is reduced."""
    kept, reduced, last = [], [], None
    for d, (n, s) in enumerate(zip(shape, _c_strides(shape))):
        if n == 1:
            continue
        group = reduced if d in axes else kept
        if group is last and group[-1][1] == n * s:
            group[-1] = (group[-1][0] * n, s)
        else:
            group.append((n, s))
        last = group
    return kept, reduced or [(1, 0)]


def _identity(code, acc):
    # The start value of a `code` reduction in accumulator type `acc`.
    if code in (_PROD, _NANPROD):
        return acc(1)
    if code == _MAX:
        return acc(-np.inf if acc is np.float64 else np.iinfo(acc).min)
    if code == _MIN:
        return acc(np.inf if acc is np.float64 else np.iinfo(acc).max)
    return acc(0)


def reduce_gpu(x, out, axes, kind, req, stream=0):
    """out (req)= the `kind` reduction (REDUCE_KINDS) of C-contiguous x over `axes` (ints in range(x.ndim));
    out holds the kept axes in C order, whatever its shape (reduced axes removed or kept as 1). Sums use
    float64/int64/uint64 accumulators; the result is deterministic (no atomics). x is not float16 (callers widen
    it)."""
    code = REDUCE_KINDS[kind]
    count = int(np.prod([x.shape[a] for a in axes], dtype=np.int64))
    if req == REQ_NULL or not out.size:
        return
    if count == 0:
        if code in (_MAX, _MIN):
            raise ValueError(f"cannot take the {kind} of an empty selection of shape {x.shape}")
        fill_gpu(out, np.nan if code == _MEAN else 1 if code in (_PROD, _NANPROD) else 0, req, stream)
        return
    acc_key = x.dtype.kind if x.dtype.kind in "fu" else "i"
    acc_np = _ACC_TYPES[acc_key][0]
    init = _identity(code, acc_np)
    kept, reduced = reduce_layout(x.shape, axes)
    kshape, kstride = _pad(kept, (1, 0))
    xf, of = flat(x), flat(out)
    if out.size >= ROWS_MIN_OUTPUTS or count <= ROWS_MAX_COUNT:
        oshape, ostride = _pad(reduced[:-1], (1, 0))
        inner, istride = reduced[-1]
        reduce_rows_kernel[_grid(out.size) + (stream,)](xf, of, kshape, kstride, oshape, ostride, inner,
                                                       istride, init, count, code, req)
        return
    rshape, rstride = _pad(reduced, (1, 0))
    splits = max(1, min(-(-count // SPLIT_ITEMS), MAX_SPLITS // out.size))
    threads = 1 << (min(-(-count // splits), THREADS) - 1).bit_length()
    part = cuda.device_array((out.size, splits), acc_np, stream=stream)
    reduce_split_kernels[acc_key][(out.size, splits), threads, stream](xf, part, kshape, kstride, rshape,
                                                                        rstride, init, count, code)
    reduce_finish_kernel[_grid(out.size) + (stream,)](part, of, init, count, code, req)


def _ptx_checks():
    # (function, signature) pairs: every scalar formula through the flat kernels at float32 and int32 (its
    # typing is what differs per op), each kernel template and reduction at several dtypes.
    checks, tup = [], "UniTuple(int64, 5)"
    for t in ("float32", "int32"):
        v = f"{t}[::1]"
        checks += [(_make_unary(f), f"void({v}, {v}, int64)") for f in UNARY_FUNCS.values()]
        checks += [(_make_binary(f), f"void({v}, {v}, {v}, int64)") for f in BINARY_FUNCS.values()]
    for t in ("float32", "float64", "int32"):
        v, f = f"{t}[::1]", BINARY_FUNCS["mod"]
        checks += [(_make_broadcast(f), f"void({v}, {v}, {v}, {tup}, {tup}, {tup}, int64)"),
                   (_make_scalar(f), f"void({v}, {t}, {v}, boolean, int64)"),
                   (_fill_kernel, f"void({v}, {t}, int64)"),
                   (_copy_kernel, f"void({v}, float32[::1], int64)"),
                   (_copy_kernel, f"void(float32[::1], {v}, int64)")]
    checks += [(_copy_kernel, "void(float16[::1], float32[::1], int64)"),
               (_copy_kernel, "void(float32[::1], float16[::1], int64)")]
    for t, acc in (("float32", "float64"), ("float64", "float64"), ("int32", "int64"), ("uint8", "uint64")):
        v, ts = f"{t}[::1]", f"{tup}, {tup}"
        checks += [
            (_reduce_rows_kernel, f"void({v}, {v}, {ts}, {ts}, int64, int64, {acc}, int64, int64, int64)"),
            (_make_reduce_split(getattr(numba, acc)),
             f"void({v}, {acc}[:, ::1], {ts}, {ts}, {acc}, int64, int64)"),
            (_reduce_finish_kernel, f"void({acc}[:, ::1], {v}, {acc}, int64, int64, int64)")]
    return checks


PTX_CHECKS = _ptx_checks()
