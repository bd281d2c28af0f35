"""contrib.boolean_mask: NumPy's boolean selection, its gradient, and the same in a hybridized block (MXNet 1.9.1's
test_dynamic_shape)."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import mxcy as mx
from mxcy import gluon

NO_SPEC = {"_contrib_boolean_mask": "its output shape depends on index's values, so it runs through imperative "
                                    "(not invoke's shape inference); tested here"}


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2 ** 32 - 1))
def test_boolean_mask_matches_numpy_and_its_gradient(seed):
    rng = np.random.default_rng(seed)
    data = rng.standard_normal((int(rng.integers(1, 6)), 3))
    index = rng.integers(0, 2, size=len(data)).astype(np.float64)
    x = mx.nd.array(data, dtype="float64")
    x.attach_grad()
    head = rng.standard_normal((int(index.sum()), 3))
    with mx.autograd.record():
        y = mx.nd.contrib.boolean_mask(x, mx.nd.array(index, dtype="float64"))
    y.backward(mx.nd.array(head, dtype="float64"))
    np.testing.assert_array_equal(y.asnumpy(), data[index != 0])
    expected = np.zeros_like(data)
    expected[index != 0] = head  # each kept row's head gradient goes back to it
    np.testing.assert_array_equal(x.grad.asnumpy(), expected)


class _Masked(gluon.HybridBlock):
    def hybrid_forward(self, F, data, index):
        return F.contrib.boolean_mask(data, index) * 2


def test_hybridized_boolean_mask_as_mxnet():
    block = _Masked()
    block.hybridize()
    data = mx.nd.array([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    data.attach_grad()
    with mx.autograd.record():
        out = block(data, mx.nd.array([0, 1, 1]))
    out.backward()
    np.testing.assert_array_equal(out.asnumpy(), [[8, 10, 12], [14, 16, 18]])
    np.testing.assert_array_equal(data.grad.asnumpy(), [[0] * 3, [2] * 3, [2] * 3])
    sym = mx.sym.contrib.boolean_mask(mx.sym.var("data"), mx.sym.var("index"))
    assert sym.list_arguments() == ["data", "index"] and '"op": "_contrib_boolean_mask"' in sym.tojson()


def test_boolean_mask_errors():
    with pytest.raises(mx.MXNetError, match="axis=1"):
        mx.nd.contrib.boolean_mask(mx.nd.ones((2, 2)), mx.nd.ones(2), axis=1)
    with pytest.raises(mx.MXNetError, match=r"\(3, 2\).*\(2,\)"):
        mx.nd.contrib.boolean_mask(mx.nd.ones((3, 2)), mx.nd.ones(2))


def test_boolean_mask_on_the_gpu_equals_the_cpu():
    data = np.arange(12.0).reshape(4, 3)
    index = np.array([1, 0, 0, 1], np.float32)
    x = mx.nd.array(data, ctx=mx.gpu(0))
    x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.contrib.boolean_mask(x, mx.nd.array(index, ctx=mx.gpu(0)))
    y.backward()
    assert y.context == mx.gpu(0)
    np.testing.assert_array_equal(y.asnumpy(), data[[0, 3]])
    np.testing.assert_array_equal(x.grad.asnumpy(), np.array([[1] * 3, [0] * 3, [0] * 3, [1] * 3]))
