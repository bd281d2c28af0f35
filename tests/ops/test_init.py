"""Creation ops (_zeros, _ones) and NumPy shape semantics: MXNet 1.9.1's legacy shapes call () and 0-size
dimensions unknown, so mx.nd.zeros / ones refuse them unless mx.util.np_shape() is on."""
import numpy as np
import pytest

import mxcy as mx


@pytest.mark.parametrize("make", [mx.nd.zeros, mx.nd.ones])
@pytest.mark.parametrize("shape", [(), (0,), (0, 1, 3, 0), (2, 0)])
def test_legacy_shapes_refuse_what_they_call_unknown(make, shape):
    with pytest.raises(mx.MXNetError, match=r"_(zeros|ones).*unknown without NumPy shape semantics"):
        make(shape)


@pytest.mark.parametrize("make, fill", [(mx.nd.zeros, np.zeros), (mx.nd.ones, np.ones)])
@pytest.mark.parametrize("shape", [(), (0,), (0, 1, 0, 4), (2, 0)])
def test_np_shape_creates_scalars_and_zero_size_arrays(make, fill, shape):
    with mx.util.np_shape():
        got = make(shape, dtype="int32")
        assert got.shape == shape
        np.testing.assert_array_equal(got.asnumpy(), fill(shape, np.int32))


def test_np_shape_arrays_flow_through_ops():
    # shapes as NumPy gives them (MXNet 1.9.1 printed the same)
    with mx.util.np_shape():
        joined = mx.nd.Concat(mx.nd.ones((0, 8, 2)), mx.nd.ones((3, 8, 2)), mx.nd.ones((0, 8, 2)), dim=0)
        assert joined.shape == (3, 8, 2)
        assert mx.nd.Concat(mx.nd.ones((0, 3, 1)), mx.nd.ones((0, 4, 1)), dim=1).shape == (0, 7, 1)
        assert mx.nd.tile(mx.nd.zeros((2, 0)), reps=(2, 2)).shape == (4, 0)
        assert (mx.nd.ones(()) + 1).asnumpy() == np.float32(2)
        with pytest.raises(mx.MXNetError, match="min.*empty"):
            mx.nd.zeros((5, 0)).min()


def test_graph_inference_keeps_legacy_unknown_dims_for_other_nodes_to_fill():
    # MXNet 1.9.1: ([(2, 10)], [(2, 10)], []) and ([], [(0, 10)], [])
    total = mx.sym.zeros(shape=(0, 10)) + mx.sym.var("x")
    assert total.infer_shape(x=(2, 10)) == ([(2, 10)], [(2, 10)], [])
    assert mx.sym.zeros(shape=(0, 10)).infer_shape_partial() == ([], [(0, 10)], [])
    with mx.util.np_shape():
        assert mx.sym.ones(shape=(0, 10)).infer_shape() == ([], [(0, 10)], [])
        assert mx.sym.ones(shape=(-1, 10)).infer_shape_partial() == ([], [(-1, 10)], [])


def test_mxcys_own_zero_size_buffers_need_no_np_shape():
    # MXNet 1.9.1 allocates gradients and executor arrays without _zeros: both work on zero-size shapes
    empty = mx.nd.array(np.zeros((0, 3)))
    empty.attach_grad()
    assert empty.grad.shape == (0, 3)
    assert mx.sym.linspace(0, 1, 0).eval()[0].shape == (0,)
    assert not mx.util.is_np_shape()
