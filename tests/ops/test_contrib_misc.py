"""contrib gradientmultiplier, the exposed backward ops (backward_gradientmultiplier, backward_quadratic,
backward_index_copy), the interleaved attention matmuls, index_array, AdaptiveAvgPooling2D, count_sketch and
fft / ifft: OpSpecs against NumPy float64 references, MXNet 1.9.1's printed values
(fixtures/make_contrib_misc_fixtures.py) and errors."""
import json
import pathlib

import numpy as np
import pytest

import mxcy as mx
from tests.ops.opspec import OpSpec, spec_tests

FIXTURES = pathlib.Path(__file__).parent / "fixtures"
HIDDEN_BACKWARD = "a hidden backward op: MXNet 1.9.1 registers no gradient for it; the forward op's gradient " \
                  "check covers its values"


def _shape(rng):
    return tuple(int(d) for d in rng.integers(1, 4, size=int(rng.integers(1, 4))))


def _make_multiplier(rng):
    return [rng.uniform(-2, 2, _shape(rng))], {"scalar": float(rng.uniform(-3, 3))}


def _make_backward_quadratic(rng):
    shape = _shape(rng)
    return [rng.uniform(-2, 2, shape), rng.uniform(-2, 2, shape)], {k: float(rng.uniform(-2, 2)) for k in "abc"}


def _make_backward_index_copy(rng):
    rows, k, width = int(rng.integers(1, 5)), 0, int(rng.integers(1, 4))
    k = int(rng.integers(1, rows + 1))
    index = rng.permutation(rows)[:k].astype(np.float64)
    return [rng.uniform(-2, 2, (rows, width)), rng.uniform(-2, 2, (rows, width)), index,
            rng.uniform(-2, 2, (k, width))], {}


def _backward_index_copy(ograd, old, index, new):
    rows = index.astype(int)
    grad_old = ograd.copy()
    grad_old[rows] = 0
    return grad_old, np.zeros_like(index), ograd[rows]


# --- attention: references written per attention batch (batch b, head h) with explicit slices -----------

def _dims(rng):
    return {k: int(rng.integers(1, 4)) for k in ("seq_q", "seq_k", "batch", "heads", "head_dim")}


def _heads_of(x, heads, parts, part):
    """[b * heads + h] -> (seq, head_dim) slice of part `part` of an interleaved (seq, batch, ...) input."""
    seq, batch, width = x.shape
    d = width // (heads * parts)
    return [x[:, b, (h * parts + part) * d:(h * parts + part + 1) * d] for b in range(batch) for h in range(heads)]


def _qk_reference(q_slices, k_slices):
    return np.stack([q @ k.T / np.sqrt(q.shape[1]) for q, k in zip(q_slices, k_slices)])


def _valatt_reference(v_slices, att, batch, heads):
    out = np.stack([a @ v for a, v in zip(att, v_slices)])  # (batch * heads, seq_q, head_dim)
    seq_q, d = out.shape[1], out.shape[2]
    return out.reshape(batch, heads, seq_q, d).transpose(2, 0, 1, 3).reshape(seq_q, batch, heads * d)


def _make_selfatt_qk(rng):
    n = _dims(rng)
    return [rng.uniform(-1, 1, (n["seq_q"], n["batch"], n["heads"] * 3 * n["head_dim"]))], {"heads": n["heads"]}


def _selfatt_qk(qkv, heads):
    return _qk_reference(_heads_of(qkv, heads, 3, 0), _heads_of(qkv, heads, 3, 1))


def _make_selfatt_valatt(rng):
    n = _dims(rng)
    return [rng.uniform(-1, 1, (n["seq_q"], n["batch"], n["heads"] * 3 * n["head_dim"])),
            rng.uniform(0, 1, (n["batch"] * n["heads"], n["seq_q"], n["seq_q"]))], {"heads": n["heads"]}


def _selfatt_valatt(qkv, att, heads):
    return _valatt_reference(_heads_of(qkv, heads, 3, 2), att, qkv.shape[1], heads)


def _make_encdec_qk(rng):
    n = _dims(rng)
    return [rng.uniform(-1, 1, (n["seq_q"], n["batch"], n["heads"] * n["head_dim"])),
            rng.uniform(-1, 1, (n["seq_k"], n["batch"], n["heads"] * 2 * n["head_dim"]))], {"heads": n["heads"]}


