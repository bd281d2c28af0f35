"""gluon.contrib.rnn dynamic_unroll: a tanh RNNCell run through contrib.foreach against a NumPy recurrence
(valid_length freezing the states and zeroing the outputs), in both layouts, imperative and hybridized, with
float64 numerical gradients."""
import numpy as np
import pytest

import mxcy as mx
from mxcy import gluon
from mxcy.gluon.contrib.rnn.rnn_cell import dynamic_unroll
from tests.ndarray.test_control_flow import numeric_gradient


def rnn_ref(data, h, wx, bx, wh, bh, lengths=None):
    """TNC data; returns (outputs, last states) of h' = tanh(x wx^T + bx + h wh^T + bh)."""
    outs = []
    for t, x in enumerate(data):
        new = np.tanh(x @ wx.T + bx + h @ wh.T + bh)
        if lengths is not None:
            running = (lengths > t)[:, None]
            new, out = np.where(running, new, h), np.where(running, new, 0)
        else:
            out = new
        outs.append(out)
        h = new
    return np.stack(outs), h


class Unroll(gluon.HybridBlock):
    def __init__(self, layout):
        super().__init__()
        self.layout = layout
        with self.name_scope():
            self.cell = gluon.rnn.RNNCell(3, input_size=2)

    def hybrid_forward(self, F, data, h, valid_length=None):
        out, states = dynamic_unroll(self.cell, data, [h], layout=self.layout, valid_length=valid_length)
        return out, states[0]


def _weights(block):
    c = block.cell
    return [p.data().asnumpy().astype(np.float64) for p in (c.i2h_weight, c.i2h_bias, c.h2h_weight, c.h2h_bias)]


@pytest.mark.parametrize("layout", ["TNC", "NTC"])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("hybridize", [False, True])
def test_dynamic_unroll_matches_a_numpy_recurrence(layout, masked, hybridize):
    rng = np.random.default_rng(7)
    data_tnc, h = rng.uniform(-1, 1, (4, 2, 2)), rng.uniform(-1, 1, (2, 3))
    lengths = np.array([2.0, 4.0]) if masked else None
    block = Unroll(layout)
    block.initialize(mx.init.Uniform(0.5))
    block.cast("float64")
    if hybridize:
        block.hybridize()
    data = data_tnc if layout == "TNC" else data_tnc.transpose(1, 0, 2)
    x = mx.nd.array(data, dtype="float64")
    x.attach_grad()
    args = [x, mx.nd.array(h, dtype="float64")]
    if masked:
        args.append(mx.nd.array(lengths))  # float32, as the step counter dynamic_unroll compares it with
    with mx.autograd.record():
        out, last = block(*args)
    head = rng.uniform(-1, 1, out.shape)
    out.backward(mx.nd.array(head, dtype="float64"))
    weights = _weights(block)
    want_out, want_last = rnn_ref(data_tnc, h, *weights, lengths)
    if layout == "NTC":
        want_out = want_out.transpose(1, 0, 2)
    np.testing.assert_allclose(out.asnumpy(), want_out, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(last.asnumpy(), want_last, rtol=1e-10, atol=1e-12)

    def loss_ref(d):
        o = rnn_ref(d if layout == "TNC" else d.transpose(1, 0, 2), h, *weights, lengths)[0]
        return [o if layout == "TNC" else o.transpose(1, 0, 2)]
    (numeric,) = numeric_gradient(loss_ref, [data], [head], (0,))
    np.testing.assert_allclose(x.grad.asnumpy(), numeric, rtol=1e-6, atol=1e-8)
