"""mx.contrib.io: DataLoaderIter, a gluon DataLoader seen as an mx.io DataIter, so Module.fit can train from it."""
from .. import ndarray as nd
from ..io import DataDesc, DataIter

__all__ = ["DataLoaderIter"]


class DataLoaderIter(DataIter):
    """Batches of a DataLoader yielding (data, label) pairs, cast to `dtype`, under data_name/label_name; the
    batch size is the first batch's, and a shorter last batch is padded with zero rows (getpad says how many;
    MXNet leaves them uninitialised)."""

    def __init__(self, loader, data_name="data", label_name="softmax_label", dtype="float32"):
        super().__init__()
        self._loader = loader
        first = next(iter(loader), None)
        if first is None or len(first) != 2:
            raise ValueError("DataLoaderIter: the loader must yield (data, label) batches, and at least one")
        data, label = first
        self.batch_size = data.shape[0]
        self.dtype = dtype
        self.provide_data = [DataDesc(data_name, data.shape, dtype)]
        self.provide_label = [DataDesc(label_name, label.shape, dtype)]
        self._current_batch = None
        self.reset()

    def reset(self):
        self._iter = iter(self._loader)

    def iter_next(self):
        self._current_batch = next(self._iter, None)
        return self._current_batch is not None

    def _padded(self, array):
        array = array.astype(self.dtype)
        pad = self.getpad()
        if not pad:
            return [array]
        full = nd.zeros((self.batch_size,) + tuple(array.shape[1:]), dtype=self.dtype)
        full[:array.shape[0]] = array
        return [full]

    def getdata(self):
        return self._padded(self._current_batch[0])

    def getlabel(self):
        return self._padded(self._current_batch[1])

    def getpad(self):
        return self.batch_size - self._current_batch[0].shape[0]

    def getindex(self):
        return None
