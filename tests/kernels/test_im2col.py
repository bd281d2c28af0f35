"""The CUDA im2col / col2im kernels (in the simulator) against the NumPy sliding-window reference of
tests/ops/test_nn_im2col.py, on fixed geometries in 1-3 spatial dimensions with stride, dilation and padding, under
write and add requests."""
import numpy as np
import pytest
from numba import cuda

from mxcy.kernels import im2col
from mxcy.kernels.common import REQ_ADD, REQ_WRITE
from tests.ops.test_nn_im2col import _col2im_ref, _im2col_ref

# (image shape, kernel, stride, dilate, pad)
GEOMETRIES = [((2, 3, 7), (3,), (2,), (1,), (1,)),
              ((1, 2, 5, 4), (2, 3), (1, 2), (2, 1), (1, 0)),
              ((1, 2, 3, 4, 3), (2, 2, 1), (1, 2, 1), (1, 1, 1), (0, 1, 1))]


def _attrs(kernel, stride, dilate, pad):
    return dict(kernel=kernel, stride=stride, dilate=dilate, pad=pad)


@pytest.mark.cuda
@pytest.mark.parametrize("req", [REQ_WRITE, REQ_ADD])
@pytest.mark.parametrize("shape, kernel, stride, dilate, pad", GEOMETRIES)
def test_gpu_kernels_match_the_reference(shape, kernel, stride, dilate, pad, req):
    rng = np.random.default_rng(len(shape) + req)
    attrs = _attrs(kernel, stride, dilate, pad)
    x = rng.standard_normal(shape)
    want_col = _im2col_ref(x, **attrs)
    out_spatial = [(n + 2 * p - (d * (k - 1) + 1)) // s + 1
                   for n, k, s, d, p in zip(shape[2:], kernel, stride, dilate, pad)]
    prior = rng.standard_normal(want_col.shape)
    col = cuda.to_device(prior.copy())
    im2col.im2col_gpu(cuda.to_device(x), col, req, kernel, stride, pad, dilate, out_spatial)
    np.testing.assert_allclose(col.copy_to_host(), want_col + (prior if req == REQ_ADD else 0), rtol=1e-12)

    cols = rng.standard_normal(want_col.shape)
    prior = rng.standard_normal(shape)
    image = cuda.to_device(prior.copy())
    im2col.col2im_gpu(cuda.to_device(cols), image, req, kernel, stride, pad, dilate, out_spatial)
    want = _col2im_ref(cols, shape[2:], **attrs) + (prior if req == REQ_ADD else 0)
    np.testing.assert_allclose(image.copy_to_host(), want, rtol=1e-12, atol=1e-12)
