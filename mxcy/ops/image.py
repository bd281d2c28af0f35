"""Image operators (mx.nd.image / mx.sym.image): to_tensor, normalize, flips, resize, crop and the colour
augmenters, on (H, W, C) or (N, H, W, C) images as MXNet 1.9.1 defines them.

CPU only for now: NumPy on the host. Random ops draw their factors with NumPy's Philox generator keyed by
the op call's (seed, call) key, so results depend on mx.random.seed and call order only.
"""
import numpy as np

from . import _cv_resize, registry
from ._helpers import results_compute, store
from .registry import OpDef, Param
from ..kernels.common import REQ_ADD, REQ_NULL

__all__ = []

# ITU-R BT.601 luma weights MXNet's contrast and saturation use.
_LUMA = np.array([0.299, 0.587, 0.114], np.float32)
# ImageNet's RGB PCA (eigenvalue * eigenvector), the lighting noise of AlexNet that MXNet adds.
_EIG = np.array([[55.46 * -0.5675, 4.794 * 0.7192, 1.148 * 0.4009],
                 [55.46 * -0.5808, 4.794 * -0.0045, 1.148 * -0.8140],
                 [55.46 * -0.5836, 4.794 * -0.6948, 1.148 * 0.4203]], np.float32)


def _register(name, compute, infer_shape, gradient=None, random=False, writes_into=False, **kw):
    """`compute(attrs, x)` returns the result; with `writes_into`, `compute(attrs, out, x)` writes it
    into `out` (no temporary: these ops run per image in input pipelines)."""
    compute = _writing_into(compute) if writes_into else results_compute(compute)
    registry.register(OpDef(name, compute={"cpu": compute}, infer_shape=infer_shape,
                            gradient=gradient, random=random, aliases=(f"_npx_{name}",), **kw))


def _writing_into(fn):
    def compute(attrs, inputs, outputs, reqs):
        out, req = outputs[0], reqs[0]
        if req == REQ_NULL:
            return
        target = np.empty_like(out) if req == REQ_ADD else out
        with np.errstate(all="ignore"):
            fn(attrs, target, *inputs)
        if target is not out:
            store(out, target, req)
    return compute


def _rng(attrs):
    """A NumPy generator for this op call: Philox keyed by the call's (seed, call) pair."""
    seed, call = attrs["__key__"]
    return np.random.Generator(np.random.Philox(key=(seed % (1 << 64)) | ((call % (1 << 64)) << 64)))


def _uniform(attrs, low, high):
    """One float32 draw on [low, high), as std::uniform_real_distribution<float> gives MXNet."""
    return np.float32(low + (high - low) * _rng(attrs).random())


def _saturate(value, dtype):
    """float32 values cast to `dtype` as MXNet's saturate_cast: uint8 clips to [0, 255] first."""
    if dtype == np.uint8:
        value = np.clip(value, 0, 255)
    return value.astype(dtype)


def _hwc(attrs, shapes, batch=False):
    """Shape rule of the colour ops: an (H, W, C) image (or (N, H, W, C) with batch) with 1 or 3 channels."""
    shape = tuple(shapes[0])
    ndims = (3, 4) if batch else (3,)
    if len(shape) not in ndims or shape[-1] not in (1, 3):
        want = "(H, W, C) or (N, H, W, C)" if batch else "(H, W, C)"
        raise ValueError(f"the image must have shape {want} with 1 or 3 channels, got {shape}")
    return shapes, [shape]


# --- to_tensor and normalize ---------------------------------------------------------------------

def _to_tensor_shape(attrs, shapes):
    shape = tuple(shapes[0])
    if len(shape) not in (3, 4):
        raise ValueError(f"the image must have shape (H, W, C) or (N, H, W, C), got {shape}")
    return shapes, [shape[:-3] + (shape[-1],) + shape[-3:-1]]


def _to_tensor(attrs, out, x):
    np.divide(np.moveaxis(x, -1, -3), np.float32(255), out=out, dtype=np.float32, casting="unsafe")


_register("_image_to_tensor", _to_tensor, _to_tensor_shape, writes_into=True,
          infer_type=lambda attrs, types: (types, np.dtype(np.float32)),
          doc="(H, W, C) or (N, H, W, C) image of any type -> (C, H, W) or (N, C, H, W) float32 divided by 255. "
              "No gradient: MXNet 1.9.1 declares a head copy that has the wrong shape for non-square images.")


def _per_channel(values, name, channels):
    if len(values) not in (1, channels):
        raise ValueError(f"{name} must have 1 or {channels} elements, got {values}")
    return np.asarray(values * channels if len(values) == 1 else values, np.float32)


