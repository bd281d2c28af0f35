"""mx.io: NDArrayIter's batching, padding, shuffling and last-batch modes, ResizeIter, PrefetchingIter,
CSVIter and MNISTIter on files written here (corrupt ones included), against hand-computed batches."""
import gc
import struct
import threading

import numpy as np
import pytest
import scipy.sparse as spsp

import mxcy as mx
from mxcy.base import MXNetError
from mxcy.io import DataBatch, DataDesc


def _column(n):
    return np.arange(n, dtype=np.float32).reshape(n, 1)


def _epoch(it):
    """[(data rows, label rows, pad)] of one pass, as flat lists."""
    return [(b.data[0].asnumpy().ravel().tolist(), b.label[0].asnumpy().ravel().tolist() if b.label else None,
             b.pad) for b in it]


# --- DataDesc / DataBatch ---------------------------------------------------------------------------------
def test_datadesc_is_a_name_shape_tuple_with_dtype_and_layout():
    d = DataDesc("data", (4, 3), np.int32, layout="TNC")
    assert d == ("data", (4, 3)) and d.name == "data" and d.shape == (4, 3)
    assert d.dtype is np.int32 and d.layout == "TNC"
    assert repr(d) == "DataDesc[data,(4, 3),<class 'numpy.int32'>,TNC]"
    assert DataDesc("x", (1,)).dtype is np.float32 and DataDesc("x", (1,)).layout == "NCHW"
    name, shape = d
    assert (name, shape) == ("data", (4, 3))


@pytest.mark.parametrize("layout, axis", [("NCHW", 0), ("TNC", 1), ("NTC", 0), (None, 0), ("CHW", -1)])
def test_get_batch_axis(layout, axis):
    assert DataDesc.get_batch_axis(layout) == axis


def test_get_list_with_and_without_types():
    descs = DataDesc.get_list([("a", (2, 3)), ("b", (2,))], [("b", np.int64), ("a", np.float16)])
    assert [(d.name, d.shape, d.dtype) for d in descs] == [("a", (2, 3), np.float16), ("b", (2,), np.int64)]
    assert [d.dtype for d in DataDesc.get_list([("a", (1,))], None)] == [np.float32]


def test_databatch_str_and_type_checks():
    assert str(DataBatch([mx.nd.ones((2, 3))])) == "DataBatch: data shapes: [(2, 3)] label shapes: None"
    assert str(DataBatch([mx.nd.ones((2, 3))], [mx.nd.ones((4, 5))])) == \
        "DataBatch: data shapes: [(2, 3)] label shapes: [(4, 5)]"
    with pytest.raises(AssertionError):
        DataBatch(mx.nd.ones((2, 3)))


# --- NDArrayIter ------------------------------------------------------------------------------------------
def test_pad_fills_the_last_batch_from_the_start():
    it = mx.io.NDArrayIter(_column(10), _column(10) * 10, batch_size=4)
    expected = [([0, 1, 2, 3], [0, 10, 20, 30], 0), ([4, 5, 6, 7], [40, 50, 60, 70], 0),
                ([8, 9, 0, 1], [80, 90, 0, 10], 2)]
    assert _epoch(it) == expected
    it.reset()
    assert _epoch(it) == expected


def test_pad_larger_than_the_data_repeats_it():
    it = mx.io.NDArrayIter(np.arange(3), batch_size=8)
    assert _epoch(it) == [([0, 1, 2, 0, 1, 2, 0, 1], None, 5)]


def test_discard_drops_the_short_batch():
    it = mx.io.NDArrayIter(_column(10), _column(10), batch_size=4, last_batch_handle="discard")
    assert [d for d, _, _ in _epoch(it)] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    it.reset()
    assert len(_epoch(it)) == 2


