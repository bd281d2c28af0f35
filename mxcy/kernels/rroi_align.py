"""Rotated ROIAlign kernel (MXNet 1.9.1's contrib RROIAlign, text detection), CPU only as in MXNet (which has no GPU
kernel and no backward for it): each output bin averages bilinear samples on a regular grid of its part of a rotated
region. Arithmetic in float64; arrays are flat NCHW."""
import math

import numba
import numpy as np

from .common import parallel_kernel
from .roi_align import tap_at

# rois (R, 6) = (batch index, centre x, centre y, width, height, angle in degrees, counter-clockwise), times
# spatial_scale; width and height at least 1. The region is cut into PH x PW bins, each sampled on a grid_h x grid_w
# grid (sampling_ratio per side, or ceil(side / bins) when it is not positive) whose points are rotated by the angle
# about the centre; samples follow ROIAlign's rule (a point more than a pixel outside reads 0 but counts in the
# mean). A row whose batch index lies outside [0, N) gives 0.


@numba.njit(inline="always", nogil=True, error_model="numpy")
def _taps(rois, r, H, W, PH, PW, scale, ratio):
    """(data plane offsets, weights), both (PH * PW, 4 * samples per bin), of roi row r: every bin's bilinear taps,
    each weight over the bin's number of samples; samples that read nothing have zero weights."""
    cx, cy = rois[r * 6 + 1] * scale, rois[r * 6 + 2] * scale
    width, height = max(rois[r * 6 + 3] * scale, 1.0), max(rois[r * 6 + 4] * scale, 1.0)
    theta = rois[r * 6 + 5] * math.pi / 180.0
    cos, sin = math.cos(theta), math.sin(theta)
    bin_h, bin_w = height / PH, width / PW
    grid_h = ratio if ratio > 0 else int(math.ceil(height / PH))
    grid_w = ratio if ratio > 0 else int(math.ceil(width / PW))
    n = grid_h * grid_w
    where, weight = np.zeros((PH * PW, 4 * n), np.int64), np.zeros((PH * PW, 4 * n))
    for k in range(PH * PW):
        ph, pw = k // PW, k % PW
        for s in range(n):
            yy = -height / 2 + ph * bin_h + (s // grid_w + 0.5) * bin_h / grid_h
            xx = -width / 2 + pw * bin_w + (s % grid_w + 0.5) * bin_w / grid_w
            y0, y1, ly = tap_at(yy * cos - xx * sin + cy, H)
            x0, x1, lx = tap_at(xx * cos + yy * sin + cx, W)
            if y0 < 0 or x0 < 0:
                continue
            t = 4 * s
            where[k, t], where[k, t + 1], where[k, t + 2], where[k, t + 3] = \
                y0 * W + x0, y0 * W + x1, y1 * W + x0, y1 * W + x1
            weight[k, t], weight[k, t + 1] = (1.0 - ly) * (1.0 - lx) / n, (1.0 - ly) * lx / n
            weight[k, t + 2], weight[k, t + 3] = ly * (1.0 - lx) / n, ly * lx / n
    return where, weight


@parallel_kernel(nogil=True, cache=True, error_model="numpy")
def _fwd_cpu(data, rois, out, N, C, H, W, PH, PW, scale, ratio):
    R = out.size // (C * PH * PW)
    for r in numba.prange(R):  # one roi: its taps found once for all channels, as MXNet's pre-calculation
        b = int(rois[r * 6])
        where, weight = _taps(rois, r, H, W, PH, PW, scale, ratio)
        for c in range(C):
            base = (b * C + c) * H * W
            for k in range(PH * PW):
                total = 0.0
                if 0 <= b < N:
                    for t in range(where.shape[1]):
                        total += weight[k, t] * data[base + where[k, t]]
                out[(r * C + c) * PH * PW + k] = total


def fwd_cpu(data, rois, out, pooled_size, spatial_scale, sampling_ratio):
    """out (R, C, PH, PW) = RROIAlign of data (N, C, H, W) over rois (R, 6). Writes out."""
    # MXNet keeps spatial_scale as a float32.
    _fwd_cpu(data.reshape(data.size), rois.reshape(rois.size), out.reshape(out.size), *data.shape, *pooled_size,
             float(np.float32(spatial_scale)), int(sampling_ratio))
