"""Direct CPU kernels for stride-1 convolutions with few channels (LeNet's 1->6 and 6->16 5x5, say), where
im2col's GEMMs are too small for the BLAS to run at speed; conv_cpu decides when to use them.

Every plane is laid out on the row pitch of the zero-padded input (Dp, Hp, Wp): output element (od, oh, ow)
sits at j = (od*Hp + oh)*Wp + ow, and tap (kd, kh, kw) reads the padded input at j + shift, shift =
(kd*dd*Hp + kh*dh)*Wp + kw*dw. So one (output channel, input channel, tap) triple is one multiply-add over a
contiguous run of L = ((OD-1)*Hp + OH-1)*Wp + OW elements (positions with ow >= OW are computed and
dropped), which vectorizes, instead of one short run per output row. Arrays are the canonical views of
conv_cpu: x (N, G, Cg, S), y (N, G, Og, P), w (G, Og, Cg*kvol).
"""
import numpy as np
from numba import njit, prange, uint64

from .common import REQ_ADD, assign, parallel_kernel
from .conv_common import FASTMATH as _FM, axpy as _axpy, copy as _copy, dot as _dot, zero as _zero


def padded_dims(isz, pad):
    """(Dp, Hp, Wp): the input's spatial extents with the padding on both sides."""
    return tuple(n + 2 * p for n, p in zip(isz, pad))


def shifts(pdims, ksz, dilate):
    """The flat offset of every tap (kd, kh, kw), in weight order, on the padded pitch (int64 array)."""
    _, Hp, Wp = pdims
    return np.array([(kd * dilate[0] * Hp + kh * dilate[1]) * Wp + kw * dilate[2]
                     for kd in range(ksz[0]) for kh in range(ksz[1]) for kw in range(ksz[2])], np.int64)


def run_length(osz, pdims):
    """L, the run of flat positions that holds every output element on the padded pitch."""
    return ((osz[0] - 1) * pdims[1] + osz[1] - 1) * pdims[2] + osz[2]


# Not a light kernel: it copies row by row (0.3-0.6 ms for LeNet's 0.7 M-element planes on one thread); threaded
# from 32 K elements, LeNet's training step ran 11.5-13.3 ms against 13.2-15.3 (four interleaved pairs, 2 cores).
@parallel_kernel(nogil=True, cache=True)
def embed(src, sdims, dst, ddims, off):
    """dst[i] = plane src[i] (sdims) placed at offset `off` of a zero plane of ddims; src (M, prod sdims)
    and dst (M, prod ddims) C-contiguous."""
    D, H, W = sdims
    _, Hp, Wp = ddims
    sf, df = src.reshape(src.size), dst.reshape(dst.size)
    S, Sp = src.shape[1], dst.shape[1]
    for i in prange(src.shape[0]):
        _zero(df, i * Sp, Sp)
        for d in range(D):
            for h in range(H):
                _copy(df, i * Sp + ((d + off[0]) * Hp + h + off[1]) * Wp + off[2], sf, i * S + (d * H + h) * W, 1, W)


@njit(inline="always", nogil=True)
def _crop(acc, a0, pitch, dims, out, o0, bias, req):
    """out[o0 + (d*H + h)*W + w] (req)= acc[a0 + (d*Hp + h)*Wp + w] + bias over dims (D, H, W), pitch (Hp, Wp)."""
    D, H, W = dims
    Hp, Wp = pitch
    for d in range(D):
        for h in range(H):
            src, dst = uint64(a0 + (d * Hp + h) * Wp), uint64(o0 + (d * H + h) * W)
            # One loop per request, free of branches, so that each vectorizes.
            if req == REQ_ADD:
                for q in range(uint64(W)):
                    out[dst + q] += acc[src + q] + bias
            else:
                for q in range(uint64(W)):
                    out[dst + q] = acc[src + q] + bias


@njit(inline="always", fastmath=_FM, nogil=True)
def _madd4(y, y0, a0, a1, a2, a3, x, x0, x1, x2, x3, n):
    """y[y0 + j] += a0*x[x0 + j] + a1*x[x1 + j] + a2*x[x2 + j] + a3*x[x3 + j] for j < n: four taps per pass
    load and store y once (one tap per pass, as axpy, is bound by those loads and stores)."""
    y0, x0, x1, x2, x3 = uint64(y0), uint64(x0), uint64(x1), uint64(x2), uint64(x3)
    for j in range(uint64(n)):
        y[y0 + j] += a0 * x[x0 + j] + a1 * x[x1 + j] + a2 * x[x2 + j] + a3 * x[x3 + j]


@njit(inline="always", fastmath=_FM, nogil=True)
def _dot4(y, y0, x, x0, x1, x2, x3, n):
    """The four sums over j < n of y[y0 + j] * x[xi + j], sharing the loads of y."""
    y0, x0, x1, x2, x3 = uint64(y0), uint64(x0), uint64(x1), uint64(x2), uint64(x3)
    s0 = s1 = s2 = s3 = y.dtype.type(0)
    for j in range(uint64(n)):
        v = y[y0 + j]
        s0 += v * x[x0 + j]
        s1 += v * x[x1 + j]
        s2 += v * x[x2 + j]
        s3 += v * x[x3 + j]
    return s0, s1, s2, s3


