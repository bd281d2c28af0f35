"""mx.image augmenters against NumPy formulas with the same Python random draws."""
import json
import random

import numpy as np
import pytest

import mxcy as mx
from mxcy import image as mximage

_LUMA = np.array([0.299, 0.587, 0.114])


def _img(h=6, w=8, seed=0):
    return np.random.RandomState(seed).uniform(0, 255, (h, w, 3)).astype(np.float32)


def _draw(seed, low, high):
    random.seed(seed)
    return random.uniform(low, high)


@pytest.mark.parametrize("aug_cls, formula", [
    (mximage.BrightnessJitterAug, lambda x, a: x * a),
    (mximage.ContrastJitterAug, lambda x, a: x * a + (1 - a) * (x @ _LUMA).mean()),
    (mximage.SaturationJitterAug, lambda x, a: x * a + (1 - a) * (x @ _LUMA)[:, :, None]),
])
def test_color_jitters(aug_cls, formula):
    x = _img()
    alpha = 1.0 + _draw(5, -0.4, 0.4)
    random.seed(5)
    out = aug_cls(0.4)(mx.nd.array(x)).asnumpy()
    np.testing.assert_allclose(out, formula(x.astype(np.float64), alpha), rtol=1e-4, atol=1e-2)


def test_hue_jitter_keeps_gray_and_matches_yiq_rotation():
    gray = np.full((2, 3, 3), 100.0, np.float32)
    random.seed(2)
    np.testing.assert_allclose(mximage.HueJitterAug(0.3)(mx.nd.array(gray)).asnumpy(), gray, atol=0.2)
    x = _img()
    angle = _draw(4, -0.3, 0.3) * np.pi
    tyiq = np.array([[0.299, 0.587, 0.114], [0.596, -0.274, -0.321], [0.211, -0.523, 0.311]])
    y = x.astype(np.float64) @ tyiq.T
    i, q = y[..., 1].copy(), y[..., 2].copy()
    y[..., 1], y[..., 2] = np.cos(angle) * i - np.sin(angle) * q, np.sin(angle) * i + np.cos(angle) * q
    expected = y @ np.array([[1.0, 0.956, 0.621], [1.0, -0.272, -0.647], [1.0, -1.107, 1.705]]).T
    random.seed(4)
    np.testing.assert_allclose(mximage.HueJitterAug(0.3)(mx.nd.array(x)).asnumpy(), expected, rtol=1e-4, atol=1e-2)


def test_lighting_adds_pca_noise():
    x = _img()
    eigval, eigvec = np.array([3.0, 2.0, 1.0]), np.eye(3)[::-1]
    np.random.seed(7)
    alpha = np.random.normal(0, 0.5, size=(3,))
    np.random.seed(7)
    out = mximage.LightingAug(0.5, eigval, eigvec)(mx.nd.array(x)).asnumpy()
    np.testing.assert_allclose(out, x + eigvec @ (alpha * eigval), rtol=1e-5)


def test_random_gray_and_flip_and_cast():
    x = _img()
    out = mximage.RandomGrayAug(1.0)(mx.nd.array(x)).asnumpy()
    gray = x @ np.array([0.21, 0.72, 0.07])
    np.testing.assert_allclose(out, np.repeat(gray[:, :, None], 3, axis=2), rtol=1e-5)
    assert mximage.RandomGrayAug(0.0)(mx.nd.array(x)).asnumpy().tolist() == x.tolist()
    np.testing.assert_array_equal(mximage.HorizontalFlipAug(1.0)(mx.nd.array(x)).asnumpy(), x[:, ::-1])
    assert mximage.CastAug("float64")(mx.nd.array(x)).dtype == np.float64


def test_geometric_augmenters_output_shapes():
    x = mx.nd.array(_img(10, 12))
    assert mximage.ResizeAug(5)(x).shape == (5, 6, 3)
    assert mximage.ForceResizeAug((7, 4))(x).shape == (4, 7, 3)
    assert mximage.RandomCropAug((5, 4))(x).shape == (4, 5, 3)
    np.testing.assert_array_equal(mximage.CenterCropAug((4, 6))(x).asnumpy(), x.asnumpy()[2:8, 4:8])
    assert mximage.RandomSizedCropAug((6, 5), 0.3, (0.75, 1.33))(x).shape == (5, 6, 3)


def test_color_normalize_aug_and_sequence_and_dumps():
    x = _img()
    mean, std = [1.0, 2.0, 3.0], [2.0, 2.0, 4.0]
    seq = mximage.SequentialAug([mximage.ColorNormalizeAug(mean, std), mximage.CastAug()])
    np.testing.assert_allclose(seq(mx.nd.array(x)).asnumpy(), (x - mean) / np.array(std), rtol=1e-6)
    assert json.loads(mximage.ColorNormalizeAug(np.array(mean), None).dumps()) == \
        ["colornormalizeaug", {"mean": mean, "std": None}]
    assert seq.dumps()[0] == "sequentialaug" and len(seq.dumps()[1]) == 2


def test_create_augmenter_order():
    augs = mximage.CreateAugmenter((3, 8, 8), resize=10, rand_crop=True, rand_resize=True, rand_mirror=True,
                                   mean=True, std=True, brightness=0.1, contrast=0.1, hue=0.1, pca_noise=0.1,
                                   rand_gray=0.1)
    assert [type(a).__name__ for a in augs] == [
        "ResizeAug", "RandomSizedCropAug", "HorizontalFlipAug", "CastAug", "ColorJitterAug", "HueJitterAug",
        "LightingAug", "RandomGrayAug", "ColorNormalizeAug"]
    assert len(augs[4].ts) == 2
    out = mximage.SequentialAug(augs)(mx.nd.array(_img(12, 14).astype(np.uint8), dtype=np.uint8))
    assert out.shape == (8, 8, 3) and out.dtype == np.float32
    assert [type(a).__name__ for a in mximage.CreateAugmenter((3, 4, 4))] == ["CenterCropAug", "CastAug"]
    with pytest.raises(ValueError, match="rand_crop"):
        mximage.CreateAugmenter((3, 4, 4), rand_resize=True)
    with pytest.raises(ValueError, match="mean"):
        mximage.CreateAugmenter((3, 4, 4), mean=[1, 2])
