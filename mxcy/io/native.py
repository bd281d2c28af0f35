"""The iterators MXNet implements in C++ (MXDataIter and its creators CSVIter, MNISTIter), here in Python:
files are parsed on the host with NumPy, and batches are handed out as NDArrays.

A creator takes keyword arguments only (values may be Python objects or MXNet's strings such as '(3,2)' or
'1'); like MXNet's parameter parser, arguments an iterator does not know are ignored."""
import logging
import os

import numpy as np

from ..base import MXNetError
from ..ndarray import NDArray, array
from .idx import read_mnist
from .io import DataBatch, DataDesc, DataIter

__all__ = ["MXDataIter", "CSVIter", "MNISTIter"]


class MXDataIter(DataIter):
    """An iterator over a batch source (`handle`, the role of MXNet's C++ iterator handle): an object with
    reset() and advance() -> bool, and data, label (NumPy arrays, or NDArrays that are new for each batch),
    pad, index describing the current batch.

    The first batch is read at construction (so a bad file fails there) and gives provide_data/provide_label
    under `data_name`/`label_name`."""

    def __init__(self, handle, data_name="data", label_name="softmax_label", **_):
        super().__init__()
        self.handle = handle
        self._debug_skip_load = False
        self._debug_at_begin = True
        self.first_batch = None
        try:
            self.first_batch = self.next()
        except StopIteration:
            raise MXNetError("MXDataIter: the source yields no batch (fewer examples than batch_size?)") from None
        data, label = self.first_batch.data[0], self.first_batch.label[0]
        self.provide_data = [DataDesc(data_name, data.shape, data.dtype)]
        self.provide_label = [DataDesc(label_name, label.shape, label.dtype)]
        self.batch_size = data.shape[0]

    def debug_skip_load(self):
        """From now on, hand out the current batch again instead of reading (to time the rest of a program)."""
        self._debug_skip_load = True
        logging.info("Set debug_skip_load to be true, will simply return first batch")

    def reset(self):
        self._debug_at_begin = True
        self.first_batch = None
        self.handle.reset()

    def _current(self):
        return DataBatch(data=[self.getdata()], label=[self.getlabel()], pad=self.getpad(), index=self.getindex())

    def next(self):
        if self._debug_skip_load and not self._debug_at_begin:
            return self._current()
        if self.first_batch is not None:
            batch, self.first_batch = self.first_batch, None
            return batch
        self._debug_at_begin = False
        if not self.handle.advance():
            raise StopIteration
        return self._current()

    def iter_next(self):
        if self.first_batch is not None:
            self.first_batch = None  # the source already stands on it
            return True
        return self.handle.advance()

    def getdata(self):
        return _as_ndarray(self.handle.data)

    def getlabel(self):
        return _as_ndarray(self.handle.label)

    def getindex(self):
        return self.handle.index.copy()

    def getpad(self):
        return self.handle.pad


def _as_ndarray(values):
    """A source's batch part: NDArrays (a fresh one per batch, dense or sparse) as they are, NumPy copied."""
    return values if isinstance(values, NDArray) else array(values, dtype=values.dtype)


# --- keyword arguments -------------------------------------------------------------------------------
def _parse(iterator, name, value, kind):
    """`value` (a Python value or MXNet's string form) as `kind`: bool, int, float, str or 'shape'."""
    try:
        if kind is bool:
            if isinstance(value, str):
                lowered = value.strip().lower()
                if lowered not in ("0", "1", "true", "false"):
                    raise ValueError(value)
                return lowered in ("1", "true")
            return bool(int(value))
        if kind is int:
            return int(value)
        if kind is float:
            return float(value)
        if kind == "shape":
            if isinstance(value, str):
                text = value.strip().strip("()[]")
                value = [int(v) for v in text.split(",") if v.strip()]
            elif isinstance(value, (int, np.integer)):
                value = [int(value)]
            shape = tuple(int(v) for v in value)
            if not shape or any(d <= 0 for d in shape):
                raise ValueError(value)
            return shape
        return str(value)
    except (TypeError, ValueError):
        what = "a shape of positive ints" if kind == "shape" else kind.__name__
        raise MXNetError(f"{iterator}: argument {name}={value!r} is not {what}") from None


