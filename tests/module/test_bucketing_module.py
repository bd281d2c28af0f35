"""mx.mod.BucketingModule: buckets of different sequence lengths share one set of parameters; training
steps through several buckets match the same steps done by hand in NumPy; names, shapes, checkpoints,
load_dict and bad use."""
import os

import numpy as np
import pytest

import mxcy as mx

LR = 0.5
BATCH = 4


def sym_gen(seq_len):
    """pred[n] = mean_t(x[n, t, :] . w) + b for sequences of `seq_len` 2-vectors; the parameters'
    shapes do not depend on the length, so every bucket can share them."""
    data = mx.sym.Variable("data")
    per_step = mx.sym.FullyConnected(data, num_hidden=1, flatten=False, name="fc")
    pred = mx.sym.mean(per_step, axis=1)
    return mx.sym.LinearRegressionOutput(pred, name="lro"), ("data",), ("lro_label",)


def _batch(seq_len, seed):
    rng = np.random.RandomState(seed)
    x = rng.randn(BATCH, seq_len, 2)
    y = rng.randn(BATCH)
    return x, y, mx.io.DataBatch(
        [mx.nd.array(x)], [mx.nd.array(y)], bucket_key=seq_len,
        provide_data=[mx.io.DataDesc("data", x.shape)], provide_label=[mx.io.DataDesc("lro_label", y.shape)])


def _sgd_step_by_hand(w, b, x, y):
    """LinearRegressionOutput's gradient is pred - label; Module's SGD scales it by 1/batch_size."""
    xbar = x.mean(axis=1)
    err = xbar @ w[0] + b[0] - y
    return w - LR * (err @ xbar)[None] / BATCH, b - LR * err.sum(keepdims=True) / BATCH


W0, B0 = np.array([[0.5, -1.0]]), np.array([0.25])


def _module(default_key=5):
    mod = mx.mod.BucketingModule(sym_gen, default_bucket_key=default_key)
    mod.bind(data_shapes=[("data", (BATCH, default_key, 2))], label_shapes=[("lro_label", (BATCH,))])
    mod.init_params(arg_params={"fc_weight": mx.nd.array(W0), "fc_bias": mx.nd.array(B0)})
    return mod


def test_training_across_buckets_shares_parameters():
    mod = _module()
    mod.init_optimizer(optimizer="sgd", optimizer_params={"learning_rate": LR})
    w, b = W0.copy(), B0.copy()
    for step, seq_len in enumerate([5, 3, 7, 3, 5]):
        x, y, batch = _batch(seq_len, step)
        mod.forward(batch, is_train=True)
        np.testing.assert_allclose(mod.get_outputs()[0].asnumpy()[:, 0], x.mean(1) @ w[0] + b[0], rtol=1e-5)
        mod.backward()
        mod.update()
        w, b = _sgd_step_by_hand(w, b, x, y)
    assert sorted(mod._buckets) == [3, 5, 7]
    assert mod.data_shapes[0].shape == (BATCH, 5, 2)
    args, _ = mod.get_params()
    np.testing.assert_allclose(args["fc_weight"].asnumpy(), w, rtol=1e-5)
    np.testing.assert_allclose(args["fc_bias"].asnumpy(), b, rtol=1e-5)


def test_names_and_shapes_follow_the_current_bucket():
    mod = mx.mod.BucketingModule(sym_gen, default_bucket_key=5)
    assert mod.data_names == ("data",) and mod.output_names == ["lro_output"]
    with pytest.raises(AssertionError, match="bind"):
        _ = mod.data_shapes
    mod = _module()
    mod.switch_bucket(3, [("data", (BATCH, 3, 2))], [("lro_label", (BATCH,))])
    assert mod.data_shapes[0].shape == (BATCH, 3, 2)
    assert mod.output_shapes == [("lro_output", (BATCH, 1))]
    assert mod.symbol.list_arguments() == ["data", "fc_weight", "fc_bias", "lro_label"]


def test_score_switches_buckets():
    mod = _module()
    batches = [_batch(n, seed) for seed, n in enumerate([3, 5])]
    metric = mx.metric.MSE()
    for _, _, batch in batches:
        mod.forward(batch, is_train=False)
        mod.update_metric(metric, batch.label)
    errors = np.concatenate([x.mean(1) @ W0[0] + B0[0] - y for x, y, _ in batches])
    assert metric.get()[1] == pytest.approx(np.mean(errors ** 2), rel=1e-5)


def test_save_checkpoint_and_load(tmp_path):
    mod = _module()
    for seed, n in enumerate([3, 5]):
        mod.forward(_batch(n, seed)[2], is_train=False)
    prefix = str(tmp_path / "bucket")
    mod.save_checkpoint(prefix, 1)
    assert sorted(os.listdir(tmp_path)) == ["bucket-0001.params", "bucket-3-symbol.json", "bucket-5-symbol.json",
                                           "bucket.buckets"]
    assert sorted(mx.nd.load(prefix + ".buckets")[0].asnumpy().tolist()) == [3, 5]

    loaded = mx.mod.BucketingModule.load(prefix, 1, sym_gen=sym_gen, default_bucket_key=5)
    loaded.bind(data_shapes=[("data", (BATCH, 5, 2))], label_shapes=[("lro_label", (BATCH,))])
    args, _ = loaded.get_params()
    np.testing.assert_allclose(args["fc_weight"].asnumpy(), W0, rtol=1e-6)
    x, _, batch = _batch(3, 0)
    loaded.forward(batch, is_train=False)
    np.testing.assert_allclose(loaded.get_outputs()[0].asnumpy()[:, 0], x.mean(1) @ W0[0] + B0[0], rtol=1e-5)


def test_load_dict():
    symbols = {key: sym_gen(key)[0] for key in (3, 5)}
    mod = mx.mod.BucketingModule.load_dict(symbols, sym_gen=sym_gen, default_bucket_key=5,
                                           arg_params={"fc_weight": mx.nd.array(W0), "fc_bias": mx.nd.array(B0)},
                                           aux_params={})
    mod.bind(data_shapes=[("data", (BATCH, 5, 2))], label_shapes=[("lro_label", (BATCH,))])
    x, _, batch = _batch(3, 1)
    mod.forward(batch, is_train=False)
    np.testing.assert_allclose(mod.get_outputs()[0].asnumpy()[:, 0], x.mean(1) @ W0[0] + B0[0], rtol=1e-5)


@pytest.mark.parametrize("call, match", [
    (lambda: mx.mod.BucketingModule(sym_gen), "default_bucket_key"),
    (lambda: _module().bind([("data", (BATCH, 5, 2))], force_rebind=True, shared_module=_module()), "shared_module"),
    (lambda: mx.mod.BucketingModule(sym_gen, 5).forward(_batch(5, 0)[2]), "bind"),
    (lambda: _module().update(), "init_optimizer"),
    (lambda: mx.mod.BucketingModule(sym_gen, 5).save_checkpoint("unused", 0), "Empty BucketingModule"),
    (lambda: mx.mod.BucketingModule.load("unused", 0), "sym_gen"),
    (lambda: _module().get_input_grads(), "inputs_need_grad"),
])
def test_bad_use_raises(call, match):
    with pytest.raises(AssertionError, match=match):
        call()
