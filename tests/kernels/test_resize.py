"""Bilinear resize kernels against float64 interpolation matrices (out = Mh x Mw^T, dx = Mh^T dy Mw), CPU and
simulated CUDA."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numba import cuda

from mxcy.kernels import resize as R
from mxcy.kernels.common import REQ_ADD, REQ_NULL, REQ_WRITE

DEVICES = [False, pytest.param(True, marks=pytest.mark.cuda)]


def interp_matrix(n, o, align_corners):
    """(o, n) bilinear weights along one axis: source position (n - 1) / (o - 1) * k with align_corners, else
    n / o * (k + 0.5) - 0.5 clamped at 0; position 0 for a single output."""
    if o <= 1:
        src = np.zeros(o)
    elif align_corners:
        src = (n - 1) / (o - 1) * np.arange(o)
    else:
        src = np.maximum(n / o * (np.arange(o) + 0.5) - 0.5, 0)
    lo = np.minimum(np.floor(src).astype(int), n - 1)
    hi, lam = np.minimum(lo + 1, n - 1), src - lo
    m = np.zeros((o, n))
    np.add.at(m, (np.arange(o), lo), 1 - lam)
    np.add.at(m, (np.arange(o), hi), lam)
    return m


def run(gpu, x, dy, out, dx, align_corners, req):
    out, dx = out.copy(), dx.copy()
    if gpu:
        d = [cuda.to_device(a) for a in (x, dy, out, dx)]
        R.resize_fwd_gpu(d[0], d[2], align_corners, req)
        R.resize_bwd_gpu(d[1], d[3], align_corners, req)
        return d[2].copy_to_host(), d[3].copy_to_host()
    R.resize_fwd_cpu(x, out, align_corners, req)
    R.resize_bwd_cpu(dy, dx, align_corners, req)
    return out, dx


@pytest.mark.parametrize("gpu", DEVICES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("req", [REQ_WRITE, REQ_ADD])
@given(planes=st.integers(1, 3), in_hw=st.tuples(st.integers(1, 5), st.integers(1, 5)),
       out_hw=st.tuples(st.integers(1, 6), st.integers(1, 6)), align_corners=st.booleans(),
       seed=st.integers(0, 2**32 - 1))
def test_forward_backward(gpu, dtype, req, planes, in_hw, out_hw, align_corners, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((planes,) + in_hw).astype(dtype)
    dy = rng.standard_normal((planes,) + out_hw).astype(dtype)
    out0 = rng.standard_normal(dy.shape).astype(dtype) if req == REQ_ADD else np.zeros(dy.shape, dtype)
    dx0 = rng.standard_normal(x.shape).astype(dtype) if req == REQ_ADD else np.zeros(x.shape, dtype)
    out, dx = run(gpu, x, dy, out0, dx0, align_corners, req)
    mh, mw = (interp_matrix(n, o, align_corners) for n, o in zip(in_hw, out_hw))
    # The kernels' float32 source positions (MXNet's, whatever the data type) bound the agreement.
    tol = dict(rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(out, out0 + np.einsum("ah,phw,bw->pab", mh, x.astype(np.float64), mw), **tol)
    np.testing.assert_allclose(dx, dx0 + np.einsum("ah,pab,bw->phw", mh, dy.astype(np.float64), mw), **tol)


@pytest.mark.parametrize("gpu", DEVICES)
def test_known_values(gpu):
    # 2 -> 3 pixels. align_corners: sources 0, 0.5, 1. Without: 2/3 * (k + 0.5) - 0.5 = 0 (clamped), 0.5, 7/6
    # (past the last pixel, which it takes).
    x = np.array([[[0.0, 4.0]]])
    out, dx = run(gpu, x, np.ones((1, 1, 3)), np.zeros((1, 1, 3)), np.zeros_like(x), True, REQ_WRITE)
    np.testing.assert_array_equal(out, [[[0.0, 2.0, 4.0]]])
    np.testing.assert_array_equal(dx, [[[1.5, 1.5]]])
    out, _ = run(gpu, x, np.ones((1, 1, 3)), np.zeros((1, 1, 3)), np.zeros_like(x), False, REQ_WRITE)
    np.testing.assert_allclose(out, [[[0.0, 2.0, 4.0]]], atol=1e-6)


@pytest.mark.parametrize("gpu", DEVICES)
def test_req_null_writes_nothing(gpu):
    x = np.ones((1, 2, 2))
    out, dx = run(gpu, x, np.ones((1, 3, 3)), np.full((1, 3, 3), 7.0), np.full_like(x, 7.0), True, REQ_NULL)
    np.testing.assert_array_equal(out, 7.0)
    np.testing.assert_array_equal(dx, 7.0)
