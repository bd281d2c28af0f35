"""slice, slice_axis, slice_like, take, pick, batch_take, one_hot, where, gather_nd, scatter_nd and
the hidden _backward_take/_backward_pick/_backward_gather_nd against NumPy references."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import mxcy as mx
from tests.ops.opspec import OpSpec, check_forward, check_gradient, check_req_add

nd, ones = mx.nd, mx.nd.ones


def _shape(rng, max_dims=3, max_size=4):
    return tuple(int(d) for d in rng.integers(1, max_size + 1, size=rng.integers(1, max_dims + 1)))


def _neg(rng, axis, ndim):
    """`axis`, or its negative spelling half of the time."""
    return int(axis) - ndim * int(rng.integers(2))


def _maybe(rng, value, p=0.25):
    return None if rng.random() < p else value


def _slice_make(rng):
    shape = _shape(rng)
    count = int(rng.integers(1, len(shape) + 1))
    begin, end, step = [], [], []
    for n in shape[:count]:
        while True:  # draw Python-style bounds until the slice is non-empty
            b = _maybe(rng, int(rng.integers(-n - 1, n + 1)))
            e = _maybe(rng, int(rng.integers(-n - 1, n + 2)))
            s = _maybe(rng, int(rng.choice([-2, -1, 1, 2])))
            if len(range(n)[slice(b, e, s)]):
                break
        begin.append(b), end.append(e), step.append(s)
    attrs = {"begin": tuple(begin), "end": tuple(end)}
    if any(s is not None for s in step) or rng.random() < 0.5:
        attrs["step"] = tuple(step)
    return [rng.standard_normal(shape)], attrs


def _slice_ref(x, begin, end, step=None):
    step = step or (None,) * len(begin)
    return x[tuple(slice(b, e, s) for b, e, s in zip(begin, end, step))]


def _slice_assign_make(rng):
    (x,), attrs = _slice_make(rng)
    return [x, rng.standard_normal(_slice_ref(x, **attrs).shape)], attrs


def _slice_assign_ref(x, value, begin, end, step=None, scalar=None):
    step = step or (None,) * len(begin)
    out = x.copy()
    out[tuple(slice(b, e, s) for b, e, s in zip(begin, end, step))] = value if scalar is None else scalar
    return out


def _slice_assign_scalar_make(rng):
    inputs, attrs = _slice_make(rng)
    return inputs, dict(attrs, scalar=float(rng.uniform(-3, 3)))


def _slice_axis_make(rng):
    shape = _shape(rng)
    axis = int(rng.integers(len(shape)))
    n = shape[axis]
    b = int(rng.integers(0, n))
    e = int(rng.integers(b + 1, n + 1))
    end = e - n * int(rng.integers(2)) or n  # a negative spelling of end=n would be 0
    attrs = {"axis": _neg(rng, axis, len(shape)), "begin": b - n * int(rng.integers(2)),
             "end": None if e == n and rng.random() < 0.5 else end}
    return [rng.standard_normal(shape)], attrs


def _slice_axis_ref(x, axis, begin, end):
    return np.moveaxis(np.moveaxis(x, axis, 0)[begin:end], 0, axis)


def _slice_like_make(rng):
    shape = _shape(rng)
    like = tuple(int(rng.integers(1, n + 1)) for n in shape)
    if rng.random() < 0.4:
        return [rng.standard_normal(shape), rng.standard_normal(like)], {}
    chosen = rng.permutation(len(shape))[:rng.integers(1, len(shape) + 1)]
    axes = tuple(_neg(rng, a, len(shape)) for a in chosen)
    like = like[:max(chosen) + 1] + _shape(rng, 1)  # the extra axes of like are ignored
    return [rng.standard_normal(shape), rng.standard_normal(like)], {"axes": axes}


def _slice_like_ref(x, like, axes=()):
    axes = {a % x.ndim for a in axes} or set(range(x.ndim))
    return x[tuple(slice(0, like.shape[a]) if a in axes else slice(None) for a in range(x.ndim))]


def _mxnet_index(index, n, mode):
    """MXNet's treatment of index values: truncate toward zero, then clip or wrap."""
    j = np.trunc(index).astype(np.int64)
    return np.mod(j, n) if mode == "wrap" else np.clip(j, 0, n - 1)


