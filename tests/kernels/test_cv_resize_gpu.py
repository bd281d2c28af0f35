"""CUDA twins of the image resize and crop ops (mxcy/kernels/cv_resize.py, mxcy/kernels/image_crop.py): against the
CPU's resize (mxcy/ops/_cv_resize.py), against NumPy statements of each interpolation and MXNet 1.9.1's printed
resizes, crop and its gradient against NumPy slicing, and the ops on gpu(0) against cpu(). Shapes stay tiny: the
CUDA simulator runs a Python thread per CUDA thread."""
import os

import numpy as np
import pytest
from numba import cuda

import mxcy as mx
from mxcy.base import MXNetError
from mxcy.kernels import image_crop
from mxcy.kernels.common import REQ_ADD, REQ_WRITE
from mxcy.ops import _cv_resize as R

pytestmark = pytest.mark.cuda
# uint8 outputs under REQ_ADD wrap around as NumPy's add does; the simulator adds NumPy scalars, which warn
wraps = pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# (source shape, height, width): shrinking, enlarging, exact halving of a batch, whole 3x2 blocks, and a batch that
# enlarges one axis and shrinks the other
CASES = [((5, 7, 3), 3, 4), ((4, 6, 1), 8, 9), ((2, 4, 6, 1), 2, 3), ((6, 6, 2), 2, 3), ((2, 3, 5, 2), 4, 2)]
INTERPS = range(5)


def _image(shape, dtype, seed=0):
    rng = np.random.RandomState(seed)
    if np.dtype(dtype).kind == "f":
        return (rng.rand(*shape) * 255).astype(dtype)
    info = np.iinfo(dtype)
    return rng.randint(max(info.min, -300), min(info.max, 300) + 1, shape).astype(dtype)


def _gpu_resize(x, height, width, interp, req=REQ_WRITE, out=None):
    shape = x.shape[:-3] + (height, width, x.shape[-1])
    target = cuda.to_device(out) if out is not None else cuda.device_array(shape, x.dtype)
    R.resize_gpu(cuda.to_device(x), target, interp, req)
    return target.copy_to_host()


def _float_blocks(x, height, width, interp):
    """Whether a float image takes the integer-block area path, whose float32 block sums NumPy orders by layout."""
    src_h, src_w = x.shape[-3:-1]
    return (x.dtype.kind == "f" and interp in (R.LINEAR, R.AREA) and src_h % height == 0 and src_w % width == 0
            and (interp == R.AREA or (src_h == 2 * height and src_w == 2 * width)))


