"""Training curves: the metric values Module.fit (`module.metric_history`) or a gluon Estimator (with a
`HistoryHandler`) record per epoch, and plot_history drawing them to a PNG with matplotlib (the optional
extra `pip install mxcy[viz]`)."""
import io

import numpy as np

from .base import MXNetError
from .fileio import atomic_write
from .gluon.contrib.estimator.event_handler import EpochEnd

__all__ = ["MetricHistory", "HistoryHandler", "plot_history"]


class MetricHistory:
    """Per metric, the (epoch, value) pairs of each split: `series[metric name][split]`, split being 'train'
    or 'validation' (for Module.fit) or the Estimator metric's own name."""

    def __init__(self):
        self.series = {}

    def record(self, epoch, split, name, value):
        self.series.setdefault(name, {}).setdefault(split, []).append((int(epoch), float(value)))

    def __bool__(self):
        return bool(self.series)


class HistoryHandler(EpochEnd):
    """An Estimator event handler recording every train and validation metric at each epoch end (after the
    validation handler has run: lowest priority) into `history`, epochs counted from 0."""

    def __init__(self):
        self.history = MetricHistory()
        self.priority = np.inf
        self._epoch = 0

    def epoch_end(self, estimator, *args, **kwargs):
        for split, metrics in (("train", estimator.train_metrics), ("validation", estimator.val_metrics)):
            for metric in metrics:
                name, value = metric.get()
                self.history.record(self._epoch, split, _strip_split(name), value)
        self._epoch += 1


def _strip_split(name):
    """The Estimator's metric names carry 'training ' / 'validation ' in front; the split says it already."""
    for prefix in ("training ", "validation "):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


def plot_history(history, filename, title=None, figsize=(6.4, 4.8), dpi=100):
    """Draw `history` (a MetricHistory, or anything with one as `metric_history` or `history`) to the PNG file
    `filename`, figsize * dpi pixels: one panel per metric, one line per split, epochs along x. Returns the
    filename. Rendering uses matplotlib's Agg canvas only (no pyplot, no display)."""
    history = getattr(history, "metric_history", getattr(history, "history", history))
    if not isinstance(history, MetricHistory) or not history:
        raise MXNetError(f"plot_history: nothing to plot in {history!r}; train with Module.fit or add a "
                         "HistoryHandler to Estimator.fit first")
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise MXNetError("plot_history needs matplotlib: pip install mxcy[viz]") from None
    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    names = sorted(history.series)
    for k, name in enumerate(names):
        ax = fig.add_subplot(len(names), 1, k + 1)
        for split, points in sorted(history.series[name].items()):
            epochs, values = zip(*points)
            ax.plot(epochs, values, marker="o", label=split)
        ax.set_ylabel(name)
        ax.legend(loc="best")
        ax.grid(True, alpha=0.3)
    fig.axes[-1].set_xlabel("epoch")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    atomic_write(filename, buffer.getvalue(), "training-curve PNG")
    return filename