def _normalize_shape(attrs, shapes):
    shape = tuple(shapes[0])
    if len(shape) not in (3, 4) or shape[-3] not in (1, 3):
        raise ValueError(f"the tensor must have shape (C, H, W) or (N, C, H, W) with 1 or 3 channels, got {shape}")
    _per_channel(attrs["mean"], "mean", shape[-3])
    _per_channel(attrs["std"], "std", shape[-3])
    return shapes, [shape]


def _channel_column(attrs, key, x):
    """attrs[key] per channel, shaped to broadcast over x's (C, H, W) axes."""
    return _per_channel(attrs[key], key, x.shape[-3]).astype(x.dtype)[:, None, None]


def _normalize_grad(F, attrs, inputs, outputs, ograds):
    return [F._backward_image_normalize(ograds[0], mean=attrs["mean"], std=attrs["std"])]


_NORMALIZE_PARAMS = (Param("mean", "floats", (0.0, 0.0, 0.0, 0.0), "mean of each channel (or one for all)"),
                     Param("std", "floats", (1.0, 1.0, 1.0, 1.0), "standard deviation of each channel (or one)"))


def _normalize(attrs, out, x):
    np.subtract(x, _channel_column(attrs, "mean", x), out=out)
    np.divide(out, _channel_column(attrs, "std", x), out=out)


_register("_image_normalize", _normalize, _normalize_shape, _normalize_grad, writes_into=True,
          params=_NORMALIZE_PARAMS,
          doc="(x - mean[c]) / std[c] over a (C, H, W) or (N, C, H, W) tensor.")
_register("_backward_image_normalize", lambda attrs, g: g / _channel_column(attrs, "std", g), _normalize_shape,
          lambda F, attrs, inputs, outputs, ograds: [F._backward_image_normalize(ograds[0], mean=attrs["mean"],
                                                                                  std=attrs["std"])],
          params=_NORMALIZE_PARAMS, doc="Gradient of _image_normalize: the head divided by std[c].")


# --- flips ---------------------------------------------------------------------------------------

def _flip(axis):
    return lambda attrs, out, x: np.copyto(out, np.flip(x, axis))


def _flip_grad(op):
    return lambda F, attrs, inputs, outputs, ograds: [getattr(F, op)(ograds[0])]


def _random_flip(axis):
    """Flip with probability 1/2 (MXNet keeps the image when its Bernoulli draw is true)."""
    return lambda attrs, out, x: np.copyto(out, x if _rng(attrs).random() < 0.5 else np.flip(x, axis))


for _side, _axis in (("left_right", 1), ("top_bottom", 0)):
    _register(f"_image_flip_{_side}", _flip(_axis), _hwc, _flip_grad(f"_image_flip_{_side}"),
              writes_into=True, doc=f"Flip an (H, W, C) image {_side.replace('_', '-')}.")
    _register(f"_image_random_flip_{_side}", _random_flip(_axis), _hwc, random=True, writes_into=True,
              doc=f"Flip an (H, W, C) image {_side.replace('_', '-')} with probability 1/2.")


# --- colour augmenters ---------------------------------------------------------------------------

def _brightness(x, alpha):
    return _saturate(x.astype(np.float32) * alpha, x.dtype)


def _contrast(x, alpha):
    pixels = x.astype(np.float32).reshape(-1, x.shape[-1])
    gray = pixels @ _LUMA if x.shape[-1] == 3 else pixels[:, 0]
    beta = (np.float32(1) - alpha) * np.float32(gray.astype(np.float64).mean())
    return _saturate(x.astype(np.float32) * alpha + beta, x.dtype)


def _saturation(x, alpha):
    """MXNet 1.9.1's saturation: its gray value is the blue channel's luma term alone (its loop assigns
    instead of summing), which we keep so images match MXNet's."""
    if x.shape[-1] == 1:
        return x.copy()
    xf = x.astype(np.float32)
    gray = xf[..., 2:3] * _LUMA[2] * (np.float32(1) - alpha)
    return _saturate(gray + xf * alpha, x.dtype)


