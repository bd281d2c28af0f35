"""BatchProcessor: one training / evaluation batch split over contexts, and a custom processor."""
import pytest

import mxcy as mx
from mxcy.gluon.contrib.estimator import BatchProcessor
from tests.gluon.contrib.estimator.regression import X, Y, loader, make_estimator, sgd_reference, weight


def test_fit_batch_computes_loss_and_gradient_without_updating():
    est = make_estimator()
    batch = (mx.nd.array(X[:2]), mx.nd.array(Y[:2]))
    data, label, pred, loss = BatchProcessor().fit_batch(est, batch)
    assert [d.asnumpy().tolist() for d in data] == [[[1.0], [2.0]]]
    assert [p.asnumpy().tolist() for p in pred] == [[[1.0], [2.0]]]   # w = 1
    assert loss[0].asnumpy().tolist() == sgd_reference(1)[1]
    # d(sum loss)/dw = sum (x - 2x) x = -(1 + 4)
    assert est.net[0].weight.grad().asnumpy().item() == pytest.approx(-5.0)
    assert weight(est.net) == 1.0


def test_evaluate_batch_splits_over_contexts():
    est = make_estimator(context=[mx.cpu(0), mx.cpu(1)])
    data, label, pred, loss = BatchProcessor().evaluate_batch(est, (mx.nd.array(X), mx.nd.array(Y)))
    assert [d.context for d in data] == [mx.cpu(0), mx.cpu(1)]
    assert [l.asnumpy().tolist() for l in loss] == [[0.5, 2.0], [4.5, 8.0]]


def test_custom_batch_processor_is_used():
    class Doubled(BatchProcessor):
        """Trains on each batch twice."""
        def fit_batch(self, estimator, train_batch, batch_axis=0):
            super().fit_batch(estimator, train_batch, batch_axis)
            estimator.trainer.step(train_batch[0].shape[0])
            return super().fit_batch(estimator, train_batch, batch_axis)

    est = make_estimator(batch_processor=Doubled())
    est.fit(loader(X[:2], Y[:2]), epochs=1)   # one batch, x = (1, 2), trained on twice
    assert weight(est.net) == pytest.approx(sgd_reference(1, w=sgd_reference(1)[0])[0], rel=1e-6)
