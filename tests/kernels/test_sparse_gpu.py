"""The CUDA sparse-to-dense kernels (in the simulator) against NumPy: a CSR matrix with a repeated column in a row
(its entries add up, as SciPy's toarray) and a row_sparse array, under write and add requests."""
import numpy as np
import pytest
from numba import cuda

from mxcy.kernels import sparse_gpu
from mxcy.kernels.common import REQ_ADD, REQ_WRITE


@pytest.mark.cuda
@pytest.mark.parametrize("req", [REQ_WRITE, REQ_ADD])
def test_conversions_match_numpy(req):
    rng = np.random.default_rng(req)
    data, indices, indptr = np.array([1.0, 2.0, 3.0, 4.0]), np.array([2, 0, 2, 1]), np.array([0, 3, 3, 4])
    want = np.array([[2.0, 0, 4.0], [0, 0, 0], [0, 4.0, 0]])
    prior = rng.standard_normal(want.shape)
    out = cuda.to_device(prior)
    sparse_gpu.csr_todense_gpu(*[cuda.to_device(a) for a in (data, indices, indptr)], out, req)
    np.testing.assert_array_equal(out.copy_to_host(), want + (prior if req == REQ_ADD else 0))

    rows, stored = np.array([0, 3]), rng.standard_normal((2, 2, 3))
    want = np.zeros((5, 2, 3))
    want[rows] = stored
    prior = rng.standard_normal(want.shape)
    out = cuda.to_device(prior)
    sparse_gpu.rsp_todense_gpu(cuda.to_device(stored), cuda.to_device(rows), out, req)
    np.testing.assert_array_equal(out.copy_to_host(), want + (prior if req == REQ_ADD else 0))
