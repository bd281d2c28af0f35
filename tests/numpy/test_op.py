"""mx.np's array functions against NumPy on hypothesis-drawn inputs (float64 references), MXNet 1.9.1's dtypes
where they differ from NumPy's, and their errors."""
import numpy as onp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import mxcy as mx
from mxcy import np

_shapes = hnp.array_shapes(min_dims=0, max_dims=3, max_side=4)


def _draw(data, shape=_shapes, low=-3.0, high=3.0, dtype=onp.float32):
    return data.draw(hnp.arrays(dtype, shape, elements=st.floats(low, high, width=32)))


# (name, lowest and highest input) for the element-wise functions of one array
UNARY = [("exp", -3, 3), ("expm1", -3, 3), ("log", 0.125, 5), ("log2", 0.125, 5), ("log10", 0.125, 5),
         ("log1p", 0, 5), ("sqrt", 0, 5), ("cbrt", -5, 5), ("square", -3, 3), ("abs", -3, 3), ("absolute", -3, 3),
         ("sign", -3, 3), ("sin", -3, 3), ("cos", -3, 3), ("tan", -1, 1), ("arcsin", -0.875, 0.875),
         ("arccos", -0.875, 0.875), ("arctan", -3, 3), ("sinh", -2, 2), ("cosh", -2, 2), ("tanh", -3, 3),
         ("arcsinh", -3, 3), ("arccosh", 1.125, 4), ("arctanh", -0.875, 0.875), ("floor", -3, 3), ("ceil", -3, 3),
         ("trunc", -3, 3), ("rint", -3, 3), ("fix", -3, 3), ("negative", -3, 3), ("reciprocal", 0.5, 3),
         ("degrees", -3, 3), ("radians", -90, 90)]


@settings(max_examples=5, deadline=None)
@given(data=st.data())
@pytest.mark.parametrize("name, low, high", UNARY)
def test_unary_functions_as_numpy(name, low, high, data):
    x = _draw(data, low=low, high=high)
    result = getattr(np, name)(np.array(x))
    assert type(result) is np.ndarray and result.dtype == onp.float32 and result.shape == x.shape
    onp.testing.assert_allclose(result.asnumpy(), getattr(onp, name)(x.astype(onp.float64)), rtol=1e-5,
                                atol=1e-6)
    assert getattr(np, name)(float(low)) == getattr(onp, name)(float(low))  # numbers: NumPy's answer


def test_unary_functions_keep_integer_types_as_mxnet():
    # MXNet 1.9.1 gave int32 for every unary function of an int32 array
    assert np.sqrt(np.array([4, 9], dtype="int32")).asnumpy().tolist() == [2, 3]
    assert np.exp(np.array([0, 1], dtype="int32")).dtype == onp.int32


@pytest.mark.parametrize("name", ["add", "subtract", "multiply", "divide", "true_divide", "mod", "remainder",
                                  "power", "maximum", "minimum", "equal", "not_equal", "greater",
                                  "greater_equal", "less", "less_equal"])
@settings(max_examples=5, deadline=None)
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
       data=st.data())
def test_binary_functions_as_numpy(name, shapes, data):
    a, b = (_draw(data, s, 0.5, 3.0) for s in shapes.input_shapes)
    result = getattr(np, name)(np.array(a), np.array(b))
    expected = getattr(onp, name)(a.astype(onp.float64), b.astype(onp.float64))
    onp.testing.assert_allclose(result.asnumpy().astype(onp.float64), expected, rtol=1e-5)
    onp.testing.assert_allclose(getattr(np, name)(np.array(a), 2.0).asnumpy().astype(onp.float64),
                                getattr(onp, name)(a.astype(onp.float64), 2.0), rtol=1e-5)
    assert getattr(np, name)(3.0, 2.0) == getattr(onp, name)(3.0, 2.0)


def test_ufunc_keywords_are_checked_as_mxnet():
    x = np.ones((2,))
    assert np.exp(x, casting="same_kind").shape == (2,)
    with pytest.raises(TypeError, match="invalid keyword"):
        np.exp(x, axis=0)
    with pytest.raises(NotImplementedError, match="not implemented yet"):
        np.add(x, x, casting="unsafe")


def _axis_and_keepdims(data, ndim):
    axis = data.draw(st.none() | st.integers(-ndim, ndim - 1)) if ndim else None
    return axis, data.draw(st.booleans())


