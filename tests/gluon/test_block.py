"""Block, HybridBlock and SymbolBlock: naming, registration, hooks, hybridize as one cached graph, files."""
import numpy as np
import pytest

import mxcy as mx
from mxcy import autograd, gluon
from mxcy.cached_op import _GraphStep


class Affine(gluon.HybridBlock):
    """A dense layer written on the core API alone, so these tests do not depend on gluon.nn."""

    def __init__(self, units, in_units=0, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        with self.name_scope():
            self.weight = self.params.get("weight", shape=(units, in_units), allow_deferred_init=True)
            self.bias = self.params.get("bias", shape=(units,), init="zeros", allow_deferred_init=True)

    def hybrid_forward(self, F, x, weight, bias):
        return F.FullyConnected(x, weight, bias, num_hidden=self.units, name="fwd")


class TwoLayer(gluon.HybridBlock):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.a = Affine(5)
            self.b = Affine(3)

    def hybrid_forward(self, F, x):
        return self.b(F.tanh(self.a(x)))


def _reference(net, x):
    """The two-layer net in NumPy float64 from its parameters."""
    p = {k.split("_", 1)[1]: v.data().asnumpy().astype(np.float64) for k, v in net.collect_params().items()}
    h = np.tanh(x @ p["affine0_weight"].T + p["affine0_bias"])
    return h @ p["affine1_weight"].T + p["affine1_bias"]


def _grads(net, x, hybridize):
    net.hybridize(hybridize)
    x = x.copy()
    x.attach_grad()
    with autograd.record():
        y = net(x)
        loss = (y * y).sum()
    loss.backward()
    return y.asnumpy(), x.grad.asnumpy(), {k: p.grad().asnumpy().copy() for k, p in net.collect_params().items()}


def test_names_follow_mxnet():
    with mx.name.NameManager():
        net = TwoLayer()
        other = TwoLayer()
        assert net.prefix == "twolayer0_" and other.prefix == "twolayer1_"
        assert net.name == "twolayer0"
        assert list(net.collect_params().keys()) == ["twolayer0_affine0_weight", "twolayer0_affine0_bias",
                                                     "twolayer0_affine1_weight", "twolayer0_affine1_bias"]
        assert list(net.collect_params("(?!.*bias)").keys()) == ["twolayer0_affine0_weight",
                                                                  "twolayer0_affine1_weight"]
        assert Affine(2, prefix="head_").prefix == "head_"
    assert list(net._collect_params_with_prefix()) == ["a.weight", "a.bias", "b.weight", "b.bias"]


def test_shared_params_are_the_same_objects():
    a = Affine(4, in_units=3)
    b = Affine(4, in_units=3, params=a.collect_params())
    assert b.weight is a.weight and b.bias is a.bias


def test_setattr_registers_and_guards_types():
    net = TwoLayer()
    assert list(net._children) == ["a", "b"]
    with pytest.raises(TypeError, match="Changing attribute type"):
        net.a = 3
    with pytest.raises(ValueError, match="Children of HybridBlock must also be HybridBlock"):
        net.register_child(gluon.Block())


def test_forward_runs_mxnets_math_and_deferred_shapes():
    net = TwoLayer()
    net.initialize(mx.init.Uniform(0.5))
    x = np.random.default_rng(0).standard_normal((4, 7)).astype(np.float32)
    y = net(mx.nd.array(x))
    assert net.a.weight.shape == (5, 7) and net.b.weight.shape == (3, 5)
    np.testing.assert_allclose(y.asnumpy(), _reference(net, x), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("x_shape", [(4, 7), (1, 7)])
def test_hybridized_equals_imperative(x_shape):
    net = TwoLayer()
    net.initialize(mx.init.Uniform(0.5))
    x = mx.nd.array(np.random.default_rng(1).standard_normal(x_shape))
    y0, gx0, g0 = _grads(net, x, False)
    y1, gx1, g1 = _grads(net, x, True)
    np.testing.assert_allclose(y1, y0, rtol=1e-6)
    np.testing.assert_allclose(gx1, gx0, rtol=1e-6)
    for k in g0:
        np.testing.assert_allclose(g1[k], g0[k], rtol=1e-6, err_msg=k)
    np.testing.assert_allclose(y1, _reference(net, x.asnumpy()), rtol=1e-5, atol=1e-6)


def test_hybridized_call_is_one_tape_node():
    net = TwoLayer()
    net.initialize()
    net.hybridize()
    x = mx.nd.ones((2, 7))
    x.attach_grad()
    with autograd.record():
        y = net(x)
    node = y._node[0]
    assert isinstance(node.op, _GraphStep)
    assert len(node.inputs) == 5  # x and the four parameters, nothing else on the user's tape
    assert not isinstance(node.inputs[0]._node, tuple)


def test_hybridized_backward_frees_and_retains_like_autograd():
    net = TwoLayer()
    net.initialize()
    net.hybridize()
    x = mx.nd.ones((2, 7))
    with autograd.record():
        y = net(x).sum()
    y.backward(retain_graph=True)
    first = net.a.weight.grad().asnumpy().copy()
    y.backward()
    np.testing.assert_allclose(net.a.weight.grad().asnumpy(), first)
    with pytest.raises(mx.MXNetError, match="freed"):
        y.backward()


class Cube(gluon.HybridBlock):
    def hybrid_forward(self, F, x):
        return x * x * x


def test_higher_order_gradient_through_the_cached_graph():
    net = Cube()
    net.hybridize()
    x = mx.nd.array([1.0, -2.0, 0.5])
    x.attach_grad()
    with autograd.record():
        y = net(x)
        dy = autograd.grad(y, [x], create_graph=True)[0]
    dy.backward()
    np.testing.assert_allclose(dy.asnumpy(), 3 * x.asnumpy() ** 2, rtol=1e-6)
    np.testing.assert_allclose(x.grad.asnumpy(), 6 * x.asnumpy(), rtol=1e-6)
    with autograd.record():  # the forward's own node and the recorded gradient both reach x
        y = net(x)
        dy = autograd.grad(y, [x], create_graph=True)[0]
        z = dy + y
    z.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), 6 * x.asnumpy() + 3 * x.asnumpy() ** 2, rtol=1e-6)


