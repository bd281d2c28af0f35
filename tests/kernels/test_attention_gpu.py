"""The CUDA attention-matmul kernels (in the simulator) against NumPy einsums, on interleaved inputs read at a column
offset, under write and add requests; MAX_Z is lowered so that the attention batches span several launches."""
import numpy as np
import pytest
from numba import cuda

from mxcy.kernels import attention_gpu
from mxcy.kernels.common import REQ_ADD, REQ_WRITE

Z, SA, SB, WIDTH, D = 5, 3, 4, 7, 2   # a part of D columns starts at column OFF of a WIDTH-wide input
OFF = 3


@pytest.mark.cuda
@pytest.mark.parametrize("req", [REQ_WRITE, REQ_ADD])
def test_kernels_match_einsum(monkeypatch, req):
    monkeypatch.setattr(attention_gpu, "MAX_Z", 2)
    rng = np.random.default_rng(req)
    a, b = rng.standard_normal((SA, Z, WIDTH)), rng.standard_normal((SB, Z, WIDTH))
    w = rng.standard_normal((Z, SA, SB))
    pa, pb = a[:, :, OFF:OFF + D], b[:, :, OFF:OFF + D]
    cases = [  # (kernel, arguments before the output, output shape, output view, expected product)
        (attention_gpu.scores_gpu, (a, OFF, b, OFF, D), (Z, SA, SB), lambda o: o,
         0.5 * np.einsum("izf,jzf->zij", pa, pb)),
        (attention_gpu.mix_gpu, (w, b, OFF, D), (SA, Z, WIDTH), lambda o: o[:, :, 1:1 + D],
         0.5 * np.einsum("zij,jzf->izf", w, pb)),
        (attention_gpu.mix_t_gpu, (w, a, OFF, D), (SB, Z, WIDTH), lambda o: o[:, :, 1:1 + D],
         0.5 * np.einsum("zij,izf->jzf", w, pa)),
    ]
    for kernel, args, shape, view, want in cases:
        prior = rng.standard_normal(shape)
        out = cuda.to_device(prior)
        offset = () if kernel is attention_gpu.scores_gpu else (1,)
        kernel(*[cuda.to_device(x) if isinstance(x, np.ndarray) else x for x in args], out, *offset, 0.5, req)
        got = out.copy_to_host()
        expected = prior.copy()
        view(expected)[...] = want + (view(prior) if req == REQ_ADD else 0)
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12, err_msg=kernel.__name__)
