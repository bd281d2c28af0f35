"""mx.rnn cells: graphs of every kind of cell (argument/output names, shapes, outputs, gradients, unpacked weights)
against MXNet 1.9.1's (fixtures/), unrolled steps against float64 NumPy formulas, a numerical gradient, and the
errors MXNet raises."""
import json
import os
import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import mxcy as mx
from tests.gluon.rnn._reference import unroll as numpy_unroll
from tests.rnn._graph import run_graph
from tests.rnn.fixtures.mx_rnn_cases import CASES, RANDOM_IN_TRAINING, graph

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")


def _mxnet():
    with open(os.path.join(FIXTURES, "mx_rnn_reference.json")) as f:
        meta = json.load(f)
    return meta, np.load(os.path.join(FIXTURES, "mx_rnn_reference.npz"))


def _auto_numbered(names):
    """Output names with the counter of automatically named nodes ('concat4_output') masked: it depends on
    what the process built before."""
    return [re.sub(r"^([a-z]+)\d+_output$", r"\1#_output", n) for n in names]


def _ramp(shape):
    return np.linspace(-1, 1, int(np.prod(shape))).reshape(shape)


@pytest.mark.parametrize("name", list(CASES))
def test_graph_matches_mxnet(name):
    meta, arrays = _mxnet()
    case = meta[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # FusedRNNCell's NTC advice
        cell, group, shapes = graph(mx, name)
    assert group.list_arguments() == case["arguments"]
    assert _auto_numbered(group.list_outputs()) == _auto_numbered(case["outputs"])
    assert [list(s) for s in group.infer_shape(**shapes)[0]] == case["arg_shapes"]
    vals = {n: arrays[f"{name}/arg/{n}"] for n in case["arguments"]}
    random_masks = name in RANDOM_IN_TRAINING
    outs, grads = run_graph(group, shapes, vals, np.float32, None if random_masks else [_ramp] * len(case["outputs"]))
    for k, out in enumerate(outs):
        np.testing.assert_allclose(out, arrays[f"{name}/out{k}"], rtol=1e-4, atol=1e-5)
    for n in () if random_masks else vals:
        np.testing.assert_allclose(grads[n], arrays[f"{name}/grad/{n}"], rtol=1e-4, atol=1e-5, err_msg=n)
    packed = {n: mx.nd.array(v) for n, v in vals.items()}
    unpacked = cell.unpack_weights(packed)
    assert sorted(unpacked) == case["unpacked"]
    for n, v in unpacked.items():
        np.testing.assert_array_equal(v.asnumpy(), arrays[f"{name}/unpacked/{n}"].astype(np.float32))
    repacked = cell.pack_weights(unpacked)
    assert sorted(repacked) == sorted(packed)
    for n, v in repacked.items():
        np.testing.assert_array_equal(v.asnumpy(), packed[n].asnumpy())


_CELLS = {"rnn_tanh": lambda h, p: mx.rnn.RNNCell(h, prefix=p), "lstm": lambda h, p: mx.rnn.LSTMCell(h, prefix=p),
          "rnn_relu": lambda h, p: mx.rnn.RNNCell(h, activation="relu", prefix=p),
          "gru": lambda h, p: mx.rnn.GRUCell(h, prefix=p)}


@pytest.mark.parametrize("kind", list(_CELLS))
@pytest.mark.parametrize("layout", ["NTC", "TNC"])
@settings(max_examples=3, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), merge=st.sampled_from([True, False, None]), as_list=st.booleans())
def test_unroll_matches_numpy(kind, layout, seed, merge, as_list):
    rng = np.random.default_rng(seed)
    steps, batch, width, hidden = (int(v) for v in rng.integers(1, 4, size=4))
    cell = _CELLS[kind](hidden, "c_")
    xs = rng.standard_normal((steps, batch, width))  # TNC
    if as_list:
        inputs, shapes = [mx.sym.Variable(f"x{t}") for t in range(steps)], {f"x{t}": (batch, width)
                                                                             for t in range(steps)}
        vals = {f"x{t}": xs[t] for t in range(steps)}
    else:
        inputs, shapes = mx.sym.Variable("data"), {"data": xs.shape if layout == "TNC" else (batch, steps, width)}
        vals = {"data": xs if layout == "TNC" else xs.transpose(1, 0, 2)}
    outputs, states = cell.unroll(steps, inputs, layout=layout, merge_outputs=merge)
    merged = isinstance(outputs, mx.sym.Symbol)
    assert merged == bool(merge)  # None: a list, what stepping gives
    group = mx.sym.Group(([outputs] if merged else list(outputs)) + list(states))
    arg_shapes = group.infer_shape(**shapes)[0]
    vals.update({n: rng.uniform(-0.6, 0.6, s) for n, s in zip(group.list_arguments(), arg_shapes) if n not in vals})
    outs, _ = run_graph(group, shapes, vals, np.float64)
    ref_out, ref_states = numpy_unroll(kind, {n[2:]: v for n, v in vals.items() if n.startswith("c_")}, xs,
                                       [np.zeros((batch, hidden))] * len(states))
    if merged:
        got = outs[0] if layout == "TNC" else outs[0].transpose(1, 0, 2)
    else:
        got = np.stack(outs[:steps])
    np.testing.assert_allclose(got, ref_out, rtol=1e-10, atol=1e-12)
    for s, ref in zip(outs[-len(states):], ref_states):
        np.testing.assert_allclose(s, ref, rtol=1e-10, atol=1e-12)


