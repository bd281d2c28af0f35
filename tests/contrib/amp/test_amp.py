"""mx.contrib.amp: the op lists, convert_symbol's casts (graph, inferred types, float16 numerics against the
float32 graph), convert_model / convert_hybrid_block, and init + dynamic loss scaling with a gluon.Trainer
(in a child process, since amp.init changes mx.nd and mx.sym for the whole process)."""
import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import mxcy as mx
from mxcy.contrib import amp
from mxcy.ops import registry


def test_lists_name_registered_operators_once():
    lists = [amp.list_lp16_ops("float16"), amp.list_fp32_ops("float16"), amp.list_widest_type_cast("float16"),
             [name for name, _, _ in amp.list_conditional_fp32_ops("float16")], amp.list_lp16_fp32_ops("float16")]
    names = [name for names in lists for name in names]
    assert len(names) == len(set(names))
    assert [n for n in names if n not in registry.names()] == []
    assert set(amp.list_loss_output_functions("float16")) <= set(amp.list_fp32_ops("float16"))
    with pytest.raises(mx.MXNetError, match="bfloat16"):
        amp.list_lp16_ops("bfloat16")
    with pytest.raises(AssertionError, match="float16"):
        amp.convert_symbol(mx.sym.var("x"), target_dtype="float64")


def _net():
    data = mx.sym.var("data")
    fc = mx.sym.FullyConnected(data, num_hidden=3, name="fc1")
    relu = mx.sym.Activation(fc, act_type="relu", name="relu1")
    added = mx.sym.elemwise_add(mx.sym.exp(relu, name="exp1"), fc, name="add1")
    return mx.sym.Group([added, mx.sym.Activation(fc, act_type="softrelu", name="sr")])


def _nodes(sym):
    graph = json.loads(sym.tojson(remove_amp_cast=False))  # files drop the casts by default, as MXNet's
    nodes = graph["nodes"]
    return {n["name"]: (n["op"], n.get("attrs", {}).get("dtype"), [nodes[i[0]]["name"] for i in n["inputs"]])
            for n in nodes}


def test_convert_symbol_inserts_the_casts_the_lists_ask_for():
    nodes = _nodes(amp.convert_symbol(_net(), data_names=["data"]))
    assert nodes["fc1"][2] == ["data_amp_cast_float16", "fc1_weight_amp_cast_float16", "fc1_bias_amp_cast_float16"]
    assert nodes["fc1_weight_amp_cast_float16"] == ("amp_cast", "float16", ["fc1_weight"])
    assert nodes["relu1"][2] == ["fc1"]  # relu is exact in either type
    assert nodes["exp1"][2] == ["relu1_amp_cast_float32"]
    assert nodes["add1_amp_multicast"] == ("amp_multicast", None, ["exp1", "fc1"])
    assert nodes["sr"][2] == ["fc1_amp_cast_float32"]  # softrelu: float32 by condition
    excluded = _nodes(amp.convert_symbol(_net(), excluded_sym_names=["fc1"]))
    assert excluded["fc1"][2] == ["data", "fc1_weight", "fc1_bias"]
    with pytest.raises(mx.MXNetError, match="cast_optional_params"):
        amp.convert_symbol(_net(), cast_optional_params=True)


def test_converted_graph_computes_in_float16():
    converted = amp.convert_symbol(_net(), data_names=["data"])
    internals = converted.get_internals()
    types = dict(zip(internals.list_outputs(), internals.infer_type(data="float32")[1]))
    assert types["fc1_output"] == np.float16 and types["relu1_output"] == np.float16
    assert types["exp1_output"] == np.float32 and types["add1_output"] == np.float32
    rng = np.random.RandomState(0)
    args = {"data": mx.nd.array(rng.randn(4, 5)), "fc1_weight": mx.nd.array(rng.randn(3, 5) * 0.3),
            "fc1_bias": mx.nd.array(rng.randn(3) * 0.1)}
    want = [o.asnumpy() for o in _net().bind(mx.cpu(), args).forward()]
    got = converted.bind(mx.cpu(), args).forward()
    assert [o.dtype for o in got] == [np.float32, np.float32]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.asnumpy(), w, rtol=5e-3, atol=5e-3)  # float16's 11-bit mantissa


