"""Kept Winograd filter transforms (winograd_filters): reused only while the weight is bitwise unchanged, made
again otherwise (in the same memory), bounded in bytes; and conv_cpu's use of them for outputs with few tiles."""
import numpy as np
import pytest

from mxcy.kernels import conv_cpu, winograd_cpu, winograd_filters as wf
from mxcy.kernels.common import REQ_WRITE
from mxcy.kernels.conv_cpu import conv_fwd_cpu


@pytest.fixture(autouse=True)
def empty_cache():
    wf.clear()
    yield
    wf.clear()


def direct(w, flip, tile=winograd_cpu.TILE):
    O, C = w.shape[:2]
    U = np.empty((winograd_cpu.positions(tile),) + ((C, O) if flip else (O, C)), w.dtype)
    winograd_cpu.filter_transform(w, U, flip)
    return U


@pytest.mark.parametrize("flip", [False, True])
def test_reused_while_unchanged(flip):
    w = np.random.default_rng(0).standard_normal((6, 5, 3, 3)).astype(np.float32)
    first = wf.transformed(w, flip, True)
    np.testing.assert_array_equal(first, direct(w, flip))
    assert wf.transformed(w, flip, True) is first
    w[2, 1, 0, 2] += 1  # an in-place update (an optimizer step) makes a new transform, in the kept one's memory
    again = wf.transformed(w, flip, True)
    assert again is first
    np.testing.assert_array_equal(again, direct(w, flip))
    assert wf.transformed(w, flip, True) is again


def test_bitwise_comparison(monkeypatch):
    # -0.0 == 0.0 as numbers, but the weights differ bitwise: the transform is made again.
    made = []
    real = wf._transform
    monkeypatch.setattr(wf, "_transform", lambda *args: made.append(1) or real(*args))
    w = np.zeros((2, 2, 3, 3))
    wf.transformed(w, False, True)
    wf.transformed(w, False, True)
    w[0, 0, 0, 0] = -0.0
    wf.transformed(w, False, True)
    assert len(made) == 2


@pytest.mark.parametrize("dtype, shape", [(np.float32, (64, 33, 3, 3)), (np.float64, (8, 3, 3, 3)),
                                          (np.float16, (7, 5, 3, 3))])  # 8-byte words; 2-byte ones (630 bytes)
def test_change_outside_the_sample(dtype, shape):
    # One flipped bit anywhere, beyond the sample compared first, in the first, a middle and the last part.
    w = np.random.default_rng(2).standard_normal(shape).astype(dtype)
    assert wf._same_bits(w, w.copy())
    step = max(1, w.size // 64)
    for i in (1, w.size // 2 + 1, w.size - 1):
        assert i % step
        changed = w.copy()
        changed.reshape(-1).view(f"u{w.itemsize}")[i] ^= 1
        assert not wf._same_bits(w, changed)


@pytest.mark.parametrize("tile", [winograd_cpu.TILE, winograd_cpu.SMALL_TILE])
def test_kept_per_tile(tile):
    # The two tile sizes keep separate transforms of one weight.
    w = np.random.default_rng(3).standard_normal((4, 6, 3, 3))
    U = wf.transformed(w, False, True, tile)
    assert U.shape == (winograd_cpu.positions(tile), 4, 6)
    np.testing.assert_array_equal(U, direct(w, False, tile))
    assert wf.transformed(w, False, True, tile) is U


def test_not_required_remembers_first():
    w = np.random.default_rng(1).standard_normal((4, 4, 3, 3))
    assert wf.transformed(w, False, False) is None  # first sight: nothing made
    kept = wf.transformed(w, False, False)          # the same weight again: made and kept
    np.testing.assert_array_equal(kept, direct(w, False))
    assert wf.transformed(w, False, False) is kept
    w[0, 0, 1, 1] = 7
    assert wf.transformed(w, False, False) is None


def test_bounded(monkeypatch):
    rng = np.random.default_rng(2)
    ws = [rng.standard_normal((8, 8, 3, 3)) for _ in range(3)]
    per_entry = ws[0].nbytes * (1 + 4)  # the weight's copy and its 36/9 times larger transform
    monkeypatch.setattr(wf, "CACHE_BYTES", 2 * per_entry)
    kept = [wf.transformed(w, False, True) for w in ws]
    assert len(wf._entries) == 2 and wf._held[0] == 2 * per_entry
    assert wf.transformed(ws[0], False, True) is not kept[0]  # the oldest went first
    assert wf.transformed(ws[2], False, True) is kept[2]


def ref_forward(x, w, pad):
    x, w = x.astype(np.float64), w.astype(np.float64)
    N, _, H, W = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    OH, OW = H + 2 * pad - 2, W + 2 * pad - 2
    return sum(np.einsum("nchw,oc->nohw", xp[:, :, i:i + OH, j:j + OW], w[:, :, i, j])
               for i in range(3) for j in range(3))


def test_few_tiles_use_a_kept_transform():
    # 16 x 16 output, batch 2: 32 tiles, below WINOGRAD_MIN_TILES: im2col on the first call, Winograd from
    # the second on (same weight); both close to the float64 reference.
    assert conv_cpu.WINOGRAD_MIN_TILES_KEPT <= 32 < conv_cpu.WINOGRAD_MIN_TILES
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 32, 16, 16)).astype(np.float32)
    w = rng.standard_normal((32, 32, 3, 3)).astype(np.float32)
    expect = ref_forward(x, w, 1)
    for call in range(3):
        out = np.empty((2, 32, 16, 16), np.float32)
        conv_fwd_cpu(x, w, None, out, REQ_WRITE, (1, 1), (1, 1), (1, 1), 1)
        assert np.abs(out - expect).max() <= 5e-5 * np.abs(expect).max()
        (entry,) = wf._entries.values()
        assert (entry[1] is None) == (call == 0)
