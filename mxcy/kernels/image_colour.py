"""The colour augmenters of mxcy/ops/image.py (brightness, contrast, saturation, hue, PCA lighting, and color_jitter's
chain of them) on (H, W, C) images with C in (1, 3), CPU and CUDA, one thread per pixel.

Each pixel's arithmetic is one set of scalar helpers compiled for both devices, so the two compute the same
numbers as the NumPy code that defines the ops: float32 arithmetic in NumPy's order (hue's colour wheel in float64,
where NumPy's mixed float32/int64 arrays promote), the result saturated to the image's type as MXNet's saturate_cast
(uint8: clipped to [0, 255], truncated). A GPU fuses a * b + c into one fma rounded once, where the CPU rounds the
product first; the products that feed a sum go through _mul32/_mul64, whose CUDA builds are launch.mul_rn32/64
(never fused), so uint8 results are bit-identical on both devices. Contrast's gray mean
is summed in float64 (fixed chunks on the CPU, block sums on the GPU: another order than NumPy's pairwise sum, equal
once rounded to float32 but at a rounding tie). Random factors are drawn on the host and passed in as scalars.

Kernel dtypes: uint8, float32 and float64 (computed in float32 as NumPy does, stored as float64), on both devices;
callers handle other types (`DTYPES`).
"""
import types

import numba
import numpy as np
from numba import cuda, prange

from .common import REQ_ADD, REQ_NULL, REQ_WRITE, parallel_kernel
from .launch import block_sum, grid_1d, max_blocks, mul_rn32, mul_rn64, pow2_threads

DTYPES = (np.dtype(np.uint8), np.dtype(np.float32), np.dtype(np.float64))

# What _pixel does to each pixel.
BRIGHTNESS, CONTRAST, SATURATION, HUE, LIGHTING, COPY = range(6)

# NumPy float32 globals stay float32 in compiled code and in the simulator's Python (literals would be float64).
_F0, _HALF, _F1, _F2, _F6, _F60, _F120, _F240, _F255, _F360 = (
    np.float32(v) for v in (0, 0.5, 1, 2, 6, 60, 120, 240, 255, 360))
_LUMA_R, _LUMA_G, _LUMA_B = np.float32(0.299), np.float32(0.587), np.float32(0.114)  # ITU-R BT.601
_EPS = np.finfo(np.float32).eps

# The CUDA builds of the shared helpers, by name: the names a CUDA build's globals resolve to.
_DEVICE_HELPERS = {}


def _with_device_helpers(fn):
    """A copy of fn whose globals name the CUDA builds of the shared helpers (the module's names hold the CPU
    builds)."""
    scope = dict(fn.__globals__)
    scope.update(_DEVICE_HELPERS)
    return types.FunctionType(fn.__code__, scope, fn.__name__, fn.__defaults__, fn.__closure__)


def _shared(fn):
    """One helper for both devices: returns its CPU build (inlined njit) and records its CUDA build (an inlined
    device function calling the CUDA builds of the helpers defined before it)."""
    _DEVICE_HELPERS[fn.__name__] = cuda.jit(device=True, inline="always")(_with_device_helpers(fn))
    return numba.njit(inline="always", nogil=True)(fn)


@numba.njit(inline="always", nogil=True)
def _mul32(a, b):
    """a * b rounded to float32 before any sum it feeds (the CPU never fuses)."""
    return a * b


@numba.njit(inline="always", nogil=True)
def _mul64(a, b):
    """a * b rounded to float64 before any sum it feeds."""
    return a * b


_DEVICE_HELPERS["_mul32"], _DEVICE_HELPERS["_mul64"] = mul_rn32, mul_rn64


