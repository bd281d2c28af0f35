"""mx.mod.PythonModule / PythonLossModule: a SequentialModule ending in a Python softmax loss trains exactly as
the same net with SoftmaxOutput does, output shapes and names, and MXNet's assertions on bad use."""
import numpy as np
import pytest

import mxcy as mx


def _scores():
    data = mx.sym.Variable("data")
    net = mx.sym.FullyConnected(data, num_hidden=4, name="fc1")
    net = mx.sym.Activation(net, act_type="tanh", name="act")
    return mx.sym.FullyConnected(net, num_hidden=3, name="fc2")


def _softmax_grad(scores, labels):
    """SoftmaxOutput's gradient (softmax - one-hot), as a NumPy array: the module must take either type."""
    z = scores.asnumpy().astype(np.float64)
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    return p - np.eye(3)[labels.asnumpy().astype(int)]


def _params():
    rng = np.random.RandomState(3)
    return {"fc1_weight": mx.nd.array(rng.randn(4, 5)), "fc1_bias": mx.nd.array(rng.randn(4) * 0.1),
            "fc2_weight": mx.nd.array(rng.randn(3, 4)), "fc2_bias": mx.nd.array(rng.randn(3) * 0.1)}


def _data():
    rng = np.random.RandomState(4)
    return rng.randn(12, 5).astype(np.float32), rng.randint(0, 3, 12).astype(np.float32)


def test_python_loss_trains_as_softmax_output():
    x, y = _data()
    seq = mx.mod.SequentialModule()
    seq.add(mx.mod.Module(_scores(), label_names=None))
    seq.add(mx.mod.PythonLossModule(grad_func=_softmax_grad), take_labels=True, auto_wiring=True)
    ref = mx.mod.Module(mx.sym.SoftmaxOutput(_scores(), name="softmax"))
    for mod in (seq, ref):
        mod.fit(mx.io.NDArrayIter(x, y, batch_size=4), num_epoch=3, arg_params=_params(),
                optimizer_params={"learning_rate": 0.5})
    got, want = seq.get_params()[0], ref.get_params()[0]
    for name in want:
        np.testing.assert_allclose(got[name].asnumpy(), want[name].asnumpy(), rtol=1e-5, atol=1e-6)
    # the loss module's output is its input, the scores (SoftmaxOutput's are probabilities)
    scores = seq.predict(mx.io.NDArrayIter(x, batch_size=4)).asnumpy()
    probs = ref.predict(mx.io.NDArrayIter(x, batch_size=4)).asnumpy()
    np.testing.assert_allclose(np.exp(scores) / np.exp(scores).sum(1, keepdims=True), probs, rtol=1e-5)


def test_names_shapes_and_gradients():
    loss = mx.mod.PythonLossModule(name="ce", grad_func=lambda s, l: s * 2)
    loss.bind(data_shapes=[("data", (2, 3))], label_shapes=[("softmax_label", (2,))])
    assert loss.output_names == ["ce_output"]
    assert loss.output_shapes == [("ce_output", (2, 3))]
    assert loss.get_params() == ({}, {})
    scores = mx.nd.array([[1, 2, 3], [4, 5, 6]])
    loss.forward(mx.io.DataBatch([scores], [mx.nd.array([0, 1])]))
    loss.backward()
    np.testing.assert_array_equal(loss.get_input_grads()[0].asnumpy(), scores.asnumpy() * 2)
    assert loss.get_outputs()[0] is scores
    metric = mx.metric.create("acc")
    loss.update_metric(metric, [mx.nd.array([2, 0])])
    assert metric.get() == ("accuracy", 0.5)


@pytest.mark.parametrize("call, match", [
    (lambda m: m.bind(data_shapes=[("x", (2, 3))]), "expects"),
    (lambda m: m.bind(data_shapes=[("data", (2, 3))], grad_req="add"), "write gradient"),
    (lambda m: m.bind(data_shapes=[("data", (2, 3))], label_shapes=[("y", (2,))]), "expects"),
])
def test_bad_bind_is_an_assertion(call, match):
    with pytest.raises(AssertionError, match=match):
        call(mx.mod.PythonLossModule())


def test_loss_module_misuse():
    with pytest.raises(AssertionError, match="one data and one label"):
        mx.mod.PythonLossModule(data_names=("a", "b"))
    loss = mx.mod.PythonLossModule()
    loss.bind(data_shapes=[("data", (2, 3))], label_shapes=[("softmax_label", (2,))])
    loss.forward(mx.io.DataBatch([mx.nd.ones((2, 3))], [mx.nd.zeros((2,))]))
    with pytest.raises(NotImplementedError, match="grad_func"):
        loss.backward()
    with pytest.raises(AssertionError, match="out_grads"):
        loss.backward(out_grads=[mx.nd.ones((2, 3))])
    with pytest.raises(AssertionError, match="merge_multi_context"):
        loss.get_outputs(merge_multi_context=False)

    class Shapeless(mx.mod.PythonModule):
        pass
    with pytest.raises(NotImplementedError):
        Shapeless(["data"], None, ["out"]).bind(data_shapes=[("data", (1,))])
