"""Deformable convolution (MXNet's contrib DeformableConvolution, v1, and ModulatedDeformableConvolution, v2) on
NCHW data, CPU and CUDA: a deformable im2col (bilinear samples at the offset taps, times the mask) followed by
GEMMs with the weight, and for the gradients its transposes (col2im onto the data, and the derivative of each
sample with respect to its position and mask).

Sampling follows MXNet 1.9.1. v1 samples a position (h, w) only inside [0, H) x [0, W) (else 0) and clamps its
upper taps to the last row/column (a position in [H-1, H) reads row H-1 alone); v2 samples inside (-1, H) x
(-1, W) and treats taps outside the image as 0. Positions and blend weights are computed in float64.
The CPU GEMMs are BLAS calls (Numba's np.dot, one per image and group, on a single-threaded BLAS inside Numba's
threads); on CUDA, matmul_gpu's tiled GEMM.
"""
import math

import numba
import numpy as np
from numba import cuda, prange

from .bilinear import blend, blend_grad, taps_cpu, taps_gpu
from .common import REQ_ADD, REQ_WRITE, flat, parallel_kernel
from .blas_cpu import single_threaded_blas
from .conv_cpu import conv_bwd_bias_cpu
from .conv_gpu import conv_bwd_bias_gpu
from .elemwise_gpu import fill_gpu
from .launch import dual, grid_1d
from .matmul_gpu import matmul_gpu

# geo, the geometry tuple every kernel takes (all ints):
#   0 N, 1 C, 2 H, 3 W, 4 KH, 5 KW, 6 OH, 7 OW, 8-9 stride, 10-11 pad, 12-13 dilate,
#   14 deformable groups, 15 v2 sampling (modulated), 16 has_mask.
GEO_LEN = 17


