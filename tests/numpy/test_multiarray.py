"""mx.np.ndarray: operators against NumPy, MXNet 1.9.1's NumPy dtype rules (values MXNet printed), 0-d results,
reshape's errors, conversions, refused legacy methods and autograd through mx.np arrays."""
import numpy as onp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import mxcy as mx
from mxcy import np

# (operator, NumPy reference); comparisons give booleans
OPERATORS = [
    (lambda a, b: a + b, onp.add), (lambda a, b: a - b, onp.subtract), (lambda a, b: a * b, onp.multiply),
    (lambda a, b: a / b, onp.divide), (lambda a, b: a ** b, onp.power), (lambda a, b: a == b, onp.equal),
    (lambda a, b: a != b, onp.not_equal), (lambda a, b: a > b, onp.greater), (lambda a, b: a >= b, onp.greater_equal),
    (lambda a, b: a < b, onp.less), (lambda a, b: a <= b, onp.less_equal),
]
_values = st.floats(0.5, 4.0, width=32)


@settings(max_examples=8, deadline=None)
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
       data=st.data())
@pytest.mark.parametrize("operator, reference", OPERATORS)
def test_operators_broadcast_as_numpy(operator, reference, shapes, data):
    a, b = (data.draw(hnp.arrays(onp.float32, s, elements=_values)) for s in shapes.input_shapes)
    result = operator(np.array(a), np.array(b))
    expected = reference(a.astype(onp.float64), b.astype(onp.float64))
    assert isinstance(result, np.ndarray) and result.shape == expected.shape
    assert result.dtype == (onp.bool_ if expected.dtype == onp.bool_ else onp.float32)
    onp.testing.assert_allclose(result.asnumpy(), expected, rtol=1e-5)
    scalar = operator(np.array(a), 2.0)
    onp.testing.assert_allclose(scalar.asnumpy(), reference(a.astype(onp.float64), 2.0), rtol=1e-5)
    reflected = operator(3.0, np.array(a))
    onp.testing.assert_allclose(reflected.asnumpy(), reference(3.0, a.astype(onp.float64)), rtol=1e-5)


_INT = onp.array([1, 2, 3], dtype=onp.int32)


# what MXNet 1.9.1 printed for these (an integer array takes a scalar in its own type: 1.5 counts as 1)
@pytest.mark.parametrize("compute, values, dtype", [
    (lambda i: i + 1.5, [2, 3, 4], onp.int32),
    (lambda i: i * 1.5, [1, 2, 3], onp.int32),
    (lambda i: i - 0.5, [1, 2, 3], onp.int32),
    (lambda i: i ** 0.5, [1, 1, 1], onp.int32),
    (lambda i: i == 2.5, [False, True, False], onp.bool_),
    (lambda i: i / 2, [0.5, 1.0, 1.5], onp.float32),
    (lambda i: 7 / i, [7.0, 3.5, 7 / 3], onp.float32),
    (lambda i: i / i, [1.0, 1.0, 1.0], onp.float32),
    (lambda i: -i, [-1, -2, -3], onp.int32),
    (lambda i: i + np.array([1, 2, 3], dtype="int64"), [2, 4, 6], onp.int64),
    (lambda i: i + np.array([1, 2, 3], dtype="float16"), [2, 4, 6], onp.float16),
    (lambda i: i.astype("float16") + np.ones(3), [2, 3, 4], onp.float32),
    (lambda i: (i > 1) + 1, [1, 2, 2], onp.int64),
    (lambda i: (i > 1) + (i > 2), [False, True, True], onp.bool_),
])
def test_dtype_rules_are_mxnets(compute, values, dtype):
    result = compute(np.array(_INT, dtype="int32"))
    assert result.dtype == dtype
    onp.testing.assert_allclose(result.asnumpy().astype(onp.float64), onp.array(values, dtype=onp.float64),
                                rtol=1e-6)


