"""vecmath's exp, sigmoid and tanh against NumPy's float64 ones, and that a loop over them vectorises."""
import math

import numba
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from mxcy.kernels import vecmath


@numba.njit(fastmath={"contract"}, error_model="numpy")
def _apply(kind, xs, out):
    for k in range(numba.uint64(xs.size)):
        x = xs[k]
        out[k] = vecmath.exp(x) if kind == 0 else vecmath.sigmoid(x) if kind == 1 else vecmath.tanh(x)


def run(kind, xs):
    xs = np.asarray(xs, np.float64)
    out = np.empty_like(xs)
    _apply(kind, xs, out)
    return out


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-708, 709), min_size=1, max_size=64))
def test_exp_within_two_ulp(xs):
    xs = np.array(xs)
    np.testing.assert_array_max_ulp(run(0, xs), np.exp(xs), maxulp=2)


def test_exp_edges():
    got = run(0, [0.0, -0.0, np.nan, -745.0, -np.inf, 750.0, np.inf, 1e-300])
    assert got[0] == got[1] == got[7] == 1.0
    assert math.isnan(got[2])
    # Past the normal range: the nearest normal power of e (e^-708, e^709).
    np.testing.assert_allclose(got[3:5], math.exp(-708.0), rtol=1e-15)
    np.testing.assert_allclose(got[5:7], math.exp(709.0), rtol=1e-15)


@pytest.mark.parametrize("kind, ref", [(1, lambda x: 1 / (1 + np.exp(-x))), (2, np.tanh)])
def test_sigmoid_and_tanh(kind, ref):
    xs = np.concatenate([np.linspace(-40, 40, 2001), [0.0, 1e-8, -1e-8, np.nan]])
    got, want = run(kind, xs), ref(xs)
    np.testing.assert_allclose(got[:-1], want[:-1], rtol=0, atol=4e-16)
    assert math.isnan(got[-1])


def test_the_loop_vectorises():
    run(0, [1.0])
    llvm = next(iter(_apply.inspect_llvm().values()))
    assert "<4 x double>" in llvm or "<8 x double>" in llvm or "<2 x double>" in llvm
