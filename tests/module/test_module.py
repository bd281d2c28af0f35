"""mx.mod.Module: bind/forward/backward/update on a small MLP against the same step done by hand in NumPy
(one and two contexts), fit == the manual loop, fit's log lines, predict/score/iter_predict, reshape, checkpoints
both ways (a checkpoint written by MXNet 1.9.1 loads, predicts and resumes as it did there), Module.fit through
MNISTIter on scikit-learn's digits, and mx.callback."""
import logging
import os

import numpy as np
import pytest

import mxcy as mx
from tests.module.fixtures import digits_mlp

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
MXNET_DIGITS_ACCURACY = 0.9833  # `/tmp/mxnet-venv/bin/python tests/module/fixtures/digits_mlp.py`, MXNet 1.9.1 CPU
DIGITS_MARGIN = 0.03  # initial weights and MNISTIter's shuffle order come from different generators


def _mlp():
    data = mx.sym.Variable("data")
    net = mx.sym.FullyConnected(data, num_hidden=5, name="fc1")
    net = mx.sym.Activation(net, act_type="relu", name="relu1")
    net = mx.sym.FullyConnected(net, num_hidden=2, name="fc2")
    return mx.sym.SoftmaxOutput(net, name="softmax")


def _params(seed=0):
    rng = np.random.RandomState(seed)
    return {"fc1_weight": rng.randn(5, 3), "fc1_bias": rng.randn(5) * 0.1,
            "fc2_weight": rng.randn(2, 5), "fc2_bias": rng.randn(2) * 0.1}


def _sgd_step_by_hand(p, x, y, lr):
    """One SGD step of _mlp on (x, y) in float64: SoftmaxOutput's gradient is softmax - onehot, and Module's
    optimizer scales it by 1/batch_size."""
    z1 = x @ p["fc1_weight"].T + p["fc1_bias"]
    h = np.maximum(z1, 0)
    z2 = h @ p["fc2_weight"].T + p["fc2_bias"]
    prob = np.exp(z2 - z2.max(1, keepdims=True))
    prob /= prob.sum(1, keepdims=True)
    dz2 = prob - np.eye(2)[y.astype(int)]
    dz1 = (dz2 @ p["fc2_weight"]) * (z1 > 0)
    grads = {"fc2_weight": dz2.T @ h, "fc2_bias": dz2.sum(0), "fc1_weight": dz1.T @ x, "fc1_bias": dz1.sum(0)}
    return prob, {k: p[k] - lr * grads[k] / len(x) for k in p}


def _data(n=8, seed=1):
    rng = np.random.RandomState(seed)
    x = rng.randn(n, 3)
    return x, (x[:, 0] > 0).astype(np.float64)


def _nd(params):
    return {k: mx.nd.array(v) for k, v in params.items()}


@pytest.mark.parametrize("contexts", [[mx.cpu()], [mx.cpu(0), mx.cpu(1)]], ids=["one", "two"])
def test_forward_backward_update_equals_the_step_by_hand(contexts):
    x, y = _data()
    params = _params()
    mod = mx.mod.Module(_mlp(), context=contexts)
    mod.bind(data_shapes=[("data", x.shape)], label_shapes=[("softmax_label", y.shape)])
    mod.init_params(arg_params=_nd(params))
    mod.init_optimizer(optimizer="sgd", optimizer_params={"learning_rate": 0.5})
    for _ in range(2):
        mod.forward(mx.io.DataBatch([mx.nd.array(x)], [mx.nd.array(y)]), is_train=True)
        mod.backward()
        mod.update()
        prob, params = _sgd_step_by_hand(params, x, y, 0.5)
        np.testing.assert_allclose(mod.get_outputs()[0].asnumpy(), prob, rtol=1e-5, atol=1e-6)
        got, aux = mod.get_params()
        assert aux == {}
        for name, value in params.items():
            np.testing.assert_allclose(got[name].asnumpy(), value, rtol=1e-4, atol=1e-5, err_msg=name)
    assert mod.output_shapes == [("softmax_output", (8, 2))]
    assert mod.data_shapes[0].shape == (8, 3) and mod.label_shapes[0].name == "softmax_label"
    if len(contexts) == 2:
        halves = mod.get_outputs(merge_multi_context=False)[0]
        assert [h.shape for h in halves] == [(4, 2), (4, 2)] and halves[1].context == mx.cpu(1)