def _rgb_to_hls(rgb):
    """(H in degrees, L, S) of float32 RGB values in [0, 255], OpenCV's formulas as MXNet writes them."""
    r, g, b = np.moveaxis(rgb / np.float32(255), -1, 0)
    vmax, vmin = np.maximum(np.maximum(r, g), b), np.minimum(np.minimum(r, g), b)
    diff = vmax - vmin
    light = (vmax + vmin) * np.float32(0.5)
    colour = diff > np.finfo(np.float32).eps
    with np.errstate(all="ignore"):
        sat = np.where(light < 0.5, diff / (vmax + vmin), diff / (np.float32(2) - vmax - vmin))
        scale = np.float32(60) / diff
    hue = np.where(vmax == r, (g - b) * scale,
                   np.where(vmax == g, (b - r) * scale + np.float32(120), (r - g) * scale + np.float32(240)))
    hue = np.where(hue < 0, hue + np.float32(360), hue)
    return np.where(colour, hue, 0).astype(np.float32), light, np.where(colour, sat, 0).astype(np.float32)


# For each of the 6 hue sectors, which of (p2, p1, rising, falling) is blue, green and red.
_SECTORS = np.array([[1, 3, 0], [1, 0, 2], [3, 0, 1], [0, 2, 1], [0, 1, 3], [2, 1, 0]])


def _hls_to_rgb(hue, light, sat):
    p2 = np.where(light <= 0.5, light * (np.float32(1) + sat), light + sat - light * sat).astype(np.float32)
    p1 = np.float32(2) * light - p2
    h = np.mod(hue / np.float32(60), np.float32(6)).astype(np.float32)
    sector = np.minimum(h.astype(np.int64), 5)
    frac = h - sector
    table = np.stack([p2, p1, p1 + (p2 - p1) * (np.float32(1) - frac), p1 + (p2 - p1) * frac])
    bgr = [np.take_along_axis(table, _SECTORS[sector, k][None], 0)[0] for k in range(3)]
    rgb = np.stack(bgr[::-1], axis=-1)
    gray = (sat == 0)[..., None]
    return np.where(gray, light[..., None], rgb) * np.float32(255)


def _hue(x, alpha):
    if x.shape[-1] == 1:
        return x.copy()
    hue, light, sat = _rgb_to_hls(x.astype(np.float32))
    return _saturate(_hls_to_rgb(hue + alpha * np.float32(360), light, sat).astype(np.float32), x.dtype)


_ENHANCERS = {"brightness": _brightness, "contrast": _contrast, "saturation": _saturation, "hue": _hue}
_FACTORS = (Param("min_factor", "float", doc="smallest factor (>= 0)"),
            Param("max_factor", "float", doc="largest factor (>= 0)"))


def _factor_shape(attrs, shapes):
    if attrs["min_factor"] < 0 or attrs["max_factor"] < 0:
        raise ValueError(f"min_factor={attrs['min_factor']} and max_factor={attrs['max_factor']} must be >= 0")
    return _hwc(attrs, shapes)


def _random_enhance(kind):
    return lambda attrs, x: _ENHANCERS[kind](x, _uniform(attrs, attrs["min_factor"], attrs["max_factor"]))


for _kind in _ENHANCERS:
    _register(f"_image_random_{_kind}", _random_enhance(_kind), _factor_shape, params=_FACTORS, random=True,
              doc=f"Adjust the {_kind} of an (H, W, C) image by a factor drawn from [min_factor, max_factor).")


def _color_jitter(attrs, x):
    """The four adjustments in a random order, each with a factor 1 + U(-j, j) (hue: U(-j, j)), skipping
    those whose jitter j is 0."""
    rng = _rng(attrs)
    for kind in rng.permutation(list(_ENHANCERS)):
        jitter = attrs[kind]
        if jitter > 0:
            factor = np.float32(-jitter + 2 * jitter * rng.random())
            x = _ENHANCERS[kind](x, factor if kind == "hue" else np.float32(1) + factor)
    return x.copy()


_register("_image_random_color_jitter", _color_jitter, _hwc, random=True,
          params=tuple(Param(k, "float", doc=f"how much to jitter {k}") for k in _ENHANCERS),
          doc="Jitter brightness, contrast, saturation and hue of an (H, W, C) image in a random order.")


def _lighting(x, alpha):
    if x.shape[-1] == 1:
        return x.copy()
    return _saturate(x.astype(np.float32) + _EIG @ np.asarray(alpha, np.float32), x.dtype)


def _lighting_shape(attrs, shapes):
    if len(attrs["alpha"]) != 3:
        raise ValueError(f"alpha must have 3 elements (R, G, B), got {attrs['alpha']}")
    return _hwc(attrs, shapes)


_register("_image_adjust_lighting", lambda attrs, x: _lighting(x, attrs["alpha"]), _lighting_shape,
          params=(Param("alpha", "floats", doc="the lighting alphas for the R, G, B channels"),),
          doc="Add AlexNet's PCA lighting noise with the given alphas to an (H, W, C) RGB image.")
