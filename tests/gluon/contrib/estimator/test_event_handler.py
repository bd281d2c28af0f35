"""Event handlers: checkpoint files (names, rotation, best, symbol, atomic writes) and resuming,
early stopping, stopping, metric and gradient-update handlers, on the tiny regression net."""
import os
import warnings

import numpy as np
import pytest

import mxcy as mx
from mxcy.gluon.contrib.estimator import (CheckpointHandler, EarlyStoppingHandler, GradientUpdateHandler,
                                          LoggingHandler, MetricHandler, StoppingHandler)
from tests.gluon.contrib.estimator.regression import loader, make_estimator, make_net, sgd_reference, weight


def _saved_weight(path):
    net = make_net()
    net.load_parameters(path)
    return weight(net)


def test_checkpoint_every_epoch_keeps_max_checkpoints(tmp_path):
    est = make_estimator()
    handler = CheckpointHandler(str(tmp_path), model_prefix='m', max_checkpoints=2)
    est.fit(loader(), epochs=3, event_handlers=[handler])
    # checkpoints are named by the epoch and the batches trained before it ended
    assert sorted(os.listdir(tmp_path)) == ['m-epoch1batch4.params', 'm-epoch1batch4.states',
                                           'm-epoch2batch6.params', 'm-epoch2batch6.states']
    assert (handler.current_epoch, handler.current_batch) == (3, 6)
    assert _saved_weight(tmp_path / 'm-epoch1batch4.params') == pytest.approx(sgd_reference(4)[0], rel=1e-6)


def test_checkpoint_by_batch_period_and_symbol_of_a_hybridized_net(tmp_path):
    est = make_estimator(hybridize=True)
    est.fit(loader(), batches=5,
            event_handlers=[CheckpointHandler(str(tmp_path), epoch_period=None, batch_period=2)])
    assert sorted(os.listdir(tmp_path)) == ['model-epoch0batch1.params', 'model-epoch0batch1.states',
                                           'model-epoch1batch3.params', 'model-epoch1batch3.states',
                                           'model-symbol.json']
    sym = mx.sym.load(str(tmp_path / 'model-symbol.json'))
    assert sym.list_arguments()[0] == 'data'
    assert _saved_weight(tmp_path / 'model-epoch1batch3.params') == pytest.approx(sgd_reference(4)[0], rel=1e-6)


def test_checkpoint_save_best(tmp_path):
    est = make_estimator(lr=0.0)  # constant loss: only the first epoch improves on -inf/inf
    monitor = est.train_metrics[0]
    handler = CheckpointHandler(str(tmp_path), monitor=monitor, save_best=True, mode='min')
    est.fit(loader(), epochs=2, event_handlers=[handler])
    assert handler.best == pytest.approx(np.mean(sgd_reference(2, lr=0.0)[1]))
    assert os.path.isfile(tmp_path / 'model-best.params') and os.path.isfile(tmp_path / 'model-best.states')


def test_resume_from_checkpoint_trains_the_remaining_epochs(tmp_path):
    est = make_estimator()
    est.fit(loader(), epochs=2, event_handlers=[CheckpointHandler(str(tmp_path), max_checkpoints=1)])
    assert sorted(os.listdir(tmp_path)) == ['model-epoch1batch4.params', 'model-epoch1batch4.states']

    fresh = make_estimator()  # starts at w = 1 again; resuming loads the checkpoint's weight
    handler = CheckpointHandler(str(tmp_path), max_checkpoints=1, resume_from_checkpoint=True)
    fresh.fit(loader(), epochs=3, event_handlers=[handler])
    assert fresh.max_epoch == 1
    assert (handler.trained_epoch, handler.trained_batch) == (1, 4)
    assert weight(fresh.net) == pytest.approx(sgd_reference(6)[0], rel=1e-6)
    assert sorted(os.listdir(tmp_path)) == ['model-epoch2batch6.params', 'model-epoch2batch6.states']


def test_resume_by_batches(tmp_path):
    est = make_estimator()
    est.fit(loader(), batches=3, event_handlers=[CheckpointHandler(str(tmp_path), epoch_period=None,
                                                                   batch_period=3)])
    fresh = make_estimator()
    fresh.fit(loader(), batches=5, event_handlers=[CheckpointHandler(
        str(tmp_path), epoch_period=None, batch_period=1, resume_from_checkpoint=True)])
    assert fresh.max_batch == 2
    # the resumed run starts its data loader afresh: batches (1, 2) and (3, 4) after the 3 trained
    w3 = sgd_reference(3)[0]
    assert weight(fresh.net) == pytest.approx(sgd_reference(2, w=w3)[0], rel=1e-6)
    # numbering continues from the checkpoint: epoch 1 + 1 + 0, batch 2 + 1 + (0, 1)
    assert sorted(os.listdir(tmp_path)) == ['model-epoch1batch2.params', 'model-epoch1batch2.states',
                                           'model-epoch2batch3.params', 'model-epoch2batch3.states',
                                           'model-epoch2batch4.params', 'model-epoch2batch4.states']


