"""Image encode/decode through Pillow, in OpenCV's conventions (BGR channel order, imdecode flags).

One place for the codec: mx.recordio's pack_img/unpack_img and the Gluon vision datasets use it.
Pillow is imported on first use, so mxcy imports without it.
"""
import io

import numpy as np

from .base import MXNetError


def _pil():
    try:
        from PIL import Image
    except ImportError as err:  # pragma: no cover - Pillow is an install dependency
        raise MXNetError("image encoding/decoding needs Pillow: pip install pillow") from err
    return Image


def decode(buf, flag=1, to_rgb=True, what="image"):
    """Decode encoded image bytes to a uint8 NumPy array.

    `flag` follows cv2.imdecode: 1 -> (H, W, 3), 0 -> grayscale, -1 -> the channels as stored.
    With `to_rgb` colour channels come as RGB(A), otherwise BGR(A) as OpenCV returns them.
    Grayscale images are (H, W) for flag 0/-1 in OpenCV's way; callers add the channel axis.
    """
    image_mod = _pil()
    try:
        img = image_mod.open(io.BytesIO(bytes(buf)))
        if flag == 0 and img.format == "JPEG":
            img.draft("L", img.size)  # libjpeg's own gray output (the luma), as OpenCV's decoder asks for
        img.load()
    except Exception as err:
        raise MXNetError(f"cannot decode {what}: {err}") from err
    if flag == 1 and img.mode != "RGB":
        img = img.convert("RGB")
    elif flag == 0:
        return _gray(img)
    elif img.mode not in ("L", "RGB", "RGBA"):
        img = img.convert("RGBA" if "A" in img.mode else "RGB")
    arr = np.asarray(img, dtype=np.uint8)
    if arr.ndim == 3 and not to_rgb:
        arr = np.ascontiguousarray(arr[:, :, [2, 1, 0, 3][:arr.shape[2]]])
    return arr


def _gray(img):
    """A decoded image as OpenCV's imdecode(..., 0) gives it: gray images as stored; colour PNGs through
    libpng's truncating fixed-point weights (9797, 19234, 3737) / 2^15; others through cvtColor's rounded
    (4899, 9617, 1868) / 2^14."""
    if img.mode == "L":
        return np.asarray(img, dtype=np.uint8)
    rgb = np.asarray(img.convert("RGB"), dtype=np.int32)
    red, green, blue = rgb[:, :, 0], rgb[:, :, 1], rgb[:, :, 2]
    if img.format == "PNG":
        gray = (red * 9797 + green * 19234 + blue * 3737) >> 15
    else:
        gray = (red * 4899 + green * 9617 + blue * 1868 + 8192) >> 14
    return gray.astype(np.uint8)


def encode(img, img_fmt=".jpg", quality=95, is_rgb=False):
    """Encode a uint8 (H, W), (H, W, 1), (H, W, 3) or (H, W, 4) array as JPEG or PNG bytes.

    Colour input is BGR(A) as in OpenCV unless `is_rgb`. `quality` is the JPEG quality (1-100)
    or the PNG compression level (0-9), as cv2.imencode's parameters.
    """
    image_mod = _pil()
    arr = np.asarray(img)
    if arr.dtype != np.uint8:
        raise MXNetError(f"encode image: expected a uint8 array, got {arr.dtype}")
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim == 3 and arr.shape[2] in (3, 4) and not is_rgb:
        arr = arr[:, :, [2, 1, 0, 3][:arr.shape[2]]]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        raise MXNetError(f"encode image: expected (H, W[, 1|3|4]), got shape {tuple(np.shape(img))}")
    fmt = img_fmt.lower().lstrip(".")
    out = io.BytesIO()
    pil_img = image_mod.fromarray(np.ascontiguousarray(arr))
    if fmt in ("jpg", "jpeg"):
        if pil_img.mode == "RGBA":
            raise MXNetError("encode image: JPEG has no alpha channel")
        pil_img.save(out, format="JPEG", quality=int(quality))
    elif fmt == "png":
        pil_img.save(out, format="PNG", compress_level=int(quality))
    else:
        raise MXNetError(f"encode image: unsupported format {img_fmt!r}; expected '.jpg' or '.png'")
    return out.getvalue()