def test_numerical_gradient_of_unrolled_gru():
    cell = mx.rnn.GRUCell(2, prefix="g_")
    out, _ = cell.unroll(2, mx.sym.Variable("data"), layout="NTC", merge_outputs=True)
    rng = np.random.default_rng(0)
    shapes = dict(zip(out.list_arguments(), out.infer_shape(data=(2, 2, 3))[0]))
    location = {n: rng.uniform(-0.8, 0.8, s) for n, s in shapes.items()}
    mx.test_utils.check_numeric_gradient(out, location, numeric_eps=1e-6, rtol=1e-5, atol=1e-7, dtype=np.float64)


def test_begin_state_kinds():
    cell = mx.rnn.LSTMCell(5, prefix="s_")
    zeros = cell.begin_state()
    assert [z.name for z in zeros] == ["s_begin_state_0", "s_begin_state_1"]
    fed = cell.begin_state(func=mx.sym.Variable)
    assert [v.name for v in fed] == ["s_begin_state_2", "s_begin_state_3"]
    assert fed[0].list_attr()["__layout__"] == "NC"
    out, states = cell.unroll(2, mx.sym.Variable("data"), begin_state=fed)
    assert "s_begin_state_2" in mx.sym.Group(out).list_arguments()
    shapes = mx.sym.Group(out + states).infer_shape(data=(3, 2, 4), s_begin_state_2=(3, 5),
                                                    s_begin_state_3=(3, 5))[1]
    assert shapes == [(3, 5)] * 4
    assert mx.rnn.FusedRNNCell(4, num_layers=3, bidirectional=True, mode="gru").state_shape == [(6, 0, 4)]


def test_lstm_forget_bias_initializers():
    stack = mx.rnn.SequentialRNNCell()
    stack.add(mx.rnn.LSTMCell(4, forget_bias=2.0, prefix="a_"))
    stack.add(mx.rnn.FusedRNNCell(4, mode="lstm", forget_bias=3.0, prefix="b_"))
    out, _ = stack.unroll(2, mx.sym.Variable("data"), layout="TNC", merge_outputs=True)
    mod = mx.mod.Module(out, label_names=None, context=mx.cpu())
    mod.bind(data_shapes=[("data", (2, 3, 5))])
    mod.init_params(mx.init.Uniform(0.1))
    args = mod.get_params()[0]
    np.testing.assert_array_equal(args["a_i2h_bias"].asnumpy(), np.repeat([0., 2., 0., 0.], 4))
    fused_bias = stack._cells[1].unpack_weights(args)
    for part in ("i2h", "h2h"):
        np.testing.assert_array_equal(fused_bias[f"b_l0_{part}_f_bias"].asnumpy(), np.full(4, 3.0))


def test_sequential_call_and_zoneout_inference_identity():
    stack = mx.rnn.SequentialRNNCell()
    stack.add(mx.rnn.ZoneoutCell(mx.rnn.GRUCell(3, prefix="z_"), zoneout_states=0.3))
    stack.add(mx.rnn.ResidualCell(mx.rnn.RNNCell(3, prefix="r_")))
    x, s0, s1 = (mx.sym.Variable(n) for n in ("x", "s0", "s1"))
    out, states = stack(x, [s0, s1])
    assert len(states) == 2
    rng = np.random.default_rng(1)
    group = mx.sym.Group([out] + states)
    shapes = dict(x=(2, 3), s0=(2, 3), s1=(2, 3))
    vals = {n: rng.uniform(-0.5, 0.5, s) for n, s in zip(group.list_arguments(), group.infer_shape(**shapes)[0])}
    outs, _ = run_graph(group, shapes, vals, np.float64)
    w = lambda p: {k[len(p):]: v for k, v in vals.items() if k.startswith(p)}  # noqa: E731
    h1, _ = numpy_unroll("gru", w("z_"), vals["x"][None], [vals["s0"]])
    h2, _ = numpy_unroll("rnn_tanh", w("r_"), h1, [vals["s1"]])
    np.testing.assert_allclose(outs[0], h2[0] + h1[0], rtol=1e-10)
    np.testing.assert_allclose(outs[1], h1[0], rtol=1e-10)


def _bidirectional_stack():
    stack = mx.rnn.SequentialRNNCell()
    stack.add(mx.rnn.BidirectionalCell(mx.rnn.RNNCell(2, prefix="p_"), mx.rnn.RNNCell(2, prefix="q_")))
    return stack