@settings(max_examples=8, deadline=None)
@given(data=st.data())
@pytest.mark.parametrize("name", ["sum", "mean", "prod", "max", "min", "amax", "amin", "std", "var", "all", "any"])
def test_reductions_as_numpy(name, data):
    x = _draw(data, hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), 0.5, 2.0)
    if name in ("all", "any"):
        x = (x > 1.2).astype(onp.float32)
    axis, keepdims = _axis_and_keepdims(data, x.ndim)
    result = getattr(np, name)(np.array(x), axis=axis, keepdims=keepdims)
    expected = getattr(onp, name)(x.astype(onp.float64), axis=axis, keepdims=keepdims)
    assert type(result) is np.ndarray and result.shape == onp.shape(expected)
    onp.testing.assert_allclose(result.asnumpy().astype(onp.float64), expected, rtol=1e-5, atol=1e-6)


def test_reduction_dtypes_and_options_as_mxnet():
    i = np.array([1, 2], dtype="int32")
    # what MXNet 1.9.1 printed: sum/max/std keep int32, mean is float32, a boolean sum int64
    assert np.sum(i).dtype == onp.int32 and np.max(i).dtype == onp.int32 and np.std(i).dtype == onp.int32
    assert np.mean(np.array([1, 2], dtype="int64")).dtype == onp.float32
    assert np.sum(np.array([1.0, 0.0, 1.0]) > 0).item() == 2 and np.all(np.ones((2,)) > 0).dtype == onp.bool_
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert np.std(x).item() == pytest.approx(1.118034, rel=1e-6)
    assert np.var(x, axis=0, ddof=1).asnumpy().tolist() == [2.0, 2.0]
    assert np.sum(x, initial=5.0).item() == 15.0 and np.sum(x, axis=()).shape == (2, 2)
    assert x.sum(axis=1, keepdims=True).shape == (2, 1)


@settings(max_examples=8, deadline=None)
@given(data=st.data())
def test_argmax_argmin_cumsum_sort_as_numpy(data):
    x = _draw(data, hnp.array_shapes(min_dims=1, max_dims=3, max_side=4))
    x = x + onp.arange(x.size, dtype=onp.float32).reshape(x.shape) * 1e-3  # no ties
    axis = data.draw(st.none() | st.integers(-x.ndim, x.ndim - 1))
    a = np.array(x)
    for name in ("argmax", "argmin"):
        result = getattr(np, name)(a, axis=axis)
        assert result.dtype == onp.int64
        onp.testing.assert_array_equal(result.asnumpy(), getattr(onp, name)(x, axis=axis))
    onp.testing.assert_allclose(np.cumsum(a, axis=axis).asnumpy(), onp.cumsum(x.astype(onp.float64), axis=axis),
                                rtol=1e-5, atol=1e-5)
    sort_axis = -1 if axis is None else axis
    onp.testing.assert_array_equal(np.sort(a, axis=sort_axis).asnumpy(), onp.sort(x, axis=sort_axis))
    onp.testing.assert_array_equal(np.argsort(a, axis=sort_axis).asnumpy(), onp.argsort(x, axis=sort_axis))


SHAPE_CASES = [
    (lambda m, x: m.transpose(x), (2, 3, 4)),
    (lambda m, x: m.transpose(x, (1, 0, 2)), (2, 3, 4)),
    (lambda m, x: m.swapaxes(x, 0, 2), (2, 3, 4)),
    (lambda m, x: m.moveaxis(x, 0, -1), (2, 3, 4)),
    (lambda m, x: m.moveaxis(x, [0, 1], [2, 0]), (2, 3, 4)),
    (lambda m, x: m.ravel(x), (2, 3)),
    (lambda m, x: m.squeeze(x), (1, 3, 1)),
    (lambda m, x: m.squeeze(x, axis=2), (1, 3, 1)),
    (lambda m, x: m.expand_dims(x, 1), (2, 3)),
    (lambda m, x: m.expand_dims(x, -1), ()),
    (lambda m, x: m.broadcast_to(x, (4, 2, 3)), (2, 3)),
    (lambda m, x: m.broadcast_to(x, (2, 3)), ()),
    (lambda m, x: m.flip(x), (2, 3)),
    (lambda m, x: m.flip(x, axis=1), (2, 3)),
    (lambda m, x: m.tile(x, (2, 1)), (2, 3)),
    (lambda m, x: m.repeat(x, 2), (2, 3)),
    (lambda m, x: m.repeat(x, 2, axis=1), (2, 3)),
    (lambda m, x: m.concatenate([x, x], axis=1), (2, 3)),
    (lambda m, x: m.concatenate([x, x], axis=None), (2, 3)),
    (lambda m, x: m.stack([x, x], axis=1), (2, 3)),
    (lambda m, x: m.vstack([x, x]), (3,)),
    (lambda m, x: m.hstack([x, x]), (2, 3)),
    (lambda m, x: m.clip(x, -1.0, 1.0), (2, 3)),
    (lambda m, x: m.clip(x, None, 0.5), (2, 3)),
    (lambda m, x: m.take(x, [0, 2], axis=1), (2, 3)),
    (lambda m, x: m.take(x, [5, 1]), (2, 3)),
    (lambda m, x: m.around(x, 1), (2, 3)),
    (lambda m, x: m.round(x), (2, 3)),
    (lambda m, x: m.where(x > 0, x, 0.0), (2, 3)),
    (lambda m, x: m.where(x > 0, 1.0, x), (2, 3)),
    (lambda m, x: m.copy(x), (2, 3)),
]