def _encdec_qk(queries, keys_values, heads):
    return _qk_reference(_heads_of(queries, heads, 1, 0), _heads_of(keys_values, heads, 2, 0))


def _make_encdec_valatt(rng):
    n = _dims(rng)
    return [rng.uniform(-1, 1, (n["seq_k"], n["batch"], n["heads"] * 2 * n["head_dim"])),
            rng.uniform(0, 1, (n["batch"] * n["heads"], n["seq_q"], n["seq_k"]))], {"heads": n["heads"]}


def _encdec_valatt(keys_values, att, heads):
    return _valatt_reference(_heads_of(keys_values, heads, 2, 1), att, keys_values.shape[1], heads)


def _numeric_input_grads(reference, arrays, attrs, head, eps=1e-6):
    """float64 central differences of sum(reference(*arrays) * head) for every input: the backward ops'
    reference."""
    grads = []
    for i, a in enumerate(arrays):
        grad = np.zeros_like(a)
        for j in range(a.size):
            plus, minus = [x.copy() for x in arrays], [x.copy() for x in arrays]
            plus[i].reshape(-1)[j] += eps
            minus[i].reshape(-1)[j] -= eps
            grad.reshape(-1)[j] = ((reference(*plus, **attrs) - reference(*minus, **attrs)) * head).sum() / (2 * eps)
        grads.append(grad)
    return tuple(grads)


def _backward_spec(name, make, reference):
    """The hidden backward op: inputs (head gradient, forward inputs), outputs the input gradients."""
    def make_backward(rng):
        arrays, attrs = make(rng)
        out = reference(*arrays, **attrs)
        return [rng.standard_normal(out.shape)] + arrays, attrs

    def backward_reference(ograd, *arrays, **attrs):
        grads = _numeric_input_grads(reference, list(arrays), attrs, ograd)
        return grads if len(grads) > 1 else grads[0]

    return OpSpec("_backward_" + name[len("_contrib_"):], make_backward, backward_reference, grad=False, why=HIDDEN_BACKWARD,
                  rtol=1e-4, atol=1e-5)


def _make_index_array(rng):
    x = rng.uniform(-1, 1, _shape(rng))
    if rng.integers(2):
        return [x], {}
    return [x], {"axes": tuple(int(a) for a in rng.integers(-x.ndim, x.ndim, size=int(rng.integers(1, 4))))}


def _index_array(data, axes=None):
    axes = range(data.ndim) if axes is None else axes
    out = np.zeros(data.shape + (len(axes),), np.int64)
    for position in np.ndindex(*data.shape):
        out[position] = [position[a] for a in axes]
    return out


def _make_adaptive(rng):
    x = rng.uniform(-1, 1, (int(rng.integers(1, 3)), int(rng.integers(1, 3)), int(rng.integers(1, 6)),
                           int(rng.integers(1, 6))))
    size = [(), (int(rng.integers(1, 5)),), (int(rng.integers(1, 5)), int(rng.integers(1, 5)))][int(rng.integers(3))]
    return [x], {"output_size": size}


def _adaptive(data, output_size):
    oh, ow = (output_size or (1,))[0], (output_size or (1,))[-1]
    h, w = data.shape[2:]
    out = np.zeros(data.shape[:2] + (oh, ow))
    for i in range(oh):
        for j in range(ow):
            rows = slice(int(np.floor(i * h / oh)), int(np.ceil((i + 1) * h / oh)))
            cols = slice(int(np.floor(j * w / ow)), int(np.ceil((j + 1) * w / ow)))
            out[:, :, i, j] = data[:, :, rows, cols].mean(axis=(2, 3))
    return out


def _make_adaptive_backward(rng):
    [x], attrs = _make_adaptive(rng)
    return [rng.standard_normal(_adaptive(x, **attrs).shape), x], attrs


def _adaptive_backward(ograd, data, output_size):
    return _numeric_input_grads(_adaptive, [data], {"output_size": output_size}, ograd)[0]


def _make_count_sketch(rng):
    d, out_dim = int(rng.integers(1, 5)), int(rng.integers(1, 5))
    shape = (int(rng.integers(1, 4)), d) if rng.integers(2) else (2, 1, 2, d)
    return [rng.uniform(-2, 2, shape), rng.integers(0, out_dim, (1, d)).astype(np.float64),
            rng.choice([-1.0, 1.0], (1, d))], {"out_dim": out_dim}


