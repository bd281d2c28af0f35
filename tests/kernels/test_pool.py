"""Pooling kernels against a float64 NumPy reference built from explicit window masks, CPU and simulated CUDA."""
import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from numba import cuda

from mxcy.kernels import pool as P
from mxcy.kernels.common import REQ_ADD, REQ_NULL, REQ_WRITE


def ref_out_size(size, k, s, p, conv):
    if conv == "valid":
        return (size + 2 * p - k) // s + 1
    if conv == "full":
        return int(math.ceil((size + 2 * p - k) / s)) + 1
    return int(math.ceil(size / s))


def windows(shape, k, s, p, out):
    """Per output position: (flat in-plane indices of in-bounds window cells in scan order, cells of the window
    inside the padded extent [-p, size + p), MXNet's exclude-pad divisor). That divisor multiplies the clipped
    extents min(start + k, size) - max(start, 0), negative for a window wholly inside one side's padding: such
    windows average to -0.0 or 0.0, and to NaN only when an extent is exactly 0."""
    res = {}
    for o in np.ndindex(*out):
        axes, ext, excl = [], 1, 1
        for a in range(3):
            start = o[a] * s[a] - p[a]
            u = start + np.arange(k[a])
            axes.append(u[(u >= 0) & (u < shape[a])])
            ext *= int(np.sum((u >= -p[a]) & (u < shape[a] + p[a])))
            excl *= min(start + k[a], shape[a]) - max(start, 0)
        cells = np.ravel_multi_index(np.meshgrid(*axes, indexing="ij"), shape).ravel()
        res[o] = cells, ext, excl
    return res


def ref_pool(x, k, s, p, out, ptype, cip, pv):
    """Forward and a backward closure; x is (planes, D, H, W)."""
    planes = x.shape[0]
    flat = x.reshape(planes, -1).astype(np.float64)
    win = windows(x.shape[1:], k, s, p, out)
    y = np.empty((planes,) + tuple(out))
    for o, (cells, ext, excl) in win.items():
        v = flat[:, cells]
        if ptype == "max":
            y[(slice(None),) + o] = v.max(axis=1) if cells.size else np.finfo(x.dtype).min
        elif ptype == "lp":
            t = np.sum(v ** pv, axis=1)
            y[(slice(None),) + o] = np.sign(t) * np.abs(t) ** (1.0 / pv)
        else:
            div = 1 if ptype == "sum" else (ext if cip else excl)
            with np.errstate(invalid="ignore"):
                y[(slice(None),) + o] = v.sum(axis=1) / div if div else np.nan

    def backward(dy):
        dx = np.zeros_like(flat)
        for o, (cells, ext, _) in win.items():
            if not cells.size:
                continue
            g = dy[(slice(None),) + o].astype(np.float64)
            for pl in range(planes):
                if ptype == "max":
                    dx[pl, cells[np.argmax(flat[pl, cells])]] += g[pl]  # argmax: first maximum
                elif ptype == "lp":
                    # d/dx (sum x^p)^(1/p) = (x / y)^(p-1); MXNet takes 0 where y == 0 for p > 1.
                    yv = y[(pl,) + o]
                    ratio = 0 if yv == 0 else flat[pl, cells] / yv
                    dx[pl, cells] += g[pl] if pv == 1 else g[pl] * ratio ** (pv - 1)
                else:
                    dx[pl, cells] += g[pl] / (1 if ptype == "sum" else (ext if cip else cells.size))
        return dx.reshape(x.shape)

    return y, backward


@st.composite
def pool_cases(draw):
    nd = draw(st.integers(1, 3))
    conv = draw(st.sampled_from(["valid", "full", "same"] if nd == 1 else ["valid", "full"]))
    spatial, kernel, stride, pad = [], [], [], []
    for _ in range(nd):
        size = draw(st.integers(1, 6))
        pd = 0 if conv == "same" else draw(st.integers(0, 2))
        spatial.append(size)
        pad.append(pd)
        kernel.append(draw(st.integers(1, min(4, size + 2 * pd))))
        stride.append(draw(st.integers(1, 3)))
    global_pool = draw(st.integers(0, 5)) == 0
    return tuple(spatial), tuple(kernel), tuple(stride), tuple(pad), conv, global_pool


