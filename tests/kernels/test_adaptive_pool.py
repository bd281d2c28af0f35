"""Adaptive average pooling kernels, the CPU's threaded build and the CUDA twin (in the simulator), against the
NumPy reference of tests/ops/test_contrib_misc.py: forward, and the backward against the transpose of the pooling
(input j's gradient is sum_i g[i] * d out[i] / d x[j]), under write and add requests, with overlapping bins."""
import numpy as np
import pytest
from numba import cuda

from mxcy.kernels import adaptive_pool
from mxcy.kernels.common import REQ_ADD, REQ_WRITE
from tests.ops.test_contrib_misc import _adaptive

CASES = [((2, 3, 5, 7), (3, 4)), ((1, 2, 4, 4), (4, 4)), ((1, 1, 3, 2), (5, 1))]


def _pooling_matrix(image, size):
    """(out elements, in elements) matrix of the reference pooling of one image plane."""
    eye = np.eye(image[2] * image[3]).reshape(-1, 1, image[2], image[3])
    return _adaptive(eye, size).reshape(eye.shape[0], -1).T


def _run(device, fn, src, prior, req):
    """fn(src, out, req) on `device` with out starting as prior; out as NumPy."""
    if device == "cpu":
        out = prior.copy()
        fn(src, out, req)
        return out
    out = cuda.to_device(prior.copy())
    fn(cuda.to_device(src), out, req)
    return out.copy_to_host()


@pytest.mark.parametrize("device", ["cpu", pytest.param("gpu", marks=pytest.mark.cuda)])
@pytest.mark.parametrize("req", [REQ_WRITE, REQ_ADD])
@pytest.mark.parametrize("shape, size", CASES)
def test_kernels_match_the_reference(shape, size, req, device):
    rng = np.random.default_rng(sum(shape))
    x = rng.standard_normal(shape)
    want = _adaptive(x, size)
    g = rng.standard_normal(want.shape)
    want_dx = (g.reshape(shape[0] * shape[1], -1) @ _pooling_matrix(shape, size)).reshape(shape)
    for fn, src, expected in (("fwd", x, want), ("bwd", g, want_dx)):
        prior = rng.standard_normal(expected.shape) if req == REQ_ADD else np.full(expected.shape, np.nan)
        got = _run(device, getattr(adaptive_pool, f"{fn}_{device}"), src, prior, req)
        np.testing.assert_allclose(got, expected + (prior if req == REQ_ADD else 0), rtol=1e-12, atol=1e-12,
                                   err_msg=fn)