def test_full_reductions_and_integer_indexing_give_0d_arrays():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    for value, expected in ((x.sum(), 10.0), (x[0, 1], 2.0), (x.max(), 4.0), (np.mean(x), 2.5)):
        assert isinstance(value, np.ndarray) and value.shape == () and value.item() == expected
    assert x[1].shape == (2,) and x[:, 1].asnumpy().tolist() == [2.0, 4.0]
    assert float(np.array(2.0)) == 2.0 and int(np.array(3.0)) == 3 and bool(np.array([1.0]))
    assert x.item(3) == 4.0 and x.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    with pytest.raises(ValueError, match="size 1"):
        x.item()
    with pytest.raises(TypeError, match="unsized"):
        len(np.array(1.0))
    with pytest.raises(ValueError, match="ambiguous"):
        bool(x)


def test_reshape_is_numpys_with_mxnets_errors():
    a = np.ones((10, 10))
    assert a.reshape((-1,)).shape == (100,) and a.reshape(4, -1).shape == (4, 25)
    assert a.reshape((2, 5, 10)).shape == (2, 5, 10) and np.ones((0, 3)).reshape(3, 0).shape == (3, 0)
    for bad in ((1,), (-1, 3), (-1, -1), (0, -1), (-2, 50)):
        with pytest.raises(mx.MXNetError, match="reshape"):
            a.reshape(bad)
        with pytest.raises(mx.MXNetError, match="reshape"):
            np.reshape(a, bad)


def test_reshape_is_a_view_and_transposes_copy():
    a = np.zeros((2, 3))
    view = a.reshape(-1)
    view[1] = 5.0
    assert a.asnumpy()[0, 1] == 5.0
    assert a.T.shape == (3, 2) and np.ones((2, 3, 4)).T.shape == (4, 3, 2)
    assert np.ones((2, 3, 4)).transpose(1, 0, 2).shape == (3, 2, 4)


def test_repr_and_str_as_mxnet():
    # strings MXNet 1.9.1 printed
    assert repr(np.array([[1, 2], [3, 4]])) == "array([[1., 2.],\n       [3., 4.]])"
    assert repr(np.array(3.0)) == "array(3.)"
    assert repr(np.arange(3, dtype="int32")) == "array([0, 1, 2], dtype=int32)"
    assert str(np.array([1, 2])) == "[1. 2.]"


def test_conversions_share_memory():
    legacy = mx.nd.ones((2, 2))
    as_np = legacy.as_np_ndarray()
    assert type(as_np) is np.ndarray and as_np.dtype == onp.float32
    back = as_np.as_nd_ndarray()
    assert type(back) is mx.nd.NDArray and as_np.as_np_ndarray() is as_np
    back[0, 0] = 7.0
    assert legacy.asnumpy()[0, 0] == 7.0 and as_np.asnumpy()[0, 0] == 7.0
    assert isinstance(as_np.asnumpy(), onp.ndarray) and type(as_np.copy()) is np.ndarray
    assert as_np.astype("int32").dtype == onp.int32 and as_np.astype("float32", copy=False) is as_np


def test_mixing_with_legacy_arrays_and_floor_division_are_type_errors():
    a = np.ones((2,))
    # MXNet 1.9.1: "type <class 'mxnet.ndarray.ndarray.NDArray'> not supported"; no // on mx.np arrays
    with pytest.raises(TypeError, match="not supported"):
        a + mx.nd.ones((2,))
    with pytest.raises(TypeError, match="not supported"):
        a + onp.ones(2)
    with pytest.raises(TypeError):
        a // 2


@pytest.mark.parametrize("method", ["exp", "sqrt", "abs", "tile", "flip", "expand_dims", "asscalar", "tostype"])
def test_legacy_fluent_methods_are_refused_as_mxnet(method):
    with pytest.raises(AttributeError, match=method):
        getattr(np.ones((2,)), method)()


