"""Live progress: tqdm bars for Module.fit/score/predict and mx.callback.ProgressBar when tqdm is installed and
stderr is a terminal; MXNet's text otherwise (no tqdm, not a terminal, or MXCY_PROGRESS=0)."""
import io
import logging

import numpy as np
import pytest

import mxcy as mx
from mxcy import progress
from mxcy.model import BatchEndParam

pytest.importorskip("tqdm")  # the optional extra mxcy[progress]; the fallback is tested without it below too


class _Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture
def terminal(monkeypatch):
    """A function making stderr a terminal whose text the test can read, every update drawn. (Called in the
    test itself: pytest's capture resets sys.stderr after fixtures run.)"""
    monkeypatch.delenv("MXCY_PROGRESS", raising=False)
    monkeypatch.setattr(progress, "_MIN_INTERVAL", 0)

    def use():
        screen = _Terminal()
        monkeypatch.setattr("sys.stderr", screen)
        return screen
    return use


def _module_and_data():
    net = mx.sym.SoftmaxOutput(mx.sym.FullyConnected(mx.sym.var("data"), num_hidden=2, name="fc"), name="softmax")
    rng = np.random.RandomState(0)
    x, y = rng.randn(10, 3), rng.randint(0, 2, 10)
    return mx.mod.Module(net), mx.io.NDArrayIter(x, y, batch_size=4)


def test_fit_score_and_predict_show_live_bars(terminal):
    terminal = terminal()
    mod, data = _module_and_data()
    mod.fit(data, num_epoch=1)
    shown = terminal.getvalue()
    assert "Epoch[0]" in shown and "3/3" in shown and "accuracy=" in shown  # ceil(10 / 4) batches
    terminal.truncate(0)
    mod.score(data, "acc", num_batch=2)
    assert "Epoch[0] score" in terminal.getvalue() and "2/2" in terminal.getvalue()
    terminal.truncate(0)
    assert mod.predict(data).shape == (10, 2)
    assert "predict" in terminal.getvalue() and "3/3" in terminal.getvalue()


@pytest.mark.parametrize("why", ["no terminal", "switched off", "no tqdm"])
def test_without_a_live_bar_nothing_is_drawn(why, monkeypatch, terminal):
    terminal = terminal()
    if why == "no terminal":
        terminal = io.StringIO()
        monkeypatch.setattr("sys.stderr", terminal)
    elif why == "switched off":
        monkeypatch.setenv("MXCY_PROGRESS", "0")
    else:
        monkeypatch.setattr(progress, "_tqdm", None)
    live = progress.bar("x", total=3)
    assert not live.live
    mod, data = _module_and_data()
    mod.fit(data, num_epoch=1)
    assert terminal.getvalue() == ""


def _param(nbatch, epoch=0):
    return BatchEndParam(epoch=epoch, nbatch=nbatch, eval_metric=None, locals=None)


def test_progress_bar_callback_text(monkeypatch, caplog):
    monkeypatch.setattr(progress, "_tqdm", None)
    bar = mx.callback.ProgressBar(total=4, length=8)
    with caplog.at_level(logging.INFO):
        for nbatch in range(4):
            bar(_param(nbatch))
    # MXNet's text: '[' + '=' * filled + '-' * rest + '] ' + percent + '%\r', counting nbatch from 0
    assert [r.getMessage() for r in caplog.records] == ["[--------] 0%\r", "[==------] 25%\r",
                                                       "[====----] 50%\r", "[======--] 75%\r"]


def test_progress_bar_callback_live(terminal, caplog):
    terminal = terminal()
    bar = mx.callback.ProgressBar(total=4)
    with caplog.at_level(logging.INFO):
        for nbatch in range(4):
            bar(_param(nbatch))
        bar(_param(0, epoch=1))  # a new epoch starts a new bar
    assert not caplog.records
    shown = terminal.getvalue()
    assert "Epoch[0]" in shown and "4/4" in shown and "Epoch[1]" in shown and "1/4" in shown


@pytest.mark.parametrize("handle, expected", [("pad", 3), ("discard", 2), ("roll_over", 3)])
def test_batches_in(handle, expected):
    assert progress.batches_in(mx.io.NDArrayIter(np.zeros((10, 2)), batch_size=4, last_batch_handle=handle)) == \
        expected
    assert progress.batches_in(object()) is None
