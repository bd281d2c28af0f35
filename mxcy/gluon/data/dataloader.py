"""DataLoader: mini-batches from a Dataset, built in this process or by workers (_workers), and the
default batchify functions that stack samples into NDArrays."""
import itertools
import warnings

import numpy as np

from ... import ndarray as nd
from ...context import Context, cpu_pinned
from . import _shm
from . import sampler as _sampler
from ._workers import ProcessPool, ThreadPool

__all__ = ["DataLoader", "default_batchify_fn", "default_mp_batchify_fn"]


def default_batchify_fn(data):
    """Stack a list of samples: NDArrays with nd.stack, tuples element-wise (giving a list),
    anything else (numbers, NumPy arrays) through np.asarray into an NDArray of its dtype."""
    if isinstance(data[0], nd.NDArray):
        return nd.stack(*data)
    if isinstance(data[0], tuple):
        return [default_batchify_fn(list(field)) for field in zip(*data)]
    data = np.asarray(data)
    return nd.array(data, dtype=data.dtype)


def default_mp_batchify_fn(data):
    """default_batchify_fn for worker processes: the results are NDArrays on cpu_shared(0), and
    NDArray samples are stacked straight into a shared-memory segment (sent without a copy)."""
    if isinstance(data[0], nd.NDArray):
        out = _shm.shared_ndarray((len(data),) + data[0].shape, data[0].dtype)
        return nd.stack(*data, out=out)
    if isinstance(data[0], tuple):
        return [default_mp_batchify_fn(list(field)) for field in zip(*data)]
    data = np.asarray(data)
    return nd.array(data, dtype=data.dtype, ctx=Context("cpu_shared", 0))


def _as_in_context(data, ctx):
    if isinstance(data, nd.NDArray):
        return data.as_in_context(ctx)
    if isinstance(data, (list, tuple)):
        return [_as_in_context(d, ctx) for d in data]
    return data


class _MultiWorkerIter:
    """One pass over the batch sampler through a worker pool, `prefetch` batches ahead."""

    _iterations = itertools.count()

    def __init__(self, pool, batch_sampler, prefetch, pin_device, timeout):
        self._pool = pool
        self._batches = iter(batch_sampler)
        self._len = len(batch_sampler)
        self._id = next(self._iterations)
        self._sent = self._received = 0
        self._pin_device = pin_device
        self._timeout = timeout
        for _ in range(prefetch):
            self._push_next()

    def _push_next(self):
        indices = next(self._batches, None)
        if indices is not None:
            self._pool.submit((self._id, self._sent), indices)
            self._sent += 1

    def __len__(self):
        return self._len

    def __iter__(self):
        return self

    def __next__(self):
        self._push_next()
        if self._received == self._sent:
            raise StopIteration
        batch = self._pool.get((self._id, self._received), self._timeout)
        self._received += 1
        if self._pin_device is not None:
            batch = _as_in_context(batch, self._pin_device)
        return batch

    next = __next__

    def close(self):
        if self._received < self._sent:
            self._pool.forget(self._id)
            self._received = self._sent

    __del__ = close


class DataLoader:
    """Mini-batches of `dataset`: `batch_size` samples per batch in `sampler`'s order (sequential,
    or random with `shuffle`), or the index lists of `batch_sampler`, joined by `batchify_fn`.

    With `num_workers > 0` batches are built by that many worker processes (threads with
    `thread_pool=True`) up to `prefetch` batches ahead (default 2 * num_workers) and come back in
    order; the dataset and batchify_fn are pickled to the processes. A batch that takes longer
    than `timeout` seconds, a worker that dies or raises, is an error here. `pin_memory` moves
    batches to cpu_pinned(pin_device_id). `auto_reload` starts fetching the next epoch as soon as
    one ends (and the first at construction). `try_nopython` (MXNet 2) has no effect: batches are
    always built by Python code.
    """

    def __init__(self, dataset, batch_size=None, shuffle=False, sampler=None, last_batch=None,
                 batch_sampler=None, batchify_fn=None, num_workers=0, pin_memory=False,
                 pin_device_id=0, prefetch=None, thread_pool=False, timeout=120, auto_reload=False,
                 try_nopython=None):
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, given {timeout}")
        if batch_sampler is None:
            if batch_size is None:
                raise ValueError("batch_size must be specified unless batch_sampler is specified")
            if sampler is None:
                sampler = (_sampler.RandomSampler if shuffle else _sampler.SequentialSampler)(len(dataset))
            elif shuffle:
                raise ValueError("shuffle must not be specified if sampler is specified")
            batch_sampler = _sampler.BatchSampler(sampler, batch_size, last_batch or "keep")
        elif batch_size is not None or shuffle or sampler is not None or last_batch is not None:
            raise ValueError("batch_size, shuffle, sampler and last_batch must not be specified if "
                             "batch_sampler is specified.")
        if try_nopython:
            warnings.warn("DataLoader(try_nopython=True): mxcy builds batches in Python")
        self._dataset = dataset
        self._batch_sampler = batch_sampler
        self._num_workers = max(0, int(num_workers))
        self._pin_device = cpu_pinned(pin_device_id) if pin_memory else None
        self._thread_pool = thread_pool
        self._timeout = timeout
        self._prefetch = max(0, int(prefetch) if prefetch is not None else 2 * self._num_workers)
        if batchify_fn is None:
            batchify_fn = default_mp_batchify_fn if self._num_workers and not thread_pool \
                else default_batchify_fn
        self._batchify_fn = batchify_fn
        self._pool = None
        self.auto_reload = auto_reload
        self._iter = None
        if auto_reload:
            self.refresh()

    def _worker_pool(self):
        if self._pool is None or not self._pool.alive:
            pool_type = ThreadPool if self._thread_pool else ProcessPool
            self._pool = pool_type(self._num_workers, self._dataset, self._batchify_fn)
        return self._pool

    def _prefetch_iter(self):
        if self._num_workers == 0:
            return self._same_process_iter()
        return _MultiWorkerIter(self._worker_pool(), self._batch_sampler, self._prefetch,
                                self._pin_device, self._timeout)

    def _same_process_iter(self):
        for indices in self._batch_sampler:
            batch = self._batchify_fn([self._dataset[idx] for idx in indices])
            if self._pin_device is not None:
                batch = _as_in_context(batch, self._pin_device)
            yield batch

    def __iter__(self):
        batches = self._iter if self._iter is not None else self._prefetch_iter()
        self._iter = None
        try:
            yield from batches
        finally:
            if isinstance(batches, _MultiWorkerIter):
                batches.close()
        if self._iter is None and self.auto_reload:
            self.refresh()

    def __len__(self):
        return len(self._batch_sampler)

    def refresh(self):
        """Start fetching a new epoch now (used by the next `iter()`)."""
        self._iter = self._prefetch_iter()

    def clean(self):
        """Drop a prefetched epoch; fetching starts again at the next `iter()`."""
        if isinstance(self._iter, _MultiWorkerIter):
            self._iter.close()
        self._iter = None

    def __del__(self):
        pool = getattr(self, "_pool", None)
        if isinstance(pool, ProcessPool):
            pool.close()