@_shared
def _put(out, h, w, c, v, req, u8):
    """out[h, w, c] (req)= v as NumPy stores the op's saturated result: a uint8 output takes v clipped to [0, 255]
    and truncated, and sums under add wrap around as uint8 arrays do; other types take v converted."""
    if u8:
        q = np.int64(min(max(v, _F0), _F255))
        if req == REQ_ADD:
            q = (q + np.int64(out[h, w, c])) & 255
        out[h, w, c] = q
    elif req == REQ_ADD:
        out[h, w, c] += v
    else:
        out[h, w, c] = v


@_shared
def _gray(x, h, w):
    """The float32 luma of pixel (h, w), summed left to right as NumPy's matmul with the weights does; a 1-channel
    image's value itself."""
    if x.shape[2] == 1:
        return np.float32(x[h, w, 0])
    red = _mul32(np.float32(x[h, w, 0]), _LUMA_R)
    return red + _mul32(np.float32(x[h, w, 1]), _LUMA_G) + _mul32(np.float32(x[h, w, 2]), _LUMA_B)


@_shared
def _contrast_beta(total, n, alpha):
    """The offset contrast adds: (1 - alpha) times the mean gray (total / n in float64, then float32)."""
    return (_F1 - alpha) * np.float32(total / n)


@_shared
def _rgb_to_hls(r, g, b):
    """(hue in degrees, lightness, saturation) of float32 r, g, b in [0, 1]: OpenCV's formulas; gray pixels (no
    channel spread beyond float32's epsilon) get hue and saturation 0."""
    vmax, vmin = max(max(r, g), b), min(min(r, g), b)
    diff = vmax - vmin
    light = (vmax + vmin) * _HALF
    if not diff > _EPS:
        return _F0, light, _F0
    sat = diff / (vmax + vmin) if light < _HALF else diff / (_F2 - vmax - vmin)
    scale = _F60 / diff
    if vmax == r:
        hue = _mul32(g - b, scale)
    elif vmax == g:
        hue = _mul32(b - r, scale) + _F120
    else:
        hue = _mul32(r - g, scale) + _F240
    if hue < _F0:
        hue += _F360
    return hue, light, sat


@_shared
def _hls_to_rgb(hue, light, sat):
    """(r, g, b) * 255 in float64 of a float32 hue (degrees, any turn), lightness and saturation. The wheel's ramps
    are float64, as NumPy's float32 - int64 sector fraction makes them."""
    if sat == _F0:
        gray = np.float64(light) * 255.0
        return gray, gray, gray
    hi = light * (_F1 + sat) if light <= _HALF else light + sat - _mul32(light, sat)
    lo = _F2 * light - hi
    h = (hue / _F60) % _F6  # Python's float modulo, as np.mod: may round up to 6 itself, the sector is capped
    sector = min(int(h), 5)
    frac = np.float64(h) - sector
    span = np.float64(hi - lo)
    rise = np.float64(lo) + _mul64(span, frac)
    fall = np.float64(lo) + _mul64(span, 1.0 - frac)
    hi64, lo64 = np.float64(hi), np.float64(lo)
    if sector == 0:
        r, g, b = hi64, rise, lo64
    elif sector == 1:
        r, g, b = fall, hi64, lo64
    elif sector == 2:
        r, g, b = lo64, hi64, rise
    elif sector == 3:
        r, g, b = lo64, fall, hi64
    elif sector == 4:
        r, g, b = rise, lo64, hi64
    else:
        r, g, b = hi64, lo64, fall
    return r * 255.0, g * 255.0, b * 255.0


@_shared
def _hue_pixel(x, out, h, w, alpha, req, u8):
    """Rotate the hue of RGB pixel (h, w) by alpha turns."""
    hue, light, sat = _rgb_to_hls(np.float32(x[h, w, 0]) / _F255, np.float32(x[h, w, 1]) / _F255,
                                  np.float32(x[h, w, 2]) / _F255)
    r, g, b = _hls_to_rgb(hue + _mul32(alpha, _F360), light, sat)
    _put(out, h, w, 0, np.float32(r), req, u8)
    _put(out, h, w, 1, np.float32(g), req, u8)
    _put(out, h, w, 2, np.float32(b), req, u8)


