"""MXNet's default subgraph backends (symbol/partition.py): the regions, subgraph inputs, outputs and names that
MXNet 1.9.1 makes (fixtures/make_partition.py), the same values and gradients as the un-partitioned graph, and the
three ways in: MXBuildSubgraphByOpNames' partition, bind under MXNET_SUBGRAPH_BACKEND, optimize_for / Gluon."""
import json
import os

import numpy as np
import pytest

import mxcy as mx
from mxcy.base import MXNetError
from mxcy.symbol import partition as part
from tests.symbol.fixtures import make_partition

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "partition.json")) as _f:
    MXNET_PARTITIONS = json.load(_f)

SHAPES = {"data": (2, 3, 4), "data1": (1, 1, 4, 4), "data2": (1, 1, 2, 2)}
MLP_SHAPES = {"data": (2, 5)}


def _shapes(case):
    return MLP_SHAPES if case.__name__.startswith("mlp") else SHAPES


def _describe(symbol):
    return make_partition.describe(json.loads(symbol.tojson()))


@pytest.fixture
def property_names():
    """Sets op names on the default backend's property for one test (MXSetSubgraphPropertyOpNamesV2)."""
    def set_names(names, backend="default"):
        part.set_op_names(backend, names, on_property=True)
    yield set_names
    for backend in part.BACKENDS:
        part.remove_op_names(backend, on_property=True)


@pytest.mark.parametrize("case", make_partition.CASES, ids=lambda case: case.__name__)
def test_regions_and_names_as_mxnet(case):
    symbol, op_names = case(mx)
    assert _describe(part.partition(symbol, op_names)) == MXNET_PARTITIONS[case.__name__]


@pytest.mark.parametrize("case", make_partition.DEDUP_CASES, ids=lambda case: case.__name__)
def test_dedup_subgraph_as_mxnet(case, property_names):
    symbol, op_names = case(mx)
    property_names(op_names)
    partitioned = symbol.optimize_for("default", dedup_subgraph=True)
    assert _describe(partitioned) == MXNET_PARTITIONS["dedup/" + case.__name__]


def _run(symbol, inputs, train):
    exe = symbol.bind(mx.cpu(), args={k: v.copy() for k, v in inputs.items() if k in symbol.list_arguments()},
                      args_grad={k: mx.nd.zeros(v.shape, dtype=v.dtype) for k, v in inputs.items()
                                 if k in symbol.list_arguments()},
                      aux_states={k: v.copy() for k, v in inputs.items() if k in symbol.list_auxiliary_states()},
                      grad_req="write" if train else "null")
    outs = exe.forward(is_train=train)
    if not train:
        return [o.asnumpy() for o in outs]
    exe.backward([mx.nd.ones_like(o) for o in outs])
    return [o.asnumpy() for o in outs] + [g.asnumpy() for g in exe.grad_arrays]


@pytest.mark.parametrize("train", [False, True])
@pytest.mark.parametrize("case", make_partition.CASES, ids=lambda case: case.__name__)
def test_values_and_gradients_of_the_original(case, train):
    symbol, op_names = case(mx)
    partitioned = part.partition(symbol, op_names)
    assert partitioned.list_inputs() == symbol.list_inputs()
    assert partitioned.list_arguments() == symbol.list_arguments()
    assert partitioned.list_auxiliary_states() == symbol.list_auxiliary_states()
    shapes = _shapes(case)
    arg_shapes, _, aux_shapes = symbol.infer_shape(**{k: v for k, v in shapes.items()
                                                      if k in symbol.list_arguments()})
    rng = np.random.default_rng(3)
    names = symbol.list_arguments() + symbol.list_auxiliary_states()
    inputs = {n: mx.nd.array(rng.uniform(0.5, 1.5, size=s), dtype="float64")
              for n, s in zip(names, arg_shapes + aux_shapes)}
    for want, got in zip(_run(symbol, inputs, train), _run(partitioned, inputs, train)):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_shapes_flow_back_through_a_subgraph_node():
    """A weight's unknown dimension comes from its reader outside the region (network_structure_6 of MXNet's
    test_subgraph_op)."""
    weight = mx.sym.var("w", shape=(1, 0, 2, 2))
    conv = mx.sym.Convolution(mx.sym.var("x", shape=(3, 3, 10, 10)), weight=mx.sym.sin(weight), kernel=(2, 2),
                              num_filter=1, name="cv")
    arg_shapes, out_shapes, _ = part.partition(conv, ["sin"]).infer_shape()
    assert arg_shapes == [(3, 3, 10, 10), (1, 3, 2, 2), (1,)] and out_shapes == [(3, 1, 9, 9)]


