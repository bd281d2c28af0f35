"""mx.contrib.tensorboard: LogMetricsCallback, a batch- or eval-end callback writing metric values as TensorBoard
scalars through mxboard's SummaryWriter (tensorboardX's, which has the same API, when mxboard is absent)."""
import importlib

from ..base import MXNetError

__all__ = ["LogMetricsCallback"]


def _summary_writer_class():
    for module in ("mxboard", "tensorboardX"):
        try:
            return importlib.import_module(module).SummaryWriter
        except ImportError:
            continue
    raise MXNetError("LogMetricsCallback needs a TensorBoard writer: pip install mxboard (or tensorboardX)")


class LogMetricsCallback:
    """Writes each (name, value) of the callback's eval_metric as a scalar at step = epoch into TensorBoard event
    files under logging_dir; `prefix` makes the names '<prefix>-<name>' (to tell train from eval curves)."""

    def __init__(self, logging_dir, prefix=None):
        self.prefix = prefix
        self.summary_writer = _summary_writer_class()(logging_dir)

    def __call__(self, param):
        if param.eval_metric is None:
            return
        for name, value in param.eval_metric.get_name_value():
            if self.prefix is not None:
                name = f"{self.prefix}-{name}"
            self.summary_writer.add_scalar(name, value, global_step=param.epoch)
