"""kernels/linalg_factor_gpu in the CUDA simulator (or on a GPU) against SciPy/NumPy float64 references: getrf's
factors and pivots, det and slogdet (with a singular matrix and one that needs row swaps), the inverse, gelqf's LAPACK
signs (rows whose tail is zero included) and syevd's ascending eigenvalues and sign convention."""
import numpy as np
import pytest
import scipy.linalg as sl
from numba import cuda

from mxcy.kernels import linalg_factor_gpu
from tests.ops.test_linalg import _gelqf, _syevd

pytestmark = pytest.mark.cuda


def _run(fn, a, out_shapes, dtypes=None):
    """fn(a, *outputs) on the device, NaN-filled float outputs (int32 where dtypes says so); outputs as NumPy."""
    dtypes = dtypes or [a.dtype] * len(out_shapes)
    outs = [cuda.to_device(np.full(s, np.nan, d) if np.dtype(d).kind == "f" else np.zeros(s, d))
            for s, d in zip(out_shapes, dtypes)]
    fn(cuda.to_device(np.ascontiguousarray(a)), *outs)
    return [o.copy_to_host() for o in outs]


_SWAPS = [[0, 2, 1, 0], [1, 0, 0, 3], [0, 0, 4, 1], [2, 1, 0, 0]]  # a zero first pivot: rows must swap


def _matrices(rng, batch=(3,)):
    """4 x 4 random matrices, the first of them _SWAPS."""
    a = rng.standard_normal(batch + (4, 4))
    a.reshape(-1, 4, 4)[0] = _SWAPS
    return a


def test_det_factors_and_pivots_equal_lapack_getrf():
    a = _matrices(np.random.default_rng(0))
    det, lu, pivots = _run(linalg_factor_gpu.det_gpu, a, [(3,), a.shape, (3, 4)], [a.dtype, a.dtype, np.int32])
    for k in range(3):
        want_lu, want_piv = sl.lu_factor(a[k])
        np.testing.assert_allclose(lu[k], want_lu, rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(pivots[k], want_piv + 1)
    np.testing.assert_allclose(det, np.linalg.det(a), rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_slogdet_and_det_of_a_singular_matrix(dtype):
    a = np.stack([_matrices(np.random.default_rng(1), ()), np.ones((4, 4)), np.diag([-1.0, 2, -3, 4])]).astype(dtype)
    sign, logabs, _, _ = _run(linalg_factor_gpu.slogdet_gpu, a, [(3,), (3,), a.shape, (3, 4)],
                              [dtype, dtype, dtype, np.int32])
    want_sign, want_log = np.linalg.slogdet(a.astype(np.float64))
    np.testing.assert_array_equal(sign, want_sign)
    np.testing.assert_allclose(logabs[[0, 2]], want_log[[0, 2]], rtol=1e-5)
    assert logabs[1] == -np.inf
    det = _run(linalg_factor_gpu.det_gpu, a, [(3,), a.shape, (3, 4)], [dtype, dtype, np.int32])[0]
    np.testing.assert_allclose(det, [np.linalg.det(a[0].astype(np.float64)), 0, 24], rtol=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_inverse_matches_numpy(dtype):
    a = _matrices(np.random.default_rng(2), (2, 3)).astype(dtype)
    (got,) = _run(linalg_factor_gpu.inverse_gpu, a, [a.shape])
    np.testing.assert_allclose(got, np.linalg.inv(a.astype(np.float64)), rtol=1e-4 if dtype == np.float32 else 1e-10,
                               atol=1e-4 if dtype == np.float32 else 1e-10)


@pytest.mark.parametrize("rows,cols", [(3, 5), (4, 4), (1, 3)])
def test_gelqf_matches_lapack(rows, cols):
    a = np.random.default_rng(3).standard_normal((2, rows, cols))
    a[1, -1, rows:] = 0  # the last row's tail past L is zero: no reflector (tau 0) when rows == cols
    a[1, -1, rows - 1] = -abs(a[1, -1, rows - 1])  # a negative alpha stays negative without a reflector
    q, low = _run(linalg_factor_gpu.gelqf_gpu, a, [a.shape, a.shape[:-1] + (rows,)])
    want_q, want_low = _gelqf(a)
    np.testing.assert_allclose(q, want_q, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(low, want_low, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype,tol", [(np.float32, 1e-4), (np.float64, 1e-10)])
def test_syevd_matches_lapack_with_mxnets_signs(dtype, tol):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 5, 5))
    spd = x @ np.swapaxes(x, -1, -2) + np.eye(5)
    spd[0] = np.diag([3.0, -1.0, 2.0, 0.5, 7.0])  # already diagonal: only the sort and the signs act
    junk = np.triu(rng.standard_normal(spd.shape), 1)  # the upper triangle is not read
    u, lam = _run(linalg_factor_gpu.syevd_gpu, (np.tril(spd) + junk).astype(dtype), [spd.shape, spd.shape[:-1]])
    want_u, want_lam = _syevd(spd)
    np.testing.assert_allclose(lam, want_lam, rtol=tol, atol=tol * 10)
    np.testing.assert_allclose(u, want_u, rtol=tol, atol=tol * 10)
