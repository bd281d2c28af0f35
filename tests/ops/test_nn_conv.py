"""Convolution, Deconvolution and FullyConnected against NumPy float64 references (their hidden backward ops
through the gradient checks), numbers computed by MXNet 1.9.1, shape inference, error cases, and gpu(0)
against cpu()."""
import math

import numpy as np
import pytest

import mxcy as mx
from tests.ops.opspec import OpSpec, outputs_and_grads, spec_tests

nd = mx.nd

NO_SPEC = {
    "_backward_Convolution": "Convolution's gradient; checked numerically by the Convolution specs",
    "_backward_Deconvolution": "Deconvolution's gradient; checked numerically by the Deconvolution specs",
    "_backward_FullyConnected": "FullyConnected's gradient; checked numerically by the FullyConnected specs",
}


def _ints(values):
    return tuple(int(v) for v in values)


def _window(kernel, stride, dilate, pad):
    nd_ = len(kernel)
    return stride or (1,) * nd_, dilate or (1,) * nd_, pad or (0,) * nd_


# --- references: explicit loops over positions and kernel taps ----------------------------------

def _conv_ref(x, w, b=None, *, kernel, num_filter, stride=(), dilate=(), pad=(), num_group=1, **_):
    """Every output position gathers, for every tap, the input pixel o*s - p + t*d (zero outside)."""
    stride, dilate, pad = _window(kernel, stride, dilate, pad)
    N, C = x.shape[:2]
    Cg, Og = C // num_group, num_filter // num_group
    out_sp = [(n + 2 * p - d * (k - 1) - 1) // s + 1
              for n, k, s, d, p in zip(x.shape[2:], kernel, stride, dilate, pad)]
    y = np.zeros((N, num_filter) + tuple(out_sp))
    for o in np.ndindex(*out_sp):
        for t in np.ndindex(*kernel):
            pos = tuple(oi * s - p + ti * d for oi, ti, s, d, p in zip(o, t, stride, dilate, pad))
            if not all(0 <= q < n for q, n in zip(pos, x.shape[2:])):
                continue
            for g in range(num_group):
                xs = x[(slice(None), slice(g * Cg, (g + 1) * Cg)) + pos]           # (N, Cg)
                ws = w[(slice(g * Og, (g + 1) * Og), slice(None)) + t]             # (Og, Cg)
                y[(slice(None), slice(g * Og, (g + 1) * Og)) + o] += xs @ ws.T
    if b is not None:
        y += b.reshape((1, -1) + (1,) * len(out_sp))
    return y