def _count_sketch(data, h, s, out_dim, processing_batch_size=32):
    out = np.zeros(data.shape[:-1] + (out_dim,))
    for j in range(data.shape[-1]):
        out[..., int(h[0, j])] += data[..., j] * s[0, j]
    return out


def _make_fft(rng):
    return [rng.uniform(-1, 1, _shape(rng))], {}


def _dft(x, sign):
    n = x.shape[-1]
    k = np.arange(n)
    return x @ np.exp(sign * 2j * np.pi * np.outer(k, k) / n)


def _fft(data):
    spectrum = _dft(data.astype(complex), -1)
    out = np.zeros(data.shape[:-1] + (2 * data.shape[-1],))
    out[..., 0::2], out[..., 1::2] = spectrum.real, spectrum.imag
    return out


def _make_ifft(rng):
    shape = _shape(rng)
    return [rng.uniform(-1, 1, shape[:-1] + (2 * shape[-1],))], {}


def _ifft(data):
    return _dft(data[..., 0::2] + 1j * data[..., 1::2], 1).real


def _make_hawkes(rng):
    n, t, k = int(rng.integers(1, 4)), int(rng.integers(1, 5)), int(rng.integers(1, 4))
    lags = rng.uniform(0.1, 1, (n, t))
    valid = rng.integers(0, t + 1, n).astype(np.float64)
    return [rng.uniform(0.5, 2, (n, k)), rng.uniform(0.1, 0.8, k), rng.uniform(0.5, 3, k), rng.uniform(0, 1, (n, k)),
            lags, rng.integers(0, k, (n, t)).astype(np.int32), valid, lags.sum(axis=1) + rng.uniform(0, 1, n)], {}


def _hawkes(lda, alpha, beta, state, lags, marks, valid_length, max_time):
    """Straight from the definition: the log intensities at the events minus the integrated intensity, the kernel
    sums taken over every earlier event (and the initial state as an event-time-0 memory)."""
    n, k = lda.shape
    ll, final = np.zeros(n), np.zeros((n, k))
    for i in range(n):
        count = int(valid_length[i])
        times, kinds = np.cumsum(lags[i, :count]), marks[i, :count]
        for c in range(k):
            own = times[kinds == c]
            for j, tj in enumerate(own):
                excitation = state[i, c] * np.exp(-beta[c] * tj) + np.exp(-beta[c] * (tj - own[:j])).sum()
                ll[i] += np.log(lda[i, c] + alpha[c] * beta[c] * excitation)
            end = max_time[i]
            ll[i] -= lda[i, c] * end + alpha[c] * (state[i, c] * (1 - np.exp(-beta[c] * end))
                                                   + (1 - np.exp(-beta[c] * (end - own))).sum())
            final[i, c] = state[i, c] * np.exp(-beta[c] * end) + np.exp(-beta[c] * (end - own)).sum()
    return ll, final


def _make_backward_hawkes(rng):
    arrays, attrs = _make_hawkes(rng)
    n, k = arrays[0].shape
    return [rng.standard_normal(n), rng.standard_normal((n, k))] + arrays, attrs


def _backward_hawkes(ograd, ograd_state, *inputs):
    """Central differences of sum(loglik * ograd) in lda, alpha, beta; zeros for the rest (MXNet's rule)."""
    grads = _numeric_input_grads(lambda *x: _hawkes(*x, *inputs[3:])[0], list(inputs[:3]), {}, ograd)
    return grads + tuple(np.zeros_like(x) for x in inputs[3:])


_ATTENTION = [("_contrib_interleaved_matmul_selfatt_qk", _make_selfatt_qk, _selfatt_qk),
              ("_contrib_interleaved_matmul_selfatt_valatt", _make_selfatt_valatt, _selfatt_valatt),
              ("_contrib_interleaved_matmul_encdec_qk", _make_encdec_qk, _encdec_qk),
              ("_contrib_interleaved_matmul_encdec_valatt", _make_encdec_valatt, _encdec_valatt)]

