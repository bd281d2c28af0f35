"""The `_CachedOp` node (MXNet's subgraph API): a subgraph run as one node gives the plain graph's values and
gradients, names its outputs as MXNet 1.9.1 does, and keeps the subgraph JSON as its `subgraph` attribute."""
import json
import re

import numpy as np
import pytest

import mxcy as mx

NO_SPEC = {"_CachedOp": "runs the subgraph in its `subgraph` attribute through imperative; tested here against "
                        "the same graph run directly"}


def _subgraph(body, *inputs):
    return mx.sym._internal._CachedOp(*inputs, subgraph=body.tojson())


def test_subgraph_node_equals_the_graph_it_holds():
    a, b = mx.sym.var("a"), mx.sym.var("b")
    body = mx.sym.FullyConnected(a * b, num_hidden=3, no_bias=True, name="fc")
    held = _subgraph(body, mx.sym.var("a"), mx.sym.var("b"), mx.sym.var("fc_weight"))
    # MXNet 1.9.1 names a _CachedOp's outputs '<node>_<subgraph output>'
    assert held.list_outputs() == [f"{held.name}_fc_output"] and held.list_arguments() == ["a", "b", "fc_weight"]
    node, plain = held * 2, body * 2
    rng = np.random.default_rng(0)
    data = {"a": rng.standard_normal((2, 4)), "b": rng.standard_normal((2, 4)), "fc_weight": rng.standard_normal((3, 4))}
    results = []
    for sym in (plain, node):
        exe = sym.simple_bind(mx.cpu(), type_dict={k: "float64" for k in data}, **{k: v.shape for k, v in data.items()})
        out = exe.forward(is_train=True, **{k: mx.nd.array(v, dtype="float64") for k, v in data.items()})[0]
        exe.backward(mx.nd.ones(out.shape, dtype="float64"))
        results.append([out.asnumpy()] + [exe.grad_dict[k].asnumpy() for k in data])
    for x, y in zip(*results):
        np.testing.assert_allclose(x, y, rtol=1e-12)


def test_subgraph_node_json_as_mxnet():
    a, b = mx.sym.var("a"), mx.sym.var("b")
    node = _subgraph(a * b, mx.sym.var("a"), mx.sym.var("b"))
    assert re.fullmatch(rf"{node.name}__mul\d+_output", node.list_outputs()[0])
    entry = json.loads(node.tojson())["nodes"][2]
    assert entry["op"] == "_CachedOp" and json.loads(entry["attrs"]["subgraph"])["nodes"][2]["op"] == "elemwise_mul"
    again = mx.sym.load_json(node.tojson())
    out = again.eval(a=mx.nd.array([2.0]), b=mx.nd.array([3.0]))[0]
    assert out.asnumpy().tolist() == [6.0]
    with pytest.raises(mx.MXNetError):
        mx.sym._internal._CachedOp(mx.sym.var("a"), subgraph="not json")


def _conv_bn_graph():
    """Conv -> BatchNorm -> Conv -> BatchNorm: the moving statistics sit between arguments in list_inputs."""
    data = mx.sym.var("data")
    c1 = mx.sym.Convolution(data, kernel=(3, 3), num_filter=4, no_bias=True, name="conv1")
    b1 = mx.sym.BatchNorm(c1, fix_gamma=False, name="bn1")
    c2 = mx.sym.Convolution(b1, kernel=(1, 1), num_filter=4, name="conv2")
    return mx.sym.BatchNorm(c2, fix_gamma=False, name="bn2")


# Printed by MXNet 1.9.1 for _conv_bn_graph() and for a _CachedOp holding it on variables x0..x11 (one per
# list_inputs entry, in that order); its JSON marks the moving statistics' input entries as version 1.
MXNET_INPUTS = ["data", "conv1_weight", "bn1_gamma", "bn1_beta", "bn1_moving_mean", "bn1_moving_var", "conv2_weight",
                "conv2_bias", "bn2_gamma", "bn2_beta", "bn2_moving_mean", "bn2_moving_var"]
