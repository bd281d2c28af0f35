"""The to_tensor, normalize and flip kernels (mxcy/kernels/image_tensor.py), CPU and CUDA (in the simulator), against
NumPy: the same float32 arithmetic (x cast to float32 and divided by 255; subtraction then division in the array's
type) bit for bit, on hypothesis-drawn batches of every pixel type, under write and add requests; and the random
flips drawing the same decision on both devices."""
import numpy as np
import pytest
from hypothesis import given, strategies as st
from numba import cuda

import mxcy as mx
from mxcy.kernels import image_tensor
from mxcy.kernels.common import REQ_ADD, REQ_NULL, REQ_WRITE

DEVICES = ["cpu", pytest.param("gpu", marks=pytest.mark.cuda)]
PIXEL_TYPES = [np.uint8, np.int8, np.int32, np.float32, np.float64]


def _run(device, name, inputs, prior, *scalars, req):
    """image_tensor.<name>_<device>(*inputs, *scalars, out, req) on a copy of `prior`, as NumPy."""
    if device == "cpu":
        out = prior.copy()
        getattr(image_tensor, f"{name}_cpu")(*inputs, *scalars, out, req)
        return out
    out = cuda.to_device(prior.copy())
    getattr(image_tensor, f"{name}_gpu")(*[cuda.to_device(a) for a in inputs], *scalars, out, req)
    return out.copy_to_host()


def _batch(draw, dtype, max_side):
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, max_side)), draw(st.integers(1, max_side)),
             draw(st.sampled_from([1, 3])))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if np.dtype(dtype).kind == "f":
        return rng.uniform(-300, 300, shape).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(max(info.min, -1000), min(info.max, 1000), shape, endpoint=True).astype(dtype)


def _expect(reference, prior, req):
    return prior + reference if req == REQ_ADD else reference


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", PIXEL_TYPES)
@pytest.mark.parametrize("req", [REQ_WRITE, REQ_ADD])
@given(data=st.data())
def test_to_tensor_divides_float32_pixels_by_255(device, dtype, req, data):
    x = _batch(data.draw, dtype, 5 if device == "gpu" else 9)
    want = np.moveaxis(x, -1, 1).astype(np.float32) / np.float32(255)
    prior = np.random.default_rng(0).standard_normal(want.shape).astype(np.float32)
    got = _run(device, "to_tensor", [x], prior, req=req)
    np.testing.assert_array_equal(got, _expect(want, prior, req))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("req", [REQ_WRITE, REQ_ADD])
@given(data=st.data())
def test_normalize_subtracts_then_divides_per_channel(device, dtype, req, data):
    x = np.ascontiguousarray(np.moveaxis(_batch(data.draw, dtype, 5 if device == "gpu" else 9), -1, 1))
    channels = x.shape[1]
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    shift, scale = rng.uniform(-1, 1, channels).astype(dtype), rng.uniform(0.1, 2, channels).astype(dtype)
    want = (x - shift[:, None, None]) / scale[:, None, None]
    prior = rng.standard_normal(x.shape).astype(dtype)
    planes = x.reshape(x.shape[0], channels, -1)
    got = _run(device, "normalize", [planes, shift, scale], prior.reshape(planes.shape), req=req)
    np.testing.assert_array_equal(got.reshape(x.shape), _expect(want, prior, req))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", PIXEL_TYPES)
@pytest.mark.filterwarnings("ignore:overflow encountered")  # int8 adds wrap, as NumPy's
@pytest.mark.parametrize("rows, columns", [(False, False), (True, False), (False, True)])
@pytest.mark.parametrize("req", [REQ_WRITE, REQ_ADD])
@given(data=st.data())
def test_flip_reverses_rows_or_columns(device, dtype, rows, columns, req, data):
    x = _batch(data.draw, dtype, 5 if device == "gpu" else 9)
    want = x[:, ::-1] if rows else x[:, :, ::-1] if columns else x
    prior = np.full_like(x, 7) if req == REQ_WRITE else x[:, :, ::-1].copy()
    got = _run(device, "flip", [x], prior, rows, columns, req=req)
    np.testing.assert_array_equal(got, _expect(want, prior, req))


@pytest.mark.parametrize("device", DEVICES)
def test_null_request_writes_nothing(device):
    x = np.arange(12, dtype=np.uint8).reshape(1, 2, 2, 3)
    prior = np.full((1, 3, 2, 2), 7, np.float32)
    np.testing.assert_array_equal(_run(device, "to_tensor", [x], prior, req=REQ_NULL), prior)


@pytest.mark.cuda
@pytest.mark.parametrize("name, axis", [("random_flip_left_right", 1), ("random_flip_top_bottom", 0)])
def test_random_flips_draw_the_same_decisions_on_both_devices(name, axis):
    x = np.random.default_rng(5).integers(0, 256, (2, 3, 3)).astype(np.uint8)

    def decisions(ctx):
        mx.random.seed(9, ctx=ctx)
        outs = [getattr(mx.nd.image, name)(mx.nd.array(x, ctx=ctx, dtype="uint8")).asnumpy() for _ in range(12)]
        for y in outs:
            assert np.array_equal(y, x) or np.array_equal(y, np.flip(x, axis))
        return [np.array_equal(y, x) for y in outs]

    on_cpu = decisions(mx.cpu())
    assert decisions(mx.gpu(0)) == on_cpu
    assert 0 < sum(on_cpu) < len(on_cpu)
