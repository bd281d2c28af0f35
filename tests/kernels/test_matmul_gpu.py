"""The batched CUDA matrix product against float64 NumPy, on tiny (P, rows, Q, cols) views in the simulator."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import cuda

from mxcy.kernels import matmul_gpu as K
from mxcy.kernels.common import REQ_ADD, REQ_NULL, REQ_WRITE

pytestmark = pytest.mark.cuda


def matrices(x, transposed):
    """(P*Q, rows, cols) float64 matrices of a (P, rows, Q, cols) array, transposed when asked."""
    P, R, Q, C = x.shape
    m = x.astype(np.float64).transpose(0, 2, 1, 3).reshape(P * Q, R, C)
    return m.swapaxes(1, 2) if transposed else m


def as_view(m, P, Q):
    """(P*Q, rows, cols) matrices back as a (P, rows, Q, cols) array."""
    return m.reshape(P, Q, *m.shape[1:]).transpose(0, 2, 1, 3)


def run(P, Q, M, N, K_, ta, tb, dtype, req, alpha=1.0, beta=0.0, with_c=False, seed=0):
    rng = np.random.default_rng(seed)

    def draw(shape):
        return (rng.integers(-3, 4, shape) if np.dtype(dtype).kind == "i" else rng.uniform(-1, 1, shape)).astype(dtype)
    a = draw((P, K_, Q, M) if ta else (P, M, Q, K_))
    b = draw((P, N, Q, K_) if tb else (P, K_, Q, N))
    c = draw((P, M, Q, N))
    old = draw((P, M, Q, N))
    out = cuda.to_device(old)
    K.matmul_gpu(cuda.to_device(a), cuda.to_device(b), out, ta, tb, req, alpha,
                 cuda.to_device(c) if with_c else None, beta)
    value = alpha * (matrices(a, ta) @ matrices(b, tb))
    if with_c:
        value = value + beta * matrices(c, False)
    value = as_view(value, P, Q)
    want = {REQ_NULL: old, REQ_WRITE: value, REQ_ADD: old + value}[req]
    return out.copy_to_host(), want


def tol(dtype):
    return dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)


@settings(max_examples=6)
@given(st.integers(1, 2), st.integers(1, 2), st.integers(1, 5), st.integers(1, 5), st.integers(0, 5),
       st.booleans(), st.booleans(), st.sampled_from([np.float32, np.float64]),
       st.sampled_from([REQ_WRITE, REQ_ADD, REQ_NULL]), st.booleans(), st.integers(0, 2 ** 16))
def test_matches_numpy(P, Q, M, N, K_, ta, tb, dtype, req, with_c, seed):
    got, want = run(P, Q, M, N, K_, ta, tb, dtype, req, alpha=-1.5, beta=0.75, with_c=with_c, seed=seed)
    np.testing.assert_allclose(got, want, **tol(dtype))


def test_longer_than_one_shared_memory_slice_and_tile():
    # K spans two 16-wide slices; M spans two 64-row tiles.
    got, want = run(1, 1, 66, 2, 17, True, False, np.float64, REQ_WRITE)
    np.testing.assert_allclose(got, want, **tol(np.float64))


def test_integers_sum_exactly():
    got, want = run(1, 1, 2, 3, 4, False, True, np.int32, REQ_ADD)
    np.testing.assert_array_equal(got, want)


def test_batches_beyond_the_grid_limit_go_in_chunks(monkeypatch):
    monkeypatch.setattr(K, "MAX_Z", 2)
    got, want = run(3, 3, 2, 2, 3, False, False, np.float64, REQ_WRITE, alpha=2.0, beta=1.0, with_c=True)
    np.testing.assert_allclose(got, want, **tol(np.float64))
