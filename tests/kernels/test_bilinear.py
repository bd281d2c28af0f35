"""The bilinear pieces: taps read 0 outside the image, the blend reproduces the taps at the corners and is linear
along each axis, and blend_grad is its derivative (against float64 central differences)."""
import numpy as np
from hypothesis import given, settings, strategies as st

from mxcy.kernels.bilinear import blend, blend_grad, taps_cpu


def test_taps_read_zero_outside_the_image():
    plane = np.arange(1.0, 7.0).reshape(2, 3)
    assert taps_cpu(plane.reshape(-1), 0, 2, 3, 0, 1, 1, 2) == (2.0, 3.0, 5.0, 6.0)
    assert taps_cpu(plane.reshape(-1), 0, 2, 3, -1, 2, 0, 3) == (0.0, 0.0, 3.0, 0.0)


@settings(max_examples=20, deadline=None)
@given(v=st.lists(st.floats(-5, 5), min_size=4, max_size=4), lh=st.floats(0.01, 0.99), lw=st.floats(0.01, 0.99))
def test_blend_and_its_derivative(v, lh, lw):
    assert [blend(*v, a, b) for a, b in ((0, 0), (0, 1), (1, 0), (1, 1))] == v
    np.testing.assert_allclose(blend(*v, lh, lw), (1 - lh) * ((1 - lw) * v[0] + lw * v[1])
                               + lh * ((1 - lw) * v[2] + lw * v[3]))
    eps = 1e-6
    dh = (blend(*v, lh + eps, lw) - blend(*v, lh - eps, lw)) / (2 * eps)
    dw = (blend(*v, lh, lw + eps) - blend(*v, lh, lw - eps)) / (2 * eps)
    np.testing.assert_allclose(blend_grad(*v, lh, lw), (dh, dw), rtol=1e-6, atol=1e-6)
