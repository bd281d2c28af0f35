"""mx.rnn.FusedRNNCell: the fused RNN op over the sequence equals its unfused stack (weights through
unpack_weights/pack_weights) and a float64 NumPy reference, for every mode, bidirectional and two layers; pack_weights
checks shapes. (Its graph against MXNet 1.9.1's is in test_rnn_cell.py's fixture table.)"""
import numpy as np
import pytest

import mxcy as mx
from tests.gluon.rnn._reference import unroll as numpy_unroll
from tests.rnn._graph import run_graph
from tests.rnn.fixtures.mx_rnn_cases import flatten


@pytest.mark.parametrize("mode", ["rnn_relu", "rnn_tanh", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_fused_equals_unfused_and_numpy(mode, bidirectional):
    rng = np.random.default_rng(3)
    steps, batch, width, hidden, layers = 3, 2, 4, 3, 2
    fused = mx.rnn.FusedRNNCell(hidden, num_layers=layers, mode=mode, bidirectional=bidirectional,
                                get_next_state=True, prefix="f_")
    data = mx.sym.Variable("data")
    out, states = fused.unroll(steps, data, layout="TNC", merge_outputs=True)
    group = mx.sym.Group([out] + states)
    shapes = {"data": (steps, batch, width)}
    packed = rng.uniform(-0.6, 0.6, dict(zip(group.list_arguments(), group.infer_shape(**shapes)[0]))["f_parameters"])
    xs = rng.standard_normal((steps, batch, width))
    fused_outs, _ = run_graph(group, shapes, {"data": xs, "f_parameters": packed}, np.float64)

    stack = fused.unfuse()  # its weights: the fused vector unpacked, then packed per cell
    unpacked = stack.pack_weights(fused.unpack_weights({"f_parameters": mx.nd.array(packed, dtype="float64")}))
    u_out, u_states = stack.unroll(steps, data, layout="TNC", merge_outputs=True)
    u_group = mx.sym.Group([u_out] + flatten(u_states))
    u_vals = {n: v.asnumpy() for n, v in unpacked.items()}
    u_vals["data"] = xs
    assert sorted(u_group.list_arguments()) == sorted(u_vals)
    unfused_outs, _ = run_graph(u_group, shapes, u_vals, np.float64)
    np.testing.assert_allclose(fused_outs[0], unfused_outs[0], rtol=1e-10, atol=1e-12)

    # NumPy: layer by layer, each direction on its own weights, reverse direction over the reversed sequence
    seq, finals = xs, []
    for layer in range(layers):
        outs = []
        for d in ("l", "r") if bidirectional else ("l",):
            w = {n: u_vals[f"f_{d}{layer}_{n}"] for n in ("i2h_weight", "i2h_bias", "h2h_weight", "h2h_bias")}
            n_states = 2 if mode == "lstm" else 1
            o, fin = numpy_unroll(mode, w, seq, [np.zeros((batch, hidden))] * n_states, reverse=d == "r")
            outs.append(o)
            finals.append(fin)
        seq = np.concatenate(outs, axis=2)
    np.testing.assert_allclose(fused_outs[0], seq, rtol=1e-10, atol=1e-12)
    for k, state in enumerate(fused_outs[1:]):
        np.testing.assert_allclose(state, np.stack([f[k] for f in finals]), rtol=1e-10, atol=1e-12)


def test_fused_pack_weights_checks_shapes():
    cell = mx.rnn.FusedRNNCell(2, mode="gru", prefix="g_")
    pieces = cell.unpack_weights({"g_parameters": mx.nd.zeros((3 * 2 * (4 + 2 + 2),))})
    pieces["g_l0_h2h_z_weight"] = mx.nd.zeros((2, 3))
    with pytest.raises(mx.MXNetError, match=r"g_l0_h2h_z_weight.*\(2, 3\).*\(2, 2\)"):
        cell.pack_weights(pieces)
