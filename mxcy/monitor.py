"""mx.monitor / mx.mon: Monitor, statistics of the arrays executors compute (outputs, gradients, weights) every
`interval` batches, for debugging training (MXNet 1.9.1's python/mxnet/monitor.py)."""
import logging
import math
import re

from . import ndarray
from .ndarray import NDArray

__all__ = ["Monitor"]


def _root_mean_square(x):
    """MXNet's default statistic: norm(x) / sqrt(x.size), computed on the array's device."""
    return ndarray.norm(x) / math.sqrt(x.size)


class Monitor:
    """Collects `stat_func(array)` (an NDArray or a list of them; default norm(x)/sqrt(size)) for every array
    whose name matches `pattern` (re.match), in the batches where tic() falls on a multiple of `interval`:
    operator outputs and gradients as the installed executors compute them (inputs too with monitor_all),
    and at toc() the executors' arguments and auxiliary states."""

    def __init__(self, interval, stat_func=None, pattern=".*", sort=False, monitor_all=False):
        self.stat_func = _root_mean_square if stat_func is None else stat_func
        self.interval = interval
        self.activated = False
        self.queue = []
        self.step = 0
        self.exes = []
        self.re_prog = re.compile(pattern)
        self.sort = sort
        self.monitor_all = monitor_all

    def stat_helper(self, name, array):
        """The executors' callback: queue the statistic of `array` (name as bytes or str) while collecting."""
        name = name.decode() if isinstance(name, bytes) else name
        if self.activated and self.re_prog.match(name):
            self.queue.append((self.step, name, self.stat_func(array)))

    def install(self, exe):
        """Watch executor `exe` too (an Executor from Symbol.bind; several may be installed)."""
        exe.set_monitor_callback(self.stat_helper, self.monitor_all)
        self.exes.append(exe)

    def tic(self):
        """Call before a batch's forward: starts collecting when this batch is due."""
        if self.step % self.interval == 0:
            self._wait_for_parameters()
            self.queue = []
            self.activated = True
        self.step += 1

    def _wait_for_parameters(self):
        for exe in self.exes:
            for array in exe.arg_arrays + exe.aux_arrays:
                array.wait_to_read()

    def toc(self):
        """Call after the batch (forward, backward, update): adds the matching arguments and auxiliary states
        and returns [(step, name, statistics as text)], sorted by name if `sort`; [] when not collecting."""
        if not self.activated:
            return []
        self._wait_for_parameters()
        for exe in self.exes:
            for names, arrays in ((exe._symbol.list_arguments(), exe.arg_arrays),
                                  (exe._symbol.list_auxiliary_states(), exe.aux_arrays)):
                for name, array in zip(names, arrays):
                    if self.re_prog.match(name):
                        self.queue.append((self.step, name, self.stat_func(array)))
        self.activated = False
        if self.sort:
            self.queue.sort(key=lambda entry: entry[1])
        res = [(step, name, _as_text(stats)) for step, name, stats in self.queue]
        self.queue = []
        return res

    def toc_print(self):
        """toc(), logged as 'Batch: <step> <name> <statistics>' lines."""
        for step, name, text in self.toc():
            logging.info("Batch: {:7d} {:30s} {:s}".format(step, name, text))


def _as_text(stats):
    """MXNet's rendering: each statistic followed by a tab, a 1-element one as its scalar."""
    if isinstance(stats, NDArray):
        stats = [stats]
    if not isinstance(stats, list) or not all(isinstance(v, NDArray) for v in stats):
        raise AssertionError(f"Monitor: stat_func must return an NDArray or a list of NDArrays, got {stats!r}")
    return "".join((str(v.asscalar()) if v.shape == (1,) else str(v.asnumpy())) + "\t" for v in stats)
