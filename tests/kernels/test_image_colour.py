"""The colour kernels (kernels/image_colour.py), CPU and CUDA (in the simulator: tiny images), against independent
NumPy references of the formulas: per-pixel float32 arithmetic (hue's RGB <-> HLS written out pixel by pixel),
MXNet's saturate_cast for uint8 (clip, truncate) including its edges, write and add requests, color_jitter's chain;
every random colour op giving the same image on mx.gpu(0) and mx.cpu() for one seed (tests/kernels/test_ptx.py
checks the kernels' PTX for fused multiply-adds, which would round differently from the CPU)."""
import numpy as np
import pytest
from hypothesis import given, strategies as st
from numba import cuda

import mxcy as mx
from mxcy.kernels import image_colour as K
from mxcy.kernels.common import REQ_ADD, REQ_WRITE

DEVICES = ["cpu", pytest.param("gpu", marks=pytest.mark.cuda)]
DTYPES = ["uint8", "float32", "float64"]
F32 = np.float32
LUMA = [F32(0.299), F32(0.587), F32(0.114)]
EIG = np.array([[55.46 * -0.5675, 4.794 * 0.7192, 1.148 * 0.4009],
                [55.46 * -0.5808, 4.794 * -0.0045, 1.148 * -0.8140],
                [55.46 * -0.5836, 4.794 * -0.6948, 1.148 * 0.4203]], np.float32)


def _shape(device, channels):
    return (3, 4, channels) if device == "gpu" else (9, 7, channels)


def _saturate(v, dtype):
    """float32 results as MXNet stores them: uint8 clipped to [0, 255] and truncated."""
    v = np.asarray(v, np.float32)
    return (np.trunc(np.clip(v, 0, 255)) if dtype == np.uint8 else v).astype(dtype)


# --- references: float32 formulas, written independently of the kernels and of ops/image.py ---

def ref_brightness(x, alpha):
    return _saturate(x.astype(F32) * alpha, x.dtype)


def ref_contrast(x, alpha):
    xf = x.astype(F32)
    gray = xf[..., 0] if x.shape[2] == 1 else xf[..., 0] * LUMA[0] + xf[..., 1] * LUMA[1] + xf[..., 2] * LUMA[2]
    beta = (F32(1) - alpha) * F32(np.mean(gray, dtype=np.float64))
    return _saturate(xf * alpha + beta, x.dtype)


def ref_saturation(x, alpha):
    if x.shape[2] == 1:
        return x.copy()
    xf = x.astype(F32)
    gray = xf[..., 2:] * LUMA[2] * (F32(1) - alpha)  # MXNet's gray: the blue term alone
    return _saturate(gray + xf * alpha, x.dtype)


def _hls(r, g, b):
    vmax, vmin = max(r, g, b), min(r, g, b)
    diff, light = vmax - vmin, (vmax + vmin) * F32(0.5)
    if diff <= np.finfo(F32).eps:
        return F32(0), light, F32(0)
    sat = diff / (vmax + vmin) if light < 0.5 else diff / (F32(2) - vmax - vmin)
    if vmax == r:
        hue = (g - b) * (F32(60) / diff)
    elif vmax == g:
        hue = (b - r) * (F32(60) / diff) + F32(120)
    else:
        hue = (r - g) * (F32(60) / diff) + F32(240)
    return (hue + F32(360) if hue < 0 else hue), light, sat


def _rgb(hue, light, sat):
    """OpenCV's HLS -> RGB: the colour wheel's ramps in float64 (NumPy's float32 - int64 fraction)."""
    if sat == 0:
        return (float(light) * 255,) * 3
    hi = light * (F32(1) + sat) if light <= 0.5 else light + sat - light * sat
    lo = F32(2) * light - hi
    h = np.mod(hue / F32(60), F32(6))
    sector = min(int(h), 5)
    frac = float(h) - sector
    up, down = float(lo) + float(hi - lo) * frac, float(lo) + float(hi - lo) * (1 - frac)
    hi, lo = float(hi), float(lo)
    r, g, b = [(hi, up, lo), (down, hi, lo), (lo, hi, up), (lo, down, hi), (up, lo, hi), (hi, lo, down)][sector]
    return r * 255, g * 255, b * 255


def ref_hue(x, alpha):
    if x.shape[2] == 1:
        return x.copy()
    out = np.empty(x.shape, np.float32)
    for i in np.ndindex(x.shape[:2]):
        hue, light, sat = _hls(*(F32(v) / F32(255) for v in x[i]))
        out[i] = _rgb(hue + alpha * F32(360), light, sat)
    return _saturate(out, x.dtype)


def ref_lighting(x, shift):
    return x.copy() if x.shape[2] == 1 else _saturate(x.astype(F32) + shift, x.dtype)


REFERENCES = {"brightness": ref_brightness, "contrast": ref_contrast, "saturation": ref_saturation, "hue": ref_hue}


def _run(device, kind, x, factor, prior=None):
    """The kernel's result on x (added to `prior` when given)."""
    req = REQ_WRITE if prior is None else REQ_ADD
    out = np.full(x.shape, 77, x.dtype) if prior is None else prior.copy()
    if device == "cpu":
        getattr(K, f"{kind}_cpu")(x, out, factor, req)
        return out
    target = cuda.to_device(out)
    getattr(K, f"{kind}_gpu")(cuda.to_device(x), target, factor, req)
    return target.copy_to_host()


