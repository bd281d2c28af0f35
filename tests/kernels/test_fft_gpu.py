"""The CUDA fft / ifft kernels (in the simulator) against NumPy's FFT: unnormalised transforms of each row as
(real, imaginary) pairs, under write and add requests."""
import numpy as np
import pytest
from numba import cuda

from mxcy.kernels import fft_gpu
from mxcy.kernels.common import REQ_ADD, REQ_WRITE


@pytest.mark.cuda
@pytest.mark.parametrize("req", [REQ_WRITE, REQ_ADD])
def test_kernels_match_numpy(req):
    rng = np.random.default_rng(req)
    x = rng.standard_normal((2, 3, 6))
    spectrum = np.fft.fft(x, axis=-1)
    pairs = np.stack([spectrum.real, spectrum.imag], axis=-1).reshape(2, 3, 12)
    for kernel, src, want in ((fft_gpu.fft_gpu, x, pairs), (fft_gpu.ifft_gpu, pairs, 6 * x)):
        prior = rng.standard_normal(want.shape)
        out = cuda.to_device(prior)
        kernel(cuda.to_device(src), out, req)
        np.testing.assert_allclose(out.copy_to_host(), want + (prior if req == REQ_ADD else 0), rtol=1e-10,
                                   atol=1e-10, err_msg=kernel.__name__)