def _params(iterator, args, kwargs, spec):
    """The arguments named in `spec` ({name: (kind, default)}, default None = required) parsed from kwargs."""
    if args:
        raise TypeError(f"{iterator} can only accept keyword arguments")
    out = {}
    for name, (kind, default) in spec.items():
        if name in kwargs and kwargs[name] is not None:
            out[name] = _parse(iterator, name, kwargs[name], kind)
        elif default is None:
            raise MXNetError(f"{iterator}: required argument {name} is missing")
        else:
            out[name] = default
    return out


# --- CSVIter -----------------------------------------------------------------------------------------
_CSV_DTYPES = {"float32": np.float32, "int32": np.int32, "int64": np.int64}


def _csv_files(path):
    if os.path.isdir(path):
        return [os.path.join(path, f) for f in sorted(os.listdir(path))
                if os.path.isfile(os.path.join(path, f))]
    return [path]


def _read_csv(path, shape, dtype, what):
    """Every row of the CSV file (or directory of files) `path` as an array of (rows,) + shape."""
    width = int(np.prod(shape))
    convert = float if np.dtype(dtype).kind == "f" else _int
    rows = []
    for fname in _csv_files(path):
        try:
            with open(fname, "rb") as f:
                lines = f.read().decode("utf-8", errors="replace").splitlines()
        except OSError as err:
            raise MXNetError(f"CSVIter: cannot read {what} {fname}: {err.strerror}") from None
        for lineno, line in enumerate(lines, 1):
            if not line.strip():
                continue
            tokens = line.split(",")
            if len(tokens) != width:
                raise MXNetError(f"CSVIter: {fname} line {lineno}: the row has {len(tokens)} values, the "
                                 f"{what} shape {shape} needs {width}")
            try:
                rows.append([convert(t) for t in tokens])
            except ValueError:
                raise MXNetError(f"CSVIter: {fname} line {lineno}: {line.strip()[:60]!r} is not a row of "
                                 "numbers") from None
    try:
        return np.array(rows, dtype=dtype).reshape((len(rows),) + shape)
    except OverflowError:
        raise MXNetError(f"CSVIter: {path}: a value does not fit {np.dtype(dtype).name}") from None


def _int(token):
    token = token.strip()
    try:
        return int(token)
    except ValueError:
        return int(float(token))


class _InstanceBatcher:
    """MXNet's BatchLoader over in-memory examples: batches in order; the last one is completed from the
    start of the data with round_batch (pad = the examples borrowed, and the next epoch starts after them),
    else padded (its tail keeps the previous batch's examples, as MXNet's reused buffer does)."""

    def __init__(self, data, label, batch_size, round_batch, iterator):
        self.examples, self.labels = data, label
        self.batch_size, self.round_batch = batch_size, round_batch
        self.data = np.zeros((batch_size,) + data.shape[1:], data.dtype)
        self.label = np.zeros((batch_size,) + label.shape[1:], label.dtype)
        self.index = np.zeros(batch_size, np.uint64)
        self.pad = 0
        self._pos = 0
        self._overflow = 0
        if round_batch and 2 * len(data) < batch_size:  # the last batch borrows at most one pass of the data
            raise MXNetError(f"{iterator}: number of input ({len(data)} examples) must be bigger than batch "
                             f"size {batch_size}")

    def reset(self):
        if not self.round_batch or self._overflow == 0:
            self._pos = 0
        self._overflow = 0

    def _put(self, slot):
        self.data[slot] = self.examples[self._pos]
        self.label[slot] = self.labels[self._pos]
        self.index[slot] = self._pos
        self._pos += 1

    def advance(self):
        self.pad = 0
        if self._overflow:
            return False
        top = 0
        while top < self.batch_size and self._pos < len(self.examples):
            self._put(top)
            top += 1
        if top == 0:
            return False
        if top < self.batch_size:
            if self.round_batch:
                self._pos = 0
                while top < self.batch_size:
                    self._put(top)
                    top += 1
                    self._overflow += 1
                self.pad = self._overflow
            else:
                self.pad = self.batch_size - top
        return True


