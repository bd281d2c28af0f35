"""OpenCV's uint8 bilinear cv::resize on the CPU (the two-tap path of mxcy/ops/_cv_resize.py): a horizontal pass
with 11-bit integer weights, then the two-row blend as OpenCV's SIMD code computes it (drop 4 bits, keep the
high halves of the 16-bit products, round at 2 bits). Host-side image code only, so there is no CUDA twin."""
import numpy as np
from numba import njit


@njit(nogil=True, cache=True)
def resize_linear_uint8(x, col_taps, col_weights, row_taps, row_weights, out):
    """x (N, H, W, C) uint8 -> out (N, h, w, C); taps (w or h, 2) are clamped to the image, weights (w or h, 2)
    are integers scaled by 2048."""
    count, src_h, src_w, channels = x.shape
    height, width = out.shape[1], out.shape[2]
    rows = np.empty((2, width, channels), np.int64)
    for n in range(count):
        for i in range(height):
            for r in range(2):
                src_row = min(max(row_taps[i, r], 0), src_h - 1)
                for j in range(width):
                    left = min(max(col_taps[j, 0], 0), src_w - 1)
                    right = min(max(col_taps[j, 1], 0), src_w - 1)
                    for c in range(channels):
                        rows[r, j, c] = (np.int64(x[n, src_row, left, c]) * col_weights[j, 0]
                                         + np.int64(x[n, src_row, right, c]) * col_weights[j, 1])
            top, bottom = row_weights[i, 0], row_weights[i, 1]
            for j in range(width):
                for c in range(channels):
                    value = ((((rows[0, j, c] >> 4) * top) >> 16) + (((rows[1, j, c] >> 4) * bottom) >> 16) + 2) >> 2
                    out[n, i, j, c] = min(max(value, 0), 255)