def test_convert_model_and_hybrid_block():
    arg_params = {"fc1_weight": mx.nd.ones((3, 5)), "fc1_bias": mx.nd.zeros(3), "unused": mx.nd.ones(1)}
    sym, args, auxs = amp.convert_model(_net(), arg_params, {})
    assert set(args) == {"fc1_weight", "fc1_bias"} and auxs == {}
    assert "fc1_weight_amp_cast_float16" in _nodes(sym)

    net = mx.gluon.nn.HybridSequential()
    net.add(mx.gluon.nn.Dense(4, activation="relu"), mx.gluon.nn.Dense(2))
    net.initialize(mx.init.Xavier())
    x = mx.nd.array(np.random.RandomState(1).randn(3, 6))
    with pytest.raises(RuntimeError, match="hybridize"):
        amp.convert_hybrid_block(net, ctx=mx.cpu())
    net.hybridize()
    want = net(x).asnumpy()
    converted = amp.convert_hybrid_block(net, ctx=mx.cpu())
    out = converted(x)
    np.testing.assert_allclose(out.asnumpy(), want, rtol=1e-2, atol=1e-2)
    assert out.dtype == np.float16  # the last Dense computes in float16
    assert all(p.data().dtype == np.float32 for p in converted.collect_params().values())


class _Param:
    def __init__(self, grad):
        self._grad = [mx.nd.array(grad)]


def test_loss_scaler_moves_the_scale():
    scaler = amp.loss_scaler.LossScaler()
    scaler._scale_seq_len = 3
    assert scaler.loss_scale == 2.0 ** 16
    assert scaler.has_overflow([_Param([1.0, np.inf]), _Param([0.0])])
    assert not scaler.has_overflow([_Param([1.0])])  # the halved scale applies from this step
    assert scaler.loss_scale == 2.0 ** 15
    assert not scaler.has_overflow([_Param([np.float32(1.0)])])
    assert not scaler.has_overflow([_Param([2.0])])  # third clean step: doubles for the next
    assert not scaler.has_overflow([_Param([2.0])])
    assert scaler.loss_scale == 2.0 ** 16
    assert scaler.has_overflow([_Param([np.nan])])


def test_init_and_dynamic_loss_scaling_with_a_trainer():
    script = textwrap.dedent("""
        import numpy as np
        import mxcy as mx
        from mxcy.contrib import amp
        with np.testing.assert_raises(AssertionError):
            amp.init_trainer(None)
        amp.init()
        net = mx.gluon.nn.Dense(2, in_units=3)
        net.initialize(mx.init.One())
        x = mx.nd.ones((1, 3)) * 0.01  # one row: the bias gradient is the (scaled) head gradient
        assert net(x).dtype == np.float16, net(x).dtype          # FullyConnected runs in float16
        assert mx.nd.exp(x.astype('float16')).dtype == np.float32  # exp in float32
        trainer = mx.gluon.Trainer(net.collect_params(), 'sgd', {'learning_rate': 0.1})
        amp.init_trainer(trainer)

        def step():
            with mx.autograd.record():
                loss = net(x).astype('float32').sum()
                with amp.scale_loss(loss, trainer) as scaled:
                    assert float(scaled.asscalar()) == float(loss.asscalar()) * trainer._amp_loss_scaler.loss_scale
                    scaled.backward()
            trainer.step(1)

        # At the first scale, 2**16, the head gradient itself overflows float16: the step is skipped and
        # the scale halves from the next overflow check on (MXNet's order), so the second step, still at
        # 2**16, is skipped too.
        step()
        step()
        np.testing.assert_array_equal(net.weight.data().asnumpy(), np.ones((2, 3)))
        assert trainer._amp_loss_scaler.loss_scale == 2 ** 15
        step()  # at 2**15 the gradients fit and are unscaled by the trainer
        np.testing.assert_allclose(net.weight.data().asnumpy(), 1 - 0.1 * 0.01, rtol=1e-4)
        np.testing.assert_allclose(net.bias.data().asnumpy(), -0.1, rtol=1e-4)  # bias starts at zero
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr[-3000:]