def _image(draw, device, dtype):
    shape = _shape(device, draw(st.sampled_from([1, 3])))
    seed = draw(st.integers(0, 2 ** 32 - 1))
    rng = np.random.default_rng(seed)
    if dtype == "uint8":
        return rng.integers(0, 256, shape).astype(np.uint8)
    return rng.uniform(-20, 300, shape).astype(dtype)


def _check(got, want):
    if got.dtype == np.uint8:
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-4)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", list(REFERENCES))
@given(data=st.data(), factor=st.floats(0, 2, width=32))
def test_enhancers_match_the_formulas(kind, dtype, device, data, factor):
    x = _image(data.draw, device, dtype)
    factor = F32(factor - 1 if kind == "hue" else factor)  # hue turns either way
    _check(_run(device, kind, x, factor), REFERENCES[kind](x, factor))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data(), alphas=st.lists(st.floats(-2, 2, width=32), min_size=3, max_size=3))
def test_lighting_matches_the_formula(dtype, device, data, alphas):
    x = _image(data.draw, device, dtype)
    shift = EIG @ np.array(alphas, np.float32)
    _check(_run(device, "lighting", x, shift), ref_lighting(x, shift))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", list(REFERENCES) + ["lighting"])
def test_add_request_adds_the_saturated_result(kind, dtype, device):
    rng = np.random.default_rng(5)
    x = rng.integers(0, 256, _shape(device, 3)).astype(dtype)
    prior = rng.integers(0, 256, x.shape).astype(dtype)
    factor = EIG @ np.array([0.5, -1, 0.25], np.float32) if kind == "lighting" else F32(0.3 if kind == "hue" else 1.4)
    want = (REFERENCES.get(kind, ref_lighting))(x, factor)
    # uint8 sums wrap around, as NumPy's uint8 addition does
    _check(_run(device, kind, x, factor, prior), prior + want)


@pytest.mark.parametrize("device", DEVICES)
def test_uint8_saturates_at_both_ends(device):
    x = np.array([[[0, 128, 255], [1, 254, 200], [255, 255, 255], [0, 0, 0]]], np.uint8)
    # 255 * 1.002 is over 255 (clipped), 254 * 1.002 = 254.5 truncated; a negative contrast offset clips at 0
    np.testing.assert_array_equal(_run(device, "brightness", x, F32(1.002)),
                                  [[[0, 128, 255], [1, 254, 200], [255, 255, 255], [0, 0, 0]]])
    np.testing.assert_array_equal(_run(device, "brightness", x, F32(0.999)),
                                  [[[0, 127, 254], [0, 253, 199], [254, 254, 254], [0, 0, 0]]])
    assert _run(device, "contrast", x, F32(3)).min() == 0 and _run(device, "contrast", x, F32(3)).max() == 255
    shift = np.array([-300, 0, 300], np.float32)
    np.testing.assert_array_equal(_run(device, "lighting", x, shift)[..., 0], 0)
    np.testing.assert_array_equal(_run(device, "lighting", x, shift)[..., 2], 255)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_color_jitter_chains_saturated_steps(dtype, device):
    x = np.random.default_rng(8).integers(0, 256, _shape(device, 3)).astype(dtype)
    steps = [("contrast", F32(1.7)), ("hue", F32(-0.2)), ("brightness", F32(1.3)), ("saturation", F32(0.4))]
    want = x
    for kind, factor in steps:
        want = REFERENCES[kind](want, factor)
    _check(_run(device, "color_jitter", x, steps), want)
    _check(_run(device, "color_jitter", x, []), x)


RANDOM_OPS = [("random_brightness", {"min_factor": 0.5, "max_factor": 1.5}),
              ("random_contrast", {"min_factor": 0.5, "max_factor": 1.5}),
              ("random_saturation", {"min_factor": 0.5, "max_factor": 1.5}),
              ("random_hue", {"min_factor": 0.0, "max_factor": 0.5}),
              ("random_color_jitter", {"brightness": 0.3, "contrast": 0.3, "saturation": 0.3, "hue": 0.3}),
              ("random_lighting", {"alpha_std": 0.5})]


def _on(ctx, name, kwargs, x, seed):
    mx.random.seed(seed, ctx=ctx)
    fn = getattr(mx.nd.image, name)
    return [fn(mx.nd.array(x, ctx=ctx, dtype=x.dtype), **kwargs).asnumpy() for _ in range(2)]


@pytest.mark.cuda
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, kwargs", RANDOM_OPS, ids=[n for n, _ in RANDOM_OPS])
def test_random_ops_agree_between_devices(name, kwargs, dtype):
    x = np.random.default_rng(4).uniform(0, 255, (3, 4, 3)).astype(dtype)
    cpu, gpu = _on(mx.cpu(), name, kwargs, x, 7), _on(mx.gpu(0), name, kwargs, x, 7)
    for a, b in zip(cpu, gpu):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(cpu[0], cpu[1])  # the second call draws other factors


@pytest.mark.cuda
def test_gpu_refuses_other_image_types():
    with pytest.raises(mx.MXNetError, match=r"_image_random_brightness.*int32 images are not supported on the GPU"):
        mx.nd.image.random_brightness(mx.nd.ones((2, 2, 3), ctx=mx.gpu(0), dtype="int32"), 1, 2).asnumpy()
