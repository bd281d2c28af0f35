"""Concat, stack, SliceChannel (split), _split_v2 and Pad against NumPy references."""
import numpy as np
import pytest

import mxcy as mx
from tests.ops.opspec import OpSpec, spec_tests

nd, ones = mx.nd, mx.nd.ones


def _shape(rng, max_dims=3, max_size=3):
    return tuple(int(d) for d in rng.integers(1, max_size + 1, size=rng.integers(1, max_dims + 1)))


def _neg(rng, axis, ndim):
    """`axis`, or its negative spelling half of the time."""
    return int(axis) - ndim * int(rng.integers(2))


def _concat_make(rng):
    shape, n = _shape(rng), int(rng.integers(1, 4))
    axis = int(rng.integers(len(shape)))
    arrays = []
    for _ in range(n):
        part = list(shape)
        part[axis] = int(rng.integers(1, 4))
        arrays.append(rng.standard_normal(part))
    return arrays, {"dim": _neg(rng, axis, len(shape)), "num_args": n}


def _stack_make(rng):
    shape, n = _shape(rng), int(rng.integers(1, 4))
    axis = _neg(rng, rng.integers(len(shape) + 1), len(shape) + 1)
    return [rng.standard_normal(shape) for _ in range(n)], {"axis": axis, "num_args": n}


def _split_make(rng):
    shape, n = list(_shape(rng)), int(rng.integers(1, 4))
    axis = int(rng.integers(len(shape)))
    squeeze = len(shape) > 1 and rng.random() < 0.4
    shape[axis] = n if squeeze else n * int(rng.integers(1, 3))
    return [rng.standard_normal(shape)], {"num_outputs": n, "axis": _neg(rng, axis, len(shape)),
                                          "squeeze_axis": squeeze}


def _split_ref(x, num_outputs, axis, squeeze_axis):
    parts = np.split(x, num_outputs, axis)
    return tuple(np.squeeze(p, axis) if squeeze_axis else p for p in parts)


def _split_v2_make(rng):
    shape = list(_shape(rng))
    axis = int(rng.integers(len(shape)))
    shape[axis] = int(rng.integers(2, 6))
    attrs = {"axis": _neg(rng, axis, len(shape)), "squeeze_axis": False}
    if rng.random() < 0.4:
        sections = int(rng.choice([d for d in range(1, shape[axis] + 1) if shape[axis] % d == 0]))
        attrs.update(indices=(), sections=sections)
    else:  # split_v2's wrapper puts 0 in front of the user's cut points
        cuts = sorted(rng.choice(np.arange(1, shape[axis]), size=rng.integers(0, shape[axis]),
                                 replace=False))
        attrs.update(indices=(0,) + tuple(int(c) for c in cuts), sections=0)
    return [rng.standard_normal(shape)], attrs


def _split_v2_ref(x, indices, axis, squeeze_axis, sections):
    return tuple(np.split(x, sections if sections else list(indices[1:]), axis))


def _pad_make(rng):
    mode = str(rng.choice(["constant", "edge", "reflect"]))
    shape = (1, int(rng.integers(1, 3))) + _shape(rng, 3, 3)[:int(rng.integers(2, 4))]
    shape = shape + (2,) * (4 - len(shape))
    limit = [d if mode == "reflect" else 3 for d in shape[2:]]  # reflect pads stay below the size
    width = (0, 0, 0, 0) + tuple(int(rng.integers(0, lim)) for lim in limit for _ in range(2))
    return [rng.standard_normal(shape)], {"mode": mode, "pad_width": width,
                                          "constant_value": float(rng.uniform(-2, 2))}


def _pad_ref(x, mode, pad_width, constant_value):
    pairs = list(zip(pad_width[::2], pad_width[1::2]))
    if mode == "constant":
        return np.pad(x, pairs, mode, constant_values=constant_value)
    return np.pad(x, pairs, mode)


SPECS = [
    OpSpec("Concat", _concat_make, lambda *xs, dim, num_args: np.concatenate(xs, dim)),
    OpSpec("stack", _stack_make, lambda *xs, axis, num_args: np.stack(xs, axis)),
    OpSpec("SliceChannel", _split_make, _split_ref),
    OpSpec("_split_v2", _split_v2_make, _split_v2_ref),
    OpSpec("Pad", _pad_make, _pad_ref),
]