def test_roll_over_carries_the_rest_into_the_next_epoch():
    it = mx.io.NDArrayIter(_column(10), _column(10) * 10, batch_size=4, last_batch_handle="roll_over")
    assert _epoch(it) == [([0, 1, 2, 3], [0, 10, 20, 30], 0), ([4, 5, 6, 7], [40, 50, 60, 70], 0)]
    it.reset()  # 8, 9 were left over: they open the next epoch, the pad counts them
    assert _epoch(it) == [([8, 9, 0, 1], [80, 90, 0, 10], 2), ([2, 3, 4, 5], [20, 30, 40, 50], 0),
                          ([6, 7, 8, 9], [60, 70, 80, 90], 0)]
    it.reset()  # that epoch ended evenly: nothing to carry
    assert [d for d, _, _ in _epoch(it)] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    it.hard_reset()
    assert [d for d, _, _ in _epoch(it)] == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_roll_over_without_labels():
    it = mx.io.NDArrayIter(np.arange(5), batch_size=3, last_batch_handle="roll_over")
    assert _epoch(it) == [([0, 1, 2], None, 0)]
    it.reset()
    assert _epoch(it) == [([3, 4, 0], None, 2), ([1, 2, 3], None, 0)]


def test_names_and_order_of_list_and_dict_inputs():
    it = mx.io.NDArrayIter([_column(4), _column(4) + 1], {"y": _column(4), "x": np.zeros((4, 2))}, batch_size=2)
    assert [(d.name, d.shape) for d in it.provide_data] == [("_0_data", (2, 1)), ("_1_data", (2, 1))]
    assert [(d.name, d.shape) for d in it.provide_label] == [("x", (2, 2)), ("y", (2, 1))]
    batch = it.next()
    assert batch.data[1].asnumpy().ravel().tolist() == [1, 2]
    assert batch.label[1].asnumpy().ravel().tolist() == [0, 1]
    named = mx.io.NDArrayIter(_column(4), _column(4), batch_size=2, data_name="img", label_name="lbl")
    assert [d.name for d in named.provide_data + named.provide_label] == ["img", "lbl"]


def test_numpy_becomes_float32_ndarray_keeps_its_dtype():
    it = mx.io.NDArrayIter(np.arange(4, dtype=np.float64), mx.nd.array([1, 2, 3, 4], dtype="int32"), batch_size=2)
    assert it.provide_data[0].dtype == np.float32 and it.provide_label[0].dtype == np.int32
    batch = it.next()
    assert batch.data[0].dtype == np.float32 and batch.label[0].dtype == np.int32


def test_batches_are_copies_of_the_examples():
    """As MXNet's slice_axis: writing into a batch leaves the source, and the next epoch's batch, unchanged."""
    source = mx.nd.array(_column(4))
    it = mx.io.NDArrayIter(source, batch_size=2)
    batch = it.next()
    batch.data[0][:] = -1
    source[1:2] = 7  # a write pushed after the iterator read: later epochs see it
    np.testing.assert_array_equal(it.next().data[0].asnumpy().ravel(), [2, 3])
    it.reset()
    np.testing.assert_array_equal(it.next().data[0].asnumpy().ravel(), [0, 7])


def test_shuffle_permutes_examples_and_labels_together():
    np.random.seed(3)
    it = mx.io.NDArrayIter(_column(6), _column(6) * 10, batch_size=2, shuffle=True)
    order = np.arange(6)
    np.random.RandomState(3).shuffle(order)  # NDArrayIter shuffles with NumPy's global generator
    assert it.idx.tolist() == order.tolist()
    rows = [r for d, _, _ in _epoch(it) for r in d]
    labels = [r for b in (it.reset() or it) for r in b.label[0].asnumpy().ravel().tolist()]
    assert rows == order.tolist()
    assert sorted(labels) == [0, 10, 20, 30, 40, 50] and len(set(labels)) == 6


def test_getpad_and_provide_shapes_follow_the_layout():
    data = np.zeros((4, 5, 3))
    it = mx.io.NDArrayIter(data, batch_size=2, layout="TNC")
    assert it.provide_data[0].shape == (4, 2, 3) and it.provide_data[0].layout == "TNC"


