"""blas_cpu.matmul through NumPy's OpenBLAS and through its np.dot fallback, against a float64 NumPy product."""
import numpy as np
import pytest

from mxcy.kernels import blas_cpu


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("transpose_b", [False, True])
@pytest.mark.parametrize("through_blas", [True, False])
def test_matmul_matches_numpy(dtype, transpose_b, through_blas):
    if through_blas and not blas_cpu.AVAILABLE:
        pytest.skip("NumPy's BLAS is not scipy-openblas64 here")
    rng = np.random.default_rng(0)
    a = rng.standard_normal((5, 7)).astype(dtype)
    b = rng.standard_normal((3, 7) if transpose_b else (7, 3)).astype(dtype)
    out = np.full((5, 3), np.nan, dtype)
    blas_cpu.matmul(blas_cpu.gemm_of(dtype), through_blas, a, b, out, transpose_b, dtype(1))
    want = a.astype(np.float64) @ (b.T if transpose_b else b).astype(np.float64)
    np.testing.assert_allclose(out, want, rtol=1e-5 if dtype == np.float32 else 1e-12)


@pytest.mark.skipif(not blas_cpu.AVAILABLE, reason="NumPy's BLAS is not scipy-openblas64 here")
def test_local_thread_count_returns_the_previous_one():
    before = blas_cpu.LOCAL_THREADS(1)
    assert blas_cpu.LOCAL_THREADS(2) == 1
    assert blas_cpu.LOCAL_THREADS(before) == 2
