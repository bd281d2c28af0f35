"""sort, argsort, topk and the hidden gather/scatter pair against NumPy float64 references."""
import numpy as np
import pytest

import mxcy as mx
from tests.ops.opspec import OpSpec, spec_tests


def _shape(rng, max_dims=3, max_size=3):
    return tuple(int(d) for d in rng.integers(1, max_size + 1, size=rng.integers(1, max_dims + 1)))


def _axis(rng, ndim):
    return None if rng.integers(4) == 0 else int(rng.integers(-ndim, ndim))


def _data(rng, ties):
    """Distinct values, or small integers with many ties to pin down the tie order."""
    shape = _shape(rng)
    return rng.integers(0, 3, size=shape).astype(np.float64) if ties else \
        rng.uniform(-2, 2, size=shape)


def _stable_order(x, axis, is_ascend):
    """(x, axis, order): stable both ways, so equal values keep their input order."""
    if axis is None:
        x, axis = x.reshape(-1), 0
    return x, axis, np.argsort(x if is_ascend else -x, axis=axis, kind="stable")


def _topk(x, axis=-1, k=1, ret_typ="indices", is_ascend=False, dtype="float32"):
    shape = x.shape
    x, axis, order = _stable_order(x, axis, is_ascend)
    top = np.take(order, np.arange(k if k > 0 else x.shape[axis]), axis=axis)
    values = np.take_along_axis(x, top, axis)
    if ret_typ == "mask":
        mask = np.zeros_like(x)
        np.put_along_axis(mask, top, 1, axis)
        return mask.reshape(shape)
    return {"value": values, "indices": top, "both": (values, top)}[ret_typ]


def _make_sort(ties, index_dtype):
    def make(rng):
        x = _data(rng, ties)
        attrs = {"axis": _axis(rng, x.ndim), "is_ascend": bool(rng.integers(2))}
        if index_dtype:
            attrs["dtype"] = ["float32", "int32", "int64", "float64"][rng.integers(4)]
        return [x], attrs
    return make


def _make_topk(rng):
    x = _data(rng, ties=False)
    axis = _axis(rng, x.ndim)
    length = x.size if axis is None else x.shape[axis]
    return [x], {"axis": axis, "k": int(rng.integers(-1, length + 1)),
                 "ret_typ": ["value", "indices", "mask", "both"][rng.integers(4)],
                 "is_ascend": bool(rng.integers(2)), "dtype": ["float32", "int64"][rng.integers(2)]}


def _make_gather(rng):
    data = rng.uniform(-2, 2, size=_shape(rng))
    axis = int(rng.integers(-data.ndim, data.ndim))
    shape = list(data.shape)
    shape[axis] = int(rng.integers(1, 4))
    return [data, rng.integers(0, data.shape[axis], size=shape)], {"axis": axis}


def _make_scatter(rng):
    data = rng.uniform(-2, 2, size=_shape(rng))
    axis = int(rng.integers(-data.ndim, data.ndim))
    size = int(rng.integers(1, 4))
    # Repeated indices must accumulate.
    return [data, rng.integers(0, size, size=data.shape)], {"axis": axis, "size": size}


def _scatter(data, index, axis, size):
    shape = list(data.shape)
    shape[axis] = size
    out = np.zeros(shape)
    grid = list(np.indices(data.shape, sparse=True))
    grid[axis] = index
    np.add.at(out, tuple(grid), data)
    return out


SPECS = [
    OpSpec("sort", _make_sort(ties=False, index_dtype=False),
           lambda x, axis, is_ascend: _topk(x, axis, 0, "value", is_ascend)),
    OpSpec("argsort", _make_sort(ties=True, index_dtype=True),
           lambda x, axis, is_ascend, dtype: _topk(x, axis, 0, "indices", is_ascend),
           grad=False, why="integer-valued output: piecewise constant, and ties make it jump"),
    OpSpec("topk", _make_topk, _topk),
    OpSpec("_gather_axis", _make_gather,
           lambda data, index, axis: np.take_along_axis(data, index, axis)),
    OpSpec("_scatter_axis", _make_scatter, _scatter),
]


test_forward, test_gradient, test_req_add = spec_tests(SPECS)


