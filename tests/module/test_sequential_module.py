"""mx.mod.SequentialModule: a FullyConnected module chained into a regression-output module trains like
the same step done by hand in NumPy (gradients flow back through get_input_grads); metas, names, bad use."""
import numpy as np
import pytest

import mxcy as mx

LR = 0.5
W0, B0 = np.array([[0.5, -1.0, 2.0]]), np.array([0.25])


def _chain():
    fc = mx.sym.FullyConnected(mx.sym.Variable("data"), num_hidden=1, name="fc")
    head = mx.sym.LinearRegressionOutput(mx.sym.Variable("hidden"), name="lro")
    seq = mx.mod.SequentialModule()
    seq.add(mx.mod.Module(fc, label_names=None)).add(
        mx.mod.Module(head, data_names=("hidden",), label_names=("lro_label",)), take_labels=True, auto_wiring=True)
    return seq


def _bound(batch=4):
    seq = _chain()
    seq.bind(data_shapes=[("data", (batch, 3))], label_shapes=[("lro_label", (batch,))])
    seq.init_params(arg_params={"fc_weight": mx.nd.array(W0), "fc_bias": mx.nd.array(B0)}, allow_missing=True)
    return seq


def test_training_step_matches_numpy():
    rng = np.random.RandomState(0)
    x, y = rng.randn(4, 3), rng.randn(4)
    seq = _bound()
    seq.init_optimizer(optimizer="sgd", optimizer_params={"learning_rate": LR})
    batch = mx.io.DataBatch([mx.nd.array(x)], [mx.nd.array(y)])
    seq.forward(batch, is_train=True)
    pred = x @ W0[0] + B0[0]
    np.testing.assert_allclose(seq.get_outputs()[0].asnumpy()[:, 0], pred, rtol=1e-5)
    seq.backward()
    seq.update()
    err = pred - y  # LinearRegressionOutput's gradient; SGD scales it by 1/batch_size
    args, _ = seq.get_params()
    np.testing.assert_allclose(args["fc_weight"].asnumpy(), W0 - LR * (err @ x)[None] / 4, rtol=1e-5)
    np.testing.assert_allclose(args["fc_bias"].asnumpy(), B0 - LR * err.sum() / 4, rtol=1e-5)
    metric = mx.metric.MSE()
    seq.update_metric(metric, batch.label)
    assert metric.get()[1] == pytest.approx(np.mean(err ** 2), rel=1e-5)


def test_names_shapes_and_input_grads():
    seq = _chain()
    assert seq.data_names == ["data"] and seq.output_names == ["lro_output"]
    seq.bind(data_shapes=[("data", (4, 3))], label_shapes=[("lro_label", (4,))], inputs_need_grad=True)
    seq.init_params(arg_params={"fc_weight": mx.nd.array(W0), "fc_bias": mx.nd.array(B0)}, allow_missing=True)
    assert seq.output_shapes == [("lro_output", (4, 1))]
    assert seq.label_shapes == [("lro_label", (4,))]  # as given to bind, like MXNet
    x, y = np.ones((4, 3)), np.zeros(4)
    seq.forward(mx.io.DataBatch([mx.nd.array(x)], [mx.nd.array(y)]), is_train=True)
    seq.backward()
    # d loss / d x = (pred - y) * w
    np.testing.assert_allclose(seq.get_input_grads()[0].asnumpy(), np.outer(x @ W0[0] + B0[0] - y, W0[0]),
                               rtol=1e-5)


def test_duplicate_parameter_names_are_refused():
    fc = mx.sym.FullyConnected(mx.sym.Variable("data"), num_hidden=3, name="fc")
    seq = mx.mod.SequentialModule()
    seq.add(mx.mod.Module(fc, label_names=None)).add(mx.mod.Module(fc, label_names=None), auto_wiring=True)
    seq.bind(data_shapes=[("data", (2, 3))])
    with pytest.raises(AssertionError, match='Duplicated parameter names: name "fc_weight" in layer 1'):
        seq.init_params()


@pytest.mark.parametrize("call, match", [
    (lambda: mx.mod.SequentialModule().add(_chain(), take_label=True), "unknown meta"),
    (lambda: mx.mod.SequentialModule().bind([("data", (2, 3))]), "empty SequentialModule"),
    (lambda: _chain().bind([("data", (2, 3))], shared_module=_chain()), "shared_module"),
    (lambda: _chain().forward(mx.io.DataBatch([mx.nd.ones((4, 3))])), "bind"),
    (lambda: _bound().update(), "init_optimizer"),
    (lambda: _bound().get_input_grads(), "inputs_need_grad"),
])
def test_bad_use_raises(call, match):
    with pytest.raises(AssertionError, match=match):
        call()
