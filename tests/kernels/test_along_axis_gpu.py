"""Gather and scatter-add along an axis (kernels.along_axis_gpu) against np.take_along_axis / np.add.at, in the
simulator: repeated, negative and float indices, requests, and out-of-range indices reported."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import cuda

from mxcy.kernels.along_axis_gpu import gather_axis_gpu, scatter_axis_gpu
from mxcy.kernels.common import REQ_ADD, REQ_NULL, REQ_WRITE

pytestmark = pytest.mark.cuda
REQS = st.sampled_from([REQ_WRITE, REQ_ADD, REQ_NULL])


def under(req, old, new):
    return {REQ_NULL: old, REQ_WRITE: new, REQ_ADD: old + new}[req]


def gather(data, index, req, old):
    out = cuda.to_device(old)
    ok = gather_axis_gpu(cuda.to_device(data), cuda.to_device(index), out, data.shape[1], index.shape[1],
                         data.shape[2], req)
    return ok, out.copy_to_host()


def scatter(data, index, size, req, old):
    out = cuda.to_device(old)
    ok = scatter_axis_gpu(cuda.to_device(data), cuda.to_device(index), out, data.shape[1], size, data.shape[2], req)
    return ok, out.copy_to_host()


@settings(max_examples=8)
@given(st.integers(1, 2), st.integers(1, 4), st.integers(1, 3), st.integers(1, 2), REQS,
       st.sampled_from([np.float32, np.float64, np.int32]), st.sampled_from([np.int64, np.int32, np.float32]),
       st.integers(0, 2 ** 16))
def test_gather_matches_take_along_axis(outer, n, k, inner, req, dtype, index_dtype, seed):
    rng = np.random.default_rng(seed)
    data = rng.integers(-9, 10, (outer, n, inner)).astype(dtype)
    index = rng.integers(-n, n, (outer, k, inner))  # negative ones count from the end
    old = rng.integers(-9, 10, index.shape).astype(dtype)
    ok, got = gather(data, index.astype(index_dtype), req, old)
    assert ok
    np.testing.assert_array_equal(got, under(req, old, np.take_along_axis(data, index, 1)))


@settings(max_examples=8)
@given(st.integers(1, 2), st.integers(1, 5), st.integers(1, 3), st.integers(1, 2), REQS,
       st.sampled_from([np.float32, np.float64, np.int32]), st.sampled_from([np.int64, np.float64]),
       st.integers(0, 2 ** 16))
def test_scatter_adds_like_add_at(outer, k, size, inner, req, dtype, index_dtype, seed):
    rng = np.random.default_rng(seed)
    data = rng.uniform(-2, 2, (outer, k, inner)).astype(dtype)
    index = rng.integers(-size, size, data.shape)  # repeats must accumulate
    old = rng.uniform(-2, 2, (outer, size, inner)).astype(dtype)
    want = np.zeros(old.shape, np.float64)
    np.add.at(want, (np.arange(outer)[:, None, None], index, np.arange(inner)), data.astype(np.float64))
    ok, got = scatter(data, index.astype(index_dtype), size, req, old)
    assert ok
    np.testing.assert_allclose(got, under(req, old, want.astype(dtype)), rtol=1e-6, atol=1e-6)


def test_float_indices_truncate():
    data = np.arange(4.0)[None, :, None]
    ok, got = gather(data, np.array([2.7, -0.5, 1.2])[None, :, None], REQ_WRITE, np.zeros((1, 3, 1)))
    assert ok
    np.testing.assert_array_equal(got.ravel(), [2.0, 0.0, 1.0])


@pytest.mark.parametrize("bad", [4, -5, np.nan])
def test_out_of_range_indices_are_reported(bad):
    data = np.arange(4.0)[None, :, None]
    index = np.array([1.0, bad])[None, :, None]
    assert not gather(data, index, REQ_WRITE, np.zeros((1, 2, 1)))[0]
    old = np.ones((1, 4, 1))
    ok, got = scatter(np.ones((1, 2, 1)), index, 4, REQ_WRITE, old)
    assert not ok
    np.testing.assert_array_equal(got, old)  # left as it was
