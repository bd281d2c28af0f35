"""OpenCV's cv::resize on the host in NumPy: per-axis source taps and weights for each interpolation code
(0 nearest, 1 bilinear, 2 bicubic, 3 area, 4 Lanczos-4), applied one axis after the other as OpenCV does.

uint8 images use OpenCV's 11-bit fixed-point weights for bilinear, bicubic and Lanczos and its integer
rounding, so results equal MXNet 1.9.1's (checked pixel for pixel on MXNet-printed values); floats agree to
float32 rounding.

resize_gpu is the CUDA twin on device arrays: the same path choice, the tables built here, the per-pixel arithmetic
in mxcy/kernels/cv_resize.py's kernels, equal to `resize` bit for bit for uint8, int8 and int32 images; float32 and
float64 too except a float32 last place in integer-block area means (NumPy's summation order, see that module).
The op widens float16 images to float32 on the GPU (the CPU sums them in float64), so a float16 result may differ
from the CPU's by a float16 last place where rounding to float32 first changes the nearest float16.
"""
import functools

import numpy as np

from ._nn_common import kernels, on_device_of
from ..base import MXNetError
from ..kernels.common import REQ_NULL

NEAREST, LINEAR, CUBIC, AREA, LANCZOS4 = range(5)
INTERP_NAMES = {NEAREST: "nearest", LINEAR: "bilinear", CUBIC: "bicubic", AREA: "area", LANCZOS4: "lanczos4"}
_FIXED_ONE = 2048.0  # INTER_RESIZE_COEF_SCALE


def _cubic_weights(frac):
    """OpenCV's interpolateCubic (A = -0.75) for the 4 taps at offsets -1, 0, 1, 2."""
    a = np.float32(-0.75)
    frac = frac.astype(np.float32)
    w0 = ((a * (frac + 1) - 5 * a) * (frac + 1) + 8 * a) * (frac + 1) - 4 * a
    w1 = ((a + 2) * frac - (a + 3)) * frac * frac + 1
    w2 = ((a + 2) * (1 - frac) - (a + 3)) * (1 - frac) * (1 - frac) + 1
    return np.stack([w0, w1, w2, 1 - w0 - w1 - w2], axis=1)


def _lanczos4_weights(frac):
    """OpenCV's interpolateLanczos4 for the 8 taps at offsets -3 .. 4, normalised to sum 1."""
    weights = _lanczos_raw(frac.astype(np.float64), np.arange(8))
    at_tap = frac < np.finfo(np.float32).eps
    weights[at_tap] = 0  # the formula is 0/0 there; OpenCV takes the pixel itself
    weights[at_tap, 3] = 1
    weights = weights.astype(np.float32)
    return weights * (np.float32(1) / weights.sum(axis=1, keepdims=True, dtype=np.float32))


def _lanczos_raw(frac, taps):
    """Unnormalised Lanczos-4 weights as OpenCV writes them: sin(y) sin(y / 4) through the angle-sum identity,
    (cs[i] . (sin y0, cos y0)) / y_i^2 with y_i = -(frac + 3 - i) pi / 4."""
    s45 = np.sqrt(0.5)
    cs = np.array([[1, 0], [-s45, -s45], [0, 1], [s45, -s45], [-1, 0], [s45, s45], [0, -1], [-s45, s45]])
    y0 = -(frac + 3) * np.pi / 4
    y = -(frac[:, None] + 3 - taps) * np.pi / 4
    with np.errstate(divide="ignore", invalid="ignore"):
        return (cs[:, 0] * np.sin(y0)[:, None] + cs[:, 1] * np.cos(y0)[:, None]) / (y * y)


