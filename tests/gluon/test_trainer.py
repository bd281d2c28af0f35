"""gluon.Trainer: steps equal to the optimizer rules in NumPy, linear regression, several contexts, stale
gradients, grad_req='add', learning-rate access, save/load_states, and bad arguments."""
import numpy as np
import pytest

import mxcy as mx
from mxcy import autograd, gluon
from tests import optimizer_rules as rules


def _dense(ctx=None, init=None):
    net = gluon.nn.Dense(1, in_units=2)
    net.initialize(init or mx.init.Constant(0.5), ctx=ctx)
    return net


def _grads(net, x, y):
    with autograd.record():
        loss = ((net(x) - y) ** 2).sum()
    loss.backward()


def test_step_is_sgd_momentum_on_gradient_over_batch_size():
    net = _dense()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1, "momentum": 0.9, "wd": 0.01})
    x, y = np.array([[1.0, 2.0], [3.0, -1.0]]), np.array([[1.0], [0.0]])
    w, b = np.full((1, 2), 0.5), np.zeros((1,))  # Dense initializes its bias with zeros
    mom_w, mom_b = np.zeros_like(w), np.zeros_like(b)
    for _ in range(3):
        err = x @ w.T + b - y
        gw, gb = 2 * err.T @ x, 2 * err.sum(0)
        _grads(net, mx.nd.array(x), mx.nd.array(y))
        trainer.step(2)
        w, mom_w = rules.sgd_mom(w, gw, mom_w, lr=0.1, momentum=0.9, wd=0.01, rescale_grad=0.5)
        b, mom_b = rules.sgd_mom(b, gb, mom_b, lr=0.1, momentum=0.9, wd=0.01, rescale_grad=0.5)
        np.testing.assert_allclose(net.weight.data().asnumpy(), w, rtol=1e-5)
        np.testing.assert_allclose(net.bias.data().asnumpy(), b, rtol=1e-5)


def test_linear_regression_recovers_its_weights():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 2))
    y = x @ np.array([2.0, -3.4]) + 4.2
    net = _dense(init=mx.init.Zero())
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.2})
    loss_fn = gluon.loss.L2Loss()
    xs, ys = mx.nd.array(x), mx.nd.array(y.reshape(-1, 1))
    for _ in range(20):
        for i in range(0, 200, 20):
            with autograd.record():
                loss = loss_fn(net(xs[i:i + 20]), ys[i:i + 20])
            loss.backward()
            trainer.step(20)
    np.testing.assert_allclose(net.weight.data().asnumpy(), [[2.0, -3.4]], atol=1e-3)
    np.testing.assert_allclose(net.bias.data().asnumpy(), [4.2], atol=1e-3)


def test_several_contexts_sum_gradients_and_update_every_copy():
    x, y = mx.nd.array([[1.0, 2.0], [3.0, -1.0]]), mx.nd.array([[1.0], [0.0]])
    single = _dense()
    t_single = gluon.Trainer(single.collect_params(), "adam", {"learning_rate": 0.1})
    multi = _dense(ctx=[mx.cpu(0), mx.cpu(1)])
    t_multi = gluon.Trainer(multi.collect_params(), "adam", {"learning_rate": 0.1}, kvstore="device")
    for _ in range(2):
        _grads(single, x, y)
        t_single.step(2)
        with autograd.record():
            losses = [((multi(xi.as_in_context(c)) - yi.as_in_context(c)) ** 2).sum()
                      for xi, yi, c in ((x[0:1], y[0:1], mx.cpu(0)), (x[1:2], y[1:2], mx.cpu(1)))]
        autograd.backward(losses)
        t_multi.step(2)
    for p_single, p_multi in zip(single.collect_params().values(), multi.collect_params().values()):
        for copy in p_multi.list_data():
            np.testing.assert_allclose(copy.asnumpy(), p_single.data().asnumpy(), rtol=1e-5)


def test_stale_gradient_raises_or_is_skipped():
    net = _dense()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1})
    with pytest.raises(UserWarning, match="has not been updated by backward since last `step`"):
        trainer.step(1)
    before = net.weight.data().asnumpy()
    trainer.step(1, ignore_stale_grad=True)
    np.testing.assert_array_equal(net.weight.data().asnumpy(), before)
    _grads(net, mx.nd.ones((1, 2)), mx.nd.zeros((1, 1)))
    trainer.step(1)
    assert not np.array_equal(net.weight.data().asnumpy(), before)
    with pytest.raises(UserWarning, match="dense"):
        trainer.step(1)


