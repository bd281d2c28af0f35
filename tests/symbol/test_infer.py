"""Shape and type inference over symbol graphs: forward, backward (weights from data), partial, errors."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import mxcy as mx


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