SPECS = [
    OpSpec("_contrib_gradientmultiplier", _make_multiplier, lambda x, scalar: x, grad=False,
           why="the gradient is the head gradient times scalar by design, not the derivative of the identity; "
               "test_gradientmultiplier_scales_the_gradient checks it"),
    OpSpec("_contrib_backward_gradientmultiplier", _make_multiplier, lambda x, scalar: x * scalar),
    OpSpec("_contrib_backward_quadratic", _make_backward_quadratic,
           lambda ograd, data, a, b, c: ograd * (2 * a * data + b)),
    OpSpec("_contrib_backward_index_copy", _make_backward_index_copy, _backward_index_copy, grad_inputs=(0,)),
    OpSpec("_contrib_index_array", _make_index_array, _index_array, grad=False,
           why="integer indices: MXNet 1.9.1 gives the data a zero gradient, which test_values_printed_by_mxnet checks"),
    OpSpec("_contrib_AdaptiveAvgPooling2D", _make_adaptive, _adaptive),
    OpSpec("_backward_contrib_AdaptiveAvgPooling2D", _make_adaptive_backward, _adaptive_backward, grad_inputs=(0,),
           rtol=1e-4, atol=1e-5),
    OpSpec("_contrib_count_sketch", _make_count_sketch, _count_sketch, grad_inputs=(0,)),
    OpSpec("_contrib_fft", _make_fft, _fft, rtol=1e-4, atol=1e-5),
    OpSpec("_contrib_ifft", _make_ifft, _ifft, rtol=1e-4, atol=1e-5),
    OpSpec("_contrib_hawkesll", _make_hawkes, _hawkes, grad_inputs=(0, 1, 2), grad_outputs=(0,), rtol=1e-4,
           atol=1e-5),
    OpSpec("_contrib_backward_hawkesll", _make_backward_hawkes, _backward_hawkes, grad=False, why=HIDDEN_BACKWARD,
           rtol=1e-4, atol=1e-5),
] + [OpSpec(name, make, reference, rtol=1e-5, atol=1e-6) for name, make, reference in _ATTENTION] \
  + [_backward_spec(name, make, reference) for name, make, reference in _ATTENTION]

test_forward, test_gradient, test_req_add = spec_tests(SPECS)


def test_gradientmultiplier_scales_the_gradient():
    x = mx.nd.array([[1.0, -2.0], [3.0, 0.5]])
    x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.contrib.gradientmultiplier(x, scalar=-0.5) * 3
    y.backward()
    assert y.asnumpy().tolist() == [[3.0, -6.0], [9.0, 1.5]]
    assert x.grad.asnumpy().tolist() == [[-1.5, -1.5], [-1.5, -1.5]]


def test_backward_ops_compute_the_forward_ops_gradients():
    """The exposed backward ops give what autograd gives through the forward ops."""
    x = mx.nd.array([0.5, -1.0, 2.0])
    x.attach_grad()
    head = mx.nd.array([1.0, 2.0, -3.0])
    with mx.autograd.record():
        y = mx.nd.contrib.quadratic(x, a=1.5, b=-2.0, c=4.0)
    y.backward(head)
    assert np.allclose(mx.nd.contrib.backward_quadratic(head, x, a=1.5, b=-2.0, c=4.0).asnumpy(), x.grad.asnumpy())
    old, index, new = mx.nd.zeros((4, 2)), mx.nd.array([3, 0]), mx.nd.ones((2, 2))
    old.attach_grad()
    new.attach_grad()
    head = mx.nd.arange(8).reshape((4, 2))
    with mx.autograd.record():
        y = mx.nd.contrib.index_copy(old, index, new)
    y.backward(head)
    grad_old, _, grad_new = mx.nd.contrib.backward_index_copy(head, old, index, new)
    assert grad_old.asnumpy().tolist() == old.grad.asnumpy().tolist() == [[0, 0], [2, 3], [4, 5], [0, 0]]
    assert grad_new.asnumpy().tolist() == new.grad.asnumpy().tolist() == [[6, 7], [0, 1]]


@pytest.mark.parametrize("case", json.loads((FIXTURES / "contrib_misc_reference.json").read_text()),
                         ids=lambda case: case["op"])
