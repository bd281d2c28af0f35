"""Normalization kernels (Batch/Layer/Instance/GroupNorm) against float64 NumPy references, CPU and simulated CUDA."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numba import cuda

from mxcy.kernels import norm_cpu as N
from mxcy.kernels import norm_gpu as G
from mxcy.kernels.common import REQ_ADD, REQ_NULL, REQ_WRITE

F32, F64 = np.float32, np.float64


def split3(shape, axis):
    axis %= len(shape)
    return int(np.prod(shape[:axis])), shape[axis], int(np.prod(shape[axis + 1:]))


def tol(dtype, loose=1.0):
    return dict(rtol=2e-4 * loose, atol=2e-4 * loose) if dtype == F32 else dict(rtol=1e-9, atol=1e-10)


def normalize_ref(x, axes, eps):
    """(xhat, mean, var) normalizing over `axes` with the biased variance."""
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps), mean, var


def affine_grads_ref(dy, xhat, gamma_b, var, eps, axes):
    """dx of y = xhat * gamma + beta, xhat normalized over `axes`: (g - mean(g) - xhat * mean(g * xhat)) / std."""
    g = dy * gamma_b
    return (g - g.mean(axis=axes, keepdims=True)
            - xhat * (g * xhat).mean(axis=axes, keepdims=True)) / np.sqrt(var + eps)


def filled(shape, dtype, rng, req):
    return rng.standard_normal(shape).astype(dtype) if req == REQ_ADD else np.zeros(shape, dtype)


# ---------------------------------------------------------------- BatchNorm
@st.composite
def bn_cases(draw):
    nd = draw(st.integers(1, 4))
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=nd, max_size=nd)))
    return shape, draw(st.integers(-nd, nd - 1))


def bn_run(x, gamma, beta, mm, mv, eps, mom, fix_gamma, glob, req, dy, rng, gpu=False):
    dtype, nc = x.dtype, x.shape[1]
    out, dx = filled(x.shape, dtype, rng, req), filled(x.shape, dtype, rng, req)
    dg, db = filled(nc, dtype, rng, req), filled(nc, dtype, rng, req)
    base = out.copy(), dx.copy(), dg.copy(), db.copy()
    mean, inv, mm2, mv2 = np.zeros(nc, dtype), np.zeros(nc, dtype), mm.copy(), mv.copy()
    if gpu:
        d = {k: cuda.to_device(v) for k, v in dict(x=x, gamma=gamma, beta=beta, mm=mm2, mv=mv2, out=out, mean=mean,
                                                    inv=inv, dy=dy, dx=dx, dg=dg, db=db).items()}
        G.batch_norm_fwd_gpu(d["x"], d["gamma"], d["beta"], d["mm"], d["mv"], d["out"], d["mean"], d["inv"], eps,
                             fix_gamma, glob, req)
        G.batch_norm_bwd_gpu(d["dy"], d["x"], d["gamma"], d["mean"], d["inv"], d["mm"], d["mv"], d["dx"], d["dg"],
                             d["db"], eps, mom, fix_gamma, glob, True, req, req, req)
        res = [d[k].copy_to_host() for k in ("out", "mean", "inv", "mm", "mv", "dx", "dg", "db")]
    else:
        N.batch_norm_fwd_cpu(x, gamma, beta, mm2, mv2, out, mean, inv, eps, fix_gamma, glob, req)
        N.batch_norm_bwd_cpu(dy, x, gamma, mean, inv, mm2, mv2, dx, dg, db, eps, mom, fix_gamma, glob, True,
                             req, req, req)
        res = [out, mean, inv, mm2, mv2, dx, dg, db]
    return res, base


def bn_ref(x, gamma, beta, mm, mv, eps, mom, fix_gamma, glob, dy):
    x, dy = x.astype(F64), dy.astype(F64)
    g = np.ones_like(gamma, F64) if fix_gamma else gamma.astype(F64)
    b3 = lambda v: np.asarray(v, F64).reshape(1, -1, 1)  # noqa: E731
    if glob:
        mean, var = mm.astype(F64), mv.astype(F64)
        xhat = (x - b3(mean)) / np.sqrt(b3(var) + eps)
        dx = dy * b3(g) / np.sqrt(b3(var) + eps)
        mm_new, mv_new = mm, mv
    else:
        xhat, mean, var = normalize_ref(x, (0, 2), eps)
        dx = affine_grads_ref(dy, xhat, b3(g), var, eps, (0, 2))
        mean, var = mean.ravel(), var.ravel()
        mm_new, mv_new = mm * mom + mean * (1 - mom), mv * mom + var * (1 - mom)  # biased batch variance
    out = xhat * b3(g) + b3(beta)
    dg = np.zeros_like(g) if fix_gamma else (dy * xhat).sum(axis=(0, 2))
    return [out, mean, 1 / np.sqrt(var + eps), mm_new, mv_new, dx, dg, dy.sum(axis=(0, 2))]


@given(case=bn_cases(), fix_gamma=st.booleans(), glob=st.booleans(), eps=st.sampled_from([1e-3, 1e-5]),
       mom=st.floats(0.5, 0.99), seed=st.integers(0, 2**16), dtype=st.sampled_from([F32, F64]),
       req=st.sampled_from([REQ_WRITE, REQ_ADD]))
def test_batch_norm(case, fix_gamma, glob, eps, mom, seed, dtype, req):
    shape, axis = case
    rng = np.random.default_rng(seed)
    o3 = split3(shape, axis)
    x = (rng.standard_normal(o3) * 2 + 5).astype(dtype)  # off-centre: exercises the shifted sums
    nc = o3[1]
    gamma, beta = rng.standard_normal(nc).astype(dtype), rng.standard_normal(nc).astype(dtype)
    mm, mv = rng.standard_normal(nc).astype(dtype), rng.uniform(0.5, 2, nc).astype(dtype)
    dy = rng.standard_normal(o3).astype(dtype)
    got, base = bn_run(x, gamma, beta, mm, mv, eps, mom, fix_gamma, glob, req, dy, rng)
    want = bn_ref(x, gamma, beta, mm, mv, eps, mom, fix_gamma, glob, dy)
    add = [base[0], 0, 0, 0, 0, base[1], base[2], base[3]]
    names = ["out", "mean", "invstd", "moving_mean", "moving_var", "dx", "dgamma", "dbeta"]
    # Channels of one or two items have (near) zero variance: 1/sqrt(var + eps) amplifies the rounding of
    # float32 saved statistics.
    loose = 30.0 if o3[0] * o3[2] <= 2 else 1.0
    for name, g, w, a in zip(names, got, want, add):
        np.testing.assert_allclose(g, w + a, err_msg=name, **tol(dtype, loose))


def test_batch_norm_zero_variance_without_eps_gives_zero_invstd():
    x = np.full((2, 1, 3), 4.0)
    mean, inv, out = np.zeros(1), np.ones(1), np.empty_like(x)
    N.batch_norm_fwd_cpu(x, np.ones(1), np.full(1, 0.5), np.zeros(1), np.ones(1), out, mean, inv, 0.0, False,
                         False, REQ_WRITE)
    assert mean[0] == 4.0 and inv[0] == 0.0 and (out == 0.5).all()


@pytest.mark.parametrize("gpu", [False, pytest.param(True, marks=pytest.mark.cuda)])
def test_update_moving_at_forward_time(gpu):
    mean, inv = np.array([1.0, -2.0]), 1 / np.sqrt(np.array([0.5, 2.0]) + 1e-3)
    mm, mv = np.array([0.0, 1.0]), np.array([1.0, 1.0])
    if gpu:
        d_mm, d_mv = cuda.to_device(mm), cuda.to_device(mv)
        G.batch_norm_update_moving_gpu(cuda.to_device(mean), cuda.to_device(inv), d_mm, d_mv, 0.9, 1e-3)
        mm, mv = d_mm.copy_to_host(), d_mv.copy_to_host()
    else:
        N.batch_norm_update_moving_cpu(mean, inv, mm, mv, 0.9, 1e-3)
    np.testing.assert_allclose(mm, [0.1, 0.7], rtol=1e-12)
    np.testing.assert_allclose(mv, [0.95, 1.1], rtol=1e-12)


def numeric_grad(f, arr, w, h=1e-6):
    g = np.empty_like(arr)
    for k in np.ndindex(arr.shape):
        keep = arr[k]
        arr[k] = keep + h
        fp = np.sum(w * f())
        arr[k] = keep - h
        fm = np.sum(w * f())
        arr[k] = keep
        g[k] = (fp - fm) / (2 * h)
    return g


@pytest.mark.parametrize("glob", [False, True])
def test_batch_norm_backward_matches_central_differences(glob):
    rng = np.random.default_rng(11)
    x, w = rng.standard_normal((3, 2, 4)), rng.standard_normal((3, 2, 4))
    gamma, beta, mm, mv = rng.standard_normal(2), rng.standard_normal(2), rng.standard_normal(2), np.ones(2)

    def fwd():
        out = np.empty_like(x)
        N.batch_norm_fwd_cpu(x, gamma, beta, mm, mv, out, np.empty(2), np.empty(2), 1e-3, False, glob, REQ_WRITE)
        return out

    mean, inv = np.empty(2), np.empty(2)
    N.batch_norm_fwd_cpu(x, gamma, beta, mm, mv, np.empty_like(x), mean, inv, 1e-3, False, glob, REQ_WRITE)
    dx, dg, db = np.empty_like(x), np.empty(2), np.empty(2)
    N.batch_norm_bwd_cpu(w, x, gamma, mean, inv, mm.copy(), mv.copy(), dx, dg, db, 1e-3, 0.9, False, glob, False,
                         REQ_WRITE, REQ_WRITE, REQ_WRITE)
    np.testing.assert_allclose(dx, numeric_grad(fwd, x, w), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dg, numeric_grad(fwd, gamma, w), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(db, numeric_grad(fwd, beta, w), rtol=1e-6, atol=1e-8)


# ---------------------------------------------------------------- LayerNorm / GroupNorm / InstanceNorm
def ln_ref(x3, gamma, beta, dy, eps):
    b = gamma.astype(F64).reshape(1, -1, 1)
    xhat, mean, var = normalize_ref(x3.astype(F64), (1,), eps)
    dx = affine_grads_ref(dy.astype(F64), xhat, b, var, eps, (1,))
    return (xhat * b + beta.reshape(1, -1, 1), mean[:, 0], np.sqrt(var + eps)[:, 0], dx,
            (dy * xhat).sum(axis=(0, 2)), dy.sum(axis=(0, 2)))


def gn_ref(x, gamma, beta, dy, groups, eps, save_var=False):
    n, nc, ns = x.shape
    xg, dyg = x.astype(F64).reshape(n, groups, -1), dy.astype(F64).reshape(n, groups, -1)
    xhat, mean, var = normalize_ref(xg, (2,), eps)
    if gamma.size == nc:  # per channel: each gamma covers its channel's spatial items inside the group
        gb, bb = (np.repeat(v.astype(F64), ns).reshape(1, groups, -1) for v in (gamma, beta))
        dg, db = (dy * xhat.reshape(x.shape)).sum(axis=(0, 2)), dy.sum(axis=(0, 2))
    else:
        gb, bb = (v.astype(F64).reshape(1, groups, 1) for v in (gamma, beta))
        dg, db = (dyg * xhat).sum(axis=(0, 2)), dyg.sum(axis=(0, 2))
    out = (xhat * gb + bb).reshape(x.shape)
    dx = affine_grads_ref(dyg, xhat, gb, var, eps, (2,)).reshape(x.shape)
    sd = var if save_var else np.sqrt(var + eps)
    return out, mean[..., 0], sd[..., 0], dx, dg, db


@given(dims=st.lists(st.integers(1, 4), min_size=1, max_size=4), axis_seed=st.integers(0, 99),
       seed=st.integers(0, 2**16), dtype=st.sampled_from([F32, F64]), req=st.sampled_from([REQ_WRITE, REQ_ADD]))
def test_layer_norm(dims, axis_seed, seed, dtype, req):
    shape = tuple(dims)
    axis = -1 if axis_seed % 2 else axis_seed % len(shape)
    o3 = split3(shape, axis)
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(o3) * 3 + 1).astype(dtype)
    gamma, beta = rng.standard_normal(o3[1]).astype(dtype), rng.standard_normal(o3[1]).astype(dtype)
    dy = rng.standard_normal(o3).astype(dtype)
    out, dx = filled(o3, dtype, rng, req), filled(o3, dtype, rng, req)
    dg, db = filled(o3[1], dtype, rng, req), filled(o3[1], dtype, rng, req)
    base = [out.copy(), 0, 0, dx.copy(), dg.copy(), db.copy()]
    mean, std = np.zeros((o3[0], o3[2]), dtype), np.zeros((o3[0], o3[2]), dtype)
    N.layer_norm_fwd_cpu(x, gamma, beta, out, mean, std, 1e-5, req)
    N.layer_norm_bwd_cpu(dy, x, gamma, mean, std, dx, dg, db, req, req, req)
    want = ln_ref(x, gamma, beta, dy, 1e-5)
    loose = 30.0 if o3[1] <= 2 else 1.0  # as in test_batch_norm
    for name, g, w, a in zip(["out", "mean", "std", "dx", "dgamma", "dbeta"], [out, mean, std, dx, dg, db], want,
                             base):
        np.testing.assert_allclose(g, w + a, err_msg=name, **tol(dtype, loose))


@given(n=st.integers(1, 3), groups=st.integers(1, 3), cpg=st.integers(1, 3), ns=st.integers(1, 5),
       per_channel=st.booleans(), instance=st.booleans(), seed=st.integers(0, 2**16),
       dtype=st.sampled_from([F32, F64]), req=st.sampled_from([REQ_WRITE, REQ_ADD]))
def test_group_and_instance_norm(n, groups, cpg, ns, per_channel, instance, seed, dtype, req):
    rng = np.random.default_rng(seed)
    nc = groups * cpg
    if instance:
        groups, per_channel = nc, True
    x = (rng.standard_normal((n, nc, ns)) * 2 - 1).astype(dtype)
    gsize = nc if per_channel else groups
    gamma, beta = rng.standard_normal(gsize).astype(dtype), rng.standard_normal(gsize).astype(dtype)
    dy = rng.standard_normal(x.shape).astype(dtype)
    out, dx = filled(x.shape, dtype, rng, req), filled(x.shape, dtype, rng, req)
    dg, db = filled(gsize, dtype, rng, req), filled(gsize, dtype, rng, req)
    base = [out.copy(), 0, 0, dx.copy(), dg.copy(), db.copy()]
    mean, sd = np.zeros((n, groups), dtype), np.zeros((n, groups), dtype)
    eps = 1e-3 if instance else 1e-5
    if instance:
        N.instance_norm_fwd_cpu(x, gamma, beta, out, mean, sd, eps, req)
        N.instance_norm_bwd_cpu(dy, x, gamma, mean, sd, dx, dg, db, eps, req, req, req)
    else:
        N.group_norm_fwd_cpu(x, gamma, beta, out, mean, sd, groups, eps, req)
        N.group_norm_bwd_cpu(dy, x, gamma, mean, sd, dx, dg, db, groups, req, req, req)
    want = gn_ref(x, gamma, beta, dy, groups, eps, save_var=instance)
    loose = 30.0 if (ns if instance else cpg * ns) <= 2 else 1.0  # as in test_batch_norm
    for name, g, w, a in zip(["out", "mean", "sd", "dx", "dgamma", "dbeta"], [out, mean, sd, dx, dg, db], want,
                             base):
        np.testing.assert_allclose(g, w + a, err_msg=name, **tol(dtype, loose))


@pytest.mark.parametrize("kind", ["layer", "group_channel", "group_group", "instance"])
def test_row_norms_backward_match_central_differences(kind):
    rng = np.random.default_rng(5)
    x, w = rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 4, 3))
    gsize = 2 if kind == "group_group" else 4
    gamma, beta = rng.standard_normal(gsize), rng.standard_normal(gsize)
    stats = (2, 3) if kind == "layer" else ((2, 4) if kind == "instance" else (2, 2))

    def fwd():
        out, mean, sd = np.empty_like(x), np.empty(stats), np.empty(stats)
        if kind == "layer":
            N.layer_norm_fwd_cpu(x, gamma, beta, out, mean, sd, 1e-5, REQ_WRITE)
        elif kind == "instance":
            N.instance_norm_fwd_cpu(x, gamma, beta, out, mean, sd, 1e-3, REQ_WRITE)
        else:
            N.group_norm_fwd_cpu(x, gamma, beta, out, mean, sd, 2, 1e-5, REQ_WRITE)
        return out, mean, sd

    _, mean, sd = fwd()
    dx, dg, db = np.empty_like(x), np.empty(gsize), np.empty(gsize)
    args = (REQ_WRITE, REQ_WRITE, REQ_WRITE)
    if kind == "layer":
        N.layer_norm_bwd_cpu(w, x, gamma, mean, sd, dx, dg, db, *args)
    elif kind == "instance":
        N.instance_norm_bwd_cpu(w, x, gamma, mean, sd, dx, dg, db, 1e-3, *args)
    else:
        N.group_norm_bwd_cpu(w, x, gamma, mean, sd, dx, dg, db, 2, *args)
    out_only = lambda: fwd()[0]  # noqa: E731
    np.testing.assert_allclose(dx, numeric_grad(out_only, x, w), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dg, numeric_grad(out_only, gamma, w), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(db, numeric_grad(out_only, beta, w), rtol=1e-6, atol=1e-8)


def test_req_null_skips_outputs():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 4))
    out, dx, dg = np.full_like(x, 7.0), np.full_like(x, 7.0), np.full(3, 7.0)
    mean, std = np.empty((2, 4)), np.empty((2, 4))
    N.layer_norm_fwd_cpu(x, np.ones(3), np.zeros(3), out, mean, std, 1e-5, REQ_NULL)
    N.layer_norm_bwd_cpu(x, x, np.ones(3), mean, std, dx, dg, dg, REQ_NULL, REQ_NULL, REQ_NULL)
    assert (out == 7).all() and (dx == 7).all() and (dg == 7).all()
    np.testing.assert_allclose(mean, x.mean(axis=1))


# ---------------------------------------------------------------- CUDA (simulator without a GPU)
@pytest.mark.cuda
@pytest.mark.parametrize("glob,fix_gamma", [(False, False), (False, True), (True, False)])
def test_gpu_batch_norm(glob, fix_gamma, monkeypatch):
    monkeypatch.setattr(G, "ITEMS_PER_BLOCK", 4)  # split every channel over several blocks
    rng = np.random.default_rng(6)
    x, dy = (rng.standard_normal((3, 2, 5)) + 3).astype(F32), rng.standard_normal((3, 2, 5)).astype(F32)
    gamma, beta, mm, mv = (rng.standard_normal(2).astype(F32) for _ in range(4))
    mv = np.abs(mv) + 0.5
    args = (x, gamma, beta, mm, mv, 1e-3, 0.9, fix_gamma, glob, REQ_ADD, dy)
    got, _ = bn_run(*args, np.random.default_rng(0), gpu=True)
    want, _ = bn_run(*args, np.random.default_rng(0))
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5)


@pytest.mark.cuda
@pytest.mark.parametrize("kind,shape", [("layer", (2, 5, 1)), ("layer", (2, 3, 2)), ("group_channel", (2, 4, 3)),
                                        ("group_group", (2, 4, 3)), ("instance", (2, 3, 4))])
def test_gpu_row_norms(kind, shape, monkeypatch):
    monkeypatch.setattr(G, "ITEMS_PER_BLOCK", 4)
    rng = np.random.default_rng(9)
    x, dy = rng.standard_normal(shape), rng.standard_normal(shape)
    gsize = 2 if kind == "group_group" else shape[1]
    gamma, beta = rng.standard_normal(gsize), rng.standard_normal(gsize)
    stats = {"layer": (shape[0], shape[2]), "instance": shape[:2]}.get(kind, (shape[0], 2))
    results = []
    for mod, suffix in ((N, "cpu"), (G, "gpu")):
        host = dict(out=np.ones(shape), mean=np.zeros(stats), sd=np.zeros(stats), dx=np.ones(shape),
                    dg=np.ones(gsize), db=np.ones(gsize))
        arrs = dict(host, x=x, dy=dy, gamma=gamma, beta=beta)
        a = {k: cuda.to_device(v) for k, v in arrs.items()} if suffix == "gpu" else arrs
        name = {"layer": "layer_norm", "instance": "instance_norm"}.get(kind, "group_norm")
        fwd, bwd = getattr(mod, f"{name}_fwd_{suffix}"), getattr(mod, f"{name}_bwd_{suffix}")
        common_f = (a["x"], a["gamma"], a["beta"], a["out"], a["mean"], a["sd"])
        common_b = (a["dy"], a["x"], a["gamma"], a["mean"], a["sd"], a["dx"], a["dg"], a["db"])
        reqs = (REQ_ADD, REQ_ADD, REQ_ADD)
        if kind == "layer":
            fwd(*common_f, 1e-5, REQ_ADD)
            bwd(*common_b, *reqs)
        elif kind == "instance":
            fwd(*common_f, 1e-3, REQ_ADD)
            bwd(*common_b, 1e-3, *reqs)
        else:
            fwd(*common_f, 2, 1e-5, REQ_ADD)
            bwd(*common_b, 2, *reqs)
        results.append([a[k] if suffix == "cpu" else a[k].copy_to_host() for k in host])
    for c, g in zip(*results):
        np.testing.assert_allclose(g, c, rtol=1e-10, atol=1e-12)