def test_grad_req_add_accumulates_until_zero_grad():
    net = _dense()
    net.collect_params().setattr("grad_req", "add")
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1})
    x, y = mx.nd.array([[1.0, 2.0]]), mx.nd.array([[0.0]])
    _grads(net, x, y)
    _grads(net, x, y)
    g = net.weight.grad().asnumpy()
    np.testing.assert_allclose(g, 2 * 2 * 1.5 * np.array([[1.0, 2.0]]))  # two backwards of 2*err*x, err = 1.5
    trainer.step(1)
    np.testing.assert_allclose(net.weight.data().asnumpy(), 0.5 - 0.1 * g, rtol=1e-6)
    net.collect_params().zero_grad()
    assert not net.weight.grad().asnumpy().any()


def test_allreduce_then_update_equals_step():
    x, y = mx.nd.array([[1.0, 2.0]]), mx.nd.array([[0.0]])
    a, b = _dense(), _dense()
    ta = gluon.Trainer(a.collect_params(), "sgd", {"learning_rate": 0.1})
    tb = gluon.Trainer(b.collect_params(), "sgd", {"learning_rate": 0.1})
    _grads(a, x, y)
    _grads(b, x, y)
    ta.step(4)
    tb.allreduce_grads()
    tb.update(4)
    np.testing.assert_array_equal(a.weight.data().asnumpy(), b.weight.data().asnumpy())


def test_learning_rate_access():
    net = _dense()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.3})
    assert trainer.learning_rate == pytest.approx(0.3)
    trainer.set_learning_rate(0.05)
    assert trainer.learning_rate == pytest.approx(0.05) and trainer.optimizer.lr == pytest.approx(0.05)
    optimizer = mx.optimizer.Adam(learning_rate=0.2)
    assert gluon.Trainer(net.collect_params(), optimizer).optimizer is optimizer


def test_save_and_load_states_resume_to_the_same_next_step(tmp_path):
    x, y = mx.nd.array([[1.0, 2.0], [0.5, -1.0]]), mx.nd.array([[1.0], [0.0]])

    def make():
        net = _dense()
        return net, gluon.Trainer(net.collect_params(), "adam", {"learning_rate": 0.1, "wd": 0.01})
    net, trainer = make()
    for _ in range(2):
        _grads(net, x, y)
        trainer.step(2)
    fname = str(tmp_path / "t.states")
    trainer.save_states(fname)
    net.save_parameters(str(tmp_path / "p.params"))
    _grads(net, x, y)
    trainer.step(2)
    net2, trainer2 = make()
    net2.load_parameters(str(tmp_path / "p.params"))
    trainer2.load_states(fname)
    assert trainer2.optimizer.num_update == 2
    _grads(net2, x, y)
    trainer2.step(2)
    for p, q in zip(net.collect_params().values(), net2.collect_params().values()):
        np.testing.assert_array_equal(p.data().asnumpy(), q.data().asnumpy())


def test_load_states_errors(tmp_path):
    net = _dense()
    trainer = gluon.Trainer(net.collect_params(), "sgd")
    bad = tmp_path / "bad.states"
    bad.write_bytes(b"\x00garbage")
    with pytest.raises(mx.MXNetError, match="corrupt"):
        trainer.load_states(str(bad))
    with pytest.raises(mx.MXNetError, match="cannot read"):
        trainer.load_states(str(tmp_path / "missing.states"))


def test_bad_arguments():
    net = _dense()
    with pytest.raises(ValueError, match="Cannot find optimizer nosuch"):
        gluon.Trainer(net.collect_params(), "nosuch")
    with pytest.raises(ValueError, match="list or dict of Parameters"):
        gluon.Trainer(net.weight, "sgd")
    with pytest.raises(mx.MXNetError, match="dist_sync"):
        gluon.Trainer(net.collect_params(), "sgd", kvstore="dist_sync")
    with pytest.raises(AssertionError, match="optimizer_params"):
        gluon.Trainer(net.collect_params(), mx.optimizer.SGD(), {"learning_rate": 0.1})
    with pytest.raises(ValueError, match="given twice"):
        gluon.Trainer([net.weight, net.weight], "sgd")


def _two_context_step(trainer, x):
    with autograd.record():
        ys = [w * c for c, w in zip((1.0, 3.0), x.list_data())]  # gradients 1 and 3 on the two copies
    autograd.backward(ys)
    trainer.step(1)


@pytest.mark.parametrize("kvstore,update_on_kvstore,on_store", [
    ("device", None, True), ("local", False, False), (None, None, None), ("teststore", None, False)])
