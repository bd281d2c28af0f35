"""The padded-pitch geometry of conv_shift_cpu against NumPy: tap shifts, run length and plane embedding (the
kernels themselves are checked through conv_cpu in test_conv.py)."""
import numpy as np
import pytest

from mxcy.kernels import conv_shift_cpu as cs


def test_shifts_index_the_padded_input():
    # Tap (kd, kh, kw) of output (od, oh, ow) reads padded element (od + kd*dd, oh + kh*dh, ow + kw*dw).
    pdims, ksz, dil, osz = (4, 7, 9), (2, 3, 2), (2, 1, 3), (2, 5, 6)
    flat = np.arange(np.prod(pdims)).reshape(pdims)
    sh = cs.shifts(pdims, ksz, dil)
    for t, (kd, kh, kw) in enumerate(np.ndindex(*ksz)):
        for od, oh, ow in np.ndindex(*osz):
            j = (od * pdims[1] + oh) * pdims[2] + ow
            assert j + sh[t] == flat[od + kd * dil[0], oh + kh * dil[1], ow + kw * dil[2]]
    last = ((osz[0] - 1) * pdims[1] + osz[1] - 1) * pdims[2] + osz[2] - 1
    assert cs.run_length(osz, pdims) == last + 1
    assert cs.padded_dims((2, 5, 3), (1, 0, 2)) == (4, 5, 7)


@pytest.mark.parametrize("threaded", [False, True])
def test_embed_places_planes_in_zeros(threaded):
    rng = np.random.default_rng(0)
    src = rng.standard_normal((3, 2 * 3 * 4)).astype(np.float32)
    ddims, off = (3, 5, 7), (1, 2, 1)
    dst = np.full((3, int(np.prod(ddims))), np.nan, np.float32)
    cs.embed.build(threaded)(src, (2, 3, 4), dst, ddims, off)
    want = np.zeros((3,) + ddims, np.float32)
    want[:, 1:3, 2:5, 1:5] = src.reshape(3, 2, 3, 4)
    np.testing.assert_array_equal(dst.reshape(want.shape), want)