@pytest.mark.parametrize("ret_typ,is_ascend,expected", [
    ("indices", False, [1, 3, 0]), ("indices", True, [2, 4, 0]),
    ("value", False, [3, 3, 2]), ("mask", False, [1, 1, 0, 1, 0]),
])
def test_topk_ties_keep_input_order(ret_typ, is_ascend, expected):
    x = mx.nd.array([2, 3, 1, 3, 1])
    out = mx.nd.topk(x, k=3, ret_typ=ret_typ, is_ascend=is_ascend)
    assert out.asnumpy().tolist() == expected


def test_output_shapes_and_dtypes():
    x = mx.nd.ones((2, 3, 4))
    value, index = mx.nd.topk(x, axis=1, k=2, ret_typ="both", dtype="int32")
    assert value.shape == index.shape == (2, 2, 4)
    assert value.dtype == np.float32 and index.dtype == np.int32
    assert mx.nd.topk(x, axis=None, k=5).shape == (5,)
    assert mx.nd.topk(x, axis=None, ret_typ="mask").shape == (2, 3, 4)
    assert mx.nd.topk(x).dtype == np.float32 and mx.nd.argsort(x).dtype == np.float32
    assert mx.nd.sort(x, axis=None).shape == (24,)
    assert x.sort().shape == x.argsort().shape == (2, 3, 4) and x.topk(k=0).shape == (2, 3, 4)


def test_topk_both_gradient_ignores_the_index_output():
    x = mx.nd.array([[0.5, 2.0, -1.0]], dtype="float64")
    x.attach_grad()
    with mx.autograd.record():
        value, index = mx.nd.topk(x, k=2, ret_typ="both", dtype="float64")
        y = value * mx.nd.array([[10.0, 20.0]], dtype="float64") + index
    y.backward()
    assert x.grad.asnumpy().tolist() == [[20.0, 10.0, 0.0]]


@pytest.mark.parametrize("call,match", [
    (lambda x: mx.nd.topk(x, k=4), r"topk.*\(2, 3\).*k=4 is out of range: there are 3 elements"),
    (lambda x: mx.nd.topk(x, axis=2), "topk.*axis 2 is out of range"),
    (lambda x: mx.nd.sort(x, axis=-3), "sort.*out of range"),
    (lambda x: mx.nd.topk(x, ret_typ="top"), "topk.*ret_typ"),
    (lambda x: mx.nd.argsort(mx.nd.ones((300,)), dtype="uint8"), "argsort.*uint8 cannot represent"),
    (lambda x: mx.nd._internal._gather_axis(x, mx.nd.ones((3, 3)), axis=1),
     "_gather_axis.*must match data"),
])
def test_bad_input_raises_naming_op_and_shapes(call, match):
    with pytest.raises(mx.MXNetError, match=match):
        call(mx.nd.ones((2, 3)))


@pytest.mark.cuda
@pytest.mark.parametrize("is_ascend,expected", [
    (True, [[4, 0, 3, 2, 6], [0, 1, 5, 6, 2]]),   # NaN last, equal values in input order
    (False, [[1, 5, 2, 6, 0], [3, 2, 4, 6, 0]]),  # NaN first, equal values still in input order
])
def test_gpu_orders_nan_and_ties_like_the_cpu(is_ascend, expected):
    x = np.array([[1, np.nan, 3, 1, -np.inf, np.nan, 3], [0, 0, 2, np.nan, 2, 0, 1]], np.float32)
    for ctx in (mx.cpu(), mx.gpu(0)):
        value, index = mx.nd.topk(mx.nd.array(x, ctx=ctx), k=5, ret_typ="both", is_ascend=is_ascend, dtype="int64")
        np.testing.assert_array_equal(index.asnumpy(), expected)
        np.testing.assert_array_equal(value.asnumpy(), np.take_along_axis(x, np.array(expected), 1))


@pytest.mark.cuda
@pytest.mark.parametrize("op", ["_gather_axis", "_scatter_axis"])
def test_gpu_index_out_of_range_raises_naming_op_and_shapes(op):
    data = mx.nd.ones((2, 3), ctx=mx.gpu(0))
    index = mx.nd.array([[0, 5, 1], [1, 1, 1]], ctx=mx.gpu(0))
    call = getattr(mx.nd._internal, op)
    with pytest.raises(mx.MXNetError, match=rf"{op}: index \(shape \(2, 3\)\).*outside \[-3, 3\).*axis 1"):
        args = {"size": 3} if op == "_scatter_axis" else {}
        call(data, index, axis=1, **args).wait_to_read()
