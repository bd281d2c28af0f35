"""Live progress bars for Module.fit/score/predict and mx.callback.ProgressBar: a tqdm bar (the optional extra
`pip install mxcy[progress]`) when stderr is a terminal, else a silent stand-in so callers keep MXNet's text.
MXCY_PROGRESS=0 turns the bars off."""
import os
import sys

try:
    import tqdm as _tqdm
except ImportError:  # the optional extra is not installed: MXNet's text only
    _tqdm = None

__all__ = ["bar", "batches_in"]

_MIN_INTERVAL = 0.1  # seconds between redraws


class _NoBar:
    """What callers get when no live bar can be shown: every call does nothing."""
    live = False
    n = 0

    def update(self, n=1):
        pass

    def set_postfix(self, values):
        pass

    def refresh(self):
        pass

    def close(self):
        pass


class _LiveBar:
    """A tqdm bar that clears itself when closed (fit's log lines stay the record)."""
    live = True

    def __init__(self, total, desc, unit):
        self._bar = _tqdm.tqdm(total=total, desc=desc, unit=unit, leave=False, file=sys.stderr, dynamic_ncols=True,
                               mininterval=_MIN_INTERVAL)

    @property
    def n(self):
        return self._bar.n

    @n.setter
    def n(self, value):
        self._bar.n = value

    def update(self, n=1):
        self._bar.update(n)

    def set_postfix(self, values):
        """Show (name, value) pairs, such as a metric's, after the bar."""
        self._bar.set_postfix({name: f"{value:.4g}" for name, value in values}, refresh=False)

    def refresh(self):
        self._bar.refresh()

    def close(self):
        self._bar.close()


def bar(desc, total=None, unit="batch"):
    """A live bar over `total` steps (None: unknown) when tqdm is installed, MXCY_PROGRESS is not '0' and stderr
    is a terminal; otherwise a stand-in whose `live` is False."""
    if _tqdm is None or os.environ.get("MXCY_PROGRESS", "1") == "0" or not sys.stderr.isatty():
        return _NoBar()
    return _LiveBar(total, desc, unit)


def batches_in(data_iter):
    """How many batches one pass over an NDArrayIter-like iterator yields (None when it cannot say)."""
    num_data, batch_size = getattr(data_iter, "num_data", None), getattr(data_iter, "batch_size", None)
    if not isinstance(num_data, int) or not isinstance(batch_size, int) or batch_size <= 0:
        return None
    if getattr(data_iter, "last_batch_handle", "pad") == "discard":
        return num_data // batch_size
    return -(-num_data // batch_size)
