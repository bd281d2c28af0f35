"""mx.test_utils: comparisons report the worst element, random helpers, numeric_grad, get_mnist."""
import gzip

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import mxcy as mx
from mxcy import test_utils as tu


def test_assert_almost_equal_reports_worst_element():
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    b = a.copy()
    b[1, 0] = 3.5
    b[0, 1] = 2.01
    with pytest.raises(AssertionError, match=r"Location of maximum error: \(1, 0\).*a=3.0.*b=3.5") as err:
        tu.assert_almost_equal(a, b, rtol=1e-3, atol=1e-3)
    assert "2 of 4 elements differ" in str(err.value)
    tu.assert_almost_equal(mx.nd.array(a), a)
    tu.assert_almost_equal(np.array([np.nan]), np.array([np.nan]), equal_nan=True)
    with pytest.raises(AssertionError, match="Shapes differ"):
        tu.assert_almost_equal(np.ones(2), np.ones((1, 2)), use_broadcast=False)


@given(hnp.arrays(np.float64, hnp.array_shapes(max_dims=3), elements=st.floats(-10, 10)))
def test_almost_equal_agrees_with_numpy(a):
    b = a + 1e-3
    assert tu.almost_equal(a, b, rtol=0, atol=2e-3) and not tu.almost_equal(a, b, rtol=0, atol=1e-4)
    assert tu.same(a, a.copy()) and not tu.same(a, b)


def test_default_tolerances_depend_on_dtype():
    assert tu.get_tols(np.ones(1, np.float16), np.ones(1, np.float16), None, None) == (1e-2, 1e-4)
    assert tu.get_tols(np.ones(1, np.float64), np.ones(1, np.float32), None, None) == (1e-5, 1e-20)
    assert tu.get_tols(np.ones(1, np.float32), np.ones(1), {np.dtype(np.float32): 0.5}, 0)[0] == 0.5


def test_assert_exception():
    tu.assert_exception(lambda: 1 / 0, ZeroDivisionError)
    with pytest.raises(AssertionError):
        tu.assert_exception(lambda: 1, ZeroDivisionError)


def test_default_context():
    assert tu.default_context() == mx.cpu()
    tu.set_default_context(mx.cpu(1))
    try:
        assert tu.default_context() == mx.cpu(1)
    finally:
        tu._default_ctx[0] = None


def test_random_shapes_and_arrays():
    for shape in (tu.rand_shape_2d(3, 4), tu.rand_shape_3d(2, 2, 2), tu.rand_shape_nd(4, 3)):
        assert all(d >= 1 for d in shape)
    a, b = tu.random_arrays((2, 3), (4,))
    assert a.shape == (2, 3) and b.shape == (4,) and a.dtype == np.float32
    csr = tu.rand_ndarray((5, 6), "csr", density=0.3)
    assert csr.stype == "csr" and csr.shape == (5, 6)
    rsp = tu.rand_ndarray((5, 6), "row_sparse", density=0.5)
    assert rsp.stype == "row_sparse"
    assert tu.rand_ndarray((2, 2), dtype=np.float64).dtype == np.float64


@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=3, max_side=4), elements=st.floats(-5, 5)),
       st.booleans())
def test_np_reduce(dat, keepdims):
    np.testing.assert_allclose(tu.np_reduce(dat, (0, -1), keepdims, np.sum),
                               np.sum(dat, axis=(0, dat.ndim - 1), keepdims=keepdims))


def test_numeric_grad_of_known_function():
    x = np.array([0.5, -1.0, 2.0])
    grads = tu.numeric_grad(lambda loc: np.sin(loc["x"]) * loc["x"], {"x": x}, eps=1e-6, dtype=np.float64)
    np.testing.assert_allclose(grads["x"], np.cos(x) * x + np.sin(x), rtol=1e-6)


def test_get_mnist_reads_local_files_only(tmp_path):
    with pytest.raises(mx.MXNetError, match="train-images-idx3-ubyte.*missing"):
        tu.get_mnist(str(tmp_path))
    images = np.arange(2 * 784, dtype=np.uint8)
    for prefix, n in (("train", 2), ("t10k", 2)):
        with gzip.open(tmp_path / f"{prefix}-images-idx3-ubyte.gz", "wb") as f:
            f.write(b"\0" * 16 + images[:n * 784].tobytes())
        (tmp_path / f"{prefix}-labels-idx1-ubyte").write_bytes(b"\0" * 8 + bytes([3, 7]))
    data = tu.get_mnist(str(tmp_path))
    assert data["train_data"].shape == (2, 1, 28, 28) and data["test_label"].tolist() == [3, 7]
    assert data["train_data"][0, 0, 0, 1] == pytest.approx(1 / 255)
