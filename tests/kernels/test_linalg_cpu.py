"""kernels/linalg_cpu (batched potrf, trsm, trmm on NumPy's OpenBLAS) against float64 NumPy references: every
side / triangle / transpose, both float types, batches smaller and larger than the thread count, and garbage in
the triangle the kernels must not read."""
import itertools

import numpy as np
import pytest

from mxcy.kernels import linalg_cpu

pytestmark = pytest.mark.skipif(not linalg_cpu.AVAILABLE, reason="NumPy's BLAS is not scipy-openblas64 here")
RTOL = {np.float32: 1e-4, np.float64: 1e-11}


def _with_garbage_outside(tri, lower, rng):
    """tri plus random values in the triangle the kernel must ignore."""
    junk = rng.standard_normal(tri.shape)
    return tri + (np.triu(junk, 1) if lower else np.tril(junk, -1))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("lower", [True, False])
@pytest.mark.parametrize("batch", [(), (1,), (3, 2)])
def test_potrf_matches_numpy_cholesky(dtype, lower, batch):
    rng = np.random.default_rng(0)
    m = rng.standard_normal(batch + (6, 6))
    spd = m @ np.swapaxes(m, -1, -2) + 6 * np.eye(6)
    chol = np.linalg.cholesky(spd)
    want = chol if lower else np.swapaxes(chol, -1, -2)
    given = _with_garbage_outside(np.tril(spd) if lower else np.triu(spd), lower, rng)
    out = linalg_cpu.potrf(given.astype(dtype), lower)
    assert out.dtype == dtype and out.shape == spd.shape
    np.testing.assert_allclose(out, want, rtol=RTOL[dtype], atol=RTOL[dtype])


def test_potrf_raises_for_a_matrix_that_is_not_positive_definite():
    a = np.stack([np.eye(3), -np.eye(3)])
    with pytest.raises(np.linalg.LinAlgError, match="not positive definite"):
        linalg_cpu.potrf(a, True)


def _reference(name, a, b, lower, transpose, rightside, alpha):
    t = np.tril(a) if lower else np.triu(a)
    t = np.swapaxes(t, -1, -2) if transpose else t
    if name == "trmm":
        return alpha * (b @ t if rightside else t @ b)
    if rightside:  # X t = alpha b  <=>  t^T X^T = alpha b^T
        return np.swapaxes(np.linalg.solve(np.swapaxes(t, -1, -2), alpha * np.swapaxes(b, -1, -2)), -1, -2)
    return np.linalg.solve(t, alpha * b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,lower,transpose,rightside",
                         list(itertools.product(["trsm", "trmm"], [True, False], [True, False], [True, False])))
def test_triangular_matches_numpy(dtype, name, lower, transpose, rightside):
    rng = np.random.default_rng(1)
    batch, n, cols = (5,), 4, 3
    tri = rng.uniform(-1, 1, batch + (n, n)) + 3 * np.eye(n)
    tri = np.tril(tri) if lower else np.triu(tri)
    b = rng.standard_normal(batch + ((cols, n) if rightside else (n, cols)))
    a = _with_garbage_outside(tri, lower, rng)
    out = linalg_cpu.triangular(name, a.astype(dtype), b.astype(dtype), lower, transpose, rightside, -1.5)
    assert out.dtype == dtype and out.shape == b.shape
    np.testing.assert_allclose(out, _reference(name, tri, b, lower, transpose, rightside, -1.5),
                               rtol=RTOL[dtype], atol=RTOL[dtype])


def test_empty_batches_give_empty_results():
    assert linalg_cpu.potrf(np.zeros((0, 3, 3)), True).shape == (0, 3, 3)
    assert linalg_cpu.triangular("trsm", np.zeros((0, 3, 3)), np.zeros((0, 3, 2)), True, False, False, 1.0).shape \
        == (0, 3, 2)
