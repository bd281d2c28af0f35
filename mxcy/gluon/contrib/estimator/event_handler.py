"""Event handlers an Estimator calls at train/epoch/batch begin and end: stopping, metrics,
validation, logging, checkpoints, early stopping and the gradient update."""
import os
import time
import warnings

import numpy as np

from ....metric import CompositeEvalMetric, EvalMetric
from ....metric import Loss as metric_loss
from .utils import _check_metrics

__all__ = ['TrainBegin', 'TrainEnd', 'EpochBegin', 'EpochEnd', 'BatchBegin', 'BatchEnd',
           'StoppingHandler', 'MetricHandler', 'ValidationHandler',
           'LoggingHandler', 'CheckpointHandler', 'EarlyStoppingHandler', 'GradientUpdateHandler']


class EventHandler(object):
    """Base of every event handler; the mix-ins below say which events a handler takes."""


def _check_event_handlers(handlers):
    """A list of EventHandlers from one handler, a list, or None."""
    if isinstance(handlers, EventHandler):
        return [handlers]
    handlers = list(handlers or [])
    if not all(isinstance(h, EventHandler) for h in handlers):
        raise ValueError(f"handlers must be an EventHandler or a list of EventHandler, got: {handlers}")
    return handlers


class TrainBegin(EventHandler):
    def train_begin(self, estimator, *args, **kwargs):
        pass


class TrainEnd(EventHandler):
    def train_end(self, estimator, *args, **kwargs):
        pass


class EpochBegin(EventHandler):
    def epoch_begin(self, estimator, *args, **kwargs):
        pass


class EpochEnd(EventHandler):
    def epoch_end(self, estimator, *args, **kwargs):
        """Returns True to stop training."""
        return False


class BatchBegin(EventHandler):
    def batch_begin(self, estimator, *args, **kwargs):
        pass


class BatchEnd(EventHandler):
    def batch_end(self, estimator, *args, **kwargs):
        """Returns True to end the current epoch (and, with a StoppingHandler, training)."""
        return False


def _improvement_op(mode, monitor, who):
    """np.greater or np.less for `mode` in {'auto', 'min', 'max'}; 'auto' picks greater for
    accuracy and F1 metrics and less otherwise (an unknown mode warns and falls back to 'auto')."""
    if mode not in ('auto', 'min', 'max'):
        warnings.warn(f"{who} mode {mode} is unknown, falling back to auto mode", RuntimeWarning)
        mode = 'auto'
    if mode == 'min':
        return np.less
    if mode == 'max':
        return np.greater
    name = monitor.get()[0].lower()
    op = np.greater if ('acc' in name or 'f1' in name) else np.less
    warnings.warn(f"`{op.__name__}` will be used to decide whether {monitor.get()[0]} has improved; "
                  "pass mode='min' or mode='max' to choose and silence this warning.")
    return op


def _worst(monitor_op):
    return np.inf if monitor_op is np.less else -np.inf


class StoppingHandler(TrainBegin, BatchEnd, EpochEnd):
    """Stops training after `max_epoch` epochs or `max_batch` batches (both taken from the
    estimator at train begin)."""

    def __init__(self, max_epoch=None, max_batch=None):
        self.max_epoch = max_epoch
        self.max_batch = max_batch
        self.current_batch = 0
        self.current_epoch = 0
        self.stop_training = False

    def train_begin(self, estimator, *args, **kwargs):
        self.max_epoch = estimator.max_epoch
        self.max_batch = estimator.max_batch
        self.current_batch = 0
        self.current_epoch = 0

    def batch_end(self, estimator, *args, **kwargs):
        self.current_batch += 1
        if self.current_batch == self.max_batch:
            self.stop_training = True
        return self.stop_training

    def epoch_end(self, estimator, *args, **kwargs):
        self.current_epoch += 1
        if self.current_epoch == self.max_epoch:
            self.stop_training = True
        return self.stop_training