def CSVIter(*args, **kwargs):
    """Batches from CSV files: one example per row of `data_csv` (a file or a directory of files), reshaped
    to `data_shape`; labels from `label_csv` rows (shape `label_shape`, default (1,), giving labels of shape
    (batch_size,)), or zeros without one. dtype: 'float32' (default), 'int32' or 'int64'. A row of the wrong
    width is an MXNetError naming the file and line."""
    p = _params("CSVIter", args, kwargs, {
        "data_csv": (str, None), "data_shape": ("shape", None), "label_csv": (str, "NULL"),
        "label_shape": ("shape", (1,)), "batch_size": (int, None), "round_batch": (bool, True),
        "dtype": (str, "float32")})
    if p["dtype"] not in _CSV_DTYPES:
        raise MXNetError(f"CSVIter: {p['dtype']} is not supported for CSVIter (float32, int32, int64)")
    if p["batch_size"] < 1:
        raise MXNetError(f"CSVIter: batch_size must be at least 1, got {p['batch_size']}")
    dtype = _CSV_DTYPES[p["dtype"]]
    data = _read_csv(p["data_csv"], p["data_shape"], dtype, "data")
    if not len(data):
        raise MXNetError(f"CSVIter: {p['data_csv']} has no rows")
    label_shape = () if p["label_shape"] == (1,) else p["label_shape"]
    if p["label_csv"] == "NULL":
        label = np.zeros((len(data),) + label_shape, dtype)
    else:
        label = _read_csv(p["label_csv"], p["label_shape"], dtype, "label").reshape((-1,) + label_shape)
        if len(label) < len(data):
            raise MXNetError(f"CSVIter: {p['label_csv']} has {len(label)} rows, fewer than the {len(data)} rows "
                             f"of {p['data_csv']}")
    source = _InstanceBatcher(data, label, p["batch_size"], p["round_batch"], "CSVIter")
    return MXDataIter(source, **kwargs)


# --- MNISTIter ---------------------------------------------------------------------------------------
class _MNISTBatches:
    """Full batches in order over the (shuffled once) examples; the incomplete last batch is dropped."""

    def __init__(self, images, labels, batch_size, index):
        self.images, self.labels, self.batch_size, self.order = images, labels, batch_size, index
        self.pad = 0
        self._loc = 0
        self.data = self.label = self.index = None

    def reset(self):
        self._loc = 0

    def advance(self):
        if self._loc + self.batch_size > len(self.images):
            return False
        window = slice(self._loc, self._loc + self.batch_size)
        self.data, self.label, self.index = self.images[window], self.labels[window], self.order[window]
        self._loc += self.batch_size
        return True


def MNISTIter(*args, **kwargs):
    """Batches of MNIST from idx-ubyte files (`image`, `label`): pixels scaled by 1/256 as float32, shaped
    (batch_size, 1, rows, cols) or with `flat` (batch_size, rows*cols); labels (batch_size,). `shuffle`
    (default True) permutes the examples once, with NumPy's generator seeded by `seed` (not MXNet's C++
    order); `num_parts`/`part_index` read one contiguous part. The incomplete last batch is dropped. A
    wrong magic number, a truncated file or an image/label count mismatch is an MXNetError naming the file."""
    p = _params("MNISTIter", args, kwargs, {
        "image": (str, "./train-images-idx3-ubyte"), "label": (str, "./train-labels-idx1-ubyte"),
        "batch_size": (int, 128), "shuffle": (bool, True), "flat": (bool, False), "seed": (int, 0),
        "silent": (bool, False), "num_parts": (int, 1), "part_index": (int, 0), "dtype": (str, "float32")})
    if p["batch_size"] < 1:
        raise MXNetError(f"MNISTIter: batch_size must be at least 1, got {p['batch_size']}")
    if not 0 <= p["part_index"] < p["num_parts"]:
        raise MXNetError(f"MNISTIter: part_index {p['part_index']} must be in [0, num_parts={p['num_parts']})")
    images, labels = read_mnist(p["image"], p["label"], "MNISTIter")

    def part(count):
        return (int(count / p["num_parts"] * p["part_index"]), int(count / p["num_parts"] * (p["part_index"] + 1)))

    start, end = part(len(images))
    order = np.arange(start, end, dtype=np.uint64)
    if p["shuffle"]:
        order = order[np.random.RandomState(p["seed"]).permutation(len(order))]
    pixels = images[order.astype(np.int64)].astype(np.float32) * np.float32(1.0 / 256.0)
    pixels = pixels.reshape(len(order), -1) if p["flat"] else pixels[:, None]
    values = labels[order.astype(np.int64)].astype(np.float32)
    if p["dtype"] != "float32":
        pixels = pixels.astype(p["dtype"])
    if not p["silent"]:
        logging.info("MNISTIter: load %d images, shuffle=%d, shape=%s", len(order), p["shuffle"],
                     (p["batch_size"],) + pixels.shape[1:])
    return MXDataIter(_MNISTBatches(pixels, values, p["batch_size"], order), **kwargs)
