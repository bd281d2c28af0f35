"""The norm1/norm2 kinds of elemwise_gpu.reduce_gpu against float64 NumPy norms, through both of its paths
(a thread per output, and split blocks with a finishing pass), in the simulator."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import cuda

from mxcy.kernels import elemwise_gpu as E
from mxcy.kernels.common import REQ_ADD, REQ_NULL, REQ_WRITE

pytestmark = pytest.mark.cuda


def norm(x, axes, kind):
    x = x.astype(np.float64)
    return np.abs(x).sum(axis=axes) if kind == "norm1" else np.sqrt(np.square(x).sum(axis=axes))


def run(x, axes, kind, req, old):
    out = cuda.to_device(old)
    E.reduce_gpu(cuda.to_device(x), out, axes, kind, req)
    return out.copy_to_host()


@settings(max_examples=8)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=3), st.data(), st.sampled_from(["norm1", "norm2"]),
       st.sampled_from([np.float32, np.float64]), st.sampled_from([REQ_WRITE, REQ_ADD, REQ_NULL]))
def test_matches_numpy(shape, data, kind, dtype, req):
    axes = tuple(sorted(data.draw(st.sets(st.integers(0, len(shape) - 1), min_size=1))))
    x = np.random.default_rng(0).uniform(-2, 2, shape).astype(dtype)
    want = norm(x, axes, kind)
    old = np.linspace(-1, 1, want.size).reshape(want.shape).astype(dtype)
    want = {REQ_NULL: old, REQ_WRITE: want, REQ_ADD: old + want}[req]
    tol = dict(rtol=1e-6) if dtype == np.float32 else dict(rtol=1e-13)
    np.testing.assert_allclose(run(x, axes, kind, req, old), want, **tol)


@pytest.mark.parametrize("kind", ["norm1", "norm2"])
def test_long_reduction_through_split_blocks(kind, monkeypatch):
    # Shrink the split threshold so a small array takes the partial-sums path (roots only at the end).
    monkeypatch.setattr(E, "ROWS_MAX_COUNT", 4)
    monkeypatch.setattr(E, "SPLIT_ITEMS", 8)
    x = np.random.default_rng(1).uniform(-2, 2, (2, 40))
    np.testing.assert_allclose(run(x, (1,), kind, REQ_WRITE, np.zeros(2)), norm(x, (1,), kind), rtol=1e-13)


def test_integer_norm2_truncates_like_the_cpu_op():
    x = np.array([[3, 4], [1, 1]], np.int32)
    np.testing.assert_array_equal(run(x, (1,), "norm2", REQ_WRITE, np.zeros(2, np.int32)), [5, 1])
