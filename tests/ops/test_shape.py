"""transpose, SwapAxis, expand_dims, squeeze, Flatten, reshape_like, tile, repeat, reverse,
depth_to_space, space_to_depth, shape_array, size_array, diag and clip against NumPy references."""
import numpy as np
import pytest

import mxcy as mx
from tests.ops.opspec import OpSpec, spec_tests

nd, ones = mx.nd, mx.nd.ones


def _shape(rng, max_dims=3, max_size=3, min_dims=1):
    return tuple(int(d) for d in rng.integers(1, max_size + 1,
                                               size=rng.integers(min_dims, max_dims + 1)))


def _data(rng, shape):
    return rng.standard_normal(shape)


def _neg(rng, axis, ndim):
    """`axis`, or its negative spelling half of the time."""
    return int(axis) - ndim * int(rng.integers(2))


def _one_input(name, attrs_of, ref, max_dims=3, **kw):
    """Spec of a one-input op: attrs_of(rng, shape) draws the attributes."""
    def make(rng):
        shape = _shape(rng, max_dims)
        return [_data(rng, shape)], attrs_of(rng, shape)
    return OpSpec(name, make, ref, **kw)


def _transpose_attrs(rng, shape):
    if rng.random() < 0.3:
        return {}
    return {"axes": tuple(_neg(rng, a, len(shape)) for a in rng.permutation(len(shape)))}


def _squeeze_make(rng):
    shape = tuple(d if rng.random() < 0.5 else 1 for d in _shape(rng, 4))
    ones = [i for i, d in enumerate(shape) if d == 1]
    if not ones or rng.random() < 0.4:
        return [_data(rng, shape)], {}
    chosen = rng.choice(ones, size=rng.integers(1, len(ones) + 1), replace=False)
    return [_data(rng, shape)], {"axis": tuple(_neg(rng, a, len(shape)) for a in chosen)}


def _squeeze_ref(x, axis=None):
    out = np.squeeze(x, axis)
    return out.reshape(out.shape or (1,))


