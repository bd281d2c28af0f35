"""Estimator: fit by epochs or batches, evaluate, default metrics and handlers, argument checks,
against the float64 SGD reference of tests/gluon/contrib/estimator/regression.py."""
import numpy as np
import pytest

import mxcy as mx
from mxcy import gluon
from mxcy.gluon.contrib.estimator import (BatchEnd, EpochEnd, Estimator, EarlyStoppingHandler,
                                          LoggingHandler, MetricHandler, ValidationHandler)
from tests.gluon.contrib.estimator.regression import (X, Y, loader, make_estimator, make_net, sgd_reference,
                                                      weight)


class Counter(BatchEnd, EpochEnd):
    def __init__(self):
        self.batches = self.epochs = 0

    def batch_end(self, estimator, *args, **kwargs):
        self.batches += 1

    def epoch_end(self, estimator, *args, **kwargs):
        self.epochs += 1


def test_reference_matches_hand_computation():
    # w: 1 -> 1 + 0.1 * (1*1 + 2*2) / 2 = 1.25 -> 1.25 + 0.1 * 0.75 * (3*3 + 4*4) / 2 = 2.1875
    w, losses = sgd_reference(2)
    assert w == 2.1875
    assert losses == [0.5, 2.0, 0.5 * 2.25 ** 2, 0.5 * 3.0 ** 2]


@pytest.mark.parametrize("fit_kwargs, batches, epochs", [
    ({'epochs': 2}, 4, 2),
    ({'epochs': 1}, 2, 1),
    ({'batches': 3}, 3, 2),   # the third batch ends training part-way through the second epoch
    ({'batches': 4}, 4, 2),
])
def test_fit_runs_the_requested_batches(fit_kwargs, batches, epochs):
    est = make_estimator()
    counter = Counter()
    est.fit(loader(), event_handlers=[counter], **fit_kwargs)
    assert (counter.batches, counter.epochs) == (batches, epochs)
    assert weight(est.net) == pytest.approx(sgd_reference(batches)[0], rel=1e-6)


def test_fit_training_metrics_are_those_of_the_last_epoch():
    est = make_estimator()
    est.fit(loader(), epochs=2)
    _, losses = sgd_reference(4)
    assert [m.name for m in est.train_metrics] == ['training l2loss']
    assert est.train_metrics[0].get()[1] == pytest.approx(np.mean(losses[4:]), rel=1e-6)


def test_fit_with_val_data_evaluates_after_each_epoch():
    est = make_estimator(val_metrics=mx.metric.MSE())
    est.fit(loader(), val_data=loader(), epochs=1)
    w, _ = sgd_reference(2)
    name, value = est.val_metrics[0].get()
    assert name == 'validation mse'
    assert value == pytest.approx(np.mean((w * X - Y) ** 2), rel=1e-6)


def test_evaluate_uses_val_net_and_val_loss():
    est = make_estimator(val_metrics=[mx.metric.MSE(), mx.metric.Loss()], val_loss=gluon.loss.L1Loss())
    est.evaluate(loader())
    # w = 1: prediction x, error -x; MSE = mean(x^2), L1 loss = mean(|x|)
    assert [m.get() for m in est.val_metrics] == [('validation mse', pytest.approx(7.5)),
                                                  ('validation loss', pytest.approx(2.5))]
    assert weight(est.net) == 1.0


def test_default_metrics_follow_the_loss():
    net = make_net()
    est = Estimator(net, gluon.loss.SoftmaxCrossEntropyLoss(),
                    trainer=gluon.Trainer(net.collect_params(), 'sgd'))
    names = [m.name for m in est.train_metrics]
    assert names == ['training accuracy', 'training softmaxcrossentropyloss']
    assert [m.name for m in est.val_metrics] == [n.replace('training', 'validation') for n in names]
    assert all(t is not v for t, v in zip(est.train_metrics, est.val_metrics))


