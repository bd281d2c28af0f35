"""mx.curves: the metric history Module.fit and an Estimator (HistoryHandler) record, drawn to a PNG checked
for the PNG signature and the expected pixel size."""
import logging
import struct

import numpy as np
import pytest

import mxcy as mx
from mxcy import curves
from mxcy.gluon.contrib.estimator import Estimator


def _png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR"
    return struct.unpack(">II", head[16:24])


def _fit_module(caplog):
    net = mx.sym.SoftmaxOutput(mx.sym.FullyConnected(mx.sym.var("data"), num_hidden=2, name="fc"), name="softmax")
    rng = np.random.RandomState(0)
    x, y = rng.randn(20, 3), (rng.randn(20) > 0).astype(int)
    mod = mx.mod.Module(net)
    with caplog.at_level(logging.INFO):
        mod.fit(mx.io.NDArrayIter(x, y, batch_size=5), eval_data=mx.io.NDArrayIter(x, y, batch_size=5),
                eval_metric=["acc", "ce"], num_epoch=3, optimizer_params={"learning_rate": 0.5})
    return mod


def test_fit_records_what_it_logs(caplog):
    mod = _fit_module(caplog)
    logged = {}
    for record in caplog.records:
        text = record.getMessage()  # 'Epoch[2] Validation-accuracy=0.750000'
        if "-" in text and "=" in text and ("Train-" in text or "Validation-" in text):
            epoch = int(text[6:text.index("]")])
            split, _, rest = text[text.index("]") + 2:].partition("-")
            name, _, value = rest.partition("=")
            logged.setdefault(name, {}).setdefault("train" if split == "Train" else "validation", []).append(
                (epoch, float(value)))
    assert set(logged) == {"accuracy", "cross-entropy"}
    for name, splits in logged.items():
        for split, points in splits.items():
            got = mod.metric_history.series[name][split]
            assert [e for e, _ in got] == [0, 1, 2]
            np.testing.assert_allclose([v for _, v in got], [v for _, v in points], atol=1e-6)


def test_plot_module_history_to_png(tmp_path, caplog):
    pytest.importorskip("matplotlib")
    mod = _fit_module(caplog)
    path = str(tmp_path / "curves.png")
    assert curves.plot_history(mod, path, title="MLP", figsize=(5, 4), dpi=50) == path
    assert _png_size(path) == (250, 200)
    curves.plot_history(mod.metric_history, path)
    assert _png_size(path) == (640, 480)


def test_estimator_history_to_png(tmp_path):
    pytest.importorskip("matplotlib")
    net = mx.gluon.nn.Dense(2)
    net.initialize(mx.init.Xavier())
    rng = np.random.RandomState(1)
    data = mx.gluon.data.DataLoader(mx.gluon.data.ArrayDataset(rng.randn(16, 3).astype(np.float32),
                                                               rng.randint(0, 2, 16).astype(np.float32)), batch_size=4)
    est = Estimator(net, loss=mx.gluon.loss.SoftmaxCrossEntropyLoss(), train_metrics=mx.metric.Accuracy(),
                    trainer=mx.gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1}))
    handler = curves.HistoryHandler()
    est.fit(data, val_data=data, epochs=2, event_handlers=[handler])
    series = handler.history.series
    assert [e for e, _ in series["accuracy"]["train"]] == [0, 1]
    assert [e for e, _ in series["accuracy"]["validation"]] == [0, 1]
    assert series["accuracy"]["validation"][-1][1] == est.val_metrics[0].get()[1]
    path = str(tmp_path / "est.png")
    curves.plot_history(handler, path, figsize=(4, 3), dpi=40)
    assert _png_size(path) == (160, 120)


def test_nothing_to_plot_is_an_error(tmp_path):
    with pytest.raises(mx.MXNetError, match="nothing to plot"):
        curves.plot_history(curves.MetricHistory(), str(tmp_path / "x.png"))