def test_hooks_and_apply():
    net = TwoLayer()
    net.initialize()
    seen = []
    pre = net.register_forward_pre_hook(lambda blk, inputs: seen.append(("pre", blk.name, inputs[0].shape)))
    post = net.register_forward_hook(lambda blk, inputs, out: seen.append(("post", blk.name, out.shape)))
    net(mx.nd.ones((2, 7)))
    assert seen == [("pre", net.name, (2, 7)), ("post", net.name, (2, 3))]
    pre.detach()
    post.detach()
    net(mx.nd.ones((2, 7)))
    assert len(seen) == 2
    names = []
    net.apply(lambda blk: names.append(blk.name))
    assert names == [net.a.name, net.b.name, net.name]


def test_cast_to_float64():
    net = TwoLayer()
    net.initialize()
    net.cast("float64")
    y = net(mx.nd.ones((2, 7), dtype="float64"))
    assert y.dtype == np.float64 and net.a.weight.data().dtype == np.float64


def test_op_hook_sees_every_operator_output():
    net = TwoLayer()
    net.initialize()
    net.hybridize()
    seen = []
    net.register_op_hook(lambda name, op, arr: seen.append((name.decode(), op.decode(), arr.shape)))
    net(mx.nd.ones((2, 7)))
    names = [s[0] for s in seen]
    assert f"{net.prefix}affine0_fwd_output" in names and f"{net.prefix}affine1_fwd_output" in names
    assert ("twolayer" in names[0]) and all(s[2][0] == 2 for s in seen)


def test_errors_name_the_block_and_shapes():
    net = Affine(3, in_units=4)
    with pytest.raises(RuntimeError, match="has not been initialized"):
        net(mx.nd.ones((2, 4)))
    net.initialize()
    with pytest.raises(mx.MXNetError, match=r"affine\d+: FullyConnected.*\(2, 5\)"):
        net(mx.nd.ones((2, 5)))
    net.hybridize()
    with pytest.raises(mx.MXNetError, match=r"affine\d+.*FullyConnected.*\(2, 5\)"):
        net(mx.nd.ones((2, 5)))
    unknowable = Scale()
    unknowable.initialize()
    with pytest.raises(ValueError, match=r"scale\d+: deferred initialization failed.*\(2, 3\)"):
        unknowable(mx.nd.ones((2, 3)))


