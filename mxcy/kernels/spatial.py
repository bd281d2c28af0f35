"""Spatial-transformer and region kernels on NCHW data, CPU and CUDA: GridGenerator (affine and warp grids),
BilinearSampler (and SpatialTransformer, which chains the two), ROIPooling and Correlation, each forward and backward
as MXNet 1.9.1 defines them. Sums and blends run in float64 (ROIPooling's box edges in the data's type, as MXNet);
arrays are flat C-contiguous views."""
import math

import numba
import numpy as np
from numba import cuda, prange

from .bilinear import blend, blend_grad, taps_cpu, taps_gpu
from .common import REQ_WRITE, flat, parallel_kernel
from .launch import dual, grid_1d
from .elemwise_gpu import fill_gpu


def _launch(kernel, n, *args):
    if n == 0:
        return
    blocks, threads = grid_1d(n)
    kernel[blocks, threads](*args)


# --- GridGenerator ---------------------------------------------------------------------------------------------
# Affine: out[n, c, h, w] = theta[n, c, 0] * x_w + theta[n, c, 1] * y_h + theta[n, c, 2], where x_w = -1 + w * sx and
# y_h = -1 + h * sy (sx = 2 / (W - 1), sy = 2 / (H - 1)). Warp: out[n, 0] = (flow[n, 0] + w) * sx - 1, out[n, 1] =
# (flow[n, 1] + h) * sy - 1. The steps are passed in (a 1-pixel side gives an infinite step and NaN, as in MXNet).