class MetricHandler(EpochBegin, BatchEnd):
    """Resets `metrics` at epoch begin and updates them at batch end: a metric.Loss with the
    batch's loss, every other metric with (label, pred). Runs early (priority -1000) so later
    handlers see updated values."""

    def __init__(self, metrics, priority=-1000):
        self.metrics = _check_metrics(metrics)
        self.priority = priority

    def epoch_begin(self, estimator, *args, **kwargs):
        for metric in self.metrics:
            metric.reset()

    def batch_end(self, estimator, *args, **kwargs):
        for metric in self.metrics:
            if isinstance(metric, metric_loss):
                metric.update(0, kwargs['loss'])
            else:
                metric.update(kwargs['label'], kwargs['pred'])


class ValidationHandler(TrainBegin, BatchEnd, EpochEnd):
    """Calls ``eval_fn(val_data=..., batch_axis=..., event_handlers=...)`` every `epoch_period`
    epochs and, if set, every `batch_period` batches."""

    def __init__(self, val_data, eval_fn, epoch_period=1, batch_period=None, priority=-1000,
                 event_handlers=None):
        self.val_data = val_data
        self.eval_fn = eval_fn
        self.epoch_period = epoch_period
        self.batch_period = batch_period
        self.current_batch = 0
        self.current_epoch = 0
        self.priority = priority
        self.event_handlers = event_handlers

    def train_begin(self, estimator, *args, **kwargs):
        self.current_batch = 0
        self.current_epoch = 0

    def _evaluate(self, estimator):
        self.eval_fn(val_data=self.val_data, batch_axis=estimator.batch_axis,
                     event_handlers=self.event_handlers)

    def batch_end(self, estimator, *args, **kwargs):
        self.current_batch += 1
        if self.batch_period and self.current_batch % self.batch_period == 0:
            self._evaluate(estimator)

    def epoch_end(self, estimator, *args, **kwargs):
        self.current_epoch += 1
        if self.epoch_period and self.current_epoch % self.epoch_period == 0:
            self._evaluate(estimator)


def _metrics_text(metrics):
    return ', '.join('%s: %.4f' % metric.get() for metric in metrics)


class LoggingHandler(TrainBegin, TrainEnd, EpochBegin, EpochEnd, BatchBegin, BatchEnd):
    """Logs the optimizer, learning rate and `metrics` through ``estimator.logger``: every epoch
    (``log_interval='epoch'``) or, with an integer k, also every k batches. Runs last
    (priority inf) so it logs values the other handlers have updated."""

    def __init__(self, log_interval='epoch', metrics=None, priority=np.inf):
        if not isinstance(log_interval, int) and log_interval != 'epoch':
            raise ValueError("log_interval must be either an integer or string 'epoch'")
        self.metrics = _check_metrics(metrics)
        self.batch_index = 0
        self.current_epoch = 0
        self.processed_samples = 0
        self.priority = priority
        self.log_interval = log_interval
        self.log_interval_time = 0

    def train_begin(self, estimator, *args, **kwargs):
        self.train_start = time.time()
        trainer = estimator.trainer
        estimator.logger.info("Training begin: using optimizer %s with current learning rate %.4f ",
                              trainer.optimizer.__class__.__name__, trainer.learning_rate)
        if estimator.max_epoch:
            estimator.logger.info("Train for %d epochs.", estimator.max_epoch)
        else:
            estimator.logger.info("Train for %d batches.", estimator.max_batch)
        self.current_epoch = 0
        self.batch_index = 0
        self.processed_samples = 0
        self.log_interval_time = 0

    def train_end(self, estimator, *args, **kwargs):
        msg = 'Train finished using total %ds with %d epochs. ' % (time.time() - self.train_start,
                                                                    self.current_epoch)
        estimator.logger.info((msg + _metrics_text(self.metrics)).rstrip(', '))

    def batch_begin(self, estimator, *args, **kwargs):
        if isinstance(self.log_interval, int):
            self.batch_start = time.time()

    def batch_end(self, estimator, *args, **kwargs):
        if isinstance(self.log_interval, int):
            self.processed_samples += kwargs['batch'][0].shape[0]
            self.log_interval_time += time.time() - self.batch_start
            if self.batch_index % self.log_interval == 0:
                msg = '[Epoch %d][Batch %d][Samples %s] time/interval: %.3fs ' % (
                    self.current_epoch, self.batch_index, self.processed_samples, self.log_interval_time)
                self.log_interval_time = 0
                estimator.logger.info((msg + _metrics_text(self.metrics)).rstrip(', '))
        self.batch_index += 1

    def epoch_begin(self, estimator, *args, **kwargs):
        self.epoch_start = time.time()
        # the Estimator names its training metrics 'training ...'; without one this is validation
        if any('training' in metric.name for metric in self.metrics):
            estimator.logger.info("[Epoch %d] Begin, current learning rate: %.4f",
                                  self.current_epoch, estimator.trainer.learning_rate)
        else:
            estimator.logger.info("Validation Begin")

    def epoch_end(self, estimator, *args, **kwargs):
        msg = '[Epoch %d] Finished in %.3fs, ' % (self.current_epoch, time.time() - self.epoch_start)
        estimator.logger.info((msg + _metrics_text(self.metrics)).rstrip(', '))
        self.current_epoch += 1
        self.batch_index = 0


