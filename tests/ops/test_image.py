"""Image operators: OpSpecs of the deterministic ones against NumPy float64 references, every op against
values printed by MXNet 1.9.1 (fixtures/image_reference.json), the random ones' draws and errors."""
import json
import os

import numpy as np
import pytest

import mxcy as mx
from tests.ops.opspec import OpSpec, spec_tests

NO_GRAD = "MXNet 1.9.1 defines no usable gradient for it (an image op on integer pixels)"
NO_SPEC = {"_backward_image_crop": "hidden backward op; the gradient spec of _image_crop runs it"}


def _image(rng, batch=False, channels=(1, 3)):
    shape = (int(rng.integers(1, 5)), int(rng.integers(1, 5)), int(rng.choice(channels)))
    if batch and rng.integers(2):
        shape = (int(rng.integers(1, 3)),) + shape
    return rng.uniform(0, 255, shape)


def _make_to_tensor(rng):
    return [_image(rng, batch=True)], {}


def _make_normalize(rng):
    x = np.ascontiguousarray(np.moveaxis(_image(rng, batch=True), -1, -3)) / 255
    count = 1 if rng.integers(2) else x.shape[-3]
    return [x], {"mean": tuple(rng.uniform(-1, 1, count)), "std": tuple(rng.uniform(0.5, 2, count))}


def _normalize(x, mean, std):
    c = x.shape[-3]
    return (x - np.resize(mean, c)[:, None, None]) / np.resize(std, c)[:, None, None]


def _make_flip(rng):
    return [_image(rng)], {}


def _make_lighting(rng):
    return [_image(rng, channels=(3,))], {"alpha": tuple(rng.uniform(-0.1, 0.1, 3))}


_EIG = np.array([[55.46 * -0.5675, 4.794 * 0.7192, 1.148 * 0.4009],
                 [55.46 * -0.5808, 4.794 * -0.0045, 1.148 * -0.8140],
                 [55.46 * -0.5836, 4.794 * -0.6948, 1.148 * 0.4203]])


def _make_crop(rng):
    x = _image(rng, batch=True)
    h, w = x.shape[-3:-1]
    y0, x0 = int(rng.integers(0, h)), int(rng.integers(0, w))
    return [x], {"x": x0, "y": y0, "width": int(rng.integers(1, w - x0 + 1)), "height": int(rng.integers(1, h - y0 + 1))}


def _make_resize(rng):
    x = _image(rng, batch=True)
    return [x], {"size": (int(rng.integers(1, 7)), int(rng.integers(1, 7))), "interp": int(rng.integers(2))}


def _resize(x, size, interp):
    """Per-pixel OpenCV resize: nearest floor(i * src / dst), or bilinear at half-pixel centres, clamped."""
    height, width = size[1], size[0]
    if interp == 1 and x.shape[-3] == 2 * height and x.shape[-2] == 2 * width:
        return (x[..., 0::2, 0::2, :] + x[..., 1::2, 0::2, :] + x[..., 0::2, 1::2, :] + x[..., 1::2, 1::2, :]) / 4
    out = np.zeros(x.shape[:-3] + (height, width, x.shape[-1]))
    for i in range(height):
        for j in range(width):
            if interp == 0:
                out[..., i, j, :] = x[..., i * x.shape[-3] // height, j * x.shape[-2] // width, :]
                continue
            weights = []
            for d, src, dst in ((i, x.shape[-3], height), (j, x.shape[-2], width)):
                pos = (d + 0.5) * src / dst - 0.5
                lo = int(np.floor(pos))
                frac = 0.0 if lo < 0 or lo >= src - 1 else pos - lo
                lo = min(max(lo, 0), src - 1)
                weights.append(((lo, 1 - frac), (min(lo + 1, src - 1), frac)))
            out[..., i, j, :] = sum(wy * wx * x[..., yy, xx, :] for yy, wy in weights[0] for xx, wx in weights[1])
    return out


SPECS = [
    OpSpec("_image_to_tensor", _make_to_tensor, lambda x: np.moveaxis(x, -1, -3) / 255, grad=False, why=NO_GRAD),
    OpSpec("_image_normalize", _make_normalize, _normalize, rtol=1e-5, atol=1e-5),
    OpSpec("_backward_image_normalize", _make_normalize, lambda g, mean, std: _normalize(g, [0.0], std)),
    OpSpec("_image_flip_left_right", _make_flip, lambda x: x[:, ::-1]),
    OpSpec("_image_flip_top_bottom", _make_flip, lambda x: x[::-1]),
    OpSpec("_image_adjust_lighting", _make_lighting, lambda x, alpha: x + _EIG @ np.array(alpha), rtol=1e-5,
           atol=1e-4, grad=False, why=NO_GRAD),
    OpSpec("_image_crop", _make_crop, lambda img, x, y, width, height: img[..., y:y + height, x:x + width, :]),
    OpSpec("_image_resize", _make_resize, _resize, rtol=1e-5, atol=1e-3, grad=False, why=NO_GRAD),
]


test_forward, test_gradient, test_req_add = spec_tests(SPECS)

with open(os.path.join(os.path.dirname(__file__), "fixtures", "image_reference.json")) as _f:
    MXNET_CASES = json.load(_f)


_FLIP_AXES = {"flip_left_right": 1, "flip_top_bottom": 0}

_RESIZED = np.load(os.path.join(os.path.dirname(__file__), "fixtures", "resize_reference.npz"))


@pytest.mark.parametrize("key", [k for k in _RESIZED.files if k != "img"])
def test_resize_equals_mxnet_for_every_interpolation(key):
    """Every OpenCV code, uint8 (OpenCV's fixed-point arithmetic: equal to the last bit) and float32."""
    dtype, interp, size = key.split("_")
    width, height = map(int, size.split("x"))
    x = mx.nd.array(_RESIZED["img"].astype(dtype), dtype=dtype)
    got = mx.nd.image.resize(x, size=(width, height), interp=int(interp)).asnumpy()
    want = _RESIZED[key]
    assert got.dtype == want.dtype and got.shape == want.shape
    if dtype == "uint8":
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-3)


