"""CPU convolution kernels (MXNet Convolution / Deconvolution, NCW/NCHW/NCDHW, weight (O, C/groups, *k)),
all run as 3-d; per shape: GEMM on the input (1x1, stride 1, pad 0), Winograd (2-d 3x3, stride 1, one
group, enough channels: winograd_cpu), direct loops on the padded row pitch (stride 1, few output
channels: conv_shift_cpu), im2col + GEMM, or direct loops per output row (one input channel per group:
depthwise and alike)."""
import functools
import math

import numba
import numpy as np
from numba import njit, prange, uint64

from . import blas_cpu as _blas
from . import conv_shift_cpu as _cs
from . import winograd_cpu as _wg
from . import winograd_filters as _wf
from .common import LIGHT, REQ_ADD, REQ_NULL, assign, parallel_kernel
from .conv_epilogue import affine as _affine, finish_rows as _finish_rows
from .blas_cpu import CAN_PIN_BLAS, matmul, single_threaded_blas
from .conv_common import (FASTMATH as _FM, axpy as _axpy, copy as _copy, dot as _dot, geometry_3d, shape_5d,
                          tap_rect as _tap_rect, zero as _zero)

# Winograd pays from this many input channels on, or from WINOGRAD_MIN_CHANNELS_SMALL_OUT when
# there are at most twice as many output channels (measured on 2 cores, batch 32: its GEMMs
# reduce over the input channels only, 9x fewer than im2col's, and run slowly below ~24 of
# them; with few input channels and many outputs im2col was up to 1.5x faster).
WINOGRAD_MIN_CHANNELS = 24
WINOGRAD_MIN_CHANNELS_SMALL_OUT = 8
# ... and from this many output tiles on: the transformed filter is 4x the filter, written once per
# call and read once per block, which only pays over enough tiles (measured crossover 32-64 tiles for
# 64-512 channels, e.g. batch 4 at 14 x 14: 1.2x faster, batch 2: 1.3x slower).
WINOGRAD_MIN_TILES = 48
# With the transform kept from the last call (winograd_filters: the same weight again, as in inference) it pays
# from fewer tiles: 128 channels at 28 x 28 (49 tiles, batch 1). Not at 16: in ResNet-50 at batch 1, 256 channels
# at 14 x 14 ran 2.6 ms a layer against 2.1 for the GEMMs over output channels (NARROW_PLANE), the 4x larger
# transformed filter read from memory at every call.
WINOGRAD_MIN_TILES_KEPT = 32
# Below that, planes with at least this many 2x2 tiles run F(2x2, 3x3), with a kept transform only (2.25x fewer
# multiplications than the GEMMs, a transformed filter 1.8x the filter's size). Measured on 2 threads, batch 1,
# against the GEMMs over output channels: 256 channels at 14 x 14 (49 tiles) 1.71 -> 1.37 ms, 128 at 14 x 14
# 0.51 -> 0.38; 512 at 10 x 10 (36 tiles) level; 512 at 7 x 7 (16 tiles) 2.1 -> 2.8.
WINOGRAD_SMALL_MIN_TILES = 40
# From this many output x input channels on, the Winograd weight gradient's threads split its 36 positions rather
# than its tiles, into one buffer of partial sums rather than one each: 512 x 512 at 4 x 4, batch 64, 30 -> 25 ms
# (and in a training step no 75 MB of fresh pages faulted in a call); level at 256 x 256, 1.9x slower at 128 x 128.
WINOGRAD_SHARED_PARTS = 256 * 256
# Tiles per Winograd block: GEMMs of that width run near the BLAS's single-core rate, and the
# block stays in L2/L3 (measured: 48-128 within noise of each other, 32 up to 10% slower). Outputs with
# fewer tiles than that per thread run as one block whose GEMMs the threads split by position
# (winograd_cpu.conv_few_tiles; batch 1 on 2 threads: 128 channels at 28 x 28 1.00 -> 0.85 ms,
# 512 at 14 x 14 8.7 -> 5.0).
WINOGRAD_TILES = 64

# Elements of one thread's im2col block (1 MiB of float32). The 7x7/2 stem's image is a 7.4 MB col;
# blocks of ~1 MiB ran it 1.3-1.4x faster than whole images (2 threads, interleaved runs; the cols of two
# threads then stay in cache between im2col and GEMM), and made no measurable difference to 3x3/2
# layers. 1x1 convolutions need no col and take whole images (blocking them only added copies).
COL_BUDGET = 1 << 18

# Few images (fewer than threads) with output planes of at most this many pixels: the threads split the output
# channels over one im2col of each image rather than its output rows, whose GEMMs would be too narrow (512 -> 512 3x3
# at 7 x 7, batch 1: 2.7 -> 2.0 ms on 2 threads).
NARROW_PLANE = 256