@njit(inline="always", nogil=True)
def _madd_all(y, y0, ystep, a, a0, astep, x, xoff, x0, n, L):
    """y[y0 + ystep*i + j] += a[a0 + astep*i] * x[x0 + xoff[i] + j] for i < n, j < L, four i at a time when
    ystep is 0 (one destination)."""
    i = 0
    if ystep == 0:
        while i + 4 <= n:
            _madd4(y, y0, a[a0 + astep * i], a[a0 + astep * (i + 1)], a[a0 + astep * (i + 2)],
                   a[a0 + astep * (i + 3)], x, x0 + xoff[i], x0 + xoff[i + 1], x0 + xoff[i + 2], x0 + xoff[i + 3], L)
            i += 4
    while i < n:
        _axpy(y, y0 + ystep * i, 1, a[a0 + astep * i], x, x0 + xoff[i], 1, L)
        i += 1


@parallel_kernel(fastmath=_FM, nogil=True, cache=True)
def fwd(xp, w, b, has_bias, out, req, xoff, L, osz, pitch, nchunks):
    """out[n, g, o] (req)= sum_k w[g, o, k] * xp[n, g].flat[xoff[k]:][:L] (cropped) + b; xp holds the padded
    input planes (N, G, Cg, Sp); xoff[c*kvol + t] = c*Sp + shift[t]."""
    N, G, Og = out.shape[0], out.shape[1], out.shape[2]
    Cg, Sp, K = xp.shape[2], xp.shape[3], xoff.size
    xf, wf, of = xp.reshape(xp.size), w.reshape(w.size), out.reshape(out.size)
    items = N * G * Og
    for ch in prange(nchunks):
        acc = np.empty(L, out.dtype)
        for it in range(ch * items // nchunks, (ch + 1) * items // nchunks):
            n, g, o = it // (G * Og), it // Og % G, it % Og
            acc[:] = 0
            _madd_all(acc, 0, 0, wf, (g * Og + o) * K, 1, xf, xoff, (n * G + g) * Cg * Sp, K, L)
            bias = b[g * Og + o] if has_bias else b.dtype.type(0)
            _crop(acc, 0, pitch, osz, of, it * out.shape[3], bias, req)


@parallel_kernel(fastmath=_FM, nogil=True, cache=True)
def bwd_data(dye, w, b, has_bias, dx, req, shift, yoff, L, isz, pad, pitch, nchunks):
    """dx[n, g, c] (req)= the padded plane sum_{o, t} w[g, o, c*kvol + t] * dye[n, g, o] placed at shift[t],
    cropped by the padding (+ b: the Deconvolution bias); dye holds dy on the padded pitch (N, G, Og, Se);
    yoff[o] = o*Se."""
    N, G, Cg = dx.shape[0], dx.shape[1], dx.shape[2]
    Og, Se, kvol = dye.shape[2], dye.shape[3], shift.size
    Hp, Wp = pitch
    Sp = (isz[0] + 2 * pad[0]) * Hp * Wp
    yf, wf, xf = dye.reshape(dye.size), w.reshape(w.size), dx.reshape(dx.size)
    K = Cg * kvol
    items = N * G * Cg
    for ch in prange(nchunks):
        acc = np.empty(Sp, dx.dtype)
        for it in range(ch * items // nchunks, (ch + 1) * items // nchunks):
            n, g, c = it // (G * Cg), it // Cg % G, it % Cg
            acc[:] = 0
            for t in range(kvol):
                # Every output channel's plane lands at the same shift: four of them per pass.
                _madd_all(acc, shift[t], 0, wf, g * Og * K + c * kvol + t, K, yf, yoff, (n * G + g) * Og * Se, Og, L)
            bias = b[g * Cg + c] if has_bias else b.dtype.type(0)
            _crop(acc, (pad[0] * Hp + pad[1]) * Wp + pad[2], pitch, isz, xf, it * dx.shape[3], bias, req)


@parallel_kernel(fastmath=_FM, nogil=True, cache=True)
def bwd_weight(xp, dye, dw, req, shift, L):
    """dw[g, o, c*kvol + t] (req)= sum_n dye[n, g, o, :L] . xp[n, g, c, shift[t]:][:L], one (g, o, c) per item."""
    N, G, Og, Se = dye.shape
    Cg, Sp, kvol = xp.shape[2], xp.shape[3], shift.size
    xf, yf = xp.reshape(xp.size), dye.reshape(dye.size)
    for it in prange(G * Og * Cg):
        g, o, c = it // (Og * Cg), it // Cg % Og, it % Cg
        sums = np.zeros(kvol)
        for n in range(N):
            x0, y0 = ((n * G + g) * Cg + c) * Sp, ((n * G + g) * Og + o) * Se
            t = 0
            while t + 4 <= kvol:
                s0, s1, s2, s3 = _dot4(yf, y0, xf, x0 + shift[t], x0 + shift[t + 1], x0 + shift[t + 2],
                                       x0 + shift[t + 3], L)
                sums[t] += s0
                sums[t + 1] += s1
                sums[t + 2] += s2
                sums[t + 3] += s3
                t += 4
            while t < kvol:
                sums[t] += _dot(xf, x0 + shift[t], 1, yf, y0, L)
                t += 1
        for t in range(kvol):
            dw[g, o, c * kvol + t] = assign(dw[g, o, c * kvol + t], sums[t], req)
