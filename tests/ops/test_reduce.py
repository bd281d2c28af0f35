"""Reductions, norm, argmax/argmin and broadcast_* against NumPy float64 references."""
import numpy as np
import pytest

import mxcy as mx
from tests.ops.opspec import OpSpec, spec_tests


def _shape(rng, max_dims=3, max_size=3):
    return tuple(int(d) for d in rng.integers(1, max_size + 1, size=rng.integers(1, max_dims + 1)))


def _values(rng, shape, low=0.3, high=1.5):
    """Random signs and |x| in [low, high): away from 0 and (almost surely) distinct."""
    return rng.uniform(low, high, size=shape) * rng.choice([-1.0, 1.0], size=shape)


def _axis(rng, ndim):
    """None, (), an int (maybe negative) or a tuple of distinct axes, as a user would pass them."""
    kind = rng.integers(4)
    if kind == 0:
        return None
    if kind == 1:
        return int(rng.integers(-ndim, ndim))
    if kind == 2 and ndim > 1:
        return ()
    count = int(rng.integers(1, ndim + 1))
    return tuple(int(a) - ndim * int(rng.integers(2)) for a in rng.permutation(ndim)[:count])


def _np_axes(ndim, axis, exclude=False):
    if axis is None or axis == ():
        return tuple(range(ndim))
    chosen = {a % ndim for a in np.atleast_1d(axis)}
    return tuple(a for a in range(ndim) if (a in chosen) != exclude)


def _finish(result, shape, axes, keepdims):
    """NumPy's keepdims=True result in MXNet's output shape."""
    if keepdims:
        return result
    return result.reshape(tuple(n for i, n in enumerate(shape) if i not in axes) or (1,))


def _reduction(name, fn, nan=False, low=0.3, high=1.5):
    def make(rng):
        shape = _shape(rng)
        x = _values(rng, shape, low, high)
        if nan:
            x[rng.random(shape) < 0.25] = np.nan
        attrs = {"axis": _axis(rng, len(shape)), "keepdims": bool(rng.integers(2)),
                 "exclude": bool(rng.integers(2))}
        return [x], attrs

    def reference(x, axis, keepdims, exclude):
        axes = _np_axes(x.ndim, axis, exclude)
        return _finish(fn(x, axis=axes, keepdims=True), x.shape, axes, keepdims)
    return OpSpec(name, make, reference)


def _make_norm(rng):
    shape = _shape(rng)
    return [_values(rng, shape)], {"ord": int(rng.integers(1, 3)), "axis": _axis(rng, len(shape)),
                                   "keepdims": bool(rng.integers(2)),
                                   "out_dtype": [None, "float64"][rng.integers(2)]}


def _norm(x, ord, axis, keepdims, out_dtype):
    axes = _np_axes(x.ndim, axis)
    result = np.sum(np.abs(x) ** ord, axis=axes, keepdims=True) ** (1 / ord)
    return _finish(result, x.shape, axes, keepdims)


def _search(name, fn, channel=False):
    def make(rng):
        if channel:
            return [_values(rng, (int(rng.integers(1, 4)),) + _shape(rng, max_dims=2))], {}
        shape = _shape(rng)
        axis = None if rng.integers(3) == 0 else int(rng.integers(-len(shape), len(shape)))
        return [_values(rng, shape)], {"axis": axis, "keepdims": bool(rng.integers(2))}

    def reference(x, axis=1, keepdims=False):
        if axis is None:
            return np.full((1,) * x.ndim if keepdims else (1,), fn(x))
        return _finish(np.expand_dims(fn(x, axis=axis), axis), x.shape, (axis % x.ndim,), keepdims)
    return OpSpec(name, make, reference, grad=not channel,
                  why="MXNet registers no gradient for argmax_channel" if channel else "")


def _make_broadcast_to(rng):
    target = _shape(rng, max_size=4)
    src = tuple(1 if rng.integers(2) else n for n in target)
    # 0 in the target keeps the input's size.
    shape = tuple(0 if rng.integers(3) == 0 else n for n in target)
    return [_values(rng, src)], {"shape": shape}


def _make_broadcast_axis(rng):
    target = _shape(rng, max_size=4)
    axes = [i for i in range(len(target)) if rng.integers(2)]
    src = tuple(1 if i in axes else n for i, n in enumerate(target))
    axis = tuple(a - len(target) * int(rng.integers(2)) for a in axes)  # some negative
    return [_values(rng, src)], {"axis": axis, "size": tuple(target[a] for a in axes)}


def _broadcast_axis(x, axis, size):
    shape = list(x.shape)
    for a, n in zip(axis, size):
        shape[a] = n
    return np.broadcast_to(x, shape)


def _make_broadcast_like(rng):
    target = _shape(rng, max_size=4)
    if rng.integers(2):
        src = tuple(1 if rng.integers(2) else n for n in target)
        return [_values(rng, src), _values(rng, target)], {}
    # With axes: the chosen lhs axes have size 1 and take the sizes of rhs axes.
    lhs = list(target)
    lhs_axes = sorted({int(a) for a in rng.integers(len(lhs), size=rng.integers(1, len(lhs) + 1))})
    for a in lhs_axes:
        lhs[a] = 1
    rhs = _shape(rng, max_size=4)
    rhs_axes = tuple(int(rng.integers(-len(rhs), len(rhs))) for _ in lhs_axes)
    return [_values(rng, tuple(lhs)), _values(rng, rhs)], {"lhs_axes": tuple(lhs_axes),
                                                            "rhs_axes": rhs_axes}


