"""Float64 NumPy step formulas of the gluon.rnn cells (gates in MXNet's order) and the MXNet 1.9.1 fixture reader."""
import json
import os

import numpy as np

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "rnn_reference")


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def step(kind, w, x, states):
    """(output, new states) of one step of cell `kind` ('rnn_tanh', 'rnn_relu', 'lstm', 'gru') on batch rows."""
    i2h = x @ w["i2h_weight"].T + w["i2h_bias"]
    h2h = states[0] @ w["h2h_weight"].T + w["h2h_bias"]
    if kind == "rnn_tanh":
        h = np.tanh(i2h + h2h)
        return h, [h]
    if kind == "rnn_relu":
        h = np.maximum(i2h + h2h, 0)
        return h, [h]
    if kind == "lstm":
        i, f, g, o = np.split(i2h + h2h, 4, axis=1)
        c = sigmoid(f) * states[1] + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
        return h, [h, c]
    xr, xz, xn = np.split(i2h, 3, axis=1)
    hr, hz, hn = np.split(h2h, 3, axis=1)
    r, z = sigmoid(xr + hr), sigmoid(xz + hz)
    n = np.tanh(xn + r * hn)
    h = (1 - z) * n + z * states[0]
    return h, [h]


def unroll(kind, w, xs, states, lengths=None, reverse=False):
    """Outputs (steps, batch, hidden) and final states of `kind` over xs (steps, batch, in); past a sequence's
    length its outputs are 0 and its states stay; reverse runs each sequence's valid steps backwards."""
    steps, batch = xs.shape[:2]
    lengths = [steps] * batch if lengths is None else [int(n) for n in lengths]
    outs, final = None, [np.empty_like(s) for s in states]
    for b in range(batch):
        st = [s[b:b + 1] for s in states]
        order = range(lengths[b]) if not reverse else reversed(range(lengths[b]))
        for t in order:
            h, st = step(kind, w, xs[t, b:b + 1], st)
            if outs is None:
                outs = np.zeros((steps, batch, h.shape[1]))
            outs[t, b] = h[0]
        for f, s in zip(final, st):
            f[b] = s[0]
    return outs, final


def fixture():
    """(meta per case, arrays) written by fixtures/make_rnn_fixtures.py with MXNet 1.9.1."""
    with open(FIXTURE + ".json") as f:
        meta = json.load(f)
    return meta, np.load(FIXTURE + ".npz")


def check_cell_against_mxnet(name, cls):
    """Unroll cell class `cls` built as fixture case `name` with MXNet's weights (NTC, merged) and compare its
    parameter shapes, outputs, states and the gradients of sum(outputs * ramp) with MXNet 1.9.1's."""
    import mxcy as mx

    meta, arrays = fixture()
    case = meta[name]
    cell = cls(**case["kwargs"])
    cell.initialize()
    cell.cast("float64")
    strip = lambda key: key.split("_", 1)[1] if "prefix" not in case["kwargs"] else key  # noqa: E731
    theirs = {strip(k): k for k in case["shapes"]}
    assert {strip(k): list(p.shape) for k, p in cell.collect_params().items()} == \
        {strip(k): v for k, v in case["shapes"].items()}
    for k, p in cell.collect_params().items():
        p.set_data(mx.nd.array(arrays[f"{name}/param/{theirs[strip(k)]}"], dtype="float64"))
    x = mx.nd.array(arrays[f"{name}/x"], dtype="float64")
    x.attach_grad()
    with mx.autograd.record():
        out, states = cell.unroll(x.shape[1], x, cell.begin_state(batch_size=x.shape[0], dtype="float64"),
                                  layout="NTC", merge_outputs=True)
        loss = (out * mx.nd.array(np.linspace(-1, 1, out.size).reshape(out.shape), dtype="float64")).sum()
    loss.backward()
    close = dict(rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(out.asnumpy(), arrays[f"{name}/out"], **close)
    np.testing.assert_allclose(x.grad.asnumpy(), arrays[f"{name}/dx"], **close)
    assert len(states) == case["n_states"]
    for i, s in enumerate(states):
        np.testing.assert_allclose(s.asnumpy(), arrays[f"{name}/state{i}"], **close)
    for k, p in cell.collect_params().items():
        np.testing.assert_allclose(p.grad().asnumpy(), arrays[f"{name}/grad/{theirs[strip(k)]}"], **close)