def test_resume_errors(tmp_path):
    est = make_estimator()
    est.fit(loader(), epochs=2, event_handlers=[CheckpointHandler(str(tmp_path))])
    with pytest.raises(ValueError, match="already reached 2 epochs"):
        make_estimator().fit(loader(), epochs=2, event_handlers=[
            CheckpointHandler(str(tmp_path), resume_from_checkpoint=True)])
    with pytest.raises(ValueError, match="same kind of period"):
        make_estimator().fit(loader(), batches=2, event_handlers=[
            CheckpointHandler(str(tmp_path), resume_from_checkpoint=True)])
    (tmp_path / 'model-epochXbatch1.params').write_bytes(b'')
    with pytest.raises(ValueError, match="cannot parse checkpoint file name"):
        make_estimator().fit(loader(), epochs=5, event_handlers=[
            CheckpointHandler(str(tmp_path), resume_from_checkpoint=True)])


def test_resume_without_checkpoint_trains_from_scratch(tmp_path):
    est = make_estimator()
    est.fit(loader(), epochs=1, event_handlers=[CheckpointHandler(str(tmp_path), resume_from_checkpoint=True)])
    assert est.max_epoch == 1
    assert weight(est.net) == pytest.approx(sgd_reference(2)[0], rel=1e-6)


def test_failed_checkpoint_write_leaves_no_partial_file(tmp_path, monkeypatch):
    est = make_estimator()

    def failing_save_states(fname):
        raise mx.MXNetError(f"disk full writing {fname}")

    monkeypatch.setattr(est.trainer, 'save_states', failing_save_states)
    with pytest.raises(mx.MXNetError, match="disk full"):
        est.fit(loader(), epochs=1, event_handlers=[CheckpointHandler(str(tmp_path))])
    assert os.listdir(tmp_path) == ['model-epoch0batch2.params']  # complete: it loads
    assert _saved_weight(tmp_path / 'model-epoch0batch2.params') == pytest.approx(sgd_reference(2)[0])


def test_save_best_needs_a_metric(tmp_path):
    with pytest.raises(ValueError, match="save_best"):
        CheckpointHandler(str(tmp_path), save_best=True)


@pytest.mark.parametrize("kwargs, epochs_run, stopped_epoch", [
    # lr = 0: the loss stays at its first value, so nothing after epoch 0 improves on it
    ({'mode': 'min', 'patience': 0}, 2, 1),
    ({'mode': 'min', 'patience': 2}, 3, 2),
    ({'mode': 'min', 'baseline': 1.0}, 1, 0),     # 1.875 never beats the baseline 1.0
    ({'mode': 'max', 'patience': 1}, 2, 1),
    ({'mode': 'min', 'min_delta': -1.0, 'patience': 0}, 5, 0),  # a worsening of < 1 counts as improving
])
def test_early_stopping(kwargs, epochs_run, stopped_epoch):
    est = make_estimator(lr=0.0)
    handler = EarlyStoppingHandler(est.train_metrics[0], **kwargs)
    stopping = StoppingHandler()
    est.fit(loader(), epochs=5, event_handlers=[handler, stopping])
    assert handler.current_epoch == epochs_run
    assert handler.stopped_epoch == stopped_epoch
    assert handler.stop_training == (epochs_run < 5)


def test_early_stopping_on_improving_loss_runs_all_epochs():
    est = make_estimator()  # lr = 0.1: the loss falls every epoch
    handler = EarlyStoppingHandler(est.train_metrics[0], mode='min')
    est.fit(loader(), epochs=3, event_handlers=[handler])
    assert (handler.current_epoch, handler.stop_training) == (3, False)
    assert handler.best == pytest.approx(np.mean(sgd_reference(6)[1][8:]), rel=1e-6)


@pytest.mark.parametrize("metric, op", [(mx.metric.Accuracy(), np.greater), (mx.metric.F1(), np.greater),
                                        (mx.metric.MSE(), np.less)])
def test_auto_mode_follows_the_metric_name(metric, op):
    with pytest.warns(UserWarning, match=op.__name__):
        assert EarlyStoppingHandler(metric).monitor_op is op
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        assert EarlyStoppingHandler(metric, mode='max').monitor_op is np.greater


def test_early_stopping_rejects_composite_and_non_metrics():
    with pytest.raises(ValueError, match="CompositeEvalMetric"):
        EarlyStoppingHandler(mx.metric.CompositeEvalMetric([mx.metric.MSE()]))
    with pytest.raises(ValueError, match="monitor"):
        EarlyStoppingHandler('mse')


def test_stopping_handler_counts():
    est = make_estimator()
    handler = StoppingHandler()
    est.fit(loader(), batches=3, event_handlers=[handler])
    assert (handler.max_batch, handler.current_batch, handler.current_epoch) == (3, 3, 2)


def test_metric_handler_feeds_loss_and_prediction_metrics():
    est = make_estimator(lr=0.0, train_metrics=[mx.metric.MSE(), mx.metric.Loss()])
    est.fit(loader(), epochs=1, event_handlers=[MetricHandler(est.train_metrics)])
    # w = 1: errors -x, so MSE = mean(x^2) = 7.5 and the L2 loss mean is half of it
    assert [m.get()[1] for m in est.train_metrics] == [pytest.approx(7.5), pytest.approx(3.75)]


def test_gradient_update_handler_steps_with_the_batch_size():
    steps = []
    est = make_estimator()
    est.trainer.step = lambda batch_size: steps.append(batch_size)
    est.fit(loader(), epochs=1, event_handlers=[GradientUpdateHandler()])
    assert steps == [2, 2]


def test_logging_handler_rejects_bad_interval():
    with pytest.raises(ValueError, match="log_interval"):
        LoggingHandler(log_interval='batch')
