"""Pooling (max / avg / sum / lp) over 1-3 spatial dims, NCHW, forward and backward, CPU and CUDA.

Arrays are C-contiguous (N*C, D, H, W) views: 1-D and 2-D pooling use D = H = 1 with kernel 1, stride 1, pad 0.
"""
import math

import numba
import numpy as np
from numba import cuda

from .launch import dual, grid_1d
from .common import REQ_ADD, REQ_NULL, assign, parallel_kernel

MAX, AVG, SUM, LP = range(4)
POOL_TYPES = {"max": MAX, "avg": AVG, "sum": SUM, "lp": LP}
VALID, FULL, SAME = range(3)
CONVENTIONS = {"valid": VALID, "full": FULL, "same": SAME}


def pool_out_size(size, kernel, stride, pad, convention):
    """MXNet's output extent: valid floor((x+2p-k)/s)+1, full ceil((x+2p-k)/s)+1, same ceil((x+2p)/s)."""
    if convention == VALID:
        return 1 + (size + 2 * pad - kernel) // stride
    if convention == FULL:
        return 1 - (-(size + 2 * pad - kernel) // stride)
    return -(-(size + 2 * pad) // stride)


def pool_geometry(spatial, kernel, stride, pad, convention, global_pool=False):
    """3-D (kernel, stride, pad, out_spatial) for a 1-3 dim pooling; global pooling takes the whole
    input with stride 1 and pad 0 into one output whatever the convention (MXNet 1.9.1).
    Leading dims of 1 turn 1-D/2-D into 3-D."""
    nd = len(spatial)
    if global_pool:
        kernel, stride, pad = tuple(spatial), (1,) * nd, (0,) * nd
    fill = 3 - nd
    k = (1,) * fill + tuple(kernel)
    s = (1,) * fill + tuple(stride)
    p = (0,) * fill + tuple(pad)
    size = (1,) * fill + tuple(spatial)
    if global_pool:
        return k, s, p, (1, 1, 1)
    return k, s, p, tuple(pool_out_size(size[a], k[a], s[a], p[a], convention) for a in range(3))


@numba.njit(inline="always", nogil=True)
def window(o, k, s, p, size):
    """Output o's window along one dim: clipped input range [lo, hi) and MXNet's padded extent
    min(o*s - p + k, size + p) - (o*s - p), the avg divisor when padding counts."""
    start = o * s - p
    end = min(start + k, size + p)
    return max(start, 0), min(end, size), end - start


@numba.njit(inline="always", nogil=True)
def lowest(t):
    """Most negative finite value of t's float type (MXNet's max-pool seed, so all-pad windows give it)."""
    big = type(t)(1.7976931348623157e308)
    return type(t)(-3.4028234663852886e38) if big == math.inf else -big


@numba.njit(inline="always", nogil=True)
def divisor(d0, d1, h0, h1, w0, w1, extent, pool_type, count_include_pad):
    """What avg divides by: the padded extent, or only in-bounds elements; 1 for sum and lp."""
    if pool_type != AVG:
        return 1
    if count_include_pad:
        return extent
    return (d1 - d0) * (h1 - h0) * (w1 - w0)


def _pool_value(x, pl, d0, d1, h0, h1, w0, w1, size, pool_type, p_value):
    """max: first-scan max (lowest() on empty); avg/sum: sum / size (NaN if size 0); lp: (sum x^p)^(1/p)."""
    if pool_type == MAX:
        m = lowest(x[pl, 0, 0, 0])
        for d in range(d0, d1):
            for h in range(h0, h1):
                for w in range(w0, w1):
                    if x[pl, d, h, w] > m:
                        m = x[pl, d, h, w]
        return float(m)
    s = 0.0
    for d in range(d0, d1):
        for h in range(h0, h1):
            for w in range(w0, w1):
                s += x[pl, d, h, w] if pool_type != LP else float(x[pl, d, h, w]) ** p_value
    if pool_type == LP and p_value != 1:
        r = abs(s) ** (1.0 / p_value)
        return -r if s < 0 else r
    return s / size if size != 0 else math.nan


pool_value, pool_value_dev = dual(_pool_value)


@numba.njit(inline="always", nogil=True)
def unpool_weight(x, y, pool_type, p_value, size):
    """d out / d x for one in-window element: 1/size (avg, sum) or (x/y)^(p-1) for lp (0 where y == 0)."""
    if pool_type != LP:
        return 1.0 / size
    if p_value == 1:
        return 1.0
    return 0.0 if y == 0 else (float(x) / float(y)) ** (p_value - 1)


def _first_argmax(x, pl, d0, d1, h0, h1, w0, w1, y):
    """Plane offset of the first element equal to y in (d, h, w) scan order, -1 if none: MXNet's tie rule."""
    _, nd, nh, nw = x.shape
    for d in range(d0, d1):
        for h in range(h0, h1):
            for w in range(w0, w1):
                if x[pl, d, h, w] == y:
                    return (d * nh + h) * nw + w
    return -1


first_argmax_dev = cuda.jit(device=True, inline="always")(_first_argmax)


# ---------------------------------------------------------------- CPU drivers
@numba.njit(inline="always", nogil=True)
def _max_scan(xf, base, d0, d1, h0, h1, w0, w1, nh, nw, seek, target):
    """Over the window of the plane at flat offset `base`: its max (seek False; lowest() when empty), or the
    flat in-plane offset of the first element equal to target (seek True; -1 when none), in (d, h, w) order.
    Flat indices: with the 4-d indexing of pool_value / first_argmax max pooling ran 1.5x (forward) and 1.1x
    (backward) slower (LeNet's 2x2/2, one thread)."""
    m = lowest(xf[0])
    for d in range(d0, d1):
        for h in range(h0, h1):
            row = (d * nh + h) * nw
            for w in range(w0, w1):
                v = xf[base + row + w]
                if seek:
                    if v == target:
                        return m, row + w
                elif v > m:
                    m = v
    return m, -1


@numba.njit(inline="always", nogil=True)
def _edge_max(col, ow, kw, sw, pw, nw, low):
    """The max over output column ow's window of col where the window reaches past the row's ends."""
    w0, w1, _ = window(ow, kw, sw, pw, nw)
    m = low
    for iw in range(w0, w1):
        v = col[iw]
        m = v if v > m else m
    return m


@numba.njit(inline="always", nogil=True)
def _max_rows(xf, base, h0, h1, nw, kw, sw, pw, col, acc):
    """acc[ow] = the max over input rows [h0, h1) of the plane at `base` within output column ow's window: first
    down the rows for every input column into col (one contiguous pass a row, which vectorises), then along col.
    NaN is ignored as by _max_scan; of equal values (0.0 and -0.0) the first down a column is kept."""
    low = lowest(xf[0])
    n = numba.uint64(nw)  # unsigned indices: no negative-index wraparound, which keeps LLVM from vectorising
    for iw in range(n):
        col[iw] = low
    for h in range(h0, h1):
        xr = xf[base + h * nw:base + (h + 1) * nw]
        for iw in range(n):
            v, a = xr[iw], col[iw]
            col[iw] = v if v > a else a
    ow_ = acc.shape[0]
    inner0 = min(-(-pw // sw), ow_)  # the windows of [inner0, inner1) lie inside the row
    inner1 = max(min((nw - kw + pw) // sw + 1, ow_), inner0)
    for ow in range(inner0, inner1):
        m = low
        for iw in range(numba.uint64(ow * sw - pw), numba.uint64(ow * sw - pw + kw)):
            v = col[iw]
            m = v if v > m else m
        acc[ow] = m
    for ow in range(inner0):
        acc[ow] = _edge_max(col, ow, kw, sw, pw, nw, low)
    for ow in range(inner1, ow_):
        acc[ow] = _edge_max(col, ow, kw, sw, pw, nw, low)


@numba.njit(inline="always", nogil=True)
def _tiled(nd, od_, oh_, ow_, nh, nw, kernel, stride, pad):
    """Whether 2-D pooling's windows tile the input: kernel = stride and no padding along rows and columns (LeNet's
    2x2/2), so that each window lies inside the input and no two overlap."""
    return nd == 1 and od_ == 1 and kernel[0] == 1 and pad[0] == 0 and kernel[1] == stride[1] and \
        kernel[2] == stride[2] and pad[1] == 0 and pad[2] == 0 and oh_ * kernel[1] <= nh and ow_ * kernel[2] <= nw


@numba.njit(inline="always", nogil=True)
def _tile_max(xf, start, kh, kw, nw, low):
    """The max of the kh x kw tile from flat offset `start` (rows nw apart), NaN ignored as by _max_scan."""
    m = low
    for i in range(kh):
        row = start + i * nw
        for j in range(kw):
            v = xf[row + j]
            m = v if v > m else m
    return m


@numba.njit(inline="always", nogil=True)
def _tile_find(xf, start, kh, kw, nw, target):
    """The flat offset of the tile's first element equal to target in scan order (MXNet's tie rule); -1 if none."""
    for i in range(kh):
        row = start + i * nw
        for j in range(kw):
            if xf[row + j] == target:
                return row + j
    return -1


# 2-D max pooling over input rows at least this wide goes by whole output rows: one thread, ResNet's 3x3/2 over
# 112-wide rows 2.3 -> 1.5 ms; LeNet's 2x2/2 over 28- and 10-wide rows ran 1.2 -> 1.5 and 0.46 -> 1.0 ms that way
# (the per-row set-up outweighs the vectorised passes), so they keep the per-window scan.
ROWS_MIN_WIDTH = 64


# Neither pooling kernel is light: a window of k x k reads per output (ResNet's 3x3/2 max pooling at batch 1, 0.8 M
# elements: 1.7 ms on one thread, 0.9 on two; LeNet's 2x2/2 backward at batch 128, 0.6 M: 2.4 -> 1.3 ms).
@parallel_kernel(nogil=True, cache=True)
def pool_fwd_cpu(x, out, kernel, stride, pad, pool_type, count_include_pad, p_value, req):
    """out (P, OD, OH, OW) = pool of x (P, D, H, W); kernel/stride/pad are 3-tuples; out extents chosen by caller."""
    _, nd, nh, nw = x.shape
    npl, od_, oh_, ow_ = out.shape
    if req == REQ_NULL:
        return
    xf = x.reshape(x.size)
    if pool_type == MAX and _tiled(nd, od_, oh_, ow_, nh, nw, kernel, stride, pad):
        kh, kw = kernel[1], kernel[2]
        low = lowest(xf[0])
        for pl in numba.prange(npl):
            for oh in range(oh_):
                start = pl * nh * nw + oh * kh * nw
                for ow in range(ow_):
                    m = _tile_max(xf, start + ow * kw, kh, kw, nw, low)
                    out[pl, 0, oh, ow] = assign(out[pl, 0, oh, ow], m, req)
        return
    if pool_type == MAX and nd == 1 and od_ == 1 and nw >= ROWS_MIN_WIDTH and \
            window(0, kernel[0], stride[0], pad[0], 1)[1] == 1:
        # 2-D max pooling (its one plane inside the depth window): whole output rows at once
        for pl in numba.prange(npl):
            col, acc = np.empty(nw, x.dtype), np.empty(ow_, x.dtype)
            for oh in range(oh_):
                h0, h1, _ = window(oh, kernel[1], stride[1], pad[1], nh)
                _max_rows(xf, pl * nh * nw, h0, h1, nw, kernel[2], stride[2], pad[2], col, acc)
                for ow in range(ow_):
                    out[pl, 0, oh, ow] = assign(out[pl, 0, oh, ow], acc[ow], req)
        return
    for r in numba.prange(npl * od_):
        pl, od = r // od_, r % od_
        d0, d1, ed = window(od, kernel[0], stride[0], pad[0], nd)
        for oh in range(oh_):
            h0, h1, eh = window(oh, kernel[1], stride[1], pad[1], nh)
            for ow in range(ow_):
                w0, w1, ew = window(ow, kernel[2], stride[2], pad[2], nw)
                if pool_type == MAX:
                    v = _max_scan(xf, pl * nd * nh * nw, d0, d1, h0, h1, w0, w1, nh, nw, False, xf[0])[0]
                else:
                    size = divisor(d0, d1, h0, h1, w0, w1, ed * eh * ew, pool_type, count_include_pad)
                    v = pool_value(x, pl, d0, d1, h0, h1, w0, w1, size, pool_type, p_value)
                out[pl, od, oh, ow] = assign(out[pl, od, oh, ow], v, req)


@parallel_kernel(nogil=True, cache=True)
def pool_bwd_cpu(dy, x, y, dx, kernel, stride, pad, pool_type, count_include_pad, p_value, req):
    """dx from dy and the forward x, y: max routes dy to the first max of each window, the others spread it."""
    _, nd, nh, nw = x.shape
    npl, od_, oh_, ow_ = y.shape
    if req == REQ_NULL:
        return
    plane = nd * nh * nw
    # Flat views made once: a view per plane inside the loop costs a shared reference count.
    dxf, xf = dx.reshape(dx.size), x.reshape(x.size)
    tiles = pool_type == MAX and _tiled(nd, od_, oh_, ow_, nh, nw, kernel, stride, pad)
    for pl in numba.prange(npl):
        # Windows overlap, so each plane is scattered by one thread into a zeroed (or kept) dx plane.
        if req != REQ_ADD:
            for i in range(numba.uint64(pl * plane), numba.uint64((pl + 1) * plane)):
                dxf[i] = 0
        if tiles:
            kh, kw = kernel[1], kernel[2]
            for oh in range(oh_):
                start = pl * plane + oh * kh * nw
                for ow in range(ow_):
                    a = _tile_find(xf, start + ow * kw, kh, kw, nw, y[pl, 0, oh, ow])
                    if a >= 0:
                        dxf[a] += dy[pl, 0, oh, ow]
            continue
        for od in range(od_):
            d0, d1, ed = window(od, kernel[0], stride[0], pad[0], nd)
            for oh in range(oh_):
                h0, h1, eh = window(oh, kernel[1], stride[1], pad[1], nh)
                for ow in range(ow_):
                    w0, w1, ew = window(ow, kernel[2], stride[2], pad[2], nw)
                    g, yv = dy[pl, od, oh, ow], y[pl, od, oh, ow]
                    if pool_type == MAX:
                        a = _max_scan(xf, pl * plane, d0, d1, h0, h1, w0, w1, nh, nw, True, yv)[1]
                        if a >= 0:
                            dxf[pl * plane + a] += g
                        continue
                    size = divisor(d0, d1, h0, h1, w0, w1, ed * eh * ew, pool_type, count_include_pad)
                    for d in range(d0, d1):
                        for h in range(h0, h1):
                            for w in range(w0, w1):
                                dx[pl, d, h, w] += g * unpool_weight(x[pl, d, h, w], yv, pool_type,
                                                                     p_value, size)


# ---------------------------------------------------------------- GPU drivers
@cuda.jit(device=True, inline=True)
def _out_window(e, in_shape, out_shape, kernel, stride, pad):
    """Flat output element e of (P, OD, OH, OW) as (pl, od, oh, ow) and its input window: clipped ranges
    d0, d1, h0, h1, w0, w1 and the padded extent (see window) over the (P, D, H, W) input."""
    _, nd, nh, nw = in_shape
    _, od_, oh_, ow_ = out_shape
    pl, od, oh, ow = e // (od_ * oh_ * ow_), (e // (oh_ * ow_)) % od_, (e // ow_) % oh_, e % ow_
    d0, d1, ed = window(od, kernel[0], stride[0], pad[0], nd)
    h0, h1, eh = window(oh, kernel[1], stride[1], pad[1], nh)
    w0, w1, ew = window(ow, kernel[2], stride[2], pad[2], nw)
    return pl, od, oh, ow, d0, d1, h0, h1, w0, w1, ed * eh * ew


def _pool_fwd_kernel(x, out, kernel, stride, pad, pool_type, count_include_pad, p_value, req):
    # One thread per output element (P, OD, OH, OW), grid-stride; same window rules as pool_fwd_cpu.
    e = cuda.grid(1)
    while e < out.size:
        pl, od, oh, ow, d0, d1, h0, h1, w0, w1, extent = _out_window(e, x.shape, out.shape, kernel, stride, pad)
        size = divisor(d0, d1, h0, h1, w0, w1, extent, pool_type, count_include_pad)
        v = pool_value_dev(x, pl, d0, d1, h0, h1, w0, w1, size, pool_type, p_value)
        out[pl, od, oh, ow] = assign(out[pl, od, oh, ow], v, req)
        e += cuda.gridsize(1)


def _pool_argmax_kernel(x, y, kernel, stride, pad, arg):
    # arg[output] = in-plane offset of the first input equal to y in its window (-1: none), one thread each.
    e = cuda.grid(1)
    while e < y.size:
        pl, od, oh, ow, d0, d1, h0, h1, w0, w1, _ = _out_window(e, x.shape, y.shape, kernel, stride, pad)
        arg[pl, od, oh, ow] = first_argmax_dev(x, pl, d0, d1, h0, h1, w0, w1, y[pl, od, oh, ow])
        e += cuda.gridsize(1)


@numba.njit(inline="always", nogil=True)
def covering(i, k, s, p, n_out):
    """Outputs o whose window [o*s - p, o*s - p + k) holds input index i: range(lo, hi)."""
    return max(0, (i + p - k) // s + 1), min(n_out, (i + p) // s + 1)


def _unpool_kernel(dy, x, y, arg, dx, kernel, stride, pad, pool_type, count_include_pad, p_value, req):
    # Gather per input element over the windows covering it: deterministic and atomic-free.
    _, nd, nh, nw = x.shape
    npl, od_, oh_, ow_ = y.shape
    e = cuda.grid(1)
    while e < x.size:
        pl, d, h, w = e // (nd * nh * nw), (e // (nh * nw)) % nd, (e // nw) % nh, e % nw
        me = (d * nh + h) * nw + w
        acc = 0.0
        olo, ohi = covering(d, kernel[0], stride[0], pad[0], od_)
        hlo, hhi = covering(h, kernel[1], stride[1], pad[1], oh_)
        wlo, whi = covering(w, kernel[2], stride[2], pad[2], ow_)
        for od in range(olo, ohi):
            d0, d1, ed = window(od, kernel[0], stride[0], pad[0], nd)
            for oh in range(hlo, hhi):
                h0, h1, eh = window(oh, kernel[1], stride[1], pad[1], nh)
                for ow in range(wlo, whi):
                    g = dy[pl, od, oh, ow]
                    if pool_type == MAX:
                        if arg[pl, od, oh, ow] == me:
                            acc += g
                        continue
                    w0, w1, ew = window(ow, kernel[2], stride[2], pad[2], nw)
                    size = divisor(d0, d1, h0, h1, w0, w1, ed * eh * ew, pool_type, count_include_pad)
                    acc += g * unpool_weight(x[pl, d, h, w], y[pl, od, oh, ow], pool_type, p_value, size)
        dx[pl, d, h, w] = assign(dx[pl, d, h, w], acc, req)
        e += cuda.gridsize(1)


pool_fwd_kernel = cuda.jit(_pool_fwd_kernel)
pool_argmax_kernel = cuda.jit(_pool_argmax_kernel)
unpool_kernel = cuda.jit(_unpool_kernel)


def pool_fwd_gpu(x, out, kernel, stride, pad, pool_type, count_include_pad, p_value, req, stream=0):
    """Same contract as pool_fwd_cpu, on device arrays."""
    if req == REQ_NULL or out.size == 0:
        return
    blocks, threads = grid_1d(out.size)
    pool_fwd_kernel[blocks, threads, stream](x, out, tuple(kernel), tuple(stride), tuple(pad), pool_type,
                                             bool(count_include_pad), p_value, req)


def pool_bwd_gpu(dy, x, y, dx, kernel, stride, pad, pool_type, count_include_pad, p_value, req, stream=0):
    """Same contract as pool_bwd_cpu, on device arrays (max pooling uses an int64 arg-max scratch)."""
    if req == REQ_NULL or x.size == 0:
        return
    kernel, stride, pad = tuple(kernel), tuple(stride), tuple(pad)
    arg = cuda.device_array(y.shape if pool_type == MAX else (1, 1, 1, 1), dtype=np.int64, stream=stream)
    if pool_type == MAX and y.size:
        blocks, threads = grid_1d(y.size)
        pool_argmax_kernel[blocks, threads, stream](x, y, kernel, stride, pad, arg)
    blocks, threads = grid_1d(x.size)
    unpool_kernel[blocks, threads, stream](dy, x, y, arg, dx, kernel, stride, pad, pool_type,
                                           bool(count_include_pad), p_value, req)


_T3 = "UniTuple(int64, 3)"
PTX_CHECKS = []
for _t in ("float32", "float64"):
    _a = f"{_t}[:, :, :, ::1]"
    PTX_CHECKS += [
        (_pool_fwd_kernel, f"void({_a}, {_a}, {_T3}, {_T3}, {_T3}, int64, boolean, int64, int64)"),
        (_pool_argmax_kernel, f"void({_a}, {_a}, {_T3}, {_T3}, {_T3}, int64[:, :, :, ::1])"),
        (_unpool_kernel, f"void({_a}, {_a}, {_a}, int64[:, :, :, ::1], {_a}, {_T3}, {_T3}, {_T3}, "
                         "int64, boolean, int64, int64)"),
    ]