def test_default_trainer_is_sgd_and_an_uninitialised_net_is_initialised():
    net = gluon.nn.Dense(1, in_units=1, use_bias=False)
    with pytest.warns(UserWarning, match="SGD"):
        est = Estimator(net, gluon.loss.L2Loss(), initializer=mx.init.Constant(3.0))
    assert est.trainer.learning_rate == 0.001
    assert type(est.trainer.optimizer).__name__ == 'SGD'
    assert float(net.weight.data().asnumpy().item()) == 3.0
    assert est.context == [mx.cpu()]


def test_handler_returning_true_at_batch_end_ends_the_epoch():
    class StopEveryBatch(BatchEnd):
        def batch_end(self, estimator, *args, **kwargs):
            return True

    est = make_estimator()
    counter = Counter()
    est.fit(loader(), event_handlers=[StopEveryBatch(), counter], epochs=3)
    assert (counter.batches, counter.epochs) == (3, 3)


def test_default_handlers_are_added_and_sorted_by_priority():
    est = make_estimator()
    est.max_epoch, est.max_batch = 1, None
    handlers = est._prepare_default_handlers(loader(), None)
    kinds = [type(h).__name__ for h in handlers]
    assert kinds == ['GradientUpdateHandler', 'MetricHandler', 'ValidationHandler', 'StoppingHandler',
                     'LoggingHandler']
    given = MetricHandler(est.train_metrics)
    handlers = est._prepare_default_handlers(None, [given])
    assert [h for h in handlers if isinstance(h, MetricHandler)] == [given]


def test_logging_writes_epoch_and_batch_lines(capsys):
    est = make_estimator()  # its logger writes to (the captured) stdout
    est.fit(loader(), epochs=1, event_handlers=[LoggingHandler(log_interval=1, metrics=est.train_metrics)])
    text = capsys.readouterr().out
    assert "Training begin: using optimizer SGD with current learning rate 0.1000" in text
    assert "Train for 1 epochs." in text
    # after the first batch the mean loss is (0.5 + 2.0) / 2
    assert "[Epoch 0][Batch 0][Samples 2] time/interval:" in text and "training l2loss: 1.2500" in text
    assert "[Epoch 0][Batch 1][Samples 4]" in text
    assert "[Epoch 0] Finished in" in text and "training l2loss: %.4f" % np.mean(sgd_reference(2)[1]) in text


@pytest.mark.parametrize("make, match", [
    (lambda: make_estimator().fit(loader(), epochs=1, batches=1), "exactly one of epochs or batches"),
    (lambda: make_estimator().fit(loader()), "exactly one of epochs or batches"),
    (lambda: make_estimator().fit(mx.nd.array(X), epochs=1), "DataLoader"),
    (lambda: make_estimator().evaluate([(mx.nd.array(X), mx.nd.array(Y))]), "DataLoader"),
    (lambda: Estimator(make_net(), mx.metric.MSE()), "loss must be a gluon.loss.Loss"),
    (lambda: Estimator(make_net(), gluon.loss.L2Loss(), context='cpu'), "context must be a Context"),
    (lambda: Estimator(make_net(), gluon.loss.L2Loss(), trainer='sgd'), "trainer must be a gluon.Trainer"),
    (lambda: make_estimator(train_metrics=['mse']), "metrics must be an EvalMetric"),
    (lambda: make_estimator(batch_processor=object()), "fit_batch"),
    (lambda: make_estimator().fit(loader(), epochs=1, event_handlers=[object()]), "EventHandler"),
    (lambda: make_estimator().fit(loader(), epochs=1, event_handlers=[
        EarlyStoppingHandler(mx.metric.MSE(), mode='min'), MetricHandler(mx.metric.MSE())]),
     "outside|not one of the estimator's metrics"),
])
def test_bad_arguments_raise(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_unavailable_gpu_context_is_refused():
    with pytest.raises(AssertionError, match="not available"):
        make_estimator(context=mx.gpu(mx.context.num_gpus()))


def test_validation_handler_batch_period():
    calls = []
    est = make_estimator()
    handler = ValidationHandler(loader(), lambda **kwargs: calls.append(kwargs), epoch_period=None,
                                batch_period=1)
    est.fit(loader(), epochs=2, event_handlers=[handler])
    assert len(calls) == 4 and calls[0]['batch_axis'] == 0
