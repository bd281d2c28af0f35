"""Image functions of mx.image: decode, resize, pad, crop, normalise HWC images held in NDArrays.

MXNet runs these through OpenCV; mxcy decodes through Pillow (mxcy/_imagecodec.py) and resizes with the
_image_resize operator (OpenCV's cv::resize in NumPy, mxcy/ops/_cv_resize.py), both on the host.
"""
import numbers
import os
import random
import warnings

import numpy as np

from .. import _imagecodec
from .. import ndarray as nd
from ..base import MXNetError
from ..error import MXNetValueError
from ..fileio import read_bytes
from ..ops import _cv_resize

# cv2.BORDER_* codes -> numpy.pad modes
_PAD_MODE = {0: "constant", 1: "symmetric", 2: "reflect", 3: "edge", 4: "wrap"}


def _host(src, what):
    """`src` (NDArray or array-like) as a NumPy (H, W, C) array."""
    arr = src.asnumpy() if isinstance(src, nd.NDArray) else np.asarray(src)
    if arr.ndim != 3:
        raise MXNetError(f"{what}: expected an (H, W, C) image, got shape {arr.shape}")
    return arr


def _options(what, args, kwargs, defaults):
    """The values of the options `defaults` names (in order) from MXNet-style *args/**kwargs, which MXNet
    forwards to its C operator: positional first, then by keyword; anything else is a TypeError."""
    names = list(defaults)
    if len(args) > len(names):
        raise TypeError(f"{what}: takes at most {len(names)} options ({', '.join(names)}), got {len(args)}")
    values = dict(defaults, **dict(zip(names, args)))
    for name, value in kwargs.items():
        if name not in defaults or name in names[:len(args)]:
            raise TypeError(f"{what}: unexpected or repeated argument {name!r} (options: {', '.join(names)})")
        values[name] = value
    return [values[name] for name in names]


def imdecode(buf, *args, **kwargs):
    """Decode JPEG/PNG/... bytes (bytes, bytearray, NumPy or NDArray of uint8) to an (H, W, C) uint8 NDArray.

    Options (positional or keyword, as MXNet forwards them): `flag` 1 (default) gives 3 colour channels,
    0 one gray channel; `to_rgb` (default True) False gives OpenCV's BGR order; `out` an NDArray to fill.
    """
    flag, to_rgb, out = _options("imdecode", args, kwargs, {"flag": 1, "to_rgb": True, "out": None})
    if isinstance(buf, nd.NDArray):
        buf = buf.asnumpy().astype(np.uint8).tobytes()
    elif isinstance(buf, np.ndarray):
        buf = buf.tobytes()
    elif not isinstance(buf, (bytes, bytearray)):
        raise ValueError("imdecode: buf must be of type bytes, bytearray or numpy.ndarray, "
                         f"got {type(buf).__name__}; encode a str to bytes first")
    return _decoded(buf, flag, to_rgb, out, "imdecode buffer")


def _decoded(buf, flag, to_rgb, out, what):
    if flag not in (0, 1):
        raise MXNetError(f"{what}: flag must be 0 (gray) or 1 (colour), got {flag}")
    arr = _imagecodec.decode(buf, flag, to_rgb=bool(to_rgb), what=what)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    return _emit(arr, out)


def imread(filename, *args, **kwargs):
    """Read and decode an image file; options `flag`, `to_rgb`, `out` as in imdecode."""
    flag, to_rgb, out = _options("imread", args, kwargs, {"flag": 1, "to_rgb": True, "out": None})
    return _decoded(read_bytes(filename, "image file"), flag, to_rgb, out, f"image file {os.fspath(filename)}")


def _emit(arr, out):
    if out is None:
        return nd.array(arr, dtype=arr.dtype)
    out[:] = arr
    return out


def imresize(src, w, h, *args, **kwargs):
    """Resize an (H, W, C) image to width `w`, height `h` through the _image_resize operator (OpenCV's
    cv::resize). Options (positional or keyword): `interp` OpenCV's code (default 1; 0 nearest, 1 bilinear,
    2 bicubic, 3 area, 4 Lanczos; 9 and 10 as _get_interp_method), `out` an NDArray to fill."""
    interp, out = _options("imresize", args, kwargs, {"interp": 1, "out": None})
    if not isinstance(src, nd.NDArray):
        src = nd.array(np.asarray(src))
    if src.ndim != 3:
        raise MXNetError(f"imresize: expected an (H, W, C) image, got shape {src.shape}")
    if int(w) <= 0 or int(h) <= 0:
        raise MXNetError(f"imresize: target size must be positive, got w={w}, h={h}")
    interp = _get_interp_method(interp, (src.shape[0], src.shape[1], int(h), int(w)))
    return nd.image.resize(src, size=(int(w), int(h)), interp=interp, out=out)


def resize_array(arr, w, h, interp=1):
    """A NumPy (H, W, C) array resized to width `w`, height `h` with OpenCV code `interp` (0-4): the
    cv::resize that imresize runs, for callers that already hold host arrays (ImageRecordIter's augmenter)."""
    return _cv_resize.resize(np.asarray(arr), int(h), int(w), interp)


def scale_down(src_size, size):
    """Shrink crop `size` (w, h) keeping its aspect ratio until it fits in `src_size` (w, h)."""
    w, h = size
    sw, sh = src_size
    if sh < h:
        w, h = float(w * sh) / h, sh
    if sw < w:
        w, h = sw, float(h * sw) / w
    return int(w), int(h)


