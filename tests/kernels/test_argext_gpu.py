"""argmax/argmin of kernels.argext_gpu against NumPy's (first occurrence, first NaN), in the simulator."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import cuda

from mxcy.kernels.argext_gpu import arg_extreme_gpu
from mxcy.kernels.common import REQ_ADD, REQ_NULL, REQ_WRITE

pytestmark = pytest.mark.cuda


def run(x, n, inner, is_max, req, old):
    out = cuda.to_device(old)
    arg_extreme_gpu(cuda.to_device(x.reshape(-1)), out, n, inner, is_max, req)
    return out.copy_to_host()


def check(x, is_max, req=REQ_WRITE):
    """x (outer, n, inner) searched along axis 1; the index is stored in x's dtype, as the op does."""
    outer, n, inner = x.shape
    old = np.linspace(-1, 1, outer * inner).astype(x.dtype)
    found = (np.argmax if is_max else np.argmin)(x, axis=1).reshape(-1).astype(x.dtype)
    want = {REQ_NULL: old, REQ_WRITE: found, REQ_ADD: old + found}[req]
    np.testing.assert_array_equal(run(x, n, inner, is_max, req, old), want)


@settings(max_examples=8)
@given(st.integers(1, 3), st.integers(1, 40), st.integers(1, 3), st.booleans(),
       st.sampled_from([np.float32, np.float64, np.int32]), st.sampled_from([REQ_WRITE, REQ_ADD, REQ_NULL]),
       st.floats(0, 0.3), st.integers(0, 2 ** 16))
def test_matches_numpy_with_ties_and_nans(outer, n, inner, is_max, dtype, req, nan_share, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 3, (outer, n, inner)).astype(dtype)  # few values: many ties
    if dtype != np.int32:
        x[rng.random(x.shape) < nan_share] = np.nan
    check(x, is_max, req)


@pytest.mark.parametrize("is_max", [True, False])
def test_the_first_of_several_nans_and_ties_win(is_max):
    x = np.array([[1, 5, np.nan, 5, np.nan, -3, -3]], np.float32)[:, :, None]
    check(x, is_max)
    check(np.array([[2, 5, 5, -3, -3, 5, -3]], np.float64)[:, :, None], is_max)
    check(np.array([[-np.inf, -np.inf, np.inf, np.inf]], np.float64)[:, :, None], is_max)


def test_rows_longer_than_a_block():
    # 300 items: the 256 x-threads of a block each see one or two, and the tree decides between them.
    x = np.zeros((1, 300, 1))
    x[0, 270] = x[0, 290] = 1.0
    check(x, True)
    check(-x, False)
