"""erfinv, digamma and fill_nan of kernels.unary_gpu against SciPy/NumPy in float64: the scalar formulas over
many values (compiled for the CPU, fast), the kernels on a few in the simulator (dtypes, requests)."""
import numba
import numpy as np
import pytest
from numba import cuda
from scipy.special import digamma, erfinv

from mxcy.kernels import unary_gpu as U
from mxcy.kernels.common import REQ_ADD, REQ_NULL, REQ_WRITE


@numba.njit
def _over(f, xs):
    out = np.empty_like(xs)
    for i in range(xs.size):
        out[i] = f(xs[i], 0.0)
    return out


def test_erfinv_matches_scipy_to_double_precision_up_to_the_ends():
    rng = np.random.default_rng(0)
    near_one = 1 - 10.0 ** -rng.uniform(0, 16, 5000)
    xs = np.concatenate([rng.uniform(-1, 1, 20000), near_one, -near_one, 10.0 ** -rng.uniform(0, 300, 500),
                         [np.nextafter(1, 0), np.nextafter(-1, 0), 0.5, np.nextafter(0.5, 0), 5e-324]])
    np.testing.assert_allclose(_over(U.erfinv, xs), erfinv(xs), rtol=4e-15, atol=0)


def test_erfinv_special_values():
    xs = np.array([1.0, -1.0, 1.5, -2.0, np.inf, np.nan, 0.0])
    np.testing.assert_array_equal(_over(U.erfinv, xs), erfinv(xs))


def test_digamma_matches_scipy():
    rng = np.random.default_rng(0)
    xs = np.concatenate([rng.uniform(-30, 30, 20000), rng.uniform(0, 3, 20000), 10.0 ** rng.uniform(-300, 300, 2000),
                         -10.0 ** rng.uniform(-300, 15, 2000), [1.4616321449683623, -0.504083008264455409]])
    # Within 1e-6 of a pole SciPy itself loses digits (its reflection rounds x - floor(x)); see the next test.
    xs = xs[np.abs(xs - np.round(xs)) > 1e-6]
    got, want = _over(U.digamma, xs), digamma(xs)
    np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-11)


def test_digamma_near_a_pole_is_minus_one_over_the_distance():
    # psi(x) = psi(x + 4) - 1/x - 1/(x + 1) - 1/(x + 2) - 1/(x + 3), x + 3 exact and dominant.
    x = -3 + 2.0 ** -40
    want = digamma(x + 4) - 1 / x - 1 / (x + 1) - 1 / (x + 2) - 1 / (x + 3)
    np.testing.assert_allclose(_over(U.digamma, np.array([x])), [want], rtol=1e-15)


def test_digamma_special_values():
    # MXNet 1.9.1's psi (printed through gammaln's float64 gradient): the largest double at the poles and -inf
    xs = np.array([0.0, -0.0, -1.0, -7.0, np.inf, -np.inf, np.nan, -1e300])
    top = np.finfo(np.float64).max
    np.testing.assert_array_equal(_over(U.digamma, xs), [top, top, top, top, np.inf, top, np.nan, top])


def _on_gpu(name, x, req, param=0.0, old=None):
    out = cuda.to_device(np.zeros_like(x) if old is None else old)
    U.unary_param_gpu(name, cuda.to_device(x), out, req, param)
    return out.copy_to_host()


@pytest.mark.cuda
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,ref,x", [
    ("erfinv", erfinv, [-0.999, -0.3, 0.0, 0.6, 1.0, np.nan]),
    ("_digamma", digamma, [-2.5, -0.5, 0.25, 1.4616, 3.0, 25.0]),  # the poles: test_digamma_special_values
])
def test_kernels_store_under_requests(dtype, name, ref, x):
    x = np.array(x, dtype)
    old = np.linspace(-1, 1, x.size).astype(dtype)
    want = ref(x.astype(np.float64)).astype(dtype)
    tol = dict(rtol=1e-6, atol=1e-7) if dtype == np.float32 else dict(rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(_on_gpu(name, x, REQ_WRITE), want, **tol)
    np.testing.assert_allclose(_on_gpu(name, x, REQ_ADD, old=old), old + want, **tol)
    np.testing.assert_array_equal(_on_gpu(name, x, REQ_NULL, old=old), old)


@pytest.mark.cuda
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fill_nan(dtype):
    x = np.array([1.5, np.nan, -np.inf, np.nan, 0.0], dtype)
    np.testing.assert_array_equal(_on_gpu("_fill_nan", x, REQ_WRITE, param=7.25),
                                  np.where(np.isnan(x), dtype(7.25), x))
    old = np.ones(5, dtype)
    np.testing.assert_array_equal(_on_gpu("_fill_nan", x, REQ_ADD, param=-1.0, old=old),
                                  old + np.where(np.isnan(x), dtype(-1.0), x))
