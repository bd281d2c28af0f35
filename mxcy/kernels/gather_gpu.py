"""CUDA index-driven kernels on flat device arrays laid out as (outer, rows, inner): take rows at positions,
pick one row per (outer, inner), place picked values back, scatter rows, and sum runs of rows into distinct
rows in a fixed order (a deterministic scatter-add). Positions are int64 device arrays the caller validated."""
from numba import cuda

from .common import REQ_NULL, flat
from .launch import grid_1d
from .launch import store


def _take_kernel(src, pos, out, n, inner, req):
    # out[o, k, i] (req)= src[o, pos[k], i]; src is (outer, n, inner), out (outer, len(pos), inner).
    j = cuda.grid(1)
    k_rows = pos.size
    while j < out.size:
        i = j % inner
        t = j // inner
        o = t // k_rows
        store(out, j, src[(o * n + pos[t % k_rows]) * inner + i], req)
        j += cuda.gridsize(1)


def _pick_kernel(src, pos, out, n, inner, req):
    # out[o, i] (req)= src[o, pos[o, i], i]; src is (outer, n, inner), pos and out (outer, inner).
    j = cuda.grid(1)
    while j < out.size:
        i = j % inner
        store(out, j, src[((j // inner) * n + pos[j]) * inner + i], req)
        j += cuda.gridsize(1)


def _unpick_kernel(grad, pos, out, n, inner, zero, req):
    # out[o, p, i] (req)= grad[o, i] if pos[o, i] == p else zero; out is (outer, n, inner), grad and pos
    # (outer, inner); zero has out's dtype.
    j = cuda.grid(1)
    while j < out.size:
        i = j % inner
        t = j // inner
        g = (t // n) * inner + i
        if pos[g] == t % n:
            store(out, j, grad[g], req)
        else:
            store(out, j, zero, req)
        j += cuda.gridsize(1)


def _segment_sum_kernel(src, src_rows, starts, out, dst_rows, k_rows, n_rows, count, inner, zero, req):
    # out[o, dst_rows[r], i] (req)= zero + Σ_{s in [starts[r], starts[r+1])} src[o, src_rows[s], i], summed
    # in s order, for the count = outer·len(dst_rows)·inner (o, r, i); out is (outer, n_rows, inner), src
    # (outer, k_rows, inner), dst_rows distinct.
    j = cuda.grid(1)
    m = dst_rows.size
    while j < count:
        i = j % inner
        t = j // inner
        r = t % m
        o = t // m
        acc = zero
        for s in range(starts[r], starts[r + 1]):
            acc += src[(o * k_rows + src_rows[s]) * inner + i]
        store(out, (o * n_rows + dst_rows[r]) * inner + i, acc, req)
        j += cuda.gridsize(1)


def _put_rows_kernel(src, src_rows, dst, dst_rows, inner, req):
    # dst[dst_rows[t], i] (req)= src[src_rows[t], i]; src and dst are (rows, inner), dst_rows distinct.
    j = cuda.grid(1)
    while j < dst_rows.size * inner:
        i = j % inner
        t = j // inner
        store(dst, dst_rows[t] * inner + i, src[src_rows[t] * inner + i], req)
        j += cuda.gridsize(1)


take_kernel = cuda.jit(_take_kernel)
pick_kernel = cuda.jit(_pick_kernel)
unpick_kernel = cuda.jit(_unpick_kernel)
segment_sum_kernel = cuda.jit(_segment_sum_kernel)
put_rows_kernel = cuda.jit(_put_rows_kernel)


def take_gpu(src, pos, out, n, inner, req, stream=0):
    """out[o, k, i] (req)= src[o, pos[k], i] with src viewed as (outer, n, inner)."""
    if req != REQ_NULL and out.size:
        take_kernel[grid_1d(out.size) + (stream,)](flat(src), flat(pos), flat(out), n, inner, req)


def pick_gpu(src, pos, out, n, inner, req, stream=0):
    """out[o, i] (req)= src[o, pos[o, i], i] with src viewed as (outer, n, inner)."""
    if req != REQ_NULL and out.size:
        pick_kernel[grid_1d(out.size) + (stream,)](flat(src), flat(pos), flat(out), n, inner, req)


def unpick_gpu(grad, pos, out, n, inner, req, stream=0):
    """out (outer, n, inner) (req)= zeros with grad[o, i] at row pos[o, i]: pick's gradient."""
    if req != REQ_NULL and out.size:
        unpick_kernel[grid_1d(out.size) + (stream,)](flat(grad), flat(pos), flat(out), n, inner,
                                                     out.dtype.type(0), req)


def segment_sum_gpu(src, src_rows, starts, out, dst_rows, k_rows, n_rows, inner, req, stream=0):
    """out[o, dst_rows[r], i] (req)= Σ src[o, src_rows[s], i] over s in [starts[r], starts[r+1]), in that
    order, in out's dtype, with src viewed as (outer, k_rows, inner) and out as (outer, n_rows, inner); rows
    of out not in dst_rows (distinct) are left alone."""
    count = out.size // n_rows * dst_rows.size if n_rows else 0
    if req != REQ_NULL and count:
        segment_sum_kernel[grid_1d(count) + (stream,)](flat(src), flat(src_rows), flat(starts), flat(out),
                                                       flat(dst_rows), k_rows, n_rows, count, inner,
                                                       out.dtype.type(0), req)


def put_rows_gpu(src, src_rows, dst, dst_rows, inner, req, stream=0):
    """dst[dst_rows[t], :] (req)= src[src_rows[t], :] with both viewed as (rows, inner); dst_rows distinct."""
    n = dst_rows.size * inner
    if req != REQ_NULL and n:
        put_rows_kernel[grid_1d(n) + (stream,)](flat(src), flat(src_rows), flat(dst), flat(dst_rows),
                                                inner, req)


def _ptx_checks():
    checks, p = [], "int64[::1]"
    for t in ("float16", "float32", "float64", "int32"):
        v = f"{t}[::1]"
        checks += [(_take_kernel, f"void({v}, {p}, {v}, int64, int64, int64)"),
                   (_pick_kernel, f"void({v}, {p}, {v}, int64, int64, int64)"),
                   (_unpick_kernel, f"void({v}, {p}, {v}, int64, int64, {t}, int64)"),
                   (_segment_sum_kernel, f"void({v}, {p}, {p}, {v}, {p}, int64, int64, int64, int64, {t}, int64)"),
                   (_put_rows_kernel, f"void({v}, {p}, {v}, {p}, int64, int64)")]
    return checks


PTX_CHECKS = _ptx_checks()
