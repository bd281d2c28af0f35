"""kernels.sort_gpu against a NumPy lexsort reference (stable both ways, NaN largest), on tiny (outer, n, inner)
arrays in the simulator: values, positions, mask, requests, and the scratch path of long rows."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import cuda

from mxcy.kernels import sort_gpu as S
from mxcy.kernels.common import REQ_ADD, REQ_NULL, REQ_WRITE

pytestmark = pytest.mark.cuda


def order(x, ascend):
    """Positions sorting x (outer, n, inner) along axis 1: by NaN-ness (NaN largest), then value, then position."""
    rows = np.moveaxis(x, 1, -1)
    out = np.empty(rows.shape, np.int64)
    for r in np.ndindex(rows.shape[:-1]):
        nan = np.isnan(rows[r].astype(np.float64))
        filled = np.where(nan, 0, rows[r]).astype(np.float64)
        out[r] = np.lexsort((filled, nan) if ascend else (-filled, ~nan))
    return np.moveaxis(out, -1, 1)


def expected(x, ret_typ, k, ascend, olds, reqs, index_dtype):
    top = order(x, ascend)[:, :k]
    values = np.take_along_axis(x, top, 1)
    mask = np.zeros_like(x)
    np.put_along_axis(mask, top, 1, 1)
    fresh = {"value": [values], "indices": [top.astype(index_dtype)], "mask": [mask],
             "both": [values, top.astype(index_dtype)]}[ret_typ]
    return [{REQ_NULL: old, REQ_WRITE: new, REQ_ADD: old + new}[req] for old, new, req in zip(olds, fresh, reqs)]


def check(x, ret_typ, k, ascend, reqs, index_dtype=np.int64):
    outer, n, inner = x.shape
    top_shape = (outer, k, inner)
    shapes_types = {"value": [(top_shape, x.dtype)], "indices": [(top_shape, index_dtype)],
                    "mask": [(x.shape, x.dtype)], "both": [(top_shape, x.dtype), (top_shape, index_dtype)]}[ret_typ]
    olds = [np.linspace(-3, 3, int(np.prod(s))).reshape(s).astype(t) for s, t in shapes_types]
    outs = [cuda.to_device(o) for o in olds]
    S.sort_gpu(cuda.to_device(x), n, inner, k, ascend, ret_typ, outs, reqs)
    for got, want in zip(outs, expected(x, ret_typ, k, ascend, olds, reqs, index_dtype)):
        np.testing.assert_array_equal(got.copy_to_host(), want)


@settings(max_examples=12)
@given(st.integers(1, 2), st.integers(1, 12), st.integers(1, 2), st.data(), st.booleans(),
       st.sampled_from(["value", "indices", "mask", "both"]), st.sampled_from([np.float32, np.float64, np.int32]),
       st.lists(st.sampled_from([REQ_WRITE, REQ_ADD, REQ_NULL]), min_size=2, max_size=2), st.integers(0, 2 ** 16))
def test_matches_numpy_with_ties_and_nans(outer, n, inner, data, ascend, ret_typ, dtype, reqs, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(-2, 3, (outer, n, inner)).astype(dtype)  # few values: many ties
    if dtype != np.int32:
        x[rng.random(x.shape) < 0.2] = np.nan
        x[rng.random(x.shape) < 0.1] = -np.inf
    k = data.draw(st.integers(1, n))
    check(x, ret_typ, k, ascend, reqs, index_dtype=data.draw(st.sampled_from([np.int64, np.float32])))


@pytest.mark.parametrize("ascend", [True, False])
def test_equal_keys_keep_input_order_both_ways(ascend):
    x = np.array([2, 3, 1, 3, 1, np.nan, 3, np.nan], np.float32)[None, :, None]
    check(x, "both", 8, ascend, [REQ_WRITE, REQ_WRITE])


@pytest.mark.parametrize("n", [5, 8, 9, 17])
def test_rows_beyond_shared_memory_sort_in_scratch_rows(n, monkeypatch):
    monkeypatch.setattr(S, "SHARED_ITEMS", 4)
    monkeypatch.setattr(S, "MAX_SCRATCH_ROWS", 2)  # 3 rows: one block sorts two of them in turn
    x = np.random.default_rng(n).integers(0, 4, (3, n, 1)).astype(np.float64)
    check(x, "both", n - 1, False, [REQ_WRITE, REQ_ADD])