class CheckpointHandler(TrainBegin, BatchEnd, EpochEnd):
    """Saves ``<model_prefix>-epoch{E}batch{B}.params`` and ``.states`` every `epoch_period`
    epochs and/or `batch_period` batches into `model_dir` (each file written atomically), keeps
    the newest `max_checkpoints`, saves ``<model_prefix>-symbol.json`` after the first batch of
    a hybridized net, and with `save_best` also ``<model_prefix>-best.*`` when `monitor`
    improves. With `resume_from_checkpoint` it loads the newest checkpoint in `model_dir` at
    train begin and shortens the estimator's epochs/batches by what was already trained."""

    def __init__(self, model_dir, model_prefix='model', monitor=None, verbose=0, save_best=False,
                 mode='auto', epoch_period=1, batch_period=None, max_checkpoints=5,
                 resume_from_checkpoint=False):
        if save_best and not isinstance(monitor, EvalMetric):
            raise ValueError("CheckpointHandler: save_best=True needs monitor to be one of the metric "
                             "objects from estimator.train_metrics or estimator.val_metrics")
        os.makedirs(model_dir, exist_ok=True)
        self.monitor = monitor
        self.verbose = verbose
        self.model_dir = model_dir
        self.model_prefix = model_prefix
        self.save_best = save_best
        self.epoch_period = epoch_period
        self.batch_period = batch_period
        self.current_batch = 0
        self.current_epoch = 0
        self.max_checkpoints = max_checkpoints
        self.resume_from_checkpoint = resume_from_checkpoint
        self.saved_checkpoints = []
        self.trained_epoch = self.trained_batch = -1
        if save_best:
            self.monitor_op = _improvement_op(mode, monitor, 'CheckpointHandler')
            self.best = _worst(self.monitor_op)

    def train_begin(self, estimator, *args, **kwargs):
        self.current_epoch = 0
        self.current_batch = 0
        if self.save_best:
            self.best = _worst(self.monitor_op)
        if self.resume_from_checkpoint:
            by_batch = bool(estimator.max_batch)
            if by_batch != bool(self.batch_period) or by_batch == bool(self.epoch_period):
                raise ValueError(
                    "CheckpointHandler: to resume from a checkpoint, save by the same kind of period you "
                    "train for: epoch_period only when fitting by epochs, batch_period only (and "
                    f"epoch_period=None) when fitting by batches; got epoch_period={self.epoch_period}, "
                    f"batch_period={self.batch_period}")
            self._resume_from_checkpoint(estimator)

    def batch_end(self, estimator, *args, **kwargs):
        if self.current_batch == 0:
            self._save_symbol(estimator)
        if self.batch_period and (self.current_batch + 1) % self.batch_period == 0:
            self._save_checkpoint(estimator)
        self.current_batch += 1

    def epoch_end(self, estimator, *args, **kwargs):
        if self.epoch_period and (self.current_epoch + 1) % self.epoch_period == 0:
            self._save_checkpoint(estimator)
        self.current_epoch += 1

    def _save_checkpoint(self, estimator):
        epoch, batch = self.current_epoch, self.current_batch
        if self.resume_from_checkpoint:
            # numbering continues from the checkpoint resumed; at epoch end the batch counter
            # has already moved past the epoch's last batch
            epoch += self.trained_epoch + 1
            batch += self.trained_batch + (0 if estimator.max_epoch else 1)
        prefix = "%s-epoch%dbatch%d" % (self.model_prefix, epoch, batch)
        self._save_params_and_trainer(estimator, prefix)
        if self.verbose > 0:
            estimator.logger.info('[Epoch %d] CheckpointHandler: trained total %d batches, '
                                  'saving model at %s with prefix: %s',
                                  self.current_epoch, self.current_batch + 1, self.model_dir, prefix)
        if self.save_best:
            self._save_if_best(estimator)

    def _save_if_best(self, estimator):
        name, value = self.monitor.get()
        if np.isnan(value):
            warnings.warn(RuntimeWarning(
                f"CheckpointHandler: skipping save best because {name} is not updated; pass one of "
                "estimator.train_metrics or estimator.val_metrics as monitor"))
        elif self.monitor_op(value, self.best):
            prefix = self.model_prefix + '-best'
            self._save_params_and_trainer(estimator, prefix)
            if self.verbose > 0:
                estimator.logger.info('[Epoch %d] CheckpointHandler: %s improved from %0.5f to %0.5f, '
                                      'updating best model at %s with prefix: %s', self.current_epoch,
                                      name, self.best, value, self.model_dir, prefix)
            self.best = value
        elif self.verbose > 0:
            estimator.logger.info('[Epoch %d] CheckpointHandler: %s did not improve from %0.5f, '
                                  'skipping updating best model', self.current_epoch, name, self.best)

    def _save_symbol(self, estimator):
        symbol_file = os.path.join(self.model_dir, self.model_prefix + '-symbol.json')
        cached_graph = getattr(estimator.net, '_cached_graph', None)
        if cached_graph:
            cached_graph[1].save(symbol_file)
        else:
            estimator.logger.info("Model architecture (symbol file) is not saved: build the model from "
                                  "HybridBlocks and call net.hybridize() before fitting to save it as %s.",
                                  symbol_file)

    def _save_params_and_trainer(self, estimator, file_prefix):
        # save_parameters and save_states both write atomically (mxcy.fileio.atomic_write)
        estimator.net.save_parameters(os.path.join(self.model_dir, file_prefix + '.params'))
        estimator.trainer.save_states(os.path.join(self.model_dir, file_prefix + '.states'))
        if file_prefix.endswith('-best'):
            return
        self.saved_checkpoints.append(file_prefix)
        if len(self.saved_checkpoints) > self.max_checkpoints:
            oldest = self.saved_checkpoints.pop(0)
            for fname in os.listdir(self.model_dir):
                if fname.startswith(oldest):
                    os.remove(os.path.join(self.model_dir, fname))

    def _resume_from_checkpoint(self, estimator):
        epoch_prefix = self.model_prefix + '-epoch'
        self.trained_epoch = self._find_max_iteration(self.model_dir, epoch_prefix, 'epoch', 'batch',
                                                      self.saved_checkpoints)
        self.trained_batch = self._find_max_iteration(self.model_dir, epoch_prefix + str(self.trained_epoch),
                                                      'batch', '.params')
        if self.trained_epoch == -1:
            remaining = ("%d batches" % estimator.max_batch if estimator.max_batch
                         else "%d epochs" % estimator.max_epoch)
            estimator.logger.info("CheckpointHandler: No checkpoint found, training from scratch for "
                                  + remaining)
            return
        msg = "CheckpointHandler: Checkpoint resumed from epoch %d batch %d, continue to train for " % (
            self.trained_epoch, self.trained_batch)
        if estimator.max_epoch:
            if self.trained_epoch >= estimator.max_epoch - 1:
                raise ValueError("CheckpointHandler: found a checkpoint that already reached %d epochs; use "
                                 "resume_from_checkpoint=False to train from scratch" % estimator.max_epoch)
            estimator.max_epoch -= self.trained_epoch + 1
            msg += "%d epochs " % estimator.max_epoch
        if estimator.max_batch:
            if self.trained_batch >= estimator.max_batch - 1:
                raise ValueError("CheckpointHandler: found a checkpoint that already reached %d batches; use "
                                 "resume_from_checkpoint=False to train from scratch" % estimator.max_batch)
            estimator.max_batch -= self.trained_batch + 1
            msg += "%d batches " % estimator.max_batch
        prefix = os.path.join(self.model_dir, "%s-epoch%dbatch%d" % (
            self.model_prefix, self.trained_epoch, self.trained_batch))
        for fname in (prefix + '.params', prefix + '.states'):
            if not os.path.exists(fname):
                raise ValueError(f"CheckpointHandler: failed to load checkpoint, {fname} does not exist")
        estimator.net.load_parameters(prefix + '.params', ctx=estimator.context)
        estimator.trainer.load_states(prefix + '.states')
        estimator.logger.warning(msg)

    @staticmethod
    def _find_max_iteration(model_dir, prefix, start, end, saved_checkpoints=None):
        """The largest number between `start` and `end` in the names of `model_dir`'s
        ``<prefix>*.params`` files (-1 if none); records their prefixes in `saved_checkpoints`."""
        max_iter = -1
        for fname in sorted(os.listdir(model_dir)):
            if not (fname.startswith(prefix) and '.params' in fname):
                continue
            if saved_checkpoints is not None:
                saved_checkpoints.append(fname[:fname.find('.params')])
            try:
                max_iter = max(max_iter, int(fname[fname.find(start) + len(start):fname.find(end)]))
            except ValueError:
                raise ValueError(f"CheckpointHandler: cannot parse checkpoint file name {fname}; names must "
                                 "be {model_prefix}-epoch{E}batch{B}.params, each with a .states file") from None
        return max_iter


