"""The ImageRecordIter packing kernels against NumPy: float32 normalisation in MXNet's operation order, uint8
copies and saturated int8 differences, each with and without mirroring."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from mxcy.kernels import image_pack


def _case(seed, channels):
    rng = np.random.RandomState(seed)
    img = rng.randint(0, 256, (5, 7, channels)).astype(np.uint8)
    mean = rng.uniform(-50, 200, (channels, 5, 7)).astype(np.float32)
    return rng, img, mean


def _chw(img, mirror):
    return img.transpose(2, 0, 1)[:, :, ::-1] if mirror else img.transpose(2, 0, 1)


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 2 ** 16), st.sampled_from([1, 3, 4]), st.booleans(), st.booleans())
def test_pack_float(seed, channels, mirror, cropped):
    """The image comes as its rows (H, W*C): of a whole image, or views into a larger one (a crop)."""
    rng, img, mean = _case(seed, channels)
    mult, bias = rng.uniform(-2, 2, (2, channels)).astype(np.float32)
    out = np.zeros((channels, 5, 7), np.float32)
    if cropped:
        larger = rng.randint(0, 256, (8, 9, channels)).astype(np.uint8)
        larger[2:7, 1:8] = img
        img = larger[2:7, 1:8]
    rows = img.reshape(5, -1)
    assert np.shares_memory(rows, img)
    image_pack.pack_float(rows, mean, mult, bias, mirror, out)
    f32 = np.float32
    expected = (_chw(img, False).astype(f32) - mean) * mult[:, None, None] + bias[:, None, None]
    np.testing.assert_array_equal(out, expected[:, :, ::-1] if mirror else expected)


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 2 ** 16), st.sampled_from([1, 3]))
def test_pack_float_divide(seed, channels):
    rng, img, mean = _case(seed, channels)
    std = rng.uniform(0.5, 3, channels).astype(np.float32)
    out = np.zeros((channels, 5, 7), np.float32)
    image_pack.pack_float_divide(img, mean, std, np.float32(0.7), out)
    expected = (_chw(img, False).astype(np.float32) - mean) / std[:, None, None] * np.float32(0.7)
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("mirror", [False, True])
def test_pack_uint8_and_int8(mirror):
    _, img, mean = _case(3, 3)
    out8 = np.zeros((3, 5, 7), np.uint8)
    image_pack.pack_uint8(img, mirror, out8)
    np.testing.assert_array_equal(out8, _chw(img, mirror))
    rounded = np.round(mean)
    outi = np.zeros((3, 5, 7), np.int8)
    image_pack.pack_int8(img, rounded, mirror, outi)
    expected = np.clip(_chw(img, False).astype(np.int64) - rounded.astype(np.int64), -128, 127)
    np.testing.assert_array_equal(outi, expected[:, :, ::-1] if mirror else expected)
