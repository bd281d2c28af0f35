"""Convolution / Deconvolution kernels against a float64 NumPy reference, on the CPU and on CUDA
(the simulator when there is no GPU)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from numba import cuda

from mxcy.kernels import conv_cpu, conv_gpu
from mxcy.kernels.common import REQ_ADD, REQ_NULL, REQ_WRITE
from mxcy.kernels.conv_common import conv_out_size, deconv_out_size
from mxcy.kernels.conv_cpu import conv_bwd_bias_cpu, conv_bwd_data_cpu, conv_bwd_weight_cpu, conv_fwd_cpu


# ---- reference: one strided slice of the zero-padded input per kernel tap, contracted per group ----

def out_len(x, k, s, p, d):
    return (x + 2 * p - d * (k - 1) - 1) // s + 1


def _tap_slices(ksize, out_sp, stride, dilate):
    for tap in np.ndindex(*ksize):
        yield tap, (slice(None), slice(None)) + tuple(
            slice(t * d, t * d + s * (o - 1) + 1, s) for t, d, s, o in zip(tap, dilate, stride, out_sp))


def _group(a, g, size):
    return a[:, g * size:(g + 1) * size]


def ref_fwd(x, w, b, stride, pad, dilate, groups):
    x, w = x.astype(np.float64), w.astype(np.float64)
    N, C = x.shape[:2]
    O = w.shape[0]
    Cg, Og = C // groups, O // groups
    osp = [out_len(*a) for a in zip(x.shape[2:], w.shape[2:], stride, pad, dilate)]
    xp = np.pad(x, [(0, 0), (0, 0)] + [(p, p) for p in pad])
    out = np.zeros((N, O, *osp))
    for tap, sl in _tap_slices(w.shape[2:], osp, stride, dilate):
        for g in range(groups):
            wt = w[(slice(g * Og, (g + 1) * Og), slice(None)) + tap]
            _group(out, g, Og)[...] += np.einsum("nc...,oc->no...", _group(xp[sl], g, Cg), wt)
    if b is not None:
        out += b.astype(np.float64).reshape((1, O) + (1,) * len(osp))
    return out


def ref_bwd_data(dy, w, x_shape, stride, pad, dilate, groups):
    dy, w = dy.astype(np.float64), w.astype(np.float64)
    N, C = x_shape[:2]
    O = w.shape[0]
    Cg, Og = C // groups, O // groups
    dxp = np.zeros((N, C) + tuple(n + 2 * p for n, p in zip(x_shape[2:], pad)))
    for tap, sl in _tap_slices(w.shape[2:], dy.shape[2:], stride, dilate):
        for g in range(groups):
            wt = w[(slice(g * Og, (g + 1) * Og), slice(None)) + tap]
            _group(dxp[sl], g, Cg)[...] += np.einsum("no...,oc->nc...", _group(dy, g, Og), wt)
    return dxp[(slice(None), slice(None)) + tuple(slice(p, p + n) for n, p in zip(x_shape[2:], pad))]


def ref_bwd_weight(x, dy, w_shape, stride, pad, dilate, groups):
    x, dy = x.astype(np.float64), dy.astype(np.float64)
    N, C = x.shape[:2]
    O = w_shape[0]
    Cg, Og = C // groups, O // groups
    xp = np.pad(x, [(0, 0), (0, 0)] + [(p, p) for p in pad])
    dw = np.zeros(w_shape)
    for tap, sl in _tap_slices(w_shape[2:], dy.shape[2:], stride, dilate):
        for g in range(groups):
            P = int(np.prod(dy.shape[2:]))
            dw[(slice(g * Og, (g + 1) * Og), slice(None)) + tap] = np.einsum(
                "nos,ncs->oc", _group(dy, g, Og).reshape(N, Og, P), _group(xp[sl], g, Cg).reshape(N, Cg, P))
    return dw


def ref_deconv(x, w, b, stride, pad, dilate, adj, groups):
    """Transposed convolution by scattering every input pixel times the kernel (weight (C, O/g, *k))."""
    x, w = x.astype(np.float64), w.astype(np.float64)
    N, C = x.shape[:2]
    Og = w.shape[1]
    Cg = C // groups
    full = [s * (n - 1) + d * (k - 1) + 1 for n, k, s, d in zip(x.shape[2:], w.shape[2:], stride, dilate)]
    out = np.zeros((N, Og * groups) + tuple(f + a for f, a in zip(full, adj)))
    for tap, sl in _tap_slices(w.shape[2:], x.shape[2:], stride, dilate):
        for g in range(groups):
            wt = w[(slice(g * Cg, (g + 1) * Cg), slice(None)) + tap]
            _group(out[sl], g, Og)[...] += np.einsum("nc...,co->no...", _group(x, g, Cg), wt)
    osz = [f + a - 2 * p for f, a, p in zip(full, adj, pad)]
    out = out[(slice(None), slice(None)) + tuple(slice(p, p + o) for p, o in zip(pad, osz))]
    if b is not None:
        out += b.reshape((1, -1) + (1,) * len(osz))
    return out


def tol(dtype):
    return dict(rtol=2e-4, atol=2e-4) if dtype == np.float32 else dict(rtol=1e-9, atol=1e-9)


def expected(old, value, req):
    return {REQ_NULL: old, REQ_WRITE: value, REQ_ADD: old + value}[req]


# ---- problems ----

@st.composite
def conv_problems(draw, max_batch=3, max_ch=3, max_groups=3, max_sp=(12, 7, 5)):
    nd = draw(st.integers(1, 3))
    groups = draw(st.integers(1, max_groups))
    cg, og = draw(st.integers(1, max_ch)), draw(st.integers(1, max_ch))
    k, s, p, d, sp = [], [], [], [], []
    for _ in range(nd):
        k.append(draw(st.integers(1, 3)))
        s.append(draw(st.integers(1, 3)))
        d.append(draw(st.integers(1, 2)))
        p.append(draw(st.integers(0, 3)))
        lo = max(1, d[-1] * (k[-1] - 1) + 1 - 2 * p[-1])
        sp.append(draw(st.integers(lo, max(lo, max_sp[nd - 1]))))
    return dict(N=draw(st.integers(1, max_batch)), C=cg * groups, O=og * groups, sp=tuple(sp),
                k=tuple(k), s=tuple(s), p=tuple(p), d=tuple(d), g=groups,
                dtype=draw(st.sampled_from([np.float32, np.float64])),
                req=draw(st.sampled_from([REQ_WRITE, REQ_ADD, REQ_NULL])),
                bias=draw(st.booleans()))


def make_arrays(pr, seed=0):
    rng = np.random.default_rng(seed)
    dt = pr["dtype"]
    x = rng.standard_normal((pr["N"], pr["C"]) + pr["sp"]).astype(dt)
    w = rng.standard_normal((pr["O"], pr["C"] // pr["g"]) + pr["k"]).astype(dt)
    b = rng.standard_normal(pr["O"]).astype(dt) if pr["bias"] else None
    osp = tuple(out_len(*a) for a in zip(pr["sp"], pr["k"], pr["s"], pr["p"], pr["d"]))
    dy = rng.standard_normal((pr["N"], pr["O"]) + osp).astype(dt)
    return x, w, b, dy, rng


def check_all(pr, k, to_dev=np.asarray, to_host=np.asarray):
    """Runs the four kernels of backend `k` ({name: function}) on `pr` with outputs pre-filled with
    random values, and compares with the reference under the drawn write request."""
    x, w, b, dy, rng = make_arrays(pr)
    geo = (pr["s"], pr["p"], pr["d"], pr["g"])
    req, dt = pr["req"], pr["dtype"]

    def filled(shape):
        old = rng.standard_normal(shape).astype(dt)
        return old, to_dev(old.copy())

    def close(res, old, ref):
        np.testing.assert_allclose(to_host(res), expected(old, ref, req), **tol(dt))

    old, out = filled(dy.shape)
    k["fwd"](to_dev(x), to_dev(w), None if b is None else to_dev(b), out, req, *geo)
    close(out, old, ref_fwd(x, w, b, *geo))
    old, dx = filled(x.shape)
    k["bwd_data"](to_dev(dy), to_dev(w), dx, req, *geo)
    close(dx, old, ref_bwd_data(dy, w, x.shape, *geo))
    old, dw = filled(w.shape)
    k["bwd_weight"](to_dev(x), to_dev(dy), dw, req, *geo)
    close(dw, old, ref_bwd_weight(x, dy, w.shape, *geo))
    old, db = filled((pr["O"],))
    k["bwd_bias"](to_dev(dy), db, req)
    close(db, old, dy.astype(np.float64).sum(axis=(0,) + tuple(range(2, dy.ndim))))


CPU = dict(fwd=conv_fwd_cpu, bwd_data=conv_bwd_data_cpu, bwd_weight=conv_bwd_weight_cpu,
           bwd_bias=conv_bwd_bias_cpu)


def problem(sp, k, s=None, p=None, d=None, N=2, C=4, O=6, g=1, dtype=np.float64, req=REQ_WRITE, bias=True):
    nd = len(sp)
    return dict(N=N, C=C, O=O, sp=sp, k=k, s=s or (1,) * nd, p=p or (0,) * nd, d=d or (1,) * nd,
                g=g, dtype=dtype, req=req, bias=bias)


# ---- CPU ----

def test_known_values():
    x = np.array([[[1.0, 2.0, 3.0, 4.0]]])
    w = np.array([[[1.0, 0.0, -1.0]]])
    out = np.empty((1, 1, 4))
    conv_fwd_cpu(x, w, np.array([0.5]), out, REQ_WRITE, (1,), (1,), (1,), 1)
    np.testing.assert_array_equal(out, [[[-1.5, -1.5, -1.5, 3.5]]])
    # Deconvolution, stride 2: each input scatters the kernel [1, 1, 1] two steps apart.
    dec = np.empty((1, 1, 5))
    conv_bwd_data_cpu(np.array([[[1.0, 2.0]]]), np.ones((1, 1, 3)), dec, REQ_WRITE, (2,), (0,), (1,), 1)
    np.testing.assert_array_equal(dec, [[[1.0, 1.0, 3.0, 2.0, 2.0]]])
    assert conv_out_size(4, 3, 1, 1, 1) == 4 and conv_out_size(7, 3, 2, 0, 2) == 2
    assert deconv_out_size(2, 3, 2, 0, 1) == 5 and deconv_out_size(3, 3, 2, 1, 1, adj=1) == 6


@given(conv_problems())
def test_cpu_random(pr):
    check_all(pr, CPU)


# Each path of the CPU drivers, with and without cutting items into parts and rows into blocks.
PATHS = {
    "pointwise": problem((5, 6), (1, 1), C=6, O=4, g=2),
    "pointwise_one_image": problem((5, 3), (1, 1), N=1, C=5, O=3, bias=False),
    # One image, 3 planned threads: blocks of output channels (one block empty: 2 channels per group).
    "pointwise_one_image_grouped_add": problem((4, 3), (1, 1), N=1, C=4, O=4, g=2, req=REQ_ADD, dtype=np.float32),
    "one_image_add": problem((6, 5), (3, 2), p=(1, 1), N=1, C=3, O=2, req=REQ_ADD),
    "pointwise_3d_add": problem((3, 4, 2), (1, 1, 1), req=REQ_ADD, dtype=np.float32),
    "strided_1x1": problem((7, 7), (1, 1), s=(2, 2)),
    "padded_1x1_same_size": problem((3, 3), (1, 1), s=(2, 2), p=(1, 1)),  # not a plain GEMM
    "depthwise": problem((6, 7), (3, 3), p=(1, 1), C=4, O=8, g=4),
    "depthwise_add": problem((9,), (3,), s=(2,), p=(2,), d=(2,), C=3, O=3, g=3, req=REQ_ADD),
    "single_input_channel": problem((5, 5), (2, 2), C=1, O=3, g=1, dtype=np.float32),
    "gemm_3d": problem((4, 5, 6), (2, 3, 2), s=(1, 2, 1), p=(1, 0, 2), d=(2, 1, 1)),
    "stride_gt_kernel_big_pad": problem((4, 4), (2, 2), s=(5, 5), p=(3, 3), req=REQ_ADD),
    "output_size_one": problem((3, 3), (3, 3), bias=False),
    "empty_batch": problem((4, 4), (3, 3), N=0, req=REQ_ADD),
    "depthwise_strided": problem((6, 7), (3, 3), s=(2, 2), p=(1, 1), C=4, O=8, g=4),
    # conv_shift_cpu (stride 1, few outputs): taps four at a time plus a remainder, with and without padding.
    "shifted_lenet_like": problem((8, 8), (5, 5), p=(2, 2), C=1, O=6, dtype=np.float32),
    "shifted_no_pad": problem((7, 6), (3, 2), C=3, O=5),
    "shifted_1x1_padded_add": problem((3, 4), (1, 1), p=(1, 1), C=2, O=4, req=REQ_ADD),
    "shifted_3d_dilated_grouped": problem((4, 5, 6), (2, 2, 3), p=(1, 0, 2), d=(2, 1, 1), C=4, O=4, g=2,
                                          req=REQ_ADD),
    "gemm_many_outputs": problem((5, 5), (3, 3), p=(1, 1), C=2, O=2 * conv_cpu.SHIFT_MAX_OUT + 2),
}

# The CPU algorithm each case must take (conv_cpu._Plan's choice; Winograd needs more channels than these).
ALGORITHM = {"pointwise": "pointwise", "pointwise_one_image": "pointwise",
             "pointwise_one_image_grouped_add": "pointwise", "depthwise_add": "direct",
             "depthwise_strided": "direct", "strided_1x1": "gemm", "gemm_3d": "gemm",
             "gemm_many_outputs": "gemm", "shifted_lenet_like": "shifted", "shifted_no_pad": "shifted",
             "shifted_1x1_padded_add": "shifted", "shifted_3d_dilated_grouped": "shifted",
             "single_input_channel": "shifted", "depthwise": "shifted"}


@pytest.mark.parametrize("name", sorted(ALGORITHM))
def test_cpu_algorithm_choice(name):
    x, w, _, dy, _ = make_arrays(PATHS[name])
    pr = PATHS[name]
    plan = conv_cpu._Plan(x, w, dy, pr["s"], pr["p"], pr["d"], pr["g"])
    chosen = ("shifted" if plan.shifted else "pointwise" if plan.pointwise else "direct" if plan.direct
              else "gemm")
    assert chosen == ALGORITHM[name]


@pytest.mark.parametrize("name", sorted(PATHS))
@pytest.mark.parametrize("threads", [1, 3])
@pytest.mark.parametrize("budget", [conv_cpu.COL_BUDGET, 1])
def test_cpu_paths(name, threads, budget, monkeypatch):
    # The thread count the drivers plan for (not the one running): 1 is one serial chunk, 3 cuts the
    # (image, group) pairs into parts; a budget of 1 im2col element makes one output row per block.
    monkeypatch.setattr(conv_cpu.numba, "get_num_threads", lambda: threads)
    monkeypatch.setattr(conv_cpu, "COL_BUDGET", budget)
    check_all(PATHS[name], CPU)


@st.composite
def deconv_problems(draw, max_sp=6, max_groups=2):
    nd = draw(st.integers(1, 3))
    groups = draw(st.integers(1, max_groups))
    k, s, p, d, a, sp = [], [], [], [], [], []
    for _ in range(nd):
        k.append(draw(st.integers(1, 3)))
        s.append(draw(st.integers(1, 3)))
        d.append(draw(st.integers(1, 2)))
        a.append(draw(st.integers(0, s[-1] - 1)))
        full = lambda x: s[-1] * (x - 1) + d[-1] * (k[-1] - 1) + 1 + a[-1]  # noqa: E731
        sp.append(draw(st.integers(1, max_sp)))
        p.append(draw(st.integers(0, (full(sp[-1]) - 1) // 2)))
    return dict(N=draw(st.integers(1, 2)), C=draw(st.integers(1, 3)) * groups, Og=draw(st.integers(1, 3)),
                sp=tuple(sp), k=tuple(k), s=tuple(s), p=tuple(p), d=tuple(d), adj=tuple(a), g=groups,
                dtype=draw(st.sampled_from([np.float32, np.float64])))


def check_deconv(pr, fwd, bwd_data, bwd_weight, to_dev=np.asarray, to_host=np.asarray):
    """Deconvolution through the convolution kernels with roles swapped: forward = conv_bwd_data,
    input gradient = conv_fwd, weight gradient = conv_bwd_weight(x=dOut, dy=input). The gradients
    are checked through the adjoint identities of the reference forward pass."""
    rng = np.random.default_rng(1)
    dt = pr["dtype"]
    x = rng.standard_normal((pr["N"], pr["C"]) + pr["sp"]).astype(dt)
    w = rng.standard_normal((pr["C"], pr["Og"]) + pr["k"]).astype(dt)
    b = rng.standard_normal(pr["Og"] * pr["g"]).astype(dt)
    geo = (pr["s"], pr["p"], pr["d"], pr["g"])
    ref = ref_deconv(x, w, b, pr["s"], pr["p"], pr["d"], pr["adj"], pr["g"])
    assert ref.shape[2:] == tuple(deconv_out_size(*a) for a in zip(pr["sp"], pr["k"], pr["s"], pr["p"], pr["d"],
                                                                   pr["adj"]))
    out = to_dev(np.empty(ref.shape, dt))
    fwd(to_dev(x), to_dev(w), out, REQ_WRITE, *geo, bias=to_dev(b))
    np.testing.assert_allclose(to_host(out), ref, **tol(dt))

    dout = rng.standard_normal(ref.shape).astype(dt)
    dx = to_dev(np.empty(x.shape, dt))
    bwd_data(to_dev(dout), to_dev(w), None, dx, REQ_WRITE, *geo)
    dw = to_dev(np.empty(w.shape, dt))
    bwd_weight(to_dev(dout), to_dev(x), dw, REQ_WRITE, *geo)
    # <deconv(x) - b, dout> = <x, dx> and, deconv being linear in w, <deconv_w(v) - b, dout> = <v, dw>.
    lhs = np.vdot(ref - b.reshape((1, -1) + (1,) * len(pr["sp"])), dout)
    np.testing.assert_allclose(np.vdot(x.astype(np.float64), to_host(dx)), lhs, **tol(dt))
    v = rng.standard_normal(w.shape)
    lhs_w = np.vdot(ref_deconv(x, v, None, pr["s"], pr["p"], pr["d"], pr["adj"], pr["g"]), dout)
    np.testing.assert_allclose(np.vdot(v, to_host(dw)), lhs_w, **tol(dt))


@given(deconv_problems())
def test_cpu_deconvolution(pr):
    check_deconv(pr, conv_bwd_data_cpu, conv_fwd_cpu, conv_bwd_weight_cpu)


def test_cpu_plans_kept_by_geometry_and_settings(monkeypatch):
    # A plan's constants are made once per geometry and settings; its views are of the arrays it was given.
    monkeypatch.setattr(conv_cpu, "CAN_PIN_BLAS", True)
    monkeypatch.setattr(conv_cpu.numba, "get_num_threads", lambda: 2)
    x, w, y = np.zeros((1, 4, 5, 5), np.float32), np.zeros((6, 4, 3, 3), np.float32), np.zeros((1, 6, 5, 5), np.float32)
    args = ((1, 1), (1, 1), (1, 1), 1)
    first = conv_cpu._Plan(x, w, y, *args)
    x2, y2 = np.ones_like(x), np.ones_like(y)
    again = conv_cpu._Plan(x2, w, y2, *args)
    assert np.shares_memory(again.x, x2) and np.shares_memory(again.y, y2) and not np.shares_memory(again.x, x)
    assert (again.x.shape, again.w.shape, again.y.shape) == ((1, 1, 4, 25), (1, 6, 36), (1, 1, 6, 25))
    assert again.gemm == first.gemm == (2, 2, 5, False) and again.geom == first.geom
    monkeypatch.setattr(conv_cpu.numba, "get_num_threads", lambda: 3)
    assert conv_cpu._Plan(x, w, y, *args).gemm == (3, 3, 5, False)  # the thread count is part of the key
    monkeypatch.setattr(conv_cpu, "COL_BUDGET", 36 * 5 * 2)
    assert conv_cpu._Plan(x, w, y, *args).rblk == 2
    assert conv_cpu._Plan(x, w, y, (1, 1), (0, 0), (1, 1), 1) is not None  # another geometry
    with pytest.raises(ValueError, match="C-contiguous"):
        conv_cpu._Plan(np.zeros((1, 4, 5, 10), np.float32)[..., ::2], w, y, *args)


def test_cpu_rejects_non_contiguous_output():
    x = np.ones((1, 1, 4, 4))
    out = np.empty((1, 1, 4, 8))[..., ::2]
    with pytest.raises(ValueError):
        conv_fwd_cpu(x, np.ones((1, 1, 1, 1)), None, out, REQ_WRITE, (1, 1), (0, 0), (1, 1), 1)


# ---- CUDA (simulator without a GPU: tiny shapes, few examples) ----

GPU = dict(fwd=conv_gpu.conv_fwd_gpu, bwd_data=conv_gpu.conv_bwd_data_gpu,
           bwd_weight=conv_gpu.conv_bwd_weight_gpu, bwd_bias=conv_gpu.conv_bwd_bias_gpu)


def to_host(a):
    return a.copy_to_host()


@pytest.mark.cuda
@settings(max_examples=5)
@given(conv_problems(max_batch=2, max_ch=2, max_groups=2, max_sp=(6, 4, 3)))
def test_gpu_random(pr):
    check_all(pr, GPU, cuda.to_device, to_host)


@pytest.mark.cuda
@pytest.mark.parametrize("pr", [
    problem((9,), (3,), s=(2,), p=(1,), N=2, C=2, O=3, req=REQ_ADD, dtype=np.float32),
    problem((3, 4, 3), (2, 1, 2), s=(1, 2, 1), p=(1, 0, 1), d=(1, 1, 2), N=1, C=2, O=2, g=2),
], ids=["1d_add", "3d_grouped"])
def test_gpu_split_reduction(pr, monkeypatch):
    # Short reduction slices make the weight gradient take its split + sum path.
    monkeypatch.setattr(conv_gpu, "SPLIT_MIN", 4)
    check_all(pr, GPU, cuda.to_device, to_host)


@pytest.mark.cuda
@settings(max_examples=3)
@given(deconv_problems(max_sp=3, max_groups=1))
def test_gpu_deconvolution(pr):
    check_deconv(pr, conv_gpu.conv_bwd_data_gpu, conv_gpu.conv_fwd_gpu, conv_gpu.conv_bwd_weight_gpu,
                 cuda.to_device, to_host)


@pytest.mark.cuda
def test_gpu_rejects_non_contiguous_output():
    out = cuda.to_device(np.empty((1, 1, 4, 8)))[..., ::2]
    with pytest.raises(ValueError):
        conv_gpu.conv_fwd_gpu(cuda.to_device(np.ones((1, 1, 4, 4))), cuda.to_device(np.ones((1, 1, 1, 1))), None,
                              out, REQ_WRITE, (1, 1), (0, 0), (1, 1), 1)
