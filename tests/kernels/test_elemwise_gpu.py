"""Elementwise CUDA kernels and the GPU reduction driver against float64 NumPy references (the CPU ops'
own formulas), on tiny arrays in the simulator when no GPU is present."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import cuda

from mxcy.kernels import elemwise_gpu as E
from mxcy.kernels.common import REQ_ADD, REQ_INPLACE, REQ_NULL, REQ_WRITE
from mxcy.kernels.elemwise_common import BINARY_FUNCS, UNARY_FUNCS
from mxcy.ops.binary import _ARITH, _LOGIC
from mxcy.ops.unary import _UNARY

pytestmark = pytest.mark.cuda

BASE = np.array([-2.5, -1.5, -0.7, -0.5, 0.0, 0.3, 0.5, 1.5, 2.5, 3.7])
POSITIVE = ("log", "log10", "log2", "log1p", "sqrt", "rsqrt", "gamma", "gammaln", "rcbrt", "reciprocal")


def unary_input(name):
    if name in POSITIVE:
        return np.abs(BASE) + 0.1
    if name in ("arcsin", "arccos", "arctanh"):
        return BASE / 4
    if name == "arccosh":
        return np.abs(BASE) + 1
    return BASE


def tol(dtype):
    return dict(rtol=2e-5, atol=2e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)


def run_unary(name, x, out=None, req=REQ_WRITE):
    d_out = cuda.to_device(np.zeros_like(x) if out is None else out)
    E.unary_gpu(name, cuda.to_device(x), d_out, req)
    return d_out.copy_to_host()


def binary_ref(name, a, b):
    fn = _ARITH[name][0] if name in _ARITH else _LOGIC[name]
    with np.errstate(all="ignore"):
        return fn(a.astype(np.float64), b.astype(np.float64))


def run_binary(name, a, b, out_shape, dtype, req=REQ_WRITE, out=None):
    d_out = cuda.to_device(np.zeros(out_shape, dtype) if out is None else out)
    E.binary_gpu(name, cuda.to_device(a), cuda.to_device(b), d_out, req)
    return d_out.copy_to_host()


@pytest.mark.parametrize("name", sorted(UNARY_FUNCS))
def test_unary_float32_matches_cpu_formula(name):
    x = unary_input(name).astype(np.float32)
    np.testing.assert_allclose(run_unary(name, x), _UNARY[name][0](x.astype(np.float64)), **tol(np.float32))


@pytest.mark.parametrize("name", ["exp", "cbrt", "erf", "gammaln", "round", "rint", "sigmoid", "arctanh"])
def test_unary_float64(name):
    x = unary_input(name)
    np.testing.assert_allclose(run_unary(name, x), _UNARY[name][0](x), **tol(np.float64))


def test_rounding_and_cube_roots_are_exact():
    x = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.49999999999999994, 4.5e15 + 0.5, np.inf, np.nan])
    np.testing.assert_array_equal(run_unary("rint", x), np.rint(x))
    np.testing.assert_array_equal(run_unary("round", x), [-3, -2, -1, 1, 2, 3, 0, 4.5e15 + 1, np.inf, np.nan])
    np.testing.assert_array_equal(run_unary("cbrt", np.array([-27.0, 8.0, 0.0, np.inf])),
                                  [-3.0, 2.0, 0.0, np.inf])


@pytest.mark.parametrize("name", ["abs", "sign", "negative", "square", "relu", "round", "floor", "ceil", "rint",
                                  "logical_not", "exp", "sqrt"])
def test_unary_int32(name):
    x = np.array([-3, -1, 0, 1, 2, 7], np.int32)
    if name == "sqrt":
        x = np.abs(x)
    with np.errstate(all="ignore"):
        want = _UNARY[name][0](x).astype(np.int32)
    np.testing.assert_array_equal(run_unary(name, x), want)


@settings(max_examples=5, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), seed=st.integers(0, 2**16))
def test_unary_req_add_null_and_inplace(shape, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(np.float32)
    old = rng.standard_normal(shape).astype(np.float32)
    np.testing.assert_allclose(run_unary("tanh", x, old, REQ_ADD), old + np.tanh(x), **tol(np.float32))
    np.testing.assert_array_equal(run_unary("tanh", x, old, REQ_NULL), old)
    d = cuda.to_device(x)
    E.unary_gpu("sin", d, d, REQ_INPLACE)
    np.testing.assert_allclose(d.copy_to_host(), np.sin(x), **tol(np.float32))


@pytest.mark.parametrize("name", sorted(BINARY_FUNCS))
@pytest.mark.parametrize("dtype", [np.float32, np.int32])
def test_binary_equal_shapes(name, dtype):
    a = np.array([-3, -2.5, -1, 0, 0.5, 2, 3, 7, np.nan if dtype == np.float32 else 4])
    b = np.array([2, 0.5, -4, 3, 0, 0, -1.5, 2, 1])
    a, b = a.astype(dtype), b.astype(dtype)
    if dtype == np.int32 and name in ("power", "div"):
        b = np.where(b == 0, 1, np.abs(b))  # no negative integer powers; integer x/0 has no defined value
    want = binary_ref(name, a, b)
    got = run_binary(name, a, b, a.shape, dtype)
    if dtype == np.int32:
        np.testing.assert_array_equal(got, want.astype(np.int32))
    else:
        np.testing.assert_allclose(got, want, equal_nan=True, **tol(np.float32))


def test_mod_takes_the_divisor_sign_and_zero_for_zero_divisor():
    a = np.array([5, -5, 5, -5, 3, 2.5], np.float64)
    b = np.array([3, 3, -3, -3, 0, -1], np.float64)
    np.testing.assert_array_equal(run_binary("mod", a, b, a.shape, np.float64), [2, 1, -1, -2, 0, -0.5])
    np.testing.assert_array_equal(run_binary("mod", a.astype(np.int32), b.astype(np.int32), a.shape, np.int32),
                                  [2, 1, -1, -2, 0, 0])


def _broadcast_inputs(dims, drops):
    # Input shapes broadcasting together within dims: each axis kept or set to 1, leading axes maybe dropped.
    shapes = [tuple(1 if o else n for n, o in zip(dims, ones)) for ones, _ in drops]
    return [shape[min(lead, len(shape) - 1):] for shape, (_, lead) in zip(shapes, drops)]


@settings(max_examples=5, deadline=None)
@given(dims=st.lists(st.integers(1, 3), min_size=1, max_size=4),
       drops=st.lists(st.tuples(st.lists(st.booleans(), min_size=4, max_size=4), st.integers(0, 2)),
                      min_size=2, max_size=2),
       name=st.sampled_from(["sub", "maximum", "greater", "power"]),
       dtype=st.sampled_from([np.float32, np.float64, np.int32]), seed=st.integers(0, 2**16))
def test_broadcast_matches_numpy(dims, drops, name, dtype, seed):
    sa, sb = _broadcast_inputs(dims, drops)
    out_shape = np.broadcast_shapes(sa, sb)
    rng = np.random.default_rng(seed)
    a = rng.integers(1, 4, sa).astype(dtype)
    b = rng.integers(0, 3, sb).astype(dtype)
    got = run_binary(name, a, b, out_shape, dtype)
    np.testing.assert_allclose(got, binary_ref(name, a, b).astype(dtype), **tol(dtype))


def test_broadcast_merges_axes_and_rejects_too_many():
    a = np.arange(12, dtype=np.float32).reshape(2, 1, 3, 1, 1, 2)
    b = np.arange(6, dtype=np.float32).reshape(1, 3, 1, 1, 2, 1)
    np.testing.assert_array_equal(run_binary("add", a, b, (2, 3, 3, 1, 2, 2), np.float32), a + b)
    assert E.broadcast_layout((2, 3, 4), (1, 3, 4), (2, 3, 4)) == ((1, 1, 1, 2, 12), (0, 0, 0, 12, 1),
                                                                    (0, 0, 0, 0, 1))
    a, b = np.ones((2, 1, 2, 1, 2, 1), np.float32), np.ones((1, 2, 1, 2, 1, 2), np.float32)
    with pytest.raises(ValueError, match="more than 5 dimensions"):
        run_binary("add", a, b, (2,) * 6, np.float32)


def test_binary_req_add_and_null():
    a, b = np.arange(6, dtype=np.float32).reshape(2, 3), np.array([1, 2, 3], np.float32)
    old = np.full((2, 3), 10, np.float32)
    np.testing.assert_array_equal(run_binary("mul", a, b, (2, 3), np.float32, REQ_ADD, old), old + a * b)
    np.testing.assert_array_equal(run_binary("mul", a, a, (2, 3), np.float32, REQ_ADD, old), old + a * a)
    np.testing.assert_array_equal(run_binary("mul", a, b, (2, 3), np.float32, REQ_NULL, old), old)


@pytest.mark.parametrize("dtype", [np.float32, np.int32])
@pytest.mark.parametrize("name,scalar", [("sub", 2.7), ("div", 2.0), ("mod", 3.0), ("power", 2.0),
                                         ("greater", 0.5), ("maximum", -1.0)])
def test_scalar_forms_cast_the_scalar_first(name, scalar, dtype):
    x = np.array([-3, -1, 0, 1, 2, 5]).astype(dtype)
    s = dtype(scalar)  # MXNet's scalar takes the array's dtype: 2.7 is 2 for an int32 array
    for reverse in (False, True):
        if reverse and name in ("div", "power") and dtype == np.int32:
            continue  # integer division by 0 and negative integer powers have no defined value
        out = cuda.to_device(np.zeros_like(x))
        E.scalar_gpu(name, cuda.to_device(x), scalar, out, reverse, REQ_WRITE)
        with np.errstate(all="ignore"):
            want = binary_ref(name, np.full_like(x, s), x) if reverse else binary_ref(name, x, np.full_like(x, s))
        np.testing.assert_allclose(out.copy_to_host(), want.astype(dtype), **tol(dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32])
def test_fill(dtype):
    out = cuda.to_device(np.ones((3, 2), dtype))
    E.fill_gpu(out, 2.5, REQ_ADD)
    np.testing.assert_array_equal(out.copy_to_host(), np.full((3, 2), 1 + dtype(2.5), dtype))
    E.fill_gpu(out, -7, REQ_WRITE)
    np.testing.assert_array_equal(out.copy_to_host(), np.full((3, 2), -7, dtype))


@pytest.mark.parametrize("src,dst", [(np.float32, np.int32), (np.int32, np.float64), (np.float64, np.float32),
                                     (np.float32, np.float32)])
def test_copy_casts_and_reshapes(src, dst):
    x = np.array([[-2.7, -0.5, 0.0], [0.9, 3.5, 100.25]]).astype(src)
    out = cuda.to_device(np.zeros((3, 2), dst))
    E.copy_gpu(cuda.to_device(x), out, REQ_WRITE)
    np.testing.assert_array_equal(out.copy_to_host(), x.reshape(3, 2).astype(dst))
    E.copy_gpu(cuda.to_device(x), out, REQ_ADD)
    np.testing.assert_array_equal(out.copy_to_host(), 2 * x.reshape(3, 2).astype(dst))
    with pytest.raises(ValueError):
        E.copy_gpu(cuda.to_device(x), cuda.to_device(np.zeros(5, dst)), REQ_WRITE)


REDUCE_REF = {"sum": np.sum, "mean": np.mean, "prod": np.prod, "max": np.max, "min": np.min,
              "nansum": np.nansum, "nanprod": np.nanprod}


def check_reduce(x, axes, kind, keepdims, req=REQ_WRITE):
    want = REDUCE_REF[kind](x.astype(np.float64), axis=axes, keepdims=keepdims)
    want = np.asarray(want).reshape(want.shape or (1,))
    old = np.full(want.shape, 3, x.dtype)
    out = cuda.to_device(old)
    E.reduce_gpu(cuda.to_device(x), out, axes, kind, req)
    got = out.copy_to_host()
    if req == REQ_ADD:
        want = old + want
    if x.dtype.kind in "iub":
        np.testing.assert_array_equal(got, want.astype(x.dtype))
    else:
        np.testing.assert_allclose(got, want, equal_nan=True, **tol(x.dtype))


reduce_cases = dict(
    shape=st.lists(st.integers(1, 3), min_size=1, max_size=4),
    axes_mask=st.lists(st.booleans(), min_size=4, max_size=4),
    kind=st.sampled_from(sorted(REDUCE_REF)), dtype=st.sampled_from([np.float32, np.float64, np.int32]),
    keepdims=st.booleans(), seed=st.integers(0, 2**16))


def _reduce_input(shape, axes_mask, kind, dtype, seed):
    rng = np.random.default_rng(seed)
    x = (rng.choice([-1, 1], shape) if kind in ("prod", "nanprod") else rng.integers(-3, 4, shape)).astype(dtype)
    return x, tuple(i for i in range(len(shape)) if axes_mask[i])


@settings(max_examples=6, deadline=None)
@given(**reduce_cases)
def test_reduce_thread_per_output(shape, axes_mask, kind, dtype, keepdims, seed):
    x, axes = _reduce_input(shape, axes_mask, kind, dtype, seed)
    check_reduce(x, axes, kind, keepdims)


@settings(max_examples=6, deadline=None)
@given(**reduce_cases)
def test_reduce_split_blocks(shape, axes_mask, kind, dtype, keepdims, seed):
    x, axes = _reduce_input(shape, axes_mask, kind, dtype, seed)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(E, "ROWS_MAX_COUNT", 0)
        mp.setattr(E, "SPLIT_ITEMS", 3)
        check_reduce(x, axes, kind, keepdims)


@pytest.mark.parametrize("split", [False, True])
def test_reduce_full_nan_and_req(split):
    x = np.arange(1, 41, dtype=np.float32).reshape(2, 4, 5) / 8
    with pytest.MonkeyPatch.context() as mp:
        if split:
            mp.setattr(E, "ROWS_MAX_COUNT", 0)
            mp.setattr(E, "SPLIT_ITEMS", 8)
        check_reduce(x, (0, 1, 2), "sum", False, REQ_ADD)
        check_reduce(x, (0, 2), "prod", True)
        x[1, 2, 3] = np.nan
        for kind in ("max", "min", "nansum", "mean"):
            check_reduce(x, (1, 2), kind, False)


def test_reduce_empty_and_nothing():
    x = np.zeros((2, 0, 3), np.float32)
    check_reduce(x, (1,), "sum", False)
    check_reduce(x, (1,), "prod", True)
    with pytest.raises(ValueError, match="empty"):
        E.reduce_gpu(cuda.to_device(x), cuda.to_device(np.zeros((2, 3), np.float32)), (1,), "max", REQ_WRITE)
    y = np.arange(6, dtype=np.int32).reshape(2, 3)
    check_reduce(y, (), "sum", False)


@pytest.mark.parametrize("kind", ["sum", "max", "min", "prod"])
def test_reduce_unsigned_and_bool(kind):
    x = np.array([[0, 240, 7], [3, 1, 200]], np.uint8)  # sums stay in range: the simulator will not wrap
    check_reduce(x if kind != "prod" else x % 3, (1,), kind, False)
    check_reduce(np.array([[True, False], [True, True]]), (0,), kind, True)