def test_bind_partitions_under_the_environment_variable(monkeypatch):
    symbol, op_names = make_partition.mlp_whole(mx)
    monkeypatch.setenv("MXNET_SUBGRAPH_BACKEND", "default")
    plain = symbol.simple_bind(mx.cpu(), grad_req="null", data=(2, 5))
    assert "_CachedOp" not in plain.get_optimized_symbol().tojson()  # no op names set: nothing to select
    part.set_op_names("default", op_names, on_property=False)
    try:
        exe = symbol.simple_bind(mx.cpu(), grad_req="null", data=(2, 5))
    finally:
        part.remove_op_names("default", on_property=False)
    assert [n for n in exe.get_optimized_symbol().tojson().split('"op": "')[1:] if n.startswith("_CachedOp")]
    for name, array in plain.arg_dict.items():
        array[:] = mx.nd.random.uniform(-1, 1, shape=array.shape)
        exe.arg_dict[name][:] = array
    np.testing.assert_allclose(exe.forward()[0].asnumpy(), plain.forward()[0].asnumpy(), rtol=1e-6)


class _Net(mx.gluon.HybridBlock):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.fc1 = mx.gluon.nn.Dense(6)
            self.fc2 = mx.gluon.nn.Dense(2)

    def hybrid_forward(self, F, x):
        return self.fc2(F.relu(self.fc1(x)))


def test_gluon_hybridize_with_a_backend(property_names):
    net = _Net()
    net.initialize()
    x = mx.nd.random.uniform(shape=(3, 4))
    want = net(x).asnumpy()
    property_names(["FullyConnected"])
    net.hybridize(backend="default")
    np.testing.assert_allclose(net(x).asnumpy(), want, rtol=1e-6)
    ops = [n["op"] for n in json.loads(net._cached_graph[1].tojson())["nodes"]]
    assert ops.count("_CachedOp") == 2 and "FullyConnected" not in ops


def test_gluon_optimize_for_builds_the_partitioned_graph(property_names):
    net = _Net()
    net.initialize()
    x = mx.nd.random.uniform(shape=(3, 4))
    want = net(x).asnumpy()
    property_names(["FullyConnected", "relu"], backend="default_v2")
    net.optimize_for(x, backend="default_v2")
    assert [n["op"] for n in json.loads(net._cached_graph[1].tojson())["nodes"] if n["op"] != "null"] == ["_CachedOp"]
    np.testing.assert_allclose(net(x).asnumpy(), want, rtol=1e-6)
    with pytest.raises(MXNetError, match="backend"):
        net.optimize_for(x)


def test_errors(property_names):
    symbol, _ = make_partition.mlp_whole(mx)
    with pytest.raises(MXNetError, match="'nope' is not registered"):
        symbol.optimize_for("nope")
    with pytest.raises(MXNetError, match="no op names"):
        symbol.optimize_for("default")
    with pytest.raises(MXNetError, match="'nope' is not registered"):
        part.set_op_names("nope", ["exp"], on_property=True)
    net = _Net()
    net.initialize()
    net.hybridize(backend="nope")
    with pytest.raises(MXNetError, match="'nope' is not registered"):
        net(mx.nd.ones((1, 4)))


def test_loads_a_partitioned_graph_as_mxnet_saves_it():
    """MXNet keeps a partition node's graph in nnvm's `subgraphs`; loaded, it runs as the graph it came from."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "partition-mxnet-symbol.json")
    with open(path) as f:
        saved = json.load(f)
    loaded = mx.sym.load(path)
    assert _describe(loaded) == make_partition.describe(saved)
    original, _ = make_partition.batchnorm_regions_apart(mx)
    assert loaded.list_arguments() == original.list_arguments()
    assert loaded.list_auxiliary_states() == original.list_auxiliary_states()
    rng = np.random.default_rng(5)
    arg_shapes, _, aux_shapes = original.infer_shape(data=(2, 3, 4))
    names = original.list_arguments() + original.list_auxiliary_states()
    inputs = {n: mx.nd.array(rng.uniform(0.5, 1.5, size=s), dtype="float64")
              for n, s in zip(names, arg_shapes + aux_shapes)}
    for want, got in zip(_run(original, inputs, True), _run(loaded, inputs, True)):
        np.testing.assert_allclose(got, want, rtol=1e-12)
