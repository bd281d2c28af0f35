"""DLPack exchange: capsules share memory with the NDArray both ways, are consumed once, and an array made
back from an exported capsule is ordered by the engine with the original."""
import gc

import numpy as np
import pytest

import mxcy as mx


@pytest.mark.parametrize("export", [mx.nd.to_dlpack_for_read, mx.nd.to_dlpack_for_write,
                                    mx.nd.NDArray.to_dlpack_for_write])
def test_round_trip_shares_memory_and_engine_order(export):
    x = mx.nd.ones((2, 3))
    x += 1  # pending when exported: the export waits for it
    u = mx.nd.from_dlpack(export(x))
    np.testing.assert_array_equal(u.asnumpy(), np.full((2, 3), 2.0))
    u += 5
    np.testing.assert_array_equal(x.asnumpy(), np.full((2, 3), 7.0))


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int8", "int32", "int64", "uint8", "bool"])
def test_numpy_capsules_import_without_copy(dtype):
    a = (np.arange(24) % 3).astype(dtype).reshape(2, 3, 4)[:, ::2, 1:]   # strided
    y = mx.nd.from_dlpack(a.__dlpack__())
    assert y.dtype == a.dtype and y.shape == a.shape and y.context == mx.cpu(0)
    np.testing.assert_array_equal(y.asnumpy(), a)
    a[1, 1, 0] = 1 if dtype != "bool" else False
    assert y.asnumpy()[1, 1, 0] == a[1, 1, 0]


def test_exports_reach_numpy_and_an_empty_array():
    x = mx.nd.array(np.arange(6.0).reshape(2, 3))
    view = np.from_dlpack(type("Producer", (), {"__dlpack__": lambda self, **kw: x.to_dlpack_for_read(),
                                                "__dlpack_device__": lambda self: (1, 0)})())
    np.testing.assert_array_equal(view, np.arange(6.0).reshape(2, 3))
    assert mx.nd.from_dlpack(np.zeros((0, 3), np.int32).__dlpack__()).shape == (0, 3)


def test_a_capsule_is_consumed_once_and_its_memory_outlives_the_producer():
    capsule = np.arange(4.0).__dlpack__()   # the producer array is gone after this line
    y = mx.nd.from_dlpack(capsule)
    gc.collect()
    np.testing.assert_array_equal(y.asnumpy(), np.arange(4.0))
    with pytest.raises(mx.MXNetError, match="consumed only once"):
        mx.nd.from_dlpack(capsule)
    with pytest.raises(mx.MXNetError, match="capsule"):
        mx.nd.from_dlpack("not a capsule")


def test_sparse_arrays_are_refused():
    with pytest.raises(mx.MXNetError, match="dense NDArray"):
        mx.nd.to_dlpack_for_read(mx.nd.sparse.csr_matrix(np.eye(2, dtype=np.float32)))
