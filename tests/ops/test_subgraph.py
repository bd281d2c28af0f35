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
