"""SVRGModule against a float64 NumPy replica of SVRG on linear regression: the full-gradient average, single
steps, and fit with update_freq (on one context, and on two through the KVStore's '<name>_full' keys)."""
import numpy as np
import pytest

import mxcy as mx
from mxcy.contrib.svrg_optimization.svrg_module import SVRGModule

BATCH = 4
LR = 0.02


def _data():
    rng = np.random.RandomState(0)
    x = rng.randint(1, 5, (12, 2)).astype(np.float64)
    return x, x @ np.array([1.0, 2.0]) + 0.5


def _symbol():
    fc = mx.sym.FullyConnected(mx.sym.Variable("data"), name="fc1", num_hidden=1)
    return mx.sym.LinearRegressionOutput(fc, mx.sym.Variable("lin_reg_label"), name="lro")


def _module(contexts=(mx.cpu(),), update_freq=2):
    x, y = _data()
    it = mx.io.NDArrayIter(x, y, batch_size=BATCH, label_name="lin_reg_label")
    mod = SVRGModule(_symbol(), data_names=["data"], label_names=["lin_reg_label"], update_freq=update_freq,
                     context=list(contexts))
    mod.bind(data_shapes=it.provide_data, label_shapes=it.provide_label)
    mod.init_params(arg_params={"fc1_weight": mx.nd.array([[0.3, -0.2]]), "fc1_bias": mx.nd.array([0.1])})
    return it, mod


def _grad(w, b, x, y):
    """LinearRegressionOutput's gradient summed over the batch: (prediction - label) through the layer."""
    err = x @ w + b - y
    return err @ x, err.sum()


def _full(w, b):
    x, y = _data()
    grads = [_grad(w, b, x[i:i + BATCH], y[i:i + BATCH]) for i in range(0, len(x), BATCH)]
    return sum(g[0] for g in grads) / len(grads), sum(g[1] for g in grads) / len(grads)


def _svrg_epochs(num_epoch, update_freq):
    """Plain SGD on the SVRG gradient, Module's 1/batch_size rescaling included."""
    x, y = _data()
    w, b = np.array([0.3, -0.2]), 0.1
    for epoch in range(num_epoch):
        if epoch % update_freq == 0:
            snap_w, snap_b = w.copy(), b
            full_w, full_b = _full(w, b)
        for i in range(0, len(x), BATCH):
            gw, gb = _grad(w, b, x[i:i + BATCH], y[i:i + BATCH])
            sw, sb = _grad(snap_w, snap_b, x[i:i + BATCH], y[i:i + BATCH])
            w = w - LR * (gw - sw + full_w) / BATCH
            b = b - LR * (gb - sb + full_b) / BATCH
    return w, b


def test_full_gradients_and_one_step():
    it, mod = _module()
    mod.init_optimizer(optimizer="sgd", optimizer_params={"learning_rate": LR})
    mod.update_full_grads(it)
    full_w, full_b = _full(np.array([0.3, -0.2]), 0.1)
    np.testing.assert_allclose(mod._param_dict[0]["fc1_weight"].asnumpy(), [full_w], rtol=1e-5)
    np.testing.assert_allclose(mod._param_dict[0]["fc1_bias"].asnumpy(), [full_b], rtol=1e-5)
    # a second snapshot at the same weights gives the same average (it is not added to the first)
    mod.update_full_grads(it)
    np.testing.assert_allclose(mod._param_dict[0]["fc1_weight"].asnumpy(), [full_w], rtol=1e-5)
    it.reset()
    mod.forward_backward(next(it))
    mod.update()
    # at the snapshot the batch terms cancel: the step is the full gradient's
    np.testing.assert_allclose(mod.get_params()[0]["fc1_weight"].asnumpy(),
                               [np.array([0.3, -0.2]) - LR * full_w / BATCH], rtol=1e-5)


@pytest.mark.parametrize("contexts", [[mx.cpu()], [mx.cpu(0), mx.cpu(1)]], ids=["one", "two"])
def test_fit_equals_the_numpy_replica(contexts):
    it, mod = _module(contexts, update_freq=2)
    mod.fit(it, eval_metric="mse", optimizer="sgd", optimizer_params={"learning_rate": LR}, num_epoch=3)
    w, b = _svrg_epochs(3, 2)
    params = mod.get_params()[0]
    np.testing.assert_allclose(params["fc1_weight"].asnumpy(), [w], rtol=1e-4)
    np.testing.assert_allclose(params["fc1_bias"].asnumpy(), [b], rtol=1e-4)
    assert type(mod._optimizer).__name__ == "_SVRGOptimizer"
    if len(contexts) > 1:  # the full gradients went through the store's '<name>_full' keys
        stored = mx.nd.zeros((1, 2))
        mod._kvstore.pull("fc1_weight_full", out=stored)
        np.testing.assert_allclose(stored.asnumpy(), [_full(*_snapshot_at_epoch_2())[0]], rtol=1e-4)


def _snapshot_at_epoch_2():
    return _svrg_epochs(2, 2)


def test_update_freq_is_checked():
    with pytest.raises(TypeError, match="update_freq"):
        SVRGModule(_symbol(), label_names=["lin_reg_label"])
    with pytest.raises(ValueError, match="positive"):
        SVRGModule(_symbol(), label_names=["lin_reg_label"], update_freq=0)


def test_binding_covers_the_snapshot_module():
    it, mod = _module()
    assert mod.binded and mod._mod_aux.binded
    inference = SVRGModule(_symbol(), label_names=["lin_reg_label"], update_freq=1)
    inference.bind(data_shapes=it.provide_data, label_shapes=it.provide_label, for_training=False)
    assert not inference._mod_aux.binded
