"""BatchProcessor: how the Estimator trains and evaluates one batch (override to customise)."""
from ...utils import split_and_load
from .... import autograd

__all__ = ['BatchProcessor']


class BatchProcessor(object):
    """Runs one batch for an Estimator.

    `fit_batch` runs the forward pass under autograd and the backward pass; `evaluate_batch`
    runs the validation net and loss. Both split the batch's data and label over
    ``estimator.context`` and return ``(data, label, pred, loss)``, each a list with one entry
    per context. Subclass and override either method for custom training steps.
    """

    def _get_data_and_label(self, batch, ctx, batch_axis=0):
        data = split_and_load(batch[0], ctx_list=ctx, batch_axis=batch_axis)
        label = split_and_load(batch[1], ctx_list=ctx, batch_axis=batch_axis)
        return data, label

    def evaluate_batch(self, estimator, val_batch, batch_axis=0):
        """Prediction and validation loss of ``estimator.val_net`` on one batch."""
        data, label = self._get_data_and_label(val_batch, estimator.context, batch_axis)
        pred = [estimator.val_net(x) for x in data]
        loss = [estimator.val_loss(y_hat, y) for y_hat, y in zip(pred, label)]
        return data, label, pred, loss

    def fit_batch(self, estimator, train_batch, batch_axis=0):
        """Forward and backward pass of ``estimator.net`` on one batch; the update is left to
        the GradientUpdateHandler."""
        data, label = self._get_data_and_label(train_batch, estimator.context, batch_axis)
        with autograd.record():
            pred = [estimator.net(x) for x in data]
            loss = [estimator.loss(y_hat, y) for y_hat, y in zip(pred, label)]
        for each in loss:
            each.backward()
        return data, label, pred, loss
