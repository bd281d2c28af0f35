"""NDArrayIter: batches over in-memory arrays (NDArray, NumPy, SciPy/mx CSR), with MXNet 1.9.1's shuffling and
last-batch modes ('pad', 'discard', 'roll_over')."""
import numpy as np

from ..ndarray import NDArray, concat, tile
from ..ndarray.sparse import CSRNDArray
from .io import DataBatch, DataDesc, DataIter
from .utils import _getdata_by_idx, _has_instance, _init_data

__all__ = ["NDArrayIter"]

_LAST_BATCH_MODES = ("pad", "discard", "roll_over")


def _examples(arr, start, end, axis):
    """Examples [start, end) of `arr` along `axis`, as a new array. CPU arrays batched on axis 0 are copied
    on the host (NumPy): the batch is ready at once instead of waiting for an engine op."""
    if isinstance(arr, CSRNDArray):
        return arr[start:end]
    if axis == 0 and arr.context.device_type == "cpu":
        return NDArray(arr[start:end].asnumpy(), arr.context)  # asnumpy's copy is the batch's buffer
    return arr.slice_axis(axis=axis, begin=start, end=end)


class NDArrayIter(DataIter):
    """Iterate over `data` and `label` (an array, a list of arrays or a name -> array dict) in batches of
    `batch_size` along the layout's 'N' axis.

    last_batch_handle: 'pad' fills the last batch from the start of the data (getpad() says how many),
    'discard' drops it, 'roll_over' keeps its examples and puts them first in the next epoch (after reset()).
    shuffle reorders the examples (NumPy's global generator) at every reset. CSR inputs need 'discard'."""

    def __init__(self, data, label=None, batch_size=1, shuffle=False, last_batch_handle="pad", data_name="data",
                 label_name="softmax_label", layout="NCHW"):
        super().__init__(batch_size)
        if last_batch_handle not in _LAST_BATCH_MODES:
            raise ValueError(f"NDArrayIter: last_batch_handle must be one of {_LAST_BATCH_MODES}, "
                             f"got {last_batch_handle!r}")
        self.data = _init_data(data, allow_empty=False, default_name=data_name)
        self.label = _init_data(label, allow_empty=True, default_name=label_name)
        if (_has_instance(self.data, CSRNDArray) or _has_instance(self.label, CSRNDArray)) \
                and last_batch_handle != "discard":
            raise NotImplementedError("`NDArrayIter` only supports ``CSRNDArray`` with `last_batch_handle` "
                                      "set to `discard`.")
        self.layout = layout
        self.idx = np.arange(self.data[0][1].shape[0])
        self.num_data = self.idx.shape[0]  # of the first data array: longer labels are cut, as in MXNet
        self.shuffle = shuffle
        self.last_batch_handle = last_batch_handle
        self.cursor = -batch_size
        self._cache_data = None
        self._cache_label = None
        self.reset()
        self.data_list = [a for _, a in self.data] + [a for _, a in self.label]
        self.num_source = len(self.data_list)

    @property
    def _batch_axis(self):
        return self.layout.find("N")

    def _descs(self, source):
        axis = self._batch_axis
        return [DataDesc(name, tuple(arr.shape[:axis]) + (self.batch_size,) + tuple(arr.shape[axis + 1:]),
                         arr.dtype, layout=self.layout) for name, arr in source]

    @property
    def provide_data(self):
        return self._descs(self.data)

    @property
    def provide_label(self):
        return self._descs(self.label)

    def hard_reset(self):
        """Back to the start, dropping any examples rolled over from the last epoch."""
        if self.shuffle:
            self._shuffle_data()
        self.cursor = -self.batch_size
        self._cache_data = None
        self._cache_label = None

    def reset(self):
        if self.shuffle:
            self._shuffle_data()
        if self.last_batch_handle == "roll_over" and \
                self.num_data - self.batch_size < self.cursor < self.num_data:
            # the rolled-over examples fill the head of the first batch: start that many examples early
            self.cursor = self.cursor - self.num_data - self.batch_size
        else:
            self.cursor = -self.batch_size

    def iter_next(self):
        self.cursor += self.batch_size
        return self.cursor < self.num_data

    def next(self):
        if not self.iter_next():
            raise StopIteration
        data = self.getdata()
        label = self.getlabel()
        if data[0].shape[self._batch_axis] != self.batch_size:
            # a short last batch ('discard', 'roll_over'): kept for roll_over's next epoch, not returned
            self._cache_data = data
            self._cache_label = label
            raise StopIteration
        return DataBatch(data=data, label=label, pad=self.getpad(), index=None)

    def _getdata(self, source, start=0, end=None):
        """Examples [start, end) of every array of `source`."""
        if end is None:
            end = source[0][1].shape[0] if source else 0
        return [_examples(arr, start, end, self._batch_axis) for _, arr in source]

    def _concat(self, first, second):
        if not first or not second:
            return first if first else second
        return [concat(a, b, dim=self._batch_axis) for a, b in zip(first, second)]

    @staticmethod
    def _tile(arrays, repeats):
        return [tile(a, (repeats,) + (1,) * (a.ndim - 1)) for a in arrays]

    def _batchify(self, source):
        if self.cursor >= self.num_data:
            raise AssertionError("DataIter needs reset.")
        if self.last_batch_handle == "roll_over" and -self.batch_size < self.cursor < 0:
            # getdata then getlabel each take their half of what the last epoch left over
            if self._cache_data is None and self._cache_label is None:
                raise AssertionError("next epoch should have cached data")
            if self._cache_data is not None:
                cached, self._cache_data = self._cache_data, None
            else:
                cached, self._cache_label = self._cache_label, None
            return self._concat(cached, self._getdata(source, end=self.cursor + self.batch_size))
        if self.last_batch_handle == "pad" and self.cursor + self.batch_size > self.num_data:
            pad = self.batch_size - self.num_data + self.cursor
            head = self._getdata(source, start=self.cursor)
            if pad > self.num_data:
                filler = self._tile(self._getdata(source, end=self.num_data), pad // self.num_data)
                if pad % self.num_data:
                    filler = self._concat(filler, self._getdata(source, end=pad % self.num_data))
            else:
                filler = self._getdata(source, end=pad)
            return self._concat(head, filler)
        return self._getdata(source, self.cursor, min(self.cursor + self.batch_size, self.num_data))

    def getdata(self):
        return self._batchify(self.data)

    def getlabel(self):
        return self._batchify(self.label)

    def getpad(self):
        if self.last_batch_handle == "pad" and self.cursor + self.batch_size > self.num_data:
            return self.cursor + self.batch_size - self.num_data
        if self.last_batch_handle == "roll_over" and -self.batch_size < self.cursor < 0:
            return -self.cursor
        return 0

    def _shuffle_data(self):
        np.random.shuffle(self.idx)
        self.data = _getdata_by_idx(self.data, self.idx)
        self.label = _getdata_by_idx(self.label, self.idx)