# Stride-1 convolutions with at most this many output channels per group run on conv_shift_cpu's direct
# kernels: im2col GEMMs with so few rows ran 1.1-2x slower (one thread: LeNet's 1->6 and 6->16 5x5, 5x5 with
# 16-64 inputs, 3x3 4->8); from 32 outputs on the GEMMs caught up (3x3 3->64, 4->32: 1.0-1.3x faster).
SHIFT_MAX_OUT = 16


@njit(nogil=True, cache=True)
def _im2col(xf, x0, col, r0, r1, isz, osz, ksz, s, p, d):
    """col[c*kvol + t, (r - r0)*OW + ow] = x[c, (r, ow)*s - p + tap(t)*d] (0 outside) for flat
    output rows r = od*OH + oh in [r0, r1); channel c of x starts at xf[x0 + c*D*H*W]."""
    H, W = isz[1], isz[2]
    OH, OW = osz[1], osz[2]
    kvol = ksz[0] * ksz[1] * ksz[2]
    for row in range(col.shape[0]):
        xc, crow = x0 + row // kvol * isz[0] * H * W, col[row]
        for od in range(r0 // OH, (r1 - 1) // OH + 1):
            a, b, hlo, hhi, wlo, whi, id_, ih0, iw0 = _tap_rect(isz, osz, ksz, row % kvol, s, p, d,
                                                                od, r0, r1)
            base = (od * OH - r0) * OW
            _zero(crow, base + a * OW, (hlo - a) * OW)
            _zero(crow, base + hhi * OW, (b - hhi) * OW)
            for oh in range(hlo, hhi):
                dst = base + oh * OW
                _zero(crow, dst, wlo)
                _copy(crow, dst + wlo, xf, xc + (id_ * H + ih0 + (oh - hlo) * s[1]) * W + iw0, s[2],
                      whi - wlo)
                _zero(crow, dst + whi, OW - whi)


@njit(fastmath=_FM, nogil=True, cache=True)
def _col2im(col, xf, x0, r0, r1, isz, osz, ksz, s, p, d):
    """The transpose of _im2col, accumulating into xf."""
    one = xf.dtype.type(1)
    H, W = isz[1], isz[2]
    OH, OW = osz[1], osz[2]
    kvol = ksz[0] * ksz[1] * ksz[2]
    for row in range(col.shape[0]):
        xc, crow = x0 + row // kvol * isz[0] * H * W, col[row]
        for od in range(r0 // OH, (r1 - 1) // OH + 1):
            a, b, hlo, hhi, wlo, whi, id_, ih0, iw0 = _tap_rect(isz, osz, ksz, row % kvol, s, p, d,
                                                                od, r0, r1)
            for oh in range(hlo, hhi):
                _axpy(xf, xc + (id_ * H + ih0 + (oh - hlo) * s[1]) * W + iw0, s[2], one, crow,
                      (od * OH - r0 + oh) * OW + wlo, 1, whi - wlo)


@njit(inline="always", nogil=True)
def _block(a, p0, p1, buf):
    """a[:, p0:p1] as a C-contiguous array: a itself when that is all of it, else a copy in buf."""
    if p1 - p0 == a.shape[1]:
        return a
    blk = buf[:a.shape[0] * (p1 - p0)].reshape((a.shape[0], p1 - p0))
    blk[:, :] = a[:, p0:p1]
    return blk


# The GEMM kernels split the work into items: one (image, group) pair, cut in `splits` parts (output
# rows, or input channels for the data gradient) when there are fewer pairs than threads; chunks of
# consecutive items run in parallel, each with single-threaded GEMMs.

@parallel_kernel(nogil=True, cache=True)
def _fwd_gemm(x, w, b, has_bias, out, req, isz, osz, ksz, s, p, d, nchunks, splits, rblk, pointwise, gemm, blas):
    """out[n, g] (Og, P) = w[g] (Og, K) @ col(x[n, g]) (K, P) + b, by blocks of rblk output rows; the GEMMs on
    NumPy's BLAS, one thread per chunk (blas_cpu; measured 1.0-1.35x the rate of SciPy's behind np.dot for
    ResNet-50's shapes, e.g. its 7x7 stem 60 -> 80 GFLOP/s on one core)."""
    N, G, Og, K = x.shape[0], x.shape[1], w.shape[1], w.shape[2]
    OW, R = osz[2], osz[0] * osz[1]
    items = N * G * splits
    xf = x.reshape(x.size)
    one = x.dtype.type(1)
    for t in prange(nchunks):
        col_buf = np.empty(K * rblk * OW, x.dtype)
        tmp_buf = np.empty(Og * rblk * OW, x.dtype)
        for it in range(t * items // nchunks, (t + 1) * items // nchunks):
            n, g, part = it // (G * splits), it // splits % G, it % splits
            on = out[n, g]
            for r0 in range(R * part // splits, R * (part + 1) // splits, rblk):
                r1 = min(R * (part + 1) // splits, r0 + rblk)
                pb = (r1 - r0) * OW
                if pointwise:
                    cols = _block(x[n, g], r0 * OW, r1 * OW, col_buf)
                else:
                    cols = col_buf[:K * pb].reshape((K, pb))
                    _im2col(xf, (n * G + g) * x.shape[2] * x.shape[3], cols, r0, r1, isz, osz, ksz, s, p, d)
                if pb == on.shape[1] and req != REQ_ADD:
                    matmul(gemm, blas, w[g], cols, on, False, one)
                    if has_bias:
                        for o in range(Og):
                            on[o] += b[g * Og + o]
                    continue
                tmp = tmp_buf[:Og * pb].reshape((Og, pb))
                matmul(gemm, blas, w[g], cols, tmp, False, one)
                for o in range(Og):
                    bias = b[g * Og + o] if has_bias else b.dtype.type(0)
                    for j in range(pb):
                        on[o, r0 * OW + j] = assign(on[o, r0 * OW + j], tmp[o, j] + bias, req)


@parallel_kernel(nogil=True, cache=True)
def _bwd_data_gemm(dy, wt, dx, b, has_bias, req, isz, osz, ksz, s, p, d, nchunks, splits, rblk, pointwise):
    """dx[n, g] = col2im(wt[g] (K, Og) @ dy[n, g] (Og, P)) (+ b[c]: the Deconvolution bias); an item
    covers a range of input channels c, i.e. of rows of wt[g]."""
    N, G, Og, Cg = dy.shape[0], dy.shape[1], dy.shape[2], dx.shape[2]
    kvol = wt.shape[1] // Cg
    OW, R = osz[2], osz[0] * osz[1]
    items = N * G * splits
    dxf = dx.reshape(dx.size)
    for t in prange(nchunks):
        col_buf = np.empty(wt.shape[1] * rblk * OW, dy.dtype)
        dyb_buf = np.empty(Og * rblk * OW, dy.dtype)
        for it in range(t * items // nchunks, (t + 1) * items // nchunks):
            n, g, part = it // (G * splits), it // splits % G, it % splits
            c0, c1 = Cg * part // splits, Cg * (part + 1) // splits
            xn, wg = dx[n, g, c0:c1], wt[g, c0 * kvol:c1 * kvol]
            if c0 == c1:
                continue
            if pointwise and req != REQ_ADD and not has_bias:
                np.dot(wg, dy[n, g], xn)
                continue
            # col2im accumulates, so start from the bias (write) or add it once (add).
            for c in range(c1 - c0):
                bias = b[g * Cg + c0 + c] if has_bias else b.dtype.type(0)
                if req != REQ_ADD:
                    xn[c, :] = bias
                elif has_bias:
                    xn[c, :] += bias
            for r0 in range(0, R, rblk):
                r1 = min(R, r0 + rblk)
                pb = (r1 - r0) * OW
                cols = col_buf[:wg.shape[0] * pb].reshape((wg.shape[0], pb))
                np.dot(wg, _block(dy[n, g], r0 * OW, r1 * OW, dyb_buf), cols)
                _col2im(cols, dxf, ((n * G + g) * Cg + c0) * dx.shape[3], r0, r1, isz, osz, ksz, s, p, d)


@parallel_kernel(nogil=True, cache=True)
def _bwd_weight_gemm(x, dy, part, isz, osz, ksz, s, p, d, splits, rblk, pointwise):
    """part[t, g] (Og, K) = the sum over chunk t's items of dy[n, g] (Og, P) @ col(x[n, g])^T (P, K)
    (over the item's output rows); part is zeroed (nchunks, G, Og, K), the caller sums over t."""
    N, G, Og = dy.shape[0], dy.shape[1], dy.shape[2]
    nchunks, K = part.shape[0], part.shape[3]
    OW, R = osz[2], osz[0] * osz[1]
    items = N * G * splits
    xf = x.reshape(x.size)
    for t in prange(nchunks):
        col_buf = np.empty(K * rblk * OW, x.dtype)
        dyb_buf = np.empty(Og * rblk * OW, x.dtype)
        tmp = np.empty((Og, K), part.dtype)
        for it in range(t * items // nchunks, (t + 1) * items // nchunks):
            n, g, sp = it // (G * splits), it // splits % G, it % splits
            for r0 in range(R * sp // splits, R * (sp + 1) // splits, rblk):
                r1 = min(R * (sp + 1) // splits, r0 + rblk)
                pb = (r1 - r0) * OW
                if pointwise:
                    cols = _block(x[n, g], r0 * OW, r1 * OW, col_buf)
                else:
                    cols = col_buf[:K * pb].reshape((K, pb))
                    _im2col(xf, (n * G + g) * x.shape[2] * x.shape[3], cols, r0, r1, isz, osz, ksz, s, p, d)
                np.dot(_block(dy[n, g], r0 * OW, r1 * OW, dyb_buf), cols.T, tmp)
                acc = part[t, g]
                acc += tmp  # in place; `part[t, g] += tmp` would allocate a temporary


@parallel_kernel(nogil=True, cache=True)
def _fwd_pointwise_rows(x, w, b, has_bias, out, req, nchunks, gemm, blas, epilogue, fused):
    """out[n, g] (req)= w[g] (Og, K) @ x[n, g] (K, P) + b, each chunk a block of output channels of every
    (image, group) pair, NumPy's BLAS on one thread (blas_cpu): no copies of the input, all threads busy on one
    image (batch-1 inference). When `fused`, each block then goes through conv_epilogue's finish while it is in
    cache, `epilogue` = (gamma, beta, mean, var, eps, res, has_res, relu), b folded into it (req is a write)."""
    N, G, Og, P = out.shape
    K = x.shape[2]
    xf, wf, of = x.reshape(x.size), w.reshape(w.size), out.reshape(out.size)
    gamma, beta, mean, var, eps, res, has_res, relu = epilogue
    rf = res.reshape(res.size)
    one = x.dtype.type(1)
    for t in prange(nchunks):
        o0, o1 = Og * t // nchunks, Og * (t + 1) // nchunks
        rows = o1 - o0
        tmp = np.empty((rows, P) if req == REQ_ADD else (0, P), out.dtype)
        finish = np.empty(P if fused else 0, out.dtype)
        for ng in range(N * G):
            if rows == 0:
                break
            g = ng % G
            dst = of[(ng * Og + o0) * P:(ng * Og + o1) * P].reshape((rows, P))
            matmul(gemm, blas, wf[(g * Og + o0) * K:(g * Og + o1) * K].reshape((rows, K)),
                   xf[ng * K * P:(ng + 1) * K * P].reshape((K, P)), tmp if req == REQ_ADD else dst, False, one)
            if req == REQ_ADD:
                dst += tmp
            if fused:
                _finish_rows(of, (ng * Og + o0) * P, g * Og + o0, rows, P, b, has_bias, gamma, beta, mean, var, eps,
                             rf, has_res, relu, finish)
            elif has_bias:
                for o in range(rows):
                    dst[o] += b[g * Og + o0 + o]


@parallel_kernel(nogil=True, cache=True)
def _im2col_channels(x, cols, isz, osz, ksz, s, p, d, nchunks):
    """cols[n, g] (K, P) = im2col(x[n, g]) for every (image, group) pair, each pair's input channels split into
    nchunks blocks run in parallel (few pairs: batch-1 inference)."""
    N, G, Cg, plane = x.shape
    kvol = ksz[0] * ksz[1] * ksz[2]
    xf = x.reshape(x.size)
    R = osz[0] * osz[1]
    for t in prange(nchunks):
        for ng in range(N * G):
            c0, c1 = Cg * t // nchunks, Cg * (t + 1) // nchunks
            _im2col(xf, (ng * Cg + c0) * plane, cols[ng // G, ng % G, c0 * kvol:c1 * kvol], 0, R, isz, osz, ksz,
                    s, p, d)


# Direct loops for one input channel per group (depthwise and alike), where GEMMs would be tiny:
# per tap and output row, one vectorised pass along the row.  Shared arrays are read through flat
# views and offsets: a view per tap costs an atomic reference count, and two threads bumping the
# same one ran 3x slower than a single thread (measured).

@parallel_kernel(fastmath=_FM, nogil=True, cache=True)
def _fwd_direct(x, w, b, has_bias, out, req, isz, osz, ksz, s, p, d, nchunks):
    """out[n, g, o, r] = sum_{c, t} w[g, o, c*kvol + t] * x[n, g, c, r*s - p + tap(t)*d] + b."""
    N, G, Og, P = out.shape
    H, W = isz[1], isz[2]
    OD, OH, OW = osz
    kvol = ksz[0] * ksz[1] * ksz[2]
    items = N * G * Og
    xf, S = x.reshape(x.size), x.shape[3]
    for ch in prange(nchunks):
        acc = np.empty(P, out.dtype)
        for it in range(ch * items // nchunks, (ch + 1) * items // nchunks):
            n, g, o = it // (G * Og), it // Og % G, it % Og
            acc[:] = 0
            for k in range(w.shape[2]):
                xc, wv = ((n * G + g) * x.shape[2] + k // kvol) * S, w[g, o, k]
                for od in range(OD):
                    _, _, hlo, hhi, wlo, whi, id_, ih0, iw0 = _tap_rect(isz, osz, ksz, k % kvol, s, p, d,
                                                                        od, 0, OD * OH)
                    for oh in range(hlo, hhi):
                        _axpy(acc, (od * OH + oh) * OW + wlo, 1, wv,
                              xf, xc + (id_ * H + ih0 + (oh - hlo) * s[1]) * W + iw0, s[2], whi - wlo)
            bias = b[g * Og + o] if has_bias else b.dtype.type(0)
            for q in range(P):
                out[n, g, o, q] = assign(out[n, g, o, q], acc[q] + bias, req)


@parallel_kernel(fastmath=_FM, nogil=True, cache=True)
def _bwd_data_direct(dy, w, dx, b, has_bias, req, isz, osz, ksz, s, p, d, nchunks):
    """dx[n, g, c, r*s - p + tap(t)*d] += w[g, o, c*kvol + t] * dy[n, g, o, r] (+ b), per (n, g, c)."""
    N, G, Cg, S = dx.shape
    H, W = isz[1], isz[2]
    OD, OH, OW = osz
    kvol = ksz[0] * ksz[1] * ksz[2]
    items = N * G * Cg
    dyf, P = dy.reshape(dy.size), dy.shape[3]
    for ch in prange(nchunks):
        acc = np.empty(S, dx.dtype)
        for it in range(ch * items // nchunks, (ch + 1) * items // nchunks):
            n, g, c = it // (G * Cg), it // Cg % G, it % Cg
            acc[:] = 0
            for o in range(dy.shape[2]):
                for t in range(kvol):
                    dyo, wv = ((n * G + g) * dy.shape[2] + o) * P, w[g, o, c * kvol + t]
                    for od in range(OD):
                        _, _, hlo, hhi, wlo, whi, id_, ih0, iw0 = _tap_rect(isz, osz, ksz, t, s, p, d,
                                                                            od, 0, OD * OH)
                        for oh in range(hlo, hhi):
                            _axpy(acc, (id_ * H + ih0 + (oh - hlo) * s[1]) * W + iw0, s[2], wv,
                                  dyf, dyo + (od * OH + oh) * OW + wlo, 1, whi - wlo)
            bias = b[g * Cg + c] if has_bias else b.dtype.type(0)
            for q in range(S):
                dx[n, g, c, q] = assign(dx[n, g, c, q], acc[q] + bias, req)


@parallel_kernel(fastmath=_FM, nogil=True, cache=True)
def _bwd_weight_direct(x, dy, dw, req, isz, osz, ksz, s, p, d):
    """dw[g, o, c*kvol + t] = sum_{n, r} dy[n, g, o, r] * x[n, g, c, r*s - p + tap(t)*d], per (g, o)."""
    N, G, Og = dy.shape[0], dy.shape[1], dy.shape[2]
    H, W = isz[1], isz[2]
    OD, OH, OW = osz
    kvol = ksz[0] * ksz[1] * ksz[2]
    xf, dyf, S, P = x.reshape(x.size), dy.reshape(dy.size), x.shape[3], dy.shape[3]
    for go in prange(G * Og):
        g, o = go // Og, go % Og
        for k in range(dw.shape[2]):
            acc = 0.0
            for n in range(N):
                xc, dyo = ((n * G + g) * x.shape[2] + k // kvol) * S, ((n * G + g) * Og + o) * P
                for od in range(OD):
                    _, _, hlo, hhi, wlo, whi, id_, ih0, iw0 = _tap_rect(isz, osz, ksz, k % kvol, s, p, d,
                                                                        od, 0, OD * OH)
                    for oh in range(hlo, hhi):
                        acc += _dot(xf, xc + (id_ * H + ih0 + (oh - hlo) * s[1]) * W + iw0, s[2],
                                    dyf, dyo + (od * OH + oh) * OW + wlo, whi - wlo)
            dw[g, o, k] = assign(dw[g, o, k], acc, req)


@parallel_kernel(light=LIGHT, fastmath=_FM, nogil=True, cache=True)
def _bwd_bias(dy, db, req):
    """db[o] = sum_{n, r} dy[n, o, r]; dy is (N, O, P)."""
    N, O, P = dy.shape
    yf = dy.reshape(dy.size)
    for o in prange(O):
        acc = 0.0
        for n in range(N):
            # A row sums in dy's type (vectorized), the rows in float64.
            row, part = uint64((n * O + o) * P), yf.dtype.type(0)
            for q in range(uint64(P)):
                part += yf[row + q]
            acc += part
        db[o] = assign(db[o], acc, req)


class _Plan:
    """Canonical views and the algorithm for one convolution, from the input side `xs` (x or dx),
    the weight, and the output side `ys` (out or dy); every array must be C-contiguous."""

    def __init__(self, xs, w, ys, stride, pad, dilate, groups):
        for a in (xs, w, ys):
            if not a.flags.c_contiguous:
                raise ValueError("convolution kernels need C-contiguous arrays")
        self.__dict__.update(_layout(xs.shape, w.shape, ys.shape, tuple(stride), tuple(pad), tuple(dilate), groups,
                                     numba.get_num_threads(), CAN_PIN_BLAS, COL_BUDGET, SHIFT_MAX_OUT))
        self.x, self.y, self.w = xs.reshape(self.x_shape), ys.reshape(self.y_shape), w.reshape(self.w_shape)

    def direct_chunks(self, items):
        # A few chunks per thread balance the uneven tails of the direct loops.
        return max(1, min(items, 4 * numba.get_num_threads()))


# Plans by geometry (and the settings they depend on): making one took 8 us, and in a network whose weights evict
# the interpreter's data from the caches 2-3x that (ResNet-50 at batch 1, 53 convolutions: 62.4 -> 61.4 ms a call).
@functools.lru_cache(maxsize=256)
def _layout(xshape, wshape, yshape, stride, pad, dilate, groups, nthreads, can_pin, col_budget, shift_max_out):
    """_Plan's attributes but the views: their shapes (x_shape, y_shape, w_shape) instead."""
    s, p, d = geometry_3d(stride, pad, dilate)
    x5, w5, y5 = shape_5d(xshape), shape_5d(wshape), shape_5d(yshape)
    N = x5[0]
    O, Cg = w5[:2]
    G = groups
    Og = O // G
    isz, osz, ksz = x5[2:], y5[2:], w5[2:]
    K = Cg * math.prod(ksz)
    pointwise = ksz == (1, 1, 1) and s == (1, 1, 1) and p == (0, 0, 0)
    rows = osz[0] * osz[1]
    # Parallel chunks with single-threaded GEMMs: 2-3x faster here than multi-threaded GEMMs
    # one after the other, which are the fallback when SciPy's BLAS cannot be pinned.
    splits = max(1, -(-nthreads // (N * G))) if can_pin and N * G else 1
    nchunks = min(N * G * splits, nthreads) if can_pin else 1
    rblk = rows if pointwise else max(1, min(rows, col_budget // max(K * osz[2], 1)))
    return dict(isz=isz, osz=osz, ksz=ksz, x_shape=(N, G, Cg, math.prod(isz)), y_shape=(N, G, Og, math.prod(osz)),
                w_shape=(G, Og, K), direct=Cg == 1, pointwise=pointwise,
                shifted=s == (1, 1, 1) and not pointwise and Og <= shift_max_out, rblk=rblk, splits=splits,
                nchunks=nchunks, geom=(isz, osz, ksz, s, p, d), gemm=(nchunks, splits, rblk, pointwise))


def _on_pitch(a, dims, pdims, off):
    """Planes a (N, G, C, prod dims) placed at offset `off` of zero planes of pdims (a itself when nothing
    is added around it)."""
    if tuple(dims) == tuple(pdims):
        return a
    out = np.empty(a.shape[:3] + (math.prod(pdims),), a.dtype)
    _cs.embed(a.reshape(-1, a.shape[3]), dims, out.reshape(-1, out.shape[3]), pdims, off)
    return out


def _shift_geometry(pl):
    """(padded input extents, tap shifts, run length, dy's extents on the padded pitch) of a stride-1 plan."""
    isz, osz, ksz, _, p, d = pl.geom
    pdims = _cs.padded_dims(isz, p)
    return pdims, _cs.shifts(pdims, ksz, d), _cs.run_length(osz, pdims), (osz[0], pdims[1], pdims[2])


def _bias_array(b, dtype):
    return (np.empty(0, dtype), False) if b is None else (np.ascontiguousarray(b), True)


def _tiles(ys, tile=_wg.TILE):
    """Winograd tiles of edge `tile` of an output (or, for the weight gradient, dy) `ys`."""
    N, _, OH, OW = ys.shape
    return N * -(-OH // tile) * -(-OW // tile)


def _winograd(x, w, ys, stride, dilate, groups, min_tiles=None):
    """The Winograd tile edge for the convolution of x by w into ys (dy for the weight gradient), 0 where it may not
    run on the Winograd kernels: 4 from `min_tiles` 4x4 tiles on (default: as many as a kept filter transform needs),
    else, without min_tiles, 2 from WINOGRAD_SMALL_MIN_TILES 2x2 tiles on; a non-contiguous ys goes on to the GEMM
    path, which raises."""
    O, C = w.shape[:2]
    if not (x.ndim == 4 and w.shape[2:] == (3, 3) and groups == 1 and tuple(stride) == (1, 1)
            and tuple(dilate) == (1, 1) and x.dtype in (np.float32, np.float64)
            and (C >= WINOGRAD_MIN_CHANNELS or WINOGRAD_MIN_CHANNELS_SMALL_OUT <= C and O <= 2 * C)
            and ys.flags.c_contiguous):
        return 0
    if _tiles(ys) >= (min(WINOGRAD_MIN_TILES, WINOGRAD_MIN_TILES_KEPT) if min_tiles is None else min_tiles):
        return _wg.TILE
    if min_tiles is None and _tiles(ys, _wg.SMALL_TILE) >= WINOGRAD_SMALL_MIN_TILES:
        return _wg.SMALL_TILE
    return 0


def _winograd_plan(ys, tile=_wg.TILE):
    """(tiles per block, parallel chunks) for an output (or, for the weight gradient, dy) `ys`: blocks of at most
    WINOGRAD_TILES tiles, of one size, as many as a multiple of the threads (196 tiles on 2 threads in blocks of 64
    gave one thread 128 and the other 68: ResNet-50's 64 channels at 56 x 56, batch 1, ran 1.4x slower than in 4
    blocks of 49)."""
    tiles = _tiles(ys, tile)
    nthreads = numba.get_num_threads() if CAN_PIN_BLAS else 1
    nblk = -(-tiles // WINOGRAD_TILES)
    tb = max(1, -(-tiles // (-(-nblk // nthreads) * nthreads)))
    return tb, max(1, min(nthreads, -(-tiles // tb)))


def _winograd_conv(xs, w, b, ys, req, off, flip, tile):
    """ys (+)= xs convolved at offsets `off` (per axis) with w, on tiles of edge `tile`; flip: with w rotated and
    its channel axes swapped (the data gradient). False, having done nothing, where the GEMM path is faster: no kept
    transform of w and 2x2 tiles or fewer than WINOGRAD_MIN_TILES 4x4 tiles."""
    tiles = _tiles(ys, tile)
    U = _wf.transformed(w, flip, tile == _wg.TILE and tiles >= WINOGRAD_MIN_TILES, tile)
    if U is None:
        return False
    bias, has_bias = _bias_array(b, ys.dtype)
    tb, nchunks = _winograd_plan(ys, tile)
    with single_threaded_blas():
        if 1 < nchunks and tiles < nchunks * WINOGRAD_TILES:  # less than a block a thread: split positions
            _wg.conv_few_tiles(xs, U, bias, has_bias, ys, req, *off, nchunks)
        else:
            _wg.conv(xs, U, bias, has_bias, ys, req, *off, tb, nchunks)
    return True


def conv_fwd_cpu(x, w, b, out, req, stride, pad, dilate, groups, epilogue=None):
    """Convolution forward: out = conv(x, w) + b; x (N, C, *sp), w (O, C/groups, *k), b (O,) or None.

    epilogue: None, or conv_epilogue_cpu's (gamma, beta, mean, var, eps, res, has_res, relu) to finish out with,
    b folded into it (req a write); the GEMMs over output channels of few images do so block by block while the
    block is in cache. Returns whether the epilogue was applied; if not, the caller applies it."""
    if req == REQ_NULL:
        return False
    x, w = np.ascontiguousarray(x), np.ascontiguousarray(w)
    tile = _winograd(x, w, out, stride, dilate, groups)
    if tile and _winograd_conv(x, w, b, out, req, tuple(pad), False, tile):
        return False
    pl = _Plan(x, w, out, stride, pad, dilate, groups)
    bias, has_bias = _bias_array(b, out.dtype)
    if pl.shifted:
        pdims, shift, L, _ = _shift_geometry(pl)
        xp = _on_pitch(pl.x, pl.isz, pdims, pl.geom[4])
        xoff = (np.arange(xp.shape[2])[:, None] * xp.shape[3] + shift).ravel()
        _cs.fwd(xp, pl.w, bias, has_bias, pl.y, req, xoff, L, pl.osz, pdims[1:],
                pl.direct_chunks(math.prod(pl.y.shape[:3])))
        return False
    fused = epilogue is not None
    finish = epilogue if fused else (bias, bias, bias, bias, 0.0, bias, False, False)
    if pl.pointwise and pl.splits > 1 and _blas.AVAILABLE:
        with single_threaded_blas():
            _fwd_pointwise_rows(pl.x, pl.w, bias, has_bias, pl.y, req, pl.nchunks, _blas.gemm_of(x.dtype), True,
                                finish, fused)
        return fused
    if pl.direct:
        items = pl.y.shape[0] * pl.y.shape[1] * pl.y.shape[2]
        _fwd_direct(pl.x, pl.w, bias, has_bias, pl.y, req, *pl.geom, pl.direct_chunks(items))
        return False
    if pl.splits > 1 and pl.y.shape[3] <= NARROW_PLANE and _blas.AVAILABLE:
        cols = np.empty(pl.y.shape[:2] + (pl.w.shape[2], pl.y.shape[3]), x.dtype)
        with single_threaded_blas():
            _im2col_channels(pl.x, cols, *pl.geom, pl.nchunks)
            _fwd_pointwise_rows(cols, pl.w, bias, has_bias, pl.y, req, pl.nchunks, _blas.gemm_of(x.dtype), True,
                                finish, fused)
        return fused
    with single_threaded_blas():
        _fwd_gemm(pl.x, pl.w, bias, has_bias, pl.y, req, *pl.geom, *pl.gemm, _blas.gemm_of(x.dtype), _blas.AVAILABLE)
    return False


def conv_bwd_data_cpu(dy, w, dx, req, stride, pad, dilate, groups, bias=None):
    """Gradient wrt the convolution input: dx (+)= conv_transpose(dy, w) (+ bias[c]).

    This is also the Deconvolution forward pass (dy = its input, dx = its output, bias = its bias)."""
    if req == REQ_NULL:
        return
    dy, w = np.ascontiguousarray(dy), np.ascontiguousarray(w)
    # Stride 1: the data gradient is the convolution of dy with the rotated filter at pad 2 - pad.
    tile = _winograd(dx, w, dx, stride, dilate, groups)
    if tile and _winograd_conv(dy, w, bias, dx, req, (2 - pad[0], 2 - pad[1]), True, tile):
        return
    pl = _Plan(dx, w, dy, stride, pad, dilate, groups)
    b, has_bias = _bias_array(bias, dx.dtype)
    if pl.shifted:
        pdims, shift, L, ydims = _shift_geometry(pl)
        dye = _on_pitch(pl.y, pl.osz, ydims, (0, 0, 0))
        yoff = np.arange(dye.shape[2], dtype=np.int64) * dye.shape[3]
        _cs.bwd_data(dye, pl.w, b, has_bias, pl.x, req, shift, yoff, L, pl.isz, pl.geom[4], pdims[1:],
                     pl.direct_chunks(math.prod(pl.x.shape[:3])))
        return
    if pl.direct:
        items = pl.x.shape[0] * pl.x.shape[1] * pl.x.shape[2]
        _bwd_data_direct(pl.y, pl.w, pl.x, b, has_bias, req, *pl.geom, pl.direct_chunks(items))
        return
    wt = np.ascontiguousarray(pl.w.transpose(0, 2, 1))
    with single_threaded_blas():
        _bwd_data_gemm(pl.y, wt, pl.x, b, has_bias, req, *pl.geom, *pl.gemm)


def conv_bwd_weight_cpu(x, dy, dw, req, stride, pad, dilate, groups):
    """Gradient wrt the weight: dw (+)= sum_n dy[n] (x) im2col(x[n]).

    With x and dy swapped (x = Deconvolution's output gradient, dy = its input) this is the
    Deconvolution weight gradient."""
    if req == REQ_NULL:
        return
    x, dy = np.ascontiguousarray(x), np.ascontiguousarray(dy)
    if _winograd(x, dw, dy, stride, dilate, groups, WINOGRAD_MIN_TILES) and dw.flags.c_contiguous:
        tb, nchunks = _winograd_plan(dy)
        shared = nchunks > 1 and dw.shape[0] * dw.shape[1] >= WINOGRAD_SHARED_PARTS
        part = np.empty((1 if shared else nchunks, _wg.NPOS) + dw.shape[:2], dw.dtype)
        with single_threaded_blas():
            _wg.bwd_weight(x, dy, part, pad[0], pad[1], tb, nchunks)
        _wg.filter_grad(part, dw, req)
        return
    pl = _Plan(x, dw, dy, stride, pad, dilate, groups)
    if pl.shifted:
        pdims, shift, L, ydims = _shift_geometry(pl)
        _cs.bwd_weight(_on_pitch(pl.x, pl.isz, pdims, pl.geom[4]), _on_pitch(pl.y, pl.osz, ydims, (0, 0, 0)),
                       pl.w, req, shift, L)
        return
    if pl.direct:
        _bwd_weight_direct(pl.x, pl.y, pl.w, req, *pl.geom)
        return
    part = np.zeros((pl.nchunks,) + pl.w.shape, dw.dtype)
    with single_threaded_blas():
        _bwd_weight_gemm(pl.x, pl.y, part, *pl.geom, *pl.gemm[1:])
    if req == REQ_ADD:
        pl.w += part.sum(axis=0)
    else:
        part.sum(axis=0, out=pl.w)


def conv_bwd_bias_cpu(dy, db, req):
    """Gradient wrt the bias: db (+)= dy summed over the batch and spatial axes."""
    if req == REQ_NULL:
        return
    dy = np.ascontiguousarray(dy)
    _bwd_bias(dy.reshape(dy.shape[0], dy.shape[1], math.prod(dy.shape[2:])), db, req)
