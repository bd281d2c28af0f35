"""Image operators (mx.nd.image / mx.sym.image): to_tensor, normalize, flips, resize, crop and the colour
augmenters, on (H, W, C) or (N, H, W, C) images as MXNet 1.9.1 defines them.

Kernels on both devices: kernels/image_tensor.py (to_tensor, normalize, flips), kernels/image_colour.py (the
colour ops), kernels/cv_resize.py and image_crop.py (resize's paths, crops); on the CPU NumPy computes float16,
crops and the resize paths other than uint8 bilinear. Random ops draw their factors on the host with NumPy's
Philox generator keyed by the op call's (seed, call) key, so results depend on mx.random.seed and call order
only, and both devices give the same images.
"""
import functools
import threading

import numpy as np

from . import _cv_resize, registry
from ._helpers import results_compute, store
from ._nn_common import kernel, widening
from .registry import OpDef, Param
from ..base import MXNetError
from ..kernels.common import REQ_ADD, REQ_NULL

__all__ = []

# ITU-R BT.601 luma weights MXNet's contrast and saturation use.
_LUMA = np.array([0.299, 0.587, 0.114], np.float32)
# ImageNet's RGB PCA (eigenvalue * eigenvector), the lighting noise of AlexNet that MXNet adds.
_EIG = np.array([[55.46 * -0.5675, 4.794 * 0.7192, 1.148 * 0.4009],
                 [55.46 * -0.5808, 4.794 * -0.0045, 1.148 * -0.8140],
                 [55.46 * -0.5836, 4.794 * -0.6948, 1.148 * 0.4203]], np.float32)


def _register(name, compute, infer_shape, gradient=None, random=False, **kw):
    """`compute` is the CPU's `compute(attrs, x)` returning the result (a CPU-only op), or a dict of computes
    fn(attrs, inputs, outputs, reqs) by device."""
    computes = compute if isinstance(compute, dict) else {"cpu": results_compute(compute)}
    registry.register(OpDef(name, compute=computes, infer_shape=infer_shape,
                            gradient=gradient, random=random, aliases=(f"_npx_{name}",), **kw))


def _writing_into(fn):
    """The compute of `fn(attrs, out, x)`, which writes its result into `out` (no temporary: these ops run per image
    in input pipelines)."""
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


_generators = threading.local()


def _rng(attrs):
    """A NumPy generator for this op call: Philox keyed by the call's (seed, call) pair. Each thread keeps one
    generator and rekeys it (a sixth of the cost of a new one, which per-image ops felt): what it returns serves
    until the thread's next call."""
    seed, call = attrs["__key__"]
    try:
        bits, generator = _generators.pair
    except AttributeError:
        bits = np.random.Philox()
        generator = np.random.Generator(bits)
        _generators.pair = bits, generator
    bits.state = {"bit_generator": "Philox", "buffer": np.zeros(4, np.uint64), "buffer_pos": 4, "has_uint32": 0,
                  "uinteger": 0, "state": {"counter": np.zeros(4, np.uint64),
                                           "key": np.array([seed % (1 << 64), call % (1 << 64)], np.uint64)}}
    return generator


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


def _twins(module, launch, cpu_fallback, kernel_types=None):
    """{"cpu", "gpu"} computes of an op on kernels/<module>.py: launch(driver, attrs, x, out, req), with driver(name)
    the device's <name>_<device> driver; random factors are drawn inside launch, on the host, so both devices draw
    the same. Images of a type outside `kernel_types` (None: every type but float16, for which Numba's CPU target has
    no arithmetic) take `cpu_fallback` (a NumPy compute) on the CPU and are refused on the GPU, where float16 runs in
    float32 (widening)."""
    def make(device):
        def compute(attrs, inputs, outputs, reqs):
            if reqs[0] == REQ_NULL:
                return
            x = inputs[0]
            if x.dtype in kernel_types if kernel_types else x.dtype != np.float16:
                launch(lambda name: kernel(module, name, device), attrs, x, outputs[0], reqs[0])
            elif device == "cpu":
                cpu_fallback(attrs, inputs, outputs, reqs)
            else:  # the engine names the op
                raise MXNetError(f"{x.dtype} images are not supported on the GPU (supported: float16, "
                                 f"{', '.join(t.name for t in kernel_types)})")
        return compute
    return {"cpu": make("cpu"), "gpu": widening(make("gpu"))}


