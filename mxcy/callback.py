"""mx.callback: what Module.fit calls after each batch (Speedometer, ProgressBar, log_train_metric,
LogValidationMetricsCallback) or epoch (do_checkpoint, module_checkpoint), logging through `logging`."""
import logging
import math
import time

from . import progress

__all__ = ["module_checkpoint", "do_checkpoint", "log_train_metric", "Speedometer", "ProgressBar",
           "LogValidationMetricsCallback", "save_checkpoint"]


def save_checkpoint(prefix, epoch, symbol, arg_params, aux_params, remove_amp_cast=True):
    """mx.model.save_checkpoint (MXNet's mx.callback exports it too)."""
    from .model import save_checkpoint as save
    save(prefix, epoch, symbol, arg_params, aux_params, remove_amp_cast=remove_amp_cast)


def module_checkpoint(mod, prefix, period=1, save_optimizer_states=False):
    """An epoch-end callback saving `mod`'s checkpoint every `period` epochs (file number = epoch + 1)."""
    period = int(max(1, period))

    def _callback(iter_no, sym=None, arg=None, aux=None):
        if (iter_no + 1) % period == 0:
            mod.save_checkpoint(prefix, iter_no + 1, save_optimizer_states)
    return _callback


def do_checkpoint(prefix, period=1):
    """An epoch-end callback writing mx.model.save_checkpoint every `period` epochs (file number = epoch + 1)."""
    period = int(max(1, period))

    def _callback(iter_no, sym, arg, aux):
        if (iter_no + 1) % period == 0:
            save_checkpoint(prefix, iter_no + 1, sym, arg, aux)
    return _callback


def log_train_metric(period, auto_reset=False):
    """A batch-end callback logging the training metric every `period` batches."""
    def _callback(param):
        if param.nbatch % period == 0 and param.eval_metric is not None:
            for name, value in param.eval_metric.get_name_value():
                logging.info("Iter[%d] Batch[%d] Train-%s=%f", param.epoch, param.nbatch, name, value)
            if auto_reset:
                param.eval_metric.reset_local()
    return _callback


class Speedometer:
    """A batch-end callback logging samples/sec (and the metric) every `frequent` batches; with auto_reset the
    metric's local statistics restart after each log line."""

    def __init__(self, batch_size, frequent=50, auto_reset=True):
        self.batch_size = batch_size
        self.frequent = frequent
        self.init = False
        self.tic = 0
        self.last_count = 0
        self.auto_reset = auto_reset

    def __call__(self, param):
        count = param.nbatch
        if self.last_count > count:  # a new epoch started
            self.init = False
        self.last_count = count
        if not self.init:
            self.init = True
            self.tic = time.time()
            return
        if count % self.frequent:
            return
        elapsed = time.time() - self.tic
        speed = self.frequent * self.batch_size / elapsed if elapsed > 0 else float("inf")
        if param.eval_metric is None:
            logging.info("Iter[%d] Batch [%d]\tSpeed: %.2f samples/sec", param.epoch, count, speed)
        else:
            name_value = param.eval_metric.get_name_value()
            values = sum(name_value, ())
            if self.auto_reset:
                param.eval_metric.reset_local()
                logging.info("Epoch[%d] Batch [%d-%d]\tSpeed: %.2f samples/sec" + "\t%s=%f" * len(name_value),
                             param.epoch, count - self.frequent, count, speed, *values)
            else:
                logging.info("Epoch[%d] Batch [0-%d]\tSpeed: %.2f samples/sec" + "\t%s=%f" * len(name_value),
                             param.epoch, count, speed, *values)
        self.tic = time.time()


class ProgressBar:
    """A batch-end callback showing progress over `total` batches: a live tqdm bar where one can be shown (see
    mx.progress), else MXNet's text bar ('[====----] 50%') of `length` characters in the log."""

    def __init__(self, total, length=80):
        self.bar_len = length
        self.total = total
        self._live = None
        self._epoch = None

    def __call__(self, param):
        count = param.nbatch
        if self._live is None or param.epoch != self._epoch:
            if self._live is not None:
                self._live.close()
            self._live, self._epoch = progress.bar(f"Epoch[{param.epoch}]", total=self.total), param.epoch
        if self._live.live:
            self._live.n = min(count + 1, self.total)  # batches done: nbatch counts from 0
            self._live.refresh()
            return
        filled = int(round(self.bar_len * count / float(self.total)))
        percents = math.ceil(100.0 * count / float(self.total))
        logging.info("[%s] %s%s\r", "=" * filled + "-" * (self.bar_len - filled), percents, "%")


class LogValidationMetricsCallback:
    """An eval-end callback logging each validation metric as 'Epoch[%d] Validation-<name>=<value>'."""

    def __call__(self, param):
        if not param.eval_metric:
            return
        for name, value in param.eval_metric.get_name_value():
            logging.info("Epoch[%d] Validation-%s=%f", param.epoch, name, value)
