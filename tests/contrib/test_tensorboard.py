"""mx.contrib.tensorboard.LogMetricsCallback writes metric scalars through a SummaryWriter (a recording stand-in
for mxboard here) and says clearly when no writer library is installed."""
import sys
import types

import pytest

import mxcy as mx
from mxcy.contrib import tensorboard
from mxcy.model import BatchEndParam


class _Writer:
    def __init__(self, logdir):
        self.logdir, self.scalars = logdir, []

    def add_scalar(self, name, value, global_step):
        self.scalars.append((name, value, global_step))


def test_metrics_become_scalars(monkeypatch):
    monkeypatch.setitem(sys.modules, "mxboard", types.SimpleNamespace(SummaryWriter=_Writer))
    callback = tensorboard.LogMetricsCallback("logs/train", prefix="train")
    metric = mx.metric.create(["acc", "mse"])
    metric.update([mx.nd.array([1, 0])], [mx.nd.array([[0.2, 0.8], [0.9, 0.1]])])
    callback(BatchEndParam(epoch=3, nbatch=0, eval_metric=metric, locals=None))
    callback(BatchEndParam(epoch=4, nbatch=0, eval_metric=None, locals=None))
    writer = callback.summary_writer
    assert writer.logdir == "logs/train"
    assert [(n, s) for n, _, s in writer.scalars] == [("train-accuracy", 3), ("train-mse", 3)]
    assert writer.scalars[0][1] == 1.0


def test_no_writer_library_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "mxboard", None)
    monkeypatch.setitem(sys.modules, "tensorboardX", None)
    with pytest.raises(mx.MXNetError, match="pip install mxboard"):
        tensorboard.LogMetricsCallback("logs")
