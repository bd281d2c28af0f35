"""Position-sensitive region pooling kernels of MXNet 1.9.1's contrib PSROIPooling (R-FCN) and DeformablePSROIPooling
(Deformable ConvNets), forward and backward, CPU and CUDA, on flat NCHW arrays with float64 arithmetic.

Output element (r, ctop, ph, pw) of (R, output_dim, P, P) reads input channel (ctop * G + gh) * G + gw, where
(gh, gw) is bin (ph, pw)'s cell of a G x G group grid. rois rows are (batch index, x1, y1, x2, y2) in image pixels,
rounded to whole pixels (half away from zero), the far corner + 1, times spatial_scale (minus half a pixel for the
deformable op); regions are at least 0.1 pixel wide and high. A row whose batch index lies outside [0, N) gives 0
and no gradient (MXNet reads outside its data there)."""
import math

import numba
import numpy as np
from numba import cuda

from .bilinear import blend, blend_grad
from .common import REQ_WRITE, parallel_kernel
from .elemwise_gpu import fill_gpu
from .launch import dual
from .roi_align import flat, launch, region_drivers
from .spatial import _round_away

_JIT = dict(nogil=True, cache=True, error_model="numpy")


@numba.njit(inline="always", nogil=True)
def _roi_box(batch, x1, y1, x2, y2, scale, shift):
    """(batch index, left, top, width, height) of a roi row on the feature map."""
    left, top = _round_away(x1) * scale - shift, _round_away(y1) * scale - shift
    width = (_round_away(x2) + 1.0) * scale - shift - left
    height = (_round_away(y2) + 1.0) * scale - shift - top
    return int(batch), left, top, max(width, 0.1), max(height, 0.1)


@numba.njit(inline="always", nogil=True)
def _group_channel(ctop, ph, pw, P, G):
    """The input channel that bin (ph, pw) of output channel ctop reads."""
    gh = min(max(int(math.floor(ph * G / P)), 0), G - 1)
    gw = min(max(int(math.floor(pw * G / P)), 0), G - 1)
    return (ctop * G + gh) * G + gw


@numba.njit(inline="always", nogil=True)
def _split(e, D, P):
    """(roi, output channel, bin row, bin column) of output element e of (R, D, P, P)."""
    return e // (D * P * P), e // (P * P) % D, e // P % P, e % P


# --- PSROIPooling: the mean of the whole pixels of each bin (floor / ceil edges) -----------------------------------

def _ps_bin(rois, e, N, C, H, W, D, P, G, scale):
    """(first data index of the plane read, or -1 for an empty bin or a row outside the batch, top row, bottom row
    (exclusive), left column, right column (exclusive)) of output element e."""
    r, ctop, ph, pw = _split(e, D, P)
    b, left, top, width, height = _roi_box(rois[r * 5], rois[r * 5 + 1], rois[r * 5 + 2], rois[r * 5 + 3],
                                           rois[r * 5 + 4], scale, 0.0)
    bin_h, bin_w = height / P, width / P
    h0 = min(max(int(math.floor(ph * bin_h + top)), 0), H)
    h1 = min(max(int(math.ceil((ph + 1) * bin_h + top)), 0), H)
    w0 = min(max(int(math.floor(pw * bin_w + left)), 0), W)
    w1 = min(max(int(math.ceil((pw + 1) * bin_w + left)), 0), W)
    if b < 0 or b >= N or h1 <= h0 or w1 <= w0:
        return -1, 0, 0, 0, 0
    return (b * C + _group_channel(ctop, ph, pw, P, G)) * H * W, h0, h1, w0, w1


def _ps_value_with(bin_of):
    """The mean-of-a-bin helper on one device's compilation of _ps_bin."""
    def value(data, rois, e, N, C, H, W, D, P, G, scale):
        base, h0, h1, w0, w1 = bin_of(rois, e, N, C, H, W, D, P, G, scale)
        if base < 0:
            return 0.0
        total = 0.0
        for h in range(h0, h1):
            for w in range(w0, w1):
                total += data[base + h * W + w]
        return total / ((h1 - h0) * (w1 - w0))
    return value


_ps_bin_cpu, _ps_bin_dev = dual(_ps_bin)
_ps_value_cpu = numba.njit(inline="always", nogil=True)(_ps_value_with(_ps_bin_cpu))
_ps_value_dev = cuda.jit(device=True, inline="always")(_ps_value_with(_ps_bin_dev))


@parallel_kernel(**_JIT)
def _ps_fwd_cpu(data, rois, out, N, C, H, W, D, P, G, scale):
    for e in numba.prange(out.size):
        out[e] = _ps_value_cpu(data, rois, e, N, C, H, W, D, P, G, scale)


