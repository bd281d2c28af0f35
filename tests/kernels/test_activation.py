"""Activation kernels (Activation, LeakyReLU, PReLU) against float64 NumPy formulas, CPU and simulated CUDA."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import cuda
from scipy.special import erf

from mxcy.kernels import activation as A
from mxcy.kernels.common import REQ_ADD, REQ_NULL, REQ_WRITE

LAM, ALPHA = 1.0507009873554804934193349852946, 1.6732632423543772848170429916717


def ref_fwd(name, x, slope):
    if name == "relu":
        return np.where(np.isnan(x), 0, np.maximum(x, 0))
    if name == "relu_nan":
        return np.maximum(x, 0)
    if name == "sigmoid":
        return 1 / (1 + np.exp(-x))
    if name == "tanh":
        return np.tanh(x)
    if name == "softrelu":
        return np.logaddexp(0, x)
    if name == "softsign":
        return x / (1 + np.abs(x))
    if name == "leaky":
        return np.where(x > 0, x, slope * x)
    if name == "elu":
        return np.where(x > 0, x, slope * np.expm1(x))
    if name == "selu":
        return LAM * np.where(x > 0, x, ALPHA * np.expm1(x))
    return 0.5 * x * (1 + erf(x / np.sqrt(2)))


def ref_grad(name, x, slope):
    """Analytic derivatives in x (the kernels read y for most types)."""
    sig = 1 / (1 + np.exp(-x))
    return {
        "relu": (x > 0) * 1.0,
        "relu_nan": np.where(np.isnan(x), x, (x > 0) * 1.0),
        "sigmoid": sig * (1 - sig),
        "tanh": 1 - np.tanh(x) ** 2,
        "softrelu": sig,
        "softsign": 1 / (1 + np.abs(x)) ** 2,
        "leaky": np.where(x > 0, 1, slope),
        "elu": np.where(x > 0, 1, slope * np.exp(x)),
        "selu": LAM * np.where(x > 0, 1, ALPHA * np.exp(x)),
        "gelu": 0.5 * (1 + erf(x / np.sqrt(2))) + x * np.exp(-x * x / 2) / np.sqrt(2 * np.pi),
    }[name]


def tol(dtype):
    return dict(rtol=2e-5, atol=2e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-13)


def test_known_values():
    x = np.array([-1.0, 0.0, 2.0])
    y = np.empty(3)
    A.act_fwd_cpu(x, y, A.RELU, 0.0, REQ_WRITE)
    np.testing.assert_array_equal(y, [0, 0, 2])
    # NaN as MXNet 1.9.1 printed it: Activation's relu gives 0 and a zero gradient, the relu operator NaN and NaN.
    nan, dy = np.array([np.nan, -1.0, 2.0]), np.ones(3)
    for code, want in ((A.RELU, [[0, 0, 2], [0, 0, 1]]), (A.RELU_NAN, [[np.nan, 0, 2], [np.nan, 0, 1]])):
        y, dx = np.empty(3), np.empty(3)
        A.act_fwd_cpu(nan, y, code, 0.0, REQ_WRITE)
        A.act_bwd_cpu(dy, nan, y, dx, code, 0.0, REQ_WRITE)
        np.testing.assert_array_equal([y, dx], want)
    A.act_fwd_cpu(x, y, A.LEAKY, 0.25, REQ_WRITE)
    np.testing.assert_array_equal(y, [-0.25, 0, 2])
    A.act_fwd_cpu(np.array([0.0, 1.0, 100.0]), y, A.SOFTRELU, 0.0, REQ_WRITE)
    np.testing.assert_allclose(y, [np.log(2), np.log1p(np.e), 100.0], rtol=1e-15)
    A.act_fwd_cpu(np.array([0.0, 1.0, -1.0]), y, A.GELU, 0.0, REQ_WRITE)
    np.testing.assert_allclose(y, [0, 0.8413447460685429, -0.15865525393145707], rtol=1e-14)


@given(name=st.sampled_from(sorted(A.ACT_TYPES)), n=st.integers(1, 200), seed=st.integers(0, 2**16),
       dtype=st.sampled_from([np.float32, np.float64]), slope=st.floats(0.05, 1.0),
       req=st.sampled_from([REQ_WRITE, REQ_ADD]))
def test_forward_backward(name, n, seed, dtype, slope, req):
    rng = np.random.default_rng(seed)
    act = A.ACT_TYPES[name]
    x = (rng.standard_normal(n) * 4).astype(dtype)
    x[rng.random(n) < 0.05] = 30.0  # softrelu's large-input branch
    base = rng.standard_normal(n).astype(dtype) if req == REQ_ADD else np.zeros(n, dtype)
    y = base.copy()
    A.act_fwd_cpu(x, y, act, slope, req)
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(y, base + ref_fwd(name, x64, slope), **tol(dtype))

    y_only = np.empty_like(x)
    A.act_fwd_cpu(x, y_only, act, slope, REQ_WRITE)
    in_place = x.copy()  # the Executor's in-place Activation: input and output one buffer
    A.act_fwd_cpu(in_place, in_place, act, slope, REQ_WRITE)
    np.testing.assert_array_equal(in_place, y_only)
    dy = rng.standard_normal(n).astype(dtype)
    dx = base.copy()
    A.act_bwd_cpu(dy, x, y_only, dx, act, slope, req)
    expect = base + dy * ref_grad(name, x64, slope)
    # Gradients read through y lose y's rounding; float32 gets a looser bound.
    t = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(dx, expect, **t)


@pytest.mark.parametrize("name", sorted(A.ACT_TYPES))
def test_backward_matches_central_differences(name):
    rng = np.random.default_rng(1)
    x = rng.uniform(-3, 3, 64)
    x = x[np.abs(x) > 1e-2]  # stay off the kinks at 0
    act, h = A.ACT_TYPES[name], 1e-6
    yp, ym, y = np.empty_like(x), np.empty_like(x), np.empty_like(x)
    A.act_fwd_cpu(x + h, yp, act, 0.3, REQ_WRITE)
    A.act_fwd_cpu(x - h, ym, act, 0.3, REQ_WRITE)
    A.act_fwd_cpu(x, y, act, 0.3, REQ_WRITE)
    dx = np.empty_like(x)
    A.act_bwd_cpu(np.ones_like(x), x, y, dx, act, 0.3, REQ_WRITE)
    np.testing.assert_allclose(dx, (yp - ym) / (2 * h), rtol=1e-6, atol=1e-8)


def test_in_place_over_several_spans():
    x = np.random.default_rng(3).standard_normal(3 * A._SPAN + 17).astype(np.float32)
    y = x.copy()
    A.act_fwd_cpu(y, y, A.RELU, 0.0, REQ_WRITE)
    np.testing.assert_array_equal(y, np.maximum(x, 0))


def test_req_null_leaves_output():
    x = np.linspace(-1, 1, 5)
    y = np.full(5, 7.0)
    A.act_fwd_cpu(x, y, A.TANH, 0.0, REQ_NULL)
    A.act_bwd_cpu(x, x, x, y, A.TANH, 0.0, REQ_NULL)
    np.testing.assert_array_equal(y, 7.0)


def ref_prelu(x, gamma, dy):
    g = gamma.reshape(1, -1, 1) if gamma.size > 1 else gamma.reshape(1, 1, 1)
    out = np.where(x > 0, x, g * x)
    dx = np.where(x > 0, dy, g * dy)
    dg = (dy * np.minimum(x, 0)).sum(axis=(0, 2))
    return out, dx, (dg if gamma.size > 1 else dg.sum(keepdims=True))


@given(shape=st.tuples(st.integers(1, 4), st.integers(1, 5), st.integers(1, 6)), shared=st.booleans(),
       seed=st.integers(0, 2**16), dtype=st.sampled_from([np.float32, np.float64]),
       req=st.sampled_from([REQ_WRITE, REQ_ADD]))
def test_prelu(shape, shared, seed, dtype, req):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    gamma = rng.uniform(0, 0.5, 1 if shared else shape[1]).astype(dtype)
    dy = rng.standard_normal(shape).astype(dtype)
    out_ref, dx_ref, dg_ref = ref_prelu(x.astype(np.float64), gamma.astype(np.float64), dy.astype(np.float64))
    base, gbase = rng.standard_normal(shape).astype(dtype), rng.standard_normal(gamma.size).astype(dtype)
    if req == REQ_WRITE:
        base, gbase = np.zeros_like(base), np.zeros_like(gbase)
    out, dx, dg = base.copy(), base.copy(), gbase.copy()
    A.prelu_fwd_cpu(x, gamma, out, req)
    A.prelu_bwd_cpu(dy, x, gamma, dx, dg, req, req)
    t = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(out, base + out_ref, **t)
    np.testing.assert_allclose(dx, base + dx_ref, **t)
    np.testing.assert_allclose(dg, gbase + dg_ref, **t)


# ---------------------------------------------------------------- CUDA (simulator without a GPU)
@pytest.mark.cuda
def test_gpu_all_types():
    rng = np.random.default_rng(3)
    x = (rng.standard_normal(7) * 3).astype(np.float32)
    dy = rng.standard_normal(7).astype(np.float32)
    for name, act in A.ACT_TYPES.items():
        y = np.empty_like(x)
        A.act_fwd_cpu(x, y, act, 0.2, REQ_WRITE)
        dx = np.empty_like(x)
        A.act_bwd_cpu(dy, x, y, dx, act, 0.2, REQ_WRITE)
        d_y = cuda.to_device(np.ones_like(x))
        A.act_fwd_gpu(cuda.to_device(x), d_y, act, 0.2, REQ_ADD)
        np.testing.assert_allclose(d_y.copy_to_host(), 1 + y, rtol=1e-6, atol=1e-6, err_msg=name)
        d_dx = cuda.to_device(np.zeros_like(x))
        A.act_bwd_gpu(cuda.to_device(dy), cuda.to_device(x), cuda.to_device(y), d_dx, act, 0.2, REQ_WRITE)
        np.testing.assert_allclose(d_dx.copy_to_host(), dx, rtol=1e-6, atol=1e-6, err_msg=name)


@pytest.mark.cuda
@settings(max_examples=4)
@given(shared=st.booleans(), seed=st.integers(0, 2**16))
def test_gpu_prelu(shared, seed):
    rng = np.random.default_rng(seed)
    shape = (2, 3, 2)
    x, dy = rng.standard_normal(shape), rng.standard_normal(shape)
    gamma = rng.uniform(0, 0.5, 1 if shared else 3)
    out_ref, dx_ref, dg_ref = ref_prelu(x, gamma, dy)
    d_out, d_dx = cuda.to_device(np.zeros(shape)), cuda.to_device(np.ones(shape))
    d_dg = cuda.to_device(np.ones(gamma.size))
    A.prelu_fwd_gpu(cuda.to_device(x), cuda.to_device(gamma), d_out, REQ_WRITE)
    A.prelu_bwd_gpu(cuda.to_device(dy), cuda.to_device(x), cuda.to_device(gamma), d_dx, d_dg, REQ_ADD, REQ_ADD)
    np.testing.assert_allclose(d_out.copy_to_host(), out_ref, rtol=1e-12)
    np.testing.assert_allclose(d_dx.copy_to_host(), 1 + dx_ref, rtol=1e-12)
    np.testing.assert_allclose(d_dg.copy_to_host(), 1 + dg_ref, rtol=1e-12)