def test_kvstore_choice_and_summed_update(kvstore, update_on_kvstore, on_store):
    x = gluon.Parameter("x", shape=(3,))
    x.initialize(init=mx.init.Zero(), ctx=[mx.cpu(0), mx.cpu(1)])
    store = mx.kv.create(kvstore) if kvstore == "teststore" else kvstore
    trainer = gluon.Trainer([x], "sgd", {"learning_rate": 0.5, "momentum": 0.5}, kvstore=store,
                            update_on_kvstore=update_on_kvstore)
    _two_context_step(trainer, x)
    _two_context_step(trainer, x)
    assert trainer._update_on_kvstore is on_store
    assert (trainer._kvstore is None) == (kvstore is None)
    # without a store each copy steps with its own gradient; with one, both step with the sum 4
    mom, w = np.zeros(3), np.zeros(3)
    for _ in range(2):
        w, mom = rules.sgd_mom(w, np.full(3, 4.0 if kvstore else 1.0), mom, lr=0.5, momentum=0.5)
    np.testing.assert_allclose(x.list_data()[0].asnumpy(), w, rtol=1e-6)
    if kvstore:
        np.testing.assert_array_equal(x.list_data()[1].asnumpy(), x.list_data()[0].asnumpy())
    if on_store:
        with pytest.raises(AssertionError, match="update_on_kvstore"):
            trainer.update(1)
        with pytest.raises(AssertionError, match="update_on_kvstore"):
            trainer.allreduce_grads()


def test_update_on_kvstore_needs_an_optimizer_capable_store():
    x = gluon.Parameter("x", shape=(2,))
    x.initialize(ctx=[mx.cpu(0), mx.cpu(1)])
    trainer = gluon.Trainer([x], "sgd", kvstore=mx.kv.create("teststore"), update_on_kvstore=True)
    with pytest.raises(ValueError, match="update_on_kvstore=False"):
        trainer._init_kvstore()


def test_compression_params_reach_the_store():
    x = gluon.Parameter("x", shape=(4,))
    x.initialize(init=mx.init.Zero(), ctx=[mx.cpu(0), mx.cpu(1)])
    trainer = gluon.Trainer([x], "sgd", {"learning_rate": 1.0}, kvstore="device",
                            compression_params={"type": "2bit", "threshold": 2.0})
    _two_context_step(trainer, x)  # gradients 1 and 3 quantize to 0 and +2 (residuals 1 and 1)
    np.testing.assert_array_equal(x.list_data()[0].asnumpy(), np.full(4, -2.0))
    _two_context_step(trainer, x)  # residuals 2 and 4: both send +2
    np.testing.assert_array_equal(x.list_data()[1].asnumpy(), np.full(4, -6.0))


def test_states_saved_by_the_store_resume(tmp_path):
    def make():
        x = gluon.Parameter("x", shape=(3,))
        x.initialize(init=mx.init.Zero(), ctx=[mx.cpu(0), mx.cpu(1)])
        return x, gluon.Trainer([x], "adam", {"learning_rate": 0.1}, kvstore="device")
    x, trainer = make()
    _two_context_step(trainer, x)
    assert trainer._update_on_kvstore
    fname = str(tmp_path / "kv.states")
    trainer.save_states(fname)
    y, other = make()
    y.set_data(x.list_data()[0])
    other.load_states(fname)
    assert other.optimizer is other._kvstore._updater.optimizer and other.optimizer.param_dict[0] is y
    _two_context_step(trainer, x)
    _two_context_step(other, y)
    np.testing.assert_array_equal(x.list_data()[0].asnumpy(), y.list_data()[0].asnumpy())


def test_sparse_gradients_dense_weights_on_two_contexts():
    x = gluon.Parameter("x", shape=(4, 2), grad_stype="row_sparse")
    x.initialize(init=mx.init.One(), ctx=[mx.cpu(0), mx.cpu(1)])
    trainer = gluon.Trainer([x], "sgd", {"learning_rate": 0.5, "wd": 0.1}, kvstore="device")
    with autograd.record():
        ys = [mx.nd.Embedding(mx.nd.array([i], ctx=w.context), w, input_dim=4, output_dim=2, sparse_grad=True)
              for i, w in zip((1, 3), x.list_data())]
    autograd.backward(ys)
    trainer.step(1)
    assert trainer._update_on_kvstore is False
    # lazy sgd on the summed row_sparse gradient: rows 1 and 3 step (with weight decay), rows 0 and 2 keep 1
    want = np.ones((4, 2))
    want[[1, 3]] = rules.sgd(np.ones((2, 2)), np.ones((2, 2)), lr=0.5, wd=0.1)[0]
    for copy in x.list_data():
        np.testing.assert_allclose(copy.asnumpy(), want, rtol=1e-6)


def test_row_sparse_parameter_is_initialized_with_every_row_and_trains():
    x = mx.gluon.Parameter("x", shape=(10, 1), stype="row_sparse", grad_stype="row_sparse")
    x.initialize(ctx=[mx.cpu(0)], init="zeros")
    assert x._data[0].indices.asnumpy().tolist() == list(range(10))  # MXNet 1.9.1 stores every row, zeros too
    trainer = mx.gluon.Trainer([x], "sgd", {"learning_rate": 0.1})
    rows = mx.nd.arange(0, 10)
    with mx.autograd.record():
        for w in x.list_row_sparse_data(rows):
            (w * 2).backward()
    trainer.step(1)
    np.testing.assert_allclose(x.row_sparse_data(rows).asnumpy(), np.full((10, 1), -0.2), rtol=1e-6)
