"""The fused RNN operator and _rnn_param_concat against a float64 step-by-step NumPy reference (every mode,
layers, directions, LSTM projection and clipping, valid lengths); dropout between layers in training."""
import numpy as np
import pytest

import mxcy as mx
from tests.ops.opspec import OpSpec, spec_tests

GATES = {"rnn_relu": 1, "rnn_tanh": 1, "lstm": 4, "gru": 3}

NO_SPEC = {"_backward_RNN": "RNN's gradient; checked numerically by the RNN specs"}


def _sig(x):
    return 1 / (1 + np.exp(-x))


def _unpack(params, mode, layers, dirs, width, hidden, projection):
    """{(layer, direction): {name: array}} from the packed vector: all weights (i2h, h2h, h2r per layer and
    direction), then all biases (i2h, h2h)."""
    rows, out = GATES[mode] * hidden, projection or hidden
    pieces, at = {}, 0
    for kind in ("weight", "bias"):
        for layer in range(layers):
            for d in range(dirs):
                w = width if layer == 0 else dirs * out
                shapes = [("i2h", (rows, w)), ("h2h", (rows, out))] + ([("h2r", (out, hidden))] if projection
                                                                       else [])
                for part, shape in (shapes if kind == "weight" else [("i2h", (rows,)), ("h2h", (rows,))]):
                    size = int(np.prod(shape))
                    pieces.setdefault((layer, d), {})[f"{part}_{kind}"] = params[at:at + size].reshape(shape)
                    at += size
    assert at == params.size
    return pieces


def _step(mode, w, x, h, c, clip):
    a = w["i2h_weight"] @ x + w["i2h_bias"] + w["h2h_weight"] @ h + w["h2h_bias"]
    if mode == "rnn_relu":
        return np.maximum(a, 0), None
    if mode == "rnn_tanh":
        return np.tanh(a), None
    if mode == "lstm":
        i, f, g, o = np.split(a, 4)
        c = _sig(f) * c + _sig(i) * np.tanh(g)
        if clip is not None:
            c = np.clip(c, *clip)
        h = _sig(o) * np.tanh(c)
        return (w["h2r_weight"] @ h if "h2r_weight" in w else h), c
    hr = np.split(w["h2h_weight"] @ h + w["h2h_bias"], 3)
    xr = np.split(w["i2h_weight"] @ x + w["i2h_bias"], 3)
    r, z = _sig(xr[0] + hr[0]), _sig(xr[1] + hr[1])
    n = np.tanh(xr[2] + r * hr[2])
    return (1 - z) * n + z * h, None


def _rnn_ref(data, params, state, *rest, state_size, num_layers, mode, bidirectional=False, state_outputs=False,
             projection_size=None, lstm_state_clip_min=None, lstm_state_clip_max=None, use_sequence_length=False,
             p=0.0):
    cell = rest[0] if mode == "lstm" else None
    steps, batch, width = data.shape
    lengths = rest[-1].astype(int) if use_sequence_length else [steps] * batch
    clip = None if lstm_state_clip_min is None else (lstm_state_clip_min, lstm_state_clip_max)
    dirs = 2 if bidirectional else 1
    w = _unpack(params, mode, num_layers, dirs, width, state_size, projection_size)
    hy, cy = state.copy(), None if cell is None else cell.copy()
    x = data
    for layer in range(num_layers):
        outs = []
        for d in range(dirs):
            k = layer * dirs + d
            y = np.zeros((steps, batch, (projection_size or state_size)))
            for b in range(batch):
                h, c = state[k, b], None if cell is None else cell[k, b]
                order = range(lengths[b]) if d == 0 else reversed(range(lengths[b]))
                for t in order:
                    h, c = _step(mode, w[(layer, d)], x[t, b], h, c, clip)
                    y[t, b] = h
                hy[k, b] = h
                if cy is not None:
                    cy[k, b] = c
            outs.append(y)
        x = np.concatenate(outs, axis=2)
    return (x, hy, cy)[:1 + (2 if mode == "lstm" else 1) * state_outputs] if state_outputs else x