def _position(off, mask, geo, n, g, k, p):
    """(h, w, m): the position that tap k of output position p of image n samples in deformable group g, and
    its mask (1 without one). off is (N, DG, K, 2, P) flat (h then w), mask (N, DG, K, P) flat."""
    KW, OW, P = geo[5], geo[7], geo[6] * geo[7]
    K = geo[4] * KW
    base = ((n * geo[14] + g) * 2 * K + 2 * k) * P + p
    h = 1.0 * (p // OW * geo[8] - geo[10] + k // KW * geo[12]) + off[base]
    w = 1.0 * (p % OW * geo[9] - geo[11] + k % KW * geo[13]) + off[base + P]
    m = 1.0
    if geo[16]:
        m = 1.0 * mask[((n * geo[14] + g) * K + k) * P + p]
    return h, w, m


def _scatter(dx, base, H, W, h0, w0, h1, w1, lh, lw, g):
    """dx[taps] += g * blend weights (CPU: plain adds; the CUDA twin below adds atomically)."""
    if 0 <= h0 < H:
        if 0 <= w0 < W:
            dx[base + h0 * W + w0] += g * ((1.0 - lh) * (1.0 - lw))
        if 0 <= w1 < W:
            dx[base + h0 * W + w1] += g * ((1.0 - lh) * lw)
    if 0 <= h1 < H:
        if 0 <= w0 < W:
            dx[base + h1 * W + w0] += g * (lh * (1.0 - lw))
        if 0 <= w1 < W:
            dx[base + h1 * W + w1] += g * (lh * lw)


@numba.njit(inline="always", nogil=True)
def _corners(h, w, H, W, v2):
    """(inside, h0, w0, h1, w1, lh, lw): whether (h, w) is sampled at all, its four taps and the fractions
    toward the upper ones, by MXNet's v1 or v2 rule."""
    if v2:
        inside = h > -1.0 and w > -1.0 and h < H and w < W
    else:
        inside = h >= 0.0 and w >= 0.0 and h < H and w < W
    h0, w0 = int(math.floor(h)), int(math.floor(w))
    h1, w1 = h0 + 1, w0 + 1
    lh, lw = h - h0, w - w0
    if not v2 and h0 >= H - 1:
        h0 = h1 = H - 1
        lh = 0.0
    if not v2 and w0 >= W - 1:
        w0 = w1 = W - 1
        lw = 0.0
    return inside, h0, w0, h1, w1, lh, lw


def _element_helpers(position, taps, scatter, compile_helper):
    """The work of the three kernels for one sample position (tap k of output position p of image n, deformable
    group g), whose bilinear corners serve every channel of the group: written once over one device's array helpers
    (position, taps, scatter), compiled by compile_helper. Returns (sample, scatter_sample, coordinate_grads)."""
    def sample(x, off, mask, col, geo, n, g, k, p):
        """col[n, c, k, p] = mask * the bilinear sample of x[n, c] for every channel c of the group."""
        C, H, W = geo[1], geo[2], geo[3]
        K, P, Cd = geo[4] * geo[5], geo[6] * geo[7], geo[1] // geo[14]
        h, w, m = position(off, mask, geo, n, g, k, p)
        inside, h0, w0, h1, w1, lh, lw = _corners(h, w, H, W, geo[15])
        for nc in range(n * C + g * Cd, n * C + (g + 1) * Cd):
            v = 0.0
            if inside:
                v00, v01, v10, v11 = taps(x, nc * H * W, H, W, h0, w0, h1, w1)
                v = blend(v00, v01, v10, v11, lh, lw) * m
            col[(nc * K + k) * P + p] = v

    def scatter_sample(dcol, off, mask, dx, geo, n, g, k, p):
        """The transpose of sample: dcol[n, c, k, p] times the mask onto the taps in dx[n, c], every channel c of
        the group."""
        C, H, W = geo[1], geo[2], geo[3]
        K, P, Cd = geo[4] * geo[5], geo[6] * geo[7], geo[1] // geo[14]
        h, w, m = position(off, mask, geo, n, g, k, p)
        inside, h0, w0, h1, w1, lh, lw = _corners(h, w, H, W, geo[15])
        if inside:
            for nc in range(n * C + g * Cd, n * C + (g + 1) * Cd):
                scatter(dx, nc * H * W, H, W, h0, w0, h1, w1, lh, lw, dcol[(nc * K + k) * P + p] * m)

    def coordinate_grads(dcol, x, off, mask, geo, n, g, k, p):
        """(d/dh, d/dw, d/dmask) of the sample, summed over the group's channels with the column gradients dcol as
        weights."""
        C, H, W = geo[1], geo[2], geo[3]
        K, P, Cd = geo[4] * geo[5], geo[6] * geo[7], geo[1] // geo[14]
        h, w, m = position(off, mask, geo, n, g, k, p)
        inside, h0, w0, h1, w1, lh, lw = _corners(h, w, H, W, geo[15])
        gh = gw = gm = 0.0
        if inside:
            for nc in range(n * C + g * Cd, n * C + (g + 1) * Cd):
                v00, v01, v10, v11 = taps(x, nc * H * W, H, W, h0, w0, h1, w1)
                d = 1.0 * dcol[(nc * K + k) * P + p]
                dh, dw = blend_grad(v00, v01, v10, v11, lh, lw)
                gh += d * dh
                gw += d * dw
                gm += d * blend(v00, v01, v10, v11, lh, lw)
        return gh * m, gw * m, gm

    return compile_helper(sample), compile_helper(scatter_sample), compile_helper(coordinate_grads)


_position_cpu, _position_gpu = dual(_position)


@cuda.jit(device=True, inline="always")
def _scatter_gpu(dx, base, H, W, h0, w0, h1, w1, lh, lw, g):
    # Samples of different taps and positions share pixels, hence atomics (the summation order varies).
    if 0 <= h0 < H:
        if 0 <= w0 < W:
            cuda.atomic.add(dx, base + h0 * W + w0, dx.dtype.type(g * ((1.0 - lh) * (1.0 - lw))))
        if 0 <= w1 < W:
            cuda.atomic.add(dx, base + h0 * W + w1, dx.dtype.type(g * ((1.0 - lh) * lw)))
    if 0 <= h1 < H:
        if 0 <= w0 < W:
            cuda.atomic.add(dx, base + h1 * W + w0, dx.dtype.type(g * (lh * (1.0 - lw))))
        if 0 <= w1 < W:
            cuda.atomic.add(dx, base + h1 * W + w1, dx.dtype.type(g * (lh * lw)))


_sample_cpu, _scatter_sample_cpu, _coordinate_grads_cpu = _element_helpers(
    _position_cpu, taps_cpu, numba.njit(inline="always", nogil=True)(_scatter),
    numba.njit(inline="always", nogil=True))
_sample_gpu, _scatter_sample_gpu, _coordinate_grads_gpu = _element_helpers(
    _position_gpu, taps_gpu, _scatter_gpu, cuda.jit(device=True, inline="always"))


# --- CPU: one (image, deformable group[, tap]) per prange item ----------------------------------------------

@parallel_kernel(nogil=True, cache=True)
def _im2col_cpu(x, off, mask, col, geo):
    """col (N, C, K, P) flat = the mask times the bilinear sample of x at each tap's position."""
    DG, K, P = geo[14], geo[4] * geo[5], geo[6] * geo[7]
    for item in prange(geo[0] * DG * K):
        for p in range(P):
            _sample_cpu(x, off, mask, col, geo, item // (DG * K), item // K % DG, item % K, p)


@parallel_kernel(nogil=True, cache=True)
def _col2im_cpu(dcol, off, mask, dx, geo):
    """dx (N, C, H, W) flat = the transpose of _im2col_cpu applied to dcol; an item owns its group's planes, so
    no two threads add to one pixel."""
    DG, HW, K, P = geo[14], geo[2] * geo[3], geo[4] * geo[5], geo[6] * geo[7]
    planes = geo[1] // DG * HW
    for item in prange(geo[0] * DG):
        for i in range(item * planes, (item + 1) * planes):
            dx[i] = 0.0
        for k in range(K):
            for p in range(P):
                _scatter_sample_cpu(dcol, off, mask, dx, geo, item // DG, item % DG, k, p)


@parallel_kernel(nogil=True, cache=True)
def _col2coord_cpu(dcol, x, off, mask, doff, dmask, geo):
    """doff (N, DG, K, 2, P) and, with a mask, dmask (N, DG, K, P): the gradient of each sample's position and
    mask, summed over the channels of its deformable group."""
    DG, K, P = geo[14], geo[4] * geo[5], geo[6] * geo[7]
    for item in prange(geo[0] * DG * K):
        for p in range(P):
            gh, gw, gm = _coordinate_grads_cpu(dcol, x, off, mask, geo, item // (DG * K), item // K % DG, item % K,
                                               p)
            doff[item * 2 * P + p] = gh
            doff[item * 2 * P + P + p] = gw
            if geo[16]:
                dmask[item * P + p] = gm


# GEMMs per (image, group) item on Numba's BLAS, pinned to one thread by the drivers (single_threaded_blas):
# Numba's threads and a threaded BLAS together oversubscribe the cores (see conv_cpu).

@parallel_kernel(nogil=True, cache=True)
def _gemm_fwd_cpu(w3, col, out):
    """out[n, g] (Og, P) = w3[g] (Og, CgK) @ col[n, g] (CgK, P)."""
    G = w3.shape[0]
    for item in prange(col.shape[0] * G):
        np.dot(w3[item % G], col[item // G, item % G], out[item // G, item % G])


@parallel_kernel(nogil=True, cache=True)
def _gemm_bwd_cpu(w3, dy, dcol):
    """dcol[n, g] (CgK, P) = w3[g]^T @ dy[n, g] (Og, P)."""
    G = w3.shape[0]
    for item in prange(dy.shape[0] * G):
        np.dot(np.ascontiguousarray(w3[item % G].T), dy[item // G, item % G], dcol[item // G, item % G])


@parallel_kernel(nogil=True, cache=True)
def _gemm_weight_cpu(dy, col, part):
    """part[n, g] (Og, CgK) = dy[n, g] (Og, P) @ col[n, g]^T; the caller sums over n."""
    G = dy.shape[1]
    for item in prange(dy.shape[0] * G):
        n, g = item // G, item % G
        np.dot(dy[n, g], np.ascontiguousarray(col[n, g].T), part[n, g])


# --- CUDA: one thread per sample position (image, group, tap, output position), grid-stride --------------------

def _per_sample(helper):
    """A kernel running helper(a, off, mask, b, geo, n, g, k, p) (sample or scatter_sample) at every sample
    position."""
    def kernel(a, off, mask, b, geo):
        DG, K, P = geo[14], geo[4] * geo[5], geo[6] * geo[7]
        e = cuda.grid(1)
        while e < geo[0] * DG * K * P:
            item = e // P
            helper(a, off, mask, b, geo, item // (DG * K), item // K % DG, item % K, e % P)
            e += cuda.gridsize(1)
    return kernel


_im2col_kernel = _per_sample(_sample_gpu)
_col2im_kernel = _per_sample(_scatter_sample_gpu)


def _col2coord_kernel(dcol, x, off, mask, doff, dmask, geo):
    DG, K, P = geo[14], geo[4] * geo[5], geo[6] * geo[7]
    e = cuda.grid(1)
    while e < geo[0] * DG * K * P:
        item, p = e // P, e % P
        gh, gw, gm = _coordinate_grads_gpu(dcol, x, off, mask, geo, item // (DG * K), item // K % DG, item % K, p)
        doff[item * 2 * P + p] = gh
        doff[item * 2 * P + P + p] = gw
        if geo[16]:
            dmask[e] = gm
        e += cuda.gridsize(1)


def _add_bias_kernel(out, b, P):
    e = cuda.grid(1)
    while e < out.size:
        out[e] += b[e // P % b.size]
        e += cuda.gridsize(1)


im2col_kernel = cuda.jit(_im2col_kernel)
col2im_kernel = cuda.jit(_col2im_kernel)
col2coord_kernel = cuda.jit(_col2coord_kernel)
add_bias_kernel = cuda.jit(_add_bias_kernel)

PTX_CHECKS = []
for _t in ("float32", "float64"):
    _a, _geo = f"{_t}[::1]", f"UniTuple(int64, {GEO_LEN})"
    PTX_CHECKS += [
        (_im2col_kernel, f"void({_a}, {_a}, {_a}, {_a}, {_geo})"),
        (_col2im_kernel, f"void({_a}, {_a}, {_a}, {_a}, {_geo})"),
        (_col2coord_kernel, f"void({_a}, {_a}, {_a}, {_a}, {_a}, {_a}, {_geo})"),
        (_add_bias_kernel, f"void({_a}, {_a}, int64)"),
    ]


# --- drivers ---------------------------------------------------------------------------------------------------

def _geometry(x_shape, out_shape, kernel, stride, pad, dilate, dgroups, v2, has_mask):
    return tuple(int(v) for v in (tuple(x_shape) + tuple(kernel) + tuple(out_shape[2:]) + tuple(stride)
                                  + tuple(pad) + tuple(dilate) + (dgroups, v2, has_mask)))


def _mask_or_stand_in(mask, like):
    """Kernels without a mask never read it; a 1-element array of like's type stands in."""
    return flat(like)[:1] if mask is None else flat(mask)


def _samples(geo):
    """How many sample positions there are: one CUDA thread each."""
    return geo[0] * geo[14] * geo[4] * geo[5] * geo[6] * geo[7]


def _dims(geo, groups):
    """(N, G, C/G*K, P): images, groups, the GEMMs' inner size and the output positions."""
    K, P = geo[4] * geo[5], geo[6] * geo[7]
    return geo[0], groups, geo[1] // groups * K, P


def deformable_fwd_cpu(x, off, mask, w, b, out, kernel, stride, pad, dilate, groups, dgroups, v2):
    """out (N, O, OH, OW) = deformable convolution of x (N, C, H, W) with weight w (O, C/groups, KH, KW) and bias b
    (None: none); off (N, DG*K*2, OH, OW), mask (N, DG*K, OH, OW) or None. C-contiguous arrays of one float type;
    out is written (no request: the op layer accumulates through a temporary)."""
    geo = _geometry(x.shape, out.shape, kernel, stride, pad, dilate, dgroups, v2, mask is not None)
    N, G, CgK, P = _dims(geo, groups)
    col = np.empty((N, G, CgK, P), x.dtype)
    _im2col_cpu(flat(x), flat(off), _mask_or_stand_in(mask, off), flat(col), geo)
    out4 = out.reshape(N, G, -1, P)
    with single_threaded_blas():
        _gemm_fwd_cpu(w.reshape(G, -1, CgK), col, out4)
    if b is not None:
        out4 += b.reshape(G, -1, 1)


def deformable_bwd_cpu(dy, x, off, mask, w, dx, doff, dmask, dw, db, kernel, stride, pad, dilate, groups, dgroups,
                       v2):
    """The gradients of deformable_fwd_cpu for head gradient dy: dx, doff, dmask (None without a mask), dw, db (None
    without a bias), all written."""
    geo = _geometry(x.shape, dy.shape, kernel, stride, pad, dilate, dgroups, v2, mask is not None)
    N, G, CgK, P = _dims(geo, groups)
    dy4 = dy.reshape(N, G, -1, P)
    w3 = w.reshape(G, -1, CgK)
    dcol = np.empty((N, G, CgK, P), x.dtype)
    with single_threaded_blas():
        _gemm_bwd_cpu(w3, dy4, dcol)
    m = _mask_or_stand_in(mask, off)
    _col2im_cpu(flat(dcol), flat(off), m, flat(dx), geo)
    _col2coord_cpu(flat(dcol), flat(x), flat(off), m, flat(doff), _mask_or_stand_in(dmask, doff), geo)
    col = dcol  # reused: the weight gradient needs the forward's columns
    _im2col_cpu(flat(x), flat(off), m, flat(col), geo)
    part = np.empty((N, G, dy4.shape[2], CgK), x.dtype)
    with single_threaded_blas():
        _gemm_weight_cpu(dy4, col, part)
    part.sum(axis=0, out=dw.reshape(G, -1, CgK))
    if db is not None:
        conv_bwd_bias_cpu(dy, db, REQ_WRITE)


def _launch(kernel, n, *args):
    if n == 0:
        return
    blocks, threads = grid_1d(n)
    kernel[blocks, threads](*args)


def deformable_fwd_gpu(x, off, mask, w, b, out, kernel, stride, pad, dilate, groups, dgroups, v2):
    """CUDA twin of deformable_fwd_cpu on C-contiguous device arrays."""
    geo = _geometry(x.shape, out.shape, kernel, stride, pad, dilate, dgroups, v2, mask is not None)
    N, G, CgK, P = _dims(geo, groups)
    col = cuda.device_array((N, G, CgK, 1, P), x.dtype)
    _launch(im2col_kernel, _samples(geo), flat(x), flat(off), _mask_or_stand_in(mask, off), flat(col), geo)
    out5 = out.reshape(N, G, out.shape[1] // G, 1, P)
    w4 = w.reshape(G, -1, 1, CgK)
    for n in range(N):
        matmul_gpu(w4, col[n], out5[n], False, False, REQ_WRITE)
    if b is not None:
        _launch(add_bias_kernel, out.size, flat(out), b, P)


def deformable_bwd_gpu(dy, x, off, mask, w, dx, doff, dmask, dw, db, kernel, stride, pad, dilate, groups, dgroups,
                       v2):
    """CUDA twin of deformable_bwd_cpu on C-contiguous device arrays."""
    geo = _geometry(x.shape, dy.shape, kernel, stride, pad, dilate, dgroups, v2, mask is not None)
    N, G, CgK, P = _dims(geo, groups)
    dy5 = dy.reshape(N, G, dy.shape[1] // G, 1, P)
    w4 = w.reshape(G, -1, 1, CgK)
    col = cuda.device_array((N, G, CgK, 1, P), x.dtype)
    for n in range(N):
        matmul_gpu(w4, dy5[n], col[n], True, False, REQ_WRITE)
    m = _mask_or_stand_in(mask, off)
    fill_gpu(dx, 0, REQ_WRITE)
    _launch(col2im_kernel, _samples(geo), flat(col), flat(off), m, flat(dx), geo)
    _launch(col2coord_kernel, _samples(geo), flat(col), flat(x), flat(off), m,
            flat(doff), _mask_or_stand_in(dmask, doff), geo)
    _launch(im2col_kernel, _samples(geo), flat(x), flat(off), m, flat(col), geo)
    dw4 = dw.reshape(G, -1, 1, CgK)
    for n in range(N):
        matmul_gpu(dy5[n], col[n], dw4, False, True, REQ_WRITE if n == 0 else REQ_ADD)
    if db is not None:
        conv_bwd_bias_gpu(dy, db, REQ_WRITE)