@parallel_kernel(**_JIT)
def _ps_bwd_cpu(dy, rois, dx, N, C, H, W, D, P, G, scale):
    for i in range(dx.size):
        dx[i] = 0.0
    R = dy.size // (D * P * P)
    for ctop in numba.prange(D):  # output channels read disjoint input channels: no two write one pixel
        for r in range(R):
            for k in range(P * P):
                e = (r * D + ctop) * P * P + k
                base, h0, h1, w0, w1 = _ps_bin_cpu(rois, e, N, C, H, W, D, P, G, scale)
                if base >= 0:
                    g = dy[e] / ((h1 - h0) * (w1 - w0))
                    for h in range(h0, h1):
                        for w in range(w0, w1):
                            dx[base + h * W + w] += g


def _ps_fwd_kernel(data, rois, out, N, C, H, W, D, P, G, scale):
    e = cuda.grid(1)
    while e < out.size:
        out[e] = _ps_value_dev(data, rois, e, N, C, H, W, D, P, G, scale)
        e += cuda.gridsize(1)


def _ps_bwd_kernel(dy, rois, dx, N, C, H, W, D, P, G, scale):
    """One thread per output element; dx zeroed before. Bins of different rois overlap, hence atomics."""
    e = cuda.grid(1)
    while e < dy.size:
        base, h0, h1, w0, w1 = _ps_bin_dev(rois, e, N, C, H, W, D, P, G, scale)
        if base >= 0:
            g = dy[e] / ((h1 - h0) * (w1 - w0))
            for h in range(h0, h1):
                for w in range(w0, w1):
                    cuda.atomic.add(dx, base + h * W + w, g)
        e += cuda.gridsize(1)


# --- DeformablePSROIPooling: sample_per_part^2 bilinear samples per bin, the bin moved by trans ---------------------
# trans (R, 2 * classes, part, part) holds per roi and class (output channels split evenly into classes) the (x, y)
# offset of each part cell, in units of the roi's width / height times trans_std. A sample more than half a pixel
# outside the map is skipped (not counted); the others are clamped into it. top_count holds the samples counted.