@settings(max_examples=4, deadline=None)
@given(data=st.data())
@pytest.mark.parametrize("call, shape", SHAPE_CASES)
def test_shape_and_selection_functions_as_numpy(call, shape, data):
    x = _draw(data, shape)
    result = call(np, np.array(x))
    expected = call(onp, x)
    assert type(result) is np.ndarray and result.shape == expected.shape
    onp.testing.assert_allclose(result.asnumpy(), expected, rtol=1e-6)


@pytest.mark.parametrize("sections, even", [(3, True), ([1, 4], True), (4, False), ([2, 9], False)])
def test_split_and_array_split_as_numpy(sections, even):
    x = onp.arange(12.0, dtype=onp.float32).reshape(2, 6)
    parts = (np.split if even else np.array_split)(np.array(x), sections, axis=1)
    expected = (onp.split if even else onp.array_split)(x, sections, axis=1)
    assert len(parts) == len(expected)
    for part, ref in zip(parts, expected):
        assert type(part) is np.ndarray
        onp.testing.assert_array_equal(part.asnumpy(), ref)
    with pytest.raises(ValueError, match="equal division"):
        np.split(np.array(x), 4, axis=1)


@pytest.mark.parametrize("shape_a, shape_b", [((), (3,)), ((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)),
                                              ((2, 3), (3, 4)), ((2, 2, 3), (3, 4)), ((2, 3), (5, 3, 4)),
                                              ((2, 2, 3), (4, 3, 2))])
def test_dot_as_numpy(shape_a, shape_b):
    rng = onp.random.default_rng(0)
    a, b = rng.uniform(-1, 1, shape_a).astype(onp.float32), rng.uniform(-1, 1, shape_b).astype(onp.float32)
    result = np.dot(np.array(a), np.array(b))
    expected = onp.dot(a.astype(onp.float64), b.astype(onp.float64))
    assert result.shape == expected.shape
    onp.testing.assert_allclose(result.asnumpy(), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shape_a, shape_b", [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)),
                                              ((5, 2, 3), (3, 4)), ((1, 2, 3), (4, 3, 2)), ((3,), (2, 3, 4))])
def test_matmul_as_numpy(shape_a, shape_b):
    rng = onp.random.default_rng(1)
    a, b = rng.uniform(-1, 1, shape_a).astype(onp.float32), rng.uniform(-1, 1, shape_b).astype(onp.float32)
    result = np.array(a) @ np.array(b)
    expected = onp.matmul(a.astype(onp.float64), b.astype(onp.float64))
    assert result.shape == expected.shape
    onp.testing.assert_allclose(result.asnumpy(), expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="0-d"):
        np.matmul(np.array(1.0), np.array(b))


def test_nonzero_and_where_without_values():
    x = onp.array([[0.0, 1.0], [2.0, 0.0]], dtype=onp.float32)
    for result in (np.nonzero(np.array(x)), np.where(np.array(x)), np.array(x).nonzero()):
        assert [r.asnumpy().tolist() for r in result] == [a.tolist() for a in onp.nonzero(x)]
        assert all(r.dtype == onp.int64 for r in result)


def test_bad_arguments_are_clear_errors():
    x = np.ones((2, 3))
    with pytest.raises(ValueError, match="out of bounds"):
        np.expand_dims(x, 5)
    with pytest.raises(ValueError, match="length other than one"):
        np.squeeze(x, axis=0)
    with pytest.raises(ValueError, match="both be None"):
        np.clip(x, None, None)
    with pytest.raises(ValueError, match="both or neither"):
        np.where(x > 0, x)
    with pytest.raises(mx.MXNetError):
        np.concatenate([x, np.ones((3, 3))], axis=1)