def _affine_value(theta, e, H, W, sx, sy):
    nc, p = e // (H * W), e % (H * W)
    x = -1.0 + (p % W) * sx
    y = -1.0 + (p // W) * sy
    return theta[nc * 3] * x + theta[nc * 3 + 1] * y + theta[nc * 3 + 2]


def _affine_grad_value(g, i, H, W, sx, sy):
    """d theta[i] (theta flat (N, 2, 3)): the head gradient summed against the grid coordinate theta[i] scales."""
    nc, j = i // 3, i % 3
    acc = 0.0
    for p in range(H * W):
        v = 1.0 * g[nc * H * W + p]
        if j == 0:
            v *= -1.0 + (p % W) * sx
        elif j == 1:
            v *= -1.0 + (p // W) * sy
        acc += v
    return acc


def _warp_value(flow, e, H, W, sx, sy):
    c, p = e // (H * W) % 2, e % (H * W)
    if c == 0:
        return (flow[e] + p % W) * sx - 1.0
    return (flow[e] + p // W) * sy - 1.0


def _warp_grad_value(g, e, H, W, sx, sy):
    if e // (H * W) % 2 == 0:
        return g[e] * sx
    return g[e] * sy


_affine_value_cpu, _affine_value_gpu = dual(_affine_value)
_affine_grad_value_cpu, _affine_grad_value_gpu = dual(_affine_grad_value)
_warp_value_cpu, _warp_value_gpu = dual(_warp_value)
_warp_grad_value_cpu, _warp_grad_value_gpu = dual(_warp_grad_value)


@parallel_kernel(nogil=True, cache=True)
def _grid_cpu(src, out, H, W, sx, sy, warp, backward):
    """One of the four GridGenerator maps (affine/warp, forward/backward) from src into every element of out."""
    for e in prange(out.size):
        if warp:
            if backward:
                out[e] = _warp_grad_value_cpu(src, e, H, W, sx, sy)
            else:
                out[e] = _warp_value_cpu(src, e, H, W, sx, sy)
        elif backward:
            out[e] = _affine_grad_value_cpu(src, e, H, W, sx, sy)
        else:
            out[e] = _affine_value_cpu(src, e, H, W, sx, sy)


def _grid_kernel(src, out, H, W, sx, sy, warp, backward):
    e = cuda.grid(1)
    while e < out.size:
        if warp:
            if backward:
                out[e] = _warp_grad_value_gpu(src, e, H, W, sx, sy)
            else:
                out[e] = _warp_value_gpu(src, e, H, W, sx, sy)
        elif backward:
            out[e] = _affine_grad_value_gpu(src, e, H, W, sx, sy)
        else:
            out[e] = _affine_value_gpu(src, e, H, W, sx, sy)
        e += cuda.gridsize(1)


grid_kernel = cuda.jit(_grid_kernel)


def _steps(H, W):
    return (2.0 / (W - 1) if W > 1 else math.inf), (2.0 / (H - 1) if H > 1 else math.inf)


def grid_cpu(src, out, H, W, warp, backward):
    """GridGenerator on the CPU: out = the grid of src (theta (N, 6) or flow (N, 2, H, W)), or, backward, src the
    head gradient (N, 2, H, W) and out the gradient of theta or flow. H, W: the grid's size. Writes out."""
    _grid_cpu(flat(src), flat(out), H, W, *_steps(H, W), warp, backward)


def grid_gpu(src, out, H, W, warp, backward):
    """CUDA twin of grid_cpu."""
    _launch(grid_kernel, out.size, flat(src), flat(out), H, W, *_steps(H, W), warp, backward)


# --- BilinearSampler -------------------------------------------------------------------------------------------
# grid (N, 2, OH, OW) holds normalised (x, y) in [-1, 1]; position (x + 1) * (W - 1) / 2, (y + 1) * (H - 1) / 2
# blends the four pixels around it; pixels outside the image read 0 (a position may lie anywhere).

@numba.njit(inline="always", nogil=True)
def _cell(gx, gy, H, W):
    """(y0, x0, fy, fx): the upper-left pixel of normalised grid point (gx, gy) and the fractions past it."""
    y = (gy + 1.0) * (H - 1) / 2.0
    x = (gx + 1.0) * (W - 1) / 2.0
    y0, x0 = math.floor(y), math.floor(x)
    return int(y0), int(x0), y - y0, x - x0


@numba.njit(inline="always", nogil=True)
def _spread_cpu(dx, base, H, W, y, x, v):
    if 0 <= y < H and 0 <= x < W:
        dx[base + y * W + x] += v


@cuda.jit(device=True, inline="always")
def _spread_gpu(dx, base, H, W, y, x, v):
    # Grid points of one image may share pixels, hence atomics (the summation order varies).
    if 0 <= y < H and 0 <= x < W:
        cuda.atomic.add(dx, base + y * W + x, dx.dtype.type(v))


@parallel_kernel(nogil=True, cache=True)
def _sampler_fwd_cpu(data, grid, out, C, H, W, P):
    for e in prange(out.size):
        nc, p = e // P, e % P
        gi = nc // C * 2 * P + p
        y0, x0, fy, fx = _cell(grid[gi], grid[gi + P], H, W)
        v00, v01, v10, v11 = taps_cpu(data, nc * H * W, H, W, y0, x0, y0 + 1, x0 + 1)
        out[e] = blend(v00, v01, v10, v11, fy, fx)


def _point_grad_with(taps, spread):
    """The backward of one (image n, grid point p) on one device's compilations of the tap and spread helpers: adds
    the point's share to dx of every channel and writes dgrid at the point."""
    def point_grad(dy, data, grid, dx, dgrid, n, p, C, H, W, P):
        gi = n * 2 * P + p
        y0, x0, fy, fx = _cell(grid[gi], grid[gi + P], H, W)
        gy = gx = 0.0
        for c in range(C):
            base = (n * C + c) * H * W
            g = 1.0 * dy[(n * C + c) * P + p]
            v00, v01, v10, v11 = taps(data, base, H, W, y0, x0, y0 + 1, x0 + 1)
            sy, sx = blend_grad(v00, v01, v10, v11, fy, fx)
            gy += g * sy
            gx += g * sx
            spread(dx, base, H, W, y0, x0, g * (1.0 - fy) * (1.0 - fx))
            spread(dx, base, H, W, y0, x0 + 1, g * (1.0 - fy) * fx)
            spread(dx, base, H, W, y0 + 1, x0, g * fy * (1.0 - fx))
            spread(dx, base, H, W, y0 + 1, x0 + 1, g * fy * fx)
        dgrid[gi] = gx * (W - 1) / 2.0
        dgrid[gi + P] = gy * (H - 1) / 2.0
    return point_grad


_point_grad_cpu = numba.njit(inline="always", nogil=True)(_point_grad_with(taps_cpu, _spread_cpu))
_point_grad_gpu = cuda.jit(device=True, inline="always")(_point_grad_with(taps_gpu, _spread_gpu))


@parallel_kernel(nogil=True, cache=True)
def _sampler_bwd_cpu(dy, data, grid, dx, dgrid, N, C, H, W, P):
    for n in prange(N):  # one image per item: images own disjoint parts of dx
        for i in range((n * C) * H * W, (n + 1) * C * H * W):
            dx[i] = 0.0
        for p in range(P):
            _point_grad_cpu(dy, data, grid, dx, dgrid, n, p, C, H, W, P)


def _sampler_fwd_kernel(data, grid, out, C, H, W, P):
    e = cuda.grid(1)
    while e < out.size:
        nc, p = e // P, e % P
        gi = nc // C * 2 * P + p
        y0, x0, fy, fx = _cell(grid[gi], grid[gi + P], H, W)
        v00, v01, v10, v11 = taps_gpu(data, nc * H * W, H, W, y0, x0, y0 + 1, x0 + 1)
        out[e] = blend(v00, v01, v10, v11, fy, fx)
        e += cuda.gridsize(1)


def _sampler_bwd_kernel(dy, data, grid, dx, dgrid, N, C, H, W, P):
    """One thread per (image, grid point); dx must be zeroed before."""
    e = cuda.grid(1)
    while e < N * P:
        _point_grad_gpu(dy, data, grid, dx, dgrid, e // P, e % P, C, H, W, P)
        e += cuda.gridsize(1)


sampler_fwd_kernel = cuda.jit(_sampler_fwd_kernel)
sampler_bwd_kernel = cuda.jit(_sampler_bwd_kernel)


def _sampler_dims(data, grid):
    N, C, H, W = data.shape
    return N, C, H, W, grid.shape[2] * grid.shape[3]


def sampler_fwd_cpu(data, grid, out):
    """out (N, C, OH, OW) = data (N, C, H, W) sampled bilinearly at grid (N, 2, OH, OW); writes out."""
    _, C, H, W, P = _sampler_dims(data, grid)
    _sampler_fwd_cpu(flat(data), flat(grid), flat(out), C, H, W, P)


def sampler_bwd_cpu(dy, data, grid, dx, dgrid):
    """The gradients of sampler_fwd_cpu for head gradient dy: dx and dgrid, both written."""
    N, C, H, W, P = _sampler_dims(data, grid)
    _sampler_bwd_cpu(flat(dy), flat(data), flat(grid), flat(dx), flat(dgrid), N, C, H, W, P)


def sampler_fwd_gpu(data, grid, out):
    """CUDA twin of sampler_fwd_cpu."""
    _, C, H, W, P = _sampler_dims(data, grid)
    _launch(sampler_fwd_kernel, out.size, flat(data), flat(grid), flat(out), C, H, W, P)


def sampler_bwd_gpu(dy, data, grid, dx, dgrid):
    """CUDA twin of sampler_bwd_cpu."""
    N, C, H, W, P = _sampler_dims(data, grid)
    fill_gpu(dx, 0, REQ_WRITE)
    _launch(sampler_bwd_kernel, N * P, flat(dy), flat(data), flat(grid), flat(dx), flat(dgrid), N, C, H, W, P)


# --- ROIPooling -----------------------------------------------------------------------------------------------------
# rois (R, 5) = (batch index, x1, y1, x2, y2) in image pixels; times spatial_scale and rounded (half away from zero)
# they give a box of the feature map, at least 1 x 1, cut into PH x PW bins (floor/ceil edges) that are max-pooled.
# Box corners and bin edges are computed in the data's type (`single`: float32), as MXNet does, so that edges land
# on the same pixels. An empty bin or a batch index outside [0, N) gives 0 and no gradient.

_LOWEST_FLOAT = -3.4028234663852886e38  # MXNet's -FLT_MAX start of every bin's maximum


@numba.njit(inline="always", nogil=True)
def _in_type(v, single):
    if single:
        return float(numba.float32(v))
    return v


@numba.njit(inline="always", nogil=True)
def _round_away(v):
    if v >= 0:
        return int(math.floor(v + 0.5))
    return -int(math.floor(0.5 - v))


@numba.njit(inline="always", nogil=True)
def _bin_edges(start, extent, bins, b, size, single):
    """[lo, hi) of bin b of a box side from start of extent pixels, clipped to [0, size)."""
    step = _in_type(_in_type(1.0 * extent, single) / bins, single)
    lo = int(math.floor(_in_type(b * step, single))) + start
    hi = int(math.ceil(_in_type((b + 1) * step, single))) + start
    return min(max(lo, 0), size), min(max(hi, 0), size)


def _roi_max(data, rois, e, N, C, H, W, PH, PW, scale, single):
    """(value, flat data index of the maximum or -1) of output element e of (R, C, PH, PW)."""
    r, c, ph, pw = e // (C * PH * PW), e // (PH * PW) % C, e // PW % PH, e % PW
    b = int(rois[r * 5])
    x1 = _round_away(_in_type(rois[r * 5 + 1] * scale, single))
    y1 = _round_away(_in_type(rois[r * 5 + 2] * scale, single))
    x2 = _round_away(_in_type(rois[r * 5 + 3] * scale, single))
    y2 = _round_away(_in_type(rois[r * 5 + 4] * scale, single))
    h0, h1 = _bin_edges(y1, max(y2 - y1 + 1, 1), PH, ph, H, single)
    w0, w1 = _bin_edges(x1, max(x2 - x1 + 1, 1), PW, pw, W, single)
    if b < 0 or b >= N or h1 <= h0 or w1 <= w0:
        return 0.0, -1
    best, where = _LOWEST_FLOAT, -1
    base = (b * C + c) * H * W
    for h in range(h0, h1):
        for w in range(w0, w1):
            v = 1.0 * data[base + h * W + w]
            if v > best:
                best, where = v, base + h * W + w
    return best, where


_roi_max_cpu, _roi_max_gpu = dual(_roi_max)


@parallel_kernel(nogil=True, cache=True)
def _roi_fwd_cpu(data, rois, out, N, C, H, W, PH, PW, scale, single):
    for e in prange(out.size):
        out[e] = _roi_max_cpu(data, rois, e, N, C, H, W, PH, PW, scale, single)[0]


@parallel_kernel(nogil=True, cache=True)
def _roi_bwd_cpu(dy, data, rois, dx, N, C, H, W, PH, PW, scale, single):
    for i in range(dx.size):
        dx[i] = 0.0
    R, B = dy.size // (C * PH * PW), PH * PW
    for c in prange(C):  # one channel per item: its maxima lie in its own planes of dx
        for r in range(R):
            for k in range(B):
                e = (r * C + c) * B + k
                where = _roi_max_cpu(data, rois, e, N, C, H, W, PH, PW, scale, single)[1]
                if where >= 0:
                    dx[where] += dy[e]


def _roi_fwd_kernel(data, rois, out, N, C, H, W, PH, PW, scale, single):
    e = cuda.grid(1)
    while e < out.size:
        out[e] = _roi_max_gpu(data, rois, e, N, C, H, W, PH, PW, scale, single)[0]
        e += cuda.gridsize(1)


def _roi_bwd_kernel(dy, data, rois, dx, N, C, H, W, PH, PW, scale, single):
    """One thread per output element; dx must be zeroed before. Boxes overlap, hence atomics."""
    e = cuda.grid(1)
    while e < dy.size:
        where = _roi_max_gpu(data, rois, e, N, C, H, W, PH, PW, scale, single)[1]
        if where >= 0:
            cuda.atomic.add(dx, where, dy[e])
        e += cuda.gridsize(1)


roi_fwd_kernel = cuda.jit(_roi_fwd_kernel)
roi_bwd_kernel = cuda.jit(_roi_bwd_kernel)


def _roi_args(data, pooled_size, spatial_scale):
    # MXNet keeps spatial_scale as a float32 and multiplies in the data's type.
    single = data.dtype == np.float32
    return tuple(data.shape) + tuple(pooled_size) + (float(np.float32(spatial_scale)), bool(single))


def roi_fwd_cpu(data, rois, out, pooled_size, spatial_scale):
    """out (R, C, PH, PW) = ROI max pooling of data (N, C, H, W) over rois (R, 5); writes out."""
    _roi_fwd_cpu(flat(data), flat(rois), flat(out), *_roi_args(data, pooled_size, spatial_scale))


def roi_bwd_cpu(dy, data, rois, dx, pooled_size, spatial_scale):
    """dx = the gradient of roi_fwd_cpu wrt data for head gradient dy (each bin's gradient to its maximum)."""
    _roi_bwd_cpu(flat(dy), flat(data), flat(rois), flat(dx), *_roi_args(data, pooled_size, spatial_scale))


def roi_fwd_gpu(data, rois, out, pooled_size, spatial_scale):
    """CUDA twin of roi_fwd_cpu."""
    _launch(roi_fwd_kernel, out.size, flat(data), flat(rois), flat(out),
            *_roi_args(data, pooled_size, spatial_scale))


def roi_bwd_gpu(dy, data, rois, dx, pooled_size, spatial_scale):
    """CUDA twin of roi_bwd_cpu."""
    fill_gpu(dx, 0, REQ_WRITE)
    _launch(roi_bwd_kernel, dy.size, flat(dy), flat(data), flat(rois), flat(dx),
            *_roi_args(data, pooled_size, spatial_scale))


# --- Correlation ----------------------------------------------------------------------------------------------------
# Output channel t of (N, gw * gw, OH, OW) compares the k x k patch of data1 at (i * stride1 + max_displacement - pad,
# j * ...) with the patch of data2 displaced by ((t // gw - r) * stride2, (t % gw - r) * stride2), r = gw // 2:
# the mean over the patches and channels of a * b (is_multiply) or |a - b|. Pixels in the padding read 0.
# geo: 0 C, 1 H, 2 W, 3 OH, 4 OW, 5 kernel_size, 6 max_displacement, 7 stride1, 8 stride2, 9 pad, 10 multiply.
CORR_GEO_LEN = 11


@numba.njit(inline="always", nogil=True)
def _corr_where(e, geo):
    """(n, y1, x1, dy, dx): image, the data1 patch's top-left pixel and the data2 displacement of output e."""
    OH, OW, gw = geo[3], geo[4], 2 * (geo[6] // geo[8]) + 1
    n, t, i, j = e // (gw * gw * OH * OW), e // (OH * OW) % (gw * gw), e // OW % OH, e % OW
    r = gw // 2
    return (n, i * geo[7] + geo[6] - geo[9], j * geo[7] + geo[6] - geo[9],
            (t // gw - r) * geo[8], (t % gw - r) * geo[8])


def _corr_value(d1, d2, e, geo):
    C, H, W, K = geo[0], geo[1], geo[2], geo[5]
    n, y1, x1, dy, dx = _corr_where(e, geo)
    acc = 0.0
    for h in range(K):
        for w in range(K):
            ya, xa, yb, xb = y1 + h, x1 + w, y1 + h + dy, x1 + w + dx
            ina = 0 <= ya < H and 0 <= xa < W
            inb = 0 <= yb < H and 0 <= xb < W
            for c in range(C):
                base = (n * C + c) * H * W
                a = 1.0 * d1[base + ya * W + xa] if ina else 0.0
                b = 1.0 * d2[base + yb * W + xb] if inb else 0.0
                acc += a * b if geo[10] else abs(a - b)
    return acc / (K * K * C)


_corr_value_cpu, _corr_value_gpu = dual(_corr_value)


@parallel_kernel(nogil=True, cache=True)
def _corr_fwd_cpu(d1, d2, out, geo):
    for e in prange(out.size):
        out[e] = _corr_value_cpu(d1, d2, e, geo)


@parallel_kernel(nogil=True, cache=True)
def _corr_bwd_cpu(g, d1, d2, g1, g2, geo):
    C, H, W, K = geo[0], geo[1], geo[2], geo[5]
    N, per_image = d1.size // (C * H * W), g.size // (d1.size // (C * H * W))
    for n in prange(N):  # one image per item: images own disjoint parts of g1 and g2
        for i in range(n * C * H * W, (n + 1) * C * H * W):
            g1[i] = 0.0
            g2[i] = 0.0
        for e in range(n * per_image, (n + 1) * per_image):
            _, y1, x1, dy, dx = _corr_where(e, geo)
            ge = g[e] / (K * K * C)
            for h in range(K):
                for w in range(K):
                    ya, xa, yb, xb = y1 + h, x1 + w, y1 + h + dy, x1 + w + dx
                    ina = 0 <= ya < H and 0 <= xa < W
                    inb = 0 <= yb < H and 0 <= xb < W
                    for c in range(C):
                        base = (n * C + c) * H * W
                        a = 1.0 * d1[base + ya * W + xa] if ina else 0.0
                        b = 1.0 * d2[base + yb * W + xb] if inb else 0.0
                        ca, cb = _corr_slopes(a, b, geo[10])
                        if ina:
                            g1[base + ya * W + xa] += ge * ca
                        if inb:
                            g2[base + yb * W + xb] += ge * cb


@numba.njit(inline="always", nogil=True)
def _corr_slopes(a, b, multiply):
    """d/da and d/db of a * b, or of |a - b| (the a >= b side at a tie, as MXNet)."""
    if multiply:
        return b, a
    if a >= b:
        return 1.0, -1.0
    return -1.0, 1.0


def _corr_fwd_kernel(d1, d2, out, geo):
    e = cuda.grid(1)
    while e < out.size:
        out[e] = _corr_value_gpu(d1, d2, e, geo)
        e += cuda.gridsize(1)


def _corr_bwd_kernel(g, d1, d2, g1, g2, geo):
    """One thread per output element; g1 and g2 must be zeroed before. Patches overlap, hence atomics."""
    C, H, W, K = geo[0], geo[1], geo[2], geo[5]
    e = cuda.grid(1)
    while e < g.size:
        n, y1, x1, dy, dx = _corr_where(e, geo)
        ge = g[e] / (K * K * C)
        for h in range(K):
            for w in range(K):
                ya, xa, yb, xb = y1 + h, x1 + w, y1 + h + dy, x1 + w + dx
                ina = 0 <= ya < H and 0 <= xa < W
                inb = 0 <= yb < H and 0 <= xb < W
                for c in range(C):
                    base = (n * C + c) * H * W
                    a = 1.0 * d1[base + ya * W + xa] if ina else 0.0
                    b = 1.0 * d2[base + yb * W + xb] if inb else 0.0
                    ca, cb = _corr_slopes(a, b, geo[10])
                    if ina:
                        cuda.atomic.add(g1, base + ya * W + xa, g1.dtype.type(ge * ca))
                    if inb:
                        cuda.atomic.add(g2, base + yb * W + xb, g2.dtype.type(ge * cb))
        e += cuda.gridsize(1)


corr_fwd_kernel = cuda.jit(_corr_fwd_kernel)
corr_bwd_kernel = cuda.jit(_corr_bwd_kernel)


def _corr_geo(data, out_shape, kernel_size, max_displacement, stride1, stride2, pad_size, is_multiply):
    return tuple(int(v) for v in (tuple(data.shape[1:]) + tuple(out_shape[2:]) + (
        kernel_size, max_displacement, stride1, stride2, pad_size, is_multiply)))


def corr_fwd_cpu(d1, d2, out, *params):
    """out (N, gw * gw, OH, OW) = Correlation of d1 and d2 (N, C, H, W); params: kernel_size, max_displacement,
    stride1, stride2, pad_size, is_multiply. Writes out."""
    _corr_fwd_cpu(flat(d1), flat(d2), flat(out), _corr_geo(d1, out.shape, *params))


def corr_bwd_cpu(g, d1, d2, g1, g2, *params):
    """The gradients g1, g2 of corr_fwd_cpu wrt d1, d2 for head gradient g, both written."""
    _corr_bwd_cpu(flat(g), flat(d1), flat(d2), flat(g1), flat(g2), _corr_geo(d1, g.shape, *params))


def corr_fwd_gpu(d1, d2, out, *params):
    """CUDA twin of corr_fwd_cpu."""
    _launch(corr_fwd_kernel, out.size, flat(d1), flat(d2), flat(out), _corr_geo(d1, out.shape, *params))


def corr_bwd_gpu(g, d1, d2, g1, g2, *params):
    """CUDA twin of corr_bwd_cpu."""
    fill_gpu(g1, 0, REQ_WRITE)
    fill_gpu(g2, 0, REQ_WRITE)
    _launch(corr_bwd_kernel, g.size, flat(g), flat(d1), flat(d2), flat(g1), flat(g2),
            _corr_geo(d1, g.shape, *params))


PTX_CHECKS = []
for _t in ("float32", "float64"):
    _a, _i, _f = f"{_t}[::1]", "int64", "float64"
    PTX_CHECKS += [
        (_grid_kernel, f"void({_a}, {_a}, {_i}, {_i}, {_f}, {_f}, boolean, boolean)"),
        (_sampler_fwd_kernel, f"void({_a}, {_a}, {_a}, {_i}, {_i}, {_i}, {_i})"),
        (_sampler_bwd_kernel, f"void({_a}, {_a}, {_a}, {_a}, {_a}, {_i}, {_i}, {_i}, {_i}, {_i})"),
        (_roi_fwd_kernel, f"void({_a}, {_a}, {_a}, {_i}, {_i}, {_i}, {_i}, {_i}, {_i}, {_f}, boolean)"),
        (_roi_bwd_kernel, f"void({_a}, {_a}, {_a}, {_a}, {_i}, {_i}, {_i}, {_i}, {_i}, {_i}, {_f}, boolean)"),
        (_corr_fwd_kernel, f"void({_a}, {_a}, {_a}, UniTuple(int64, {CORR_GEO_LEN}))"),
        (_corr_bwd_kernel, f"void({_a}, {_a}, {_a}, {_a}, {_a}, UniTuple(int64, {CORR_GEO_LEN}))"),
    ]
