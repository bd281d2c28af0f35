"""SequenceMask, SequenceLast, SequenceReverse (and SequenceLast's gradient op) against loop references."""
import numpy as np
import pytest

import mxcy as mx
from tests.ops.opspec import OpSpec, spec_tests

nd = mx.nd


def _make(axes=(0, 1)):
    """(data, [lengths]) with time and batch axes of 1-4, 0-2 feature axes, lengths on half the draws."""
    def make(rng):
        axis = int(rng.choice(axes))
        steps, batch = (int(d) for d in rng.integers(1, 5, size=2))
        shape = [steps, batch] if axis == 0 else [batch, steps]
        shape += [int(d) for d in rng.integers(1, 4, size=rng.integers(0, 3))]
        attrs = {"axis": axis, "use_sequence_length": bool(rng.random() < 0.7)}
        arrays = [rng.standard_normal(shape)]
        if attrs["use_sequence_length"]:
            # float lengths as MXNet users pass them; SequenceLast needs at least one step
            arrays.append(rng.integers(1, steps + 1, size=batch).astype(np.float32))
        return arrays, attrs
    return make


def _steps_first(data, axis):
    return data if axis == 0 else np.swapaxes(data, 0, 1)


def _lengths(data, axis, seq):
    return [data.shape[axis]] * data.shape[1 - axis] if seq is None else [int(n) for n in seq]


def _mask_ref(data, seq=None, axis=0, use_sequence_length=False, value=0.0):
    out = _steps_first(data, axis).copy()
    for b, n in enumerate(_lengths(data, axis, seq)):
        out[n:, b] = value
    return _steps_first(out, axis)


def _last_ref(data, seq=None, axis=0, use_sequence_length=False):
    steps_first = _steps_first(data, axis)
    return np.stack([steps_first[n - 1, b] for b, n in enumerate(_lengths(data, axis, seq))])


def _reverse_ref(data, seq=None, axis=0, use_sequence_length=False):
    out = data.copy()
    for b, n in enumerate(_lengths(data, axis, seq)):
        out[:n, b] = data[:n, b][::-1]
    return out


def _mask_make(rng):
    arrays, attrs = _make()(rng)
    attrs["value"] = float(rng.choice([0.0, -1.5]))
    return arrays, attrs


def _last_backward_make(rng):
    (data, *seq), attrs = _make()(rng)
    head = rng.standard_normal(_last_ref(data, *seq, **attrs).shape)
    return [head, data] + seq, attrs


def _last_backward_ref(head, data, seq=None, axis=0, use_sequence_length=False):
    grad = np.zeros_like(_steps_first(data, axis))
    for b, n in enumerate(_lengths(data, axis, seq)):
        grad[n - 1, b] = head[b]
    return _steps_first(grad, axis)


SPECS = [
    OpSpec("SequenceMask", _mask_make, _mask_ref, grad_inputs=(0,)),
    OpSpec("SequenceLast", _make(), _last_ref, grad_inputs=(0,)),
    OpSpec("SequenceReverse", _make(axes=(0,)), _reverse_ref, grad_inputs=(0,)),
    OpSpec("_backward_SequenceLast", _last_backward_make, _last_backward_ref, grad_inputs=(0,)),
]

test_forward, test_gradient, test_req_add = spec_tests(SPECS)


def test_lengths_of_other_dtype_keep_their_type():
    data = nd.array(np.arange(6).reshape(3, 2))
    out = nd.SequenceMask(data, nd.array([1, 2], dtype="int32"), use_sequence_length=True)
    assert out.dtype == np.float32
    assert out.asnumpy().tolist() == [[0, 1], [0, 3], [0, 0]]


def test_symbol_lists_sequence_length_only_when_used():
    x = mx.sym.var("x")
    assert mx.sym.SequenceLast(x).list_arguments() == ["x"]
    assert mx.sym.SequenceLast(x, mx.sym.var("n"), use_sequence_length=True).list_arguments() == ["x", "n"]
    _, out, _ = mx.sym.SequenceLast(x, axis=1).infer_shape(x=(2, 5, 3))
    assert out == [(2, 3)]


@pytest.mark.parametrize("call,message", [
    (lambda: nd.SequenceMask(nd.ones((3,))), r"SequenceMask.*\(3,\).*time and a batch axis"),
    (lambda: nd.SequenceMask(nd.ones((3, 2)), axis=2), r"SequenceMask.*axis=2"),
    (lambda: nd.SequenceLast(nd.ones((3, 2)), nd.ones((3,)), use_sequence_length=True),
     r"SequenceLast.*\(3,\).*\(3, 2\).*\(2,\)"),
    (lambda: nd.SequenceReverse(nd.ones((3, 2)), axis=1), r"SequenceReverse.*axis 0 only"),
    (lambda: nd.SequenceLast(nd.ones((3, 2)), nd.array([0, 1]), use_sequence_length=True).asnumpy(),
     r"SequenceLast.*outside \[1, 3\]"),
    (lambda: nd.SequenceReverse(nd.ones((3, 2)), nd.array([4, 1]), use_sequence_length=True).asnumpy(),
     r"SequenceReverse.*outside \[0, 3\]"),
])
def test_bad_input_raises_naming_op_and_shapes(call, message):
    with pytest.raises(mx.MXNetError, match=message):
        call()
