"""The cumsum block-scan kernels, the CPU's threaded build and the CUDA twin (in the simulator), against NumPy's
float64 cumsum: forward and reversed, along first, middle and last axes, with one block and with several (axes longer
than a block: 4096+ elements on the CPU, 32+ on the GPU), under write and add requests, and an integer input summed in
int64 (cumsum of bool)."""
import numpy as np
import pytest
from numba import cuda

from mxcy.kernels import scan
from mxcy.kernels.common import REQ_ADD, REQ_WRITE
from mxcy.ops._nn_common import split3

CASES = [((7,), 0), ((2, 3, 4), 1), ((2, 3, 4), 0), ((2, 3, 4), 2), ((9000,), 0), ((1, 9000, 3), 1), ((150, 2), 0)]


def _reference(x, axis, reverse):
    if reverse:
        return np.flip(np.cumsum(np.flip(x, axis), axis), axis)
    return np.cumsum(x, axis)


def _run(device, x, prior, axis, reverse, req):
    shape = split3(x.shape, axis)
    if device == "cpu":
        out = prior.copy()
        scan.cumsum_cpu(x.reshape(shape), out.reshape(shape), reverse, req)
        return out
    out = cuda.to_device(prior.reshape(shape).copy())
    scan.cumsum_gpu(cuda.to_device(x.reshape(shape)), out, reverse, req)
    return out.copy_to_host().reshape(x.shape)


@pytest.mark.parametrize("device", ["cpu", pytest.param("gpu", marks=pytest.mark.cuda)])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("req", [REQ_WRITE, REQ_ADD])
@pytest.mark.parametrize("shape, axis", CASES)
def test_kernels_match_numpy(shape, axis, req, reverse, device):
    if device == "gpu" and np.prod(shape) > 1000:
        pytest.skip("the simulator runs one Python thread per lane: long axes take minutes")
    rng = np.random.default_rng(len(shape) + axis)
    x = rng.standard_normal(shape)
    prior = rng.standard_normal(shape) if req == REQ_ADD else np.full(shape, np.nan)
    got = _run(device, x, prior, axis, reverse, req)
    np.testing.assert_allclose(got, _reference(x, axis, reverse) + (prior if req == REQ_ADD else 0), rtol=1e-12,
                               atol=1e-10)


@pytest.mark.parametrize("device", ["cpu", pytest.param("gpu", marks=pytest.mark.cuda)])
def test_bool_input_sums_in_int64(device):
    x = np.random.default_rng(0).integers(0, 2, (3, 40)).astype(bool)
    got = _run(device, x, np.zeros(x.shape, np.int64), 1, False, REQ_WRITE)
    assert got.dtype == np.int64 and np.array_equal(got, np.cumsum(x, axis=1))
