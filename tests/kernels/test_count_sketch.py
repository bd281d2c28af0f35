"""The count-sketch kernels, the CPU's threaded build and the CUDA twin (in the simulator), against the NumPy
reference of tests/ops/test_contrib_misc.py under write and add requests, with several columns hashed to one place."""
import numpy as np
import pytest
from numba import cuda

from mxcy.kernels import count_sketch
from mxcy.kernels.common import REQ_ADD, REQ_WRITE
from tests.ops.test_contrib_misc import _count_sketch


@pytest.mark.parametrize("device", ["cpu", pytest.param("gpu", marks=pytest.mark.cuda)])
@pytest.mark.parametrize("req", [REQ_WRITE, REQ_ADD])
def test_kernels_match_the_reference(req, device):
    rng = np.random.default_rng(req)
    data, out_dim = rng.standard_normal((3, 2, 7)), 4
    h = np.array([[0, 3, 3, 1, 0, 3, 2]], np.float64)
    s = rng.choice([-1.0, 1.0], (1, 7))
    prior = rng.standard_normal((3, 2, out_dim))
    want = _count_sketch(data, h, s, out_dim) + (prior if req == REQ_ADD else 0)
    positions = h.reshape(-1).astype(np.int64)
    if device == "cpu":
        out = prior.copy()
        count_sketch.sketch_cpu(data, positions, s, out, req)
    else:
        out = cuda.to_device(prior)
        count_sketch.sketch_gpu(cuda.to_device(data), cuda.to_device(positions), cuda.to_device(s), out, req)
        out = out.copy_to_host()
    np.testing.assert_allclose(out, want, rtol=1e-12, atol=1e-12)