def test_csr_needs_discard_and_yields_csr_rows():
    dense = np.array([[0, 1, 0], [2, 0, 0], [0, 0, 3], [4, 5, 0], [0, 6, 0]], dtype=np.float32)
    with pytest.raises(NotImplementedError):
        mx.io.NDArrayIter({"data": spsp.csr_matrix(dense)}, dense, 2)
    it = mx.io.NDArrayIter({"data": mx.nd.array(dense).tostype("csr")}, dense[:, :1], 2, last_batch_handle="discard")
    batches = list(it)
    assert len(batches) == 2
    assert isinstance(batches[0].data[0], mx.nd.sparse.CSRNDArray)
    np.testing.assert_array_equal(batches[1].data[0].asnumpy(), dense[2:4])
    np.testing.assert_array_equal(batches[1].label[0].asnumpy(), dense[2:4, :1])


def test_bad_arguments():
    with pytest.raises(ValueError, match="last_batch_handle"):
        mx.io.NDArrayIter(_column(4), batch_size=2, last_batch_handle="wrap")
    with pytest.raises(TypeError):
        mx.io.NDArrayIter("not an array", batch_size=2)


# --- ResizeIter / PrefetchingIter ------------------------------------------------------------------------
def test_resize_iter_cycles_and_truncates():
    inner = mx.io.NDArrayIter(_column(6), batch_size=2)
    it = mx.io.ResizeIter(inner, 5)
    assert [d for d, _, _ in _epoch(it)] == [[0, 1], [2, 3], [4, 5], [0, 1], [2, 3]]
    it.reset()
    assert len(_epoch(it)) == 5
    short = mx.io.ResizeIter(mx.io.NDArrayIter(_column(6), batch_size=2), 2)
    assert [d for d, _, _ in _epoch(short)] == [[0, 1], [2, 3]]
    assert short.provide_data == inner.provide_data and short.batch_size == 2


def _prefetch_threads():
    return [t for t in threading.enumerate() if t.name == "PrefetchingIter"]


def test_prefetching_iter_joins_iterators_in_order():
    a = mx.io.NDArrayIter({"data": _column(5)}, _column(5), batch_size=2)
    b = mx.io.NDArrayIter({"data": _column(5) + 100}, _column(5), batch_size=2)
    it = mx.io.PrefetchingIter([a, b], rename_data=[{"data": "a"}, {"data": "b"}])
    assert [d.name for d in it.provide_data] == ["a", "b"] and it.batch_size == 2
    for epoch in range(2):
        got = [(x.data[0].asnumpy().ravel().tolist(), x.data[1].asnumpy().ravel().tolist(), x.pad) for x in it]
        assert got == [([0, 1], [100, 101], 0), ([2, 3], [102, 103], 0), ([4, 0], [104, 100], 1)], epoch
        assert not it.iter_next()
        it.reset()
    assert len(_prefetch_threads()) == 1
    del it
    gc.collect()
    assert _prefetch_threads() == []


def test_prefetching_iter_raises_the_inner_error_here():
    class Broken(mx.io.DataIter):
        provide_data = [DataDesc("data", (2, 1))]
        provide_label = []

        def next(self):
            raise MXNetError("disk on fire")

    it = mx.io.PrefetchingIter(Broken())
    with pytest.raises(MXNetError, match="disk on fire"):
        it.next()
    del it
    gc.collect()
    assert _prefetch_threads() == []


def test_prefetching_iter_mismatched_lengths():
    it = mx.io.PrefetchingIter([mx.io.NDArrayIter(_column(4), batch_size=2),
                                mx.io.NDArrayIter(_column(2), batch_size=2)])
    it.next()
    with pytest.raises(MXNetError, match="mismatch"):
        it.next()