def _param_size(mode, layers, dirs, width, hidden, projection):
    rows, out = GATES[mode] * hidden, projection or hidden
    size = 0
    for layer in range(layers):
        w = width if layer == 0 else dirs * out
        size += dirs * (rows * (w + out + 2) + (out * hidden if projection else 0))
    return size


def _rnn_make(rng):
    mode = str(rng.choice(list(GATES)))
    layers, dirs = int(rng.integers(1, 3)), int(rng.integers(1, 3))
    steps, batch, width, hidden = (int(v) for v in rng.integers(1, 4, size=4))
    attrs = {"state_size": hidden, "num_layers": layers, "mode": mode, "bidirectional": dirs == 2,
             "state_outputs": bool(rng.random() < 0.7)}
    out = hidden
    if mode == "lstm" and rng.random() < 0.3:
        out = attrs["projection_size"] = int(rng.integers(1, 3))
    if mode == "lstm" and rng.random() < 0.3:
        attrs.update(lstm_state_clip_min=-0.3, lstm_state_clip_max=0.4)
    size = _param_size(mode, layers, dirs, width, hidden, attrs.get("projection_size"))
    arrays = [rng.standard_normal((steps, batch, width)), rng.uniform(-0.7, 0.7, size),
              rng.standard_normal((layers * dirs, batch, out))]
    if mode == "lstm":
        arrays.append(rng.standard_normal((layers * dirs, batch, hidden)))
    if rng.random() < 0.3:
        attrs["use_sequence_length"] = True
        arrays.append(rng.integers(1, steps + 1, size=batch).astype(np.int32))  # int: not differentiated
    return arrays, attrs


SPECS = [
    # clipping makes the function flat where clipped; draws land away from the bounds by far more than eps
    OpSpec("RNN", _rnn_make, _rnn_ref, rtol=1e-4, atol=1e-5),
    OpSpec("_rnn_param_concat", lambda rng: ([rng.standard_normal(int(n)) for n in rng.integers(1, 5, size=3)],
                                             {"num_args": 3, "dim": 0}),
           lambda *xs, num_args, dim: np.concatenate(xs)),
]


test_forward, test_gradient, test_req_add = spec_tests(SPECS)


def test_dropout_between_layers_in_training_only():
    x = mx.nd.ones((3, 4, 2))
    attrs = dict(state_size=5, num_layers=2, mode="rnn_relu", p=0.5)
    params = mx.nd.ones((int(_param_size("rnn_relu", 2, 1, 2, 5, None)),)) * 0.1
    state = mx.nd.zeros((2, 4, 5))
    inference = mx.nd.RNN(x, params, state, **attrs)
    without = mx.nd.RNN(x, params, state, **dict(attrs, p=0.0))
    np.testing.assert_allclose(inference.asnumpy(), without.asnumpy(), rtol=1e-6)
    with mx.autograd.train_mode():
        trained = mx.nd.RNN(x, params, state, **attrs)
    assert not np.allclose(trained.asnumpy(), without.asnumpy())


@pytest.mark.parametrize("call,message", [
    (lambda: mx.nd.RNN(mx.nd.ones((2, 3)), mx.nd.ones((10,)), mx.nd.ones((1, 3, 2)), state_size=2,
                       num_layers=1, mode="gru"), r"RNN.*\(2, 3\).*sequence length, batch, input"),
    (lambda: mx.nd.RNN(mx.nd.ones((2, 3, 4)), mx.nd.ones((10,)), mx.nd.ones((1, 3, 2)), state_size=2,
                       num_layers=1, mode="gru"), r"RNN.*parameters has shape \(10,\).*need \(48,\)"),
    (lambda: mx.nd.RNN(mx.nd.ones((2, 3, 4)), mx.nd.ones((48,)), mx.nd.ones((1, 3, 2)), state_size=2,
                       num_layers=1, mode="gru", projection_size=1), r"RNN.*projection_size=1 needs mode='lstm'"),
    (lambda: mx.nd.RNN(mx.nd.ones((2, 3, 4)), mx.nd.ones((48,)), mx.nd.ones((1, 3, 2)), state_size=2,
                       num_layers=1, mode="lstmp"), r"RNN.*'mode'"),
])
def test_bad_input_raises_naming_op_and_shapes(call, message):
    with pytest.raises(mx.MXNetError, match=message):
        call()
