"""LibSVMIter: batches of CSR rows from zero-based LibSVM text files (MXNet 1.9.1's C++ LibSVMIter), parsed on
the host with Python and NumPy; the rows of the chosen part are read into memory at construction."""
import numpy as np

from ..base import MXNetError
from ..ndarray import array
from ..ndarray.sparse import csr_matrix
from .native import MXDataIter, _csv_files, _InstanceBatcher, _params

__all__ = ["LibSVMIter"]


def _lines_of_part(path, num_parts, part_index):
    """(file, line number, text) of the non-blank lines in part `part_index` of the files at `path`.

    Parts are dmlc-core's byte ranges: the files' bytes are cut into `num_parts` equal steps, and a line
    belongs to the step holding the newline just before it (a file's first line: its first byte)."""
    contents = []
    for fname in _csv_files(path):
        try:
            with open(fname, "rb") as f:
                contents.append((fname, f.read()))
        except OSError as err:
            raise MXNetError(f"LibSVMIter: cannot read {fname}: {err.strerror}") from None
    total = sum(len(raw) for _, raw in contents)
    step = max(1, -(-total // num_parts))
    base, picked = 0, []
    for fname, raw in contents:
        start = 0
        for number, line in enumerate(raw.split(b"\n"), 1):
            key = base + (start - 1 if start else 0)
            if line.strip() and min(key // step, num_parts - 1) == part_index:
                picked.append((fname, number, line.decode("utf-8", errors="replace")))
            start += len(line) + 1
        base += len(raw)
    return picked


def _parse_rows(lines, width, what):
    """CSR parts (values float32, column indices int64, row pointers int64) and the labels of LibSVM lines
    `label[:weight] [qid:n] index:value ...`; a column index must be below `width`."""
    values, columns, indptr, labels = [], [], [0], []
    for fname, number, line in lines:
        tokens = line.split("#", 1)[0].split()
        try:
            labels.append(float(tokens[0].split(":", 1)[0]))
            row_columns = []
            for token in tokens[1:]:
                index, value = token.split(":")
                if index == "qid":
                    continue
                row_columns.append(int(index))
                values.append(float(value))
        except ValueError:
            raise MXNetError(f"LibSVMIter: {fname} line {number}: {line.strip()[:60]!r} is not "
                             "'label index:value ...'") from None
        outside = [c for c in row_columns if not 0 <= c < width]
        if outside:
            raise MXNetError(f"LibSVMIter: {fname} line {number}: column index {outside[0]} is out of range for "
                             f"the {what} shape ({width},) (indices are zero-based)")
        if any(b <= a for a, b in zip(row_columns, row_columns[1:])):
            raise MXNetError(f"LibSVMIter: {fname} line {number}: column indices must be in ascending order")
        columns.extend(row_columns)
        indptr.append(len(columns))
    return (np.array(values, np.float32), np.array(columns, np.int64), np.array(indptr, np.int64),
            np.array(labels, np.float32))


class _CSRBatches:
    """MXNet's sparse BatchLoader (round_batch only): an _InstanceBatcher over the row numbers picks the rows
    of each batch, which are then cut out of the CSR parts."""

    def __init__(self, data, label, batch_size):
        self.rows, self.row_labels = data, label
        count = data[2].size - 1
        self._order = _InstanceBatcher(np.arange(count), np.arange(count), batch_size, True, "LibSVMIter")
        self.data = self.label = None

    pad = property(lambda self: self._order.pad)
    index = property(lambda self: self._order.index)

    def reset(self):
        self._order.reset()

    def advance(self):
        if not self._order.advance():
            return False
        picked = self._order.data
        self.data = _csr_rows(self.rows, picked)
        labels = self.row_labels
        self.label = _csr_rows(labels, picked) if isinstance(labels, tuple) else array(labels[picked])
        return True


def _csr_rows(parts, rows):
    """A CSRNDArray of rows `rows` of the CSR (values, columns, indptr, width)."""
    values, columns, indptr, width = parts
    starts, ends = indptr[rows], indptr[rows + 1]
    take = np.concatenate([np.arange(s, e) for s, e in zip(starts, ends)]) if len(rows) else np.zeros(0, int)
    new_indptr = np.concatenate([[0], np.cumsum(ends - starts)])
    return csr_matrix((values[take], columns[take], new_indptr), shape=(len(rows), width))


def LibSVMIter(*args, **kwargs):
    """Batches of CSR rows from a zero-based LibSVM file (or directory of files) `data_libsvm`, each row of
    width `data_shape` (1-d). Labels are the rows' first column (float32, shape (batch_size,)), or, with
    `label_libsvm`, the CSR rows of that file (shape (batch_size,) + `label_shape`). The last batch is
    completed from the start (round_batch, the only mode MXNet supports) and the next epoch starts after
    the borrowed rows. `num_parts`/`part_index` read one of dmlc-core's byte-range parts."""
    p = _params("LibSVMIter", args, kwargs, {
        "data_libsvm": (str, None), "data_shape": ("shape", None), "label_libsvm": (str, "NULL"),
        "label_shape": ("shape", (1,)), "num_parts": (int, 1), "part_index": (int, 0),
        "batch_size": (int, None), "round_batch": (bool, True), "dtype": (str, "float32")})
    if len(p["data_shape"]) != 1:
        raise MXNetError(f"LibSVMIter: data_shape must have one dimension, got {p['data_shape']}")
    if p["num_parts"] < 1 or not 0 <= p["part_index"] < p["num_parts"]:
        raise MXNetError(f"LibSVMIter: part_index {p['part_index']} must be in [0, num_parts={p['num_parts']})")
    if not p["round_batch"]:
        raise MXNetError("LibSVMIter: round_batch = False is not supported for sparse data iterator")
    if p["dtype"] not in ("float32", "None"):
        raise MXNetError(f"LibSVMIter: dtype {p['dtype']} is not supported; LibSVM values are float32")
    if p["batch_size"] < 1:
        raise MXNetError(f"LibSVMIter: batch_size must be at least 1, got {p['batch_size']}")
    width = p["data_shape"][0]
    *data, labels = _parse_rows(_lines_of_part(p["data_libsvm"], p["num_parts"], p["part_index"]), width, "data")
    if data[2].size == 1:
        raise MXNetError(f"LibSVMIter: {p['data_libsvm']} part {p['part_index']} has no rows")
    if p["label_libsvm"] == "NULL":
        if p["label_shape"] != (1,):
            raise MXNetError(f"LibSVMIter: label_shape must be (1,) without label_libsvm, got {p['label_shape']}")
        label = labels
    else:
        if len(p["label_shape"]) != 1 or p["label_shape"][0] < 2:
            raise MXNetError(f"LibSVMIter: label_shape must be 1-d and larger than (1,) with label_libsvm, got "
                             f"{p['label_shape']}")
        *label, _ = _parse_rows(_lines_of_part(p["label_libsvm"], p["num_parts"], p["part_index"]),
                                p["label_shape"][0], "label")
        if label[2].size < data[2].size:
            raise MXNetError(f"LibSVMIter: {p['label_libsvm']} has {label[2].size - 1} rows, fewer than the "
                             f"{data[2].size - 1} rows of {p['data_libsvm']}")
        label = tuple(label) + (p["label_shape"][0],)
    source = _CSRBatches(tuple(data) + (width,), label, p["batch_size"])
    return MXDataIter(source, **kwargs)
