"""The inference fusion pass (symbol/fuse.py) and the CachedOp that runs its result: which chains become
_fused_conv_bn nodes, and hybridized inference giving the unfused graph's values."""
import collections

import numpy as np
import pytest

import mxcy as mx
from mxcy.symbol.fuse import fuse_conv_bn

sym = mx.sym


def ops(symbol):
    return collections.Counter(node.op.name for node in symbol._topo() if node.op is not None)


def conv_bn(x, name, fix_gamma=False):
    c = sym.Convolution(x, kernel=(3, 3), pad=(1, 1), num_filter=4, name=f"{name}_conv")
    return c, sym.BatchNorm(c, fix_gamma=fix_gamma, name=f"{name}_bn")


def test_residual_block_chains():
    # relu(bn(conv(x)) + bn(conv(x))): the first branch takes the add and relu, the second is conv + bn alone.
    x = sym.var("data")
    _, a = conv_bn(x, "a")
    _, b = conv_bn(x, "b")
    fused = fuse_conv_bn(sym.Activation(a + b, act_type="relu"))
    assert ops(fused) == {"_fused_conv_bn": 2}
    heads = [n for n in fused._topo() if n.op is not None]
    assert [(n.params["with_sum"], n.params["with_relu"]) for n in heads] == [(False, False), (True, True)]
    assert sorted(fused.list_inputs()) == sorted(sym.Activation(a + b, act_type="relu").list_inputs())


@pytest.mark.parametrize("case", ["conv read twice", "bn read twice", "fix_gamma", "bn is an output", "relu6"])
def test_left_alone(case):
    x = sym.var("data")
    c, b = conv_bn(x, "a", fix_gamma=case == "fix_gamma")
    out = {"conv read twice": lambda: sym.Group([b, c]),
           "bn read twice": lambda: b * b,
           "fix_gamma": lambda: b,
           "bn is an output": lambda: sym.Group([sym.relu(b), b]),
           "relu6": lambda: sym.clip(b, 0, 6)}[case]()
    fused = fuse_conv_bn(out)
    # Only what no other reader sees is fused: a chain cut short keeps conv + bn where that much is private.
    expect = {"conv read twice": 0, "bn read twice": 1, "fix_gamma": 0, "bn is an output": 1, "relu6": 1}[case]
    assert ops(fused)["_fused_conv_bn"] == expect
    if case == "bn is an output":
        assert ops(fused)["relu"] == 1  # the relu stays: the bn output is needed unrectified too


def small_net():
    net = mx.gluon.nn.HybridSequential()
    net.add(mx.gluon.nn.Conv2D(6, 3, padding=1, use_bias=True), mx.gluon.nn.BatchNorm(), mx.gluon.nn.Activation("relu"),
            mx.gluon.nn.Conv2D(6, 1), mx.gluon.nn.BatchNorm())
    net.initialize(mx.init.Xavier())
    x = mx.nd.array(np.random.default_rng(0).standard_normal((2, 3, 7, 7)))
    net(x)
    rng = np.random.default_rng(1)
    for name, p in net.collect_params().items():  # statistics and affine terms away from 0 and 1
        if name.endswith(("running_var", "running_mean", "gamma", "beta")):
            value = rng.random(p.shape) + 0.5 if name.endswith(("var", "gamma")) else rng.standard_normal(p.shape)
            p.set_data(mx.nd.array(value))
    return net, x


def test_hybridized_inference_is_fused_and_equal(monkeypatch):
    net, x = small_net()
    expect = net(x).asnumpy()
    seen = []
    monkeypatch.setattr(mx.cached_op.fuse, "fuse_conv_bn", lambda s: seen.append(ops(fuse_conv_bn(s))) or
                        fuse_conv_bn(s))
    net.hybridize()
    for _ in range(2):  # the captured call, then the replayed trace
        np.testing.assert_allclose(net(x).asnumpy(), expect, rtol=1e-5, atol=1e-5)
    assert seen == [{"_fused_conv_bn": 2}]
    with mx.autograd.train_mode():  # batch statistics: the graph as written, hybridized or not
        hybridized = net(x).asnumpy()
        net.hybridize(False)
        np.testing.assert_allclose(hybridized, net(x).asnumpy(), rtol=1e-5, atol=1e-5)


def test_switched_off(monkeypatch):
    net, x = small_net()
    monkeypatch.setenv("MXNET_SUBGRAPH_BACKEND", "NONE")
    monkeypatch.setattr(mx.cached_op.fuse, "fuse_conv_bn", lambda s: pytest.fail("fused with the backend off"))
    net.hybridize()
    net(x).wait_to_read()
