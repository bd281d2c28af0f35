"""mx.io.LibSVMIter on LibSVM files written here: CSR batches, round_batch borrowing and the next epoch, CSR labels,
dmlc-core's byte-range parts (expected batches printed by MXNet 1.9.1 for the same file), and bad files."""
import numpy as np
import pytest

import mxcy as mx
from mxcy.base import MXNetError
from mxcy.ndarray.sparse import CSRNDArray

# MXNet 1.9.1's LibSVMIter docstring example
DATA = "1.0 0:0.5 2:1.2\n-2.0\n-3.0 0:0.6 1:2.4 2:1.2\n4 2:-1.2\n"
LABEL = "1.0\n-2.0 0:0.125\n-3.0 2:1.2\n4 1:1.0 2:-1.2\n"
ROWS = [[0.5, 0, 1.2], [0, 0, 0], [0.6, 2.4, 1.2], [0, 0, -1.2]]
LABEL_ROWS = [[0, 0, 0], [0.125, 0, 0], [0, 0, 1.2], [0, 1.0, -1.2]]


@pytest.fixture
def files(tmp_path):
    (tmp_path / "data.t").write_text(DATA)
    (tmp_path / "label.t").write_text(LABEL)
    return str(tmp_path / "data.t"), str(tmp_path / "label.t")


def _batches(it):
    out = []
    for batch in it:
        assert isinstance(batch.data[0], CSRNDArray)
        label = batch.label[0]
        out.append((batch.data[0].asnumpy().tolist(), label.asnumpy().tolist(), batch.pad))
    return out


def _rows(numbers, table=ROWS):
    return np.array([table[i] for i in numbers], np.float32).tolist()


def test_batches_borrow_from_the_start_and_the_next_epoch_starts_after_them(files):
    it = mx.io.LibSVMIter(data_libsvm=files[0], data_shape=(3,), batch_size=3)
    assert it.provide_data[0].shape == (3, 3) and it.provide_label[0].shape == (3,)
    assert _batches(it) == [(_rows([0, 1, 2]), [1, -2, -3], 0), (_rows([3, 0, 1]), [4, 1, -2], 2)]
    it.reset()  # MXNet 1.9.1 prints this second epoch: rows 2, 3, 0 with one borrowed row
    assert _batches(it) == [(_rows([2, 3, 0]), [-3, 4, 1], 1)]


def test_index_counts_rows(files):
    it = mx.io.LibSVMIter(data_libsvm=files[0], data_shape=(3,), batch_size=3)
    assert [b.index.tolist() for b in it] == [[0, 1, 2], [3, 0, 1]]


def test_label_file_gives_csr_labels(files):
    it = mx.io.LibSVMIter(data_libsvm=files[0], data_shape=(3,), label_libsvm=files[1], label_shape=(3,),
                          batch_size=3)
    batches = list(it)
    assert all(isinstance(b.label[0], CSRNDArray) for b in batches)
    assert [b.label[0].asnumpy().tolist() for b in batches] == [_rows([0, 1, 2], LABEL_ROWS),
                                                                _rows([3, 0, 1], LABEL_ROWS)]


@pytest.mark.parametrize("part, expected", [
    (0, [(_rows([0, 1]), [1, -2], 0), (_rows([2, 0]), [-3, 1], 1)]),
    (1, [(_rows([3, 3]), [4, 4], 1)])])
def test_parts_are_byte_ranges(files, part, expected):
    # 53 bytes cut in steps of 27: lines start at 0, 16, 21, 44, so the last line alone is part 1 (MXNet 1.9.1)
    it = mx.io.LibSVMIter(data_libsvm=files[0], data_shape=(3,), batch_size=2, num_parts=2, part_index=part)
    assert _batches(it) == expected


def test_directory_weights_and_qid(tmp_path):
    (tmp_path / "a.t").write_text("1:0.5 qid:3 1:2\n")
    (tmp_path / "b.t").write_text("0 0:1 # a comment\n")
    it = mx.io.LibSVMIter(data_libsvm=str(tmp_path), data_shape=(2,), batch_size=2)
    assert _batches(it) == [([[0, 2], [1, 0]], [1, 0], 0)]


@pytest.mark.parametrize("text, kwargs, message", [
    ("1 0:1\n2 5:1\n", {}, "line 2: column index 5 is out of range"),
    ("1 0:1\n2 -1:1 2:1\n", {}, "line 2: column index -1 is out of range"),
    ("1 0:1\n2 x\n", {}, "line 2: .* is not 'label index:value"),
    ("1 1:1 0:2\n", {}, "ascending"),
    ("1 0:1\n", {"round_batch": False}, "round_batch = False is not supported"),
    ("1 0:1\n", {"data_shape": (3, 1)}, "one dimension"),
    ("1 0:1\n", {"label_shape": (2,)}, "label_shape must be"),
    ("1 0:1\n", {"batch_size": 3}, "bigger than batch size"),
    ("1 0:1\n", {"part_index": 2, "num_parts": 2}, "part_index"),
    ("\n", {}, "has no rows"),
])
def test_bad_input_names_the_file_and_line(tmp_path, text, kwargs, message):
    path = tmp_path / "bad.t"
    path.write_text(text)
    args = {"data_libsvm": str(path), "data_shape": (3,), "batch_size": 1, **kwargs}
    with pytest.raises(MXNetError, match=message):
        mx.io.LibSVMIter(**args)


def test_missing_file_and_short_label_file(files, tmp_path):
    with pytest.raises(MXNetError, match="cannot read"):
        mx.io.LibSVMIter(data_libsvm=str(tmp_path / "none.t"), data_shape=(3,), batch_size=1)
    short = tmp_path / "short.t"
    short.write_text("0 0:1\n")
    with pytest.raises(MXNetError, match="has 1 rows, fewer than the 4 rows"):
        mx.io.LibSVMIter(data_libsvm=files[0], data_shape=(3,), label_libsvm=str(short), label_shape=(3,),
                         batch_size=2)
