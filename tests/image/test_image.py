"""mx.image: decode against Pillow, resize against NumPy and MXNet 1.9.1's printed values, crops against slicing."""
import random

import numpy as np
import pytest
from PIL import Image

import mxcy as mx
from mxcy import image as mximage


def _rgb(h=10, w=12, seed=0):
    return np.random.RandomState(seed).randint(0, 256, (h, w, 3)).astype(np.uint8)


def _png(arr):
    buf = __import__("io").BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def test_imdecode_png_colour_gray_and_bgr():
    arr = _rgb()
    data = _png(arr)
    np.testing.assert_array_equal(mximage.imdecode(data).asnumpy(), arr)
    np.testing.assert_array_equal(mximage.imdecode(data, to_rgb=False).asnumpy(), arr[:, :, ::-1])
    # OpenCV reads colour PNGs as gray through libpng's truncating weights (equal to MXNet 1.9.1's
    # ImageRecordIter output, tests/io/fixtures 'gray' config)
    rgb = arr.astype(np.int64)
    gray = ((rgb[:, :, 0] * 9797 + rgb[:, :, 1] * 19234 + rgb[:, :, 2] * 3737) >> 15)[:, :, None]
    decoded = mximage.imdecode(data, flag=0)
    assert decoded.dtype == np.uint8 and decoded.shape == (10, 12, 1)
    np.testing.assert_array_equal(decoded.asnumpy(), gray)


@pytest.mark.parametrize("wrap", [bytearray, lambda b: np.frombuffer(b, np.uint8),
                                  lambda b: mx.nd.array(np.frombuffer(b, np.uint8), dtype=np.uint8)])
def test_imdecode_buffer_types(wrap):
    arr = _rgb(4, 5)
    np.testing.assert_array_equal(mximage.imdecode(wrap(_png(arr))).asnumpy(), arr)


def test_imdecode_jpeg_matches_pillow_decode():
    buf = __import__("io").BytesIO()
    Image.fromarray(_rgb(16, 16)).save(buf, format="JPEG", quality=90)
    expected = np.asarray(Image.open(__import__("io").BytesIO(buf.getvalue())).convert("RGB"))
    np.testing.assert_array_equal(mximage.imdecode(buf.getvalue()).asnumpy(), expected)


def test_imdecode_bad_input():
    with pytest.raises(mx.MXNetError, match="imdecode"):
        mximage.imdecode(b"not an image")
    with pytest.raises(ValueError, match="bytes"):
        mximage.imdecode("a str")
    with pytest.raises(mx.MXNetError, match="flag"):
        mximage.imdecode(_png(_rgb(2, 2)), flag=3)


def test_imread(tmp_path):
    arr = _rgb(6, 7)
    path = tmp_path / "x.png"
    path.write_bytes(_png(arr))
    np.testing.assert_array_equal(mx.image.imread(str(path)).asnumpy(), arr)
    np.testing.assert_array_equal(mx.image.imread(str(path), 1, False).asnumpy(), arr[:, :, ::-1])
    with pytest.raises(mx.MXNetError, match="imread"):
        mx.img.image.imread(str(tmp_path / "missing.png"))  # MXNet's alias mx.img


# MXNet 1.9.1: mx.image.imresize(np.random.RandomState(0).randint(0, 255, (4, 5, 3)) as uint8, 8, 7, interp)[:, :, 0]
_MXNET_NEAREST = [[172, 172, 192, 192, 195, 211, 211, 36], [172, 172, 192, 192, 195, 211, 211, 36],
                  [216, 216, 58, 58, 39, 88, 88, 25], [216, 216, 58, 58, 39, 88, 88, 25],
                  [9, 9, 208, 208, 254, 192, 192, 216], [9, 9, 208, 208, 254, 192, 192, 216],
                  [29, 29, 142, 142, 193, 127, 127, 202]]
_MXNET_BILINEAR = [[172, 181, 192, 194, 200, 210, 112, 36], [188, 168, 144, 141, 148, 165, 91, 32],
                   [213, 149, 66, 55, 65, 94, 57, 26], [113, 121, 134, 142, 144, 140, 129, 121],
                   [10, 95, 206, 235, 230, 191, 203, 215], [22, 85, 169, 199, 194, 154, 182, 207],
                   [29, 78, 145, 177, 172, 131, 169, 202]]


