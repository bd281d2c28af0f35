"""mx.io's data model (DataDesc, DataBatch, DataIter) and the iterators that wrap others (ResizeIter,
PrefetchingIter); NDArrayIter and the file readers live in ndarray_iter.py and native.py."""
import threading
import weakref
from collections import namedtuple

import numpy as np

from ..base import MXNetError

__all__ = ["DataDesc", "DataBatch", "DataIter", "ResizeIter", "PrefetchingIter"]


class DataDesc(namedtuple("DataDesc", ["name", "shape"])):
    """Name and shape of one input (a tuple, so it compares and unpacks as (name, shape)), plus its dtype and
    layout (e.g. 'NCHW', 'TNC'; the position of 'N' is the batch axis)."""

    def __new__(cls, name, shape, dtype=np.float32, layout="NCHW"):
        desc = super().__new__(cls, name, shape)
        desc.dtype = dtype
        desc.layout = layout
        return desc

    def __getnewargs__(self):
        return (self.name, self.shape, self.dtype, self.layout)

    def __repr__(self):
        return f"DataDesc[{self.name},{self.shape},{self.dtype},{self.layout}]"

    @staticmethod
    def get_batch_axis(layout):
        """The axis holding the batch in `layout` (0 when layout is None, -1 when it has no 'N')."""
        return 0 if layout is None else layout.find("N")

    @staticmethod
    def get_list(shapes, types):
        """DataDescs from (name, shape) pairs and, when `types` is not None, (name, dtype) pairs."""
        if types is None:
            return [DataDesc(name, shape) for name, shape in shapes]
        dtypes = dict(types)
        return [DataDesc(name, shape, dtypes[name]) for name, shape in shapes]


class DataBatch:
    """One batch: lists of data and label arrays, the number of padding examples at its end, example indices,
    a bucket key, and optionally the DataDescs of its data and labels."""

    def __init__(self, data, label=None, pad=None, index=None, bucket_key=None, provide_data=None,
                 provide_label=None):
        if data is not None and not isinstance(data, (list, tuple)):
            raise AssertionError("Data must be list of NDArrays")
        if label is not None and not isinstance(label, (list, tuple)):
            raise AssertionError("Label must be list of NDArrays")
        self.data = data
        self.label = label
        self.pad = pad
        self.index = index
        self.bucket_key = bucket_key
        self.provide_data = provide_data
        self.provide_label = provide_label

    def __str__(self):
        data_shapes = [d.shape for d in self.data]
        label_shapes = [lbl.shape for lbl in self.label] if self.label else None
        return f"{type(self).__name__}: data shapes: {data_shapes} label shapes: {label_shapes}"


class DataIter:
    """Base class of the iterators: `next()` (and Python iteration) gives DataBatches until StopIteration;
    subclasses implement iter_next/getdata/getlabel/getpad (and getindex, reset)."""

    def __init__(self, batch_size=0):
        self.batch_size = batch_size

    def __iter__(self):
        return self

    def reset(self):
        """Go back to the first batch."""

    def next(self):
        if not self.iter_next():
            raise StopIteration
        return DataBatch(data=self.getdata(), label=self.getlabel(), pad=self.getpad(), index=self.getindex())

    def __next__(self):
        return self.next()

    def iter_next(self):
        """Move to the next batch; False at the end."""

    def getdata(self):
        """The data arrays of the current batch."""

    def getlabel(self):
        """The label arrays of the current batch."""

    def getindex(self):
        """The example indices of the current batch (None when unknown)."""
        return None

    def getpad(self):
        """How many examples at the end of the current batch are padding."""


class _CurrentBatchIter(DataIter):
    """An iterator whose getdata/getlabel/getindex/getpad read `self.current_batch`."""

    current_batch = None

    def getdata(self):
        return self.current_batch.data

    def getlabel(self):
        return self.current_batch.label

    def getindex(self):
        return self.current_batch.index

    def getpad(self):
        return self.current_batch.pad


