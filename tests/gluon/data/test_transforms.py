"""mx.gluon.data.vision.transforms: each transform against NumPy references and values printed by MXNet 1.9.1."""
import os
import random

import numpy as np
import pytest

import mxcy as mx
from mxcy.gluon.data.vision import transforms as T

# (8 columns x 6 rows x 3 channels) ramp, the image the MXNet-printed values below were computed from
IMAGE = (np.arange(6 * 8 * 3).reshape(6, 8, 3) % 251).astype(np.uint8)


def _nd(x):
    return mx.nd.array(x, dtype=x.dtype)


@pytest.mark.parametrize("transform, channel, want", [
    (T.CenterCrop(4), 0, [[30, 33, 36, 39], [54, 57, 60, 63], [78, 81, 84, 87], [102, 105, 108, 111]]),
    (T.CenterCrop((10, 4)), 1, [[25, 27, 29, 32, 34, 37, 39, 41, 44, 46], [40, 42, 44, 47, 49, 52, 54, 56, 59, 61],
                                [58, 60, 62, 65, 67, 70, 72, 74, 77, 79], [73, 75, 77, 80, 82, 85, 87, 89, 92, 94]]),
    (T.Resize(3, keep_ratio=True), 2, [[16, 22, 28, 34], [64, 70, 76, 82], [112, 118, 124, 130]]),
], ids=["center-crop", "center-crop-upscaled", "resize-keep-ratio"])
def test_values_printed_by_mxnet(transform, channel, want):
    got = transform(_nd(IMAGE)).asnumpy()
    assert got.dtype == np.uint8
    np.testing.assert_allclose(got[..., channel], want, atol=1)


def test_compose_to_tensor_normalize_matches_numpy_and_hybridizes_the_run():
    mean, std = (0.5, 0.4, 0.3), (0.2, 0.3, 0.4)
    chain = T.Compose([T.Cast("float32"), T.ToTensor(), T.Normalize(mean, std)])
    assert len(chain) == 1 and isinstance(chain[0], mx.gluon.nn.HybridSequential)
    want = (IMAGE.transpose(2, 0, 1) / 255.0 - np.array(mean)[:, None, None]) / np.array(std)[:, None, None]
    np.testing.assert_allclose(chain(_nd(IMAGE)).asnumpy(), want, rtol=1e-5, atol=1e-6)


def test_compose_keeps_plain_blocks_between_hybrid_runs():
    chain = T.Compose([T.CenterCrop(4), T.ToTensor()])
    assert isinstance(chain[0], T.CenterCrop) and isinstance(chain[1], T.ToTensor)
    assert chain(_nd(IMAGE)).shape == (3, 4, 4)


def test_crop_resize_crops_the_box_then_resizes():
    np.testing.assert_array_equal(T.CropResize(1, 2, 4, 2)(_nd(IMAGE)).asnumpy(), IMAGE[2:4, 1:5])
    out = T.CropResize(1, 2, 4, 2, size=(2, 1), interpolation=0)(_nd(IMAGE)).asnumpy()
    np.testing.assert_array_equal(out, IMAGE[2:4, 1:5][::2, ::2][:1])


def test_random_resized_crop_resizes_a_box_of_the_image():
    random.seed(0)
    x = np.random.default_rng(0).uniform(0, 1, (12, 10, 3)).astype(np.float32)
    for _ in range(5):
        out = T.RandomResizedCrop((5, 4), scale=(0.3, 1.0), interpolation=0)(mx.nd.array(x)).asnumpy()
        assert out.shape == (4, 5, 3)
        # nearest resizing keeps pixel values: every output pixel is a pixel of the image
        assert all((np.abs(x.reshape(-1, 3) - p).sum(1) == 0).any() for p in out.reshape(-1, 3))


def test_random_resized_crop_falls_back_to_the_centre_crop():
    random.seed(1)
    out = T.RandomResizedCrop(4, scale=(5.0, 6.0))(_nd(IMAGE)).asnumpy()
    np.testing.assert_array_equal(out, T.CenterCrop(4)(_nd(IMAGE)).asnumpy())