@pytest.mark.parametrize("dtype", ["uint8", "float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=str)
@pytest.mark.parametrize("interp", INTERPS)
def test_matches_cpu(interp, case, dtype):
    shape, height, width = case
    x = _image(shape, dtype)
    want = R.resize(x, height, width, interp)
    got = _gpu_resize(x, height, width, interp)
    assert got.dtype == want.dtype and got.shape == want.shape
    if _float_blocks(x, height, width, interp):
        np.testing.assert_allclose(got, want, rtol=2.5e-7, atol=0)  # float32's last place
    else:
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", ["int8", "int32"])
@pytest.mark.parametrize("interp", INTERPS)
def test_other_integer_types_match_cpu(interp, dtype):
    for shape, height, width in (CASES[0], CASES[3]):
        x = _image(shape, dtype, seed=interp)
        np.testing.assert_array_equal(_gpu_resize(x, height, width, interp), R.resize(x, height, width, interp))


def _axis_matrix(src, dst, interp):
    """(dst, src) weights of one axis as the textbook states each interpolation: nearest at floor(i * src / dst);
    area as the overlap of output cell i with each source pixel; the others at half-pixel centres, edge pixels
    repeated (bilinear, Keys' cubic with A = -0.75, Lanczos with a = 4 normalised)."""
    scale = src / dst
    m = np.zeros((dst, src))
    for i in range(dst):
        if interp == R.NEAREST:
            m[i, min(int(i * scale), src - 1)] = 1
        elif interp == R.AREA:
            low, high = i * scale, (i + 1) * scale
            m[i] = np.clip(np.minimum(high, np.arange(1, src + 1)) - np.maximum(low, np.arange(src)), 0, None) / scale
        else:
            pos = (i + 0.5) * scale - 0.5
            base = int(np.floor(pos))
            offsets = {R.LINEAR: np.arange(2), R.CUBIC: np.arange(-1, 3), R.LANCZOS4: np.arange(-3, 5)}[interp]
            t = np.abs(pos - base - offsets)
            if interp == R.LINEAR:
                w = 1 - t
            elif interp == R.CUBIC:
                a = -0.75
                w = np.where(t <= 1, (a + 2) * t ** 3 - (a + 3) * t ** 2 + 1,
                             a * t ** 3 - 5 * a * t ** 2 + 8 * a * t - 4 * a)
            else:
                w = np.sinc(t) * np.sinc(t / 4)
                w /= w.sum()
            np.add.at(m[i], np.clip(base + offsets, 0, src - 1), w)
    return m


@pytest.mark.parametrize("dtype", ["uint8", "float32", "float64"])
@pytest.mark.parametrize("case", CASES[:4], ids=str)  # OpenCV's area is the overlap only when both axes shrink or grow
@pytest.mark.parametrize("interp", INTERPS)
def test_matches_numpy_statement(interp, case, dtype):
    shape, height, width = case
    x = _image(shape, dtype, seed=1)
    rows, cols = _axis_matrix(shape[-3], height, interp), _axis_matrix(shape[-2], width, interp)
    want = np.einsum("ip,...pqc,jq->...ijc", rows, x.astype(np.float64), cols)
    got = _gpu_resize(x, height, width, interp)
    if dtype == "uint8":  # 11-bit weights, OpenCV's dropped bits and integer rounding: within 1
        np.testing.assert_allclose(got, np.clip(want, 0, 255), atol=1.01)
    else:  # float32 weights
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-3)


_MXNET = np.load(os.path.join(ROOT, "tests", "ops", "fixtures", "resize_reference.npz"))


@pytest.mark.parametrize("key", [k for k in _MXNET.files if k.startswith("uint8_") and k.endswith(("_3x3", "_11x13"))])
def test_uint8_equals_mxnet(key):
    _, interp, size = key.split("_")
    width, height = map(int, size.split("x"))
    np.testing.assert_array_equal(_gpu_resize(_MXNET["img"], height, width, int(interp)), _MXNET[key])


@wraps
@pytest.mark.parametrize("dtype", ["uint8", "float32"])
@pytest.mark.parametrize("interp", INTERPS)
def test_req_add(interp, dtype):
    (shape, height, width) = CASES[0]
    x = _image(shape, dtype, seed=2)
    base = _image(shape[:-3] + (height, width, shape[-1]), dtype, seed=3)
    want = base + R.resize(x, height, width, interp)  # uint8 wraps, as NumPy's add into the output does
    np.testing.assert_array_equal(_gpu_resize(x, height, width, interp, REQ_ADD, base), want)


def test_exact_halving_and_blocks_take_the_integer_paths():
    x = np.zeros((4, 6, 1), np.uint8)
    x[:2, :2, 0] = [[3, 3], [2, 2]]  # (10 + 2) >> 2 = 3, where a mean rounded half to even would give rint(2.5) = 2
    for interp in (R.LINEAR, R.AREA):
        np.testing.assert_array_equal(_gpu_resize(x, 2, 3, interp)[..., 0], [[3, 0, 0], [0, 0, 0]])
    y = np.arange(36, dtype=np.uint8).reshape(6, 6, 1)  # 3 x 2 blocks: integer sums times float32 1/6, half to even
    want = np.rint(y.reshape(2, 3, 3, 2).astype(np.int64).sum(axis=(1, 3)).astype(np.float32) * np.float32(1 / 6))
    np.testing.assert_array_equal(_gpu_resize(y, 2, 3, R.AREA)[..., 0], want)


def test_unsupported_dtype_names_the_op():
    x = cuda.to_device(np.zeros((4, 4, 1), np.int64))
    with pytest.raises(MXNetError, match="_image_resize.*int64"):
        R.resize_gpu(x, cuda.device_array((2, 2, 1), np.int64), R.LINEAR, REQ_WRITE)


def test_taps_are_cached_read_only():
    taps, weights = R._taps(7, 3, R.CUBIC, True, True)
    assert R._taps(7, 3, R.CUBIC, True, True)[0] is taps
    assert not taps.flags.writeable and not weights.flags.writeable


@pytest.mark.parametrize("dtype", ["uint8", "float32"])
@pytest.mark.parametrize("shape", [(5, 7, 3), (2, 4, 6, 1)], ids=str)
@wraps
@pytest.mark.parametrize("req", [REQ_WRITE, REQ_ADD])
def test_crop_and_its_gradient_match_slicing(req, shape, dtype):
    x = _image(shape, dtype, seed=4)
    top, left, height, width = 1, 2, 2, 3
    box = (Ellipsis, slice(top, top + height), slice(left, left + width), slice(None))
    base = _image(x[box].shape, dtype, seed=5)
    out = cuda.to_device(base)
    image_crop.crop_gpu(cuda.to_device(x), out, top, left, req)
    np.testing.assert_array_equal(out.copy_to_host(), x[box] + (base if req == REQ_ADD else 0))

    g, base = _image(x[box].shape, dtype, seed=6), _image(shape, dtype, seed=7)
    grad = cuda.to_device(base)
    image_crop.crop_backward_gpu(cuda.to_device(g), grad, top, left, req)
    want = np.zeros(shape, dtype)
    want[box] = g
    np.testing.assert_array_equal(grad.copy_to_host(), want + (base if req == REQ_ADD else 0))


def _on_both(fn, x):
    return [fn(mx.nd.array(x, ctx=ctx, dtype=x.dtype)).asnumpy() for ctx in (mx.cpu(), mx.gpu(0))]


@pytest.mark.parametrize("dtype", ["uint8", "float32"])
@pytest.mark.parametrize("interp", INTERPS)
def test_resize_op_on_gpu_matches_cpu(interp, dtype):
    x = _image((2, 5, 7, 3), dtype, seed=8)
    cpu, gpu = _on_both(lambda a: mx.nd.image.resize(a, size=(4, 3), interp=interp), x)
    np.testing.assert_array_equal(gpu, cpu)
    cpu, gpu = _on_both(lambda a: mx.nd.image.resize(a, size=3, keep_ratio=True, interp=interp), x[0])
    np.testing.assert_array_equal(gpu, cpu)


@pytest.mark.parametrize("interp", INTERPS)
def test_float16_resize_runs_in_float32_on_gpu(interp):
    x = _image((5, 7, 3), "float16", seed=11)
    cpu, gpu = _on_both(lambda a: mx.nd.image.resize(a, size=(4, 3), interp=interp), x)
    assert gpu.dtype == np.float16
    np.testing.assert_allclose(gpu, cpu, rtol=1e-3)  # a float16 last place at most (double rounding)
    cpu, gpu = _on_both(lambda a: mx.nd.image.crop(a, x=1, y=2, width=3, height=2), x)
    np.testing.assert_array_equal(gpu, cpu)


def test_crop_op_and_gradient_on_gpu_match_cpu():
    x = _image((2, 4, 6, 3), "float32", seed=9)
    head = _image((2, 2, 3, 3), "float32", seed=10)
    results = []
    for ctx in (mx.cpu(), mx.gpu(0)):
        a = mx.nd.array(x, ctx=ctx)
        a.attach_grad()
        with mx.autograd.record():
            y = mx.nd.image.crop(a, x=2, y=1, width=3, height=2)
        y.backward(mx.nd.array(head, ctx=ctx))
        results.append((y.asnumpy(), a.grad.asnumpy()))
    (y_cpu, g_cpu), (y_gpu, g_gpu) = results
    np.testing.assert_array_equal(y_gpu, y_cpu)
    np.testing.assert_array_equal(g_gpu, g_cpu)
    np.testing.assert_array_equal(y_gpu, x[:, 1:3, 2:5])