def _deformable_bin(rois, trans, e, D, P, G, part, spp, scale, trans_std, n_class, no_trans):
    """(batch index, channel, left sample column, top sample row, column step, row step, roi width, roi height,
    index of the x offset in trans or -1) of output element e."""
    r, ctop, ph, pw = _split(e, D, P)
    b, left, top, width, height = _roi_box(rois[r * 5], rois[r * 5 + 1], rois[r * 5 + 2], rois[r * 5 + 3],
                                           rois[r * 5 + 4], scale, 0.5)
    bin_h, bin_w = height / P, width / P
    t, tx, ty = -1, 0.0, 0.0
    if not no_trans:
        part_h, part_w = int(math.floor(ph / P * part)), int(math.floor(pw / P * part))
        t = ((r * n_class + ctop // (D // n_class)) * 2 * part + part_h) * part + part_w
        tx, ty = trans[t] * trans_std, trans[t + part * part] * trans_std
    return (b, _group_channel(ctop, ph, pw, P, G), pw * bin_w + left + tx * width, ph * bin_h + top + ty * height,
            bin_w / spp, bin_h / spp, width, height, t)


def _deformable_sample(x0, y0, step_x, step_y, s, spp, H, W):
    """(taken, top-left tap's offset in the plane, step to the right taps, step to the lower taps, row fraction,
    column fraction) of sample s (row-major over spp x spp)."""
    x, y = x0 + (s % spp) * step_x, y0 + (s // spp) * step_y
    if x < -0.5 or x > W - 0.5 or y < -0.5 or y > H - 0.5:
        return False, 0, 0, 0, 0.0, 0.0
    x, y = min(max(x, 0.0), W - 1.0), min(max(y, 0.0), H - 1.0)
    xl, yl = int(math.floor(x)), int(math.floor(y))
    return True, yl * W + xl, int(math.ceil(x)) - xl, (int(math.ceil(y)) - yl) * W, y - yl, x - xl


_deformable_bin_cpu, _deformable_bin_dev = dual(_deformable_bin)
_deformable_sample_cpu, _deformable_sample_dev = dual(_deformable_sample)


def _deformable_helpers(bin_of, sample_of, add):
    """(value, grad) helpers on one device's compilations of _deformable_bin and _deformable_sample, scattering
    through add(array, index, value)."""
    def value(data, rois, trans, e, N, C, H, W, D, P, G, part, spp, scale, trans_std, n_class, no_trans):
        """(mean of the counted samples or 0, their count) of output element e."""
        b, c, x0, y0, step_x, step_y, _, _, _ = bin_of(rois, trans, e, D, P, G, part, spp, scale, trans_std,
                                                       n_class, no_trans)
        if b < 0 or b >= N:
            return 0.0, 0
        base, total, count = (b * C + c) * H * W, 0.0, 0
        for s in range(spp * spp):
            taken, i, right, down, ly, lx = sample_of(x0, y0, step_x, step_y, s, spp, H, W)
            if taken:
                i += base
                total += blend(1.0 * data[i], 1.0 * data[i + right], 1.0 * data[i + down],
                               1.0 * data[i + down + right], ly, lx)
                count += 1
        return (total / count if count else 0.0), count

    def grad(dy, data, rois, trans, dx, dtrans, e, N, C, H, W, D, P, G, part, spp, scale, trans_std, n_class,
             no_trans):
        """Scatter output element e's head gradient to data (bilinear weights) and trans."""
        b, c, x0, y0, step_x, step_y, width, height, t = bin_of(rois, trans, e, D, P, G, part, spp, scale,
                                                                trans_std, n_class, no_trans)
        if b < 0 or b >= N:
            return
        base, count = (b * C + c) * H * W, 0
        for s in range(spp * spp):
            if sample_of(x0, y0, step_x, step_y, s, spp, H, W)[0]:
                count += 1
        if count == 0:
            return
        g = dy[e] / count
        for s in range(spp * spp):
            taken, i, right, down, ly, lx = sample_of(x0, y0, step_x, step_y, s, spp, H, W)
            if taken:
                i += base
                add(dx, i, (1.0 - ly) * (1.0 - lx) * g)
                add(dx, i + right, (1.0 - ly) * lx * g)
                add(dx, i + down, ly * (1.0 - lx) * g)
                add(dx, i + down + right, ly * lx * g)
                if not no_trans:
                    d_row, d_col = blend_grad(1.0 * data[i], 1.0 * data[i + right], 1.0 * data[i + down],
                                              1.0 * data[i + down + right], ly, lx)
                    add(dtrans, t, d_col * trans_std * g * width)
                    add(dtrans, t + part * part, d_row * trans_std * g * height)
    return value, grad


@numba.njit(inline="always", nogil=True)
def _add_cpu(a, i, v):
    a[i] += v


@cuda.jit(device=True, inline="always")
def _add_dev(a, i, v):
    cuda.atomic.add(a, i, v)


_deformable_value_cpu, _deformable_grad_cpu = (numba.njit(inline="always", nogil=True)(f) for f in _deformable_helpers(
    _deformable_bin_cpu, _deformable_sample_cpu, _add_cpu))
_deformable_value_dev, _deformable_grad_dev = (cuda.jit(device=True, inline="always")(f) for f in _deformable_helpers(
    _deformable_bin_dev, _deformable_sample_dev, _add_dev))


@parallel_kernel(**_JIT)
def _deformable_fwd_cpu(data, rois, trans, out, count, N, C, H, W, D, P, G, part, spp, scale, trans_std, n_class,
                        no_trans):
    for e in numba.prange(out.size):
        out[e], count[e] = _deformable_value_cpu(data, rois, trans, e, N, C, H, W, D, P, G, part, spp, scale,
                                                 trans_std, n_class, no_trans)


@numba.njit(**_JIT)
def _deformable_bwd_cpu(dy, data, rois, trans, dx, dtrans, N, C, H, W, D, P, G, part, spp, scale, trans_std, n_class,
                        no_trans):
    """Serial, as MXNet's: bins of different rois share pixels and the bins of one class share a trans cell."""
    dx[:] = 0.0
    dtrans[:] = 0.0
    for e in range(dy.size):
        _deformable_grad_cpu(dy, data, rois, trans, dx, dtrans, e, N, C, H, W, D, P, G, part, spp, scale, trans_std,
                             n_class, no_trans)


def _deformable_fwd_kernel(data, rois, trans, out, count, N, C, H, W, D, P, G, part, spp, scale, trans_std, n_class,
                           no_trans):
    e = cuda.grid(1)
    while e < out.size:
        out[e], count[e] = _deformable_value_dev(data, rois, trans, e, N, C, H, W, D, P, G, part, spp, scale,
                                                 trans_std, n_class, no_trans)
        e += cuda.gridsize(1)


def _deformable_bwd_kernel(dy, data, rois, trans, dx, dtrans, N, C, H, W, D, P, G, part, spp, scale, trans_std,
                           n_class, no_trans):
    """One thread per output element; dx and dtrans zeroed before; atomic adds."""
    e = cuda.grid(1)
    while e < dy.size:
        _deformable_grad_dev(dy, data, rois, trans, dx, dtrans, e, N, C, H, W, D, P, G, part, spp, scale, trans_std,
                             n_class, no_trans)
        e += cuda.gridsize(1)


_ps_fwd_kernel = cuda.jit(_ps_fwd_kernel)
_ps_bwd_kernel = cuda.jit(_ps_bwd_kernel)
_deformable_fwd_kernel = cuda.jit(_deformable_fwd_kernel)
_deformable_bwd_kernel = cuda.jit(_deformable_bwd_kernel)


def _ps_args(data_shape, output_dim, pooled_size, group_size, spatial_scale):
    # MXNet keeps spatial_scale as a float32.
    return tuple(data_shape) + (output_dim, pooled_size, group_size, float(np.float32(spatial_scale)))


# ps_fwd_cpu(data, rois, out, *params): out (R, output_dim, P, P) = PSROIPooling of data (N, C, H, W) over rois (R, 5)
# for params output_dim, pooled_size, group_size, spatial_scale; ps_bwd_cpu(dy, rois, dx, *params): dx (N, C, H, W)
# its gradient wrt data; ps_fwd_gpu, ps_bwd_gpu their CUDA twins.
ps_fwd_cpu, ps_bwd_cpu, ps_fwd_gpu, ps_bwd_gpu = region_drivers(_ps_fwd_cpu, _ps_bwd_cpu, _ps_fwd_kernel,
                                                                _ps_bwd_kernel, _ps_args)


def _deformable_args(data_shape, trans, output_dim, group_size, pooled_size, part_size, sample_per_part,
                     spatial_scale, trans_std, no_trans):
    n_class = 1 if no_trans else trans.shape[1] // 2
    return tuple(data_shape) + (output_dim, pooled_size, group_size, part_size, sample_per_part,
                                float(np.float32(spatial_scale)), float(np.float32(trans_std)), n_class,
                                bool(no_trans))


def deformable_fwd_cpu(data, rois, trans, out, count, *params):
    """out and count (R, output_dim, P, P) = DeformablePSROIPooling of data (N, C, H, W) over rois (R, 5) moved by
    trans (R, 2 * classes, part, part; any 1-element array when no_trans); params: output_dim, group_size,
    pooled_size, part_size, sample_per_part, spatial_scale, trans_std, no_trans. Writes both."""
    _deformable_fwd_cpu(flat(data), flat(rois), flat(trans), flat(out), flat(count),
                        *_deformable_args(data.shape, trans, *params))


def deformable_bwd_cpu(dy, data, rois, trans, dx, dtrans, *params):
    """dx (N, C, H, W) and dtrans (trans's shape) = the gradients of deformable_fwd_cpu's out for head gradient dy;
    written."""
    _deformable_bwd_cpu(flat(dy), flat(data), flat(rois), flat(trans), flat(dx), flat(dtrans),
                        *_deformable_args(data.shape, trans, *params))


def deformable_fwd_gpu(data, rois, trans, out, count, *params):
    """CUDA twin of deformable_fwd_cpu."""
    launch(_deformable_fwd_kernel, out.size, flat(data), flat(rois), flat(trans), flat(out), flat(count),
            *_deformable_args(data.shape, trans, *params))


def deformable_bwd_gpu(dy, data, rois, trans, dx, dtrans, *params):
    """CUDA twin of deformable_bwd_cpu."""
    fill_gpu(dx, 0, REQ_WRITE)
    fill_gpu(dtrans, 0, REQ_WRITE)
    launch(_deformable_bwd_kernel, dy.size, flat(dy), flat(data), flat(rois), flat(trans), flat(dx),
           flat(dtrans), *_deformable_args(data.shape, trans, *params))


PTX_CHECKS = []
for _t in ("float32", "float64"):
    _a, _i = f"{_t}[::1]", "int64"
    _ps = f"void({_a}, {_a}, {_a}, {', '.join([_i] * 7)}, float64)"
    _deformable = f"{', '.join([_i] * 9)}, float64, float64, {_i}, boolean)"
    PTX_CHECKS += [(_ps_fwd_kernel.py_func, _ps), (_ps_bwd_kernel.py_func, _ps),
                   (_deformable_fwd_kernel.py_func, f"void({', '.join([_a] * 5)}, {_deformable}"),
                   (_deformable_bwd_kernel.py_func, f"void({', '.join([_a] * 6)}, {_deformable}")]