def test_values_printed_by_mxnet(case):
    inputs = [np.array(a, np.int32 if case["op"] == "hawkesll" and i == 5 else np.float32)
              for i, a in enumerate(case["inputs"])]
    arrays = [mx.nd.array(a, dtype=a.dtype) for a in inputs]
    differentiated = arrays[:len(case["grads"])]
    for a in differentiated:
        a.attach_grad()
    with mx.autograd.record():
        out = getattr(mx.nd.contrib, case["op"])(*arrays, **case["kwargs"])
    if "state" in case:
        out, state = out
        np.testing.assert_allclose(state.asnumpy(), case["state"], rtol=1e-4, atol=1e-6)
    out.backward(mx.nd.array(np.linspace(-1, 1, out.size).reshape(out.shape)))
    assert out.dtype == np.dtype(np.int64 if case["op"] == "index_array" else np.float32)
    np.testing.assert_allclose(out.asnumpy(), case["output"], rtol=1e-5, atol=1e-6)
    for a, grad in zip(differentiated, case["grads"]):
        np.testing.assert_allclose(a.grad.asnumpy(), grad, rtol=1e-4, atol=1e-5)


def test_attention_symbols_infer_shapes():
    qkv = mx.sym.var("qkv")
    scores = mx.sym.contrib.interleaved_matmul_selfatt_qk(qkv, heads=2)
    context = mx.sym.contrib.interleaved_matmul_selfatt_valatt(qkv, mx.sym.softmax(scores), heads=2)
    _, out_shapes, _ = context.infer_shape(qkv=(5, 3, 2 * 3 * 4))
    assert out_shapes == [(5, 3, 8)]
    assert scores.infer_shape(qkv=(5, 3, 24))[1] == [(6, 5, 5)]


def _hawkes_call(**changed):
    """contrib.hawkesll on one sample of two events and two marks, with `changed` inputs."""
    inputs = dict(lda=mx.nd.ones((1, 2)), alpha=mx.nd.array([0.5, 0.5]), beta=mx.nd.ones((2,)), state=mx.nd.zeros((1, 2)),
                  lags=mx.nd.array([[0.5, 0.5]]), marks=mx.nd.array([[0, 1]], dtype="int32"),
                  valid_length=mx.nd.array([2]), max_time=mx.nd.array([2]))
    inputs.update(changed)
    return mx.nd.contrib.hawkesll(**inputs)[0].asnumpy()


