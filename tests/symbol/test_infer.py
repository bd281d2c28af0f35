"""Shape and type inference over symbol graphs: forward, backward (weights from data), partial, errors."""
import json
import os

import numpy as np
import pytest
from hypothesis import given, strategies as st

import mxcy as mx
from tests.symbol.fixtures import make_partial_shapes


def test_shapes_flow_forward_through_the_graph():
    a, b = mx.sym.var("a"), mx.sym.var("b")
    net = mx.sym.sum(mx.sym.dot(a, b) + 1, axis=0)
    assert net.infer_shape(a=(2, 3), b=(3, 5)) == ([(2, 3), (3, 5)], [(5,)], [])
    assert net.infer_shape((2, 3), (3, 5)) == ([(2, 3), (3, 5)], [(5,)], [])


@given(st.lists(st.integers(1, 5), min_size=1, max_size=4))
def test_elementwise_chain_keeps_any_shape(shape):
    a = mx.sym.var("a")
    net = mx.sym.exp(a * 2) - a
    arg, out, aux = net.infer_shape(a=tuple(shape))
    assert arg == [tuple(shape)] and out == [tuple(shape)] and aux == []


def test_variable_shape_attribute_is_used():
    a = mx.sym.var("a", shape=(4, 2))
    assert (a * 3).infer_shape() == ([(4, 2)], [(4, 2)], [])


def test_incomplete_inference_warns_and_partial_gives_empty_shapes():
    a, b = mx.sym.var("a"), mx.sym.var("b")
    net = mx.sym.dot(a, b)
    with pytest.warns(UserWarning, match="Cannot decide shape"):
        assert net.infer_shape(a=(2, 3)) == (None, None, None)
    assert net.infer_shape_partial(a=(2, 3)) == ([(2, 3), ()], [()], [])
    # A declared shape with unknown (0) dimensions is reported as declared, as MXNet 1.9.1 prints it.
    assert mx.sym.var("x", shape=(0, 3)).infer_shape_partial() == ([(0, 3)], [(0, 3)], [])


def test_inconsistent_shapes_name_the_node():
    a, b = mx.sym.var("a"), mx.sym.var("b")
    net = mx.sym.dot(a, b, name="mm")
    with pytest.raises(mx.MXNetError, match="Error in operator mm"):
        net.infer_shape(a=(2, 3), b=(4, 5))
    with pytest.raises(mx.MXNetError, match="not an input"):
        net.infer_shape(c=(1,))


def test_types_flow_and_default_to_unknown():
    a, b = mx.sym.var("a"), mx.sym.var("b")
    net = a + b
    assert net.infer_type(a="float64") == ([np.float64, np.float64], [np.float64], [])
    assert net.infer_type() == (None, None, None)
    assert net.infer_type_partial() == ([None, None], [None], [])
    assert mx.sym.var("h", dtype="float16").infer_type() == ([np.float16], [np.float16], [])
    assert mx.sym.Cast(a, dtype="int32").infer_type(a="float32")[1] == [np.int32]
    with pytest.raises(mx.MXNetError, match="Error in operator"):
        net.infer_type(a="float32", b="float64")


# --- partial shapes, forward and backward (fixtures/make_partial_shapes.py: what MXNet 1.9.1 infers) ------------

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "partial_shapes.json")) as _f:
    MXNET_PARTIAL = json.load(_f)


@pytest.mark.parametrize("case", make_partial_shapes.CASES, ids=lambda case: case.__name__)
def test_partial_shapes_complete_forward_and_backward_as_mxnet(case):
    assert make_partial_shapes.infer(mx, case) == MXNET_PARTIAL[case.__name__]


def test_infer_shape_completes_declared_partial_shapes_and_simple_bind_sizes_them():
    # mx.rnn's begin states are declared (0, 20); FullyConnected gives them the batch from its output.
    sym, shapes = make_partial_shapes.lstm_states_from_the_data(mx)
    args, outs, _ = sym.infer_shape(**shapes)
    assert dict(zip(sym.list_arguments(), args))["lstm_l1_begin_state_1"] == (5, 20) and outs == [(5, 20)] * 4
    exe = sym.simple_bind(mx.cpu(), grad_req="null", **shapes)
    assert exe.arg_dict["lstm_l0_begin_state_0"].shape == (5, 20)
    a, b = mx.sym.var("a"), mx.sym.var("b")
    assert (a + b).infer_shape(a=(0, 3), b=(2, 0)) == ([(2, 3), (2, 3)], [(2, 3)], [])