@pytest.mark.parametrize("interp, expected, atol", [(0, _MXNET_NEAREST, 0), (1, _MXNET_BILINEAR, 1)])
def test_imresize_matches_mxnet(interp, expected, atol):
    src = mx.nd.array(np.random.RandomState(0).randint(0, 255, (4, 5, 3)).astype(np.uint8), dtype=np.uint8)
    out = mximage.imresize(src, 8, 7, interp=interp)
    assert out.shape == (7, 8, 3) and out.dtype == np.uint8
    np.testing.assert_allclose(out.asnumpy()[:, :, 0].astype(int), expected, atol=atol)


@pytest.mark.parametrize("interp", [0, 1, 2, 3, 4, 9])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_imresize_constant_image_stays_constant(interp, dtype):
    src = mx.nd.array(np.full((6, 9, 3), 77, dtype), dtype=dtype)
    for w, h in [(4, 3), (13, 11)]:
        out = mximage.imresize(src, w, h, interp=interp)
        assert out.shape == (h, w, 3) and out.dtype == dtype
        np.testing.assert_allclose(out.asnumpy(), 77, atol=1e-4)


def test_imresize_float_agrees_with_uint8():
    arr = _rgb(5, 6)
    as_uint8 = mximage.imresize(mx.nd.array(arr, dtype=np.uint8), 9, 8).asnumpy().astype(np.float64)
    as_float = mximage.imresize(mx.nd.array(arr.astype(np.float32)), 9, 8).asnumpy()
    np.testing.assert_allclose(as_float, as_uint8, atol=1)


def test_imresize_bad_arguments():
    src = mx.nd.array(_rgb(4, 4), dtype=np.uint8)
    with pytest.raises(ValueError, match="interp"):
        mximage.imresize(src, 2, 2, interp=7)
    with pytest.raises(mx.MXNetError, match="positive"):
        mximage.imresize(src, 0, 2)
    with pytest.raises(mx.MXNetError, match=r"\(4, 4\)"):
        mximage.imresize(mx.nd.zeros((4, 4)), 2, 2)


@pytest.mark.parametrize("src_size, size, expected", [
    ((640, 480), (720, 120), (640, 106)),  # too wide: w = 640, h = 120 * 640 / 720
    ((100, 50), (200, 100), (100, 50)),    # too tall then fits: w = 200 * 50 / 100
    ((10, 20), (5, 5), (5, 5)),            # fits already
    ((30, 10), (40, 20), (20, 10)),        # too tall: w = 40 * 10 / 20
])
def test_scale_down(src_size, size, expected):
    assert mximage.scale_down(src_size, size) == expected


@pytest.mark.parametrize("hw, size, expected_hw", [((10, 12), 5, (5, 6)), ((12, 7), 5, (8, 5)), ((6, 6), 9, (9, 9))])
def test_resize_short(hw, size, expected_hw):
    out = mximage.resize_short(mx.nd.array(_rgb(*hw), dtype=np.uint8), size)
    assert out.shape == expected_hw + (3,)


