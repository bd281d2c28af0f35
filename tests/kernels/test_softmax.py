"""softmax / log_softmax kernels against float64 NumPy references, CPU and simulated CUDA."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import cuda

from mxcy.kernels import softmax as S
from mxcy.kernels.common import REQ_ADD, REQ_NULL, REQ_WRITE

NO_LENGTH = np.empty((0, 0), np.int64)


def split3(shape, axis):
    axis %= len(shape)
    return int(np.prod(shape[:axis])), shape[axis], int(np.prod(shape[axis + 1:]))


def ref_softmax(x3, length, t, log):
    """Per row (o, :, i): softmax of x / t over its first length[o, i] entries, zeros after."""
    out = np.zeros_like(x3, dtype=np.float64)
    for o in range(x3.shape[0]):
        for i in range(x3.shape[2]):
            n = x3.shape[1] if length is None else int(np.clip(length[o, i], 0, x3.shape[1]))
            if n == 0:
                continue
            z = x3[o, :n, i].astype(np.float64) / t
            lse = np.log(np.sum(np.exp(z - z.max()))) + z.max()
            out[o, :n, i] = z - lse if log else np.exp(z - lse)
    return out


def ref_softmax_grad(dy3, x3, length, t, log):
    """Vector-Jacobian product written from the Jacobian: J = (diag(p) - p p^T) / t (softmax) and
    (I - 1 p^T) / t (log_softmax), restricted to the valid prefix."""
    p = ref_softmax(x3, length, t, False)
    dx = np.zeros_like(p)
    for o in range(x3.shape[0]):
        for i in range(x3.shape[2]):
            n = x3.shape[1] if length is None else int(np.clip(length[o, i], 0, x3.shape[1]))
            pv, g = p[o, :n, i], dy3[o, :n, i].astype(np.float64)
            jac = (np.eye(n) - pv[None, :]) if log else (np.diag(pv) - np.outer(pv, pv))
            dx[o, :n, i] = jac.T @ g / t
    return dx


@st.composite
def cases(draw):
    nd = draw(st.integers(1, 4))
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=nd, max_size=nd)))
    axis = draw(st.integers(-nd, nd - 1))
    return shape, axis


@given(case=cases(), t=st.sampled_from([1.0, 0.5, 2.5]), log=st.booleans(), use_length=st.booleans(),
       seed=st.integers(0, 2**16), dtype=st.sampled_from([np.float32, np.float64]),
       req=st.sampled_from([REQ_WRITE, REQ_ADD]))
def test_forward_backward(case, t, log, use_length, seed, dtype, req):
    shape, axis = case
    rng = np.random.default_rng(seed)
    o3 = split3(shape, axis)
    x = (rng.standard_normal(shape) * 3).astype(dtype).reshape(o3)
    length = rng.integers(0, o3[1] + 2, (o3[0], o3[2])) if use_length else None
    base = rng.standard_normal(o3).astype(dtype) if req == REQ_ADD else np.zeros(o3, dtype)
    y = base.copy()
    S.softmax_fwd_cpu(x, y, NO_LENGTH if length is None else length, t, log, req)
    ref = ref_softmax(x, length, t, log)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(y, base + ref, **tol)

    y = ref.astype(dtype)
    dy = rng.standard_normal(o3).astype(dtype)
    dx = base.copy()
    S.softmax_bwd_cpu(dy, y, dx, NO_LENGTH if length is None else length, t, log, req)
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx, base + ref_softmax_grad(dy, x, length, t, log), **tol)


def test_known_values_and_stability():
    x = np.array([1.0, 2.0, 3.0, 1000.0, 1001.0, -np.inf]).reshape(2, 3, 1)
    y = np.empty_like(x)
    S.softmax_fwd_cpu(x, y, NO_LENGTH, 1.0, False, REQ_WRITE)
    e = np.exp([0.0, 1.0, 2.0])
    np.testing.assert_allclose(y[0, :, 0], e / e.sum(), rtol=1e-15)
    np.testing.assert_allclose(y[1, :, 0], [1 / (1 + np.e), np.e / (1 + np.e), 0.0], rtol=1e-15)
    S.softmax_fwd_cpu(x, y, NO_LENGTH, 1.0, True, REQ_WRITE)
    np.testing.assert_allclose(y[1, :2, 0], [-np.log1p(np.e), 1 - np.log1p(np.e)], rtol=1e-15)
    assert y[1, 2, 0] == -np.inf
    # Masked: row 0 keeps 2 entries, row 1 none (all zeros, as MXNet writes).
    S.softmax_fwd_cpu(x, y, np.array([[2], [0]]), 1.0, False, REQ_WRITE)
    np.testing.assert_allclose(y[:, :, 0], [[1 / (1 + np.e), np.e / (1 + np.e), 0], [0, 0, 0]], rtol=1e-15)


def test_req_null():
    x = np.ones((2, 3, 1))
    y = np.full_like(x, 5.0)
    S.softmax_fwd_cpu(x, y, NO_LENGTH, 1.0, False, REQ_NULL)
    S.softmax_bwd_cpu(x, x, y, NO_LENGTH, 1.0, False, REQ_NULL)
    np.testing.assert_array_equal(y, 5.0)


@pytest.mark.parametrize("log", [False, True])
def test_backward_matches_central_differences(log):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 5, 3))
    length = np.array([[5, 3, 1], [4, 0, 2]])
    w = rng.standard_normal(x.shape)
    y = np.empty_like(x)
    S.softmax_fwd_cpu(x, y, length, 1.7, log, REQ_WRITE)
    dx = np.empty_like(x)
    S.softmax_bwd_cpu(w, y, dx, length, 1.7, log, REQ_WRITE)
    num = np.empty_like(x)
    h = 1e-6
    for k in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[k] += h
        xm[k] -= h
        yp, ym = np.empty_like(x), np.empty_like(x)
        S.softmax_fwd_cpu(xp, yp, length, 1.7, log, REQ_WRITE)
        S.softmax_fwd_cpu(xm, ym, length, 1.7, log, REQ_WRITE)
        num[k] = np.sum(w * (yp - ym)) / (2 * h)
    np.testing.assert_allclose(dx, num, rtol=1e-6, atol=1e-8)


# ---------------------------------------------------------------- CUDA (simulator without a GPU)
@pytest.mark.cuda
@pytest.mark.parametrize("shape", [(2, 40, 1), (3, 4, 1), (2, 3, 2)])
@settings(max_examples=3)
@given(log=st.booleans(), use_length=st.booleans(), t=st.sampled_from([1.0, 2.0]), seed=st.integers(0, 2**16))
def test_gpu_matches_cpu(shape, log, use_length, t, seed):
    # (2, 40, 1) takes the block-per-row kernel, the others the thread-per-row kernel.
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(np.float32)
    length = rng.integers(0, shape[1] + 1, (shape[0], shape[2])) if use_length else NO_LENGTH
    y = np.empty_like(x)
    S.softmax_fwd_cpu(x, y, length, t, log, REQ_WRITE)
    d_len = cuda.to_device(length) if use_length else None
    d_y = cuda.to_device(np.ones_like(x))
    S.softmax_fwd_gpu(cuda.to_device(x), d_y, d_len, t, log, REQ_ADD)
    np.testing.assert_allclose(d_y.copy_to_host(), 1 + y, rtol=1e-5, atol=1e-6)
    dy = rng.standard_normal(shape).astype(np.float32)
    dx = np.empty_like(x)
    S.softmax_bwd_cpu(dy, y, dx, length, t, log, REQ_WRITE)
    d_dx = cuda.to_device(np.zeros_like(x))
    S.softmax_bwd_gpu(cuda.to_device(dy), cuda.to_device(y), d_dx, d_len, t, log, REQ_WRITE)
    np.testing.assert_allclose(d_dx.copy_to_host(), dx, rtol=1e-5, atol=1e-6)