@pytest.mark.parametrize("case", MXNET_CASES, ids=lambda c: f"{c['op']}-{c['dtype']}-{np.shape(c['input'])}")
def test_values_printed_by_mxnet(case):
    x = mx.nd.array(np.array(case["input"], case["dtype"]), dtype=case["dtype"])
    got = getattr(mx.nd.image, case["op"])(x, **case["kwargs"]).asnumpy()
    want = np.array(case["output"], case["output_dtype"])
    assert got.dtype == want.dtype and got.shape == want.shape
    if case["op"].startswith("flip") and got.shape[_FLIP_AXES[case["op"]]] % 2:
        # MXNet 1.9.1 swaps pairs of rows/columns and never writes the middle one of an odd size (its output
        # there is whatever the buffer held); mxcy copies it, so only the swapped pairs are compared
        axis = _FLIP_AXES[case["op"]]
        middle = got.shape[axis] // 2
        got, want = np.delete(got, middle, axis), np.delete(want, middle, axis)
    # uint8 results may differ by one where MXNet's float32 arithmetic (or OpenCV's fixed point) rounds a
    # value sitting on an integer boundary the other way
    atol = 1 if want.dtype == np.uint8 else 1e-3
    np.testing.assert_allclose(got.astype(np.float64), want, rtol=1e-5, atol=atol)


def test_saturate_clips_uint8_but_not_float():
    x = np.full((1, 1, 3), 200, np.uint8)
    assert (mx.nd.image.random_brightness(mx.nd.array(x, dtype="uint8"), 2, 2).asnumpy() == 255).all()
    assert (mx.nd.image.random_brightness(mx.nd.array(x), 2, 2).asnumpy() == 400).all()


RANDOM_OPS = [("random_flip_left_right", {}), ("random_flip_top_bottom", {}),
              ("random_brightness", {"min_factor": 0.5, "max_factor": 1.5}),
              ("random_contrast", {"min_factor": 0.5, "max_factor": 1.5}),
              ("random_saturation", {"min_factor": 0.5, "max_factor": 1.5}),
              ("random_hue", {"min_factor": 0.0, "max_factor": 0.5}),
              ("random_color_jitter", {"brightness": 0.3, "contrast": 0.3, "saturation": 0.3, "hue": 0.3}),
              ("random_lighting", {"alpha_std": 0.5})]


@pytest.mark.parametrize("name, kwargs", RANDOM_OPS, ids=[n for n, _ in RANDOM_OPS])
def test_random_ops_follow_the_seed_and_vary_between_calls(name, kwargs):
    x = mx.nd.array(np.random.default_rng(0).uniform(0, 255, (4, 5, 3)))
    fn = getattr(mx.nd.image, name)

    def draws():
        mx.random.seed(11)
        return [fn(x, **kwargs).asnumpy() for _ in range(8)]
    first, second = draws(), draws()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(first[0], d) for d in first[1:])


@pytest.mark.parametrize("name, axis", [("random_flip_left_right", 1), ("random_flip_top_bottom", 0)])
def test_random_flips_flip_or_keep(name, axis):
    x = np.random.default_rng(1).uniform(0, 255, (3, 4, 3)).astype(np.float32)
    mx.random.seed(3)
    flipped = 0
    for _ in range(40):
        y = getattr(mx.nd.image, name)(mx.nd.array(x)).asnumpy()
        assert np.array_equal(y, x) or np.array_equal(y, np.flip(x, axis))
        flipped += np.array_equal(y, np.flip(x, axis))
    assert 5 < flipped < 35