def run_cpu(x, dy, geo, ptype, cip, pv, req, base_out=None, base_dx=None):
    k, s, p, out = geo
    t = P.POOL_TYPES[ptype]
    y = np.zeros((x.shape[0],) + out, x.dtype) if base_out is None else base_out.copy()
    P.pool_fwd_cpu(x, y, k, s, p, t, cip, pv, req)
    dx = np.zeros_like(x) if base_dx is None else base_dx.copy()
    y_clean = np.zeros((x.shape[0],) + out, x.dtype)
    P.pool_fwd_cpu(x, y_clean, k, s, p, t, cip, pv, REQ_WRITE)
    if dy is not None:
        P.pool_bwd_cpu(dy, x, y_clean, dx, k, s, p, t, cip, pv, req)
    return y, dx


@given(case=pool_cases(), ptype=st.sampled_from(sorted(P.POOL_TYPES)), cip=st.booleans(), pv=st.integers(1, 3),
       planes=st.integers(1, 3), ties=st.booleans(), seed=st.integers(0, 2**16),
       dtype=st.sampled_from([np.float32, np.float64]), req=st.sampled_from([REQ_WRITE, REQ_ADD]))
def test_forward_backward(case, ptype, cip, pv, planes, ties, seed, dtype, req):
    spatial, kernel, stride, pad, conv, global_pool = case
    geo = P.pool_geometry(spatial, kernel, stride, pad, P.CONVENTIONS[conv], global_pool)
    k, s, p, out = geo
    nd = len(spatial)
    if global_pool:
        assert k[3 - nd:] == spatial and out == (1, 1, 1)
    else:
        assert out[3 - nd:] == tuple(ref_out_size(*a, conv) for a in zip(spatial, kernel, stride, pad))
    shape3 = (1,) * (3 - nd) + spatial
    # MXNet's avg divisor turns odd for windows starting beyond the padded input ("full" with stride > kernel).
    assume(all((out[a] - 1) * s[a] - p[a] < shape3[a] + p[a] for a in range(3)))
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 3, (planes,) + shape3) if ties else rng.standard_normal((planes,) + shape3)
    x = x.astype(dtype)
    dy = rng.standard_normal((planes,) + out).astype(dtype)
    base_out = rng.standard_normal((planes,) + out).astype(dtype) if req == REQ_ADD else None
    base_dx = rng.standard_normal(x.shape).astype(dtype) if req == REQ_ADD else None
    y, dx = run_cpu(x, dy, geo, ptype, cip, pv, req, base_out, base_dx)
    y_ref, backward = ref_pool(x, k, s, p, out, ptype, cip, pv)
    dx_ref = backward(dy)
    if req == REQ_ADD:
        y_ref, dx_ref = y_ref + base_out, dx_ref + base_dx
    tol = dict(rtol=2e-5, atol=2e-5) if dtype == np.float32 else dict(rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(y, y_ref, **tol)
    np.testing.assert_allclose(dx, dx_ref, **tol)


def test_max_ties_go_to_first_in_scan_order():
    # 1-D: window [1, 5, 5, 2] -> index 1; 2-D all-equal 2x2 windows -> top-left of each window.
    x = np.array([1.0, 5.0, 5.0, 2.0]).reshape(1, 1, 1, 4)
    _, dx = run_cpu(x, np.ones((1, 1, 1, 1)), P.pool_geometry((4,), (4,), (1,), (0,), P.VALID), "max", True, 1,
                    REQ_WRITE)
    np.testing.assert_array_equal(dx.ravel(), [0, 1, 0, 0])
    x = np.full((1, 1, 3, 3), 2.0)
    geo = P.pool_geometry((3, 3), (2, 2), (1, 1), (0, 0), P.VALID)
    _, dx = run_cpu(x, np.arange(1.0, 5.0).reshape(1, 1, 2, 2), geo, "max", True, 1, REQ_WRITE)
    np.testing.assert_array_equal(dx[0, 0], [[1, 2, 0], [3, 4, 0], [0, 0, 0]])
    # Padding never wins: an all-negative input still routes to the in-bounds maximum.
    x = np.array([-3.0, -3.0]).reshape(1, 1, 1, 2)
    geo = P.pool_geometry((2,), (3,), (1,), (1,), P.VALID)
    y, dx = run_cpu(x, np.ones((1, 1, 1, 2)), geo, "max", True, 1, REQ_WRITE)
    np.testing.assert_array_equal(y.ravel(), [-3, -3])
    np.testing.assert_array_equal(dx.ravel(), [2, 0])


def test_known_values():
    x = np.arange(1.0, 6.0).reshape(1, 1, 1, 5)
    geo = P.pool_geometry((5,), (2,), (2,), (1,), P.FULL)
    assert geo[3] == (1, 1, 4)
    y, _ = run_cpu(x, None, geo, "avg", True, 1, REQ_WRITE)
    # Windows [-1,1), [1,3), [3,5), [5,7): the last one is clipped at size + pad = 6, so it divides by 1.
    np.testing.assert_allclose(y.ravel(), [0.5, 2.5, 4.5, 0.0])
    y, _ = run_cpu(x, None, geo, "avg", False, 1, REQ_WRITE)
    np.testing.assert_allclose(y.ravel(), [1.0, 2.5, 4.5, np.nan])
    y, _ = run_cpu(x, None, geo, "lp", True, 2, REQ_WRITE)
    np.testing.assert_allclose(y.ravel(), [1.0, np.sqrt(13), np.sqrt(41), 0.0])
    y, _ = run_cpu(x, None, P.pool_geometry((5,), (2,), (2,), (0,), P.SAME), "max", True, 1, REQ_WRITE)
    np.testing.assert_array_equal(y.ravel(), [2, 4, 5])
    y, _ = run_cpu(x, None, P.pool_geometry((5,), (2,), (2,), (3,), P.VALID), "max", True, 1, REQ_WRITE)
    assert y.ravel()[0] == np.finfo(np.float64).min  # all-padding window: MXNet's lowest-value seed


@pytest.mark.parametrize("ptype,pv", [("max", 1), ("avg", 1), ("sum", 1), ("lp", 2), ("lp", 3)])
def test_backward_matches_central_differences(ptype, pv):
    rng = np.random.default_rng(7)
    x = rng.uniform(0.5, 2.0, (2, 2, 3, 4))
    if ptype != "lp":
        x *= rng.choice([-1, 1], x.shape)
    geo = P.pool_geometry((2, 3, 4), (2, 2, 3), (1, 2, 2), (1, 0, 1), P.FULL)
    w = rng.standard_normal((2,) + geo[3])
    _, dx = run_cpu(x, w, geo, ptype, True, pv, REQ_WRITE)
    num = np.empty_like(x)
    h = 1e-6
    for idx in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[idx] += h
        xm[idx] -= h
        yp, _ = run_cpu(xp, None, geo, ptype, True, pv, REQ_WRITE)
        ym, _ = run_cpu(xm, None, geo, ptype, True, pv, REQ_WRITE)
        num[idx] = np.sum(w * (yp - ym)) / (2 * h)
    np.testing.assert_allclose(dx, num, rtol=1e-5, atol=1e-7)


def test_req_null():
    x = np.ones((1, 1, 1, 4))
    y = np.full((1, 1, 1, 2), 9.0)
    dx = np.full_like(x, 9.0)
    k, s, p, out = P.pool_geometry((4,), (2,), (2,), (0,), P.VALID)
    P.pool_fwd_cpu(x, y, k, s, p, P.AVG, True, 1, REQ_NULL)
    P.pool_bwd_cpu(y, x, y, dx, k, s, p, P.AVG, True, 1, REQ_NULL)
    assert (y == 9).all() and (dx == 9).all()


# ---------------------------------------------------------------- CUDA (simulator without a GPU)
GPU_CASES = [((5,), (3,), (2,), (0,), P.SAME), ((4, 3), (2, 2), (2, 1), (1, 1), P.FULL),
             ((2, 3, 3), (2, 2, 2), (1, 2, 1), (0, 1, 0), P.VALID)]


@pytest.mark.cuda
@pytest.mark.parametrize("case", GPU_CASES)
@settings(max_examples=3)
@given(ptype=st.sampled_from(sorted(P.POOL_TYPES)), cip=st.booleans(), seed=st.integers(0, 2**16))
def test_gpu_matches_cpu(case, ptype, cip, seed):
    spatial, kernel, stride, pad, conv = case
    k, s, p, out = geo = P.pool_geometry(spatial, kernel, stride, pad, conv)
    rng = np.random.default_rng(seed)
    shape = (2,) + (1,) * (3 - len(spatial)) + spatial
    x = rng.integers(0, 3, shape).astype(np.float32)  # ties everywhere
    dy = rng.standard_normal((2,) + out).astype(np.float32)
    t = P.POOL_TYPES[ptype]
    y, dx = run_cpu(x, dy, geo, ptype, cip, 2, REQ_WRITE)
    d_x, d_y = cuda.to_device(x), cuda.to_device(np.zeros_like(y))
    P.pool_fwd_gpu(d_x, d_y, k, s, p, t, cip, 2, REQ_WRITE)
    np.testing.assert_allclose(d_y.copy_to_host(), y, rtol=1e-6, atol=1e-6)
    d_dx = cuda.to_device(np.ones_like(x))
    P.pool_bwd_gpu(cuda.to_device(dy), d_x, cuda.to_device(y), d_dx, k, s, p, t, cip, 2, REQ_ADD)
    np.testing.assert_allclose(d_dx.copy_to_host(), 1 + dx, rtol=1e-5, atol=1e-5)


@settings(max_examples=15, deadline=None)
@given(width=st.integers(P.ROWS_MIN_WIDTH, P.ROWS_MIN_WIDTH + 9), height=st.integers(1, 7), kernel=st.integers(1, 4),
       stride=st.integers(1, 3), pad=st.integers(0, 2), ties=st.booleans(), seed=st.integers(0, 2**16),
       req=st.sampled_from([REQ_WRITE, REQ_ADD]))
def test_max_pooling_by_rows(width, height, kernel, stride, pad, ties, seed, req):
    # Rows of at least ROWS_MIN_WIDTH go down the rows and then along them; NaN and ties as the window scan.
    kh = min(kernel, height + 2 * pad)
    geo = P.pool_geometry((height, width), (kh, kernel), (stride, stride), (pad, pad), P.VALID)
    k, s, p, out = geo
    rng = np.random.default_rng(seed)
    x = (rng.integers(0, 3, (2, 1, height, width)) if ties else rng.standard_normal((2, 1, height, width)))
    x = x.astype(np.float64)
    x[0, 0, 0, rng.integers(width)] = np.nan
    base = rng.standard_normal((2,) + out) if req == REQ_ADD else None
    y, _ = run_cpu(x, None, geo, "max", True, 1, req, base)
    y_ref, _ = ref_pool(np.where(np.isnan(x), np.finfo(x.dtype).min, x), k, s, p, out, "max", True, 1)  # NaN never wins
    np.testing.assert_allclose(y, y_ref + (base if req == REQ_ADD else 0), rtol=1e-12, atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(height=st.integers(1, 9), width=st.integers(1, 9), kh=st.integers(1, 3), kw=st.integers(1, 3),
       ties=st.booleans(), seed=st.integers(0, 2**16), req=st.sampled_from([REQ_WRITE, REQ_ADD]))
def test_max_pooling_by_tiles(height, width, kh, kw, ties, seed, req):
    # Windows that tile the plane (kernel = stride, no padding; LeNet's 2x2/2) go tile by tile; sizes that are not
    # multiples of the tile leave cells outside every window, which get no gradient. NaN and ties as the scan.
    assume(kh <= height and kw <= width)
    geo = P.pool_geometry((height, width), (kh, kw), (kh, kw), (0, 0), P.VALID)
    k, s, p, out = geo
    rng = np.random.default_rng(seed)
    x = (rng.integers(0, 3, (3, 1, height, width)) if ties else rng.standard_normal((3, 1, height, width)))
    x = x.astype(np.float64)
    x[0, 0, rng.integers(height), rng.integers(width)] = np.nan
    x[2] = np.nan  # every window NaN: the max is the lowest float, and no element gets the gradient
    dy = rng.standard_normal((3,) + out)
    base_out = rng.standard_normal((3,) + out) if req == REQ_ADD else None
    base_dx = rng.standard_normal(x.shape) if req == REQ_ADD else None
    y, dx = run_cpu(x, dy, geo, "max", True, 1, req, base_out, base_dx)
    y_ref, backward = ref_pool(np.where(np.isnan(x), np.finfo(x.dtype).min, x), k, s, p, out, "max", True, 1)
    dx_ref = backward(dy)
    dx_ref[np.isnan(x)] = 0  # a NaN never equals the max, nor the lowest float of an all-NaN window
    np.testing.assert_array_equal(y, y_ref + (base_out if req == REQ_ADD else 0))
    np.testing.assert_array_equal(dx, dx_ref + (base_dx if req == REQ_ADD else 0))