@_shared
def _pixel(op, x, out, h, w, a, b, c, req, u8):
    """Pixel (h, w) of op's result into out. Factors: brightness, saturation, hue a; contrast a and its offset b;
    lighting the R, G, B shifts a, b, c. Saturation, hue and lighting keep a 1-channel image as it is."""
    rgb = x.shape[2] == 3
    if op == HUE and rgb:
        _hue_pixel(x, out, h, w, a, req, u8)
    elif op == SATURATION and rgb:
        # MXNet's gray here is the blue channel's luma term alone (see ops/image.py)
        gray = np.float32(x[h, w, 2]) * _LUMA_B * (_F1 - a)
        for ch in range(3):
            _put(out, h, w, ch, gray + _mul32(np.float32(x[h, w, ch]), a), req, u8)
    elif op == LIGHTING and rgb:
        _put(out, h, w, 0, np.float32(x[h, w, 0]) + a, req, u8)
        _put(out, h, w, 1, np.float32(x[h, w, 1]) + b, req, u8)
        _put(out, h, w, 2, np.float32(x[h, w, 2]) + c, req, u8)
    else:
        for ch in range(x.shape[2]):
            if op == BRIGHTNESS:
                _put(out, h, w, ch, np.float32(x[h, w, ch]) * a, req, u8)
            elif op == CONTRAST:
                _put(out, h, w, ch, _mul32(np.float32(x[h, w, ch]), a) + b, req, u8)
            else:  # a copy, in the image's own type
                _put(out, h, w, ch, x[h, w, ch], req, u8)


# --- CPU ---

# Pixels a CPU thread sums into one float64 partial of the gray total: fixed, so the sum's order (and value) does
# not depend on the thread count.
_CHUNK = 4096


def _pixels_template(x, out, a, b, c, req, u8):
    """One op's pass over the pixels, row by row. _OP, the op, is a global of each build's own copy (_pixels_build):
    a constant there, so _pixel's branches on it fold away (an op argument made brightness 4-5x slower)."""
    for h in prange(x.shape[0]):
        for w in range(x.shape[1]):
            _pixel(_OP, x, out, h, w, a, b, c, req, u8)  # noqa: F821 - _OP is set in each copy's globals


def _pixels_build(op, name):
    """The CPU kernel of op: a copy of _pixels_template with _OP = op, named for Numba's cache."""
    fn = types.FunctionType(_pixels_template.__code__, dict(_pixels_template.__globals__, _OP=op),
                            f"_pixels_{name}_cpu")
    fn.__qualname__, fn.__module__ = fn.__name__, __name__
    return parallel_kernel(nogil=True, cache=True)(fn)


_PIXELS_CPU = {op: _pixels_build(op, name) for op, name in (
    (BRIGHTNESS, "brightness"), (CONTRAST, "contrast"), (SATURATION, "saturation"), (HUE, "hue"),
    (LIGHTING, "lighting"), (COPY, "copy"))}