class ResizeIter(_CurrentBatchIter):
    """`data_iter` as exactly `size` batches per epoch: it restarts the inner iterator when that runs out,
    and (with reset_internal) resets it on reset()."""

    def __init__(self, data_iter, size, reset_internal=True):
        super().__init__()
        self.data_iter = data_iter
        self.size = size
        self.reset_internal = reset_internal
        self.cur = 0
        self.current_batch = None
        self.provide_data = data_iter.provide_data
        self.provide_label = data_iter.provide_label
        self.batch_size = data_iter.batch_size
        if hasattr(data_iter, "default_bucket_key"):
            self.default_bucket_key = data_iter.default_bucket_key

    def reset(self):
        self.cur = 0
        if self.reset_internal:
            self.data_iter.reset()

    def iter_next(self):
        if self.cur == self.size:
            return False
        try:
            self.current_batch = self.data_iter.next()
        except StopIteration:
            self.data_iter.reset()
            self.current_batch = self.data_iter.next()
        self.cur += 1
        return True


class _Prefetcher:
    """The background thread of a PrefetchingIter: fetches the next batch of every iterator while the
    consumer works on the current one. It holds no reference to the PrefetchingIter, so that one can be
    collected, which stops and joins this thread."""

    def __init__(self, iters):
        self.iters = iters
        self.running = True
        self.wanted = threading.Event()   # the consumer took the last result: fetch the next
        self.ready = threading.Event()    # a result (batches, None at the end, or an error) is waiting
        self.result = None
        self.wanted.set()
        self.thread = threading.Thread(target=self._run, name="PrefetchingIter", daemon=True)
        self.thread.start()

    def _run(self):
        while True:
            self.wanted.wait()
            if not self.running:
                return
            self.wanted.clear()
            try:
                self.result = self._fetch()
            except BaseException as err:  # noqa: BLE001 - handed to the consumer, raised there
                self.result = err
            self.ready.set()

    def _fetch(self):
        batches = []
        for it in self.iters:
            try:
                batches.append(it.next())
            except StopIteration:
                batches.append(None)
        if any(b is None for b in batches):
            if not all(b is None for b in batches):
                raise MXNetError("PrefetchingIter: Number of entry mismatches between iterators "
                                 "(one ended before the others)")
            return None
        if any(b.pad != batches[0].pad for b in batches):
            raise MXNetError("PrefetchingIter: Number of entry mismatches between iterators (different pads)")
        return batches

    def take(self):
        """The waiting result (re-raising a fetch error); the next fetch starts unless the data ended."""
        self.ready.wait()
        result = self.result
        if isinstance(result, BaseException):
            self.result = None  # raised once, then the data counts as ended; holding it would keep the caller alive
            raise result
        if result is not None:
            self.ready.clear()
            self.wanted.set()
        return result

    def reset(self):
        self.ready.wait()
        for it in self.iters:
            it.reset()
        self.ready.clear()
        self.wanted.set()

    def stop(self):
        self.running = False
        self.wanted.set()
        if self.thread is not threading.current_thread():
            self.thread.join()


class PrefetchingIter(_CurrentBatchIter):
    """Reads the next batch of one or several iterators in a background thread (batches keep their order;
    several iterators' batches are joined into one, data then labels). rename_data/rename_label: one
    {old name: new name} dict per iterator."""

    def __init__(self, iters, rename_data=None, rename_label=None):
        super().__init__()
        if not isinstance(iters, list):
            iters = [iters]
        if not iters:
            raise ValueError("PrefetchingIter: iters must not be empty")
        self.n_iter = len(iters)
        self.iters = iters
        self.rename_data = rename_data
        self.rename_label = rename_label
        self.batch_size = self.provide_data[0][1][0]
        self.current_batch = None
        self._prefetcher = _Prefetcher(iters)
        weakref.finalize(self, self._prefetcher.stop)  # collecting this iterator stops and joins the thread

    @staticmethod
    def _renamed(descs, renames):
        if renames is None:
            return sum(descs, [])
        return sum(([DataDesc(r[d.name], d.shape, d.dtype) if isinstance(d, DataDesc) else DataDesc(*d)
                     for d in ds] for r, ds in zip(renames, descs)), [])

    @property
    def provide_data(self):
        return self._renamed([it.provide_data for it in self.iters], self.rename_data)

    @property
    def provide_label(self):
        return self._renamed([it.provide_label for it in self.iters], self.rename_label)

    def reset(self):
        self._prefetcher.reset()

    def iter_next(self):
        batches = self._prefetcher.take()
        if batches is None:
            return False
        self.current_batch = DataBatch(sum((list(b.data) for b in batches), []),
                                       sum((list(b.label or []) for b in batches), []),
                                       batches[0].pad, batches[0].index,
                                       provide_data=self.provide_data, provide_label=self.provide_label)
        return True

    def next(self):
        if not self.iter_next():
            raise StopIteration
        return self.current_batch
