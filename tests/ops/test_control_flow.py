"""The `_foreach`, `_while_loop` and `_cond` records (mxcy/ops/control_flow.py): their inputs and outputs as
MXNet names them, their shape/type rules through the subgraphs, and that an Executor keeps the values their
recorded subgraph ops read. The front ends are tested in tests/ndarray and tests/symbol/test_control_flow.py."""
import numpy as np

import mxcy as mx
from mxcy.ops import registry

NO_SPEC = {name: "runs subgraphs through GraphPlan; tested against NumPy and numerical gradients in "
                 "tests/ndarray/test_control_flow.py and tests/symbol/test_control_flow.py"
           for name in ("_foreach", "_while_loop", "_cond")}


def _node(sym):
    return sym._outputs[0][0]


def test_inputs_outputs_and_attributes_as_mxnet_names_them():
    x, s = mx.sym.var("x"), mx.sym.var("s")
    with mx.name.NameManager():
        outs, states = mx.sym.contrib.foreach(lambda d, st: (d * st[0], [st[0] + 1]), x, [s])
        pred = mx.sym.contrib.cond(x < 1, lambda: x, lambda: s)
    node = _node(outs)
    assert node.op is registry.get("_foreach")
    assert node.op.list_inputs(node.params) == ["data0", "data1"]  # MXNet's `fn` is the subgraph
    assert mx.sym.Group([outs] + states).list_outputs() == ["_foreach0_output0", "_foreach0_output1"]
    assert pred.list_outputs() == ["_cond0_output"]
    assert _node(pred).params["num_args"] == 3 + len(_node(pred).inputs)


def test_shape_and_type_rules_run_the_subgraph():
    x, s = mx.sym.var("x"), mx.sym.var("s")
    outs, _ = mx.sym.contrib.foreach(lambda d, st: (d * st[0], [st[0] + d]), x, [s])
    node = _node(outs)
    # the state's shape comes from the data slice through the body's element-wise rule
    ins, out_shapes = node.op.infer_shape(node.params, [(4, 3), None])
    assert ins == [(4, 3), (3,)] and out_shapes == [(4, 3), (3,)]
    ins, out_types = node.op.infer_type(node.params, [np.dtype("float64"), None])
    assert ins == [np.float64, np.float64] and out_types == [np.float64, np.float64]
    vector, _ = mx.sym.contrib.foreach(lambda d, st: (d * st[0], st), x, [s])
    node = _node(vector)
    assert node.op.infer_shape(node.params, [(5,), None]) == ([(5,), (1,)], [(5, 1), (1,)])


def test_executor_keeps_the_values_the_recorded_body_reads():
    # s2 is an intermediate read only by _foreach; the body's multiply reads it on the tape, so the
    # Executor must not let go of its values after the forward (a wrong gradient otherwise).
    x, s = mx.sym.var("x"), mx.sym.var("s")
    outs, _ = mx.sym.contrib.foreach(lambda d, st: (d * st[0], st), x, [s + 3])
    data, state = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([0.5, -1.0])
    grads = {"x": mx.nd.zeros((2, 2), dtype="float64"), "s": mx.nd.zeros((2,), dtype="float64")}
    exe = outs.bind(mx.cpu(), {"x": mx.nd.array(data, dtype="float64"), "s": mx.nd.array(state, dtype="float64")},
                    args_grad=grads)
    np.testing.assert_array_equal(exe.forward(is_train=True)[0].asnumpy(), data * (state + 3))
    exe.backward(mx.nd.ones((2, 2), dtype="float64"))
    np.testing.assert_array_equal(grads["x"].asnumpy(), np.tile(state + 3, (2, 1)))
    np.testing.assert_array_equal(grads["s"].asnumpy(), data.sum(axis=0))