def test_hybridized_rnn_layer_gets_its_input_size_through_rnn_param_concat():
    layer = mx.gluon.rnn.LSTM(4, num_layers=2, bidirectional=True)  # input_size unknown: weights (16, 0)
    layer.initialize()
    out = layer(mx.sym.var("data"))
    args = dict(zip(out.list_arguments(), out.infer_shape(data=(3, 2, 5))[0]))
    assert args[layer.prefix + "l0_i2h_weight"] == (16, 5) and args[layer.prefix + "r0_i2h_weight"] == (16, 5)
    assert args[layer.prefix + "l1_i2h_weight"] == (16, 8)


def test_fully_connected_without_flatten_takes_all_leading_dims_from_its_output():
    # Sound, and more than MXNet 1.9.1, whose rule copies only the output's first dimension back.
    y = mx.sym.var("y", shape=(0, 0, 6))
    net = mx.sym.FullyConnected(y, num_hidden=4, flatten=False, name="fc") + mx.sym.var("a")
    args = dict(zip(net.list_arguments(), net.infer_shape(a=(2, 3, 4))[0]))
    assert args["y"] == (2, 3, 6) and args["fc_weight"] == (4, 6)


@pytest.mark.parametrize("build, shapes, message", [
    (lambda a, b: a + b, {"a": (0, 3), "b": (2, 4)}, r"Error in operator _plus\d+"),
    (lambda a, b: mx.sym.Activation(a, act_type="relu") + b, {"a": (2, 0), "b": (3, 5)}, "Error in operator"),
    (lambda a, b: mx.sym.FullyConnected(a, num_hidden=3, name="fc") + b, {"a": (0, 4), "b": (2, 5)},
     "Error in operator"),
    (lambda a, b: mx.sym._internal._rnn_param_concat(a, b, dim=0) + mx.sym.var("c"),
     {"a": (0,), "b": (8,), "c": (6,)}, "1 or 2 inputs of unknown size"),
    (lambda a, b: mx.sym.concat(a, b, dim=0), {"a": (0, 3), "b": (2, 4)}, "must agree on every dimension but 0"),
])
def test_contradicting_partial_shapes_are_errors_naming_the_node(build, shapes, message):
    with mx.name.NameManager():
        net = build(mx.sym.var("a"), mx.sym.var("b"))
    with pytest.raises(mx.MXNetError, match=message):
        net.infer_shape_partial(**shapes)


def test_zero_sized_ndarrays_are_not_unknown_shapes_imperatively():
    # The partial-shape rules run imperatively too: an NDArray of shape (0, 3) (NumPy shape semantics) is empty,
    # never a shape with an unknown dimension.
    with mx.util.np_shape(True):
        with pytest.raises(mx.MXNetError, match="elemwise_add"):
            mx.nd.elemwise_add(mx.nd.zeros((0, 3)), mx.nd.zeros((2, 3)))
        empty = mx.nd.FullyConnected(mx.nd.zeros((0, 3)), mx.nd.zeros((2, 3)), mx.nd.zeros(2), num_hidden=2)
        assert empty.shape == (0, 2) and mx.nd.zeros((0, 3)).reshape((-1,)).shape == (0,)


def test_numpy_shape_semantics_write_unknown_as_minus_one_and_none():
    # What MXNet 1.9.1's test_infer_shape.py expects under mx.np_shape(True).
    x, y = mx.sym.var("x"), mx.sym.var("y")
    with mx.util.np_shape(True):
        assert mx.sym.dot(x, y).infer_shape_partial(x=(-1, 3, 4), y=(4, 5))[1] == [(-1, 3, 5)]
        assert mx.sym.batch_dot(x, y).infer_shape_partial(x=(-1, 3, 4), y=(-1, -1, 5))[1] == [None]
        assert mx.sym.sin(x).infer_shape_partial() == ([None], [None], [])
        assert mx.sym.sin(x).infer_shape(x=(0, 3)) == ([(0, 3)], [(0, 3)], [])  # 0 is a size here
    assert mx.sym.sin(x).infer_shape_partial() == ([()], [()], [])