@pytest.mark.parametrize("build, message", [
    (lambda: mx.rnn.ZoneoutCell(mx.rnn.FusedRNNCell(3)), "unfuse"),
    (lambda: mx.rnn.ZoneoutCell(mx.rnn.BidirectionalCell(mx.rnn.RNNCell(2), mx.rnn.RNNCell(2, prefix="q_"))),
     "Bidirectional"),
    (lambda: mx.rnn.ZoneoutCell(_bidirectional_stack()), "Bidirectional SequentialRNNCell"),
    (lambda: mx.rnn.DropoutCell("half"), "number"),
    (lambda: mx.rnn.FusedRNNCell(3)(mx.sym.Variable("x"), []), "cannot be stepped"),
    (lambda: mx.rnn.FusedRNNCell(3, mode="elman"), "unknown mode"),
    (lambda: mx.rnn.LSTMCell(3).unroll(2, None), "inputs=None"),
    (lambda: mx.rnn.LSTMCell(3).unroll(3, [mx.sym.Variable("x")] * 2), "length=3"),
])
def test_bad_use_is_reported(build, message):
    with pytest.raises((mx.MXNetError, NotImplementedError), match=message):
        build()


def test_modified_cell_is_used_through_its_wrapper():
    base = mx.rnn.LSTMCell(3)
    mx.rnn.ResidualCell(base)
    with pytest.raises(AssertionError, match="modifier"):
        base.begin_state()


def test_params_are_shared_through_rnnparams():
    shared = mx.rnn.RNNParams("enc_")
    a, b = mx.rnn.GRUCell(3, prefix="a_", params=shared), mx.rnn.GRUCell(3, prefix="b_", params=shared)
    out_a, _ = a.unroll(1, [mx.sym.Variable("x")])
    out_b, _ = b.unroll(1, [mx.sym.Variable("y")])
    assert mx.sym.Group(out_a + out_b).list_arguments() == ["x", "enc_i2h_weight", "enc_i2h_bias", "enc_h2h_weight",
                                                            "enc_h2h_bias", "y"]
    bi = mx.rnn.BidirectionalCell(a, mx.rnn.RNNCell(2, prefix="r_"))
    assert sorted(bi.params._params) == ["enc_h2h_bias", "enc_h2h_weight", "enc_i2h_bias", "enc_i2h_weight",
                                         "r_h2h_bias", "r_h2h_weight", "r_i2h_bias", "r_i2h_weight"]
    stack = mx.rnn.SequentialRNNCell(params=mx.rnn.RNNParams("s_"))
    stack.add(mx.rnn.DropoutCell(0.5))
    with pytest.raises(AssertionError, match="not both"):  # a cell has used its params once built (as in MXNet)
        stack.add(mx.rnn.LSTMCell(2))


@pytest.mark.parametrize("stepped", [False, True])
def test_explicit_default_begin_states_take_the_batch_size_of_the_inputs(stepped):
    """cell.begin_state() gives sym.zeros with a 0 batch dimension, which MXNet resolves from the states' users."""
    cell = mx.rnn.SequentialRNNCell()
    cell.add(mx.rnn.LSTMCell(3, prefix="a_"))
    cell.add(mx.rnn.ZoneoutCell(mx.rnn.GRUCell(2, prefix="b_"), zoneout_states=0.5))
    begin = cell.begin_state()
    assert [s.name for s in begin] == ["a_begin_state_0", "a_begin_state_1", "b_begin_state_0"]
    xs = [mx.sym.Variable(f"x{t}") for t in range(2)]
    if stepped:
        outputs, states = [], begin
        for x in xs:
            out, states = cell(x, states)
            outputs.append(out)
    else:
        outputs, states = cell.unroll(2, xs, begin_state=begin)
    group = mx.sym.Group(outputs + states)
    shapes = {"x0": (4, 5), "x1": (4, 5)}
    arg_shapes, out_shapes, _ = group.infer_shape(**shapes)
    assert out_shapes == [(4, 2), (4, 2), (4, 3), (4, 3), (4, 2)]
    rng = np.random.default_rng(2)
    vals = {n: rng.uniform(-0.5, 0.5, s) for n, s in zip(group.list_arguments(), arg_shapes)}
    outs, _ = run_graph(group, shapes, vals, np.float64)
    w = lambda p: {k[len(p):]: v for k, v in vals.items() if k.startswith(p)}  # noqa: E731
    h1, _ = numpy_unroll("lstm", w("a_"), np.stack([vals["x0"], vals["x1"]]), [np.zeros((4, 3))] * 2)
    h2, _ = numpy_unroll("gru", w("b_"), h1, [np.zeros((4, 2))])
    np.testing.assert_allclose(outs[1], h2[1], rtol=1e-10)


def test_fused_cell_takes_explicit_default_begin_states():
    cell = mx.rnn.FusedRNNCell(3, num_layers=2, mode="lstm", get_next_state=True, prefix="f_")
    out, states = cell.unroll(2, mx.sym.Variable("data"), begin_state=cell.begin_state(), layout="TNC",
                              merge_outputs=True)
    assert mx.sym.Group([out] + states).infer_shape(data=(2, 4, 5))[1] == [(2, 4, 3), (2, 4, 3), (2, 4, 3)]