def test_input_grads_and_fixed_params():
    a, b = mx.sym.Variable("a"), mx.sym.Variable("b")
    w = mx.sym.Variable("w_weight", shape=(2, 3))
    out = mx.sym.broadcast_mul(a, w) + 2 * b
    mod = mx.mod.Module(out, data_names=["b", "a"], label_names=None, fixed_param_names=["w_weight"])
    mod.bind(data_shapes=[("b", (2, 3)), ("a", (2, 3))], inputs_need_grad=True)
    mod.init_params(initializer=mx.init.Constant(3.0))
    mod.init_optimizer(optimizer_params={"learning_rate": 1.0})
    mod.forward(mx.io.DataBatch([mx.nd.ones((2, 3)), mx.nd.full((2, 3), 5.0)]), is_train=True)
    np.testing.assert_array_equal(mod.get_outputs()[0].asnumpy(), np.full((2, 3), 17.0))
    mod.backward([mx.nd.ones((2, 3))])
    b_grad, a_grad = mod.get_input_grads()
    np.testing.assert_array_equal(b_grad.asnumpy(), np.full((2, 3), 2.0))
    np.testing.assert_array_equal(a_grad.asnumpy(), np.full((2, 3), 3.0))
    mod.update()
    np.testing.assert_array_equal(mod.get_params()[0]["w_weight"].asnumpy(), np.full((2, 3), 3.0))  # fixed


def test_fit_equals_the_manual_loop_and_logs_like_mxnet(caplog):
    x, y = _data(12, seed=2)
    params = _params(1)
    train = mx.io.NDArrayIter(x, y, batch_size=4)
    fitted = mx.mod.Module(_mlp())
    with caplog.at_level(logging.INFO):
        fitted.fit(train, eval_data=train, num_epoch=2, arg_params=_nd(params),
                   optimizer_params={"learning_rate": 0.3, "momentum": 0.9})
    lines = [r.getMessage() for r in caplog.records]
    for epoch in (0, 1):
        assert any(line.startswith(f"Epoch[{epoch}] Train-accuracy=") for line in lines)
        assert any(line.startswith(f"Epoch[{epoch}] Time cost=") for line in lines)
        assert any(line.startswith(f"Epoch[{epoch}] Validation-accuracy=") for line in lines)

    manual = mx.mod.Module(_mlp())
    manual.bind(data_shapes=train.provide_data, label_shapes=train.provide_label)
    manual.init_params(arg_params=_nd(params))
    manual.init_optimizer(optimizer_params={"learning_rate": 0.3, "momentum": 0.9})
    for _ in range(2):
        train.reset()
        for batch in train:
            manual.forward_backward(batch)
            manual.update()
    for name, value in manual.get_params()[0].items():
        np.testing.assert_array_equal(fitted.get_params()[0][name].asnumpy(), value.asnumpy(), err_msg=name)


def test_fit_and_score_read_the_metric_at_the_end_only_without_a_live_bar(monkeypatch):
    """As MXNet: without a progress bar to show them, the metric's values are read once an epoch, not per batch."""
    monkeypatch.setenv("MXCY_PROGRESS", "0")
    x, y = _data(12, seed=2)
    train = mx.io.NDArrayIter(x, y, batch_size=4)
    metric = mx.metric.Accuracy()
    reads = []
    monkeypatch.setattr(metric, "get", lambda: reads.append("get") or mx.metric.Accuracy.get(metric))
    monkeypatch.setattr(metric, "get_global", lambda: reads.append("global") or mx.metric.Accuracy.get_global(metric))
    mod = mx.mod.Module(_mlp())
    mod.fit(train, num_epoch=1, eval_metric=metric, arg_params=_nd(_params()))
    assert reads == ["global"]
    reads.clear()
    mod.score(train, metric)
    assert reads == ["get"]


def test_predict_drops_padding_and_score_counts_examples():
    x, y = _data(10, seed=3)
    mod = mx.mod.Module(_mlp())
    mod.bind(data_shapes=[("data", (4, 3))], label_shapes=[("softmax_label", (4,))], for_training=False)
    mod.init_params(arg_params=_nd(_params()))
    prob, _ = _sgd_step_by_hand(_params(), x, y, 0.0)
    it = mx.io.NDArrayIter(x, y, batch_size=4)  # 3 batches, the last padded with 2 examples
    np.testing.assert_allclose(mod.predict(it).asnumpy(), prob, rtol=1e-5)
    per_batch = mod.predict(it, merge_batches=False)
    assert [p[0].shape for p in per_batch] == [(4, 2), (4, 2), (2, 2)]
    assert [p[0].shape[0] for p, _, _ in mod.iter_predict(it, num_batch=2)] == [4, 4]
    np.testing.assert_allclose(mod.predict(x[:4]).asnumpy(), prob[:4], rtol=1e-5)
    ((name, acc),) = mod.score(mx.io.NDArrayIter(x[:8], y[:8], batch_size=4), "acc")
    assert name == "accuracy" and acc == pytest.approx(np.mean(prob[:8].argmax(1) == y[:8]))