def _broadcast_like(lhs, rhs, lhs_axes=None, rhs_axes=None):
    if lhs_axes is None:
        return np.broadcast_to(lhs, rhs.shape)
    shape = list(lhs.shape)
    for a, b in zip(lhs_axes, rhs_axes):
        shape[a] = rhs.shape[b]
    return np.broadcast_to(lhs, shape)


def _make_fill_nan(rng):
    shape = _shape(rng)
    x = _values(rng, shape)
    x[rng.random(shape) < 0.4] = np.nan
    return [x], {"value": float(rng.uniform(-2, 2))}


SPECS = [
    _reduction("sum", np.sum), _reduction("mean", np.mean), _reduction("prod", np.prod, low=0.5),
    _reduction("max", np.max), _reduction("min", np.min),
    _reduction("nansum", np.nansum, nan=True), _reduction("nanprod", np.nanprod, nan=True, low=0.5),
    OpSpec("norm", _make_norm, _norm),
    _search("argmax", np.argmax), _search("argmin", np.argmin),
    _search("argmax_channel", lambda x, axis=1: np.argmax(x, axis=axis), channel=True),
    OpSpec("broadcast_to", _make_broadcast_to,
           lambda x, shape: np.broadcast_to(x, [n or s for n, s in zip(shape, x.shape)])),
    OpSpec("broadcast_axis", _make_broadcast_axis, _broadcast_axis),
    OpSpec("broadcast_like", _make_broadcast_like, _broadcast_like),
    OpSpec("_fill_nan", _make_fill_nan, lambda x, value: np.where(np.isnan(x), value, x)),
]


test_forward, test_gradient, test_req_add = spec_tests(SPECS)


def _grad(fn, x):
    x = mx.nd.array(x, dtype=x.dtype)
    x.attach_grad()
    with mx.autograd.record():
        y = fn(x)
    y.backward()
    return x.grad.asnumpy()


def test_prod_gradient_with_zeros_is_the_product_of_the_others():
    x = np.array([[2.0, 0.0, 3.0], [0.0, 0.0, 5.0], [1.0, 2.0, 4.0]])
    expected = np.array([[0.0, 6.0, 0.0], [0.0, 0.0, 0.0], [8.0, 4.0, 2.0]])
    np.testing.assert_allclose(_grad(lambda a: mx.nd.prod(a, axis=1), x), expected)


def test_max_gradient_goes_to_every_tied_maximum():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 0.0, 1.0]])
    np.testing.assert_allclose(_grad(lambda a: mx.nd.max(a, axis=1), x), [[0, 1, 1], [1, 0, 0]])


def test_norm_out_dtype_gradient_keeps_the_input_dtype():
    x = np.array([3.0, -4.0], dtype=np.float32)
    y = mx.nd.norm(mx.nd.array(x), out_dtype="float64")
    assert y.dtype == np.float64 and y.asnumpy().tolist() == [5.0]
    g = _grad(lambda a: mx.nd.norm(a, out_dtype="float64"), x)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, [0.6, -0.8], rtol=1e-6)
    assert _grad(lambda a: mx.nd.norm(a), np.zeros(3)).tolist() == [0, 0, 0]


def test_full_reduction_shapes_and_aliases():
    x = mx.nd.ones((2, 3))
    assert mx.nd.sum(x).shape == (1,) and mx.nd.sum(x, axis=(0, 1)).shape == (1,)
    assert mx.nd.sum(x, keepdims=True).shape == (1, 1)
    assert mx.nd.sum(x, exclude=True).shape == (1,)  # no axis: exclude has nothing to invert
    assert mx.nd.sum_axis(x, axis=1).asnumpy().tolist() == [3, 3]
    assert mx.nd.max_axis(x, axis=0).shape == (3,) and mx.nd.min_axis(x).shape == (1,)
    assert mx.nd.broadcast_axes(mx.nd.ones((1, 2)), axis=0, size=3).shape == (3, 2)
    assert x.sum(axis=0).shape == (3,) and x.argmax(axis=1).dtype == np.float32


def test_argmax_returns_the_first_occurrence_in_the_input_dtype():
    x = mx.nd.array([[1, 5, 5], [7, 7, 0]], dtype="float64")
    y = mx.nd.argmax(x, axis=1)
    assert y.dtype == np.float64 and y.asnumpy().tolist() == [1, 0]
    assert mx.nd.argmin(x).asnumpy().tolist() == [5]


@pytest.mark.parametrize("call,match", [
    (lambda x: mx.nd.sum(x, axis=2), r"sum.*\(2, 3\).*axis 2 is out of range"),
    (lambda x: mx.nd.mean(x, axis=(0, -2)), "mean.*duplicate axes"),
    (lambda x: mx.nd.norm(x, ord=3), "norm.*ord=3"),
    (lambda x: mx.nd.argmax(x, axis=-3), "argmax.*out of range"),
    (lambda x: mx.nd.argmax_channel(mx.nd.ones((3,))), "argmax_channel.*out of range"),
    (lambda x: mx.nd.max(mx.nd.array(np.ones((0, 2)))), "max.*empty"),
    (lambda x: mx.nd.broadcast_to(x, shape=(4, 3)), r"broadcast_to.*\(2, 3\).*cannot be broadcast"),
    (lambda x: mx.nd.broadcast_to(x, shape=(2, 3, 1)), "broadcast_to.*cannot be broadcast"),
    (lambda x: mx.nd.broadcast_axis(x, axis=0, size=5), "broadcast_axis.*must have size 1"),
    (lambda x: mx.nd.broadcast_like(x, mx.nd.ones((2, 3)), lhs_axes=(0,), rhs_axes=()),
     "broadcast_like.*equal length"),
])
def test_bad_input_raises_naming_op_and_shapes(call, match):
    with pytest.raises(mx.MXNetError, match=match):
        call(mx.nd.ones((2, 3)))
