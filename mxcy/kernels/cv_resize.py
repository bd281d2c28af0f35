"""OpenCV's uint8 bilinear cv::resize on the CPU (the two-tap path of mxcy/ops/_cv_resize.py): a horizontal pass
with 11-bit integer weights, then the two-row blend as OpenCV's SIMD code computes it (drop 4 bits, keep the
high halves of the 16-bit products, round at 2 bits). Host-side image code only, so there is no CUDA twin."""
import numpy as np
from numba import njit


@njit(nogil=True, cache=True)
def resize_linear_uint8(x, col_taps, col_weights, row_taps, row_weights, out):
    """x (N, H, W, C) uint8 -> out (N, h, w, C); taps (w or h, 2) are clamped to the image, weights (w or h, 2)
    are integers scaled by 2048. Each source row's horizontal pass is computed once, when first needed."""
    count, src_h, src_w, channels = x.shape
    height, width = out.shape[1], out.shape[2]
    span = width * channels
    # per output value of a row: the flat positions of its two source values and their weights
    first, second = np.empty(span, np.int64), np.empty(span, np.int64)
    w_first, w_second = np.empty(span, np.int32), np.empty(span, np.int32)
    for j in range(width):
        for c in range(channels):
            k = j * channels + c
            first[k] = min(max(col_taps[j, 0], 0), src_w - 1) * channels + c
            second[k] = min(max(col_taps[j, 1], 0), src_w - 1) * channels + c
            w_first[k], w_second[k] = col_weights[j, 0], col_weights[j, 1]
    flat = x.reshape(count, src_h, src_w * channels)
    result = out.reshape(count, height, span)
    passes = np.empty((src_h, span), np.int32)
    for n in range(count):
        done = np.zeros(src_h, np.bool_)
        for i in range(height):
            upper = min(max(row_taps[i, 0], 0), src_h - 1)
            lower = min(max(row_taps[i, 1], 0), src_h - 1)
            for src_row in (upper, lower):
                if not done[src_row]:
                    done[src_row] = True
                    source, target = flat[n, src_row], passes[src_row]
                    for k in range(span):
                        target[k] = np.int32(np.int32(source[first[k]]) * w_first[k]
                                             + np.int32(source[second[k]]) * w_second[k])
            top, bottom = np.int32(row_weights[i, 0]), np.int32(row_weights[i, 1])
            up, down, row = passes[upper], passes[lower], result[n, i]
            for k in range(span):  # int32 throughout (the values fit), so the loop vectorises
                value = np.int32(np.int32(np.int32(np.int32(up[k] >> 4) * top) >> 16)
                                 + np.int32(np.int32(np.int32(down[k] >> 4) * bottom) >> 16) + 2) >> 2
                row[k] = min(max(value, 0), 255)
