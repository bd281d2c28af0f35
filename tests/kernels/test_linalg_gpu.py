"""kernels/linalg_gpu in the CUDA simulator (or on a GPU) against float64 NumPy references: potrf with more rows than
a block has busy threads and NaN in the triangle it must not read, NaN for a matrix that is not positive definite,
trsm and trmm for every side / triangle / transpose, potri, syrk and sumlogdiag (the packers and the fused gradients:
tests/kernels/test_linalg_cpu.py)."""
import itertools

import numpy as np
import pytest
from numba import cuda

from mxcy.kernels import linalg_gpu
from tests.kernels.test_linalg_cpu import _reference

pytestmark = pytest.mark.cuda


def _nan_outside(tri, lower):
    """tri with NaN in the triangle the kernels must not read."""
    ones = np.ones(tri.shape[-2:])
    return np.where((np.tril(ones) if lower else np.triu(ones)) == 1, tri, np.nan)


def _on_gpu(fn, *arrays, out_shape, attrs=()):
    out = cuda.to_device(np.full(out_shape, np.nan))
    fn(*(cuda.to_device(np.ascontiguousarray(a)) for a in arrays), out, *attrs)
    return out.copy_to_host()


@pytest.mark.parametrize("lower", [True, False])
def test_potrf_matches_numpy_cholesky(lower):
    rng = np.random.default_rng(0)
    m = rng.standard_normal((2, 9, 9))
    spd = m @ np.swapaxes(m, -1, -2) + 9 * np.eye(9)
    chol = np.linalg.cholesky(spd)
    want = chol if lower else np.swapaxes(chol, -1, -2)
    got = _on_gpu(linalg_gpu.potrf_gpu, _nan_outside(spd, lower), out_shape=spd.shape, attrs=(lower,))
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_potrf_writes_nan_for_a_matrix_that_is_not_positive_definite():
    got = _on_gpu(linalg_gpu.potrf_gpu, np.stack([4 * np.eye(3), -np.eye(3)]), out_shape=(2, 3, 3), attrs=(True,))
    np.testing.assert_allclose(got[0], 2 * np.eye(3))
    assert np.isnan(got[1, 0, 0])


@pytest.mark.parametrize("name,lower,transpose,rightside",
                         list(itertools.product(["trsm", "trmm"], [True, False], [True, False], [True, False])))
def test_triangular_matches_numpy(name, lower, transpose, rightside):
    rng = np.random.default_rng(1)
    n, cols = 5, 3
    tri = rng.uniform(-1, 1, (2, n, n)) + 3 * np.eye(n)
    tri = np.tril(tri) if lower else np.triu(tri)
    b = rng.standard_normal((2,) + ((cols, n) if rightside else (n, cols)))
    got = _on_gpu(getattr(linalg_gpu, f"{name}_gpu"), _nan_outside(tri, lower), b, out_shape=b.shape,
                  attrs=(lower, transpose, rightside, -1.5))
    np.testing.assert_allclose(got, _reference(name, tri, b, lower, transpose, rightside, -1.5), rtol=1e-12,
                               atol=1e-12)


@pytest.mark.parametrize("lower", [True, False])
def test_potri_matches_numpy(lower):
    rng = np.random.default_rng(2)
    tri = rng.uniform(-1, 1, (2, 4, 4)) + 3 * np.eye(4)
    tri = np.tril(tri) if lower else np.triu(tri)
    want = np.linalg.inv(tri @ np.swapaxes(tri, -1, -2) if lower else np.swapaxes(tri, -1, -2) @ tri)
    got = _on_gpu(linalg_gpu.potri_gpu, _nan_outside(tri, lower), out_shape=tri.shape, attrs=(lower,))
    np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-11)


@pytest.mark.parametrize("transpose", [True, False])
def test_syrk_matches_numpy(transpose):
    a = np.random.default_rng(3).standard_normal((2, 3, 5))
    want = -0.5 * (np.swapaxes(a, -1, -2) @ a if transpose else a @ np.swapaxes(a, -1, -2))
    got = _on_gpu(linalg_gpu.syrk_gpu, a, out_shape=want.shape, attrs=(transpose, -0.5))
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_sumlogdiag_matches_numpy_including_logs_domain():
    a = np.random.default_rng(4).uniform(0.5, 2, (4, 3, 3))
    a[1, 1, 1], a[2, 2, 2] = 0, -1  # log 0 = -inf, log of a negative number NaN, as NumPy's
    with np.errstate(divide="ignore", invalid="ignore"):
        want = np.log(np.diagonal(a, axis1=-2, axis2=-1)).sum(-1)
    got = _on_gpu(linalg_gpu.sumlogdiag_gpu, a, out_shape=(4,))
    np.testing.assert_allclose(got, want, rtol=1e-12)