def _reshape_like_make(rng):
    """lhs, and an rhs whose dims [rhs_begin, rhs_end) refactor lhs dims [lhs_begin, lhs_end)."""
    lhs = _shape(rng, 3, 4)
    lb = int(rng.integers(0, len(lhs)))
    le = int(rng.integers(lb + 1, len(lhs) + 1))
    size = int(np.prod(lhs[lb:le]))
    divisors = [d for d in range(1, size + 1) if size % d == 0]
    d = int(rng.choice(divisors))
    middle = (d, size // d) if rng.random() < 0.5 else (size,)
    before = _shape(rng, 1)
    after = _shape(rng, 1) if rng.random() < 0.5 else ()
    rhs = before + middle + after
    rb, re = len(before), len(before) + len(middle)
    attrs = {"lhs_begin": lb, "lhs_end": None if le == len(lhs) and rng.random() < 0.5 else le,
             "rhs_begin": _neg(rng, rb, len(rhs)), "rhs_end": re - len(rhs) if after else None}
    return [_data(rng, lhs), _data(rng, rhs)], attrs


def _reshape_like_ref(lhs, rhs, lhs_begin, lhs_end, rhs_begin, rhs_end):
    rb = rhs_begin % rhs.ndim
    le = lhs.ndim if lhs_end is None else lhs_end
    return lhs.reshape(lhs.shape[:lhs_begin] + rhs.shape[rb:rhs_end] + lhs.shape[le:])


def _tile_attrs(rng, shape):
    return {"reps": tuple(int(r) for r in rng.integers(1, 4, size=rng.integers(1, 4)))}


def _repeat_attrs(rng, shape):
    axis = None if rng.random() < 0.3 else _neg(rng, rng.integers(len(shape)), len(shape))
    return {"repeats": int(rng.integers(1, 4)), "axis": axis}


def _reverse_attrs(rng, shape):
    chosen = rng.permutation(len(shape))[:rng.integers(1, len(shape) + 1)]
    axes = [_neg(rng, a, len(shape)) for a in chosen]
    return {"axis": axes[0] if len(axes) == 1 and rng.random() < 0.5 else tuple(axes)}


def _block_make(to_depth):
    def make(rng):
        b, n, c = int(rng.integers(1, 3)), int(rng.integers(1, 3)), int(rng.integers(1, 3))
        h, w = int(rng.integers(1, 3)), int(rng.integers(1, 3))
        shape = (n, c, h * b, w * b) if to_depth else (n, c * b * b, h, w)
        return [_data(rng, shape)], {"block_size": b}
    return make


def _depth_to_space_ref(x, block_size):
    """DCR order, element by element: out[n, c, h*b+i, w*b+j] = x[n, (i*b+j)*C + c, h, w]."""
    b, (n, depth, height, width) = block_size, x.shape
    c_out = depth // (b * b)
    out = np.empty((n, c_out, height * b, width * b))
    for i in range(b):
        for j in range(b):
            for c in range(c_out):
                out[:, c, i::b, j::b] = x[:, (i * b + j) * c_out + c]
    return out


def _space_to_depth_ref(x, block_size):
    b, (n, c_in, height, width) = block_size, x.shape
    out = np.empty((n, c_in * b * b, height // b, width // b))
    for i in range(b):
        for j in range(b):
            for c in range(c_in):
                out[:, (i * b + j) * c_in + c] = x[:, c, i::b, j::b]
    return out


def _diag_make(rng):
    shape = _shape(rng, 3, 4)
    if len(shape) == 1:
        return [_data(rng, shape)], {"k": int(rng.integers(-2, 3))}
    a1, a2 = (int(a) for a in rng.permutation(len(shape))[:2])
    k = int(rng.integers(1 - shape[a1], shape[a2]))  # any k leaving a non-empty diagonal
    return [_data(rng, shape)], {"k": k, "axis1": _neg(rng, a1, len(shape)),
                                 "axis2": _neg(rng, a2, len(shape))}


def _diag_ref(x, k, axis1=0, axis2=1):
    return np.diag(x, k) if x.ndim == 1 else np.diagonal(x, k, axis1, axis2)


def _clip_make(rng):
    x = rng.uniform(-2, 2, size=_shape(rng))
    lo, hi = float(rng.uniform(-1, -0.2)), float(rng.uniform(0.2, 1))
    for bound in (lo, hi):  # keep central differences off the kinks
        x = np.where(np.abs(x - bound) < 0.05, x + 0.1, x)
    return [x], {"a_min": lo, "a_max": hi}


SPECS = [
    _one_input("transpose", _transpose_attrs, lambda x, axes=None: np.transpose(x, axes),
               max_dims=4),
    _one_input("SwapAxis", lambda rng, s: {"dim1": int(rng.integers(-len(s), len(s))),
                                           "dim2": int(rng.integers(-len(s), len(s)))},
               lambda x, dim1, dim2: np.swapaxes(x, dim1, dim2)),
    _one_input("expand_dims", lambda rng, s: {"axis": int(rng.integers(-len(s) - 1, len(s) + 1))},
               lambda x, axis: np.expand_dims(x, axis)),
    OpSpec("squeeze", _squeeze_make, _squeeze_ref),
    _one_input("Flatten", lambda rng, s: {}, lambda x: x.reshape(x.shape[0], -1), max_dims=4),
    OpSpec("reshape_like", _reshape_like_make, _reshape_like_ref, grad_inputs=(0,),
           why="rhs only supplies a shape"),
    _one_input("tile", _tile_attrs, lambda x, reps: np.tile(x, reps), max_dims=2),
    _one_input("repeat", _repeat_attrs, lambda x, repeats, axis: np.repeat(x, repeats, axis)),
    _one_input("reverse", _reverse_attrs, lambda x, axis: np.flip(x, axis)),
    OpSpec("depth_to_space", _block_make(False), _depth_to_space_ref),
    OpSpec("space_to_depth", _block_make(True), _space_to_depth_ref),
    _one_input("shape_array", lambda rng, s: {}, lambda x: np.array(x.shape), grad=False,
               why="integer metadata, no gradient"),
    _one_input("size_array", lambda rng, s: {}, lambda x: np.array([x.size]), grad=False,
               why="integer metadata, no gradient"),
    OpSpec("diag", _diag_make, _diag_ref),
    OpSpec("clip", _clip_make, lambda x, a_min, a_max: np.clip(x, a_min, a_max)),
]


test_forward, test_gradient, test_req_add = spec_tests(SPECS)


def test_mxnet_examples():
    x = nd.array(np.arange(24).reshape(1, 4, 2, 3))
    assert nd.depth_to_space(x, 2).asnumpy()[0, 0].tolist() == [
        [0, 6, 1, 7, 2, 8], [12, 18, 13, 19, 14, 20],
        [3, 9, 4, 10, 5, 11], [15, 21, 16, 22, 17, 23]]
    assert nd.space_to_depth(nd.depth_to_space(x, 2), 2).asnumpy().tolist() == x.asnumpy().tolist()
    assert nd.squeeze(nd.ones((1, 1))).shape == (1,)
    assert nd.flatten(nd.ones((3,))).shape == (3, 1)
    assert nd.reshape_like(nd.ones((30, 7)), nd.ones((15, 2, 4)), lhs_begin=0, lhs_end=1,
                           rhs_begin=0, rhs_end=2).shape == (15, 2, 7)
    assert nd.reshape_like(nd.ones((30, 12)), nd.ones((4, 2, 2, 3)), lhs_begin=-1,
                           rhs_begin=1).shape == (30, 2, 2, 3)
    assert nd.shape_array(nd.ones((2, 4))).asnumpy().tolist() == [2, 4]
    assert nd.size_array(nd.ones((2, 4))).dtype == np.int64
    assert nd.flip(nd.array([[0, 1], [2, 3]]), axis=(0, 0)).asnumpy().tolist() == [[0, 1], [2, 3]]


CONTEXTS = [mx.cpu(), pytest.param(mx.gpu(0), marks=pytest.mark.cuda)]


@pytest.mark.parametrize("ctx", CONTEXTS, ids=str)
def test_clip_tests_a_max_first_like_mxnet(ctx):
    # with a_min > a_max, values below a_min become a_min (np.clip would give a_max everywhere)
    x = nd.array([0.0, 2.0, 5.0], ctx=ctx)
    assert nd.clip(x, a_min=3, a_max=1).asnumpy().tolist() == [3.0, 1.0, 1.0]
    assert nd.clip(nd.array([7, -7], dtype="int32", ctx=ctx), 0.5, 2.5).asnumpy().tolist() == [2, 0]


@pytest.mark.cuda
def test_gpu_layouts_of_many_axes_match_numpy():
    # tile of 4 axes copies over 8 axes that do not merge, more than one kernel launch indexes
    x = np.arange(16.0).reshape(2, 2, 2, 2)
    tiled = nd.tile(nd.array(x, ctx=mx.gpu(0)), reps=(2, 2, 2, 2))
    np.testing.assert_array_equal(tiled.asnumpy(), np.tile(x, (2, 2, 2, 2)))
    y = np.arange(48.0).reshape(2, 1, 3, 1, 2, 4)
    moved = nd.transpose(nd.array(y, ctx=mx.gpu(0)), axes=(5, 2, 0, 4, 1, 3))
    np.testing.assert_array_equal(moved.asnumpy(), np.transpose(y, (5, 2, 0, 4, 1, 3)))
    flipped = nd.reverse(nd.array(y, ctx=mx.gpu(0)), axis=(2, 5, 2, 0))  # the repeated axis cancels
    np.testing.assert_array_equal(flipped.asnumpy(), y[::-1, :, :, :, :, ::-1])


def test_gradients_of_composed_ops():
    x = nd.array(np.arange(6.0).reshape(2, 3))
    x.attach_grad()
    with mx.autograd.record():
        tiled = nd.tile(nd.transpose(x), reps=(2, 1))
        repeated = nd.repeat(x.T, repeats=2, axis=0)
        y = nd.sum(nd.square(tiled)) + nd.sum(nd.square(repeated))
    y.backward()  # each element appears twice in both: d/dx = 2 * 2x + 2 * 2x
    np.testing.assert_allclose(x.grad.asnumpy(), 8 * np.arange(6.0).reshape(2, 3))


@pytest.mark.parametrize("call,message", [
    (lambda: nd.transpose(ones((2, 3)), axes=(0, 0)), r"transpose.*\(2, 3\).*not a permutation"),
    (lambda: nd.transpose(ones((2, 3)), axes=(1, 0, 2)), r"transpose.*\(2, 3\)"),
    (lambda: nd.transpose(ones((1,) * 7)), r"transpose.*at most 6"),
    (lambda: nd.swapaxes(ones((2, 3)), dim1=0, dim2=2), r"SwapAxis.*\(2, 3\).*out of range"),
    (lambda: nd.expand_dims(ones((2, 3)), axis=3), r"expand_dims.*\(2, 3\)"),
    (lambda: nd.squeeze(ones((2, 1)), axis=0), r"squeeze.*\(2, 1\).*size is not 1"),
    (lambda: nd.reshape_like(ones((2, 3)), ones((4, 2))), r"reshape_like.*\(4, 2\)"),
    (lambda: nd.reshape_like(ones((2, 3)), ones((6,)), lhs_begin=1, lhs_end=1),
     r"reshape_like.*lhs_begin=1, lhs_end=1"),
    (lambda: nd.tile(ones((2,)), reps=(0,)), r"tile.*\(2,\).*positive"),
    (lambda: nd.repeat(ones((2,)), repeats=0), r"repeat.*\(2,\).*positive"),
    (lambda: nd.reverse(ones((2,)), axis=1), r"reverse.*\(2,\).*out of range"),
    (lambda: nd.depth_to_space(ones((1, 3, 2, 2)), 2), r"depth_to_space.*\(1, 3, 2, 2\)"),
    (lambda: nd.space_to_depth(ones((1, 1, 3, 2)), 2), r"space_to_depth.*\(1, 1, 3, 2\)"),
    (lambda: nd.depth_to_space(ones((4, 4)), block_size=2), r"depth_to_space.*4-D"),
    # MXNet 1.9.1 refuses a zero-size dimension in either direction (its test_depthtospace/test_spacetodepth)
    (lambda: nd.depth_to_space(nd.array(np.ones((1, 4, 0, 3))), 2), r"depth_to_space.*\(1, 4, 0, 3\).*non-zero"),
    (lambda: nd.space_to_depth(nd.array(np.ones((1, 0, 2, 2))), 2), r"space_to_depth.*\(1, 0, 2, 2\).*non-zero"),
    (lambda: nd.diag(ones((2, 3)), k=3), r"diag.*\(2, 3\).*does not exist"),
    (lambda: nd.diag(ones((2, 3)), axis1=1, axis2=-1), r"diag.*both refer to axis 1"),
])
def test_bad_input_raises_naming_op_and_shapes(call, message):
    with pytest.raises(mx.MXNetError, match=message):
        call()
