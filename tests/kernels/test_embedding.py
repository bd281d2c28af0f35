"""Embedding kernels against NumPy references (the row rule written with NumPy, gradients summed with np.add.at
in float64), CPU and simulated CUDA: repeated and out-of-range indices, NaN and infinite ones, req add."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numba import cuda

from mxcy.kernels import embedding as E
from mxcy.kernels.common import REQ_ADD, REQ_NULL, REQ_WRITE

DEVICES = [False, pytest.param(True, marks=pytest.mark.cuda)]


def ref_rows(data, n_rows):
    """Row per index: truncated toward zero, then clipped to [0, n_rows - 1]; float values x86 cannot convert to
    int64 (NaN, infinities, |v| >= 2**63) become int64's minimum, so row 0."""
    if data.dtype.kind != "f":
        return np.clip(data.astype(np.int64), 0, n_rows - 1)
    v = data.astype(np.float64)
    convertible = np.isfinite(v) & (np.abs(v) < 2.0 ** 63)
    return np.where(convertible, np.clip(np.trunc(np.where(convertible, v, 0)), 0, n_rows - 1), 0).astype(np.int64)


def run(gpu, data, weight, dy, out, dweight, req):
    """(out, dweight) from the forward and backward kernels under `req`, over copies of out and dweight."""
    out, dweight = out.copy(), dweight.copy()
    is_float = data.dtype.kind == "f"
    if gpu:
        d = [cuda.to_device(a) for a in (data, weight, dy, out, dweight)]
        E.embedding_fwd_gpu(d[0], d[1], d[3], is_float, req)
        E.embedding_bwd_gpu(d[0], d[2], d[4], is_float, req)
        return d[3].copy_to_host(), d[4].copy_to_host()
    E.embedding_fwd_cpu(data, weight, out, is_float, req)
    E.embedding_bwd_cpu(data, dy, dweight, is_float, req)
    return out, dweight


def check(gpu, data, weight, req, rng):
    n_rows, d = weight.shape
    dy = rng.standard_normal((data.size, d)).astype(weight.dtype)
    prior = weight.dtype.type(3) if req == REQ_ADD else weight.dtype.type(0)
    out0 = np.full((data.size, d), prior, weight.dtype)
    dw0 = np.full(weight.shape, prior, weight.dtype)
    out, dw = run(gpu, data, weight, dy, out0, dw0, req)
    rows = ref_rows(data, n_rows)
    want_dw = dw0.astype(np.float64)
    np.add.at(want_dw, rows, dy.astype(np.float64))
    np.testing.assert_array_equal(out, out0 + weight[rows])
    np.testing.assert_allclose(dw, want_dw, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("gpu", DEVICES)
@pytest.mark.parametrize("index_dtype", [np.int32, np.int64, np.float32, np.float64])
@pytest.mark.parametrize("req", [REQ_WRITE, REQ_ADD])
@given(n_rows=st.integers(1, 5), d=st.integers(1, 4), n=st.integers(1, 8), seed=st.integers(0, 2**32 - 1),
       weight_dtype=st.sampled_from([np.float32, np.float64, np.int32]))
def test_forward_backward(gpu, index_dtype, req, n_rows, d, n, seed, weight_dtype):
    rng = np.random.default_rng(seed)
    data = rng.integers(-3, n_rows + 3, n).astype(index_dtype)  # out of range both ways, repeats likely
    if np.dtype(index_dtype).kind == "f":
        data += rng.choice([0.0, 0.5, 0.99], n).astype(index_dtype) * np.sign(data)
    weight = (rng.standard_normal((n_rows, d)) * 10).astype(weight_dtype)
    check(gpu, data, weight, req, rng)


@pytest.mark.parametrize("gpu", DEVICES)
@pytest.mark.parametrize("index_dtype", [np.float32, np.float64])
def test_special_float_indices(gpu, index_dtype):
    big = np.nextafter(2.0 ** 63, 0, dtype=index_dtype)  # the largest float below 2**63: still clipped to the top
    data = np.array([np.nan, np.inf, -np.inf, 2.0 ** 63, 1e30, -1e30, big, -0.99, 0.99, 2.999, -2**63],
                    index_dtype)
    assert ref_rows(data, 4).tolist() == [0, 0, 0, 0, 0, 0, 3, 0, 0, 2, 0]
    check(gpu, data, np.arange(8.0).reshape(4, 2), REQ_WRITE, np.random.default_rng(0))


@pytest.mark.parametrize("gpu", DEVICES)
def test_repeated_index_gradients_add_up(gpu):
    data = np.array([2, 2, 2, 0, 2], np.int64)
    dy = np.arange(10.0).reshape(5, 2)
    _, dw = run(gpu, data, np.zeros((3, 2)), dy, np.zeros((5, 2)), np.zeros((3, 2)), REQ_WRITE)
    np.testing.assert_array_equal(dw, [[6, 7], [0, 0], [0 + 2 + 4 + 8, 1 + 3 + 5 + 9]])


def test_cpu_gradient_over_many_column_tasks_is_exact():
    # More columns than one CPU task takes: every task sums its columns in index order.
    rng = np.random.default_rng(1)
    data = rng.integers(0, 3, 20)
    weight = np.zeros((3, 150))
    check(False, data, weight, REQ_ADD, rng)


@pytest.mark.parametrize("gpu", DEVICES)
def test_req_null_writes_nothing(gpu):
    data = np.array([0, 1])
    out, dw = run(gpu, data, np.ones((2, 2)), np.ones((2, 2)), np.full((2, 2), 7.0), np.full((2, 2), 7.0), REQ_NULL)
    np.testing.assert_array_equal(out, 7.0)
    np.testing.assert_array_equal(dw, 7.0)
