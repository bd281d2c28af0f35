"""mx.model.FeedForward (MXNet's deprecated API) against mx.mod.Module doing the same work: fit from given
parameters, predict, score, save/load, create, epoch_size, and MXNet's errors on bad input."""
import numpy as np
import pytest

import mxcy as mx


def _net():
    net = mx.sym.Activation(mx.sym.FullyConnected(mx.sym.var("data"), num_hidden=4, name="fc1"), act_type="tanh")
    return mx.sym.SoftmaxOutput(mx.sym.FullyConnected(net, num_hidden=3, name="fc2"), name="softmax")


def _data(n=24):
    rng = np.random.RandomState(0)
    return rng.randn(n, 5).astype(np.float32), rng.randint(0, 3, n).astype(np.float32)


def _params():
    rng = np.random.RandomState(1)
    return {"fc1_weight": mx.nd.array(rng.randn(4, 5) * 0.3), "fc1_bias": mx.nd.zeros(4),
            "fc2_weight": mx.nd.array(rng.randn(3, 4) * 0.3), "fc2_bias": mx.nd.zeros(3)}


def test_fit_predict_score_equal_modules():
    x, y = _data()
    model = mx.model.FeedForward(_net(), num_epoch=3, arg_params=_params(), learning_rate=0.3, numpy_batch_size=8)
    model.fit(mx.io.NDArrayIter(x, y, batch_size=8))
    mod = mx.mod.Module(_net())
    mod.fit(mx.io.NDArrayIter(x, y, batch_size=8), num_epoch=3, arg_params=_params(),
            optimizer_params={"learning_rate": 0.3})
    want = mod.get_params()[0]
    for name, value in want.items():
        np.testing.assert_allclose(model.arg_params[name].asnumpy(), value.asnumpy(), rtol=1e-5, atol=1e-7)
    probs = model.predict(x)  # NumPy in, NumPy out, in numpy_batch_size batches (the last one padded)
    assert isinstance(probs, np.ndarray) and probs.shape == (24, 3)
    np.testing.assert_allclose(probs, mod.predict(mx.io.NDArrayIter(x, batch_size=8)).asnumpy(), rtol=1e-5)
    outputs, data, label = model.predict(mx.io.NDArrayIter(x[:10], y[:10], batch_size=4), return_data=True)
    assert outputs.shape == (10, 3) and data.shape == (10, 5)
    np.testing.assert_array_equal(label, y[:10])
    accuracy = model.score(mx.io.NDArrayIter(x, y, batch_size=8))
    assert accuracy == pytest.approx(np.mean(probs.argmax(1) == y))


def test_save_load_and_create(tmp_path):
    x, y = _data()
    model = mx.model.FeedForward.create(_net(), x, y, num_epoch=2, numpy_batch_size=6, learning_rate=0.1,
                                        initializer=mx.init.Xavier())
    prefix = str(tmp_path / "ff")
    model.save(prefix)  # epoch defaults to num_epoch
    loaded = mx.model.FeedForward.load(prefix, 2)
    assert loaded.begin_epoch == 2
    np.testing.assert_allclose(loaded.predict(x), model.predict(x), rtol=1e-6)


def test_epoch_size_limits_the_batches_per_epoch():
    x, y = _data()
    seen = []
    model = mx.model.FeedForward(_net(), num_epoch=2, epoch_size=2, numpy_batch_size=4)
    model.fit(x, y, batch_end_callback=lambda p: seen.append((p.epoch, p.nbatch)))
    assert seen == [(0, 0), (0, 1), (1, 0), (1, 1)]


@pytest.mark.parametrize("X, y, error, match", [
    (np.zeros((4, 5)), None, ValueError, "y must be specified"),
    (np.zeros((4, 5)), np.zeros(3), ValueError, "not equal"),
    (np.zeros((4, 5)), np.zeros((4, 2)), ValueError, "1D or 2D"),
    ([1, 2], None, TypeError, "DataIter, NDArray or numpy"),
])
def test_bad_training_input(X, y, error, match):
    with pytest.raises(error, match=match):
        mx.model.FeedForward(_net(), num_epoch=1).fit(X, y)
