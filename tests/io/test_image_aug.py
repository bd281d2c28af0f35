"""ImageRecordIter's default augmenter against formulas: OpenCV's 8-bit HLS against Python's colorsys, colour
jitter and PCA noise against float64 NumPy with the same random draws, warpAffine against exact pixel maps, the
remap weight tables, crops. (The deterministic paths are also checked against MXNet 1.9.1 in
test_image_record.py.)"""
import colorsys

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from mxcy.io.image_aug import (AUG_PARAMS, DefaultAugmenter, _interp, _remap_table, hls8_to_rgb, rgb_to_hls8,
                               warp_affine)


def _augmenter(data_shape=(3, 8, 8), **kwargs):
    p = {name: default for name, (_, default) in AUG_PARAMS.items()}
    p.update(data_shape=data_shape, rotate_list=[], **kwargs)
    return DefaultAugmenter(p, "test")


def _image(seed, size=(8, 8)):
    return np.random.RandomState(seed).randint(0, 256, size + (3,)).astype(np.uint8)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2 ** 16))
def test_hls_matches_colorsys(seed):
    img = _image(seed, (4, 5))
    hue, light, sat = rgb_to_hls8(img)
    for (r, g, b), h, l_, s in zip(img.reshape(-1, 3) / 255.0, hue.ravel(), light.ravel(), sat.ravel()):
        ref_h, ref_l, ref_s = colorsys.rgb_to_hls(r, g, b)
        assert abs(ref_l * 255 - l_) <= 0.5 + 1e-4 and abs(ref_s * 255 - s) <= 0.5 + 1e-3
        assert min(abs(ref_h * 180 - h), 180 - abs(ref_h * 180 - h)) <= 0.5 + 1e-3
    rgb = hls8_to_rgb(hue, light, sat)
    for (h, l_, s), out in zip(zip(hue.ravel(), light.ravel(), sat.ravel()), rgb.reshape(-1, 3)):
        ref = np.array(colorsys.hls_to_rgb(h * 2 / 360, l_ / 255, s / 255)) * 255
        assert np.abs(ref - out).max() <= 0.5 + 1e-3


@pytest.mark.parametrize("name", ["brightness", "contrast", "saturation"])
def test_colour_jitter_follows_opencv_formulas(name):
    img = _image(1)
    out = _augmenter(**{name: 0.4})(img, np.random.default_rng(7))
    draws = np.random.default_rng(7)
    alphas = {n: 1 + draws.uniform(-0.4 if n == name else 0, 0.4 if n == name else 0)
              for n in ("brightness", "contrast", "saturation")}
    alpha = alphas[name]
    values = img.astype(np.float64)
    gray = np.rint(values @ [0.114, 0.587, 0.299])  # MXNet's RGB->gray applied to BGR data (within 1: fixed point)
    if name == "brightness":
        ref = values * alpha
    elif name == "contrast":
        ref = values * alpha + (1 - alpha) * gray.mean()
    else:
        ref = values * alpha + gray[:, :, None] * (1 - alpha)
    assert np.abs(np.clip(np.rint(ref), 0, 255) - out).max() <= 1


def test_pca_noise_adds_the_lighting_shift():
    img = _image(2)
    out = _augmenter(pca_noise=0.5)(img, np.random.default_rng(3))
    alpha = np.random.default_rng(3).normal(0, 0.5, 3)
    eig = np.array([[55.46 * -0.5675, 4.794 * 0.7192, 1.148 * 0.4009],
                    [55.46 * -0.5808, 4.794 * -0.0045, 1.148 * -0.8140],
                    [55.46 * -0.5836, 4.794 * -0.6948, 1.148 * 0.4203]])
    ref = np.clip(np.trunc(img + eig @ alpha), 0, 255)  # C's int += float: the sum truncated
    np.testing.assert_array_equal(out, ref)


@pytest.mark.parametrize("interp", [0, 1, 2, 4])
def test_warp_identity_and_integer_shift(interp):
    img = _image(4, (6, 7))
    identity = np.array([[1, 0, 0], [0, 1, 0]], np.float32)
    np.testing.assert_array_equal(warp_affine(img, identity, 7, 6, interp, 9), img)
    shifted = warp_affine(img, np.array([[1, 0, 2], [0, 1, 1]], np.float32), 7, 6, interp, 9)
    expected = np.full_like(img, 9)
    expected[1:, 2:] = img[:-1, :-2]
    np.testing.assert_array_equal(shifted, expected)


def test_warp_nearest_enlarging_repeats_pixels():
    img = _image(5, (3, 4))
    out = warp_affine(img, np.array([[2, 0, 0], [0, 2, 0]], np.float32), 8, 6, 0, 0)
    # output pixel x maps to x / 2, rounded half up in 1/1024 steps as OpenCV does
    rows, cols = np.minimum((np.arange(6) + 1) // 2, 2), np.minimum((np.arange(8) + 1) // 2, 3)
    expected = img[rows][:, cols]
    expected[-1, :] = 0  # row 5 maps to 2.5 -> 3, outside
    expected[:, -1] = 0
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("kind", ["linear", "cubic", "lanczos4"])
def test_remap_tables_sum_to_one(kind):
    table = _remap_table(kind)
    assert (table.sum(axis=(2, 3)) == 1 << 15).all()
    if kind == "linear":
        fy, fx = np.meshgrid(np.arange(32), np.arange(32), indexing="ij")
        np.testing.assert_array_equal(table[:, :, 0, 0], (32 - fy) * (32 - fx) * 32)


def test_interp_choice():
    rng = np.random.default_rng(0)
    assert _interp(9, 4, 4, 8, 8, rng) == 2 and _interp(9, 8, 8, 4, 4, rng) == 3 and _interp(9, 4, 8, 8, 4, rng) == 1
    assert {_interp(10, 4, 4, 8, 8, rng) for _ in range(60)} == {0, 1, 2, 3, 4}
    assert _interp(1, 4, 4, 8, 8, rng) == 1


def test_crop_size_and_random_resized_crop_give_data_shape():
    img = _image(6, (20, 24))
    centre = _augmenter(data_shape=(3, 10, 10), min_crop_size=10, max_crop_size=10)(img, np.random.default_rng(0))
    np.testing.assert_array_equal(centre, img[5:15, 7:17])  # a 10x10 crop needs no resize
    sized = _augmenter(data_shape=(3, 9, 7), random_resized_crop=True, min_random_area=0.3,
                       max_aspect_ratio=0.5)
    for seed in range(5):
        assert sized(img, np.random.default_rng(seed)).shape == (9, 7, 3)
