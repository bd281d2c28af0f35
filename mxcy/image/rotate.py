"""mx.image.imrotate and random_rotate: rotate CHW / NCHW float32 images about their centre.

As in MXNet 1.9.1, a rotated sampling grid is built and the image is sampled bilinearly at it with zeros
outside (BilinearSampler's rule). Everything is composed of registered mx.nd operators (arange, cos/sin,
floor, clip, take, broadcast arithmetic), so it runs wherever those ops run and is differentiable.
"""
from numbers import Number

import numpy as np

from .. import ndarray as nd


def _bilinear_sample(src, x, y):
    """src (N, C, H, W) sampled at pixel coordinates x, y (N, H', W') -> (N, C, H', W'): each of the four
    neighbours weighted bilinearly, neighbours outside the image counting as 0."""
    n, channels, height, width = src.shape
    out_h, out_w = x.shape[1:]
    pixels = src.transpose((0, 2, 3, 1)).reshape((-1, channels))
    # flat pixel indices in float64: exact for any batch of images a float32 index would not reach
    base = (nd.arange(n, dtype="float64", ctx=src.context) * (height * width)).reshape((n, 1, 1))
    left, top = nd.floor(x), nd.floor(y)
    right_w, bottom_w = x - left, y - top
    out = None
    for row, row_w in ((top, 1 - bottom_w), (top + 1, bottom_w)):
        for col, col_w in ((left, 1 - right_w), (left + 1, right_w)):
            inside = (col >= 0) * (col <= width - 1) * (row >= 0) * (row <= height - 1)
            index = nd.broadcast_add(base, (nd.clip(row, 0, height - 1) * width
                                            + nd.clip(col, 0, width - 1)).astype("float64"))
            term = nd.take(pixels, index.reshape((-1,))) * (row_w * col_w * inside).reshape((-1, 1))
            out = term if out is None else out + term
    return out.reshape((n, out_h, out_w, channels)).transpose((0, 3, 1, 2))


def _zoom(height, width, angle, zoom_in):
    """The grid scale that fits the rotated image inside the frame (zoom_in) or the frame inside it."""
    corner_radius = np.sqrt(height * height + width * width)
    corner_angle = np.arctan(height / width)
    spread = nd.abs(angle)
    max_x = nd.maximum(nd.abs(corner_radius * nd.cos(corner_angle + spread)),
                       nd.abs(corner_radius * nd.cos(corner_angle - spread)))
    max_y = nd.maximum(nd.abs(corner_radius * nd.sin(corner_angle + spread)),
                       nd.abs(corner_radius * nd.sin(corner_angle - spread)))
    if zoom_in:
        return nd.minimum(width / max_x, height / max_y)
    return nd.maximum(max_x / width, max_y / height)


def imrotate(src, rotation_degrees, zoom_in=False, zoom_out=False):
    """Rotate a float32 (C, H, W) image, or (N, C, H, W) batch, by `rotation_degrees` (counter-clockwise as
    displayed; a number, or for a batch an NDArray of N angles). `zoom_in` scales so that no padding shows,
    `zoom_out` so that the whole image stays inside; the output keeps the input's shape."""
    if zoom_in and zoom_out:
        raise ValueError("imrotate: `zoom_in` and `zoom_out` cannot be both True")
    if src.dtype != np.float32:
        raise TypeError(f"imrotate: only float32 images are supported, got {np.dtype(src.dtype).name}")
    single = src.ndim == 3
    if single:
        if not isinstance(rotation_degrees, Number):
            raise TypeError("imrotate: a single (C, H, W) image needs a scalar rotation angle, got "
                            f"{type(rotation_degrees).__name__}")
        src = src.expand_dims(axis=0)
    elif src.ndim != 4:
        raise ValueError(f"imrotate: expected a (C, H, W) image or (N, C, H, W) batch, got shape {src.shape}")
    if isinstance(rotation_degrees, Number):
        rotation_degrees = nd.full((src.shape[0],), rotation_degrees, ctx=src.context)
    if len(rotation_degrees) != len(src):
        raise ValueError(f"imrotate: {len(src)} images but {len(rotation_degrees)} rotation angles")
    angle = (rotation_degrees.as_in_context(src.context).astype("float32") * (np.pi / 180)).reshape((-1, 1, 1))
    _, _, height, width = src.shape
    half_h, half_w = (height - 1) / 2, (width - 1) / 2
    rows = (nd.arange(height, ctx=src.context).reshape((1, height, 1)) - half_h)
    cols = (nd.arange(width, ctx=src.context).reshape((1, 1, width)) - half_w)
    cos, sin = nd.cos(angle), nd.sin(angle)
    # rotated source positions, normalised by the half-sizes after rotating (keeping the aspect ratio)
    grid_x = nd.broadcast_sub(nd.broadcast_mul(cols, cos), nd.broadcast_mul(rows, sin)) / half_w
    grid_y = nd.broadcast_add(nd.broadcast_mul(cols, sin), nd.broadcast_mul(rows, cos)) / half_h
    if zoom_in or zoom_out:
        scale = _zoom(height, width, angle, zoom_in)
        grid_x, grid_y = nd.broadcast_mul(grid_x, scale), nd.broadcast_mul(grid_y, scale)
    rotated = _bilinear_sample(src, (grid_x + 1) * half_w, (grid_y + 1) * half_h)
    return rotated[0] if single else rotated


def random_rotate(src, angle_limits, zoom_in=False, zoom_out=False):
    """imrotate by an angle drawn uniformly from `angle_limits` (degrees; one per image of a batch), drawn
    with NumPy's global generator as MXNet does."""
    if src.ndim == 3:
        degrees = np.random.uniform(*angle_limits)
    else:
        degrees = nd.array(np.random.uniform(*angle_limits, size=src.shape[0]))
    return imrotate(src, degrees, zoom_in=zoom_in, zoom_out=zoom_out)