def test_op_generators_are_philox_keyed_by_the_call_in_every_thread():
    """Each thread rekeys its own generator: the streams equal fresh Philox generators' whatever the interleaving."""
    from concurrent.futures import ThreadPoolExecutor
    from mxcy.ops import image
    keys = [(seed, call) for seed in (0, 7, 2**64 - 1) for call in (0, 1, 2**40 + 3)] * 20

    def draws(offset):
        return [image._rng({"__key__": keys[(k + offset) % len(keys)]}).random(3) for k in range(len(keys))]

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(draws, range(8)))
    for offset, got in enumerate(results):
        for k, values in enumerate(got):
            seed, call = keys[(k + offset) % len(keys)]
            want = np.random.Generator(np.random.Philox(key=seed | (call << 64))).random(3)
            np.testing.assert_array_equal(values, want)


def test_random_factor_lies_in_its_range():
    x = mx.nd.ones((2, 2, 3)) * 10
    mx.random.seed(5)
    values = [mx.nd.image.random_brightness(x, 0.5, 0.8).asnumpy()[0, 0, 0] for _ in range(30)]
    assert 5 <= min(values) and max(values) < 8


def test_color_jitter_with_only_brightness_scales():
    x = np.random.default_rng(2).uniform(0, 100, (3, 3, 3)).astype(np.float32)
    mx.random.seed(4)
    y = mx.nd.image.random_color_jitter(mx.nd.array(x), 0.5, 0, 0, 0).asnumpy()
    factor = y / x
    assert np.allclose(factor, factor.flat[0], rtol=1e-5) and 0.5 <= factor.flat[0] < 1.5


@pytest.mark.parametrize("dtype", ["int32", "uint8"])
def test_normalize_of_integers_uses_float_mean_and_std_and_truncates(dtype):
    # MXNet computes (x - mean[c]) / std[c] with float mean and std and assigns the result to the input's type
    x = (np.arange(24).reshape(3, 2, 4) * 7).astype(dtype)
    mean, std = (1.5, 2.25, 3.0), (2.0, 3.0, 0.5)
    y = mx.nd.image.normalize(mx.nd.array(x, dtype=dtype), mean=mean, std=std).asnumpy()
    want = np.trunc((x - np.array(mean)[:, None, None]) / np.array(std)[:, None, None])
    assert y.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(y, want.astype(dtype))


def test_normalize_gradient_is_head_over_std():
    x = mx.nd.ones((3, 2, 2))
    x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.image.normalize(x, mean=(1, 2, 3), std=(2, 4, 8))
    y.backward(mx.nd.ones_like(y))
    np.testing.assert_allclose(x.grad.asnumpy()[:, 0, 0], [0.5, 0.25, 0.125])


def test_symbols_infer_shapes():
    data = mx.sym.var("data")
    for fn, kwargs, in_shape, out_shape in [
            (mx.sym.image.to_tensor, {}, (2, 5, 4, 3), (2, 3, 5, 4)),
            (mx.sym.image.resize, {"size": 3, "keep_ratio": True}, (6, 9, 3), (3, 4, 3)),
            (mx.sym.image.crop, {"x": 1, "y": 0, "width": 2, "height": 3}, (4, 4, 1), (3, 2, 1))]:
        _, outs, _ = fn(data, **kwargs).infer_shape(data=in_shape)
        assert outs == [out_shape]


@pytest.mark.parametrize("call, match", [
    (lambda: mx.nd.image.to_tensor(mx.nd.ones((2, 3))), r"_image_to_tensor.*\(H, W, C\)"),
    (lambda: mx.nd.image.normalize(mx.nd.ones((2, 3, 3)), mean=(0, 1, 2)), r"_image_normalize.*1 or 3 channels"),
    (lambda: mx.nd.image.normalize(mx.nd.ones((3, 3, 3)), mean=(0, 1)), r"_image_normalize.*mean must have 1 or 3"),
    (lambda: mx.nd.image.flip_left_right(mx.nd.ones((2, 3, 3, 3))), r"_image_flip_left_right.*\(H, W, C\)"),
    (lambda: mx.nd.image.crop(mx.nd.ones((4, 4, 3)), x=3, y=0, width=2, height=1), r"_image_crop.*leaves"),
    (lambda: mx.nd.image.resize(mx.nd.ones((4, 4, 3)), size=(1, 2, 3)), r"_image_resize.*size must be"),
    (lambda: mx.nd.image.resize(mx.nd.ones((4, 4, 3)), size=3, interp=7), r"_image_resize.*interp=7"),
    (lambda: mx.nd.image.random_brightness(mx.nd.ones((4, 4, 3)), -1, 1), r"_image_random_brightness.*>= 0"),
    (lambda: mx.nd.image.adjust_lighting(mx.nd.ones((4, 4, 3)), alpha=(1, 2)), r"_image_adjust_lighting.*3 elements"),
])
def test_bad_input_raises_naming_op(call, match):
    with pytest.raises(mx.MXNetError, match=match):
        call()