# --- to_tensor, normalize and flips: kernels/image_tensor.py ---------------------------------------

def _batch_of(a, image_ndim):
    """`a` with a leading batch axis of 1 when it is one image of `image_ndim` axes (kernels take batches)."""
    return a.reshape((1,) + a.shape) if a.ndim == image_ndim else a


def _to_tensor_shape(attrs, shapes):
    shape = tuple(shapes[0])
    if len(shape) not in (3, 4):
        raise ValueError(f"the image must have shape (H, W, C) or (N, H, W, C), got {shape}")
    return shapes, [shape[:-3] + (shape[-1],) + shape[-3:-1]]


def _to_tensor(attrs, out, x):
    np.divide(np.moveaxis(x, -1, -3), np.float32(255), out=out, dtype=np.float32, casting="unsafe")


_register("_image_to_tensor",
          _twins("image_tensor",
                 lambda k, attrs, x, out, req: k("to_tensor")(_batch_of(x, 3), _batch_of(out, 3), req),
                 _writing_into(_to_tensor)),
          _to_tensor_shape, infer_type=lambda attrs, types: (types, np.dtype(np.float32)),
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


@functools.lru_cache(maxsize=256)
def _channel_values(values, name, channels, dtype):
    """attrs' per-channel `values` as a (channels,) array of `dtype` (shared: read only)."""
    return _per_channel(values, name, channels).astype(dtype)


def _channel_column(attrs, key, x):
    """attrs[key] per channel, shaped to broadcast over x's (C, H, W) axes."""
    return _channel_values(attrs[key], key, x.shape[-3], x.dtype)[:, None, None]


def _planes(a):
    """(N, C, H * W) view of a (C, H, W) or (N, C, H, W) tensor."""
    channels, height, width = tuple(a.shape)[-3:]  # a tuple: the CUDA simulator's shapes refuse negative indices
    return a.reshape(a.size // max(1, channels * height * width), channels, height * width)


def _launch_normalize(mean_key):
    """normalize's kernel on x's planes: mean from attrs[mean_key] (None: 0, the gradient), std from attrs. Float
    tensors compute in their type; integer ones with float32 mean and std, the result truncated into their type, as
    MXNet's float mean and std make it."""
    def launch(k, attrs, x, out, req):
        channels = tuple(x.shape)[-3]
        dtype = x.dtype if np.dtype(x.dtype).kind == "f" else np.float32
        shift = _channel_values(attrs[mean_key] if mean_key else (0.0,), "mean", channels, dtype)
        k("normalize")(_planes(x), shift, _channel_values(attrs["std"], "std", channels, dtype), _planes(out), req)
    return launch


def _normalize_grad(F, attrs, inputs, outputs, ograds):
    return [F._backward_image_normalize(ograds[0], mean=attrs["mean"], std=attrs["std"])]


_NORMALIZE_PARAMS = (Param("mean", "floats", (0.0, 0.0, 0.0, 0.0), "mean of each channel (or one for all)"),
                     Param("std", "floats", (1.0, 1.0, 1.0, 1.0), "standard deviation of each channel (or one)"))


def _normalize(attrs, out, x):
    np.subtract(x, _channel_column(attrs, "mean", x), out=out)
    np.divide(out, _channel_column(attrs, "std", x), out=out)


def _normalize_backward(attrs, out, g):
    np.divide(g, _channel_column(attrs, "std", g), out=out)


_register("_image_normalize", _twins("image_tensor", _launch_normalize("mean"), _writing_into(_normalize)),
          _normalize_shape, _normalize_grad, params=_NORMALIZE_PARAMS,
          doc="(x - mean[c]) / std[c] over a (C, H, W) or (N, C, H, W) tensor.")
_register("_backward_image_normalize",
          _twins("image_tensor", _launch_normalize(None), _writing_into(_normalize_backward)), _normalize_shape,
          _normalize_grad, params=_NORMALIZE_PARAMS,
          doc="Gradient of _image_normalize: the head divided by std[c].")


def _flip_grad(op):
    return lambda F, attrs, inputs, outputs, ograds: [getattr(F, op)(ograds[0])]


def _launch_flip(axis, random):
    """The flip kernel along image axis `axis` (0 rows, 1 columns); when `random`, only if this call's draw
    says so (MXNet keeps the image when its Bernoulli(1/2) draw is true)."""
    def launch(k, attrs, x, out, req):
        flipping = not random or _rng(attrs).random() >= 0.5
        k("flip")(_batch_of(x, 3), flipping and axis == 0, flipping and axis == 1, _batch_of(out, 3), req)
    return launch


def _flip_numpy(axis, random):
    def compute(attrs, out, x):
        np.copyto(out, np.flip(x, axis) if not random or _rng(attrs).random() >= 0.5 else x)
    return compute


for _side, _axis in (("left_right", 1), ("top_bottom", 0)):
    _register(f"_image_flip_{_side}",
              _twins("image_tensor", _launch_flip(_axis, False), _writing_into(_flip_numpy(_axis, False))), _hwc,
              _flip_grad(f"_image_flip_{_side}"), doc=f"Flip an (H, W, C) image {_side.replace('_', '-')}.")
    _register(f"_image_random_flip_{_side}",
              _twins("image_tensor", _launch_flip(_axis, True), _writing_into(_flip_numpy(_axis, True))), _hwc,
              random=True, doc=f"Flip an (H, W, C) image {_side.replace('_', '-')} with probability 1/2.")


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


# The image types the colour kernels (kernels/image_colour.py) compute; NumPy takes the others on the CPU.
_COLOUR_DTYPES = (np.dtype(np.uint8), np.dtype(np.float32), np.dtype(np.float64))


def _random_factor(attrs):
    return _uniform(attrs, attrs["min_factor"], attrs["max_factor"])


def _random_enhance(kind):
    return _twins("image_colour", lambda driver, attrs, x, out, req: driver(kind)(x, out, _random_factor(attrs), req),
                  results_compute(lambda attrs, x: _ENHANCERS[kind](x, _random_factor(attrs))), _COLOUR_DTYPES)


for _kind in _ENHANCERS:
    _register(f"_image_random_{_kind}", _random_enhance(_kind), _factor_shape, params=_FACTORS, random=True,
              doc=f"Adjust the {_kind} of an (H, W, C) image by a factor drawn from [min_factor, max_factor).")


def _jitter_steps(attrs):
    """color_jitter's (kind, factor) adjustments in their random order, each factor 1 + U(-j, j) (hue: U(-j, j)),
    skipping those whose jitter j is 0."""
    rng = _rng(attrs)
    steps = []
    for kind in rng.permutation(list(_ENHANCERS)):
        jitter = attrs[kind]
        if jitter > 0:
            factor = np.float32(-jitter + 2 * jitter * rng.random())
            steps.append((str(kind), factor if kind == "hue" else np.float32(1) + factor))
    return steps


def _color_jitter(attrs, x):
    for kind, factor in _jitter_steps(attrs):
        x = _ENHANCERS[kind](x, factor)
    return x.copy()


# On the GPU a float16 image's intermediate results stay float32 (widening), where NumPy rounds each to float16.
_register("_image_random_color_jitter",
          _twins("image_colour",
                 lambda driver, attrs, x, out, req: driver("color_jitter")(x, out, _jitter_steps(attrs), req),
                 results_compute(_color_jitter), _COLOUR_DTYPES),
          _hwc, random=True, params=tuple(Param(k, "float", doc=f"how much to jitter {k}") for k in _ENHANCERS),
          doc="Jitter brightness, contrast, saturation and hue of an (H, W, C) image in a random order.")


def _lighting_shift(alpha):
    """The float32 (R, G, B) offsets PCA lighting adds for the given alphas."""
    return _EIG @ np.asarray(alpha, np.float32)


def _lighting(x, alpha):
    if x.shape[-1] == 1:
        return x.copy()
    return _saturate(x.astype(np.float32) + _lighting_shift(alpha), x.dtype)


def _lighting_twins(alphas):
    """The computes of a lighting op whose alphas are alphas(attrs)."""
    return _twins("image_colour",
                  lambda driver, attrs, x, out, req: driver("lighting")(x, out, _lighting_shift(alphas(attrs)), req),
                  results_compute(lambda attrs, x: _lighting(x, alphas(attrs))), _COLOUR_DTYPES)


def _lighting_shape(attrs, shapes):
    if len(attrs["alpha"]) != 3:
        raise ValueError(f"alpha must have 3 elements (R, G, B), got {attrs['alpha']}")
    return _hwc(attrs, shapes)


_register("_image_adjust_lighting", _lighting_twins(lambda attrs: attrs["alpha"]), _lighting_shape,
          params=(Param("alpha", "floats", doc="the lighting alphas for the R, G, B channels"),),
          doc="Add AlexNet's PCA lighting noise with the given alphas to an (H, W, C) RGB image.")
_register("_image_random_lighting", _lighting_twins(lambda attrs: _rng(attrs).normal(0, attrs["alpha_std"], 3)), _hwc,
          random=True, params=(Param("alpha_std", "float", 0.05, "standard deviation of the lighting alphas"),),
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


def _resize_gpu(attrs, inputs, outputs, reqs):
    _cv_resize.resize_gpu(inputs[0], outputs[0], attrs["interp"], reqs[0])


_register("_image_resize", {"cpu": results_compute(_resize), "gpu": widening(_resize_gpu)}, _resize_shape,
          params=(Param("size", "shape", (), "(width, height), or one size (see keep_ratio)"),
                  Param("keep_ratio", "bool", False, "with one size: resize the short side to it, keeping the "
                                                     "aspect ratio"),
                  Param("interp", "int", 1, "OpenCV's interpolation code: 0 nearest, 1 bilinear, 2 bicubic, "
                                            "3 area, 4 Lanczos-4")),
          doc="Resize an (H, W, C) or (N, H, W, C) image as OpenCV's cv::resize does (NumPy on the host; on a GPU "
              "CUDA kernels with the same arithmetic, float16 in float32).")


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


def _crop_gpu(kernel_name):
    """GPU compute of the crop (`crop`) or its gradient (`crop_backward`): inputs[0] is the image or the head."""
    def compute(attrs, inputs, outputs, reqs):
        kernel("image_crop", kernel_name, "gpu")(inputs[0], outputs[0], attrs["y"], attrs["x"], reqs[0])
    return widening(compute)


_CROP_PARAMS = tuple(Param(k, "int", doc=d) for k, d in (
    ("x", "left edge of the box"), ("y", "top edge of the box"), ("width", "box width"), ("height", "box height")))


def _crop_grad(F, attrs, inputs, outputs, ograds):
    return [F._backward_image_crop(ograds[0], inputs[0], **{k: attrs[k] for k in ("x", "y", "width", "height")})]


_register("_image_crop", {"cpu": results_compute(lambda attrs, x: x[_crop_window(attrs)]), "gpu": _crop_gpu("crop")},
          _crop_shape, _crop_grad, params=_CROP_PARAMS,
          doc="Crop the box (x, y, width, height) of an (H, W, C) or (N, H, W, C) image.")
_register("_backward_image_crop", {"cpu": results_compute(_crop_backward), "gpu": _crop_gpu("crop_backward")},
          lambda attrs, shapes: (shapes, [tuple(shapes[1])]), arguments=("ograd", "data"), params=_CROP_PARAMS,
          doc="Gradient of _image_crop: the head inside the box, zeros elsewhere.")
