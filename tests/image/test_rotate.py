"""mx.image.imrotate / random_rotate against MXNet 1.9.1's outputs (fixtures/rotate_reference.npz), exact
quarter turns, the gradient of a linear map, and the errors MXNet raises."""
import os

import numpy as np
import pytest

import mxcy as mx

REF = np.load(os.path.join(os.path.dirname(__file__), "fixtures", "rotate_reference.npz"))
MODES = {"plain": {}, "zoom_in": {"zoom_in": True}, "zoom_out": {"zoom_out": True}}
SINGLE = [k for k in REF.files if k.rsplit("_", 1)[0] in MODES]


@pytest.mark.parametrize("key", SINGLE)
def test_single_image_matches_mxnet(key):
    mode, degrees = key.rsplit("_", 1)
    got = mx.image.imrotate(mx.nd.array(REF["img"]), float(degrees), **MODES[mode])
    assert got.dtype == np.float32
    np.testing.assert_allclose(got.asnumpy(), REF[key], rtol=1e-5, atol=2e-6)


@pytest.mark.parametrize("mode", list(MODES))
def test_batch_with_one_angle_per_image_matches_mxnet(mode):
    got = mx.image.imrotate(mx.nd.array(REF["batch"]), mx.nd.array(REF["batch_angles"]), **MODES[mode])
    np.testing.assert_allclose(got.asnumpy(), REF[f"batch_{mode}"], rtol=1e-5, atol=2e-6)


def test_random_rotate_draws_like_mxnet():
    np.random.seed(3)
    for i in range(3):
        got = mx.image.random_rotate(mx.nd.array(REF["batch"]), (-50, 50), zoom_in=True)
        np.testing.assert_allclose(got.asnumpy(), REF[f"random_rotate_{i}"], rtol=1e-5, atol=2e-6)


@pytest.mark.parametrize("quarter_turns", [1, 2, 3])
def test_quarter_turns_of_a_square_image_move_pixels_exactly(quarter_turns):
    img = np.random.default_rng(0).random((2, 5, 5)).astype(np.float32)
    got = mx.image.imrotate(mx.nd.array(img), 90.0 * quarter_turns).asnumpy()
    # positive angles turn the picture counter-clockwise as displayed (rows downwards)
    np.testing.assert_allclose(got, np.rot90(img, quarter_turns, axes=(1, 2)), atol=1e-5)


def test_gradient_is_the_transpose_of_the_linear_map():
    """Rotation is linear in the pixels: d sum(w * rot(x)) / dx[k] = sum(w * rot(e_k))."""
    rng = np.random.default_rng(1)
    img = mx.nd.array(rng.random((1, 3, 4)).astype(np.float32))
    weights = rng.random((1, 3, 4))
    img.attach_grad()
    with mx.autograd.record():
        loss = (mx.image.imrotate(img, 33.0, zoom_out=True) * mx.nd.array(weights)).sum()
    loss.backward()
    want = np.zeros(img.shape)
    for k in np.ndindex(img.shape):
        basis = np.zeros(img.shape, np.float32)
        basis[k] = 1
        want[k] = (mx.image.imrotate(mx.nd.array(basis), 33.0, zoom_out=True).asnumpy() * weights).sum()
    np.testing.assert_allclose(img.grad.asnumpy(), want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("src, degrees, kwargs, error", [
    (np.zeros((3, 4, 4), np.float32), 10, {"zoom_in": True, "zoom_out": True}, ValueError),
    (np.zeros((3, 4, 4), np.uint8), 10, {}, TypeError),
    (np.zeros((3, 4, 4), np.float32), [1.0, 2.0], {}, TypeError),
    (np.zeros((2, 3, 4, 4), np.float32), [1.0, 2.0, 3.0], {}, ValueError),
    (np.zeros((4, 4), np.float32), 10, {}, ValueError),
], ids=["both-zooms", "uint8", "one-image-many-angles", "angle-count", "2-d"])
def test_bad_input_raises_as_mxnet(src, degrees, kwargs, error):
    angles = degrees if np.isscalar(degrees) else mx.nd.array(degrees)
    with pytest.raises(error, match="imrotate"):
        mx.image.imrotate(mx.nd.array(src, dtype=src.dtype), angles, **kwargs)


@pytest.mark.cuda
def test_runs_on_the_gpu_through_its_ops():
    img = np.random.default_rng(2).random((2, 3, 4)).astype(np.float32)
    want = mx.image.imrotate(mx.nd.array(img), 25.0, zoom_in=True).asnumpy()
    got = mx.image.imrotate(mx.nd.array(img, ctx=mx.gpu(0)), 25.0, zoom_in=True)
    assert got.context == mx.gpu(0)
    np.testing.assert_allclose(got.asnumpy(), want, rtol=1e-5, atol=1e-6)