@pytest.mark.parametrize("call, match", [
    (lambda: mx.nd.contrib.interleaved_matmul_selfatt_qk(mx.nd.ones((2, 3, 10)), heads=2),
     r"_contrib_interleaved_matmul_selfatt_qk.*\(2, 3, 10\).*queries_keys_values's last dimension 10 is not "
     r"heads \(2\) x 3"),
    (lambda: mx.nd.contrib.interleaved_matmul_selfatt_qk(mx.nd.ones((2, 12)), heads=2),
     r"_contrib_interleaved_matmul_selfatt_qk.*queries_keys_values must be 3-D.*\(2, 12\)"),
    (lambda: mx.nd.contrib.interleaved_matmul_encdec_qk(mx.nd.ones((2, 3, 4)), mx.nd.ones((2, 2, 8)), heads=2),
     r"_contrib_interleaved_matmul_encdec_qk.*queries \(2, 3, 4\) and keys \(2, 2, 8\)"),
    (lambda: mx.nd.contrib.interleaved_matmul_encdec_valatt(mx.nd.ones((4, 3, 8)), mx.nd.ones((6, 2, 3)), heads=2),
     r"_contrib_interleaved_matmul_encdec_valatt.*attention \(6, 2, 3\) must be"),
    (lambda: mx.nd.contrib.interleaved_matmul_selfatt_valatt(mx.nd.ones((2, 1, 6), dtype="int32"),
                                                             mx.nd.ones((1, 2, 2), dtype="int32"), heads=1),
     r"_contrib_interleaved_matmul_selfatt_valatt.*int32"),
    (lambda: mx.nd.contrib.interleaved_matmul_selfatt_qk(mx.nd.ones((2, 1, 6))),
     r"_contrib_interleaved_matmul_selfatt_qk.*required argument 'heads'"),
    (lambda: mx.nd.contrib.backward_quadratic(mx.nd.ones((2,)), mx.nd.ones((3,)), a=1),
     r"_contrib_backward_quadratic.*ograd \(2,\) and data \(3,\)"),
    (lambda: mx.nd.contrib.backward_index_copy(mx.nd.ones((3, 3)), mx.nd.ones((3, 2)), mx.nd.array([0]),
                                               mx.nd.ones((1, 2))),
     r"_contrib_backward_index_copy.*ograd \(3, 3\) must have old_tensor's shape \(3, 2\)"),
    (lambda: mx.nd.contrib.index_array(mx.nd.ones((2, 3)), axes=(2,)), r"_contrib_index_array.*\(2, 3\).*axes \(2,\)"),
    (lambda: mx.nd.contrib.AdaptiveAvgPooling2D(mx.nd.ones((2, 3, 4)), output_size=2),
     r"_contrib_AdaptiveAvgPooling2D.*data must be 4-D.*\(2, 3, 4\)"),
    (lambda: mx.nd.contrib.AdaptiveAvgPooling2D(mx.nd.ones((1, 1, 4, 4)), output_size=(1, 2, 3)),
     r"_contrib_AdaptiveAvgPooling2D.*output_size \(1, 2, 3\)"),
    (lambda: mx.nd.contrib.count_sketch(mx.nd.ones((2, 3)), mx.nd.array([[0, 5, 1]]), mx.nd.ones((1, 3)),
                                        out_dim=4).asnumpy(),
     r"_contrib_count_sketch.*h \[\[0.0, 5.0, 1.0\]\].*out_dim=4"),
    (lambda: mx.nd.contrib.count_sketch(mx.nd.ones((2, 3)), mx.nd.ones((1, 2)), mx.nd.ones((1, 3)), out_dim=4),
     r"_contrib_count_sketch.*data \(2, 3\), h \(1, 2\), s \(1, 3\)"),
    (lambda: mx.nd.contrib.ifft(mx.nd.ones((2, 3))), r"_contrib_ifft.*\(2, 3\) must end in an even number"),
    (lambda: _hawkes_call(marks=mx.nd.array([[0, 2]], dtype="int32")), r"_contrib_hawkesll.*marks \[0, 2\].*\[0, 2\)"),
    (lambda: _hawkes_call(alpha=mx.nd.ones((3,))), r"_contrib_hawkesll.*alpha has shape \(3,\), expected \(2,\)"),
])
def test_bad_input_raises_naming_op(call, match):
    with pytest.raises(mx.MXNetError, match=match):
        call()


def test_unique_zipfian_rows_hold_distinct_classes():
    # MXNet 1.9.1's test_unique_zipfian_generator: its reference number of draws, from PyTorch, is 14500-17000.
    classes, tries = mx.nd._internal._sample_unique_zipfian(793472, shape=(4, 8192))
    classes, tries = classes.asnumpy(), tries.asnumpy()
    assert classes.dtype == tries.dtype == np.int64 and classes.shape == (4, 8192) and tries.shape == (4,)
    assert all(np.unique(row).size == 8192 for row in classes)
    assert classes.min() >= 0 and classes.max() < 793472
    assert np.all((tries > 14500) & (tries < 17000)), tries


def test_unique_zipfian_first_draws_follow_the_rounded_log_uniform_law():
    mx.random.seed(11)
    range_max, n = 5, 20000
    first = mx.nd._internal._sample_unique_zipfian(range_max, shape=(n, 1))[0].asnumpy()[:, 0]
    edges = np.log(np.clip(np.arange(range_max + 1) + 0.5, 1, range_max)) / np.log(range_max)
    want = np.diff(edges)  # class c: exp(u log range_max) rounds to c + 1
    frequency = np.bincount(first, minlength=range_max) / n
    assert np.all(np.abs(frequency - want) < 5 * np.sqrt(want * (1 - want) / n)), (frequency, want)


def test_unique_zipfian_repeats_under_a_seed_and_checks_its_shape():
    draws = []
    for _ in range(2):
        mx.random.seed(5)
        draws.append(mx.nd._internal._sample_unique_zipfian(50, shape=(2, 10))[0].asnumpy().tolist())
    assert draws[0] == draws[1]
    with pytest.raises(mx.MXNetError, match=r"_sample_unique_zipfian.*shape \(2, 6\).*range_max \(5\)"):
        mx.nd._internal._sample_unique_zipfian(5, shape=(2, 6))
