"""DeformableConvolution and ModulatedDeformableConvolution against a NumPy float64 reference (their hidden backward
ops through the gradient checks), numbers computed by MXNet 1.9.1 (fixtures/deformable_reference.json, made by
fixtures/make_deformable_fixtures.py), shape inference, argument names and error cases."""
import json
import os

import numpy as np
import pytest

import mxcy as mx
from tests.ops.opspec import OpSpec, spec_tests

NO_SPEC = {
    "_backward_DeformableConvolution": "DeformableConvolution's gradient; checked numerically by its specs and "
                                       "against MXNet 1.9.1's numbers",
    "_backward_ModulatedDeformableConvolution": "ModulatedDeformableConvolution's gradient; checked numerically "
                                                "by its specs (MXNet 1.9.1 has no CPU backward to compare with)",
}

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "deformable_reference.json")


# --- reference: every tap of every output position samples with a tent-function (bilinear) interpolation ----------

def _sample(plane, h, w, modulated):
    """Bilinear value of the (C, H, W) planes at (h, w) by MXNet's rules. v1: nothing outside [0, H) x [0, W), and a
    position in the last row/column's upper half-open cell reads that row/column alone, i.e. it is clamped to
    H-1 / W-1. v2: taps outside the image are 0."""
    _, H, W = plane.shape
    if modulated:
        if not (-1 < h < H and -1 < w < W):
            return 0.0
    else:
        if not (0 <= h < H and 0 <= w < W):
            return 0.0
        h, w = min(h, H - 1), min(w, W - 1)
    rows = np.maximum(0.0, 1 - np.abs(h - np.arange(H)))
    cols = np.maximum(0.0, 1 - np.abs(w - np.arange(W)))
    return np.einsum("h,chw,w->c", rows, plane, cols)


def _deformable_ref(x, offset, *rest, kernel, num_filter, stride=(), dilate=(), pad=(), num_group=1,
                    num_deformable_group=1, no_bias=False, modulated=False, **_):
    mask, rest = (rest[0], rest[1:]) if modulated else (None, rest)
    weight, bias = rest[0], (None if no_bias else rest[1])
    stride, dilate, pad = stride or (1, 1), dilate or (1, 1), pad or (0, 0)
    N, C, H, W = x.shape
    KH, KW = kernel
    OH, OW = offset.shape[2:]
    DG, Cd = num_deformable_group, C // num_deformable_group
    col = np.zeros((N, C, KH, KW, OH, OW))
    for n, g, i, j, oh, ow in np.ndindex(N, DG, KH, KW, OH, OW):
        k = i * KW + j
        h = oh * stride[0] - pad[0] + i * dilate[0] + offset[n, g * 2 * KH * KW + 2 * k, oh, ow]
        w = ow * stride[1] - pad[1] + j * dilate[1] + offset[n, g * 2 * KH * KW + 2 * k + 1, oh, ow]
        m = mask[n, g * KH * KW + k, oh, ow] if modulated else 1.0
        col[n, g * Cd:(g + 1) * Cd, i, j, oh, ow] = m * _sample(x[n, g * Cd:(g + 1) * Cd], h, w, modulated)
    G, Cg, Og = num_group, C // num_group, num_filter // num_group
    out = np.concatenate([np.einsum("ocij,ncijhw->nohw", weight[g * Og:(g + 1) * Og], col[:, g * Cg:(g + 1) * Cg])
                          for g in range(G)], axis=1)
    return out if bias is None else out + bias.reshape(1, -1, 1, 1)


