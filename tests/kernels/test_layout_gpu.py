"""The CUDA strided copy and per-axis gather (mxcy.kernels.layout_gpu) against NumPy views and np.pad, on tiny
arrays in the simulator when no GPU is present."""
import numpy as np
import pytest
from hypothesis import given, strategies as st
from numba import cuda

from mxcy.kernels import layout_gpu as L
from mxcy.kernels.common import REQ_ADD, REQ_NULL, REQ_WRITE

pytestmark = pytest.mark.cuda


def layout(view, base):
    """(element offset, element strides) of NumPy `view` inside its base array `base`."""
    size = base.itemsize
    return (view.ctypes.data - base.ctypes.data) // size, tuple(s // size for s in view.strides)


def run_copy(src_base, src_view, dst_base, dst_view, req):
    """dst_base after the kernel copies src_view into dst_view (both views of the given bases)."""
    d_dst = cuda.to_device(dst_base)
    (so, ss), (do, ds) = layout(src_view, src_base), layout(dst_view, dst_base)
    L.strided_copy_gpu(cuda.to_device(src_base), so, ss, d_dst, do, ds, src_view.shape, req)
    return d_dst.copy_to_host()


@st.composite
def views(draw, shape):
    """A view of an array of `shape`: each axis sliced (any step sign), then the axes permuted."""
    key = []
    for n in shape:
        step = draw(st.sampled_from([-2, -1, 1, 2]))
        start = draw(st.integers(0, n - 1))
        key.append(slice(start, None, step))
    return tuple(key), draw(st.permutations(range(len(shape))))


@st.composite
def copy_cases(draw):
    src_shape = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=4)))
    src_key, src_perm = draw(views(src_shape))
    shape = np.zeros(src_shape)[src_key].transpose(src_perm).shape
    broadcast = draw(st.booleans())  # a leading axis of zero stride in the source
    full = (2,) + shape if broadcast else shape
    dst_perm = draw(st.permutations(range(len(full))))
    flips = tuple(draw(st.sampled_from([1, -1])) for _ in full)
    return src_shape, src_key, src_perm, broadcast, dst_perm, flips


@given(case=copy_cases(), req=st.sampled_from([REQ_WRITE, REQ_ADD]),
       dtype=st.sampled_from([np.float32, np.float64, np.int32]))
def test_strided_copy_matches_numpy_views(case, req, dtype):
    src_shape, src_key, src_perm, broadcast, dst_perm, flips = case
    src = np.arange(np.prod(src_shape)).reshape(src_shape).astype(dtype)
    src_view = src[src_key].transpose(src_perm)
    if broadcast:
        src_view = np.broadcast_to(src_view, (2,) + src_view.shape)
    full = src_view.shape
    # the destination is a flipped, transposed view of a larger buffer's interior
    dst = np.full(tuple(full[p] + 2 for p in dst_perm), -7, dtype)
    interior = dst[tuple(slice(1, -1) for _ in full)]
    dst_view = interior.transpose(np.argsort(dst_perm))[tuple(slice(None, None, f) for f in flips)]
    expected = dst.copy()
    expected_view = expected[tuple(slice(1, -1) for _ in full)].transpose(np.argsort(dst_perm))[
        tuple(slice(None, None, f) for f in flips)]
    if req == REQ_ADD:
        expected_view += src_view
    else:
        expected_view[...] = src_view
    np.testing.assert_array_equal(run_copy(src, src_view, dst, dst_view, req), expected)


def test_strided_copy_beyond_max_dims_loops_on_the_host():
    src = np.arange(2 ** 8, dtype=np.float32).reshape((2,) * 8)
    src_view = src.transpose(7, 0, 6, 1, 5, 2, 4, 3)  # no two neighbouring axes merge
    assert len(L.merge_axes(src_view.shape, layout(src_view, src)[1], L.c_strides(src_view.shape))) == 8
    dst = np.zeros_like(src)
    np.testing.assert_array_equal(run_copy(src, src_view, dst, dst, REQ_WRITE), np.ascontiguousarray(src_view))


def test_strided_copy_null_request_and_empty_shape_write_nothing():
    src, dst = np.ones(4, np.float32), np.zeros(4, np.float32)
    np.testing.assert_array_equal(run_copy(src, src, dst, dst, REQ_NULL), dst)
    np.testing.assert_array_equal(run_copy(src, src[:0], dst, dst[:0], REQ_WRITE), dst)


def test_merge_axes_joins_axes_both_layouts_step_through_as_one():
    # a reversed contiguous source into a contiguous destination is one axis of stride -1
    assert L.merge_axes((2, 3), (-3, -1), (3, 1)) == [(6, -1, 1)]
    # size-1 axes vanish; a transposed pair stays two axes
    assert L.merge_axes((1, 2, 3), (5, 1, 2), (6, 3, 1)) == [(2, 1, 3), (3, 2, 1)]
    # zero strides merge with zero strides (tile's copies)
    assert L.merge_axes((2, 2, 4), (0, 0, 1), (8, 4, 1)) == [(4, 0, 4), (4, 1, 1)]


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect"])
@pytest.mark.parametrize("dtype", [np.float32, np.int32])
@pytest.mark.parametrize("req", [REQ_WRITE, REQ_ADD])
def test_axis_gather_pads_like_numpy(mode, dtype, req):
    x = np.arange(2 * 3 * 4).reshape(1, 2, 3, 4).astype(dtype)
    pairs = [(0, 0), (0, 0), (2, 1), (1, 2)]
    extra = {"constant_values": -1} if mode == "constant" else {}
    maps = [np.pad(np.arange(n), p, mode, **extra) for n, p in zip(x.shape, pairs)]
    prior = np.full((1, 2, 6, 7), 3, dtype)
    d_out = cuda.to_device(prior)
    L.axis_gather_gpu(cuda.to_device(x), maps, 2.5, d_out, req)
    padded = np.pad(x, pairs, mode, **({"constant_values": 2.5} if mode == "constant" else {}))
    np.testing.assert_array_equal(d_out.copy_to_host(), padded + prior if req == REQ_ADD else padded)