@parallel_kernel(nogil=True, cache=True)
def _gray_total_cpu(x, partial):
    """The float64 sum of the pixels' gray values: _CHUNK-pixel partials in parallel, then their sum in order."""
    width, n = x.shape[1], x.shape[0] * x.shape[1]
    for k in prange(partial.size):
        s = 0.0
        for p in range(k * _CHUNK, min(n, (k + 1) * _CHUNK)):
            s += np.float64(_gray(x, p // width, p % width))
        partial[k] = s
    total = 0.0
    for k in range(partial.size):
        total += partial[k]
    return total


# --- CUDA ---

_REDUCE_THREADS = 256  # the most threads a reduction block has (its shared array's size)


def _pixels_kernel(op, x, out, a, b, c, req, u8):
    width = x.shape[1]
    p = cuda.grid(1)
    while p < x.shape[0] * width:
        _pixel(op, x, out, p // width, p % width, a, b, c, req, u8)
        p += cuda.gridsize(1)


def _gray_sums_kernel(x, partial):
    """partial[block] = the float64 sum of the gray values of the pixels this block's threads stride over."""
    acc = cuda.shared.array(_REDUCE_THREADS, numba.float64)
    width = x.shape[1]
    s = 0.0
    p = cuda.grid(1)
    while p < x.shape[0] * width:
        s += np.float64(_gray(x, p // width, p % width))
        p += cuda.gridsize(1)
    block_sum(acc, s, cuda.threadIdx.x, cuda.blockDim.x)
    if cuda.threadIdx.x == 0:
        partial[cuda.blockIdx.x] = acc[0]


def _beta_kernel(partial, n, alpha, beta):
    """One block: beta[0] = contrast's offset from the partial gray sums of n pixels."""
    acc = cuda.shared.array(_REDUCE_THREADS, numba.float64)
    tid = cuda.threadIdx.x
    s = 0.0
    for k in range(tid, partial.size, cuda.blockDim.x):
        s += partial[k]
    block_sum(acc, s, tid, cuda.blockDim.x)
    if tid == 0:
        beta[0] = _contrast_beta(acc[0], n, alpha)


def _contrast_kernel(x, out, alpha, beta, req, u8):
    offset = beta[0]
    width = x.shape[1]
    p = cuda.grid(1)
    while p < x.shape[0] * width:
        _pixel(CONTRAST, x, out, p // width, p % width, alpha, offset, _F0, req, u8)
        p += cuda.gridsize(1)


_PY_KERNELS = {fn.__name__: _with_device_helpers(fn)
               for fn in (_pixels_kernel, _gray_sums_kernel, _beta_kernel, _contrast_kernel)}
pixels_kernel, gray_sums_kernel, beta_kernel, contrast_kernel = (
    cuda.jit(_PY_KERNELS[name]) for name in ("_pixels_kernel", "_gray_sums_kernel", "_beta_kernel", "_contrast_kernel"))


# --- drivers: x and out (H, W, C) arrays of one DTYPES type, on the host (_cpu) or the device (_gpu) ---

def _skip(out, req):
    return req == REQ_NULL or out.size == 0


def _run(device, op, x, out, req, a=_F0, b=_F0, c=_F0):
    """out (req)= op's result on x, on `device` ("cpu" or "gpu")."""
    if _skip(out, req):
        return
    args = (x, out, np.float32(a), np.float32(b), np.float32(c), req, bool(out.dtype == np.uint8))
    if device == "cpu":
        _PIXELS_CPU[op](*args)
    else:
        blocks, threads = grid_1d(x.shape[0] * x.shape[1])
        pixels_kernel[blocks, threads](op, *args)


def brightness_cpu(x, out, alpha, req):
    """out (req)= x * alpha, saturated to x's type."""
    _run("cpu", BRIGHTNESS, x, out, req, alpha)


def brightness_gpu(x, out, alpha, req):
    """Same contract as brightness_cpu, on device arrays."""
    _run("gpu", BRIGHTNESS, x, out, req, alpha)


def contrast_cpu(x, out, alpha, req):
    """out (req)= x * alpha + (1 - alpha) * the image's mean gray, saturated to x's type."""
    if _skip(out, req):
        return
    n = x.shape[0] * x.shape[1]
    total = _gray_total_cpu(x, np.empty(-(-n // _CHUNK)))
    _run("cpu", CONTRAST, x, out, req, alpha, _contrast_beta(total, n, np.float32(alpha)))


def contrast_gpu(x, out, alpha, req):
    """Same contract as contrast_cpu, on device arrays: the gray mean is reduced on the device (block sums, then one
    block turns them into the offset the pixel pass reads)."""
    if _skip(out, req):
        return
    n = x.shape[0] * x.shape[1]
    threads = pow2_threads(n, _REDUCE_THREADS)
    blocks = min(-(-n // threads), max_blocks())
    partial = cuda.device_array(blocks, np.float64)
    gray_sums_kernel[blocks, threads](x, partial)
    beta = cuda.device_array(1, np.float32)
    beta_kernel[1, pow2_threads(blocks, _REDUCE_THREADS)](partial, n, np.float32(alpha), beta)
    blocks, threads = grid_1d(n)
    contrast_kernel[blocks, threads](x, out, np.float32(alpha), beta, req, bool(out.dtype == np.uint8))


def saturation_cpu(x, out, alpha, req):
    """out (req)= gray * (1 - alpha) + x * alpha with MXNet's gray (the blue luma term), saturated to x's type;
    a 1-channel x is copied."""
    _run("cpu", SATURATION, x, out, req, alpha)


def saturation_gpu(x, out, alpha, req):
    """Same contract as saturation_cpu, on device arrays."""
    _run("gpu", SATURATION, x, out, req, alpha)


def hue_cpu(x, out, alpha, req):
    """out (req)= x with its hue turned by alpha turns (through OpenCV's HLS), saturated to x's type; a 1-channel x
    is copied."""
    _run("cpu", HUE, x, out, req, alpha)


def hue_gpu(x, out, alpha, req):
    """Same contract as hue_cpu, on device arrays."""
    _run("gpu", HUE, x, out, req, alpha)


def lighting_cpu(x, out, shift, req):
    """out (req)= x + shift (float32 (R, G, B) offsets: PCA lighting's eigenvectors times the alphas), saturated to
    x's type; a 1-channel x is copied."""
    _run("cpu", LIGHTING, x, out, req, *shift)


def lighting_gpu(x, out, shift, req):
    """Same contract as lighting_cpu, on device arrays."""
    _run("gpu", LIGHTING, x, out, req, *shift)


_ENHANCE = {"cpu": {"brightness": brightness_cpu, "contrast": contrast_cpu, "saturation": saturation_cpu,
                    "hue": hue_cpu},
            "gpu": {"brightness": brightness_gpu, "contrast": contrast_gpu, "saturation": saturation_gpu,
                    "hue": hue_gpu}}


def _color_jitter(device, x, out, steps, req):
    """Steps (kind, factor) applied in turn, each result saturated to x's type in a temporary; the last into out."""
    if _skip(out, req):
        return
    if not steps:
        _run(device, COPY, x, out, req)
        return
    source = x
    for k, (kind, factor) in enumerate(steps):
        last = k == len(steps) - 1
        target = out if last else (np.empty_like(x) if device == "cpu" else cuda.device_array_like(x))
        _ENHANCE[device][kind](source, target, factor, req if last else REQ_WRITE)
        source = target


def color_jitter_cpu(x, out, steps, req):
    """out (req)= x through the enhancers `steps` names in order: (kind, factor) pairs, kind one of brightness,
    contrast, saturation, hue; no steps copies x."""
    _color_jitter("cpu", x, out, steps, req)


def color_jitter_gpu(x, out, steps, req):
    """Same contract as color_jitter_cpu, on device arrays (the temporaries stay on the device)."""
    _color_jitter("gpu", x, out, steps, req)


PTX_CHECKS = []
for _t in ("uint8", "float32", "float64"):
    _a = f"{_t}[:, :, ::1]"
    PTX_CHECKS += [
        (_PY_KERNELS["_pixels_kernel"], f"void(int64, {_a}, {_a}, float32, float32, float32, int64, boolean)"),
        (_PY_KERNELS["_gray_sums_kernel"], f"void({_a}, float64[::1])"),
        (_PY_KERNELS["_contrast_kernel"], f"void({_a}, {_a}, float32, float32[::1], int64, boolean)")]
PTX_CHECKS.append((_PY_KERNELS["_beta_kernel"], "void(float64[::1], int64, float32, float32[::1])"))
