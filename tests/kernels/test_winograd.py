"""Winograd 3x3 convolution kernels (winograd_cpu, reached through conv_cpu's dispatch) against float64
references written from explicit tap sums.

Tolerances: float64 results agree to ~1e-14 of the output's scale. In float32, F(4x4, 3x3) multiplies by
transform constants up to 8 (and 1/24 in the filter transform), so its rounding error is ~1e-5 of the
largest output (measured 6e-6 to 1.5e-5 for 64-512 channels; direct float32 summation: 2e-7 to 5e-7);
single elements near zero can thus be off by far more than 1e-5 of themselves, and the checks bound the
largest error relative to the largest reference value (5e-5: 3x the worst measured).
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mxcy.kernels import conv_cpu, winograd_cpu
from mxcy.kernels.common import REQ_ADD, REQ_NULL, REQ_WRITE
from mxcy.kernels.conv_cpu import conv_bwd_data_cpu, conv_bwd_weight_cpu, conv_fwd_cpu

TOL = {np.float32: 5e-5, np.float64: 1e-12}
MIN_TILES = conv_cpu.WINOGRAD_MIN_TILES


@pytest.fixture(scope="module", autouse=True)
def winograd_for_small_outputs():
    # The kernels are checked on small outputs, which conv_cpu would otherwise send to im2col.
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(conv_cpu, "WINOGRAD_MIN_TILES", 1)
        yield


# ---- references: a 3x3 stride-1 convolution is the sum of nine shifted channel contractions ----

def padded(x, ph, pw, rows, cols):
    """x (N, C, H, W) placed at (ph, pw) in zeros of `rows` x `cols` (negative pads crop)."""
    out = np.zeros(x.shape[:2] + (rows, cols))
    H, W = x.shape[2:]
    r0, c0 = max(ph, 0), max(pw, 0)
    r1, c1 = min(rows, ph + H), min(cols, pw + W)
    if r1 > r0 and c1 > c0:
        out[:, :, r0:r1, c0:c1] = x[:, :, r0 - ph:r1 - ph, c0 - pw:c1 - pw]
    return out


def ref_forward(x, w, b, pad):
    x, w = x.astype(np.float64), w.astype(np.float64)
    N, _, H, W = x.shape
    OH, OW = H + 2 * pad[0] - 2, W + 2 * pad[1] - 2
    xp = padded(x, pad[0], pad[1], OH + 2, OW + 2)
    out = np.zeros((N, w.shape[0], OH, OW))
    for kh in range(3):
        for kw in range(3):
            out += np.einsum("nchw,oc->nohw", xp[:, :, kh:kh + OH, kw:kw + OW], w[:, :, kh, kw])
    return out if b is None else out + b.astype(np.float64)[None, :, None, None]


def ref_data_grad(dy, w, x_shape, pad):
    """Scatter: output (oh, ow) of tap (kh, kw) read input (oh + kh - ph, ow + kw - pw)."""
    dy, w = dy.astype(np.float64), w.astype(np.float64)
    N, _, OH, OW = dy.shape
    dxp = np.zeros((N, w.shape[1], OH + 2, OW + 2))
    for kh in range(3):
        for kw in range(3):
            dxp[:, :, kh:kh + OH, kw:kw + OW] += np.einsum("nohw,oc->nchw", dy, w[:, :, kh, kw])
    H, W = x_shape[2:]
    return padded(dxp, -pad[0], -pad[1], H, W)


def ref_weight_grad(x, dy, pad):
    x, dy = x.astype(np.float64), dy.astype(np.float64)
    OH, OW = dy.shape[2:]
    xp = padded(x, pad[0], pad[1], OH + 2, OW + 2)
    dw = np.zeros((dy.shape[1], x.shape[1], 3, 3))
    for kh in range(3):
        for kw in range(3):
            dw[:, :, kh, kw] = np.einsum("nohw,nchw->oc", dy, xp[:, :, kh:kh + OH, kw:kw + OW])
    return dw


def test_references_agree_with_a_direct_loop():
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((1, 2, 4, 3)), rng.standard_normal((3, 2, 3, 3))
    pad = (2, 1)
    out = ref_forward(x, w, None, pad)
    for o, i, j in np.ndindex(*out.shape[1:]):
        acc = sum(w[o, c, kh, kw] * x[0, c, i + kh - pad[0], j + kw - pad[1]]
                  for c in range(2) for kh in range(3) for kw in range(3)
                  if 0 <= i + kh - pad[0] < 4 and 0 <= j + kw - pad[1] < 3)
        assert out[0, o, i, j] == pytest.approx(acc)
    # The gradients are the adjoints of the forward map.
    dy = rng.standard_normal(out.shape)
    assert np.vdot(out, dy) == pytest.approx(np.vdot(x, ref_data_grad(dy, w, x.shape, pad)))
    assert np.vdot(out, dy) == pytest.approx(np.vdot(w, ref_weight_grad(x, dy, pad)))


# ---- the kernels ----

def close(res, ref, dtype):
    scale = max(np.abs(ref).max(initial=0.0), 1.0)
    err = np.abs(res.astype(np.float64) - ref).max(initial=0.0)
    assert err <= TOL[dtype] * scale, f"max error {err:.3g} = {err / scale:.3g} of the largest value"


def check(N, C, O, H, W, pad, dtype, req, bias, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    w = rng.standard_normal((O, C, 3, 3)).astype(dtype)
    b = rng.standard_normal(O).astype(dtype) if bias else None
    OH, OW = H + 2 * pad[0] - 2, W + 2 * pad[1] - 2
    dy = rng.standard_normal((N, O, OH, OW)).astype(dtype)
    geo = ((1, 1), pad, (1, 1), 1)
    assert conv_cpu._winograd(x, w, dy, (1, 1), (1, 1), 1)

    def run(kernel, args, ref, shape):
        old = rng.standard_normal(shape).astype(dtype)
        res = old.copy()
        kernel(*args(res), req, *geo)
        expect = {REQ_NULL: old, REQ_WRITE: ref, REQ_ADD: old + ref}[req]
        close(res, expect, dtype)

    run(conv_fwd_cpu, lambda out: (x, w, b, out), ref_forward(x, w, b, pad), dy.shape)
    run(conv_bwd_data_cpu, lambda dx: (dy, w, dx), ref_data_grad(dy, w, x.shape, pad), x.shape)
    run(conv_bwd_weight_cpu, lambda dw: (x, dy, dw), ref_weight_grad(x, dy, pad), w.shape)


@st.composite
def problems(draw):
    pad = (draw(st.integers(0, 3)), draw(st.integers(0, 3)))
    # Any size with an output of at least one pixel: partial edge tiles, images smaller than a tile.
    H = draw(st.integers(max(1, 3 - 2 * pad[0]), 13))
    W = draw(st.integers(max(1, 3 - 2 * pad[1]), 13))
    C = draw(st.integers(8, 20))
    return dict(N=draw(st.integers(1, 3)), C=C, O=draw(st.integers(1, 2 * C)), H=H, W=W,
                pad=pad, dtype=draw(st.sampled_from([np.float32, np.float64])),
                req=draw(st.sampled_from([REQ_WRITE, REQ_ADD, REQ_NULL])), bias=draw(st.booleans()))


@settings(max_examples=40)
@given(problems(), st.sampled_from([1, 3, 64]), st.sampled_from([1, 3]), st.booleans())
def test_random(pr, tiles, threads, shared_parts):
    # Blocks of 1 or 3 tiles start and end inside tile rows and images; 3 planned chunks on 2 threads; the weight
    # gradient's chunks split its tiles, or its positions into one buffer of partial sums.
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(conv_cpu, "WINOGRAD_TILES", tiles)
        mp.setattr(conv_cpu.numba, "get_num_threads", lambda: threads)
        mp.setattr(conv_cpu, "WINOGRAD_SHARED_PARTS", 1 if shared_parts else 1 << 40)
        check(**pr)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layer_sized(dtype):
    # A ResNet stage (256 channels, 14 x 14): float32 error stays ~1e-5 of the output scale.
    check(2, 256, 256, 14, 14, (1, 1), dtype, REQ_WRITE, False)


def test_wide_rows_and_odd_sizes():
    # Rows longer than a block (blocks split tile rows), odd sizes, float32 with many tiles.
    check(1, 16, 24, 5, 61, (1, 0), np.float32, REQ_ADD, True)
    check(1, 24, 100, 6, 6, (1, 1), np.float32, REQ_WRITE, False)
    check(2, 32, 16, 23, 9, (0, 2), np.float32, REQ_WRITE, True)


def test_deconvolution_bias():
    # conv_bwd_data_cpu with a bias is the Deconvolution forward pass: dx = conv^T(dy, w) + bias[c].
    rng = np.random.default_rng(5)
    dy, w = rng.standard_normal((2, 16, 6, 7)), rng.standard_normal((16, 17, 3, 3))
    bias = rng.standard_normal(17)
    dx = np.empty((2, 17, 8, 9))
    assert conv_cpu._winograd(dx, w, dx, (1, 1), (1, 1), 1)
    conv_bwd_data_cpu(dy, w, dx, REQ_WRITE, (1, 1), (0, 0), (1, 1), 1, bias=bias)
    close(dx, ref_data_grad(dy, w, dx.shape, (0, 0)) + bias[None, :, None, None], np.float64)


def weight(O, C, k=(3, 3)):
    return np.empty((O, C) + k, np.float32)


def test_dispatch(monkeypatch):
    monkeypatch.setattr(conv_cpu, "WINOGRAD_MIN_TILES", MIN_TILES)
    x16, w16 = np.empty((1, 16, 28, 28), np.float32), weight(16, 16)
    y16 = np.empty((1, 16, 28, 28), np.float32)  # 49 tiles of 4 x 4

    def wino(x=x16, w=w16, y=y16, stride=(1, 1), dilate=(1, 1), groups=1):
        return conv_cpu._winograd(x, w, y, stride, dilate, groups)

    assert wino()
    assert wino(w=weight(32, 16), y=np.empty((1, 32, 28, 28)))                # up to 2x more outputs
    assert not wino(w=weight(33, 16), y=np.empty((1, 33, 28, 28)))
    assert wino(w=weight(3, 16), y=np.empty((1, 3, 28, 28)))
    x24 = np.empty((1, 24, 28, 28), np.float32)
    assert wino(x=x24, w=weight(512, 24), y=np.empty((1, 512, 28, 28)))   # enough inputs: any outputs
    assert not wino(x=x16[:, :7], w=weight(16, 7))                          # few input channels
    y36 = np.empty((1, 16, 24, 24), np.float32)                             # 36 tiles: with a kept transform
    assert wino(y=y36) and not conv_cpu._winograd(x16, w16, y36, (1, 1), (1, 1), 1, MIN_TILES)
    assert not wino(y=np.empty((1, 16, 12, 12), np.float32))                # few tiles (9)
    assert not wino(y=np.empty((1, 16, 28, 56))[..., ::2])                   # not contiguous
    assert not wino(stride=(2, 2))
    assert not wino(dilate=(2, 2))
    assert not wino(w=weight(16, 8), groups=2)
    assert not wino(w=weight(16, 16, (3, 5)))
    assert not wino(x=np.empty((1, 16, 28)), w=np.empty((16, 16, 3)), y=np.empty((1, 16, 28)),
                    stride=(1,), dilate=(1,))                                 # 1-d
    assert not wino(x=np.empty(x16.shape, np.float16))


def test_transform_constants():
    # A^T (G g G^T (.) B^T d B) A is the 4x4 valid correlation of a 6x6 tile d with g, per position.
    rng = np.random.default_rng(7)
    d, g = rng.standard_normal((1, 1, 6, 6)), rng.standard_normal((1, 1, 3, 3))
    U = np.empty((winograd_cpu.NPOS, 1, 1))
    winograd_cpu.filter_transform(g, U, False)
    out = np.empty((1, 1, 4, 4))
    winograd_cpu.conv(d, U, np.empty(0), False, out, REQ_WRITE, 0, 0, 1, 1)
    np.testing.assert_allclose(out, ref_forward(d, g, None, (0, 0)), rtol=1e-13, atol=1e-13)
