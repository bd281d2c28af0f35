"""LRN kernels against a float64 NumPy reference (the window sum written channel by channel; the gradient by
central differences of it), CPU and simulated CUDA."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numba import cuda

from mxcy.kernels import lrn as L
from mxcy.kernels.common import REQ_ADD, REQ_NULL, REQ_WRITE

DEVICES = [False, pytest.param(True, marks=pytest.mark.cuda)]


def lrn_ref(x, nsize, alpha, beta, knorm):
    """(out, tmp) of x (N, C, S) in float64: the window of channel c is c - r .. c + r, r = (nsize - 1) // 2."""
    r = (nsize - 1) // 2
    tmp = np.stack([knorm + alpha / nsize * (x[:, max(0, c - r):c + r + 1] ** 2).sum(axis=1)
                    for c in range(x.shape[1])], axis=1)
    return x * tmp ** -beta, tmp


def numeric_dx(x, dy, *params, eps=1e-6):
    """d sum(out * dy) / dx by central differences of lrn_ref."""
    x = x.astype(np.float64)
    dx = np.zeros_like(x)
    for i in np.ndindex(*x.shape):
        old = x[i]
        x[i] = old + eps
        plus = (lrn_ref(x, *params)[0] * dy).sum()
        x[i] = old - eps
        minus = (lrn_ref(x, *params)[0] * dy).sum()
        x[i] = old
        dx[i] = (plus - minus) / (2 * eps)
    return dx


def run(gpu, x, dy, tmp_in, nsize, alpha, beta, knorm, reqs, prior):
    """(out, tmp, dx) from the forward and backward kernels under reqs = (out, tmp, dx) over `prior` arrays; the
    backward reads tmp_in."""
    out, tmp, dx = (p.copy() for p in prior)
    if gpu:
        d = [cuda.to_device(a) for a in (x, dy, tmp_in, out, tmp, dx)]
        L.lrn_fwd_gpu(d[0], d[3], d[4], nsize, alpha, beta, knorm, reqs[0], reqs[1])
        L.lrn_bwd_gpu(d[1], d[0], d[2], d[5], nsize, alpha, beta, reqs[2])
        return tuple(a.copy_to_host() for a in d[3:])
    L.lrn_fwd_cpu(x, out, tmp, nsize, alpha, beta, knorm, reqs[0], reqs[1])
    L.lrn_bwd_cpu(dy, x, tmp_in, dx, nsize, alpha, beta, reqs[2])
    return out, tmp, dx


@st.composite
def cases(draw):
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 6)), draw(st.integers(1, 3)))
    params = (draw(st.integers(1, 7)), draw(st.floats(0.1, 2.0)), draw(st.floats(0.3, 1.0)),
              draw(st.floats(0.5, 2.0)))
    return shape, params


@pytest.mark.parametrize("gpu", DEVICES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("req", [REQ_WRITE, REQ_ADD])
@given(case=cases(), seed=st.integers(0, 2**32 - 1))
def test_forward_backward(gpu, dtype, req, case, seed):
    shape, params = case
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) * 1.5).astype(dtype)
    dy = rng.standard_normal(shape).astype(dtype)
    prior = [rng.standard_normal(shape).astype(dtype) if req == REQ_ADD else np.zeros(shape, dtype)
             for _ in range(3)]
    x64 = x.astype(np.float64)
    out_ref, tmp_ref = lrn_ref(x64, *params)
    out, tmp, dx = run(gpu, x, dy, tmp_ref.astype(dtype), *params, (req,) * 3, prior)
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-7, atol=1e-7)
    base = [p.astype(np.float64) if req == REQ_ADD else 0 for p in prior]
    np.testing.assert_allclose(out, base[0] + out_ref, **tol)
    np.testing.assert_allclose(tmp, base[1] + tmp_ref, **tol)
    np.testing.assert_allclose(dx, base[2] + numeric_dx(x64, dy.astype(np.float64), *params),
                               rtol=1e-4, atol=1e-4 if dtype == np.float32 else 1e-6)


@pytest.mark.parametrize("gpu", DEVICES)
def test_even_nsize_spans_nsize_minus_one_channels(gpu):
    # nsize 4 sums channels c - 1 .. c + 1 (MXNet 1.9.1's CPU window), scaled by alpha / 4.
    x = np.arange(1.0, 6.0).reshape(1, 5, 1)
    zeros = [np.zeros_like(x)] * 3
    _, tmp, _ = run(gpu, x, x, x, 4, 4.0, 1.0, 0.0, (REQ_WRITE,) * 3, zeros)
    np.testing.assert_array_equal(tmp.ravel(), [1 + 4, 1 + 4 + 9, 4 + 9 + 16, 9 + 16 + 25, 16 + 25])


@pytest.mark.parametrize("gpu", DEVICES)
def test_req_null_writes_nothing(gpu):
    x = np.ones((1, 3, 2))
    prior = [np.full_like(x, 7.0)] * 3
    out, tmp, dx = run(gpu, x, x, x, 3, 1.0, 0.75, 2.0, (REQ_NULL,) * 3, prior)
    for a in (out, tmp, dx):
        np.testing.assert_array_equal(a, 7.0)
    out, tmp, _ = run(gpu, x, x, x, 3, 1.0, 0.75, 2.0, (REQ_NULL, REQ_WRITE, REQ_NULL), prior)
    np.testing.assert_array_equal(out, 7.0)
    np.testing.assert_allclose(tmp, 2.0 + 1.0 / 3 * np.array([[[2, 2], [3, 3], [2, 2]]]))