def test_reshape_and_forward_with_another_batch_size():
    mod = mx.mod.Module(_mlp())
    mod.bind(data_shapes=[("data", (4, 3))], label_shapes=[("softmax_label", (4,))])
    mod.init_params(arg_params=_nd(_params()))
    x, y = _data(6)
    mod.forward(mx.io.DataBatch([mx.nd.array(x)], [mx.nd.array(y)]), is_train=False)
    assert mod.get_outputs()[0].shape == (6, 2) and mod.data_shapes[0].shape == (6, 3)
    np.testing.assert_allclose(mod.get_outputs()[0].asnumpy(), _sgd_step_by_hand(_params(), x, y, 0)[0], rtol=1e-5)
    mod.reshape(data_shapes=[("data", (2, 3))], label_shapes=[("softmax_label", (2,))])
    assert mod.output_shapes == [("softmax_output", (2, 2))]


def test_checkpoint_round_trip(tmp_path):
    x, y = _data()
    mod = mx.mod.Module(_mlp())
    mod.bind(data_shapes=[("data", x.shape)], label_shapes=[("softmax_label", y.shape)])
    mod.init_params(arg_params=_nd(_params()))
    mod.init_optimizer(optimizer_params={"learning_rate": 0.1, "momentum": 0.9})
    mod.forward_backward(mx.io.DataBatch([mx.nd.array(x)], [mx.nd.array(y)]))
    mod.update()
    prefix = str(tmp_path / "net")
    mod.save_checkpoint(prefix, 7, save_optimizer_states=True)
    assert sorted(os.listdir(tmp_path)) == ["net-0007.params", "net-0007.states", "net-symbol.json"]
    saved = mx.nd.load(prefix + "-0007.params")
    assert sorted(saved) == ["arg:fc1_bias", "arg:fc1_weight", "arg:fc2_bias", "arg:fc2_weight"]

    symbol, args, auxs = mx.model.load_checkpoint(prefix, 7)
    assert symbol.tojson() == mod.symbol.tojson() and auxs == {}
    loaded = mx.mod.Module.load(prefix, 7, load_optimizer_states=True)
    loaded.bind(data_shapes=[("data", x.shape)], label_shapes=[("softmax_label", y.shape)])
    loaded.init_optimizer(optimizer_params={"learning_rate": 0.1, "momentum": 0.9})
    for name, value in mod.get_params()[0].items():
        np.testing.assert_array_equal(loaded.get_params()[0][name].asnumpy(), value.asnumpy())
    # the same second step from the restored momentum gives the same parameters
    for m in (mod, loaded):
        m.forward_backward(mx.io.DataBatch([mx.nd.array(x)], [mx.nd.array(y)]))
        m.update()
    for name, value in mod.get_params()[0].items():
        np.testing.assert_allclose(loaded.get_params()[0][name].asnumpy(), value.asnumpy(), rtol=1e-6)

    mx.model.save_checkpoint(prefix, 8, None, *mod.get_params())
    assert mx.model.load_params(prefix, 8)[0].keys() == mod.get_params()[0].keys()
    mod.save_params(str(tmp_path / "plain.params"))
    mod.load_params(str(tmp_path / "plain.params"))
    mx.nd.save(str(tmp_path / "bad.params"), {"weight": mx.nd.ones((1,))})
    with pytest.raises(ValueError, match="bad.params"):
        mod.load_params(str(tmp_path / "bad.params"))


def test_checkpoint_written_by_mxnet_loads_predicts_and_resumes():
    expected = np.load(os.path.join(FIXTURES, "mlp-expected.npz"))
    prefix = os.path.join(FIXTURES, "mlp")
    mod = mx.mod.Module.load(prefix, 3)
    mod.bind(data_shapes=[("data", (4, 4))], label_shapes=[("softmax_label", (4,))])
    np.testing.assert_allclose(mod.predict(mx.io.NDArrayIter(expected["x"], batch_size=4)).asnumpy(),
                               expected["prob"], rtol=1e-5, atol=1e-6)
    mod.init_optimizer(optimizer_params={"learning_rate": 0.1, "momentum": 0.9})
    mod.forward_backward(mx.io.DataBatch([mx.nd.array(expected["x"][:4])], [mx.nd.array(expected["y"][:4])]))
    mod.update()
    for name, value in mod.get_params()[0].items():
        np.testing.assert_allclose(value.asnumpy(), expected["after_" + name], rtol=1e-5, atol=1e-6, err_msg=name)


def test_fit_on_digits_through_mnistiter_reaches_mxnet_accuracy(tmp_path):
    _, accuracy = digits_mlp.train_digits_mlp(mx, str(tmp_path))
    assert accuracy >= MXNET_DIGITS_ACCURACY - DIGITS_MARGIN


