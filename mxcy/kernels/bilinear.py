"""Bilinear interpolation pieces shared by the kernels that sample images at fractional positions (deformable
convolution): the four taps around a position (0 outside the image), their blend and its derivatives."""
import numba

from .launch import dual


def _taps(x, base, H, W, h0, w0, h1, w1):
    """The four image values around a position (0 for a tap outside the image); x flat, the plane at base."""
    v00 = v01 = v10 = v11 = 0.0
    if 0 <= h0 < H:
        if 0 <= w0 < W:
            v00 = 1.0 * x[base + h0 * W + w0]
        if 0 <= w1 < W:
            v01 = 1.0 * x[base + h0 * W + w1]
    if 0 <= h1 < H:
        if 0 <= w0 < W:
            v10 = 1.0 * x[base + h1 * W + w0]
        if 0 <= w1 < W:
            v11 = 1.0 * x[base + h1 * W + w1]
    return v00, v01, v10, v11


taps_cpu, taps_gpu = dual(_taps)


@numba.njit(inline="always", nogil=True)
def blend(v00, v01, v10, v11, lh, lw):
    """The value at fractions (lh, lw) of the way from tap 00 toward taps 1x / x1."""
    return (1.0 - lh) * ((1.0 - lw) * v00 + lw * v01) + lh * ((1.0 - lw) * v10 + lw * v11)


@numba.njit(inline="always", nogil=True)
def blend_grad(v00, v01, v10, v11, lh, lw):
    """d blend / dh and d blend / dw (0 along an axis whose taps were clamped together)."""
    return (1.0 - lw) * (v10 - v00) + lw * (v11 - v01), (1.0 - lh) * (v01 - v00) + lh * (v11 - v10)
