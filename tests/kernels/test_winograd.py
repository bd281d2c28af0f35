"""Winograd 3x3 convolution kernels (winograd_cpu, reached through conv_cpu's dispatch) against float64
references written from explicit tap sums.

Both tile sizes run: F(4x4, 3x3) everywhere, F(2x2, 3x3) in the forward pass and the data gradient (forced here
by the dispatch thresholds and a transform made beforehand, as a kept one would be).

Tolerances: float64 results agree to ~1e-14 of the output's scale. In float32, F(4x4, 3x3) multiplies by
transform constants up to 8 (and 1/24 in the filter transform), so its rounding error is ~1e-5 of the
largest output (measured 6e-6 to 1.5e-5 for 64-512 channels; direct float32 summation: 2e-7 to 5e-7);
single elements near zero can thus be off by far more than 1e-5 of themselves, and the checks bound the
largest error relative to the largest reference value (5e-5: 3x the worst measured).
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mxcy.kernels import conv_cpu, winograd_cpu, winograd_filters
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


@pytest.fixture
def small_tiles(monkeypatch):
    """F(2x2, 3x3) for every forward and data gradient; returns the list of the position counts of the filter
    transforms the Winograd kernels ran with."""
    monkeypatch.setattr(conv_cpu, "WINOGRAD_MIN_TILES", 1 << 40)
    monkeypatch.setattr(conv_cpu, "WINOGRAD_MIN_TILES_KEPT", 1 << 40)
    monkeypatch.setattr(conv_cpu, "WINOGRAD_SMALL_MIN_TILES", 1)
    ran = []
    for name in ("conv", "conv_few_tiles"):
        real = getattr(winograd_cpu, name)
        monkeypatch.setattr(winograd_cpu, name,
                            lambda x, U, *args, real=real: ran.append(U.shape[0]) or real(x, U, *args))
    return ran


def check(N, C, O, H, W, pad, dtype, req, bias, seed=0, tile=winograd_cpu.TILE):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    w = rng.standard_normal((O, C, 3, 3)).astype(dtype)
    b = rng.standard_normal(O).astype(dtype) if bias else None
    OH, OW = H + 2 * pad[0] - 2, W + 2 * pad[1] - 2
    dy = rng.standard_normal((N, O, OH, OW)).astype(dtype)
    geo = ((1, 1), pad, (1, 1), 1)
    assert conv_cpu._winograd(x, w, dy, (1, 1), (1, 1), 1) == tile
    if tile == winograd_cpu.SMALL_TILE:  # F(2x2, 3x3) runs on kept transforms only
        winograd_filters.transformed(w, False, True, tile)
        winograd_filters.transformed(w, True, True, tile)

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


def random_plans(mp, tiles, threads, shared_parts):
    # Blocks of 1 or 3 tiles start and end inside tile rows and images; 3 planned chunks on 2 threads; fewer tiles
    # than 64 a thread go to conv_few_tiles; the weight gradient's chunks split its tiles, or its positions into one
    # buffer of partial sums.
    mp.setattr(conv_cpu, "WINOGRAD_TILES", tiles)
    mp.setattr(conv_cpu.numba, "get_num_threads", lambda: threads)
    mp.setattr(conv_cpu, "WINOGRAD_SHARED_PARTS", 1 if shared_parts else 1 << 40)


@settings(max_examples=40)
@given(problems(), st.sampled_from([1, 3, 64]), st.sampled_from([1, 3]), st.booleans())
def test_random(pr, tiles, threads, shared_parts):
    with pytest.MonkeyPatch.context() as mp:
        random_plans(mp, tiles, threads, shared_parts)
        check(**pr)


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])  # cleared per example
@given(problems(), st.sampled_from([1, 3, 64]), st.sampled_from([1, 3]))
def test_random_small_tiles(small_tiles, pr, tiles, threads):
    with pytest.MonkeyPatch.context() as mp:
        random_plans(mp, tiles, threads, False)
        small_tiles.clear()
        check(**pr, tile=winograd_cpu.SMALL_TILE)
    assert small_tiles == ([] if pr["req"] == REQ_NULL else [16, 16])  # the forward pass and the data gradient


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layer_sized(dtype):
    # A ResNet stage (256 channels, 14 x 14): float32 error stays ~1e-5 of the output scale.
    check(2, 256, 256, 14, 14, (1, 1), dtype, REQ_WRITE, False)


def test_layer_sized_small_tiles(small_tiles):
    # ResNet-50's batch-1 case: 49 tiles of 2 x 2, the positions split between the threads.
    check(1, 256, 256, 14, 14, (1, 1), np.float32, REQ_WRITE, True, tile=winograd_cpu.SMALL_TILE)
    assert small_tiles == [16, 16]


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

    assert wino() == winograd_cpu.TILE
    assert wino(w=weight(32, 16), y=np.empty((1, 32, 28, 28)))                # up to 2x more outputs
    assert not wino(w=weight(33, 16), y=np.empty((1, 33, 28, 28)))
    assert wino(w=weight(3, 16), y=np.empty((1, 3, 28, 28)))
    x24 = np.empty((1, 24, 28, 28), np.float32)
    assert wino(x=x24, w=weight(512, 24), y=np.empty((1, 512, 28, 28)))   # enough inputs: any outputs
    assert not wino(x=x16[:, :7], w=weight(16, 7))                          # few input channels
    y36 = np.empty((1, 16, 24, 24), np.float32)                             # 36 tiles: with a kept transform
    assert wino(y=y36) and not conv_cpu._winograd(x16, w16, y36, (1, 1), (1, 1), 1, MIN_TILES)
    y14 = np.empty((1, 16, 14, 14), np.float32)                             # 16 tiles of 4 x 4, 49 of 2 x 2
    assert wino(y=y14) == winograd_cpu.SMALL_TILE
    assert not conv_cpu._winograd(x16, w16, y14, (1, 1), (1, 1), 1, MIN_TILES)  # weight gradient: 4 x 4 only
    assert not wino(y=np.empty((1, 16, 12, 12), np.float32))                # few tiles (9 of 4 x 4, 36 of 2 x 2)
    assert not wino(y=np.empty((1, 16, 28, 56))[..., ::2])                   # not contiguous
    assert not wino(stride=(2, 2))
    assert not wino(dilate=(2, 2))
    assert not wino(w=weight(16, 8), groups=2)
    assert not wino(w=weight(16, 16, (3, 5)))
    assert not wino(x=np.empty((1, 16, 28)), w=np.empty((16, 16, 3)), y=np.empty((1, 16, 28)),
                    stride=(1,), dilate=(1,))                                 # 1-d
    assert not wino(x=np.empty(x16.shape, np.float16))


@pytest.mark.parametrize("tile", [winograd_cpu.TILE, winograd_cpu.SMALL_TILE])
def test_transform_constants(tile):
    # A^T (G g G^T (.) B^T d B) A is the tile x tile valid correlation of a (tile + 2)^2 tile d with g.
    rng = np.random.default_rng(7)
    d, g = rng.standard_normal((1, 1, tile + 2, tile + 2)), rng.standard_normal((1, 1, 3, 3))
    U = np.empty((winograd_cpu.positions(tile), 1, 1))
    winograd_cpu.filter_transform(g, U, False)
    out = np.empty((1, 1, tile, tile))
    winograd_cpu.conv(d, U, np.empty(0), False, out, REQ_WRITE, 0, 0, 1, 1)
    np.testing.assert_allclose(out, ref_forward(d, g, None, (0, 0)), rtol=1e-13, atol=1e-13)
    # F(2x2, 3x3)'s filter transform keeps the corner taps: (G g G^T) at (0, 0), (0, 3), (3, 0), (3, 3).
    if tile == winograd_cpu.SMALL_TILE:
        np.testing.assert_array_equal(U[[0, 3, 12, 15], 0, 0], g[0, 0, [0, 0, 2, 2], [0, 2, 0, 2]])


def test_plan_balances_threads(monkeypatch):
    # Blocks of at most WINOGRAD_TILES tiles, of one size, as many as a multiple of the threads.
    monkeypatch.setattr(conv_cpu, "CAN_PIN_BLAS", True)
    monkeypatch.setattr(conv_cpu.numba, "get_num_threads", lambda: 2)
    assert conv_cpu.WINOGRAD_TILES == 64
    assert conv_cpu._winograd_plan(np.empty((1, 8, 56, 56))) == (49, 2)     # 196 tiles: 4 blocks of 49
    assert conv_cpu._winograd_plan(np.empty((32, 8, 56, 56))) == (64, 2)    # 6272 tiles: 98 blocks of 64
    assert conv_cpu._winograd_plan(np.empty((1, 8, 28, 28))) == (25, 2)     # 49 tiles
    assert conv_cpu._winograd_plan(np.empty((1, 8, 14, 14)), winograd_cpu.SMALL_TILE) == (25, 2)
    assert conv_cpu._winograd_plan(np.empty((1, 8, 4, 4))) == (1, 1)        # one tile