def _indices(rng, shape, n, mode):
    """Index values as floats (MXNet's usual index dtype); out of range unless mode is raise."""
    low, high = (0, n) if mode == "raise" else (-n - 2, n + 2)
    return rng.integers(low, high, size=shape) + rng.choice([0.0, 0.3], size=shape)


def _take_make(rng):
    shape, mode = _shape(rng), str(rng.choice(["clip", "wrap", "raise"]))
    axis = int(rng.integers(len(shape)))
    idx = _indices(rng, _shape(rng, 2, 3), shape[axis], mode)
    return [rng.standard_normal(shape), idx], {"axis": _neg(rng, axis, len(shape)), "mode": mode}


def _take_ref(a, indices, axis, mode):
    return np.take(a, _mxnet_index(indices, a.shape[axis], mode), axis)


def _backward_take_make(rng):
    (a, idx), attrs = _take_make(rng)
    out_shape = _take_ref(a, idx, **attrs).shape
    return [rng.standard_normal(out_shape), idx], dict(attrs, shape=a.shape)


def _backward_take_ref(grad, indices, axis, mode, shape):
    out = np.zeros(shape)
    j = _mxnet_index(indices, shape[axis], mode)
    np.add.at(out, (slice(None),) * (axis % len(shape)) + (j,), grad)
    return out


def _pick_make(rng):
    shape, mode = _shape(rng), str(rng.choice(["clip", "wrap"]))
    axis = int(rng.integers(len(shape)))
    index_shape = shape[:axis] + (1,) + shape[axis + 1:]
    if rng.random() < 0.5:
        index_shape = shape[:axis] + shape[axis + 1:] or (1,)
    return [rng.standard_normal(shape), _indices(rng, index_shape, shape[axis], mode)], \
        {"axis": _neg(rng, axis, len(shape)), "keepdims": bool(rng.integers(2)), "mode": mode}


def _pick_ref(data, index, axis, keepdims, mode):
    axis %= data.ndim
    keep = data.shape[:axis] + (1,) + data.shape[axis + 1:]
    j = _mxnet_index(index, data.shape[axis], mode).reshape(keep)
    out = np.take_along_axis(data, j, axis)
    return out if keepdims else out.reshape(data.shape[:axis] + data.shape[axis + 1:] or (1,))


def _backward_pick_make(rng):
    (data, index), attrs = _pick_make(rng)
    grad = rng.standard_normal(_pick_ref(data, index, **attrs).shape)
    return [grad, index], dict(attrs, shape=data.shape)


def _backward_pick_ref(grad, index, axis, keepdims, mode, shape):
    axis %= len(shape)
    keep = shape[:axis] + (1,) + shape[axis + 1:]
    out = np.zeros(shape)
    j = _mxnet_index(index, shape[axis], mode).reshape(keep)
    np.put_along_axis(out, j, grad.reshape(keep), axis)
    return out


def _batch_take_make(rng):
    rows, cols = int(rng.integers(1, 5)), int(rng.integers(1, 5))
    idx = rng.integers(-2, cols + 2, size=rows).astype(np.int32)
    return [rng.standard_normal((rows, cols)), idx], {}


def _one_hot_make(rng):
    depth, dtype = int(rng.integers(1, 5)), str(rng.choice(["float32", "float64", "int32"]))
    indices = rng.integers(-1, depth + 1, size=_shape(rng)).astype(np.float64)
    on, off = (float(rng.integers(1, 5)), float(rng.integers(-3, 1))) if dtype == "int32" else \
        (float(rng.uniform(0.5, 2)), float(rng.uniform(-1, 0.4)))
    return [indices], {"depth": depth, "on_value": on, "off_value": off, "dtype": dtype}


def _one_hot_ref(indices, depth, on_value, off_value, dtype):
    hot = indices.astype(np.int64)[..., None] == np.arange(depth)
    return np.where(hot, on_value, off_value).astype(dtype)


def _where_make(rng):
    shape = _shape(rng)
    cond_shape = shape if rng.random() < 0.6 else shape[:1]
    cond = (rng.random(cond_shape) < 0.5) * rng.choice([1.0, -2.5], size=cond_shape)
    return [cond, rng.standard_normal(shape), rng.standard_normal(shape)], {}


