"""The index_array kernels, the CPU's threaded build and the CUDA twin (in the simulator), against the reference of
tests/ops/test_contrib_misc.py, under write and add requests, with repeated and reordered axes."""
import numpy as np
import pytest
from numba import cuda

from mxcy.kernels import index_array
from mxcy.kernels.common import REQ_ADD, REQ_WRITE
from tests.ops.test_contrib_misc import _index_array


@pytest.mark.parametrize("device", ["cpu", pytest.param("gpu", marks=pytest.mark.cuda)])
@pytest.mark.parametrize("req", [REQ_WRITE, REQ_ADD])
def test_kernels_match_the_reference(req, device):
    shape, axes = (2, 3, 4), (2, 0, 2)
    want = _index_array(np.zeros(shape), axes)
    prior = np.arange(want.size, dtype=np.int64).reshape(want.shape)
    args = [np.array(a, np.int64) for a in (axes, (12, 4, 1), shape)]
    if device == "cpu":
        out = prior.copy()
        index_array.index_array_cpu(*args, out, req)
    else:
        out = cuda.to_device(prior)
        index_array.index_array_gpu(*[cuda.to_device(a) for a in args], out, req)
        out = out.copy_to_host()
    np.testing.assert_array_equal(out, want + (prior if req == REQ_ADD else 0))
