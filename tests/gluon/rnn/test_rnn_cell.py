"""gluon.rnn cells: steps and unroll against float64 NumPy formulas, the wrapper cells, symbol names, hybridized ==
imperative, numerical gradients, and MXNet 1.9.1's numbers (fixtures/)."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import mxcy as mx
from mxcy import gluon
from tests.gluon.rnn._reference import check_cell_against_mxnet, unroll

rnn = gluon.rnn
KINDS = {"rnn_tanh": lambda h, **kw: rnn.RNNCell(h, activation="tanh", **kw),
         "rnn_relu": lambda h, **kw: rnn.RNNCell(h, activation="relu", **kw),
         "lstm": lambda h, **kw: rnn.LSTMCell(h, **kw),
         "gru": lambda h, **kw: rnn.GRUCell(h, **kw)}


def _cell(kind, hidden, width, rng, **kwargs):
    """A float64 cell of `kind` with uniform random weights, and those weights by short name."""
    cell = KINDS[kind](hidden, input_size=width, **kwargs)
    cell.initialize()
    cell.cast("float64")
    weights = {}
    for name, p in cell.collect_params().items():
        weights[name[len(cell.prefix):]] = value = rng.uniform(-0.6, 0.6, p.shape)
        p.set_data(mx.nd.array(value, dtype="float64"))
    return cell, weights


def _nd(a):
    return mx.nd.array(a, dtype="float64")


def _states(cell, batch, rng):
    return [rng.standard_normal(info["shape"]) for info in cell.state_info(batch)]


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("layout", ["NTC", "TNC"])
@pytest.mark.parametrize("merge", [True, False])
@settings(max_examples=3, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_unroll_matches_numpy_steps(kind, layout, merge, seed):
    rng = np.random.default_rng(seed)
    steps, batch, width, hidden = (int(v) for v in rng.integers(1, 4, size=4))
    cell, w = _cell(kind, hidden, width, rng)
    xs = rng.standard_normal((steps, batch, width))
    begin = _states(cell, batch, rng)
    use_lengths = rng.random() < 0.5
    lengths = rng.integers(1, steps + 1, size=batch) if use_lengths else None
    inputs = _nd(xs if layout == "TNC" else xs.swapaxes(0, 1))
    out, states = cell.unroll(steps, inputs, [_nd(s) for s in begin], layout=layout, merge_outputs=merge,
                              valid_length=_nd(lengths) if use_lengths else None)
    want, want_states = unroll(kind, w, xs, begin, lengths)
    got = out.asnumpy() if merge else np.stack([o.asnumpy() for o in out], axis=layout.find("T"))
    np.testing.assert_allclose(got, want if layout == "TNC" else want.swapaxes(0, 1), rtol=1e-10, atol=1e-12)
    for s, ws in zip(states, want_states):
        np.testing.assert_allclose(s.asnumpy(), ws, rtol=1e-10, atol=1e-12)


def test_cell_parameters_and_symbol_names_are_mxnets():
    cell = rnn.LSTMCell(100, prefix="rnn_")
    outputs, _ = cell.unroll(3, [mx.sym.var(f"rnn_t{i}_data") for i in range(3)])
    outputs = mx.sym.Group(outputs)
    assert sorted(cell.collect_params().keys()) == ["rnn_h2h_bias", "rnn_h2h_weight", "rnn_i2h_bias",
                                                    "rnn_i2h_weight"]
    assert outputs.list_outputs() == ["rnn_t0_out_output", "rnn_t1_out_output", "rnn_t2_out_output"]
    _, outs, _ = outputs.infer_shape(rnn_t0_data=(10, 50), rnn_t1_data=(10, 50), rnn_t2_data=(10, 50))
    assert outs == [(10, 100)] * 3
    assert cell.i2h_weight.shape == (400, 0) and rnn.GRUCell(5).h2h_weight.shape == (15, 5)
    assert repr(rnn.RNNCell(4, input_size=3)) == "RNNCell(3 -> 4, tanh)"


@pytest.mark.parametrize("name,cls", [("rnn_cell_relu", rnn.RNNCell), ("lstm_cell", rnn.LSTMCell),
                                      ("gru_cell", rnn.GRUCell)])
def test_cells_match_mxnet(name, cls):
    check_cell_against_mxnet(name, cls)


@pytest.mark.parametrize("kind", list(KINDS))
def test_numerical_gradient_of_unroll(kind):
    rng = np.random.default_rng(3)
    cell, _ = _cell(kind, 2, 2, rng)
    xs = rng.standard_normal((2, 3, 2))
    head = rng.standard_normal((2, 3, 2))
    lengths = _nd([3, 1])

    def loss(x):
        out, _ = cell.unroll(3, x, cell.begin_state(2, dtype="float64"), layout="NTC", merge_outputs=True,
                             valid_length=lengths)
        return (out * _nd(head)).sum()

    x = _nd(xs)
    x.attach_grad()
    with mx.autograd.record():
        value = loss(x)
    value.backward()
    numeric, eps = np.zeros_like(xs), 1e-6
    for j in range(xs.size):
        bumped = [xs.copy(), xs.copy()]
        bumped[0].flat[j] += eps
        bumped[1].flat[j] -= eps
        numeric.flat[j] = (loss(_nd(bumped[0])).asscalar() - loss(_nd(bumped[1])).asscalar()) / (2 * eps)
    np.testing.assert_allclose(x.grad.asnumpy(), numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("kind", list(KINDS))
def test_hybridized_cell_equals_imperative(kind):
    rng = np.random.default_rng(4)
    cell, _ = _cell(kind, 3, 2, rng)
    x = _nd(rng.standard_normal((2, 4, 2)))
    begin = cell.begin_state(2, dtype="float64")
    want, want_states = cell.unroll(4, x, begin, layout="NTC", merge_outputs=True)
    cell.hybridize()
    got, got_states = cell.unroll(4, x, begin, layout="NTC", merge_outputs=True)
    np.testing.assert_allclose(got.asnumpy(), want.asnumpy(), rtol=1e-12)
    for g, w in zip(got_states, want_states):
        np.testing.assert_allclose(g.asnumpy(), w.asnumpy(), rtol=1e-12)


@pytest.mark.parametrize("hybrid", [False, True])
def test_sequential_cells_chain_their_steps_and_states(hybrid):
    rng = np.random.default_rng(5)
    first, w1 = _cell("lstm", 3, 2, rng, prefix="a_")
    second, w2 = _cell("gru", 2, 3, rng, prefix="b_")
    stack = rnn.HybridSequentialRNNCell() if hybrid else rnn.SequentialRNNCell()
    stack.add(first)
    stack.add(rnn.DropoutCell(0.0))
    stack.add(second)
    assert len(stack) == 3 and stack[2] is second
    assert [i["shape"] for i in stack.state_info(4)] == [(4, 3), (4, 3), (4, 2)]
    xs = rng.standard_normal((3, 4, 2))
    out, states = stack.unroll(3, _nd(xs), stack.begin_state(batch_size=4, dtype="float64"), layout="TNC",
                               merge_outputs=True)
    zeros = [np.zeros((4, 3)), np.zeros((4, 3))]
    mid, s1 = unroll("lstm", w1, xs, zeros)
    want, s2 = unroll("gru", w2, mid, [np.zeros((4, 2))])
    np.testing.assert_allclose(out.asnumpy(), want, rtol=1e-10)
    for got, ref in zip(states, s1 + s2):
        np.testing.assert_allclose(got.asnumpy(), ref, rtol=1e-10)
    step_out, _ = stack(_nd(xs[0]), [_nd(z) for z in zeros] + [_nd(np.zeros((4, 2)))])
    np.testing.assert_allclose(step_out.asnumpy(), want[0], rtol=1e-10)


@pytest.mark.parametrize("use_lengths", [False, True])
@pytest.mark.parametrize("merge", [True, False])
def test_bidirectional_cell_runs_right_cell_on_reversed_valid_steps(use_lengths, merge):
    rng = np.random.default_rng(6)
    left, wl = _cell("gru", 2, 3, rng, prefix="l_")
    right, wr = _cell("rnn_tanh", 3, 3, rng, prefix="r_")
    bi = rnn.BidirectionalCell(left, right)
    xs = rng.standard_normal((4, 2, 3))
    lengths = np.array([2, 4]) if use_lengths else None
    out, states = bi.unroll(4, _nd(xs), bi.begin_state(batch_size=2, dtype="float64"), layout="TNC",
                            merge_outputs=merge,
                            valid_length=_nd(lengths) if use_lengths else None)
    l_out, l_states = unroll("gru", wl, xs, [np.zeros((2, 2))], lengths)
    r_out, r_states = unroll("rnn_tanh", wr, xs, [np.zeros((2, 3))], lengths, reverse=True)
    got = out.asnumpy() if merge else np.stack([o.asnumpy() for o in out])
    np.testing.assert_allclose(got, np.concatenate([l_out, r_out], axis=2), rtol=1e-10, atol=1e-12)
    for g, w in zip(states, l_states + r_states):
        np.testing.assert_allclose(g.asnumpy(), w, rtol=1e-10)
    with pytest.raises(NotImplementedError):
        bi(_nd(xs[0]), bi.begin_state(batch_size=2))


def test_residual_cell_adds_the_input():
    rng = np.random.default_rng(7)
    base, w = _cell("rnn_tanh", 3, 3, rng)
    cell = rnn.ResidualCell(base)
    xs = rng.standard_normal((2, 5, 3))
    out, _ = cell.unroll(5, _nd(xs), cell.begin_state(batch_size=2, func=mx.nd.zeros, dtype="float64"), layout="NTC",
                         merge_outputs=True, valid_length=_nd([5, 2]))
    want, _ = unroll("rnn_tanh", w, xs.swapaxes(0, 1), [np.zeros((2, 3))], [5, 2])
    masked = xs.swapaxes(0, 1).copy()
    masked[2:, 1] = 0
    np.testing.assert_allclose(out.asnumpy(), (want + masked).swapaxes(0, 1), rtol=1e-10)
    step, _ = cell(_nd(xs[:, 0]), cell.begin_state(batch_size=2, func=mx.nd.zeros, dtype="float64"))
    np.testing.assert_allclose(step.asnumpy(), want[0] + xs[:, 0], rtol=1e-10)
    assert cell.params is base.params
    with pytest.raises(AssertionError, match="modifier"):
        base.begin_state(2)
    with pytest.raises(AssertionError, match="modified twice"):
        rnn.ZoneoutCell(base)


def test_zoneout_keeps_previous_values_in_training_only():
    rng = np.random.default_rng(8)
    base, w = _cell("gru", 50, 2, rng)
    cell = rnn.ZoneoutCell(base, zoneout_outputs=0.5, zoneout_states=0.5)
    xs = rng.standard_normal((2, 2, 2))
    out, _ = cell.unroll(2, _nd(xs), cell.begin_state(batch_size=2, func=mx.nd.zeros, dtype="float64"), layout="TNC",
                         merge_outputs=True)
    want, _ = unroll("gru", w, xs, [np.zeros((2, 50))])
    np.testing.assert_allclose(out.asnumpy(), want, rtol=1e-10)  # inference: no zoneout
    cell.reset()  # forget the unroll's last output: the first step's previous output is zeros
    with mx.autograd.train_mode():
        first, _ = cell(_nd(xs[0]), cell.begin_state(batch_size=2, func=mx.nd.zeros, dtype="float64"))
    kept = first.asnumpy() == 0  # the previous output of the first step is zeros
    assert 0.2 < kept.mean() < 0.8
    np.testing.assert_allclose(first.asnumpy()[~kept], want[0][~kept], rtol=1e-10)


def test_dropout_cell_drops_in_training():
    cell = rnn.DropoutCell(0.5)
    x = mx.nd.ones((4, 100))
    out, states = cell(x, [])
    assert states == [] and (out.asnumpy() == 1).all()
    with mx.autograd.train_mode():
        out, _ = cell.unroll(2, mx.nd.ones((2, 2, 100)), merge_outputs=True)
    assert set(np.unique(out.asnumpy())) <= {0.0, 2.0} and 0.3 < (out.asnumpy() == 0).mean() < 0.7
    with pytest.raises(AssertionError, match="rate"):
        rnn.DropoutCell("0.5")


def test_begin_state_names_and_funcs():
    cell = rnn.LSTMCell(3, prefix="lstm_")
    states = cell.begin_state(func=mx.sym.var)
    assert [s.name for s in states] == ["lstm_begin_state_0", "lstm_begin_state_1"]
    zeros = cell.begin_state(batch_size=2)
    assert [z.shape for z in zeros] == [(2, 3), (2, 3)]


def test_unroll_length_mismatch_is_an_error():
    cell = rnn.RNNCell(2, input_size=2)
    cell.initialize()
    with pytest.raises(ValueError, match="length=3.*2 steps"):
        cell.unroll(3, mx.nd.ones((1, 2, 2)), layout="NTC")