def _kernel_taps(src, dst, interp, columns=True):
    """Taps (dst, k) and weights (dst, k) of the nearest/bilinear/bicubic/Lanczos kernels at half-pixel centres.
    Taps outside the image read the edge pixel; for columns OpenCV also gives the edge pixel weight 1 there (its
    rows keep the weights, which matters only to uint8 rounding)."""
    if interp == NEAREST:
        return np.minimum(np.arange(dst) * src // dst, src - 1)[:, None], np.ones((dst, 1), np.float32)
    scale = 1.0 / (dst / src)
    pos = ((np.arange(dst) + 0.5) * scale - 0.5).astype(np.float32)
    left = np.floor(pos).astype(np.int64)
    frac = pos - left
    if interp == LINEAR:
        if columns:
            frac[left < 0] = 0
            left[left < 0] = 0
            frac[left >= src - 1] = 0
            left[left >= src - 1] = src - 1
        return np.stack([left, left + 1], 1), np.stack([1 - frac, frac], 1).astype(np.float32)
    weights, first = (_cubic_weights(frac), -1) if interp == CUBIC else (_lanczos4_weights(frac), -3)
    return left[:, None] + first + np.arange(weights.shape[1]), weights


def _area_upscale_taps(src, dst, columns):
    """INTER_AREA when not shrinking both axes: two neighbours blended by how far the output cell reaches
    into the next source cell (edge weights as in _kernel_taps)."""
    scale = src / dst
    cell = np.floor(np.arange(dst) * scale).astype(np.int64)
    frac = ((np.arange(dst) + 1) - (cell + 1) * (dst / src)).astype(np.float32)
    frac = np.where(frac <= 0, np.float32(0), frac - np.floor(frac)).astype(np.float32)
    if columns:
        frac[cell >= src - 1] = 0
        cell = np.minimum(cell, src - 1)
    return np.stack([cell, cell + 1], 1), np.stack([1 - frac, frac], 1).astype(np.float32)


def _area_box_taps(src, dst):
    """INTER_AREA shrinking both axes: the mean of the source cells an output cell covers, partial cells
    weighted by their overlap."""
    scale = src / dst
    width = int(np.ceil(scale)) + 2
    taps = np.zeros((dst, width), np.int64)
    weights = np.zeros((dst, width), np.float32)
    for out in range(dst):
        start, stop = out * scale, out * scale + scale
        cell_width = min(scale, src - start)
        first, last = int(np.ceil(start)), min(int(np.floor(stop)), src - 1)
        first = min(first, last)
        cells = [(first - 1, (first - start) / cell_width)] if first - start > 1e-3 else []
        cells += [(cell, 1.0 / cell_width) for cell in range(first, last)]
        if stop - last > 1e-3:
            cells.append((last, min(min(stop - last, 1.0), cell_width) / cell_width))
        for k, (cell, weight) in enumerate(cells):
            taps[out, k], weights[out, k] = cell, weight
    return taps, weights


@functools.lru_cache(maxsize=512)
def _taps(src, dst, interp, shrinking, columns):
    """(taps, weights) of one axis, cached (image pipelines resize many images of few sizes): read-only arrays."""
    if interp != AREA:
        taps, weights = _kernel_taps(src, dst, interp, columns)
    else:
        taps, weights = _area_box_taps(src, dst) if shrinking else _area_upscale_taps(src, dst, columns)
    taps.flags.writeable = weights.flags.writeable = False
    return taps, weights


def _along(x, axis, taps, weights):
    """sum_k x[taps[:, k]] * weights[:, k] along `axis`, tap by tap in x's float type."""
    shape = [1] * x.ndim
    shape[axis] = taps.shape[0]
    taps = np.clip(taps, 0, x.shape[axis] - 1)
    out = x.dtype.type(0)
    for k in range(taps.shape[1]):
        out = out + np.take(x, taps[:, k], axis) * weights[:, k].astype(x.dtype).reshape(shape)
    return out


def _fixed(weights):
    """OpenCV's uint8 weights: each rounded to 11 fractional bits."""
    return _fixed_int(weights) / _FIXED_ONE


def _fixed_int(weights):
    """OpenCV's uint8 weights as int64 integers scaled by 2048."""
    return np.round(weights.astype(np.float64) * _FIXED_ONE).astype(np.int64)


def _betas(row_weights):
    """uint8 bicubic's row weights: the 11-bit integers over 2048^2 (the rows they blend are scaled by 2048)."""
    return _fixed_int(row_weights) / _FIXED_ONE ** 2


@functools.lru_cache(maxsize=512)
def _fixed_taps(src, dst, interp, shrinking, columns):
    """_taps with the weights as OpenCV's 11-bit integers: the uint8 two-tap path's tables, cached (read-only)."""
    taps, weights = _taps(src, dst, interp, shrinking, columns)
    fixed = _fixed_int(weights)
    fixed.flags.writeable = False
    return taps, fixed


def _linear_uint8(x, height, width, interp, shrinking):
    """OpenCV's uint8 two-tap resize in a Numba kernel (kernels/cv_resize.py), over any leading axes."""
    flat = np.ascontiguousarray(x.reshape((-1,) + x.shape[-3:]))
    out = np.empty((flat.shape[0], height, width, x.shape[-1]), np.uint8)
    kernels("cv_resize").resize_linear_uint8(flat, *_fixed_taps(x.shape[-2], width, interp, shrinking, True),
                                             *_fixed_taps(x.shape[-3], height, interp, shrinking, False), out)
    return out.reshape(x.shape[:-3] + out.shape[1:])


def _vertical_cubic_uint8(x, col_taps, col_weights, row_taps, row_weights):
    """OpenCV's uint8 bicubic after the exact integer horizontal pass: its SIMD code (8 values at a time)
    multiplies the rows by float32 weights and rounds half to even; the row's last width % 8 values take the
    scalar path, exact rounding half up."""
    rows = np.round(_along(x.astype(np.float64), -2, col_taps, _fixed(col_weights)) * _FIXED_ONE)
    betas = _betas(row_weights)
    simd = np.rint(_along(rows.astype(np.float32), -3, row_taps, betas.astype(np.float32)))
    exact = np.floor(_along(rows, -3, row_taps, betas) + 0.5)
    flat = rows.shape[-2] * rows.shape[-1]
    in_vector = (np.arange(flat) < flat - flat % 8).reshape(rows.shape[-2:])
    return _cast(np.where(in_vector, simd, exact), x.dtype, np.asarray)


# OpenCV's code paths (_path); the nearest-neighbour one is named by its interpolation code, NEAREST.
HALVE_UINT8, BLOCK_AREA, AREA_FLOAT32, SEPARABLE_FLOAT64, LINEAR_UINT8, CUBIC_UINT8, SEPARABLE_FIXED = range(5, 12)


def _path(dtype, src_h, src_w, height, width, interp):
    """(path, interp, shrinking): which of OpenCV's code paths resizes a (src_h, src_w) image of `dtype` to
    (height, width) with code `interp`, the interpolation it then uses, and whether both axes shrink; both devices
    follow it."""
    if interp == LINEAR and src_h == 2 * height and src_w == 2 * width:
        interp = AREA  # OpenCV averages 2x2 blocks for an exact halving with INTER_LINEAR
    shrinking = src_h >= height and src_w >= width
    if interp == NEAREST:
        return NEAREST, interp, shrinking
    if interp == AREA and shrinking:
        if src_h == 2 * height and src_w == 2 * width and dtype == np.uint8:
            return HALVE_UINT8, interp, shrinking
        if src_h % height == 0 and src_w % width == 0:
            return BLOCK_AREA, interp, shrinking
        return AREA_FLOAT32, interp, shrinking
    if dtype != np.uint8:
        return SEPARABLE_FLOAT64, interp, shrinking
    if interp in (LINEAR, AREA):  # bilinear and enlarging area: OpenCV's fixed-point two-tap path
        return LINEAR_UINT8, interp, shrinking
    return (CUBIC_UINT8 if interp == CUBIC else SEPARABLE_FIXED), interp, shrinking


def resize(x, height, width, interp):
    """x (..., H, W, C) resized to (..., height, width, C) with OpenCV code `interp` (0-4), in x's dtype."""
    src_h, src_w = x.shape[-3:-1]
    path, interp, shrinking = _path(x.dtype, src_h, src_w, height, width, interp)
    if path == NEAREST:
        rows, _ = _kernel_taps(src_h, height, NEAREST)
        cols, _ = _kernel_taps(src_w, width, NEAREST)
        return np.ascontiguousarray(np.take(np.take(x, rows[:, 0], -3), cols[:, 0], -2))
    col_taps, col_weights = _taps(src_w, width, interp, shrinking, columns=True)
    row_taps, row_weights = _taps(src_h, height, interp, shrinking, columns=False)
    if path == HALVE_UINT8:
        # OpenCV's fast 2x2 average: (a + b + c + d + 2) >> 2
        out = x.reshape(x.shape[:-3] + (height, 2, width, 2, x.shape[-1])).astype(np.int64).sum(axis=(-4, -2))
        return ((out + 2) >> 2).astype(np.uint8)
    if path == BLOCK_AREA:
        # OpenCV's fast area: the integer sum of each block times float32 1 / block size, rounded half to even
        block = (src_h // height, src_w // width)
        blocks = x.reshape(x.shape[:-3] + (height, block[0], width, block[1], x.shape[-1]))
        sums = blocks.astype(np.int64 if x.dtype.kind in "ui" else np.float32).sum(axis=(-4, -2))
        return _cast(sums.astype(np.float32) * np.float32(1 / (block[0] * block[1])), x.dtype, np.rint)
    if path == AREA_FLOAT32:
        # OpenCV sums the covered cells in float32 and rounds half to even
        out = _along(_along(x.astype(np.float32), -2, col_taps, col_weights), -3, row_taps, row_weights)
        return _cast(out, x.dtype, np.rint)
    if path == SEPARABLE_FLOAT64:
        out = _along(_along(x.astype(np.float64), -2, col_taps, col_weights), -3, row_taps, row_weights)
    elif path == LINEAR_UINT8:
        return _linear_uint8(x, height, width, interp, shrinking)
    elif path == CUBIC_UINT8:
        return _vertical_cubic_uint8(x, col_taps, col_weights, row_taps, row_weights)
    else:
        out = _along(_along(x.astype(np.float64), -2, col_taps, _fixed(col_weights)), -3, row_taps,
                     _fixed(row_weights))
    return _cast(out, x.dtype, lambda v: np.floor(v + 0.5))


_GPU_TYPES = tuple(np.dtype(t) for t in ("uint8", "int8", "int32", "float32", "float64"))


def resize_gpu(x, out, interp, req):
    """resize's CUDA twin: out (..., h, w, C) (req)= x (..., H, W, C) resized with code `interp`, C-contiguous
    device arrays of one dtype. The same path as resize (_path), each a kernel of kernels/cv_resize.py on this
    module's tables, so the values equal resize's."""
    if np.dtype(x.dtype) not in _GPU_TYPES:
        raise MXNetError(f"_image_resize: {x.dtype} images are not supported on the GPU (supported: "
                         f"{', '.join(t.name for t in _GPU_TYPES)})")
    if req == REQ_NULL or out.size == 0:
        return
    k = kernels("cv_resize")
    src_h, src_w, channels = x.shape[x.ndim - 3:]
    height, width = out.shape[out.ndim - 3:out.ndim - 1]
    count = out.size // (height * width * channels)
    x, out = x.reshape((count, src_h, src_w, channels)), out.reshape((count, height, width, channels))

    def device(*arrays):
        return [on_device_of(x, a) for a in arrays]

    path, interp, shrinking = _path(np.dtype(x.dtype), src_h, src_w, height, width, interp)
    if path == NEAREST:
        k.nearest_gpu(x, *device(_kernel_taps(src_h, height, NEAREST)[0][:, 0],
                                 _kernel_taps(src_w, width, NEAREST)[0][:, 0]), out, req)
        return
    col_taps, col_weights = _taps(src_w, width, interp, shrinking, columns=True)
    row_taps, row_weights = _taps(src_h, height, interp, shrinking, columns=False)
    if path == HALVE_UINT8:
        k.halve_uint8_gpu(x, out, req)
    elif path == BLOCK_AREA:
        k.block_area_gpu(x, out, req)
    elif path == AREA_FLOAT32:  # float32 weights: the kernel sums in float32
        k.separable_gpu(x, *device(col_taps, col_weights, row_taps, row_weights), out, req)
    elif path == SEPARABLE_FLOAT64:
        k.separable_gpu(x, *device(col_taps, col_weights.astype(np.float64), row_taps,
                                   row_weights.astype(np.float64)), out, req)
    elif path == LINEAR_UINT8:
        k.linear_uint8_gpu(x, *device(*_fixed_taps(src_w, width, interp, shrinking, True),
                                      *_fixed_taps(src_h, height, interp, shrinking, False)), out, req)
    elif path == CUBIC_UINT8:
        span = width * channels
        betas = _betas(row_weights)
        k.cubic_uint8_gpu(x, *device(col_taps, _fixed(col_weights), row_taps, betas, betas.astype(np.float32)), out,
                          req, span - span % 8)
    else:
        k.separable_gpu(x, *device(col_taps, _fixed(col_weights), row_taps, _fixed(row_weights)), out, req)


def _cast(values, dtype, rounding):
    """values in `dtype`; integer types are rounded by `rounding` and clipped to their range first."""
    if np.dtype(dtype).kind in "ui":
        info = np.iinfo(dtype)
        values = np.clip(rounding(values), info.min, info.max)
    return values.astype(dtype)