def _make(modulated, n, c, hw, o, kernel, groups=1, dgroups=1, no_bias=False, **geometry):
    def make(rng):
        stride, dilate, pad = (geometry.get(k, d) for k, d in (("stride", (1, 1)), ("dilate", (1, 1)),
                                                                ("pad", (0, 0))))
        out_hw = tuple((s + 2 * p - d * (k - 1) - 1) // st + 1
                       for s, k, st, p, d in zip(hw, kernel, stride, pad, dilate))
        K = kernel[0] * kernel[1]
        # Offsets up to 2.5 pixels: samples fall outside the image and in its last row and column.
        arrays = [rng.standard_normal((n, c) + hw), rng.uniform(-2.5, 2.5, (n, 2 * K * dgroups) + out_hw)]
        if modulated:
            arrays.append(rng.uniform(0, 1, (n, K * dgroups) + out_hw))
        arrays.append(rng.standard_normal((o, c // groups) + kernel))
        if not no_bias:
            arrays.append(rng.standard_normal(o))
        attrs = dict(kernel=kernel, num_filter=o, num_group=groups, num_deformable_group=dgroups,
                     no_bias=no_bias, **geometry)
        return arrays, attrs
    return make


def _ref(modulated):
    return lambda *arrays, **attrs: _deformable_ref(*arrays, modulated=modulated, **attrs)


_TOL = dict(rtol=1e-4, atol=1e-5)
_CASES = [
    dict(n=1, c=2, hw=(3, 4), o=2, kernel=(2, 2)),
    dict(n=2, c=4, hw=(4, 3), o=2, kernel=(3, 2), groups=2, dgroups=2, pad=(1, 1), no_bias=True),
    dict(n=1, c=2, hw=(5, 4), o=3, kernel=(2, 2), stride=(2, 1), dilate=(1, 2), pad=(1, 0)),
]
SPECS = [OpSpec(name, _make(modulated, **case), _ref(modulated), **_TOL)
         for modulated, name in ((False, "_contrib_DeformableConvolution"),
                                 (True, "_contrib_ModulatedDeformableConvolution"))
         for case in _CASES]

test_forward, test_gradient, test_req_add = spec_tests(SPECS)


# --- MXNet 1.9.1's own numbers ---------------------------------------------------------------------------------------

def _fixture_cases():
    with open(FIXTURE) as f:
        return json.load(f)["cases"]


@pytest.mark.parametrize("case", _fixture_cases(), ids=lambda c: f"{c['op']}-{len(c['names'])}")
def test_matches_mxnet(case):
    arrays = {n: mx.nd.array(np.array(x), dtype=np.float64) for n, x in zip(case["names"], case["inputs"])}
    for a in arrays.values():
        a.attach_grad()
    with mx.autograd.record():
        out = getattr(mx.nd.contrib, case["op"])(**arrays, **case["kwargs"])
    np.testing.assert_allclose(out.asnumpy(), case["output"], rtol=1e-10, atol=1e-10)
    if "grads" in case:
        out.backward(mx.nd.array(np.array(case["head"]), dtype=np.float64))
        for name, want in zip(case["names"], case["grads"]):
            np.testing.assert_allclose(arrays[name].grad.asnumpy(), want, rtol=1e-10, atol=1e-10, err_msg=name)


@pytest.mark.parametrize("modulated", [False, True])
def test_zero_offsets_give_the_plain_convolution(modulated):
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal((2, 4, 5, 6)), rng.standard_normal((6, 2, 3, 3)), rng.standard_normal(6)
    geometry = dict(kernel=(3, 3), pad=(1, 1), stride=(1, 2), num_filter=6, num_group=2)
    offset = np.zeros((2, 18, 5, 3))
    extra = [mx.nd.ones((2, 9, 5, 3))] if modulated else []
    op = mx.nd.contrib.ModulatedDeformableConvolution if modulated else mx.nd.contrib.DeformableConvolution
    got = op(mx.nd.array(x), mx.nd.array(offset), *extra, mx.nd.array(w), mx.nd.array(b), **geometry)
    want = mx.nd.Convolution(mx.nd.array(x), mx.nd.array(w), mx.nd.array(b), **geometry)
    np.testing.assert_allclose(got.asnumpy(), want.asnumpy(), rtol=1e-5, atol=1e-5)


# --- names, shapes, errors -------------------------------------------------------------------------------------------

def test_arguments_and_inference_are_mxnets():
    data = mx.sym.var("data")
    v1 = mx.sym.contrib.DeformableConvolution(data, mx.sym.var("offset"), kernel=(3, 3), num_filter=5, name="dc")
    assert v1.list_arguments() == ["data", "offset", "dc_weight", "dc_bias"]
    args, outs, _ = v1.infer_shape(data=(2, 4, 7, 8), offset=(2, 18, 5, 6))
    assert args == [(2, 4, 7, 8), (2, 18, 5, 6), (5, 4, 3, 3), (5,)] and outs == [(2, 5, 5, 6)]
    v2 = mx.sym.contrib.ModulatedDeformableConvolution(data, kernel=(3, 3), num_filter=4, num_deformable_group=2,
                                                       num_group=2, no_bias=True, pad=(1, 1), name="mdc")
    assert v2.list_arguments() == ["data", "mdc_offset", "mdc_mask", "mdc_weight"]
    args, outs, _ = v2.infer_shape(data=(1, 4, 5, 5))
    assert args == [(1, 4, 5, 5), (1, 36, 5, 5), (1, 18, 5, 5), (4, 2, 3, 3)] and outs == [(1, 4, 5, 5)]


def test_float16_runs_in_float32():
    rng = np.random.default_rng(5)
    arrays, attrs = _make(True, **_CASES[0])(rng)
    got = mx.nd.contrib.ModulatedDeformableConvolution(*[mx.nd.array(a, dtype="float16") for a in arrays], **attrs)
    assert got.dtype == np.float16
    want = _deformable_ref(*[a.astype(np.float16).astype(np.float64) for a in arrays], modulated=True, **attrs)
    np.testing.assert_allclose(got.asnumpy().astype(np.float64), want, rtol=1e-2, atol=1e-2)


def _shapes(n=1, c=4, hw=(5, 5), o=4, k=(3, 3), dg=1, out_hw=(3, 3), mask=False):
    K = int(np.prod(k))
    return [(n, c) + hw, (n, 2 * K * dg) + out_hw] + ([(n, K * dg) + out_hw] if mask else []) + \
        [(o, c) + k, (o,)]


@pytest.mark.parametrize("op, shapes, kwargs, match", [
    ("DeformableConvolution", _shapes(k=(3,)), dict(kernel=(3,)), "2 dimensions"),
    ("DeformableConvolution", _shapes(k=(3, 3, 3)), dict(kernel=(3, 3, 3)), "2 dimensions"),
    ("DeformableConvolution", [(1, 4, 5), (1, 18, 3, 3), (4, 4, 3, 3), (4,)], {}, "4-D"),
    ("DeformableConvolution", _shapes(out_hw=(4, 3)), {}, "offset shape"),
    ("DeformableConvolution", _shapes(dg=2)[:1] + [(1, 18, 3, 3)] + _shapes()[2:], dict(num_deformable_group=2),
     "offset shape"),
    ("DeformableConvolution", _shapes(c=3), dict(num_deformable_group=2), "not divisible"),
    ("DeformableConvolution", _shapes(hw=(2, 2)), {}, "spans more"),
    ("DeformableConvolution", _shapes(o=6), dict(num_filter=6, num_group=4), "not divisible"),
    ("DeformableConvolution", _shapes(), dict(layout="NCW"), "layout"),
    ("ModulatedDeformableConvolution", _shapes(mask=True), dict(num_filter=4, num_deformable_group=3), "divisible"),
    ("ModulatedDeformableConvolution", _shapes(mask=True, out_hw=(3, 3))[:2] + [(1, 8, 3, 3), (4, 4, 3, 3), (4,)],
     {}, "mask shape"),
    ("ModulatedDeformableConvolution", _shapes(n=3, mask=True), dict(im2col_step=2), "im2col_step"),
])
def test_errors(op, shapes, kwargs, match):
    attrs = dict(kernel=(3, 3), num_filter=4)
    attrs.update(kwargs)
    with pytest.raises(mx.MXNetError, match=match):
        getattr(mx.nd.contrib, op)(*[mx.nd.zeros(s) for s in shapes], **attrs)


def test_mixed_dtypes_and_missing_kernel_are_errors():
    shapes = _shapes()
    arrays = [mx.nd.zeros(s) for s in shapes]
    arrays[1] = arrays[1].astype("float64")
    with pytest.raises(mx.MXNetError, match="DeformableConvolution"):
        mx.nd.contrib.DeformableConvolution(*arrays, kernel=(3, 3), num_filter=4)
    with pytest.raises(mx.MXNetError, match="kernel"):
        mx.nd.contrib.DeformableConvolution(*[mx.nd.zeros(s) for s in shapes], num_filter=4)
