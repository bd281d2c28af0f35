"""gluon.Parameter, Constant and ParameterDict: initialization (deferred too), contexts, gradients, files."""
import numpy as np
import pytest

import mxcy as mx
from mxcy import gluon
from mxcy.gluon import Constant, DeferredInitializationError, Parameter, ParameterDict


def test_initialize_creates_data_and_grad_per_context():
    p = Parameter("w", shape=(2, 3), init=mx.init.Constant(1.5))
    p.initialize(ctx=[mx.cpu(0), mx.cpu(1)])
    assert p.list_ctx() == [mx.cpu(0), mx.cpu(1)]
    for ctx in (mx.cpu(0), mx.cpu(1)):
        assert p.data(ctx).context == ctx
        np.testing.assert_array_equal(p.data(ctx).asnumpy(), np.full((2, 3), 1.5, np.float32))
        np.testing.assert_array_equal(p.grad(ctx).asnumpy(), np.zeros((2, 3), np.float32))
    p.data(mx.cpu(1))[:] = 7  # copies are independent
    assert p.data(mx.cpu(0)).asnumpy()[0, 0] == 1.5
    with pytest.raises(RuntimeError, match="not initialized on context cpu\\(2\\)"):
        p.data(mx.cpu(2))


def test_uninitialized_and_deferred_errors():
    p = Parameter("w", shape=(2, 3))
    with pytest.raises(RuntimeError, match="'w' has not been initialized"):
        p.data()
    q = Parameter("q", shape=(0, 3), allow_deferred_init=True)
    q.initialize()
    with pytest.raises(DeferredInitializationError, match="'q'"):
        q.data()
    with pytest.raises(ValueError, match="invalid shape"):
        Parameter("r", shape=(0, 3)).initialize()


def test_deferred_init_completes_with_shape_and_set_data():
    p = Parameter("w", shape=(0, 3), allow_deferred_init=True, init="ones")
    p.initialize(ctx=mx.cpu(1))
    p.shape = (4, 3)
    p._finish_deferred_init()
    assert p.data().shape == (4, 3) and p.list_ctx() == [mx.cpu(1)]
    np.testing.assert_array_equal(p.data().asnumpy(), np.ones((4, 3)))
    with pytest.raises(AssertionError, match="incompatible"):
        p.shape = (5, 3)
    q = Parameter("q", shape=(0, 2), allow_deferred_init=True)
    q.initialize()
    q.set_data(mx.nd.array([[1, 2]]))  # pending data is used instead of the initializer
    q._finish_deferred_init()
    np.testing.assert_array_equal(q.data().asnumpy(), [[1, 2]])


def test_grad_req_null_and_zero_grad_and_cast():
    p = Parameter("w", shape=(3,), init="ones")
    p.initialize()
    x = p.data()
    with mx.autograd.record():
        y = (x * x).sum()
    y.backward()
    np.testing.assert_array_equal(p.grad().asnumpy(), [2, 2, 2])
    p.zero_grad()
    np.testing.assert_array_equal(p.grad().asnumpy(), [0, 0, 0])
    p.cast("float64")
    assert p.data().dtype == np.float64 and p.grad().dtype == np.float64
    p.grad_req = "null"
    with pytest.raises(RuntimeError, match="grad_req='null'"):
        p.grad()
    with pytest.raises(AssertionError, match="grad_req"):
        p.grad_req = "sometimes"
    assert Parameter("nd", differentiable=False).grad_req == "null"


def test_grad_req_add_accumulates():
    p = Parameter("w", shape=(2,), init="ones", grad_req="add")
    p.initialize()
    for _ in range(3):
        with mx.autograd.record():
            y = (p.data() * 2).sum()
        y.backward()
    np.testing.assert_array_equal(p.grad().asnumpy(), [6, 6])


def test_reset_ctx_keeps_value():
    p = Parameter("w", shape=(2,), init=mx.init.Constant(3))
    p.initialize(ctx=mx.cpu(0))
    p.reset_ctx([mx.cpu(1), mx.cpu(2)])
    assert p.list_ctx() == [mx.cpu(1), mx.cpu(2)]
    np.testing.assert_array_equal(p.data(mx.cpu(2)).asnumpy(), [3, 3])


def test_var_carries_attributes():
    p = Parameter("fc_weight", shape=(4, 0), lr_mult=2.0, wd_mult=0.5, init="zeros")
    attrs = p.var().list_attr()
    assert attrs["__shape__"] == "(4, 0)" and attrs["__lr_mult__"] == "2.0"
    assert attrs["__wd_mult__"] == "0.5" and attrs["__init__"] == "zeros"
    assert p.var() is p.var()


def test_constant():
    c = Constant("c", [[1, 2], [3, 4]])
    # MXNet 1.9.1 prints these reprs exactly so
    assert repr(c) == "Constant c (shape=(2, 2), dtype=<class 'numpy.float32'>)"
    assert repr(Parameter("w", shape=(2, 3))) == "Parameter w (shape=(2, 3), dtype=<class 'numpy.float32'>)"
    c.initialize()
    np.testing.assert_array_equal(c.data().asnumpy(), [[1, 2], [3, 4]])
    assert c.grad_req == "null"
    with pytest.warns(UserWarning, match="does not support grad_req"):
        c.grad_req = "write"
    assert c.grad_req == "null"


