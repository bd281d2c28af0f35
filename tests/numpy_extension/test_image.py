"""npx.image: mx.nd.image's operators on mx.np arrays, against NumPy."""
import numpy as onp

from mxcy import np, npx


def test_every_image_operator_is_there():
    import mxcy as mx
    assert set(npx.image.__all__) == {n for n in dir(mx.nd.image) if not n.startswith("_")}


def test_to_tensor_normalize_and_flip_as_numpy():
    image = onp.random.default_rng(0).integers(0, 256, (4, 5, 3)).astype(onp.uint8)
    tensor = npx.image.to_tensor(np.array(image, dtype="uint8"))
    expected = image.transpose(2, 0, 1).astype(onp.float64) / 255
    assert type(tensor) is np.ndarray and tensor.dtype == onp.float32
    onp.testing.assert_allclose(tensor.asnumpy(), expected, rtol=1e-6)
    normalized = npx.image.normalize(tensor, mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25))
    onp.testing.assert_allclose(normalized.asnumpy(), (expected - 0.5) / 0.25, rtol=1e-5, atol=1e-6)
    flipped = npx.image.flip_left_right(np.array(image, dtype="uint8"))
    onp.testing.assert_array_equal(flipped.asnumpy(), image[:, ::-1])
