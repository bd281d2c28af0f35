"""OpenCV's uint8 bilinear resize kernel against a vectorised NumPy statement of the same integer arithmetic
(its outputs are also checked against MXNet 1.9.1's printed resizes in tests/ops/test_image.py)."""
import numpy as np
from hypothesis import given, settings, strategies as st

from mxcy.kernels import cv_resize


def _reference(x, col_taps, col_weights, row_taps, row_weights):
    cols = np.clip(col_taps, 0, x.shape[2] - 1)
    rows = (x[:, :, cols[:, 0]].astype(np.int64) * col_weights[:, 0, None]
            + x[:, :, cols[:, 1]].astype(np.int64) * col_weights[:, 1, None])  # (N, H, w, C)
    taps = np.clip(row_taps, 0, x.shape[1] - 1)
    top, bottom = rows[:, taps[:, 0]], rows[:, taps[:, 1]]
    b0, b1 = row_weights[:, 0, None, None], row_weights[:, 1, None, None]
    return np.clip(((((top >> 4) * b0) >> 16) + (((bottom >> 4) * b1) >> 16) + 2) >> 2, 0, 255).astype(np.uint8)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2 ** 16), st.integers(1, 9), st.integers(1, 9), st.integers(1, 12), st.integers(1, 12),
       st.sampled_from([1, 3, 4]))
def test_matches_numpy(seed, src_h, src_w, height, width, channels):
    rng = np.random.RandomState(seed)
    x = rng.randint(0, 256, (2, src_h, src_w, channels)).astype(np.uint8)
    col_taps = rng.randint(-1, src_w + 1, (width, 2))
    row_taps = rng.randint(-1, src_h + 1, (height, 2))
    col_weights = rng.randint(0, 2049, (width, 1))
    col_weights = np.hstack([2048 - col_weights, col_weights])
    row_weights = rng.randint(0, 2049, (height, 1))
    row_weights = np.hstack([2048 - row_weights, row_weights])
    out = np.empty((2, height, width, channels), np.uint8)
    cv_resize.resize_linear_uint8(x, col_taps, col_weights, row_taps, row_weights, out)
    np.testing.assert_array_equal(out, _reference(x, col_taps, col_weights, row_taps, row_weights))