def test_parameter_dict_get_merges_and_checks():
    d = ParameterDict("net_")
    w = d.get("weight", shape=(3, 0))
    assert w.name == "net_weight" and d.get("weight", shape=(0, 5)) is w
    assert w.shape == (3, 5)
    with pytest.raises(AssertionError, match="'shape'"):
        d.get("weight", shape=(4, 5))
    with pytest.raises(AssertionError, match="'lr_mult'"):
        d.get("weight", lr_mult=3.0)
    shared = ParameterDict("net_", shared=d)
    assert shared.get("weight") is w
    c = d.get_constant("const", [1, 2])
    assert d.get_constant("const") is c
    with pytest.raises(KeyError):
        d.get_constant("missing")
    with pytest.raises(AssertionError, match="different Parameters"):
        d.update({"net_weight": Parameter("net_weight")})
    assert list(d.select(".*const").keys()) == ["net_const"]
    d.setattr("lr_mult", 0.1)
    assert w.lr_mult == 0.1 and c.lr_mult == 0.1


def test_parameter_dict_save_load(tmp_path):
    d = ParameterDict("model_")
    d.get("w", shape=(2, 2), init=mx.init.Constant(2))
    d.get("b", shape=(2,), init="zeros")
    d.initialize()
    path = str(tmp_path / "p.params")
    d.save(path, strip_prefix="model_")
    assert sorted(mx.nd.load(path)) == ["b", "w"]
    e = ParameterDict("other_")
    e.get("w", shape=(2, 0))
    e.get("b", shape=(2,))
    e.load(path, restore_prefix="other_")
    np.testing.assert_array_equal(e["other_w"].data().asnumpy(), np.full((2, 2), 2))
    with pytest.raises(ValueError, match="does not start with"):
        d.save(path, strip_prefix="zzz")
    f = ParameterDict("other_")
    f.get("w", shape=(3, 3))
    f.get("b", shape=(2,))
    with pytest.raises(AssertionError, match=r"'other_w'.*\(3, 3\).*\(2, 2\)"):
        f.load(path, restore_prefix="other_")
    g = ParameterDict("other_")
    g.get("w", shape=(2, 2))
    with pytest.raises(AssertionError, match="'b'.*not present"):
        g.load(path, restore_prefix="other_")
    g.load(path, restore_prefix="other_", ignore_extra=True)
    h = ParameterDict("other_")
    h.get("w", shape=(2, 2))
    h.get("extra", shape=(1,))
    with pytest.raises(AssertionError, match="'extra' is missing"):
        h.load(path, restore_prefix="other_", ignore_extra=True)
    h.load(path, restore_prefix="other_", ignore_extra=True, allow_missing=True)


def test_load_init_dtype_rules():
    p = Parameter("w", shape=(2,), dtype="float16")
    with pytest.raises(AssertionError, match="dtype incompatible"):
        p._load_init(mx.nd.ones((2,)), mx.cpu())
    p._load_init(mx.nd.ones((2,)), mx.cpu(), cast_dtype=True)
    assert p.data().dtype == np.float16
    q = Parameter("q", shape=(2,), dtype="float16")
    q._load_init(mx.nd.ones((2,)), mx.cpu(), cast_dtype=True, dtype_source="saved")
    assert q.data().dtype == np.float32
    q._load_init(mx.nd.ones((2,), dtype="float64"), mx.cpu(), cast_dtype=True, dtype_source="saved")
    assert q.data().dtype == np.float64 and q.grad().dtype == np.float64  # initialized: cast, then set


def test_gluon_namespace_exports():
    for name in ("Parameter", "Constant", "ParameterDict", "DeferredInitializationError", "Block",
                 "HybridBlock", "SymbolBlock", "tensor_types"):
        assert hasattr(gluon, name), name


def test_zero_grad_clears_a_row_sparse_gradient():
    embed = mx.gluon.nn.Embedding(3, 4, sparse_grad=True)
    embed.initialize()
    with mx.autograd.record():
        embed(mx.nd.array([0, 2])).backward()
    assert embed.weight.grad().asnumpy().any()
    embed.collect_params().zero_grad()
    grad = embed.weight.grad()
    assert grad.stype == "row_sparse" and not grad.asnumpy().any()


def test_np_shape_shows_unknown_dims_as_minus_one_and_deferred_init_completes():
    # MXNet 1.9.1: Dense(16).weight.shape is (16, -1) under np_shape, its var's __shape__ too, (16, 0) outside
    dense = mx.gluon.nn.Dense(16)
    with mx.util.np_shape():
        assert dense.weight.shape == (16, -1)
        assert dense.weight.var().attr("__shape__") == "(16, -1)"
        dense.initialize()
        assert dense(mx.nd.zeros((2, 5))).shape == (2, 16) and dense.weight.shape == (16, 5)
    assert mx.gluon.nn.Dense(16).weight.shape == (16, 0)