_register("_image_random_lighting",
          lambda attrs, x: _lighting(x, _rng(attrs).normal(0, attrs["alpha_std"], 3)), _hwc, random=True,
          params=(Param("alpha_std", "float", 0.05, "standard deviation of the lighting alphas"),),
          doc="Add AlexNet's PCA lighting noise with alphas drawn from N(0, alpha_std^2) to an (H, W, C) image.")


# --- resize and crop -----------------------------------------------------------------------------

def _resized_hw(attrs, height, width):
    """MXNet's output (height, width): size=(w, h), or one size for both, or with keep_ratio the short side."""
    size = attrs["size"]
    if len(size) not in (1, 2) or any(s <= 0 for s in size):
        raise ValueError(f"size must be 1 or 2 positive numbers, got {size}")
    if len(size) == 2:
        return size[1], size[0]
    if not attrs["keep_ratio"]:
        return size[0], size[0]
    if height > width:
        return height * size[0] // width, size[0]
    return size[0], width * size[0] // height


def _resize_shape(attrs, shapes):
    shape = tuple(shapes[0])
    if len(shape) not in (3, 4):
        raise ValueError(f"the image must have shape (H, W, C) or (N, H, W, C), got {shape}")
    if attrs["interp"] not in _cv_resize.INTERP_NAMES:
        raise ValueError(f"interp={attrs['interp']} is not an OpenCV interpolation code "
                         f"({', '.join(f'{k}: {v}' for k, v in _cv_resize.INTERP_NAMES.items())})")
    return shapes, [shape[:-3] + _resized_hw(attrs, *shape[-3:-1]) + shape[-1:]]


def _resize(attrs, x):
    return _cv_resize.resize(x, *_resized_hw(attrs, *x.shape[-3:-1]), attrs["interp"])


_register("_image_resize", _resize, _resize_shape,
          params=(Param("size", "shape", (), "(width, height), or one size (see keep_ratio)"),
                  Param("keep_ratio", "bool", False, "with one size: resize the short side to it, keeping the "
                                                     "aspect ratio"),
                  Param("interp", "int", 1, "OpenCV's interpolation code: 0 nearest, 1 bilinear, 2 bicubic, "
                                            "3 area, 4 Lanczos-4")),
          doc="Resize an (H, W, C) or (N, H, W, C) image as OpenCV's cv::resize does (NumPy on the host).")


def _crop_shape(attrs, shapes):
    shape = tuple(shapes[0])
    if len(shape) not in (3, 4) or shape[-1] not in (1, 3):
        raise ValueError(f"the image must have shape (H, W, C) or (N, H, W, C) with 1 or 3 channels, got {shape}")
    x, y, width, height = (attrs[k] for k in ("x", "y", "width", "height"))
    if width <= 0 or height <= 0 or x < 0 or y < 0:
        raise ValueError(f"x={x}, y={y} must be >= 0 and width={width}, height={height} > 0")
    if x + width > shape[-2] or y + height > shape[-3]:
        raise ValueError(f"the box x={x}, y={y}, width={width}, height={height} leaves the {shape} image")
    return shapes, [shape[:-3] + (height, width) + shape[-1:]]


def _crop_window(attrs):
    return (Ellipsis, slice(attrs["y"], attrs["y"] + attrs["height"]), slice(attrs["x"], attrs["x"] + attrs["width"]),
            slice(None))


def _crop_backward(attrs, g, x):
    grad = np.zeros(x.shape, g.dtype)
    grad[_crop_window(attrs)] = g
    return grad


_CROP_PARAMS = tuple(Param(k, "int", doc=d) for k, d in (
    ("x", "left edge of the box"), ("y", "top edge of the box"), ("width", "box width"), ("height", "box height")))
_register("_image_crop", lambda attrs, x: x[_crop_window(attrs)], _crop_shape,
          lambda F, attrs, inputs, outputs, ograds: [F._backward_image_crop(ograds[0], inputs[0], **{k: attrs[k] for k in ("x", "y", "width", "height")})],
          params=_CROP_PARAMS, doc="Crop the box (x, y, width, height) of an (H, W, C) or (N, H, W, C) image.")
_register("_backward_image_crop", _crop_backward, lambda attrs, shapes: (shapes, [tuple(shapes[1])]),
          arguments=("ograd", "data"), params=_CROP_PARAMS,
          doc="Gradient of _image_crop: the head inside the box, zeros elsewhere.")
