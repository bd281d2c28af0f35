"""Estimator: a Gluon training loop (fit / evaluate) driven by event handlers."""
import copy
import logging
import sys
import warnings

from .batch_processor import BatchProcessor
from .event_handler import (BatchBegin, BatchEnd, EpochBegin, EpochEnd, GradientUpdateHandler,
                            LoggingHandler, MetricHandler, StoppingHandler, TrainBegin, TrainEnd,
                            ValidationHandler, _check_event_handlers)
from .utils import _check_handler_metric_ref, _check_metrics, _suggest_metric_for_loss
from ...data import DataLoader
from ...loss import Loss as gluon_loss
from ...trainer import Trainer
from ....context import Context, cpu, gpu, num_gpus
from ....metric import Loss as metric_loss

__all__ = ['Estimator']

_EVENTS = (TrainBegin, EpochBegin, BatchBegin, BatchEnd, EpochEnd, TrainEnd)


class Estimator(object):
    """Trains `net` with `loss` on Gluon DataLoaders.

    Training metrics default to the metric suited to the loss (accuracy for softmax
    cross-entropy) plus the mean loss; they are renamed 'training <name>', and validation
    metrics (copies of them unless given) 'validation <name>'. An uninitialised net is
    initialised with `initializer` on `context` (default gpu(0) if there is a GPU, else cpu());
    without a `trainer`, SGD with learning rate 0.001 is used. `val_net` and `val_loss` default
    to `net` and `loss`; `batch_processor` (default BatchProcessor()) runs each batch.
    Logs go to ``self.logger`` (level INFO, to stdout).
    """

    logger = None

    def __init__(self, net, loss, train_metrics=None, val_metrics=None, initializer=None, trainer=None,
                 context=None, val_net=None, val_loss=None, batch_processor=None):
        self.net = net
        self.loss = self._check_loss(loss)
        self._train_metrics = _check_metrics(train_metrics)
        self._val_metrics = _check_metrics(val_metrics)
        self._add_default_training_metrics()
        self._add_validation_metrics()
        self.val_loss = self.loss if val_loss is None else self._check_loss(val_loss)
        self.val_net = self.net if val_net is None else val_net
        self.logger = logging.Logger(name='Estimator', level=logging.INFO)
        self.logger.addHandler(logging.StreamHandler(sys.stdout))
        self.context = self._check_context(context)
        self._initialize(initializer)
        self.trainer = self._check_trainer(trainer)
        self.batch_processor = self._check_batch_processor(batch_processor)
        self.max_epoch = self.max_batch = None
        self.batch_axis = 0

    @staticmethod
    def _check_loss(loss):
        if not isinstance(loss, gluon_loss):
            raise ValueError(f"Estimator: loss must be a gluon.loss.Loss, got {loss!r}")
        return loss

    @staticmethod
    def _check_context(context):
        gpus = num_gpus()
        if not context:
            if gpus > 1:
                warnings.warn("You have several GPUs and gpu(0) is used by default; pass "
                              "context=[mx.gpu(0), mx.gpu(1), ...] to use them all.")
            return [gpu(0) if gpus else cpu()]
        if isinstance(context, Context):
            context = [context]
        elif not (isinstance(context, list) and all(isinstance(c, Context) for c in context)):
            raise ValueError("Estimator: context must be a Context or a list of Context, for example "
                             f"mx.cpu() or [mx.gpu(0), mx.gpu(1)], got {context!r}")
        for ctx in context:
            if ctx.device_type != 'cpu' and not (ctx.device_type == 'gpu' and ctx.device_id < gpus):
                raise AssertionError(f"Estimator: {ctx} is not available; use mx.cpu() or one of "
                                     f"{[str(gpu(i)) for i in range(gpus)]}")
        return context

    @staticmethod
    def _check_batch_processor(batch_processor):
        if batch_processor is None:
            return BatchProcessor()
        if not (callable(getattr(batch_processor, 'fit_batch', None))
                and callable(getattr(batch_processor, 'evaluate_batch', None))):
            raise ValueError('Estimator: a custom batch processor must have fit_batch() and '
                             'evaluate_batch() methods')
        return batch_processor

    def _initialize(self, initializer):
        if not self._is_initialized():
            if initializer:
                self.net.initialize(init=initializer, ctx=self.context)
            else:
                self.net.initialize(ctx=self.context)
        elif initializer:
            warnings.warn("Network already fully initialized, skipping initialization; use "
                          "net.initialize(init=..., force_reinit=True) to re-initialize it.")

    def _check_trainer(self, trainer):
        if not trainer:
            warnings.warn("No trainer specified, default SGD optimizer with learning rate 0.001 is used.")
            return Trainer(self.net.collect_params(), 'sgd', {'learning_rate': 0.001})
        if not isinstance(trainer, Trainer):
            raise ValueError(f"Estimator: trainer must be a gluon.Trainer, got {trainer!r}")
        return trainer

    def _is_initialized(self):
        params = self.net.collect_params()
        for name in params:
            try:
                params[name].list_ctx()
            except RuntimeError:
                return False
        return True

    def _add_default_training_metrics(self):
        if not self._train_metrics:
            suggested = _suggest_metric_for_loss(self.loss)
            if suggested:
                self._train_metrics = [suggested]
            self._train_metrics.append(metric_loss(self.loss.name.rstrip('1234567890')))
        for metric in self._train_metrics:
            metric.name = 'training ' + metric.name

    def _add_validation_metrics(self):
        if not self._val_metrics:
            self._val_metrics = [copy.deepcopy(metric) for metric in self._train_metrics]
        for metric in self._val_metrics:
            if 'training' in metric.name:
                metric.name = metric.name.replace('training', 'validation')
            else:
                metric.name = 'validation ' + metric.name

    @property
    def train_metrics(self):
        return self._train_metrics

    @property
    def val_metrics(self):
        return self._val_metrics

    @staticmethod
    def _check_data(data, what):
        if not isinstance(data, DataLoader):
            raise ValueError(f"Estimator: {what} must be a gluon.data.DataLoader, got {type(data).__name__}; "
                             "wrap a DataIter or NDArrays in a Dataset and DataLoader")

    def evaluate(self, val_data, batch_axis=0, event_handlers=None):
        """One pass of `val_net` over `val_data`, updating the validation metrics; a MetricHandler
        and a LoggingHandler on the validation metrics are added unless given."""
        self._check_data(val_data, 'val_data')
        for metric in self.val_metrics:
            metric.reset()
        _, epoch_begin, batch_begin, batch_end, epoch_end, _ = self._categorize_handlers(
            self._prepare_default_validation_handlers(event_handlers))
        for handler in epoch_begin:
            handler.epoch_begin(self)
        for batch in val_data:
            for handler in batch_begin:
                handler.batch_begin(self, batch=batch)
            _, label, pred, loss = self.batch_processor.evaluate_batch(self, batch, batch_axis)
            for handler in batch_end:
                handler.batch_end(self, batch=batch, pred=pred, label=label, loss=loss)
        for handler in epoch_end:
            handler.epoch_end(self)

    def fit(self, train_data, val_data=None, epochs=None, event_handlers=None, batches=None, batch_axis=0):
        """Trains for exactly one of `epochs` epochs or `batches` batches of `train_data`.

        A StoppingHandler is always added; a GradientUpdateHandler, a MetricHandler and a
        LoggingHandler on the training metrics, and (with `val_data`) a ValidationHandler are
        added unless handlers of those kinds are given. A handler's batch_end returning True
        ends the epoch; an epoch_end returning True ends training.
        """
        self._check_data(train_data, 'train_data')
        if (not epochs) == (not batches):
            raise ValueError("Estimator.fit: specify exactly one of epochs or batches, "
                             f"got epochs={epochs}, batches={batches}")
        self.max_epoch = epochs
        self.max_batch = batches
        self.batch_axis = batch_axis
        train_begin, epoch_begin, batch_begin, batch_end, epoch_end, train_end = self._categorize_handlers(
            self._prepare_default_handlers(val_data, event_handlers))
        for handler in train_begin:
            handler.train_begin(self)
        stop = False
        while not stop:
            for handler in epoch_begin:
                handler.epoch_begin(self)
            for batch in train_data:
                for handler in batch_begin:
                    handler.batch_begin(self, batch=batch)
                _, label, pred, loss = self.batch_processor.fit_batch(self, batch, batch_axis)
                # every handler sees the batch end, even after one asked to stop
                ends = [handler.batch_end(self, batch=batch, pred=pred, label=label, loss=loss)
                        for handler in batch_end]
                if any(ends):
                    break
            stop = any([handler.epoch_end(self) for handler in epoch_end])
        for handler in train_end:
            handler.train_end(self)

    def _finish_handlers(self, event_handlers, added, known_metrics):
        if event_handlers and added:
            for handler in event_handlers + added:
                _check_handler_metric_ref(handler, known_metrics)
        handlers = event_handlers + added
        handlers.sort(key=lambda handler: getattr(handler, 'priority', 0))
        return handlers

    def _prepare_default_handlers(self, val_data, event_handlers):
        event_handlers = _check_event_handlers(event_handlers)

        def missing(kind):
            return not any(isinstance(handler, kind) for handler in event_handlers)

        added = [StoppingHandler(self.max_epoch, self.max_batch)]
        if missing(GradientUpdateHandler):
            added.append(GradientUpdateHandler())
        if missing(MetricHandler):
            added.append(MetricHandler(metrics=self.train_metrics))
        if missing(ValidationHandler) and val_data:
            added.append(ValidationHandler(val_data=val_data, eval_fn=self.evaluate))
        if missing(LoggingHandler):
            added.append(LoggingHandler(metrics=self.train_metrics))
        return self._finish_handlers(event_handlers, added, set(self.train_metrics + self.val_metrics))

    def _prepare_default_validation_handlers(self, event_handlers):
        event_handlers = _check_event_handlers(event_handlers)
        added = []
        if not any(isinstance(handler, MetricHandler) for handler in event_handlers):
            added.append(MetricHandler(metrics=self.val_metrics))
        if not any(isinstance(handler, LoggingHandler) for handler in event_handlers):
            added.append(LoggingHandler(metrics=self.val_metrics))
        return self._finish_handlers(event_handlers, added, set(self.val_metrics))

    @staticmethod
    def _categorize_handlers(event_handlers):
        """(train_begin, epoch_begin, batch_begin, batch_end, epoch_end, train_end) handler lists, in
        priority order, so each event calls only the handlers that take it."""
        return tuple([h for h in event_handlers if isinstance(h, kind)] for kind in _EVENTS)
