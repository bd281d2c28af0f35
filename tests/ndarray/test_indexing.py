"""NDArray indexing against NumPy: reads, writes, views sharing the engine var, and errors."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import mxcy as mx


@st.composite
def array_and_basic_key(draw):
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=3)))
    key = []
    for d in shape[:draw(st.integers(1, len(shape)))]:
        if draw(st.booleans()):
            key.append(draw(st.integers(-d, d - 1)))
        else:
            key.append(slice(draw(st.one_of(st.none(), st.integers(-d, d))),
                             draw(st.one_of(st.none(), st.integers(-d, d))),
                             draw(st.sampled_from([None, 1, 2, -1]))))
    values = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    return values, tuple(key)


def _mxnet_read(values, key):
    out = values[key]
    return out.reshape(1) if out.ndim == 0 else out


@given(array_and_basic_key())
def test_basic_read_matches_numpy(case):
    values, key = case
    np.testing.assert_array_equal(mx.nd.array(values)[key].asnumpy(), _mxnet_read(values, key))


@given(array_and_basic_key(), st.floats(-5, 5, width=32))
def test_basic_write_matches_numpy(case, scalar):
    values, key = case
    a = mx.nd.array(values)
    expected = values.copy()
    expected[key] = scalar
    a[key] = scalar
    np.testing.assert_array_equal(a.asnumpy(), expected)
    target_shape = values[key].shape
    block = np.arange(int(np.prod(target_shape)), dtype=np.float32).reshape(target_shape) + 100
    expected[key] = block
    a[key] = mx.nd.array(block) if block.ndim else float(block)
    np.testing.assert_array_equal(a.asnumpy(), expected)


def test_integer_index_gives_shape_one_like_mxnet():
    a = mx.nd.array([[1, 2], [3, 4]])
    assert a[1, 0].shape == (1,) and a[1, 0].asscalar() == 3
    assert a[1].shape == (2,)


def test_contiguous_slices_are_views_sharing_the_var():
    a = mx.nd.zeros((4, 3))
    view = a[1:3]
    assert view._var is a._var
    view[:] = 7
    a[0] = 1
    assert a.asnumpy().tolist() == [[1] * 3, [7] * 3, [7] * 3, [0] * 3]
    assert view.asnumpy().tolist() == [[7] * 3] * 2


def test_strided_reads_copy():
    a = mx.nd.array(np.arange(12).reshape(3, 4))
    col = a[:, 1]
    a[:] = 0
    assert col.asnumpy().tolist() == [1, 5, 9]


def test_advanced_indexing():
    values = np.arange(20, dtype=np.float32).reshape(4, 5)
    a = mx.nd.array(values)
    idx = mx.nd.array([3, 0], dtype="int32")
    np.testing.assert_array_equal(a[idx].asnumpy(), values[[3, 0]])
    np.testing.assert_array_equal(a[[0, 2], [1, 4]].asnumpy(), values[[0, 2], [1, 4]])
    a[[1, 2]] = mx.nd.array([9, 9, 9, 9, 9])
    values[[1, 2]] = 9
    np.testing.assert_array_equal(a.asnumpy(), values)


def test_setitem_from_numpy_and_list():
    a = mx.nd.zeros((2, 2))
    a[0] = [1, 2]
    a[1] = np.array([3, 4])
    assert a.asnumpy().tolist() == [[1, 2], [3, 4]]


def test_indexing_errors():
    a = mx.nd.zeros((2, 3))
    with pytest.raises(mx.MXNetError, match=r"index .* shape \(2, 3\)"):
        a[5]
    with pytest.raises(mx.MXNetError, match="__setitem__"):
        a[0, 7] = 1
    with pytest.raises(mx.MXNetError, match=r"cannot assign a value of shape \(4,\)"):
        a[0] = mx.nd.ones((4,))


def test_indexing_gradient_through_autograd():
    x = mx.nd.array([1.0, 2.0, 3.0, 4.0])
    x.attach_grad()
    with mx.autograd.record():
        y = x[1:3] * 2 + x[[0, 0]]
    y.backward()
    assert x.grad.asnumpy().tolist() == [2, 2, 2, 0]


@pytest.mark.parametrize("shape, key", [((3,), 0), ((2, 3), (1, 2))])
def test_full_integer_index_waits_for_pending_writes(shape, key):
    import threading
    from mxcy import engine
    y = mx.nd.zeros(shape)
    y.wait_to_read()
    gate = threading.Event()

    def write():
        gate.wait(5)
        y._data[...] = 7

    engine.push(write, (), (y._var,))
    element = y[key]  # taken while the write is pending: must not read the value yet
    gate.set()
    assert element.shape == (1,) and element.asnumpy()[0] == 7


@pytest.mark.parametrize("ctx", [mx.cpu(), mx.gpu(0)], ids=["cpu", "gpu"])
def test_assigned_values_drop_leading_ones_as_mxnet(ctx):
    # MXNet 1.9.1 accepts a[0] = array([5]) and b[0] = array([[1, 2, 3]]) (printed by a real MXNet).
    a = mx.nd.zeros(2, ctx=ctx)
    a[0] = mx.nd.array([5], ctx=ctx)
    np.testing.assert_array_equal(a.asnumpy(), [5, 0])
    b = mx.nd.zeros((2, 3), ctx=ctx)
    b[0] = mx.nd.array([[1, 2, 3]], ctx=ctx)
    b[1, 1:] = mx.nd.array([[7, 8]], ctx=ctx)
    b[[0, 1], 0] = mx.nd.array([[[9]]], ctx=ctx)
    np.testing.assert_array_equal(b.asnumpy(), [[9, 2, 3], [9, 7, 8]])
    with pytest.raises(mx.MXNetError, match=r"shape \(2, 3\)"):
        b[0] = mx.nd.ones((2, 3), ctx=ctx)


def test_setitem_while_recording_a_graph_array_is_refused():
    # MXNet 1.9.1 refuses in-place writes involving recorded arrays with this message (test_ndarray_indexing)
    x = mx.nd.zeros((3, 4))
    y = mx.nd.ones((4,))
    y.attach_grad()
    with pytest.raises(mx.MXNetError, match=r"Inplace operations \(\+=, -=, x\[:\]=, etc\) are not supported"):
        with mx.autograd.record():
            x[1] = y
    with mx.autograd.record():
        x[...] = mx.nd.ones((3, 4))  # a whole-array copy is not an op on the tape, as in MXNet
        x[0] = 5.0  # neither x nor the value is in the graph
    assert x.asnumpy()[0].tolist() == [5.0] * 4 and x.asnumpy()[1:].tolist() == [[1.0] * 4] * 2


def test_full_integer_index_is_0d_under_np_shape():
    # MXNet 1.9.1: a[1, 1] and a[1][2] have shape () under np_shape, (1,) outside it
    a = mx.nd.array(np.arange(6).reshape(2, 3))
    with mx.util.np_shape():
        for got, want in ((a[1, 1], 4.0), (a[1][2], 5.0)):
            assert got.shape == () and got.asnumpy() == want
        with mx.autograd.record():
            assert a[0, 2].shape == ()
    assert a[1, 1].shape == (1,)


def test_full_slice_in_place_update_assigns_the_own_buffer_back():
    """`x[:] -= y` (Python's __getitem__, __isub__, __setitem__ of the same buffer): the update lands once, after
    pending writes; the self-assignment at its end copies nothing."""
    x = mx.nd.array([1.0, 2.0, 3.0])
    y = mx.nd.array([0.5, 0.5, 0.5])
    x += 1  # pending when the update starts
    x[:] -= y * 2
    np.testing.assert_array_equal(x.asnumpy(), [1.0, 2.0, 3.0])
    x[:] = x[:]
    np.testing.assert_array_equal(x.asnumpy(), [1.0, 2.0, 3.0])


def test_full_slice_assignment_into_and_from_sparse_arrays():
    """x[:] = y where either side is sparse (a backward writing a dense gradient into a CSR .grad) copies."""
    dense = mx.nd.array([[0.0, 2.0, 0.0], [1.0, 0.0, 3.0]])
    csr = mx.nd.zeros((2, 3)).tostype("csr")
    csr[:] = dense
    np.testing.assert_array_equal(csr.asnumpy(), dense.asnumpy())
    target = mx.nd.zeros((2, 3))
    target[:] = csr
    np.testing.assert_array_equal(target.asnumpy(), dense.asnumpy())
