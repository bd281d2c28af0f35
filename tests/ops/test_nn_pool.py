"""Pooling, UpSampling, BilinearResize2D and Crop against NumPy float64 references (their hidden backward ops
through the gradient checks), numbers printed by MXNet 1.9.1, error cases, and gpu(0) against cpu."""
import math

import numpy as np
import pytest

import mxcy as mx
from mxcy.ops import registry
from tests.ops.opspec import OpSpec, outputs_and_grads, spec_tests
from tests.kernels.test_resize import interp_matrix as _interp_matrix

nd = mx.nd

NO_SPEC = {
    "_backward_Pooling": "Pooling's gradient; checked numerically by the Pooling specs",
    "_backward_UpSampling": "UpSampling's gradient; checked numerically by the UpSampling specs",
    "_backward_contrib_BilinearResize2D": "BilinearResize2D's gradient; checked numerically by its specs",
}


def _ints(values):
    return tuple(int(v) for v in values)


# --- Pooling ------------------------------------------------------------------------------------

def _pool_out(n, k, s, p, convention):
    if convention == "valid":
        return (n + 2 * p - k) // s + 1
    if convention == "full":
        return math.ceil((n + 2 * p - k) / s) + 1
    return math.ceil(n / s)


def _pool_ref(x, kernel=(), pool_type="max", global_pool=False, pooling_convention="valid", stride=(),
              pad=(), p_value=None, count_include_pad=None):
    """Window by window: [o*s - p, min(o*s - p + k, n + p)) clipped to the input; avg divides by the
    unclipped extent (count_include_pad) or by the clipped one."""
    nd_, sp = x.ndim - 2, x.shape[2:]
    if global_pool:
        kernel, stride, pad = sp, (1,) * nd_, (0,) * nd_
    stride, pad = stride or (1,) * nd_, pad or (0,) * nd_
    outs = [1 if global_pool else _pool_out(n, k, s, p, pooling_convention)
            for n, k, s, p in zip(sp, kernel, stride, pad)]
    y = np.empty(x.shape[:2] + tuple(outs))
    for o in np.ndindex(*outs):
        window, extent, count = [], 1, 1
        for a in range(nd_):
            start = o[a] * stride[a] - pad[a]
            end = min(start + kernel[a], sp[a] + pad[a])
            lo, hi = max(start, 0), min(end, sp[a])
            window.append(slice(lo, hi))
            extent, count = extent * (end - start), count * (hi - lo)
        v = x[(Ellipsis, *window)].reshape(x.shape[:2] + (-1,))
        if pool_type == "max":
            r = v.max(-1)
        elif pool_type == "lp":
            t = (v ** p_value).sum(-1)
            r = np.sign(t) * np.abs(t) ** (1.0 / p_value)
        else:
            div = 1 if pool_type == "sum" else extent if count_include_pad is not False else count
            r = v.sum(-1) / div
        y[(Ellipsis, *o)] = r
    return y


def _pool_make(pool_type, convention, global_pool=False):
    def make(rng):
        while True:  # shapes of at most 60 elements whose every window overlaps the input
            ndim = 1 if convention == "same" else int(rng.integers(1, 4))
            kernel = _ints(rng.integers(1, 4, ndim))
            stride = _ints(rng.integers(1, 4, ndim))
            pad = (0,) * ndim if convention == "same" else _ints(rng.integers(0, k) for k in kernel)
            sp = _ints(rng.integers(max(1, k - 2 * p), k + 4) for k, p in zip(kernel, pad))
            shape = _ints(rng.integers(1, 3, 2)) + sp
            if math.prod(shape) <= 60 and all(
                    (_pool_out(n, k, s, p, convention) - 1) * s - p < n
                    for n, k, s, p in zip(sp, kernel, stride, pad)):
                break
        attrs = {"pool_type": pool_type, "pooling_convention": convention}
        if global_pool:
            attrs["global_pool"] = True
            if rng.random() < 0.5:
                attrs["kernel"] = _ints(rng.integers(1, 4, int(rng.integers(1, 4))))  # ignored
        else:
            attrs["kernel"] = kernel
            if any(s != 1 for s in stride) or rng.random() < 0.5:
                attrs["stride"] = stride
            if any(pad) or rng.random() < 0.5:
                attrs["pad"] = pad
        if pool_type == "max":  # distinct values: central differences never cross a tie
            x = rng.permutation(math.prod(shape)).reshape(shape) / 8.0 - 2.0
        elif pool_type == "lp":  # positive, away from the lp-norm's kink at 0
            x = rng.uniform(0.5, 1.5, shape)
            attrs["p_value"] = int(rng.integers(1, 4))
        else:
            x = rng.standard_normal(shape)
        if pool_type == "avg":
            cip = [None, True, False][int(rng.integers(3))]
            if cip is not None:
                attrs["count_include_pad"] = cip
        return [x], attrs
    return make