def _where_ref(cond, x, y):
    return np.where(cond.reshape(cond.shape + (1,) * (x.ndim - cond.ndim)) != 0, x, y)


def _nd_indices(rng, shape, m, count_shape, negative=True):
    """(m, *count_shape) gather_nd indices into `shape`, negatives half of the time."""
    dims = np.array(shape[:m]).reshape((m,) + (1,) * len(count_shape))
    idx = rng.integers(0, dims, size=(m,) + count_shape)
    return (idx - dims * rng.integers(0, 2, size=idx.shape) if negative else idx).astype(np.float64)


def _gather_nd_make(rng):
    shape = _shape(rng)
    m = int(rng.integers(1, len(shape) + 1))
    return [rng.standard_normal(shape), _nd_indices(rng, shape, m, _shape(rng, 2, 3))], {}


def _gather_nd_ref(data, indices):
    return data[tuple(indices.astype(np.int64))]


def _scatter_make(unique):
    def make(rng):
        shape = _shape(rng)
        m = int(rng.integers(1, len(shape) + 1))
        if unique:  # scatter_nd leaves repeated positions undefined
            cells = int(np.prod(shape[:m]))
            flat = rng.choice(cells, size=rng.integers(1, cells + 1), replace=False)
            idx = np.array(np.unravel_index(flat, shape[:m]), dtype=np.float64)
        else:
            idx = _nd_indices(rng, shape, m, (int(rng.integers(1, 6)),), negative=False)
        data = rng.standard_normal(idx.shape[1:] + shape[m:])
        return [data, idx], {"shape": shape}
    return make


def _scatter_ref(data, indices, shape):
    out = np.zeros(shape)
    np.add.at(out, tuple(indices.astype(np.int64)), data)
    return out


SPECS = [
    OpSpec("slice", _slice_make, _slice_ref),
    OpSpec("_slice_assign", _slice_assign_make, _slice_assign_ref),
    OpSpec("_slice_assign_scalar", _slice_assign_scalar_make,
           lambda x, scalar, **region: _slice_assign_ref(x, None, scalar=scalar, **region)),
    OpSpec("slice_axis", _slice_axis_make, _slice_axis_ref),
    OpSpec("slice_like", _slice_like_make, _slice_like_ref, grad_inputs=(0,),
           why="shape_like only supplies a shape"),
    OpSpec("take", _take_make, _take_ref, grad_inputs=(0,), why="indices are not differentiable"),
    OpSpec("_backward_take", _backward_take_make, _backward_take_ref, grad_inputs=(0,),
           why="indices are not differentiable"),
    OpSpec("pick", _pick_make, _pick_ref, grad_inputs=(0,), why="indices are not differentiable"),
    OpSpec("_backward_pick", _backward_pick_make, _backward_pick_ref, grad_inputs=(0,),
           why="indices are not differentiable"),
    OpSpec("batch_take", _batch_take_make,
           lambda a, indices: a[np.arange(len(a)), np.clip(indices, 0, a.shape[1] - 1)],
           grad=False, why="MXNet defines no gradient for the deprecated batch_take"),
    OpSpec("one_hot", _one_hot_make, _one_hot_ref, grad=False,
           why="the output depends on indices only"),
    OpSpec("where", _where_make, _where_ref, grad_inputs=(1, 2),
           why="condition is not differentiable"),
    OpSpec("gather_nd", _gather_nd_make, _gather_nd_ref, grad_inputs=(0,),
           why="indices are not differentiable"),
    OpSpec("scatter_nd", _scatter_make(True), _scatter_ref, grad_inputs=(0,),
           why="indices are not differentiable"),
    OpSpec("_backward_gather_nd", _scatter_make(False), _scatter_ref, grad_inputs=(0,),
           why="indices are not differentiable"),
]


@pytest.mark.parametrize("spec", SPECS, ids=repr)
@given(seed=st.integers(0, 2**32 - 1))
def test_forward(spec, seed):
    check_forward(spec, np.random.default_rng(seed))