# --- CSVIter -----------------------------------------------------------------------------------------------
@pytest.fixture
def csv4(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("1,2,3\n2,3,4\n3,4,5\n4,5,6\n")
    return str(path)


def _rows(it):
    return [(b.data[0].asnumpy()[:, 0].tolist(), b.pad, b.index.tolist()) for b in it]


def test_csv_round_batch_wraps_and_the_next_epoch_starts_after_the_borrowed_rows(csv4):
    # MXNet 1.9.1's CSVIter docstring example (first column of each row), checked on MXNet 1.9.1 itself
    it = mx.io.CSVIter(data_csv=csv4, data_shape=(3,), batch_size=3)
    assert [(d.name, d.shape, d.dtype) for d in it.provide_data] == [("data", (3, 3), np.float32)]
    assert [(d.name, d.shape) for d in it.provide_label] == [("softmax_label", (3,))]
    assert _rows(it) == [([1, 2, 3], 0, [0, 1, 2]), ([4, 1, 2], 2, [3, 0, 1])]
    it.reset()
    assert _rows(it) == [([3, 4, 1], 1, [2, 3, 0])]
    it.reset()
    assert _rows(it) == [([2, 3, 4], 0, [1, 2, 3])]


def test_csv_without_round_batch_pads(csv4):
    it = mx.io.CSVIter(data_csv=csv4, data_shape=(3,), batch_size=3, round_batch=False)
    for _ in range(2):
        # the padded tail keeps the previous batch's rows, as MXNet's reused batch buffer does
        assert _rows(it) == [([1, 2, 3], 0, [0, 1, 2]), ([4, 2, 3], 2, [3, 1, 2])]
        it.reset()


def test_csv_labels_shapes_and_int_dtype(csv4, tmp_path):
    labels = tmp_path / "label.csv"
    labels.write_text("1,1\n2,2\n3,3\n4,4\n")
    it = mx.io.CSVIter(data_csv=csv4, data_shape="(1,3)", label_csv=str(labels), label_shape=(2,),
                       batch_size=2, dtype="int32")
    assert it.provide_data[0].shape == (2, 1, 3) and it.provide_label[0].shape == (2, 2)
    batches = list(it)
    assert batches[1].data[0].dtype == np.int32 and batches[1].label[0].dtype == np.int32
    assert batches[1].data[0].asnumpy().tolist() == [[[3, 4, 5]], [[4, 5, 6]]]
    assert batches[1].label[0].asnumpy().tolist() == [[3, 3], [4, 4]]
    big = tmp_path / "big.csv"
    big.write_text("2147483648\n")
    assert mx.io.CSVIter(data_csv=str(big), data_shape=(1,), batch_size=1, dtype="int64").next() \
        .data[0].asnumpy().tolist() == [[2147483648]]


@pytest.mark.parametrize("text, match", [
    ("1,2,3\n2,3\n", r"data\.csv line 2: the row has 2 values"),
    ("1,2,3\n1,x,3\n", r"data\.csv line 2: .* not a row of numbers"),
])
def test_csv_bad_rows_name_file_and_line(tmp_path, text, match):
    path = tmp_path / "data.csv"
    path.write_text(text)
    with pytest.raises(MXNetError, match=match):
        mx.io.CSVIter(data_csv=str(path), data_shape=(3,), batch_size=1)


def test_csv_bad_arguments(csv4, tmp_path):
    with pytest.raises(MXNetError, match="float16 is not supported"):
        mx.io.CSVIter(data_csv=csv4, data_shape=(3,), batch_size=2, dtype="float16")
    with pytest.raises(TypeError, match="keyword"):
        mx.io.CSVIter(csv4, data_shape=(3,), batch_size=2)
    with pytest.raises(MXNetError, match="data_shape"):
        mx.io.CSVIter(data_csv=csv4, batch_size=2)
    with pytest.raises(MXNetError, match="bigger than batch size"):  # 4 rows fill a batch of 5, not of 9
        mx.io.CSVIter(data_csv=csv4, data_shape=(3,), batch_size=9)
    assert [b.pad for b in mx.io.CSVIter(data_csv=csv4, data_shape=(3,), batch_size=5)] == [1]
    short = tmp_path / "label.csv"
    short.write_text("1\n")
    with pytest.raises(MXNetError, match="fewer than"):
        mx.io.CSVIter(data_csv=csv4, data_shape=(3,), label_csv=str(short), batch_size=2)
    with pytest.raises(MXNetError, match="cannot read"):
        mx.io.CSVIter(data_csv=str(tmp_path / "missing.csv"), data_shape=(3,), batch_size=2)


# --- MNISTIter ---------------------------------------------------------------------------------------------
def _write_idx(tmp_path, images, labels, image_magic=2051, label_magic=2049, cut=0):
    img, lab = tmp_path / "img-idx3-ubyte", tmp_path / "lab-idx1-ubyte"
    payload = struct.pack(">IIII", image_magic, *images.shape) + images.tobytes()
    img.write_bytes(payload[:len(payload) - cut])
    lab.write_bytes(struct.pack(">II", label_magic, len(labels)) + labels.tobytes())
    return str(img), str(lab)


@pytest.fixture
def mnist7(tmp_path):
    images = (np.arange(7 * 3 * 2) * 5 % 256).astype(np.uint8).reshape(7, 3, 2)
    labels = np.array([3, 1, 4, 1, 5, 9, 2], np.uint8)
    return images, labels, _write_idx(tmp_path, images, labels)


def test_mnist_batches_scale_by_1_256_and_drop_the_short_batch(mnist7):
    images, labels, (img, lab) = mnist7
    it = mx.io.MNISTIter(image=img, label=lab, batch_size=3, shuffle=False, silent=True)
    assert it.provide_data[0].shape == (3, 1, 3, 2) and it.provide_label[0].shape == (3,)
    batches = list(it)
    assert len(batches) == 2
    for k, b in enumerate(batches):
        np.testing.assert_array_equal(b.data[0].asnumpy(), images[3 * k:3 * k + 3, None] / np.float32(256))
        assert b.label[0].asnumpy().tolist() == labels[3 * k:3 * k + 3].tolist() and b.pad == 0
    it.reset()
    assert it.next().label[0].asnumpy().tolist() == [3, 1, 4]


def test_mnist_flat_and_parts(mnist7):
    images, labels, (img, lab) = mnist7
    it = mx.io.MNISTIter(image=img, label=lab, batch_size=2, shuffle=0, flat="1", silent=1, num_parts=2,
                         part_index=1)
    # 7 examples in 2 parts: part 1 is examples int(3.5)=3 .. 6
    assert it.provide_data[0].shape == (2, 6)
    assert [b.label[0].asnumpy().tolist() for b in it] == [[1, 5], [9, 2]]


def test_mnist_shuffle_keeps_pairs_and_follows_the_seed(mnist7):
    images, labels, (img, lab) = mnist7

    def first(seed):
        it = mx.io.MNISTIter(image=img, label=lab, batch_size=7, shuffle=True, seed=seed, silent=True)
        b = it.next()
        return b.data[0].asnumpy(), b.label[0].asnumpy(), b.index

    data, label, index = first(5)
    assert sorted(index.tolist()) == list(range(7)) and index.tolist() != list(range(7))
    np.testing.assert_array_equal(data, images[index.astype(int), None] / np.float32(256))
    np.testing.assert_array_equal(label, labels[index.astype(int)])
    np.testing.assert_array_equal(first(5)[2], index)


@pytest.mark.parametrize("kind, change, match", [
    ("magic", dict(image_magic=2049), r"img-idx3-ubyte is not an idx image file: magic number 2049"),
    ("truncated", dict(cut=5), r"img-idx3-ubyte is truncated"),
    ("count", dict(labels=np.zeros(6, np.uint8)), r"img-idx3-ubyte holds 7 images but .*lab-idx1-ubyte holds 6"),
])
def test_mnist_bad_files_name_the_file(tmp_path, kind, change, match):
    images = np.zeros((7, 3, 2), np.uint8)
    labels = change.pop("labels", np.zeros(7, np.uint8))
    img, lab = _write_idx(tmp_path, images, labels, **change)
    with pytest.raises(MXNetError, match=match):
        mx.io.MNISTIter(image=img, label=lab, batch_size=2)


def test_mnist_header_shorter_than_16_bytes_and_bad_part(tmp_path, mnist7):
    _, _, (img, lab) = mnist7
    stub = tmp_path / "stub"
    stub.write_bytes(b"\x00\x00\x08")
    with pytest.raises(MXNetError, match="stub is truncated"):
        mx.io.MNISTIter(image=str(stub), label=lab)
    with pytest.raises(MXNetError, match="part_index"):
        mx.io.MNISTIter(image=img, label=lab, num_parts=2, part_index=2)
    with pytest.raises(MXNetError, match="no batch"):
        mx.io.MNISTIter(image=img, label=lab, batch_size=8)