MXNET_ARGUMENTS = ["x0", "x1", "x2", "x3", "x6", "x7", "x8", "x9"]
MXNET_AUX = ["x4", "x5", "x10", "x11"]
MXNET_INPUT_VERSIONS = [0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1]
MXNET_ARG_SHAPES = [(2, 3, 6, 6), (4, 3, 3, 3), (4,), (4,), (4, 4, 1, 1), (4,), (4,), (4,)]


def test_subgraph_node_interleaves_auxiliary_states_as_mxnet():
    body = _conv_bn_graph()
    assert body.list_inputs() == MXNET_INPUTS
    node = _subgraph(body, *[mx.sym.var(f"x{i}") for i in range(len(MXNET_INPUTS))])
    assert node.list_inputs() == [f"x{i}" for i in range(len(MXNET_INPUTS))]
    assert node.list_arguments() == MXNET_ARGUMENTS and node.list_auxiliary_states() == MXNET_AUX
    arg_shapes, out_shapes, aux_shapes = node.infer_shape(x0=(2, 3, 6, 6))
    assert arg_shapes == MXNET_ARG_SHAPES and out_shapes == [(2, 4, 4, 4)] and aux_shapes == [(4,)] * 4
    entry = json.loads(node.tojson())["nodes"][-1]
    assert [version for _, _, version in entry["inputs"]] == MXNET_INPUT_VERSIONS
    again = mx.sym.load_json(node.tojson())
    assert again.list_arguments() == MXNET_ARGUMENTS and again.list_auxiliary_states() == MXNET_AUX


def _run(sym, arrays, head):
    """Training forward and backward of `sym` on float64 copies of `arrays` (name -> value, arguments and
    auxiliary states alike): (outputs, gradients by argument name, auxiliary states after the step)."""
    args = {n: mx.nd.array(arrays[n], dtype="float64") for n in sym.list_arguments()}
    aux = {n: mx.nd.array(arrays[n], dtype="float64") for n in sym.list_auxiliary_states()}
    grads = {n: mx.nd.zeros(a.shape, dtype="float64") for n, a in args.items()}
    exe = sym.bind(mx.cpu(), args, args_grad=grads, aux_states=aux)
    out = exe.forward(is_train=True)[0].asnumpy()
    exe.backward(mx.nd.array(head, dtype="float64"))
    return out, {n: g.asnumpy() for n, g in exe.grad_dict.items()}, {n: a.asnumpy() for n, a in exe.aux_dict.items()}


def test_subgraph_node_with_auxiliary_states_trains_as_the_plain_graph():
    body = _conv_bn_graph()
    node = _subgraph(body, *[mx.sym.var(n) for n in body.list_inputs()])
    # MXNet's rules: a _CachedOp's arguments and auxiliary states are its subgraph's, in the same order
    assert node.list_arguments() == body.list_arguments() and node.list_auxiliary_states() == \
        body.list_auxiliary_states()
    arg_shapes, out_shapes, aux_shapes = body.infer_shape(data=(2, 3, 6, 6))
    rng = np.random.default_rng(3)
    arrays = {n: rng.standard_normal(s) for n, s in zip(body.list_arguments(), arg_shapes)}
    arrays.update({n: rng.uniform(0.5, 1.5, s) for n, s in zip(body.list_auxiliary_states(), aux_shapes)})
    head = rng.standard_normal(out_shapes[0])
    (out_a, grads_a, aux_a), (out_b, grads_b, aux_b) = _run(body, arrays, head), _run(node, arrays, head)
    np.testing.assert_allclose(out_b, out_a, rtol=1e-12)
    assert list(grads_b) == body.list_arguments()
    for name in grads_a:
        np.testing.assert_allclose(grads_b[name], grads_a[name], rtol=1e-10, atol=1e-12)
    for name in aux_a:  # the moving statistics are updated in place through the node, as in the plain graph
        assert not np.allclose(aux_a[name], arrays[name])
        np.testing.assert_allclose(aux_b[name], aux_a[name], rtol=1e-12)