@pytest.mark.parametrize("spec", [s for s in SPECS if s.grad], ids=repr)
@given(seed=st.integers(0, 2**32 - 1))
def test_gradient(spec, seed):
    check_gradient(spec, np.random.default_rng(seed))


@pytest.mark.parametrize("spec", SPECS, ids=repr)
@given(seed=st.integers(0, 2**32 - 1))
def test_req_add(spec, seed):
    check_req_add(spec, np.random.default_rng(seed))


def test_mxnet_examples():
    x = nd.array(np.arange(1, 13).reshape(3, 4))
    assert nd.slice(x, begin=(None, 0), end=(None, 3), step=(-1, 2)).asnumpy().tolist() == \
        [[9, 11], [5, 7], [1, 3]]
    assert nd.slice(x, begin="(0, 1)", end="(2, 4)").asnumpy().tolist() == [[2, 3, 4], [6, 7, 8]]
    assert nd.crop(x, begin=(1,), end=(2,)).shape == (1, 4)
    assert nd.slice_axis(x, axis=1, begin=-3, end=-1).asnumpy().tolist() == \
        [[2, 3], [6, 7], [10, 11]]
    assert nd.slice_like(x, nd.zeros((2, 3)), axes=(-1,)).shape == (3, 3)
    assert nd.take(x, nd.array([[0, 1], [1, 2]])).shape == (2, 2, 4)
    assert nd.pick(x, nd.array([0, 1, 3]), axis=1).asnumpy().tolist() == [1, 6, 12]
    assert nd.pick(nd.array([5.0, 6.0]), nd.array([1])).asnumpy().tolist() == [6.0]
    assert nd.one_hot(nd.array([1, 0, 2, 0]), 3).asnumpy().tolist() == \
        [[0, 1, 0], [1, 0, 0], [0, 0, 1], [1, 0, 0]]
    assert nd.gather_nd(x, nd.array([[-1, 0], [0, 3]])).asnumpy().tolist() == [9, 4]
    assert nd.scatter_nd(nd.array([2, 3]), nd.array([[1, 1], [0, 1]]), shape=(2, 2)) \
        .asnumpy().tolist() == [[0, 0], [2, 3]]


def test_gradients_flow_to_the_right_inputs():
    cond = nd.array([1, 0, 1])
    x, y = nd.array([1.0, 2.0, 3.0]), nd.array([4.0, 5.0, 6.0])
    a = nd.array(np.arange(6.0).reshape(2, 3))
    for v in (x, y, a):
        v.attach_grad()
    with mx.autograd.record():
        out = nd.where(cond, x, y) * 2 + nd.sum(nd.take(a, nd.array([1, 1, 0])), axis=0)
    out.backward()
    assert x.grad.asnumpy().tolist() == [2, 0, 2]
    assert y.grad.asnumpy().tolist() == [0, 2, 0]
    assert a.grad.asnumpy().tolist() == [[1, 1, 1], [2, 2, 2]]


CONTEXTS = [mx.cpu(), pytest.param(mx.gpu(0), marks=pytest.mark.cuda)]


@pytest.mark.parametrize("ctx", CONTEXTS, ids=str)
def test_out_of_range_index_surfaces_at_the_next_wait(ctx):
    a = nd.ones((2, 3), ctx=ctx)
    taken = nd.take(a, nd.array([0, 2], ctx=ctx), mode="raise")  # only compute can see the values
    with pytest.raises(mx.MXNetError, match=r"take: IndexError: index 2 is out of bounds for "
                                            r"axis 0 with size 2"):
        taken.asnumpy()
    gathered = nd.gather_nd(a, nd.array([[0], [3]], ctx=ctx))
    with pytest.raises(mx.MXNetError, match=r"gather_nd: IndexError: index 3 .* axis 1 with "
                                            r"size 3"):
        gathered.asnumpy()
    scattered = nd.scatter_nd(nd.ones((2,), ctx=ctx), nd.array([[1, -3]], ctx=ctx), shape=(2,))
    with pytest.raises(mx.MXNetError, match=r"scatter_nd: IndexError: index -3 .* axis 0 with "
                                            r"size 2"):
        scattered.asnumpy()
    grad = nd._internal._backward_take(nd.ones((2, 3), ctx=ctx), nd.array([1, 2], ctx=ctx), axis=0,
                                       mode="raise", shape=(2, 3))
    with pytest.raises(mx.MXNetError, match=r"_backward_take: IndexError: index 2 .* size 2"):
        grad.asnumpy()