def test_inplace_operators_write_the_array():
    a = np.ones((2, 2))
    same = a
    a += 2
    a *= np.array([1.0, 2.0])
    assert a is same and a.asnumpy().tolist() == [[3.0, 6.0], [3.0, 6.0]]


@settings(max_examples=10, deadline=None)
@given(hnp.arrays(onp.float64, hnp.array_shapes(max_dims=3, max_side=4), elements=st.floats(-2, 2)))
def test_autograd_through_np_arrays(values):
    # d/dx mean(exp(x) * x) = exp(x) (1 + x) / n, in float64
    x = np.array(values)
    x.attach_grad()
    with mx.autograd.record():
        y = (np.exp(x) * x).mean()
    y.backward()
    assert type(x.grad) is np.ndarray and y.shape == ()
    onp.testing.assert_allclose(x.grad.asnumpy(), onp.exp(values) * (1 + values) / values.size, rtol=1e-10)


def test_legacy_array_viewed_as_np_keeps_its_gradient():
    a = mx.nd.array([1.0, 2.0, 3.0])
    a.attach_grad()
    with mx.autograd.record():
        y = (a.as_np_ndarray() ** 2).sum()
    y.backward()
    assert a.grad.asnumpy().tolist() == [2.0, 4.0, 6.0]


def test_boolean_masks_select_and_assign_as_numpy():
    x = onp.arange(12, dtype=onp.int32).reshape(3, 4)
    a = np.array(x, dtype="int32")
    onp.testing.assert_array_equal(a[a > 5].asnumpy(), x[x > 5])
    rows = onp.array([True, False, True])
    onp.testing.assert_array_equal(a[np.array(rows).astype("bool")].asnumpy(), x[rows])
    # what MXNet 1.9.1 gave for a 0-d mask: a new leading axis of length 1 or 0
    assert a[np.array(True).astype("bool")].shape == (1, 3, 4) and a[np.array(False).astype("bool")].shape == (0, 3, 4)
    a[a > 5] = -1
    x[x > 5] = -1
    onp.testing.assert_array_equal(a.asnumpy(), x)
    a[np.array(rows).astype("bool")] = 7
    x[rows] = 7
    onp.testing.assert_array_equal(a.asnumpy(), x)
    with pytest.raises(IndexError, match="boolean index"):
        a[np.ones((2,)).astype("bool")]
    cube = onp.arange(8, dtype=onp.int32).reshape(2, 2, 2)
    mask = onp.array([[False, True], [True, False]])
    for key in ((slice(None), mask), (mask, slice(None)), (0, mask), (mask, 1)):
        mx_key = tuple(np.array(k).astype("bool") if isinstance(k, onp.ndarray) else k for k in key)
        onp.testing.assert_array_equal(np.array(cube, dtype="int32")[mx_key].asnumpy(), cube[key])
        written, expected = np.array(cube, dtype="int32"), cube.copy()
        written[mx_key] = -5
        expected[key] = -5
        onp.testing.assert_array_equal(written.asnumpy(), expected)


def test_values_given_as_lists_are_written():
    a = np.zeros((2, 3))
    a[0] = [1, 2, 3]
    a[1, :2] = (4, 5)
    assert a.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 0.0]]


def test_format_as_mxnet():
    # MXNet 1.9.1: a 0-d array formats as its value; an n-d array takes no format spec
    assert "{:0.3g}".format(np.array(onp.pi)) == "3.14" and "{}".format(np.array([1.5])) == "[1.5]"
    with pytest.raises(TypeError, match="format_spec"):
        "{:30}".format(np.array([1.0]))


def test_functions_never_change_the_class_of_arrays_they_were_given():
    legacy = mx.nd.ones((2,))
    out = mx.nd.zeros((2,))
    assert type(np.concatenate([legacy])) is np.ndarray and type(legacy) is mx.nd.NDArray
    assert np.add(np.ones((2,)), 1.0, out=out) is out and type(out) is mx.nd.NDArray
    assert out.asnumpy().tolist() == [2.0, 2.0]
