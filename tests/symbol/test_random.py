"""mx.sym.random: the same front ends as mx.nd.random over Symbols (numbers -> _random_X, Symbols -> _sample_X),
with MXNet 1.9.1's node names, and the values an executor draws follow mx.random.seed like mx.nd's."""
import json

import numpy as np
import pytest

import mxcy as mx


@pytest.mark.parametrize("call, op", [
    (lambda: mx.sym.random.uniform(0, 2, shape=(2, 3)), "_random_uniform"),
    (lambda: mx.sym.random.normal(mx.sym.var("a"), mx.sym.var("b"), shape=(2,)), "_sample_normal"),
    (lambda: mx.sym.random.randn(2, 3, loc=1.0), "_random_normal"),
    (lambda: mx.sym.random.exponential(mx.sym.var("a")), "_sample_exponential"),
    (lambda: mx.sym.random.randint(0, 5, shape=(4,)), "_random_randint"),
    (lambda: mx.sym.random.multinomial(mx.sym.var("p")), "_sample_multinomial"),
    (lambda: mx.sym.random.shuffle(mx.sym.var("x")), "_shuffle"),
])
def test_front_ends_pick_mxnets_ops(call, op):
    sym = call()
    assert [n.op.name for n in sym._topo() if n.op is not None][-1] == op
    assert sym.list_outputs() == [f"{op}0_output"]


def test_symbol_draws_equal_ndarray_draws_under_one_seed():
    loc, scale = np.array([0.0, 5.0, -3.0], np.float32), np.array([1.0, 0.5, 2.0], np.float32)
    sym = mx.sym.random.normal(mx.sym.var("loc"), mx.sym.var("scale"), shape=(4,))
    mx.random.seed(11)
    drawn = sym.eval(loc=mx.nd.array(loc), scale=mx.nd.array(scale))[0].asnumpy()
    mx.random.seed(11)
    expected = mx.nd.random.normal(mx.nd.array(loc), mx.nd.array(scale), shape=(4,)).asnumpy()
    np.testing.assert_array_equal(drawn, expected)
    assert drawn.shape == (3, 4)
    assert mx.sym.random.randn(2, 3).eval()[0].shape == (2, 3)


def test_mixed_parameters_are_refused_naming_the_function():
    with pytest.raises(mx.MXNetError, match="normal: distribution parameters must all be Symbols or all be numbers"):
        mx.sym.random.normal(mx.sym.var("a"), 1.0)
    with pytest.raises(mx.MXNetError, match="shuffle: data must be an Symbol"):
        mx.sym.random.shuffle(mx.nd.ones(2))


def test_an_op_without_inputs_ignores_keyword_symbols_as_mxnet():
    # MXNet 1.9.1 printed no arguments and no input for this node, and its shape (2, 3) once added to a (2, 3)
    # variable: randn() without a shape leaves it to the graph
    y = mx.sym.random.randn(data=mx.sym.ones((2, 3)), loc=1, scale=2, dtype="float32")
    assert y.list_arguments() == [] and json.loads(y.tojson())["nodes"][0]["inputs"] == []
    assert (y + mx.sym.var("X")).infer_shape(X=(2, 3)) == ([(2, 3)], [(2, 3)], [])
    assert y.infer_shape_partial() == ([], [()], [])
