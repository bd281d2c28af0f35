"""The CUDA index-driven kernels (mxcy.kernels.gather_gpu) and elementwise choices (mxcy.kernels.select_gpu)
against NumPy's take, take_along_axis, put_along_axis, add.at, fancy assignment, where and the clip formula,
on tiny arrays in the simulator when no GPU is present."""
import numpy as np
import pytest
from hypothesis import given, strategies as st
from numba import cuda

from mxcy.kernels import gather_gpu as G, select_gpu as S
from mxcy.kernels.common import REQ_ADD, REQ_WRITE

pytestmark = pytest.mark.cuda

REQS = [REQ_WRITE, REQ_ADD]


def run(fn, out_shape, dtype, req, *args):
    """fn(*device args, out, ...) on a prior of ones; returns (result, prior)."""
    prior = np.ones(out_shape, dtype)
    d_out = cuda.to_device(prior)
    fn(d_out, *args)
    return d_out.copy_to_host(), prior


def expect(got, want, prior, req):
    np.testing.assert_array_equal(got, want + prior if req == REQ_ADD else want)


@st.composite
def three_axes(draw):
    """(outer, n, inner) sizes and an axis-1 index set of length k with repeats."""
    outer, n, inner = (draw(st.integers(1, 3)) for _ in range(3))
    pos = np.array(draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=4)), np.int64)
    return outer, n, inner, pos


@given(case=three_axes(), req=st.sampled_from(REQS))
def test_take_rows(case, req):
    outer, n, inner, pos = case
    src = np.arange(outer * n * inner, dtype=np.float32).reshape(outer, n, inner)
    got, prior = run(lambda out: G.take_gpu(cuda.to_device(src), cuda.to_device(pos), out, n, inner, req),
                     (outer, len(pos), inner), np.float32, req)
    expect(got, np.take(src, pos, 1), prior, req)


@given(case=three_axes(), req=st.sampled_from(REQS))
def test_pick_and_unpick(case, req):
    outer, n, inner, _ = case
    rng = np.random.default_rng(outer * 100 + n * 10 + inner)
    pos = rng.integers(0, n, size=(outer, inner))
    src = np.arange(outer * n * inner, dtype=np.float64).reshape(outer, n, inner)
    d_pos = cuda.to_device(pos)
    got, prior = run(lambda out: G.pick_gpu(cuda.to_device(src), d_pos, out, n, inner, req), (outer, inner),
                     np.float64, req)
    expect(got, np.take_along_axis(src, pos[:, None], 1)[:, 0], prior, req)
    grad = np.arange(outer * inner, dtype=np.float64).reshape(outer, inner) + 1
    placed = np.zeros((outer, n, inner))
    np.put_along_axis(placed, pos[:, None], grad[:, None], 1)
    got, prior = run(lambda out: G.unpick_gpu(cuda.to_device(grad), d_pos, out, n, inner, req),
                     (outer, n, inner), np.float64, req)
    expect(got, placed, prior, req)


@given(case=three_axes(), req=st.sampled_from(REQS))
def test_segment_sum_adds_like_add_at(case, req):
    outer, n, inner, pos = case
    rng = np.random.default_rng(len(pos))
    src = rng.standard_normal((outer, len(pos), inner)).astype(np.float32)
    # the plan: rows sorted stably, each distinct row with where its run starts
    order = np.argsort(pos, kind="stable")
    targets, starts = np.unique(pos[order], return_index=True)
    got, prior = run(lambda out: G.segment_sum_gpu(cuda.to_device(src), cuda.to_device(order),
                                                   cuda.to_device(np.append(starts, len(pos))), out,
                                                   cuda.to_device(targets), len(pos), n, inner, req),
                     (outer, n, inner), np.float32, req)
    sums = np.zeros((outer, n, inner), np.float32)
    np.add.at(sums, (slice(None), pos), src)  # same order of additions, in float32: equal bit for bit
    want = prior.copy()  # rows no position names are left alone
    want[:, targets] = sums[:, targets] + (prior[:, targets] if req == REQ_ADD else 0)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("req", REQS)
def test_put_rows_writes_only_the_listed_rows(req):
    src = np.arange(8, dtype=np.int32).reshape(4, 2) + 10
    src_rows, dst_rows = np.array([3, 0, 2]), np.array([1, 4, 0])
    got, prior = run(lambda out: G.put_rows_gpu(cuda.to_device(src), cuda.to_device(src_rows), out,
                                                cuda.to_device(dst_rows), 2, req), (5, 2), np.int32, req)
    want = prior.copy()
    if req == REQ_ADD:
        want[dst_rows] += src[src_rows]
    else:
        want[dst_rows] = src[src_rows]
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("req", REQS)
@pytest.mark.parametrize("per_row", [False, True])
def test_where(req, per_row):
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    cond = np.array([0.0, -2.5]) if per_row else np.array([[1, 0, 2], [0, 0, np.nan]])
    got, prior = run(lambda out: S.where_gpu(cuda.to_device(cond), cuda.to_device(x), cuda.to_device(-x), out,
                                             req), x.shape, np.float32, req)
    expect(got, np.where((cond[:, None] if per_row else cond) != 0, x, -x), prior, req)


@pytest.mark.parametrize("a_min,a_max", [(-1.0, 1.5), (2.0, -0.5), (0.1, 0.1)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32])
@pytest.mark.parametrize("req", REQS)
def test_clip_tests_a_max_first(a_min, a_max, dtype, req):
    x = np.array([-3.0, -1.0, -0.5, 0.0, 0.1, 0.5, 1.5, 2.5, np.nan]).astype(dtype) if dtype != np.int32 else \
        np.arange(-3, 4, dtype=dtype)
    got, prior = run(lambda out: S.clip_gpu(cuda.to_device(x), out, a_min, a_max, req), x.shape, dtype, req)
    want = np.where(x > a_max, a_max, np.where(x < a_min, a_min, x)).astype(dtype)
    expect(got, want, prior, req)


@pytest.mark.parametrize("dtype", [np.float32, np.int32])
@pytest.mark.parametrize("req", REQS)
def test_one_hot_rows_out_of_range_stay_off(dtype, req):
    pos = np.array([0, 3, -1, 4, 2])
    got, prior = run(lambda out: S.one_hot_gpu(cuda.to_device(pos), out, 4, 2.5, -1.0, req), (5, 4), dtype, req)
    want = np.where(pos[:, None] == np.arange(4), 2.5, -1.0).astype(dtype)
    expect(got, want, prior, req)