_POOL_CASES = [("max", "valid"), ("max", "full"), ("max", "same"), ("avg", "valid"), ("avg", "full"),
               ("avg", "same"), ("sum", "valid"), ("sum", "full"), ("lp", "valid"), ("lp", "full")]
POOL_SPECS = [OpSpec("Pooling", _pool_make(t, c), _pool_ref) for t, c in _POOL_CASES] + \
    [OpSpec("Pooling", _pool_make(t, "valid", global_pool=True), _pool_ref) for t in ("max", "avg", "sum", "lp")]


# --- UpSampling ---------------------------------------------------------------------------------

def _up_ref(*xs, scale, sample_type, num_args, multi_input_mode="concat", num_filter=0):
    if sample_type == "bilinear":
        x, w = xs
        k, s, p = 2 * scale - scale % 2, scale, math.ceil((scale - 1) / 2)
        n, c, h, wd = x.shape
        full = np.zeros((n, c, (h - 1) * s + k, (wd - 1) * s + k))
        for i in range(h):  # a depthwise deconvolution: every pixel adds its weight-scaled kernel
            for j in range(wd):
                full[:, :, i * s:i * s + k, j * s:j * s + k] += x[:, :, i, j, None, None] * w[:, 0]
        return full[:, :, p:p + h * s, p:p + wd * s]
    oh, ow = xs[0].shape[2] * scale, xs[0].shape[3] * scale
    ups = [x.repeat(oh // x.shape[2], 2).repeat(ow // x.shape[3], 3) for x in xs]
    return sum(ups) if multi_input_mode == "sum" else np.concatenate(ups, 1)


def _divisor(rng, n):
    return int(rng.choice([d for d in range(1, n + 1) if n % d == 0]))


def _nearest_make(n_inputs, mode="concat"):
    def make(rng):
        n, scale = int(rng.integers(1, 3)), int(rng.integers(1, 4))
        h, w = _ints(rng.integers(1, 3, 2))
        c0 = int(rng.integers(1, 3))
        xs = [rng.standard_normal((n, c0, h, w))]
        for _ in range(n_inputs - 1):
            c = c0 if mode == "sum" else int(rng.integers(1, 3))
            xs.append(rng.standard_normal((n, c, _divisor(rng, h * scale), _divisor(rng, w * scale))))
        attrs = {"scale": scale, "sample_type": "nearest", "num_args": n_inputs}
        if mode == "sum" or rng.random() < 0.5:
            attrs["multi_input_mode"] = mode
        return xs, attrs
    return make


def _bilinear_make(rng):
    while True:
        n, c, h, w, scale = _ints(rng.integers(1, 3, 4)) + (int(rng.integers(1, 4)),)
        k = 2 * scale - scale % 2
        if n * c * h * w + c * k * k <= 70:
            break
    return ([rng.standard_normal((n, c, h, w)), rng.standard_normal((c, 1, k, k))],
            {"scale": scale, "sample_type": "bilinear", "num_args": 2, "num_filter": c})


UP_SPECS = [OpSpec("UpSampling", _nearest_make(1), _up_ref),
            OpSpec("UpSampling", _nearest_make(3), _up_ref),
            OpSpec("UpSampling", _nearest_make(2, "sum"), _up_ref),
            OpSpec("UpSampling", _bilinear_make, _up_ref)]


# --- BilinearResize2D ---------------------------------------------------------------------------

def _resize_ref(x, *like, height=1, width=1, scale_height=None, scale_width=None, mode="size",
                align_corners=True):
    h, w = x.shape[2:]
    if mode == "size":
        oh, ow = (height, width) if scale_height is None else (int(h * scale_height), int(w * scale_width))
    elif mode == "odd_scale":
        oh, ow = [int(n * f) if n % 2 == 0 else int((n - 1) * f) + 1
                  for n, f in ((h, scale_height), (w, scale_width))]
    elif mode == "like":
        oh, ow = like[0].shape[2:]
    else:
        want_even, up = mode.startswith("to_even"), mode.endswith("up")
        oh, ow = [n if (n % 2 == 0) == want_even else n + (1 if up else -1) for n in (h, w)]
    return np.einsum("ah,nchw,bw->ncab", _interp_matrix(h, oh, align_corners), x,
                     _interp_matrix(w, ow, align_corners))


_SCALES = [0.5, 0.75, 1.5, 2.0]  # exact in float32, so int(n * scale) agrees with MXNet's float32 product


def _resize_make(mode):
    def make(rng):
        shape = _ints(rng.integers(1, 3, 2)) + _ints(rng.integers(2, 5, 2))
        attrs = {"mode": mode, "align_corners": bool(rng.integers(2))}
        inputs = [rng.standard_normal(shape)]
        if mode == "like":
            inputs.append(rng.standard_normal(_ints(rng.integers(1, 3, 2)) + _ints(rng.integers(1, 6, 2))))
        elif mode == "odd_scale" or (mode == "size" and rng.random() < 0.5):
            attrs["scale_height"], attrs["scale_width"] = (float(rng.choice(_SCALES)) for _ in range(2))
        elif mode == "size":
            attrs["height"], attrs["width"] = _ints(rng.integers(1, 6, 2))
        return inputs, attrs
    return make


RESIZE_SPECS = [OpSpec("_contrib_BilinearResize2D", _resize_make(m), _resize_ref, atol=1e-5)
                for m in ("size", "odd_scale", "like", "to_even_down", "to_even_up", "to_odd_down",
                          "to_odd_up")]


# --- Crop ---------------------------------------------------------------------------------------

def _crop_ref(x, *like, num_args, offset=(0, 0), h_w=(0, 0), center_crop=False):
    h, w = like[0].shape[2:] if like else h_w
    y0, x0 = ((x.shape[2] - h) // 2, (x.shape[3] - w) // 2) if center_crop else offset
    return x[:, :, y0:y0 + h, x0:x0 + w]


def _crop_make(num_args):
    def make(rng):
        shape = _ints(rng.integers(1, 3, 2)) + _ints(rng.integers(1, 6, 2))
        h, w = (int(rng.integers(1, n + 1)) for n in shape[2:])
        inputs, attrs = [rng.standard_normal(shape)], {"num_args": num_args}
        if num_args == 2:
            inputs.append(rng.standard_normal(_ints(rng.integers(1, 3, 2)) + (h, w)))
        else:
            attrs["h_w"] = (h, w)
        if rng.random() < 0.3:
            attrs["center_crop"] = True
        else:
            attrs["offset"] = (int(rng.integers(0, shape[2] - h + 1)), int(rng.integers(0, shape[3] - w + 1)))
        return inputs, attrs
    return make


CROP_SPECS = [OpSpec("Crop", _crop_make(1), _crop_ref), OpSpec("Crop", _crop_make(2), _crop_ref)]

SPECS = POOL_SPECS + UP_SPECS + RESIZE_SPECS + CROP_SPECS
test_forward, test_gradient, test_req_add = spec_tests(SPECS)


# --- MXNet 1.9.1's numbers ----------------------------------------------------------------------

def _grad_of(fn, *arrays, head=None):
    xs = [nd.array(a) for a in arrays]
    for x in xs:
        x.attach_grad()
    with mx.autograd.record():
        y = fn(*xs)
    y.backward(None if head is None else nd.array(head))
    return y.asnumpy(), [x.grad.asnumpy() for x in xs]


def test_max_pooling_gradient_goes_to_the_first_maximum():
    # MXNet 1.9.1 (float32 and float64 alike): a window's gradient goes to its first maximum in scan order.
    x = np.array([[[[1., 3., 3., 0.], [3., 2., 1., 3.], [0., 3., 3., 1.]]]])
    y, (dx,) = _grad_of(lambda a: nd.Pooling(a, kernel=(2, 2), pool_type="max"), x,
                        head=np.arange(1, 7.).reshape(1, 1, 2, 3))
    assert y.tolist() == [[[[3.0, 3.0, 3.0], [3.0, 3.0, 3.0]]]]
    assert dx.tolist() == [[[[0.0, 3.0, 3.0, 0.0], [4.0, 0.0, 0.0, 6.0], [0.0, 5.0, 0.0, 0.0]]]]


def test_pooling_matches_mxnet():
    p = nd.arange(25).reshape((1, 1, 5, 5))
    kw = dict(kernel=(3, 3), stride=(2, 2), pad=(1, 1), pool_type="avg", pooling_convention="full")
    # printed by MXNet 1.9.1
    np.testing.assert_allclose(nd.Pooling(p, **kw).asnumpy()[0, 0],
                               [[4 / 3, 3.0, 8 / 3], [7.0, 12.0, 9.0], [8.0, 13.0, 28 / 3]], rtol=1e-6)
    np.testing.assert_allclose(nd.Pooling(p, count_include_pad=False, **kw).asnumpy()[0, 0],
                               [[3.0, 4.5, 6.0], [10.5, 12.0, 13.5], [18.0, 19.5, 21.0]], rtol=1e-6)
    x = nd.array([[[0, 1, 2, 3, 4, 5]]], dtype="float64")
    assert nd.Pooling(x, kernel=(3,), stride=(2,), pooling_convention="same").asnumpy().tolist() == \
        [[[2.0, 4.0, 5.0]]]
    assert nd.Pooling(x, kernel=(4,), pool_type="avg", pooling_convention="same").asnumpy().tolist() == \
        [[[1.5, 2.5, 3.5, 4.0, 4.5, 5.0]]]
    y, (dx,) = _grad_of(lambda a: nd.Pooling(a, kernel=(2,), pool_type="lp", p_value=3),
                        np.array([[[1., -2, 3, -4, 0.5, 2]]]))
    np.testing.assert_allclose(y, [[[-1.9129312, 2.6684017, -3.3322217, -3.997394, 2.0103629]]], rtol=1e-6)
    np.testing.assert_allclose(dx, [[[0.27327588, 1.6548722, 2.07452, 2.4422655, 0.0775027, 0.9897171]]],
                               rtol=1e-5)


def test_upsampling_matches_mxnet():
    # MXNet's documented example, and its gradients (printed by MXNet 1.9.1)
    y, (dx, dw) = _grad_of(lambda a, w: nd.UpSampling(a, w, scale=2, sample_type="bilinear", num_filter=1),
                           np.ones((1, 1, 3, 3)), np.ones((1, 1, 4, 4)))
    edge = [1, 2, 2, 2, 2, 1]
    assert y[0, 0].tolist() == [[e * f for f in edge] for e in edge]
    assert dx[0, 0].tolist() == [[9, 12, 9], [12, 16, 12], [9, 12, 9]]
    assert dw[0, 0].tolist() == [[4, 6, 6, 4], [6, 9, 9, 6], [6, 9, 9, 6], [4, 6, 6, 4]]
    _, (da, db) = _grad_of(lambda a, b: nd.UpSampling(a, b, scale=2, sample_type="nearest"),
                           np.ones((1, 1, 3, 3)), np.ones((1, 1, 1, 1)), head=np.arange(72.).reshape(1, 2, 6, 6))
    assert da[0, 0].tolist() == [[14, 22, 30], [62, 70, 78], [110, 118, 126]]
    assert db.ravel().tolist() == [1926.0]


_RESIZE_X = np.array([[[[0.0, 1.25, 2.5, 3.75], [5.0, -1.25, 0.0, 1.25], [2.5, 3.75, -2.5, -1.25]]]])


@pytest.mark.parametrize("size,align_corners,expected", [
    ((5, 7), True, [[0.0, 0.625, 1.25, 1.875, 2.5, 3.125, 3.75], [2.5, 1.25, 0.0, 0.625, 1.25, 1.875, 2.5],
                    [5.0, 1.875, -1.25, -0.625, 0.0, 0.625, 1.25], [3.75, 2.5, 1.25, 0.0, -1.25, -0.625, 0.0],
                    [2.5, 3.125, 3.75, 0.625, -2.5, -1.875, -1.25]]),
    ((5, 7), False, [[0.0, 0.4464286267757416, 1.1607143878936768, 1.8750001192092896, 2.5892858505249023,
                      3.3035717010498047, 3.75],
                     [2.000000238418579, 1.375, 0.37499988079071045, 0.875, 1.5892858505249023,
                      2.3035717010498047, 2.749999761581421],
                     [5.0, 2.7678568363189697, -0.8035717010498047, -0.6249998807907104, 0.0892859697341919,
                      0.8035716414451599, 1.25],
                     [3.499999523162842, 2.875, 1.8750004768371582, 0.12499980628490448, -1.4107143878936768,
                      -0.696428656578064, -0.25000035762786865],
                     [2.5, 2.9464285373687744, 3.6607141494750977, 0.6249992847442627, -2.4107141494750977,
                      -1.6964282989501953, -1.25]]),
    ((2, 3), False, [[1.1458333730697632, 1.25, 2.9166667461395264],
                     [3.0208332538604736, 0.3125, -0.8333331346511841]]),
])
def test_bilinear_resize_matches_mxnet(size, align_corners, expected):
    # float32 outputs printed by MXNet 1.9.1: equal to float32 rounding, index arithmetic included
    y = nd.contrib.BilinearResize2D(nd.array(_RESIZE_X), height=size[0], width=size[1],
                                    align_corners=align_corners)
    np.testing.assert_allclose(y.asnumpy()[0, 0], expected, rtol=0, atol=5e-7)


def test_bilinear_resize_gradient_matches_mxnet():
    _, (dx,) = _grad_of(lambda a: nd.contrib.BilinearResize2D(a, height=5, width=3, align_corners=False),
                        _RESIZE_X, head=np.arange(15.).reshape(1, 1, 5, 3))
    np.testing.assert_allclose(dx[0, 0], [[1.5, 2.0, 2.533332347869873, 4.1666669845581055],
                                          [9.0, 8.1, 8.699996948242188, 12.000000953674316],
                                          [14.5, 12.4, 12.933330535888672, 17.166671752929688]], rtol=1e-6)


def test_like_inputs_get_zero_gradients():
    x, like = nd.ones((1, 1, 4, 4)), nd.ones((1, 1, 2, 3))
    for fn in (lambda a, b: nd.contrib.BilinearResize2D(a, b, mode="like"), lambda a, b: nd.Crop(a, b)):
        like.attach_grad()
        like.grad[:] = 5
        with mx.autograd.record():
            y = fn(x, like)
        y.backward()
        assert y.shape == (1, 1, 2, 3) and not like.grad.asnumpy().any()


def test_argument_names_are_mxnets():
    def names(op, **kw):
        return registry.get(op).list_arguments(registry.get(op).parse_attrs(kw))
    assert names("UpSampling", scale=2, sample_type="nearest", num_args=2) == ["arg0", "arg1"]
    assert names("UpSampling", scale=2, sample_type="bilinear", num_args=1) == ["data", "weight"]
    assert names("_contrib_BilinearResize2D", mode="like") == ["data", "like"]
    assert names("_contrib_BilinearResize2D") == ["data"]
    assert names("Crop", num_args=2) == ["arg0", "arg1"]
    assert names("Pooling") == ["data"]
    assert nd.contrib.BilinearResize2D is not None and "Pooling" not in dir(nd.contrib)


def test_bilinear_resize_none_holds_the_place_of_like():
    """MXNet's signature is BilinearResize2D(data, like, height, ...): a positional None is the absent `like`
    (MXNet's test_bilinear_resize_op), not the height."""
    y = mx.sym.contrib.BilinearResize2D(mx.sym.var("data"), None, scale_height=2.0, scale_width=0.5,
                                        mode="odd_scale")
    assert y.list_arguments() == ["data"]
    assert y.infer_shape(data=(1, 1, 4, 6))[1] == [(1, 1, 8, 3)]
    assert nd.contrib.BilinearResize2D(nd.zeros((1, 1, 4, 6)), None, 3, 2).shape == (1, 1, 3, 2)


# --- errors -------------------------------------------------------------------------------------

X4 = np.zeros((1, 2, 5, 5), np.float32)


@pytest.mark.parametrize("shape,kwargs,match", [
    ((1, 2, 5, 5), {}, "kernel is required"),
    ((1, 5), {"kernel": (2,)}, "must be 3-D"),
    ((1, 1, 2, 2, 2, 2), {"kernel": (1, 1, 1, 1)}, "must be 3-D"),
    ((1, 2, 5, 5), {"kernel": (2,)}, r"kernel \(2,\) has 1 dimensions"),
    ((1, 2, 5, 5), {"kernel": (2, 2), "stride": (2,)}, r"stride \(2,\) must have 2 entries"),
    ((1, 2, 5, 5), {"kernel": (2, 2), "stride": (0, 1)}, "stride .* must be positive"),
    ((1, 2, 5, 5), {"kernel": (0, 2)}, "kernel .* must be positive"),
    ((1, 2, 5, 5), {"kernel": (2, 2), "pad": (2, 0)}, "smaller than kernel"),
    ((1, 2, 5, 5), {"kernel": (6, 2)}, r"kernel \(6, 2\) exceeds the input \(5, 5\) padded by \(0, 0\)"),
    ((1, 2, 5, 5), {"kernel": (2, 2), "pool_type": "lp"}, "p_value 1, 2 or 3, got None"),
    ((1, 2, 5, 5), {"kernel": (2, 2), "pool_type": "lp", "p_value": 4}, "got 4"),
    ((1, 2, 5, 5), {"kernel": (2, 2), "pooling_convention": "same"}, "only 1-D pooling"),
    ((1, 2, 5), {"kernel": (2,), "pad": (1,), "pooling_convention": "same"}, "takes no pad"),
    ((1, 2, 5, 5), {"kernel": (2, 2), "layout": "NHWC"}, "channel-last layouts are not supported"),
    ((1, 2, 5, 5), {"global_pool": True, "layout": "NCW"}, "not the layout of 2-D pooling"),
])
def test_pooling_errors(shape, kwargs, match):
    with pytest.raises(mx.MXNetError, match="Pooling: .*" + match):
        nd.Pooling(nd.zeros(shape), **kwargs)


def test_pooling_reads_the_leading_entries_of_longer_stride_and_pad():
    """As MXNet 1.9.1 (printed there: (1, 1, 4, 4); its test_valid_max_pooling_pad_type_same passes pad=(0, 0, 0))."""
    assert nd.Pooling(nd.ones((1, 1, 6, 6)), kernel=(2, 2), stride=(2, 2, 5), pad=(1, 1, 9)).shape == (1, 1, 4, 4)
    y = nd.Pooling(nd.ones((1, 1, 10)), kernel=2, stride=2, pad=(0, 0, 0), pooling_convention="same")
    assert y.shape == (1, 1, 5)


def test_pooling_refuses_integer_data_and_bad_choices():
    with pytest.raises(mx.MXNetError, match="Pooling: .*must be float16, float32 or float64, got int32"):
        nd.Pooling(nd.zeros((1, 1, 4, 4), dtype="int32"), kernel=(2, 2))
    with pytest.raises(mx.MXNetError, match="Pooling: invalid value 'median' for argument 'pool_type'"):
        nd.Pooling(nd.zeros((1, 1, 4, 4)), kernel=(2, 2), pool_type="median")


def test_pooling_float16_runs_in_float32():
    x = np.random.default_rng(0).standard_normal((1, 2, 4, 4))
    y = nd.Pooling(nd.array(x, dtype="float16"), kernel=(2, 2), pool_type="avg")
    assert y.dtype == np.float16
    np.testing.assert_allclose(y.asnumpy(), _pool_ref(x.astype(np.float16).astype(np.float64), (2, 2), "avg"),
                               rtol=2e-3, atol=2e-3)


@pytest.mark.parametrize("inputs,kwargs,match", [
    ([(1, 1, 2, 2)], {"scale": 0, "sample_type": "nearest"}, "scale must be at least 1"),
    ([(1, 2, 2)], {"scale": 2, "sample_type": "nearest"}, r"input 0 must be 4-D .*\(1, 2, 2\)"),
    ([(1, 1, 2, 2), (1, 1, 3, 3)], {"scale": 2, "sample_type": "nearest"},
     r"input 1 of shape \(1, 1, 3, 3\) does not divide the output size \(4, 4\)"),
    ([(1, 1, 2, 2), (2, 1, 1, 1)], {"scale": 2, "sample_type": "nearest"}, "batch size 1 of input 0"),
    ([(1, 1, 2, 2), (1, 2, 1, 1)], {"scale": 2, "sample_type": "nearest", "multi_input_mode": "sum"},
     "'sum' needs one channel count"),
    ([(1, 2, 2, 2)], {"scale": 2, "sample_type": "bilinear", "num_filter": 2}, r"takes 2 inputs \(data, weight\)"),
    ([(1, 2, 2, 2), (2, 1, 4, 4)], {"scale": 2, "sample_type": "bilinear"},
     "num_filter equal to the 2 channels .* got num_filter=0"),
    ([(1, 2, 2, 2), (2, 1, 3, 3)], {"scale": 2, "sample_type": "bilinear", "num_filter": 2},
     r"weight of shape \(2, 1, 3, 3\) .* expected \(2, 1, 4, 4\)"),
])
def test_upsampling_errors(inputs, kwargs, match):
    with pytest.raises(mx.MXNetError, match="UpSampling: .*" + match):
        nd.UpSampling(*[nd.zeros(s) for s in inputs], **kwargs)


def test_upsampling_type_errors():
    with pytest.raises(mx.MXNetError, match="UpSampling: .*got int32"):
        nd.UpSampling(nd.zeros((1, 1, 2, 2), dtype="int32"), scale=2, sample_type="nearest")
    with pytest.raises(mx.MXNetError, match="UpSampling: .*share one dtype"):
        nd.UpSampling(nd.zeros((1, 1, 2, 2)), nd.zeros((1, 1, 2, 2), dtype="float64"), scale=2,
                      sample_type="nearest")
    with pytest.raises(mx.MXNetError, match="UpSampling: required argument 'sample_type'"):
        nd.UpSampling(nd.zeros((1, 1, 2, 2)), scale=2)


@pytest.mark.parametrize("inputs,kwargs,match", [
    ([(1, 2, 2)], {"height": 2, "width": 2}, r"data must be 4-D .*\(1, 2, 2\)"),
    ([(1, 1, 2, 2)], {"mode": "like"}, r"required input 'like' is missing"),
    ([(1, 1, 2, 2), (2, 2)], {"mode": "like"}, r"like must be 4-D .*\(2, 2\)"),
    ([(1, 1, 2, 2)], {"mode": "odd_scale", "scale_height": 2.0}, "needs scale_height and scale_width"),
    ([(1, 1, 2, 2)], {"scale_height": 2.0}, "needs scale_width too"),
    ([(1, 1, 2, 2)], {"scale_height": -1.0, "scale_width": 1.0}, r"negative output size \(-2, 2\)"),
    ([(1, 1, 2, 2)], {"height": 0}, "height and width must be at least 1"),
])
def test_bilinear_resize_errors(inputs, kwargs, match):
    with pytest.raises(mx.MXNetError, match="_contrib_BilinearResize2D: .*" + match):
        nd.contrib.BilinearResize2D(*[nd.zeros(s) for s in inputs], **kwargs)


def test_bilinear_resize_refuses_integer_data():
    with pytest.raises(mx.MXNetError, match="_contrib_BilinearResize2D: .*got int32"):
        nd.contrib.BilinearResize2D(nd.zeros((1, 1, 2, 2), dtype="int32"), height=3, width=3)


def test_bilinear_resize_shapes_match_mxnet():
    # output shapes printed by MXNet 1.9.1 for data (1, 1, 5, 6); MXNet reads scale_width only with scale_height
    x = nd.zeros((1, 1, 5, 6))
    for kwargs, shape in [({"mode": "odd_scale", "scale_height": 2.0, "scale_width": 0.5}, (9, 3)),
                          ({"mode": "odd_scale", "scale_height": 1.5, "scale_width": 0.3}, (7, 1)),
                          ({"scale_height": 2.0, "scale_width": 0.5}, (10, 3)),
                          ({"scale_width": 2.0, "height": 3, "width": 4}, (3, 4)),
                          ({"mode": "to_even_down"}, (4, 6)), ({"mode": "to_odd_up"}, (5, 7))]:
        assert nd.contrib.BilinearResize2D(x, **kwargs).shape == (1, 1) + shape


@pytest.mark.parametrize("inputs,kwargs,match", [
    ([(1, 1, 5, 6)], {"num_args": 3}, r"'arg1' is missing; it takes 3 inputs .* for num_args=3"),
    ([(1, 5, 6)], {"h_w": (2, 2)}, r"data must be 4-D .*\(1, 5, 6\)"),
    ([(1, 1, 5, 6)], {}, r"h_w must be a positive \(height, width\) .*got \(0, 0\)"),
    ([(1, 1, 5, 6)], {"h_w": (6, 3)}, r"crop size \(6, 3\) exceeds"),
    ([(1, 1, 5, 6)], {"h_w": (2, 3), "offset": (4, 2)}, r"offset \(4, 2\) must be a non-negative"),
    ([(1, 1, 5, 6), (1, 1, 9, 2)], {}, r"crop size \(9, 2\) exceeds"),
    ([(1, 1, 5, 6), (1, 9, 2)], {}, r"crop_like must be 4-D"),
])
def test_crop_errors(inputs, kwargs, match):
    with pytest.raises(mx.MXNetError, match="Crop: .*" + match):
        nd.Crop(*[nd.zeros(s) for s in inputs], **kwargs)


# --- gpu(0) against cpu --------------------------------------------------------------------------

@pytest.mark.cuda
@pytest.mark.parametrize("shape,kwargs", [
    ((1, 2, 4, 4), {"kernel": (2, 2), "stride": (2, 1), "pool_type": "max"}),
    ((1, 1, 4, 3), {"kernel": (3, 2), "pad": (1, 1), "pool_type": "avg", "count_include_pad": False}),
    ((2, 1, 5), {"kernel": (2,), "stride": (2,), "pool_type": "sum", "pooling_convention": "full"}),
    ((1, 1, 2, 3, 2), {"kernel": (1, 2, 2), "pool_type": "lp", "p_value": 2}),
    ((1, 2, 3, 3), {"global_pool": True, "pool_type": "avg"}),
])
def test_pooling_gpu_matches_cpu(shape, kwargs):
    x = np.random.default_rng(0).permutation(math.prod(shape)).reshape(shape).astype(np.float32) / 4 + 0.5
    fn = lambda a: nd.Pooling(a, **kwargs)  # noqa: E731
    for got, want in zip(outputs_and_grads(mx.gpu(0), fn, [x]), outputs_and_grads(mx.cpu(), fn, [x])):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.cuda
@pytest.mark.parametrize("shapes,kwargs", [
    ([(2, 1, 1, 2), (2, 2, 2, 1)], {"scale": 2, "sample_type": "nearest"}),
    ([(1, 2, 1, 2), (1, 2, 2, 4)], {"scale": 2, "sample_type": "nearest", "multi_input_mode": "sum"}),
    ([(1, 2, 2, 2), (2, 1, 4, 4)], {"scale": 2, "sample_type": "bilinear", "num_filter": 2}),
])
def test_upsampling_gpu_matches_cpu(shapes, kwargs):
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    fn = lambda *a: nd.UpSampling(*a, **kwargs)  # noqa: E731
    for got, want in zip(outputs_and_grads(mx.gpu(0), fn, arrays), outputs_and_grads(mx.cpu(), fn, arrays)):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.cuda
@pytest.mark.parametrize("shapes,kwargs", [
    ([(1, 2, 3, 4)], {"height": 5, "width": 3}),
    ([(2, 1, 4, 3)], {"height": 2, "width": 7, "align_corners": False}),
    ([(1, 1, 3, 3)], {"height": 1, "width": 1, "align_corners": False}),
    ([(1, 2, 3, 2)], {"mode": "odd_scale", "scale_height": 1.5, "scale_width": 2.0}),
    ([(1, 1, 4, 2), (1, 1, 3, 5)], {"mode": "like", "align_corners": False}),
    ([(1, 1, 3, 4)], {"mode": "to_even_up"}),
])
def test_bilinear_resize_gpu_matches_cpu(shapes, kwargs):
    rng = np.random.default_rng(2)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    fn = lambda *a: nd.contrib.BilinearResize2D(*a, **kwargs)  # noqa: E731
    for got, want in zip(outputs_and_grads(mx.gpu(0), fn, arrays), outputs_and_grads(mx.cpu(), fn, arrays)):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.cuda
@pytest.mark.parametrize("fn", [
    lambda x: nd.Pooling(x, kernel=(2, 2), stride=(1, 2), pool_type="max"),
    lambda x: nd.Pooling(x, kernel=(3, 2), pad=(1, 1), pool_type="avg", count_include_pad=False),
    lambda x: nd.contrib.BilinearResize2D(x, height=5, width=3, align_corners=False),
], ids=["max_pool", "avg_pool", "bilinear_resize"])
def test_gpu_float16_matches_cpu(fn):
    # Both devices compute float16 in float32 and round the results: equal up to a float16 rounding step.
    x = np.random.default_rng(3).permutation(24).reshape(1, 2, 3, 4).astype(np.float16) / 8
    for got, want in zip(outputs_and_grads(mx.gpu(0), fn, [x]), outputs_and_grads(mx.cpu(), fn, [x])):
        assert got.dtype == want.dtype == np.float16
        np.testing.assert_allclose(got.astype(np.float64), want, rtol=1e-3, atol=1e-3)


@pytest.mark.cuda
@pytest.mark.parametrize("shapes,kwargs", [
    ([(1, 2, 4, 5)], {"h_w": (2, 3), "offset": (1, 2)}),
    ([(2, 1, 5, 4)], {"h_w": (3, 1), "center_crop": True}),
    ([(1, 2, 4, 4), (1, 1, 4, 2)], {"offset": (0, 1)}),
])
def test_crop_gpu_matches_cpu(shapes, kwargs):
    rng = np.random.default_rng(4)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    fn = lambda *a: nd.Crop(*a, num_args=len(a), **kwargs)  # noqa: E731
    for got, want in zip(outputs_and_grads(mx.gpu(0), fn, arrays), outputs_and_grads(mx.cpu(), fn, arrays)):
        np.testing.assert_array_equal(got, want)