@pytest.mark.parametrize("ctx", CONTEXTS, ids=str)
def test_scatter_nd_repeated_positions_keep_the_last_value(ctx):
    # MXNet leaves repeats undefined; both devices give NumPy's assignment result
    data = np.arange(8.0).reshape(4, 2)
    indices = np.array([[1, 0, 1, 1], [2, 0, 2, 0]])
    got = nd.scatter_nd(nd.array(data, ctx=ctx), nd.array(indices, ctx=ctx), shape=(2, 3, 2))
    want = np.zeros((2, 3, 2))
    want[tuple(indices)] = data
    np.testing.assert_array_equal(got.asnumpy(), want)


@pytest.mark.parametrize("call,message", [
    (lambda: nd.slice(ones((2, 3)), begin=(2,), end=(None,)), r"slice.*\(2, 3\).*selects nothing"),
    (lambda: nd.slice(ones((2, 3)), (0,), (1,), step=(0,)), r"slice.*step\[0\] cannot be 0"),
    (lambda: nd.slice(ones((2, 3)), begin=(0, 0), end=(1,)), r"slice.*\(2, 3\).*one length"),
    (lambda: nd.slice(ones((2,)), begin=(0, 0), end=(1, 1)), r"slice.*\(2,\)"),
    (lambda: nd.slice(ones((2,)), begin="x", end=(1,)), r"slice: invalid value 'x' for .*'begin'"),
    (lambda: nd.slice_axis(ones((2, 3)), 1, 2, 1), r"slice_axis.*\(2, 3\).*begin=2, end=1"),
    (lambda: nd.slice_axis(ones((2, 3)), axis=1, begin=0, end=4), r"slice_axis.*size 3"),
    (lambda: nd.slice_like(ones((2, 3)), ones((3, 3))), r"slice_like.*\(3, 3\).*exceeds"),
    (lambda: nd.slice_like(ones((2, 3)), ones((2,))), r"slice_like.*equal ndim"),
    (lambda: nd.take(ones((2, 3)), ones((2,)), axis=2), r"take.*\(2, 3\).*out of range"),
    (lambda: nd.pick(ones((2, 3)), ones((3,)), axis=1), r"pick.*\(3,\).*\(2,\) or \(2, 1\)"),
    (lambda: nd.pick(ones((2, 3)), ones((2,)), axis=None), r"pick.*axis=None"),
    (lambda: nd.batch_take(ones((2, 3)), ones((2,))), r"batch_take.*int32"),
    (lambda: nd.batch_take(ones((2, 3)), ones((3,), dtype="int32")), r"batch_take.*\(3,\)"),
    (lambda: nd.one_hot(ones((2,)), depth=-1), r"one_hot.*\(2,\).*non-negative"),
    (lambda: nd.where(ones((3,)), ones((2, 3)), ones((2, 3))), r"where.*\(3,\).*length 2"),
    (lambda: nd.where(ones((2,)), ones((2,)), ones((3,))), r"where.*\(2,\) and \(3,\)"),
    (lambda: nd.gather_nd(ones((2, 3)), ones((2,))), r"gather_nd.*at least 2 dimensions"),
    (lambda: nd.gather_nd(ones((2, 3)), ones((3, 1))), r"gather_nd.*\(3, 1\).*address 3"),
    (lambda: nd.scatter_nd(ones((3,)), ones((1, 2)), shape=(2,)), r"scatter_nd.*do not fit"),
])
def test_bad_input_raises_naming_op_and_shapes(call, message):
    with pytest.raises(mx.MXNetError, match=message):
        call()


def test_one_hot_depth_zero_gives_an_empty_last_axis():
    # MXNet 1.9.1: one_hot([1, 2], depth=0) has shape (2, 0)
    assert nd.one_hot(ones((2,)), depth=0).shape == (2, 0)
    with mx.util.np_shape():
        assert nd.one_hot(mx.nd.zeros((2, 0)), depth=3).shape == (2, 0, 3)