@pytest.mark.parametrize("block, op, args", [
    (T.RandomBrightness(0.3), "random_brightness", (0.7, 1.3)),
    (T.RandomContrast(1.5), "random_contrast", (0, 2.5)),
    (T.RandomSaturation(0.2), "random_saturation", (0.8, 1.2)),
    (T.RandomHue(0.1), "random_hue", (0.9, 1.1)),
    (T.RandomColorJitter(0.1, 0.2, 0.3, 0.4), "random_color_jitter", (0.1, 0.2, 0.3, 0.4)),
    (T.RandomLighting(0.1), "random_lighting", (0.1,)),
    (T.RandomFlipLeftRight(), "random_flip_left_right", ()),
    (T.RandomFlipTopBottom(), "random_flip_top_bottom", ()),
], ids=lambda v: type(v).__name__ if isinstance(v, mx.gluon.Block) else None)
@pytest.mark.parametrize("hybridize", [False, True])
def test_random_transforms_call_their_operator(block, op, args, hybridize):
    if hybridize:
        block.hybridize()
    mx.random.seed(9)
    got = block(_nd(IMAGE)).asnumpy()
    mx.random.seed(9)
    np.testing.assert_array_equal(got, getattr(mx.nd.image, op)(_nd(IMAGE), *args).asnumpy())


def test_random_apply_applies_with_probability_p():
    flip = T.RandomApply(T.CropResize(0, 0, 2, 2), p=0.5)
    random.seed(2)
    shapes = [flip(_nd(IMAGE)).shape for _ in range(40)]
    assert 5 < shapes.count((2, 2, 3)) < 35 and shapes.count((2, 2, 3)) + shapes.count(IMAGE.shape) == 40
    assert T.RandomApply(T.CropResize(0, 0, 2, 2), p=0.0)(_nd(IMAGE)).shape == IMAGE.shape


def test_resize_batches_and_bad_input_names_the_op():
    batch = np.stack([IMAGE, IMAGE])
    assert T.Resize((4, 3))(_nd(batch)).shape == (2, 3, 4, 3)
    with pytest.raises(mx.MXNetError, match="_image_to_tensor"):
        T.ToTensor()(mx.nd.ones((2, 2)))


_ROTATE_REF = np.load(os.path.join(os.path.dirname(__file__), "..", "..", "image", "fixtures", "rotate_reference.npz"))


@pytest.mark.parametrize("degrees, kwargs, key", [(45.0, {}, "plain_45"), (-30.0, {"zoom_in": True}, "zoom_in_-30"),
                                                  (200.0, {"zoom_out": True}, "zoom_out_200")])
def test_rotate_matches_mxnet(degrees, kwargs, key):
    got = T.Rotate(degrees, **kwargs)(mx.nd.array(_ROTATE_REF["img"]))
    np.testing.assert_allclose(got.asnumpy(), _ROTATE_REF[key], rtol=1e-5, atol=2e-6)


def test_random_rotation_draws_and_skips_like_mxnet():
    """MXNet-printed outputs after np.random.seed(3) with rotate_with_proba=0.3: four kept, two rotated."""
    rotation = T.RandomRotation((-40, 40), rotate_with_proba=0.3)
    np.random.seed(3)
    for i in range(6):
        got = rotation(mx.nd.array(_ROTATE_REF["img"])).asnumpy()
        np.testing.assert_allclose(got, _ROTATE_REF[f"random_rotation_{i}"], rtol=1e-5, atol=2e-6)


@pytest.mark.parametrize("make, error", [
    (lambda: T.RandomRotation((10, -10)), ValueError),
    (lambda: T.RandomRotation((-10, 10), rotate_with_proba=1.5), ValueError),
    (lambda: T.Rotate(10)(mx.nd.ones((3, 4, 4), dtype="uint8")), TypeError),
    (lambda: T.RandomRotation((-10, 10))(mx.nd.ones((3, 4, 4), dtype="uint8")), TypeError),
], ids=["unordered-limits", "probability", "rotate-uint8", "random-rotation-uint8"])
def test_rotation_bad_arguments(make, error):
    with pytest.raises(error, match="Rotat"):
        make()