def copyMakeBorder(src, top, bot, left, right, type=0, value=0.0, values=(), out=None):  # noqa: A002 - MXNet's name
    """Pad an (H, W, C) image by top/bot/left/right pixels; `type` is cv2.BORDER_* (0 constant,
    1 reflect, 2 reflect_101, 3 replicate, 4 wrap); constant fill is `values` per channel or `value`."""
    arr = _host(src, "copyMakeBorder")
    if type not in _PAD_MODE:
        raise MXNetError(f"copyMakeBorder: type must be one of {sorted(_PAD_MODE)}, got {type}")
    widths = ((top, bot), (left, right), (0, 0))
    if _PAD_MODE[type] != "constant":
        return _emit(np.pad(arr, widths, mode=_PAD_MODE[type]), out)
    fill = np.broadcast_to(np.asarray(values if len(values) else [value], dtype=np.float64)[:arr.shape[2]],
                           (arr.shape[2],))
    padded = np.empty((arr.shape[0] + top + bot, arr.shape[1] + left + right, arr.shape[2]), arr.dtype)
    padded[...] = fill.astype(arr.dtype)
    padded[top:top + arr.shape[0], left:left + arr.shape[1]] = arr
    return _emit(padded, out)


def _get_interp_method(interp, sizes=()):
    """Resolve `interp` to a code 0-4: 9 picks by direction (sizes = old_h, old_w, new_h, new_w), 10 at random."""
    if interp == 9:
        if not sizes:
            return 2
        oh, ow, nh, nw = sizes
        if nh > oh and nw > ow:
            return 2
        if nh < oh and nw < ow:
            return 3
        return 1
    if interp == 10:
        return random.randint(0, 4)
    if interp not in (0, 1, 2, 3, 4):
        raise MXNetValueError(f"Unknown interp method {interp}")  # a ValueError and an MXNetError, as MXNet raises each
    return interp


def resize_short(src, size, interp=2):
    """Resize so the shorter edge is `size`, the longer edge in proportion (rounded down)."""
    h, w, _ = src.shape
    if h > w:
        new_h, new_w = size * h // w, size
    else:
        new_h, new_w = size, size * w // h
    return imresize(src, new_w, new_h, interp=_get_interp_method(interp, (h, w, new_h, new_w)))


def fixed_crop(src, x0, y0, w, h, size=None, interp=2):
    """Crop the (w, h) box at (x0, y0), then resize it to `size` (w, h) if given and different."""
    out = src[y0:y0 + h, x0:x0 + w]
    if size is not None and (w, h) != tuple(size):
        out = imresize(out, *size, interp=_get_interp_method(interp, (h, w, size[1], size[0])))
    return out


def random_crop(src, size, interp=2):
    """Crop a box of `size` (w, h), scaled down to fit, at a random place; resize it to `size`.
    Returns (image, (x0, y0, w, h))."""
    h, w, _ = src.shape
    new_w, new_h = scale_down((w, h), size)
    x0 = random.randint(0, w - new_w)
    y0 = random.randint(0, h - new_h)
    return fixed_crop(src, x0, y0, new_w, new_h, size, interp), (x0, y0, new_w, new_h)


def center_crop(src, size, interp=2):
    """Crop a box of `size` (w, h), scaled down to fit, from the centre; resize it to `size`.
    Returns (image, (x0, y0, w, h))."""
    h, w, _ = src.shape
    new_w, new_h = scale_down((w, h), size)
    x0 = int((w - new_w) / 2)
    y0 = int((h - new_h) / 2)
    return fixed_crop(src, x0, y0, new_w, new_h, size, interp), (x0, y0, new_w, new_h)


def color_normalize(src, mean, std=None):
    """Subtract `mean` and divide by `std` in place (either may be None); returns `src`."""
    if mean is not None:
        src -= mean
    if std is not None:
        src /= std
    return src


def random_size_crop(src, size, area, ratio, interp=2, **kwargs):
    """Crop a random box whose area fraction is drawn from `area` ((min, max) or min up to 1) and whose
    aspect ratio is log-uniform in `ratio`; resize it to `size`. After 10 misses, center_crop.
    Returns (image, (x0, y0, w, h))."""
    h, w, _ = src.shape
    if "min_area" in kwargs:
        warnings.warn("`min_area` is deprecated. Please use `area` instead.", DeprecationWarning)
        area = kwargs.pop("min_area")
    if kwargs:
        raise TypeError(f"random_size_crop: unexpected keyword arguments {sorted(kwargs)}")
    if isinstance(area, numbers.Number):
        area = (area, 1.0)
    log_ratio = (np.log(ratio[0]), np.log(ratio[1]))
    for _ in range(10):
        target_area = random.uniform(area[0], area[1]) * h * w
        new_ratio = np.exp(random.uniform(*log_ratio))
        new_w = int(round(np.sqrt(target_area * new_ratio)))
        new_h = int(round(np.sqrt(target_area / new_ratio)))
        if new_w <= w and new_h <= h:
            x0 = random.randint(0, w - new_w)
            y0 = random.randint(0, h - new_h)
            return fixed_crop(src, x0, y0, new_w, new_h, size, interp), (x0, y0, new_w, new_h)
    return center_crop(src, size, interp)