class Scale(gluon.HybridBlock):
    """A weight whose shape no rule can infer: broadcasting does not fill unknown inputs."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.weight = self.params.get("weight", shape=(0,), allow_deferred_init=True)

    def hybrid_forward(self, F, x, weight):
        return F.broadcast_mul(x, weight)


class UsesNumpy(gluon.HybridBlock):
    def hybrid_forward(self, F, x):
        return x * float(x.asnumpy().sum())


def test_ndarray_only_code_fails_clearly_when_hybridized():
    net = UsesNumpy()
    np.testing.assert_allclose(net(mx.nd.ones((2,))).asnumpy(), [2, 2])
    net.hybridize()
    with pytest.raises(mx.MXNetError, match=r"usesnumpy\d+: hybrid_forward failed while tracing"):
        net(mx.nd.ones((2,)))


def test_symbolic_forward_composes():
    net = TwoLayer()
    out = net(mx.sym.var("data"))
    assert out.list_arguments() == ["data", f"{net.prefix}affine0_weight", f"{net.prefix}affine0_bias",
                                    f"{net.prefix}affine1_weight", f"{net.prefix}affine1_bias"]
    assert out.name == f"{net.prefix}affine1_fwd"
    with pytest.raises(ValueError, match="mixing"):
        net(mx.nd.ones((1, 7)), mx.sym.var("b"))


def test_infer_shape_and_type():
    net = TwoLayer()
    net.infer_shape(mx.nd.ones((3, 9)))
    assert net.a.weight.shape == (5, 9) and net.b.weight.shape == (3, 5)
    net.infer_type(mx.nd.ones((3, 9)))
    assert net.a.weight.dtype == np.float32
    with pytest.raises(mx.MXNetError, match="float64"):
        net.infer_type(mx.nd.ones((3, 9), dtype="float64"))  # the float32 parameters disagree


def test_save_and_load_parameters(tmp_path):
    net = TwoLayer()
    net.initialize()
    x = mx.nd.ones((2, 7))
    y = net(x).asnumpy()
    path = str(tmp_path / "net.params")
    net.save_parameters(path)
    assert sorted(mx.nd.load(path)) == ["a.bias", "a.weight", "b.bias", "b.weight"]
    fresh = TwoLayer()
    fresh.load_parameters(path)
    np.testing.assert_allclose(fresh(x).asnumpy(), y)
    legacy = str(tmp_path / "legacy.params")
    net.collect_params().save(legacy, strip_prefix=net.prefix)  # MXNet's older full-name layout
    again = TwoLayer()
    again.load_parameters(legacy)
    np.testing.assert_allclose(again(x).asnumpy(), y)


def test_load_parameters_errors(tmp_path):
    path = str(tmp_path / "p.params")
    mx.nd.save(path, {"a.weight": mx.nd.ones((5, 7)), "a.bias": mx.nd.ones((5,)),
                      "b.weight": mx.nd.ones((3, 6)), "b.bias": mx.nd.ones((3,))})
    net = TwoLayer()
    net.a.weight.shape = (5, 7)
    net.b.weight.shape = (3, 5)
    with pytest.raises(AssertionError, match=r"affine1_weight.*\(3, 5\).*\(3, 6\)"):
        net.load_parameters(path)
    mx.nd.save(path, {"a.weight": mx.nd.ones((5, 7)), "a.bias": mx.nd.ones((5,))})
    with pytest.raises(AssertionError, match="'b.weight' is missing"):
        TwoLayer().load_parameters(path)
    mx.nd.save(path, {"a.weight": mx.nd.ones((5, 7)), "a.bias": mx.nd.ones((5,)), "c.weight": mx.nd.ones(1)})
    with pytest.raises(ValueError, match="'c.weight'.*not present"):
        TwoLayer().load_parameters(path, allow_missing=True)
    TwoLayer().load_parameters(path, allow_missing=True, ignore_extra=True)


def test_export_and_imports_roundtrip_and_finetune(tmp_path):
    net = TwoLayer()
    net.initialize(mx.init.Uniform(0.5))
    with pytest.raises(RuntimeError, match="hybridize"):
        net.export(str(tmp_path / "early"))
    net.hybridize()
    x = mx.nd.array(np.random.default_rng(2).standard_normal((3, 7)))
    y = net(x).asnumpy()
    prefix = str(tmp_path / "net")
    net.export(prefix, epoch=3)
    saved = mx.nd.load(prefix + "-0003.params")
    assert sorted(saved) == sorted(f"arg:{k}" for k in net.collect_params())
    block = gluon.SymbolBlock.imports(prefix + "-symbol.json", ["data"], prefix + "-0003.params")
    np.testing.assert_allclose(block(x).asnumpy(), y, rtol=1e-6)
    with autograd.record():
        loss = (block(x) ** 2).sum()
    loss.backward()
    _, _, grads = _grads(net, x, True)
    for name, param in block.collect_params().items():
        np.testing.assert_allclose(param.grad().asnumpy(), grads[name], rtol=1e-5, err_msg=name)
    block.hybridize()
    block.export(str(tmp_path / "again"))
    assert open(str(tmp_path / "again-symbol.json")).read() == open(prefix + "-symbol.json").read()


def test_symbol_block_from_symbols():
    data = mx.sym.var("data")
    out = mx.sym.FullyConnected(data, num_hidden=2, name="fc")
    block = gluon.SymbolBlock(out, data)
    assert sorted(block.collect_params()) == ["fc_bias", "fc_weight"]
    block.initialize(mx.init.One())
    # MXNet 1.9.1 prints [[4, 4]]: a SymbolBlock's bias has no init of its own, so One() fills it too
    np.testing.assert_allclose(block(mx.nd.ones((1, 3))).asnumpy(), [[4.0, 4.0]])
    composed = block(mx.sym.var("other"))
    assert "other" in composed.list_arguments()


def test_block_save_and_load_structure(tmp_path):
    net = TwoLayer()
    net.initialize()
    net.hybridize()
    x = mx.nd.ones((2, 7))
    y = net(x).asnumpy()
    net.save(str(tmp_path / "m"))
    fresh = TwoLayer()
    fresh.load(str(tmp_path / "m"))
    np.testing.assert_allclose(fresh(x).asnumpy(), y)


def test_summary_prints_mxnets_table(capsys):
    net = TwoLayer()
    net.initialize()
    net.summary(mx.nd.ones((2, 7)))
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == "{:>20}  {:>42} {:>15}".format("Layer (type)", "Output Shape", "Param #")
    assert lines[3] == "{:>20}  {:>42} {:>15}".format("Input", "(2, 7)", 0)
    assert lines[4] == "{:>20}  {:>42} {:>15}".format("Affine-1", "(2, 5)", 40)
    assert lines[5] == "{:>20}  {:>42} {:>15}".format("Affine-2", "(2, 3)", 18)
    assert lines[6] == "{:>20}  {:>42} {:>15}".format("TwoLayer-3", "(2, 3)", 0)
    assert "   Total params: 58" in lines and "Unique parameters in model: 58" in lines
    net.hybridize()
    with pytest.raises(AssertionError, match="must not be hybridized"):
        net.summary(mx.nd.ones((2, 7)))


def test_parameters_on_several_contexts():
    net = TwoLayer()
    net.initialize(ctx=[mx.cpu(0), mx.cpu(1)])
    for ctx in (mx.cpu(0), mx.cpu(1)):
        x = mx.nd.ones((2, 7), ctx=ctx)
        with autograd.record():
            y = net(x).sum()
        y.backward()
        assert y.context == ctx and net.a.weight.grad(ctx).context == ctx
    np.testing.assert_allclose(net.a.weight.grad(mx.cpu(0)).asnumpy(), net.a.weight.grad(mx.cpu(1)).asnumpy())


def test_hybridized_child_on_an_intermediate_input():
    # A hybridized child inside an imperative parent: after backward frees the child's cached graph, the
    # parent's nodes before it (here the slice) must still run their gradients.
    child = Cube()
    child.hybridize()
    x = mx.nd.array([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]])
    x.attach_grad()
    with autograd.record():
        y = child(x.slice(begin=(0, 1), end=(2, 3))).sum()
    y.backward()
    expected = np.zeros((2, 3))
    expected[:, 1:] = 3 * x.asnumpy()[:, 1:] ** 2
    np.testing.assert_allclose(x.grad.asnumpy(), expected, rtol=1e-6)


def test_inline_limit_and_get_symbol():
    # MXNet: a cached graph of at most inline_limit ops is recorded op by op; a larger one is one
    # _CachedOp node over all its inputs (data and parameters).
    net = TwoLayer()
    net.initialize()
    x = mx.nd.ones((1, 7))
    net.hybridize(inline_limit=3)
    with autograd.record():
        y = net(x)
    inlined = autograd.get_symbol(y)
    assert [n.op.name for n in inlined._topo() if n.op is not None] == ["FullyConnected", "tanh",
                                                                        "FullyConnected"]
    y.backward()
    net.hybridize(inline_limit=0)
    with autograd.record():
        y = net(x)
    whole = autograd.get_symbol(y)
    assert [n.op.name for n in whole._topo() if n.op is not None] == ["_CachedOp"]
    assert len(whole.list_arguments()) == 5
    y.backward()
    assert net.a.weight.grad().abs().sum().asscalar() > 0