def test_bad_names_and_shapes():
    with pytest.raises(ValueError, match="input with name 'img'"):
        mx.mod.Module(_mlp(), data_names=["img"])
    mod = mx.mod.Module(_mlp())
    with pytest.raises(TypeError):
        mod.bind(data_shapes=[("data", mx.nd.array([10, 10]))])
    assert not mod.binded
    with pytest.raises(ValueError, match="don't match"):
        mod.bind(data_shapes=[("x", (2, 3))])
    with pytest.raises(ValueError, match="work_load_list"):
        mx.mod.Module(_mlp(), context=[mx.cpu(0), mx.cpu(1)], work_load_list=[1])


# --- mx.callback ----------------------------------------------------------------------------------------
def _param(epoch, nbatch, acc=None):
    metric = None
    if acc is not None:
        metric = mx.metric.Accuracy()
        metric.update([mx.nd.array([1, 1])], [mx.nd.array([[0, 1], [1, 0]] if acc == 0.5 else [[0, 1], [0, 1]])])
    return mx.model.BatchEndParam(epoch=epoch, nbatch=nbatch, eval_metric=metric, locals=None)


def test_speedometer_logs_every_frequent_batches(caplog):
    speed = mx.callback.Speedometer(batch_size=4, frequent=2)
    with caplog.at_level(logging.INFO):
        for n in range(5):
            speed(_param(0, n, acc=0.5))
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2
    assert lines[0].startswith("Epoch[0] Batch [0-2]\tSpeed: ") and lines[0].endswith("samples/sec\taccuracy=0.500000")
    assert lines[1].startswith("Epoch[0] Batch [2-4]\tSpeed: ")


def test_log_callbacks_and_progress_bar(caplog):
    with caplog.at_level(logging.INFO):
        mx.callback.log_train_metric(2)(_param(1, 4, acc=1.0))
        mx.callback.LogValidationMetricsCallback()(_param(3, 0, acc=0.5))
        mx.callback.ProgressBar(total=4, length=8)(_param(0, 1))
    assert [r.getMessage() for r in caplog.records] == [
        "Iter[1] Batch[4] Train-accuracy=1.000000", "Epoch[3] Validation-accuracy=0.500000", "[==------] 25%\r"]


def test_checkpoint_callbacks_write_every_period(tmp_path):
    mod = mx.mod.Module(_mlp())
    mod.bind(data_shapes=[("data", (2, 3))], label_shapes=[("softmax_label", (2,))])
    mod.init_params(arg_params=_nd(_params()))
    save = mx.callback.do_checkpoint(str(tmp_path / "a"), period=2)
    keep = mx.callback.module_checkpoint(mod, str(tmp_path / "b"), period=3)
    for epoch in range(4):
        save(epoch, mod.symbol, *mod.get_params())
        keep(epoch)
    assert sorted(os.listdir(tmp_path)) == ["a-0002.params", "a-0004.params", "a-symbol.json", "b-0003.params",
                                            "b-symbol.json"]


def test_sparse_parameters_keep_their_declared_storage_type():
    weight = mx.sym.var("v", shape=(6, 1), init=mx.init.Uniform(0.1), stype="row_sparse")
    net = mx.sym.LinearRegressionOutput(mx.sym.dot(mx.sym.var("data"), weight), mx.sym.var("label"), name="out")
    mod = mx.mod.Module(net, label_names=["label"])
    mod.bind(data_shapes=[("data", (4, 6))], label_shapes=[("label", (4, 1))])
    mod.init_params()
    v = mod._arg_params["v"]
    assert v.stype == "row_sparse"
    values = v.asnumpy()
    assert np.all(np.abs(values) <= 0.1) and np.any(values != 0)  # drawn by the variable's own initializer
    np.testing.assert_array_equal(mod._exec_group.execs[0].arg_dict["v"].asnumpy(), values)


def test_group2ctxs_place_each_group_on_its_context():
    with mx.AttrScope(ctx_group="dev1"):
        a = mx.sym.var("a") * 2
    with mx.AttrScope(ctx_group="dev2"):
        net = a + mx.sym.var("b")
    mod = mx.mod.Module(net, data_names=["a", "b"], label_names=None,
                        group2ctxs={"dev1": mx.cpu(1), "dev2": mx.cpu(2)})
    mod.bind(data_shapes=[("a", (2, 3)), ("b", (2, 3))], inputs_need_grad=True)
    mod.init_params()
    mod.forward(mx.io.DataBatch([mx.nd.ones((2, 3)), mx.nd.ones((2, 3))]), is_train=True)
    mod.backward([mx.nd.ones((2, 3))])
    grad_a, grad_b = mod.get_input_grads()
    assert (grad_a.context, grad_b.context) == (mx.cpu(1), mx.cpu(2))
    np.testing.assert_array_equal(grad_a.asnumpy(), np.full((2, 3), 2.0))
    np.testing.assert_array_equal(mod.get_outputs()[0].asnumpy(), np.full((2, 3), 3.0))