class EarlyStoppingHandler(TrainBegin, EpochEnd, TrainEnd):
    """Stops training once `monitor` has not improved by more than `min_delta` (over `baseline`
    or the best value so far) for `patience` epochs."""

    def __init__(self, monitor, min_delta=0, patience=0, mode='auto', baseline=None):
        if not isinstance(monitor, EvalMetric):
            raise ValueError("EarlyStoppingHandler: monitor must be one of the metric objects from "
                             "estimator.train_metrics or estimator.val_metrics")
        if isinstance(monitor, CompositeEvalMetric):
            raise ValueError("EarlyStoppingHandler: CompositeEvalMetric is not supported as monitor, "
                             "pass a single metric instead")
        self.monitor = monitor
        self.baseline = baseline
        self.patience = patience
        self.wait = 0
        self.stopped_epoch = 0
        self.current_epoch = 0
        self.stop_training = False
        self.monitor_op = _improvement_op(mode, monitor, 'EarlyStoppingHandler')
        # an improvement must exceed min_delta in the direction of monitor_op
        self.min_delta = min_delta if self.monitor_op is np.greater else -min_delta

    def train_begin(self, estimator, *args, **kwargs):
        self.wait = 0
        self.stopped_epoch = 0
        self.current_epoch = 0
        self.stop_training = False
        self.best = self.baseline if self.baseline is not None else _worst(self.monitor_op)

    def epoch_end(self, estimator, *args, **kwargs):
        name, value = self.monitor.get()
        if np.isnan(value):
            warnings.warn(RuntimeWarning(
                f"EarlyStoppingHandler: {name} is not updated; pass one of estimator.train_metrics "
                "or estimator.val_metrics as monitor"))
        elif self.monitor_op(value - self.min_delta, self.best):
            self.best = value
            self.wait = 0
        else:
            self.wait += 1
            if self.wait >= self.patience:
                self.stopped_epoch = self.current_epoch
                self.stop_training = True
        self.current_epoch += 1
        return self.stop_training

    def train_end(self, estimator, *args, **kwargs):
        if self.stopped_epoch > 0:
            estimator.logger.info('[Epoch %d] EarlyStoppingHanlder: early stopping due to %s not improving',
                                  self.stopped_epoch, self.monitor.get()[0])


class GradientUpdateHandler(BatchEnd):
    """Applies the gradients at batch end: ``trainer.step`` with the batch size summed over the
    per-context losses. Runs first (priority -2000)."""

    def __init__(self, priority=-2000):
        self.priority = priority

    def batch_end(self, estimator, *args, **kwargs):
        loss = kwargs['loss']
        losses = loss if isinstance(loss, list) else [loss]
        estimator.trainer.step(sum(each.shape[0] for each in losses))
