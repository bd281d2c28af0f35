"""The fused convolution's inference epilogue (conv_epilogue) against a float64 NumPy BatchNorm, residual sum and
ReLU, on the CPU (threaded build: the kernel tests' threshold is 0), inside the convolution's own blocks
(conv_fwd_cpu's epilogue) and on the simulated GPU."""
import itertools

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import cuda

from mxcy.kernels import blas_cpu
from mxcy.kernels.common import REQ_WRITE
from mxcy.kernels.conv_cpu import conv_fwd_cpu
from mxcy.kernels.conv_epilogue import conv_epilogue_cpu, conv_epilogue_gpu
from tests.kernels.test_conv import ref_fwd


def problem(rng, N, O, P, dtype):
    y = rng.standard_normal((N, O, P)).astype(dtype)
    stats = [rng.standard_normal(O).astype(dtype) for _ in range(4)]  # bias, gamma, beta, mean
    var = (rng.random(O) + 0.1).astype(dtype)
    return y, stats, var, rng.standard_normal((N, O, P)).astype(dtype)


def reference(y, bias, gamma, beta, mean, var, eps, res, has_bias, has_res, relu):
    c = lambda a: a.astype(np.float64)[None, :, None]  # noqa: E731
    out = (y.astype(np.float64) + (c(bias) if has_bias else 0) - c(mean)) / np.sqrt(c(var) + eps) * c(gamma) + c(beta)
    if has_res:
        out = out + res
    return np.maximum(out, 0) if relu else out


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**16), N=st.integers(1, 3), O=st.integers(1, 9), P=st.integers(1, 70),
       dtype=st.sampled_from([np.float32, np.float64]), flags=st.sampled_from(list(itertools.product((0, 1), repeat=3))))
def test_cpu(seed, N, O, P, dtype, flags):
    has_bias, has_res, relu = map(bool, flags)
    y, (bias, gamma, beta, mean), var, res = problem(np.random.default_rng(seed), N, O, P, dtype)
    expect = reference(y, bias, gamma, beta, mean, var, 1e-5, res, has_bias, has_res, relu)
    conv_epilogue_cpu(y, bias, has_bias, gamma, beta, mean, var, 1e-5, res, has_res, relu)
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(y, expect, **tol)


def test_relu_maps_nan_to_zero_as_activation():
    y = np.array([[[np.nan, -1.0, 2.0]]])
    one, zero = np.ones(1), np.zeros(1)
    conv_epilogue_cpu(y, zero, False, one, zero, zero, one, 0.0, y, False, True)
    np.testing.assert_array_equal(y, [[[0, 0, 2]]])


@pytest.mark.cuda
@pytest.mark.parametrize("flags", [(1, 1, 1), (0, 0, 0), (1, 0, 1)])
def test_gpu_matches_cpu(flags):
    has_bias, has_res, relu = map(bool, flags)
    y, (bias, gamma, beta, mean), var, res = problem(np.random.default_rng(4), 2, 3, 5, np.float32)
    d_y = cuda.to_device(y)
    conv_epilogue_gpu(d_y, *(cuda.to_device(a) for a in (bias,)), has_bias,
                      *(cuda.to_device(a) for a in (gamma, beta, mean, var)), 1e-3, cuda.to_device(res), has_res, relu)
    conv_epilogue_cpu(y, bias, has_bias, gamma, beta, mean, var, 1e-3, res, has_res, relu)
    np.testing.assert_allclose(d_y.copy_to_host(), y, rtol=1e-6, atol=1e-6)


def test_rows_longer_than_the_scratch():
    y, (bias, gamma, beta, mean), var, res = problem(np.random.default_rng(5), 2, 3, 4096 + 37, np.float32)
    expect = reference(y, bias, gamma, beta, mean, var, 1e-3, res, True, True, True)
    conv_epilogue_cpu(y, bias, True, gamma, beta, mean, var, 1e-3, res, True, True)
    np.testing.assert_allclose(y, expect, rtol=1e-5, atol=1e-5)


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2 or not blas_cpu.AVAILABLE,
                    reason="the blocks over output channels need two threads and NumPy's BLAS")
@pytest.mark.parametrize("shape, kernel, stride, pad, fused", [
    ((1, 6, 5, 5), (9, 6, 1, 1), (1, 1), (0, 0), True),  # 1x1: GEMMs over output channels of the image
    ((1, 6, 7, 7), (9, 6, 3, 3), (2, 2), (1, 1), True),  # narrow output plane: im2col, then the same GEMMs
    ((3, 6, 7, 7), (9, 6, 3, 3), (2, 2), (1, 1), False),  # more images than threads: im2col GEMMs by image
])
@pytest.mark.parametrize("flags", [(1, 1, 1), (0, 0, 0), (1, 0, 1)])
def test_convolution_finished_in_its_blocks(shape, kernel, stride, pad, fused, flags):
    has_bias, has_res, relu = map(bool, flags)
    rng = np.random.default_rng(6)
    x, w = rng.standard_normal(shape), rng.standard_normal(kernel)
    geo = dict(stride=stride, pad=pad, dilate=(1, 1), groups=1)
    conv = ref_fwd(x, w, None, **geo)
    y, (bias, gamma, beta, mean), var, res = problem(rng, conv.shape[0], conv.shape[1], conv[0, 0].size, np.float64)
    expect = reference(conv.reshape(y.shape), bias, gamma, beta, mean, var, 1e-5, res, has_bias, has_res, relu)
    out = np.full(conv.shape, np.nan)
    before = numba.get_num_threads()
    numba.set_num_threads(2)
    try:
        done = conv_fwd_cpu(x, w, bias if has_bias else None, out, REQ_WRITE, stride, pad, (1, 1), 1,
                            epilogue=(gamma, beta, mean, var, 1e-5, res.reshape(conv.shape), has_res, relu))
    finally:
        numba.set_num_threads(before)
    assert done == fused
    if not done:  # the convolution added the bias; the caller finishes
        conv_epilogue_cpu(out.reshape(y.shape), gamma, False, gamma, beta, mean, var, 1e-5, res, has_res, relu)
    np.testing.assert_allclose(out.reshape(y.shape), expect, rtol=1e-10, atol=1e-10)