test_forward, test_gradient, test_req_add = spec_tests(SPECS)


def test_variadic_calls_and_output_names():
    a, b = nd.ones((2, 1)), nd.zeros((2, 2))
    assert nd.concat(a, b).shape == (2, 3)  # dim defaults to 1
    assert nd.concat(*[a, b], dim=1).shape == (2, 3)
    assert nd.Concat(a, a, dim=0).shape == (4, 1)
    assert nd.stack(a, a, a).shape == (3, 2, 1)
    parts = nd.split(nd.ones((2, 4)), num_outputs=2)
    assert [p.shape for p in parts] == [(2, 2), (2, 2)]
    assert nd.split(nd.ones((2, 4)), num_outputs=1).shape == (2, 4)
    op = mx.ops.registry.get("SliceChannel")
    assert op.list_outputs(op.parse_attrs({"num_outputs": 1})) == ["output0"]
    assert [p.shape for p in nd._internal._split_v2(nd.ones((3, 7)), indices=(0, 2, 3))] == \
        [(3, 2), (3, 1), (3, 4)]


def test_split_gradient_with_unused_outputs():
    x = nd.array(np.arange(6.0).reshape(3, 2))
    x.attach_grad()
    with mx.autograd.record():
        first, _, third = nd.split(x, num_outputs=3, axis=0, squeeze_axis=True)
        y = first * 2 + third
    y.backward()
    assert x.grad.asnumpy().tolist() == [[2, 2], [0, 0], [1, 1]]


@pytest.mark.parametrize("call,message", [
    (lambda: nd.concat(ones((2, 3)), ones((3, 3)), dim=1),
     r"Concat.*\(2, 3\), \(3, 3\).*every dimension but 1"),
    (lambda: nd.concat(ones((2, 3)), ones((2, 3)), dim=2), r"Concat.*out of range"),
    (lambda: nd.concat(ones((2,)), ones((2,)), num_args=3), r"Concat.*num_args=3"),
    (lambda: nd.concat(ones((2,)), ones((2,), dtype="int32"), dim=0), r"Concat.*dtype"),
    (lambda: nd.stack(ones((2,)), ones((3,))), r"stack.*\(2,\), \(3,\).*one shape"),
    (lambda: nd.split(ones((2, 3)), num_outputs=2), r"SliceChannel.*\(2, 3\).*num_outputs=2"),
    (lambda: nd.split(ones((2, 4)), num_outputs=2, squeeze_axis=True),
     r"SliceChannel.*\(2, 4\).*squeeze_axis"),
    (lambda: nd.split(ones((3,)), num_outputs=3, axis=0, squeeze_axis=True),
     r"SliceChannel.*\(3,\).*0-d"),
    (lambda: nd._internal._split_v2(ones((4,)), indices=(0, 3, 2), axis=0),
     r"_split_v2.*\(4,\).*increasing"),
    (lambda: nd._internal._split_v2(ones((4,)), indices=(), sections=3, axis=0),
     r"_split_v2.*\(4,\).*sections=3"),
    (lambda: nd.pad(ones((2, 2, 2)), pad_width=(0,) * 4 + (1, 1)), r"Pad.*\(2, 2, 2\).*4-D or 5-D"),
    (lambda: nd.pad(ones((1, 1, 2, 2)), pad_width=(1,) + (0,) * 7), r"Pad.*first two axes"),
    (lambda: nd.pad(ones((1, 1, 2, 2)), pad_width=(0,) * 4 + (1, 1)), r"Pad.*2 values per dim"),
    (lambda: nd.pad(ones((1, 1, 2, 2)), mode="reflect", pad_width=(0, 0, 0, 0, 2, 0, 0, 0)),
     r"Pad.*\(1, 1, 2, 2\).*smaller than the input"),
    (lambda: nd.pad(ones((1, 1, 2, 2)), mode="wrap", pad_width=(0,) * 8), r"Pad.*'mode'"),
])
def test_bad_input_raises_naming_op_and_shapes(call, message):
    with pytest.raises(mx.MXNetError, match=message):
        call()