def test_fixed_crop_is_slicing_then_resize():
    arr = _rgb()
    src = mx.nd.array(arr, dtype=np.uint8)
    np.testing.assert_array_equal(mximage.fixed_crop(src, 2, 3, 5, 4).asnumpy(), arr[3:7, 2:7])
    resized = mximage.fixed_crop(src, 2, 3, 5, 4, size=(10, 8), interp=0).asnumpy()
    np.testing.assert_array_equal(resized, arr[3:7, 2:7][np.arange(8) // 2][:, np.arange(10) // 2])


def test_center_crop():
    arr = _rgb(10, 12)
    out, box = mximage.center_crop(mx.nd.array(arr, dtype=np.uint8), (4, 6))
    assert box == (4, 2, 4, 6)
    np.testing.assert_array_equal(out.asnumpy(), arr[2:8, 4:8])
    out, box = mximage.center_crop(mx.nd.array(arr, dtype=np.uint8), (24, 10))  # scaled down to (12, 5)
    assert box == (0, 2, 12, 5) and out.shape == (10, 24, 3)


def test_random_crop_returns_the_slice_at_its_box():
    arr = _rgb(10, 12)
    random.seed(3)
    for _ in range(5):
        out, (x0, y0, w, h) = mximage.random_crop(mx.nd.array(arr, dtype=np.uint8), (5, 4))
        assert (w, h) == (5, 4) and 0 <= x0 <= 7 and 0 <= y0 <= 6
        np.testing.assert_array_equal(out.asnumpy(), arr[y0:y0 + 4, x0:x0 + 5])


def test_random_size_crop():
    arr = _rgb(20, 24)
    src = mx.nd.array(arr, dtype=np.uint8)
    random.seed(1)
    for _ in range(5):
        out, (x0, y0, w, h) = mximage.random_size_crop(src, (6, 5), (0.3, 0.6), (0.75, 1.33), interp=0)
        assert out.shape == (5, 6, 3)
        assert x0 + w <= 24 and y0 + h <= 20
        assert 0.3 * 480 - (w + h) <= w * h <= 0.6 * 480 + (w + h) + 1  # area drawn in [0.3, 0.6], sides rounded
        expected = mximage.imresize(mx.nd.array(arr[y0:y0 + h, x0:x0 + w], dtype=np.uint8), 6, 5, interp=0)
        np.testing.assert_array_equal(out.asnumpy(), expected.asnumpy())
    # an aspect ratio no crop of this image can have falls back to center_crop
    out, box = mximage.random_size_crop(src, (6, 5), 0.5, (50, 60))
    assert box == mximage.center_crop(src, (6, 5))[1]
    with pytest.warns(DeprecationWarning):
        mximage.random_size_crop(src, (6, 5), None, (0.75, 1.33), min_area=0.5)
    with pytest.raises(TypeError, match="bogus"):
        mximage.random_size_crop(src, (6, 5), 0.5, (0.75, 1.33), bogus=1)


def test_color_normalize_in_place():
    arr = _rgb(3, 4).astype(np.float32)
    mean, std = np.array([10.0, 20.0, 30.0], np.float32), np.array([2.0, 4.0, 8.0], np.float32)
    src = mx.nd.array(arr)
    out = mximage.color_normalize(src, mx.nd.array(mean), mx.nd.array(std))
    assert out is src
    np.testing.assert_allclose(out.asnumpy(), (arr - mean) / std, rtol=1e-6)
    np.testing.assert_allclose(mximage.color_normalize(mx.nd.array(arr), None, mx.nd.array(std)).asnumpy(),
                               arr / std, rtol=1e-6)


# the row 1 2 3 4 padded by 2 on each side, for each cv2.BORDER_* code (OpenCV's documented patterns)
@pytest.mark.parametrize("border, row", [
    (0, [9, 9, 1, 2, 3, 4, 9, 9]),   # constant
    (1, [2, 1, 1, 2, 3, 4, 4, 3]),   # reflect: ba|abcd|dc
    (2, [3, 2, 1, 2, 3, 4, 3, 2]),   # reflect_101: cb|abcd|cb
    (3, [1, 1, 1, 2, 3, 4, 4, 4]),   # replicate
    (4, [3, 4, 1, 2, 3, 4, 1, 2]),   # wrap
])
def test_copyMakeBorder(border, row):
    src = mx.nd.array(np.array([1, 2, 3, 4], np.uint8).reshape(1, 4, 1), dtype=np.uint8)
    out = mximage.copyMakeBorder(src, 1, 0, 2, 2, type=border, value=9)
    assert out.shape == (2, 8, 1) and out.dtype == np.uint8
    np.testing.assert_array_equal(out.asnumpy()[1, :, 0], row)


def test_copyMakeBorder_values_per_channel_and_bad_type():
    out = mximage.copyMakeBorder(mx.nd.zeros((1, 1, 3)), 1, 1, 1, 1, values=(1, 2, 3)).asnumpy()
    np.testing.assert_array_equal(out[0, 0], [1, 2, 3])
    np.testing.assert_array_equal(out[1, 1], [0, 0, 0])
    with pytest.raises(mx.MXNetError, match="type"):
        mximage.copyMakeBorder(mx.nd.zeros((1, 1, 3)), 1, 1, 1, 1, type=5)


@pytest.mark.parametrize("sizes, expected", [((4, 4, 8, 8), 2), ((8, 8, 4, 4), 3), ((4, 8, 8, 4), 1), ((), 2)])
def test_interp_9_picks_by_direction(sizes, expected):
    assert mximage.image._get_interp_method(9, sizes) == expected


def test_options_pass_positionally_or_by_keyword_as_mxnet_forwards_them():
    data = _png(_rgb(4, 5))
    np.testing.assert_array_equal(mximage.imdecode(data, 0).asnumpy(), mximage.imdecode(data, flag=0).asnumpy())
    out = mx.nd.zeros((3, 2, 3), dtype=np.uint8)
    assert mximage.imresize(mximage.imdecode(data), 2, 3, 0, out) is out
    with pytest.raises(TypeError, match="imdecode: unexpected or repeated argument 'flags'"):
        mximage.imdecode(data, flags=0)
    with pytest.raises(TypeError, match="imresize: takes at most 2 options"):
        mximage.imresize(out, 2, 2, 1, None, 3)