def _deconv_pad_adj(in_sp, kernel, stride, dilate, pad, adj, target_shape):
    """MXNet's rule: with a target shape, the excess of the full output over it is cut as pad = ceil(e/2)
    on both sides, adj = e % 2 given back at the end."""
    if not target_shape:
        return pad, adj or (0,) * len(kernel)
    full = [s * (n - 1) + d * (k - 1) + 1 for n, k, s, d in zip(in_sp, kernel, stride, dilate)]
    return (tuple(-(-(f - t) // 2) for f, t in zip(full, target_shape)),
            tuple((f - t) % 2 for f, t in zip(full, target_shape)))


def _deconv_ref(x, w, b=None, *, kernel, num_filter, stride=(), dilate=(), pad=(), adj=(), target_shape=(),
                num_group=1, **_):
    """Every input pixel i scatters, for every tap, into the full output at i*s + t*d; the result is the
    window [pad, pad + out) of it (extended by zeros for adj)."""
    stride, dilate, pad = _window(kernel, stride, dilate, pad)
    pad, adj = _deconv_pad_adj(x.shape[2:], kernel, stride, dilate, pad, adj, target_shape)
    N, C = x.shape[:2]
    Cg, Og = C // num_group, num_filter // num_group
    full = [s * (n - 1) + d * (k - 1) + 1 for n, k, s, d in zip(x.shape[2:], kernel, stride, dilate)]
    big = np.zeros((N, num_filter) + tuple(f + a for f, a in zip(full, adj)))
    for i in np.ndindex(*x.shape[2:]):
        for t in np.ndindex(*kernel):
            pos = tuple(ii * s + ti * d for ii, ti, s, d in zip(i, t, stride, dilate))
            for g in range(num_group):
                xs = x[(slice(None), slice(g * Cg, (g + 1) * Cg)) + i]             # (N, Cg)
                ws = w[(slice(g * Cg, (g + 1) * Cg), slice(None)) + t]             # (Cg, Og)
                big[(slice(None), slice(g * Og, (g + 1) * Og)) + pos] += xs @ ws
    y = big[(slice(None), slice(None)) + tuple(slice(p, f + a - p) for p, f, a in zip(pad, full, adj))]
    if b is not None:
        y = y + b.reshape((1, -1) + (1,) * len(full))
    return y


def _fc_ref(x, w, b=None, *, num_hidden, flatten=True, no_bias=False):
    y = (x.reshape(x.shape[0], -1) if flatten else x) @ w.T
    return y if b is None else y + b.reshape(-1)


# --- specs --------------------------------------------------------------------------------------

BUDGET = 60  # input elements: the numerical gradient runs two forwards per element


def _conv_make(ndim):
    def make(rng):
        while True:
            G, Cg, Og, N = (int(v) for v in rng.integers(1, 3, 4))
            kernel = _ints(rng.integers(1, 4 if ndim < 3 else 3, ndim))
            stride, dilate, pad = (_ints(rng.integers(lo, hi, ndim)) for lo, hi in ((1, 3), (1, 3), (0, 2)))
            span = [d * (k - 1) + 1 - 2 * p for k, d, p in zip(kernel, dilate, pad)]
            sp = _ints(rng.integers(max(1, e), max(1, e) + 3) for e in span)
            data, weight = (N, G * Cg) + sp, (G * Og, Cg) + kernel
            no_bias = bool(rng.random() < 0.5)
            if math.prod(data) + math.prod(weight) + (0 if no_bias else G * Og) <= BUDGET:
                break
        attrs = {"kernel": kernel, "num_filter": G * Og, "no_bias": no_bias}
        for key, value, default in (("stride", stride, 1), ("dilate", dilate, 1), ("pad", pad, 0)):
            if any(v != default for v in value) or rng.random() < 0.5:
                attrs[key] = value
        if G > 1 or rng.random() < 0.5:
            attrs["num_group"] = G
        if rng.random() < 0.3:
            attrs["layout"] = {1: "NCW", 2: "NCHW", 3: "NCDHW"}[ndim]
        arrays = [rng.standard_normal(data), rng.standard_normal(weight)]
        return arrays + ([] if no_bias else [rng.standard_normal(G * Og)]), attrs
    return make


def _deconv_make(ndim, target):
    def make(rng):
        while True:
            G, Cg, Og, N = (int(v) for v in rng.integers(1, 3, 4))
            kernel = _ints(rng.integers(1, 4 if ndim < 3 else 3, ndim))
            stride, dilate, pad = (_ints(rng.integers(lo, hi, ndim)) for lo, hi in ((1, 3), (1, 3), (0, 2)))
            adj = _ints(rng.integers(0, s) for s in stride)
            sp = _ints(rng.integers(1, 4 if ndim < 3 else 3, ndim))
            full = [s * (n - 1) + d * (k - 1) + 1 for n, k, s, d in zip(sp, kernel, stride, dilate)]
            # excesses over the target whose odd remainder (adj) stays below the stride
            excess = [int(rng.choice([e for e in range(min(f - 1, 3) + 1) if e % 2 < s]))
                      for f, s in zip(full, stride)]
            out = [f - e for f, e in zip(full, excess)] if target else \
                [f - 2 * p + a for f, p, a in zip(full, pad, adj)]
            data, weight = (N, G * Cg) + sp, (G * Cg, Og) + kernel
            no_bias = bool(rng.random() < 0.5)
            if min(out) >= 1 and math.prod(data) + math.prod(weight) + (0 if no_bias else G * Og) <= BUDGET:
                break
        attrs = {"kernel": kernel, "num_filter": G * Og, "stride": stride, "dilate": dilate}
        if target:
            attrs["target_shape"] = _ints(out)
            if rng.random() < 0.5:  # ignored when target_shape is set
                attrs["pad"], attrs["adj"] = pad, adj
        else:
            attrs["pad"], attrs["adj"] = pad, adj
        if not no_bias or rng.random() < 0.5:
            attrs["no_bias"] = no_bias
        if G > 1 or rng.random() < 0.5:
            attrs["num_group"] = G
        arrays = [rng.standard_normal(data), rng.standard_normal(weight)]
        return arrays + ([] if no_bias else [rng.standard_normal(G * Og)]), attrs
    return make


def _fc_make(flatten):
    def make(rng):
        while True:
            shape = _ints(rng.integers(1, 4, int(rng.integers(1, 5 if flatten else 4))))
            H = int(rng.integers(1, 4))
            K = math.prod(shape[1:]) if flatten else shape[-1]
            no_bias = bool(rng.random() < 0.5)
            if math.prod(shape) + H * K + (0 if no_bias else H) <= BUDGET:
                break
        attrs = {"num_hidden": H, "no_bias": no_bias}
        if not flatten or rng.random() < 0.5:
            attrs["flatten"] = flatten
        arrays = [rng.standard_normal(shape), rng.standard_normal((H, K))]
        bias = rng.standard_normal((H, 1) if rng.random() < 0.3 else H)  # MXNet 1.9.1 takes both shapes
        return arrays + ([] if no_bias else [bias]), attrs
    return make


def _fused_make(ndim):
    """A Convolution's inputs and attributes, then BatchNorm's gamma, beta and moving statistics, an eps, and a
    residual and ReLU at random."""
    conv = _conv_make(ndim)

    def make(rng):
        arrays, attrs = conv(rng)
        out = _conv_ref(*arrays, **attrs).shape
        O = attrs["num_filter"]
        arrays += [rng.standard_normal(O), rng.standard_normal(O), rng.standard_normal(O), rng.random(O) + 0.1]
        attrs["eps"] = float(rng.choice([1e-5, 1e-3]))
        attrs["with_relu"] = bool(rng.random() < 0.5)
        attrs["with_sum"] = bool(rng.random() < 0.5)
        if attrs["with_sum"]:
            arrays.append(rng.standard_normal(out))
        return arrays, attrs
    return make


def _fused_ref(*arrays, eps, with_sum, with_relu, **attrs):
    n_conv = 2 if attrs.get("no_bias") else 3
    y = _conv_ref(*arrays[:n_conv], **attrs)
    gamma, beta, mean, var = (a.reshape((1, -1) + (1,) * (y.ndim - 2)) for a in arrays[n_conv:n_conv + 4])
    y = (y - mean) / np.sqrt(var + eps) * gamma + beta
    if with_sum:
        y = y + arrays[-1]
    return np.maximum(y, 0) if with_relu else y


_TOL = dict(rtol=1e-4, atol=1e-5)
SPECS = [OpSpec("Convolution", _conv_make(n), _conv_ref, **_TOL) for n in (1, 2, 3)] + \
    [OpSpec("Deconvolution", _deconv_make(n, target), _deconv_ref, **_TOL)
     for n in (1, 2, 3) for target in (False, True)] + \
    [OpSpec("FullyConnected", _fc_make(flatten), _fc_ref, **_TOL) for flatten in (True, False)] + \
    [OpSpec("_fused_conv_bn", _fused_make(n), _fused_ref, grad=False, **_TOL,
            why="inference only: symbol/fuse.py makes it for graphs run outside training") for n in (1, 2)]

test_forward, test_gradient, test_req_add = spec_tests(SPECS)


# --- numbers printed by MXNet 1.9.1 (integer-valued inputs, so the values are exact) ------------------

_DX = np.array([1, -2, 3, 4], np.float64).reshape(1, 1, 2, 2)
_DW = np.arange(1, 10, dtype=np.float64).reshape(1, 1, 3, 3) - 5


def test_deconvolution_target_shape_matches_mxnet():
    # mx.nd.Deconvolution(x, w, kernel=(3, 3), stride=(2, 2), target_shape=(4, 4), num_filter=1) in float64:
    # full size 5, so pad 1 and adj 1; gradients for the head gradient below.
    x, w = nd.array(_DX, dtype="float64"), nd.array(_DW, dtype="float64")
    x.attach_grad()
    w.attach_grad()
    with mx.autograd.record():
        y = nd.Deconvolution(x, w, kernel=(3, 3), stride=(2, 2), target_shape=(4, 4), num_filter=1)
    head = np.array([[-1, 0, 1, -1], [0, 1, -1, 0], [1, -1, 0, 1], [-1, 0, 1, -1]], np.float64)
    y.backward(nd.array(head.reshape(1, 1, 4, 4), dtype="float64"))
    np.testing.assert_array_equal(y.asnumpy()[0, 0], [[0, 3, 0, -2], [-6, -22, -18, -16], [0, -1, 0, 4],
                                                      [9, 20, 12, 16]])
    np.testing.assert_array_equal(x.grad.asnumpy()[0, 0], [[4, -2], [-6, 0]])
    np.testing.assert_array_equal(w.grad.asnumpy()[0, 0], [[4, -4, 3], [-4, 0, 3], [-2, 3, -3]])


@pytest.mark.parametrize("kwargs,expected", [
    ({"pad": (1, 1), "adj": (1, 0)}, [[0, 3, 0], [-6, -22, -18], [0, -1, 0], [9, 20, 12]]),
    ({"target_shape": (3, 5)}, [[-1, 0, 3, 0, -2], [-10, -6, -22, -18, -16], [-3, 0, -1, 0, 4]]),
])
def test_deconvolution_adj_matches_mxnet(kwargs, expected):
    y = nd.Deconvolution(nd.array(_DX), nd.array(_DW), kernel=(3, 3), stride=(2, 2), num_filter=1, **kwargs)
    np.testing.assert_array_equal(y.asnumpy()[0, 0], expected)


def test_convolution_groups_dilation_matches_mxnet():
    x = (np.arange(18) % 5 - 2).reshape(1, 2, 3, 3).astype(np.float32)
    w = np.array([1, -1, 2, 0, 0, 1, -2, 1], np.float32).reshape(2, 1, 2, 2)
    y = nd.Convolution(nd.array(x), nd.array(w), kernel=(2, 2), dilate=(2, 2), pad=(1, 1), num_filter=2,
                       num_group=2, no_bias=True)
    np.testing.assert_array_equal(y.asnumpy()[0], [[[0, 2, 4], [1, -4, -1], [-2, 3, 2]],
                                                   [[1, 2, -2], [-3, 3, 2], [1, 2, 0]]])


def test_fully_connected_matches_mxnet():
    x = nd.array(np.array([[1, 2, -1], [0, 3, 1]], np.float32).reshape(2, 1, 3))
    w = nd.array(np.array([[1, 0, 2], [-1, 1, 1]], np.float32))
    x.attach_grad()
    with mx.autograd.record():
        y = nd.FullyConnected(x, w, nd.array([0.5, -1]), num_hidden=2, flatten=False)
    y.backward(nd.array(np.array([1, 2, -1, 1], np.float32).reshape(2, 1, 2)))
    np.testing.assert_array_equal(y.asnumpy(), [[[-0.5, -1]], [[2.5, 3]]])
    np.testing.assert_array_equal(x.grad.asnumpy(), [[[-1, 2, 4]], [[-2, 1, -1]]])
    flat = nd.FullyConnected(x, nd.array([[1, 0, 2]]), num_hidden=1, no_bias=True)
    np.testing.assert_array_equal(flat.asnumpy(), [[-1], [2]])
    assert nd.FullyConnected(nd.ones((4,)), nd.ones((3, 4)), nd.ones(3), num_hidden=3, flatten=False).shape == (3,)
    assert nd.FullyConnected(nd.ones((2,)), nd.ones((3, 1)), nd.ones(3), num_hidden=3).shape == (2, 3)


# --- records, shape inference -------------------------------------------------------------------

def test_arguments_and_defaults_are_mxnets():
    from mxcy.ops import registry
    conv, deconv, fc = (registry.get(n) for n in ("Convolution", "Deconvolution", "FullyConnected"))
    assert list(conv.params) == ["kernel", "stride", "dilate", "pad", "num_filter", "num_group", "workspace",
                                 "no_bias", "cudnn_tune", "cudnn_off", "layout"]
    assert list(deconv.params) == ["kernel", "stride", "dilate", "pad", "adj", "target_shape", "num_filter",
                                   "num_group", "workspace", "no_bias", "cudnn_tune", "cudnn_off", "layout"]
    assert list(fc.params) == ["num_hidden", "no_bias", "flatten"]
    assert (conv.defaults["workspace"], conv.defaults["no_bias"]) == (1024, False)
    assert (deconv.defaults["workspace"], deconv.defaults["no_bias"]) == (512, True)
    assert fc.defaults == {"no_bias": False, "flatten": True}
    assert conv.list_arguments(conv.parse_attrs({"kernel": (3,), "num_filter": 2})) == ["data", "weight", "bias"]
    assert deconv.list_arguments(deconv.parse_attrs({"kernel": (3,), "num_filter": 2})) == ["data", "weight"]
    assert fc.list_arguments(fc.parse_attrs({"num_hidden": 2, "no_bias": True})) == ["data", "weight"]


def test_symbol_inference_fills_weight_and_bias():
    data = mx.sym.Variable("data")
    conv = mx.sym.Convolution(data=data, kernel=(3, 3), stride=(2, 2), num_filter=4, num_group=2, name="c")
    args, outs, _ = conv.infer_shape(data=(1, 2, 7, 5))
    assert conv.list_arguments() == ["data", "c_weight", "c_bias"]
    assert args == [(1, 2, 7, 5), (4, 1, 3, 3), (4,)] and outs == [(1, 4, 3, 2)]
    deconv = mx.sym.Deconvolution(data, kernel=(3, 3), stride=(2, 2), target_shape=(8, 7), num_filter=3, name="d")
    assert deconv.infer_shape(data=(1, 2, 4, 4))[:2] == ([(1, 2, 4, 4), (2, 3, 3, 3)], [(1, 3, 8, 7)])
    fc = mx.sym.FullyConnected(data, num_hidden=3, flatten=False, name="f")
    assert fc.infer_shape(data=(2, 5, 7))[:2] == ([(2, 5, 7), (3, 7), (3,)], [(2, 5, 3)])


def test_float16_runs_on_cpu_in_float32():
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((1, 2, 4, 4)), rng.standard_normal((3, 2, 2, 2))
    half = nd.Convolution(nd.array(x, dtype="float16"), nd.array(w, dtype="float16"), kernel=(2, 2),
                          num_filter=3, no_bias=True)
    assert half.dtype == np.float16
    np.testing.assert_allclose(half.asnumpy(), _conv_ref(x.astype(np.float16).astype(np.float64),
                                                         w.astype(np.float16).astype(np.float64),
                                                         kernel=(2, 2), num_filter=3), rtol=5e-3, atol=5e-3)


# --- errors -------------------------------------------------------------------------------------

_X, _W = (1, 2, 4, 4), (2, 2, 3, 3)


@pytest.mark.parametrize("shapes,kwargs,match", [
    ([_X, (2, 3, 3, 3)], {}, r"weight shape \(2, 3, 3, 3\) does not match data \(1, 2, 4, 4\) with "
                             r"num_filter=2, num_group=1, kernel=\(3, 3\): expected \(2, 2, 3, 3\)"),
    ([_X, _W, (3,)], {"no_bias": False}, r"bias shape \(3,\) does not match .* expected \(2,\)"),
    ([(1, 3, 4, 4), (2, 2, 3, 3)], {"num_group": 2}, r"the 3 channels of data \(1, 3, 4, 4\) are not "
                                                     "divisible by num_group 2"),
    ([(1, 4, 4, 4), (3, 2, 3, 3)], {"num_group": 2, "num_filter": 3}, "num_filter 3 is not divisible by "
                                                                      "num_group 2"),
    ([(1, 2, 2, 2), _W], {}, r"kernel \(3, 3\) with dilate \(1, 1\) spans more than data \(1, 2, 2, 2\) "
                             r"padded by \(0, 0\)"),
    ([_X, _W], {"dilate": (2, 2)}, r"kernel \(3, 3\) with dilate \(2, 2\) spans more than data"),
    ([_X, _W], {"layout": "NHWC"}, "layout NHWC is not supported: only the channel-first layouts"),
    ([_X, _W], {"layout": "NCW"}, r"layout NCW does not fit the 2-D kernel \(3, 3\): expected NCHW"),
    ([_X, _W], {"layout": "NWC"}, "invalid value 'NWC' for argument 'layout'"),
    ([_X, _W], {"num_filter": None}, "required argument 'num_filter' is missing"),
    ([_X, _W], {"num_filter": 0}, r"num_filter \(0\) and num_group \(1\) must be positive"),
    ([_X, _W], {"stride": (1,)}, r"stride \(1,\) must have 2 entries, as kernel \(3, 3\) has"),
    ([_X, _W], {"stride": (0, 1)}, r"stride \(0, 1\) must be positive"),
    ([(1, 2, 4), _W], {}, r"data of shape \(1, 2, 4\) must be 4-D \(NCHW\) for the 2-D kernel"),
    ([_X, _W], {"kernel": (1, 1, 1, 1)}, r"kernel \(1, 1, 1, 1\) must have 1, 2 or 3 dimensions"),
    ([_X, _W], {"cudnn_tune": "slow"}, "invalid value 'slow' for argument 'cudnn_tune'"),
])
def test_convolution_errors(shapes, kwargs, match):
    kwargs = {"kernel": (3, 3), "num_filter": 2, "no_bias": True, **kwargs}
    if kwargs["num_filter"] is None:
        del kwargs["num_filter"]
    with pytest.raises(mx.MXNetError, match="Convolution: .*" + match):
        nd.Convolution(*[nd.zeros(s) for s in shapes], **kwargs)


def test_input_count_and_dtype_errors():
    x, w = nd.zeros(_X), nd.zeros(_W)
    with pytest.raises(mx.MXNetError, match="Convolution: .*'bias'"):
        nd.Convolution(x, w, kernel=(3, 3), num_filter=2)
    with pytest.raises(mx.MXNetError, match="Convolution"):
        nd.Convolution(x, w, nd.zeros(2), kernel=(3, 3), num_filter=2, no_bias=True)
    with pytest.raises(mx.MXNetError, match="Convolution: .*must be float16, float32 or float64, got int32"):
        nd.Convolution(x.astype("int32"), w.astype("int32"), kernel=(3, 3), num_filter=2, no_bias=True)
    with pytest.raises(mx.MXNetError, match="Convolution: .*inputs must share one dtype"):
        nd.Convolution(x, w.astype("float64"), kernel=(3, 3), num_filter=2, no_bias=True)
    with pytest.raises(mx.MXNetError, match=r"_backward_Convolution: .*head gradient of shape \(1, 2, 3, 3\) is "
                                            r"not the output shape \(1, 2, 2, 2\)"):
        nd._internal._backward_Convolution(nd.zeros((1, 2, 3, 3)), x, w, kernel=(3, 3), num_filter=2, no_bias=True)


_DECONV_X, _DECONV_W = (1, 2, 4, 4), (2, 3, 3, 3)


@pytest.mark.parametrize("shapes,kwargs,match", [
    ([_DECONV_X, (2, 2, 3, 3)], {}, r"weight shape \(2, 2, 3, 3\) does not match data \(1, 2, 4, 4\) with "
                                    r"num_filter=3, num_group=1, kernel=\(3, 3\): expected \(2, 3, 3, 3\)"),
    ([_DECONV_X, _DECONV_W], {"target_shape": (10, 10)}, r"target_shape \(10, 10\) is larger than the full "
                                                         r"output \(9, 9\)"),
    ([_DECONV_X, _DECONV_W], {"target_shape": (8,)}, r"target_shape \(8,\) must have 2 positive entries"),
    ([_DECONV_X, _DECONV_W], {"adj": (2, 2)}, r"adj \(2, 2\) must be non-negative and smaller than stride "
                                              r"\(2, 2\)"),
    ([_DECONV_X, _DECONV_W], {"stride": (1, 1), "target_shape": (5, 5)}, r"adj \(1, 1\) must be .* smaller than "
                                                                        r"stride \(1, 1\) \(target_shape"),
    ([(1, 2, 1, 1), _DECONV_W], {"stride": (1, 1), "pad": (2, 2)}, r"output size \(-1, -1\) .* is not positive"),
    ([(1, 3, 4, 4), (3, 2, 3, 3)], {"num_group": 2, "num_filter": 4}, r"the 3 channels .* not divisible by num_group 2"),
    ([_DECONV_X, _DECONV_W], {"layout": "NDHWC"}, "layout NDHWC is not supported"),
])
def test_deconvolution_errors(shapes, kwargs, match):
    kwargs = {"kernel": (3, 3), "num_filter": 3, "stride": (2, 2), **kwargs}
    with pytest.raises(mx.MXNetError, match="Deconvolution: .*" + match):
        nd.Deconvolution(*[nd.zeros(s) for s in shapes], **kwargs)


@pytest.mark.parametrize("shapes,kwargs,match", [
    ([(2, 3, 4), (5, 4), (5,)], {}, r"weight shape \(5, 4\) does not match data \(2, 3, 4\) with num_hidden=5, "
                                    r"flatten=True: expected \(5, 12\)"),
    ([(2, 4), (5, 4), (4,)], {}, r"bias shape \(4,\) does not match .* expected \(5,\)"),
    ([(2, 4), (5, 4), (5,)], {"num_hidden": 6}, r"weight shape \(5, 4\) .* expected \(6, 4\)"),
    ([(2, 4), (0, 4)], {"num_hidden": 0, "no_bias": True}, "num_hidden must be positive, got 0"),
])
def test_fully_connected_errors(shapes, kwargs, match):
    kwargs = {"num_hidden": 5, **kwargs}
    with pytest.raises(mx.MXNetError, match="FullyConnected: .*" + match):
        # nd.array: legacy mode's nd.zeros refuses the zero-size weight, as MXNet 1.9.1's does
        nd.FullyConnected(*[nd.array(np.zeros(s)) for s in shapes], **kwargs)


# --- gpu(0) against cpu --------------------------------------------------------------------------

@pytest.mark.cuda
@pytest.mark.parametrize("op,shapes,kwargs", [
    ("Convolution", [(1, 2, 4, 4), (2, 2, 3, 3), (2,)], {"kernel": (3, 3), "num_filter": 2}),
    ("Convolution", [(1, 2, 5), (2, 1, 2)], {"kernel": (2,), "stride": (2,), "dilate": (2,), "pad": (1,),
                                             "num_filter": 2, "num_group": 2, "no_bias": True}),
    ("Deconvolution", [(1, 2, 2, 3), (2, 2, 3, 2), (2,)], {"kernel": (3, 2), "stride": (2, 2), "pad": (1, 0),
                                                           "adj": (1, 1), "num_filter": 2, "no_bias": False}),
    ("Deconvolution", [(1, 1, 2, 2, 2), (1, 1, 2, 2, 2)], {"kernel": (2, 2, 2), "stride": (2, 1, 1),
                                                           "target_shape": (3, 3, 3), "num_filter": 1}),
    ("FullyConnected", [(2, 3, 2), (3, 6), (3,)], {"num_hidden": 3}),
    ("FullyConnected", [(2, 3, 2), (3, 2)], {"num_hidden": 3, "flatten": False, "no_bias": True}),
])
def test_gpu_matches_cpu(op, shapes, kwargs):
    rng = np.random.default_rng(7)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    fn = lambda *a: getattr(nd, op)(*a, **kwargs)  # noqa: E731
    for got, want in zip(outputs_and_grads(mx.gpu(0), fn, arrays), outputs_and_grads(mx.cpu(), fn, arrays)):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.cuda
@pytest.mark.parametrize("op,shapes,kwargs", [
    ("Convolution", [(1, 2, 4, 4), (2, 2, 3, 3), (2,)], {"kernel": (3, 3), "pad": (1, 1), "num_filter": 2}),
    ("FullyConnected", [(2, 5), (3, 5), (3,)], {"num_hidden": 3}),
])
def test_gpu_float16_matches_cpu(op, shapes, kwargs):
    # Both devices compute float16 in float32 and round the results: equal up to a float16 rounding step.
    rng = np.random.default_rng(8)
    arrays = [rng.standard_normal(s).astype(np.float16) for s in shapes]
    fn = lambda *a: getattr(nd, op)(*a, **kwargs)  # noqa: E731
    for got, want in zip(outputs_and_grads(mx.gpu(0), fn, arrays), outputs_and_grads(mx.cpu(), fn, arrays)):
        assert got.dtype == want.dtype == np.float16
        np.testing.assert_allclose(got.astype(np.float64), want, rtol=1e-3, atol=1e-3)
