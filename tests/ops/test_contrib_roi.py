"""contrib PSROIPooling, DeformablePSROIPooling and RROIAlign: OpSpecs against NumPy float64 references written from
MXNet's description (with float64 numerical gradients for the two differentiable ones), values and gradients printed
by MXNet 1.9.1 (fixtures/detection_reference.json, written by fixtures/make_detection_fixtures.py), symbols, errors."""
import json
import math
import os

import numpy as np
import pytest

import mxcy as mx
from tests.ops.opspec import OpSpec, spec_tests

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "detection_reference.json")
NO_SPEC = {
    "_backward_PSROIPooling": "PSROIPooling's gradient; checked numerically by its spec and against MXNet 1.9.1's "
                              "numbers",
    "_backward_DeformablePSROIPooling": "DeformablePSROIPooling's gradients; checked numerically by its spec and "
                                        "against MXNet 1.9.1's numbers",
}


def _round_half_away(v):
    return math.copysign(math.floor(abs(v) + 0.5), v)


def _rois(rng, n_roi, batch, size):
    """Rows (batch index, x1, y1, x2, y2) in image pixels, one in a batch outside the data now and then. The batch
    index is off a whole number by 0.25 (the ops truncate it) so that numerical gradients do not step over it."""
    corners = rng.uniform(-2, size + 2, (n_roi, 4))
    lo, hi = np.minimum(corners[:, :2], corners[:, 2:]), np.maximum(corners[:, :2], corners[:, 2:])
    index = rng.integers(0, batch + (1 if rng.integers(4) == 0 else 0), (n_roi, 1)) + 0.25
    return np.concatenate([index, lo, hi], axis=1)


def _box(roi, scale, shift):
    """(batch, left, top, width, height) of a roi on the feature map."""
    left, top = _round_half_away(roi[1]) * scale - shift, _round_half_away(roi[2]) * scale - shift
    right, bottom = (_round_half_away(roi[3]) + 1) * scale - shift, (_round_half_away(roi[4]) + 1) * scale - shift
    return int(roi[0]), left, top, max(right - left, 0.1), max(bottom - top, 0.1)


def _channel(ctop, ph, pw, P, G):
    gh, gw = min(ph * G // P, G - 1), min(pw * G // P, G - 1)
    return (ctop * G + gh) * G + gw


# --- PSROIPooling -------------------------------------------------------------------------------------------------

def _make_ps(rng):
    P, D = int(rng.integers(1, 4)), int(rng.integers(1, 3))
    G = int(rng.choice([0, 1, 2]))
    N, H, W = int(rng.integers(1, 3)), int(rng.integers(2, 6)), int(rng.integers(2, 6))
    scale = float(rng.choice([0.25, 0.5, 1.0]))
    data = rng.standard_normal((N, D * (G or P) ** 2, H, W))
    attrs = {"spatial_scale": scale, "output_dim": D, "pooled_size": P}
    if G:
        attrs["group_size"] = G
    return [data, _rois(rng, int(rng.integers(1, 4)), N, max(H, W) / scale)], attrs


def _ps_ref(data, rois, spatial_scale, output_dim, pooled_size, group_size=0):
    N, C, H, W = data.shape
    P, G = pooled_size, group_size or pooled_size
    out = np.zeros((len(rois), output_dim, P, P))
    for r, roi in enumerate(rois):
        b, left, top, width, height = _box(roi, spatial_scale, 0.0)
        if not 0 <= b < N:
            continue
        for ph in range(P):
            h0 = int(np.clip(math.floor(ph * height / P + top), 0, H))
            h1 = int(np.clip(math.ceil((ph + 1) * height / P + top), 0, H))
            for pw in range(P):
                w0 = int(np.clip(math.floor(pw * width / P + left), 0, W))
                w1 = int(np.clip(math.ceil((pw + 1) * width / P + left), 0, W))
                if h1 > h0 and w1 > w0:
                    for c in range(output_dim):
                        out[r, c, ph, pw] = data[b, _channel(c, ph, pw, P, G), h0:h1, w0:w1].mean()
    return out


# --- DeformablePSROIPooling ---------------------------------------------------------------------------------------

def _make_deformable(rng):
    P, G, n_class = int(rng.integers(1, 4)), int(rng.integers(1, 3)), int(rng.integers(1, 3))
    D = n_class * int(rng.integers(1, 3))
    part = int(rng.integers(1, 3))
    N, H, W = int(rng.integers(1, 3)), int(rng.integers(2, 6)), int(rng.integers(2, 6))
    scale = float(rng.choice([0.25, 0.5, 1.0]))
    rois = _rois(rng, int(rng.integers(1, 4)), N, max(H, W) / scale)
    attrs = {"spatial_scale": scale, "output_dim": D, "group_size": G, "pooled_size": P,
             "sample_per_part": int(rng.integers(1, 4))}
    arrays = [rng.standard_normal((N, D * G * G, H, W)), rois]
    if rng.integers(3):
        attrs.update(part_size=part, trans_std=float(rng.uniform(0, 1)))
        arrays.append(rng.standard_normal((len(rois), 2 * n_class, part, part)))
    else:
        attrs["no_trans"] = True
    return arrays, attrs


def _bilinear(plane, y, x):
    y0, x0, y1, x1 = math.floor(y), math.floor(x), math.ceil(y), math.ceil(x)
    ly, lx = y - y0, x - x0
    return ((1 - ly) * (1 - lx) * plane[y0, x0] + (1 - ly) * lx * plane[y0, x1] + ly * (1 - lx) * plane[y1, x0]
            + ly * lx * plane[y1, x1])


def _deformable_ref(data, rois, trans=None, spatial_scale=1.0, output_dim=1, group_size=1, pooled_size=1,
                    part_size=0, sample_per_part=1, trans_std=0.0, no_trans=False):
    N, C, H, W = data.shape
    P, G, S, part = pooled_size, group_size, sample_per_part, part_size or pooled_size
    out, count = np.zeros((len(rois), output_dim, P, P)), np.zeros((len(rois), output_dim, P, P))
    per_class = output_dim // (1 if trans is None else trans.shape[1] // 2)
    for r, roi in enumerate(rois):
        b, left, top, width, height = _box(roi, spatial_scale, 0.5)
        if not 0 <= b < N:
            continue
        for c in range(output_dim):
            for ph in range(P):
                for pw in range(P):
                    dx = dy = 0.0
                    if trans is not None:
                        k, i, j = c // per_class, int(ph * part / P), int(pw * part / P)
                        dx, dy = trans[r, 2 * k, i, j] * trans_std, trans[r, 2 * k + 1, i, j] * trans_std
                    x0, y0 = left + pw * width / P + dx * width, top + ph * height / P + dy * height
                    plane = data[b, _channel(c, ph, pw, P, G)]
                    values = [_bilinear(plane, min(max(y, 0), H - 1), min(max(x, 0), W - 1))
                              for y in y0 + np.arange(S) * height / P / S for x in x0 + np.arange(S) * width / P / S
                              if -0.5 <= x <= W - 0.5 and -0.5 <= y <= H - 0.5]
                    count[r, c, ph, pw] = len(values)
                    out[r, c, ph, pw] = np.mean(values) if values else 0.0
    return out, count


# --- RROIAlign ----------------------------------------------------------------------------------------------------

def _make_rroi(rng):
    N, C, H, W = int(rng.integers(1, 3)), int(rng.integers(1, 3)), int(rng.integers(2, 6)), int(rng.integers(2, 6))
    scale = float(rng.choice([0.5, 1.0]))
    n_roi = int(rng.integers(1, 4))
    rois = np.concatenate([rng.integers(0, N + (rng.integers(4) == 0), (n_roi, 1)),
                           rng.uniform(0, [W / scale, H / scale], (n_roi, 2)),
                           rng.uniform(0.5, max(H, W) / scale, (n_roi, 2)), rng.uniform(-180, 180, (n_roi, 1))], axis=1)
    attrs = {"pooled_size": tuple(int(v) for v in rng.integers(1, 4, 2)), "spatial_scale": scale}
    if rng.integers(2):
        attrs["sampling_ratio"] = int(rng.integers(1, 3))
    return [rng.standard_normal((N, C, H, W)), rois], attrs


def _rroi_ref(data, rois, pooled_size, spatial_scale, sampling_ratio=-1):
    N, C, H, W = data.shape
    PH, PW = pooled_size
    out = np.zeros((len(rois), C, PH, PW))
    for r, (b, cx, cy, w, h, angle) in enumerate(rois):
        if not 0 <= int(b) < N:
            continue
        cx, cy, w, h = cx * spatial_scale, cy * spatial_scale, max(w * spatial_scale, 1), max(h * spatial_scale, 1)
        cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
        gh = sampling_ratio if sampling_ratio > 0 else math.ceil(h / PH)
        gw = sampling_ratio if sampling_ratio > 0 else math.ceil(w / PW)
        for ph in range(PH):
            for pw in range(PW):
                total = np.zeros(C)
                for iy in range(gh):
                    for ix in range(gw):
                        yy, xx = -h / 2 + (ph + (iy + 0.5) / gh) * h / PH, -w / 2 + (pw + (ix + 0.5) / gw) * w / PW
                        y, x = yy * cos - xx * sin + cy, xx * cos + yy * sin + cx
                        if y < -1 or y > H or x < -1 or x > W:
                            continue
                        y, x = min(max(y, 0), H - 1), min(max(x, 0), W - 1)
                        total += _bilinear(data[int(b)].transpose(1, 2, 0), y, x)
                out[r, :, ph, pw] = total / (gh * gw)
    return out


SPECS = [
    OpSpec("_contrib_PSROIPooling", _make_ps, _ps_ref),
    OpSpec("_contrib_DeformablePSROIPooling", _make_deformable, _deformable_ref, atol=1e-5),
    OpSpec("_contrib_RROIAlign", _make_rroi, _rroi_ref, grad=False, atol=1e-5,
           why="MXNet 1.9.1 registers no gradient for RROIAlign (test_rroi_align_is_not_differentiable)"),
]

test_forward, test_gradient, test_req_add = spec_tests(SPECS)


def _cases():
    with open(FIXTURE) as f:
        return [c for c in json.load(f)["cases"] if c["op"] in ("PSROIPooling", "DeformablePSROIPooling", "RROIAlign")]


@pytest.mark.parametrize("case", _cases(), ids=lambda c: f"{c['op']}-{c['kwargs']}")
def test_mxnet_values(case):
    """Outputs, and gradients for a ramp head (rois: zeros), equal those MXNet 1.9.1 printed."""
    xs = [mx.nd.array(np.array(a, np.float32)) for a in case["inputs"]]
    for x in xs:
        x.attach_grad()
    with mx.autograd.record():
        out = getattr(mx.nd.contrib, case["op"])(*xs, **case["kwargs"])
    np.testing.assert_allclose(out.asnumpy(), case["outputs"][0], rtol=1e-5, atol=1e-6)
    if "grads" in case:
        out.backward(mx.nd.array(np.array(case["head"])))
        for x, want in zip(xs, case["grads"]):
            np.testing.assert_allclose(x.grad.asnumpy(), want, rtol=1e-5, atol=1e-6)


def test_rroi_align_is_not_differentiable():
    """As in MXNet 1.9.1, a backward through RROIAlign is an error naming it."""
    x = mx.nd.ones((1, 2, 4, 4))
    x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.contrib.RROIAlign(x, mx.nd.array([[0, 2, 2, 2, 2, 30]]), pooled_size=(2, 2), spatial_scale=1.0)
    with pytest.raises(mx.MXNetError, match="_contrib_RROIAlign is not differentiable"):
        y.backward()


def test_symbols():
    data, rois = mx.sym.var("data"), mx.sym.var("rois")
    ps = mx.sym.contrib.PSROIPooling(data, rois, spatial_scale=0.5, output_dim=2, pooled_size=2, name="ps")
    assert ps.list_arguments() == ["data", "rois"] and ps.list_outputs() == ["ps_output"]
    assert ps.infer_shape(data=(1, 8, 6, 6), rois=(3, 5))[1] == [(3, 2, 2, 2)]
    plain = mx.sym.contrib.DeformablePSROIPooling(data, rois, spatial_scale=0.5, output_dim=2, group_size=2,
                                                  pooled_size=3, no_trans=True, name="d")
    assert plain.list_arguments() == ["data", "rois"] and plain.list_outputs() == ["d_output"]
    moved = mx.sym.contrib.DeformablePSROIPooling(data, rois, spatial_scale=0.5, output_dim=2, group_size=2,
                                                  pooled_size=3, part_size=2, name="m")
    assert moved.list_arguments() == ["data", "rois", "m_trans"]
    assert moved.infer_shape(data=(1, 8, 6, 6), rois=(4, 5), m_trans=(4, 2, 2, 2))[1] == [(4, 2, 3, 3)]
    rroi = mx.sym.contrib.RROIAlign(data, rois, pooled_size=(2, 3), spatial_scale=0.5, name="r")
    assert rroi.list_outputs() == ["r_output"]
    assert rroi.infer_shape(data=(1, 4, 6, 6), rois=(5, 6))[1] == [(5, 4, 2, 3)]


def test_deformable_symbol_gradients_match_autograd():
    """Executor backward (trans a bound argument) gives autograd's gradients."""
    rng = np.random.default_rng(3)
    arrays, attrs = [rng.standard_normal((1, 8, 5, 5)), np.array([[0, 1, 1, 6, 7], [0, 0, 2, 9, 9.0]]),
                     rng.standard_normal((2, 2, 2, 2))], {"spatial_scale": 0.5, "output_dim": 2, "group_size": 2,
                                                          "pooled_size": 2, "trans_std": 0.3, "sample_per_part": 2}
    sym = mx.sym.contrib.DeformablePSROIPooling(mx.sym.var("data"), mx.sym.var("rois"), mx.sym.var("trans"), **attrs)
    args = {n: mx.nd.array(a) for n, a in zip(("data", "rois", "trans"), arrays)}
    ex = sym.bind(mx.cpu(), args, args_grad={n: mx.nd.zeros(a.shape) for n, a in args.items()})
    head = mx.nd.array(rng.standard_normal((2, 2, 2, 2)))
    ex.forward(is_train=True)
    ex.backward(head)
    for x in args.values():
        x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.contrib.DeformablePSROIPooling(*args.values(), **attrs)
    y.backward(head)
    for name, x in args.items():
        np.testing.assert_allclose(ex.grad_dict[name].asnumpy(), x.grad.asnumpy(), rtol=1e-6, atol=1e-7)
    assert not ex.grad_dict["rois"].asnumpy().any()


_DATA, _ROIS = mx.nd.zeros((1, 8, 4, 4)), mx.nd.zeros((3, 5))


@pytest.mark.parametrize("call,match", [
    (lambda: mx.nd.contrib.PSROIPooling(mx.nd.zeros((1, 7, 4, 4)), _ROIS, spatial_scale=1, output_dim=2,
                                        pooled_size=2), r"_contrib_PSROIPooling.*data.*\(1, 7, 4, 4\).*8 channels"),
    (lambda: mx.nd.contrib.PSROIPooling(_DATA, mx.nd.zeros((3, 4)), spatial_scale=1, output_dim=2, pooled_size=2),
     r"_contrib_PSROIPooling.*rois.*\(3, 4\)"),
    (lambda: mx.nd.contrib.PSROIPooling(_DATA, _ROIS, spatial_scale=2, output_dim=2, pooled_size=2),
     r"_contrib_PSROIPooling.*spatial_scale"),
    (lambda: mx.nd.contrib.PSROIPooling(_DATA, _ROIS, spatial_scale=1, output_dim=0, pooled_size=2),
     r"_contrib_PSROIPooling.*output_dim"),
    (lambda: mx.nd.contrib.DeformablePSROIPooling(_DATA, _ROIS, mx.nd.zeros((3, 2, 3, 3)), spatial_scale=1,
                                                  output_dim=2, group_size=2, pooled_size=2),
     r"_contrib_DeformablePSROIPooling.*trans.*\(3, 2, 3, 3\).*part_size.*2"),
    (lambda: mx.nd.contrib.DeformablePSROIPooling(_DATA, _ROIS, mx.nd.zeros((3, 6, 2, 2)), spatial_scale=1,
                                                  output_dim=2, group_size=2, pooled_size=2),
     r"_contrib_DeformablePSROIPooling.*trans.*\(3, 6, 2, 2\).*multiple of classes"),
    (lambda: mx.nd.contrib.DeformablePSROIPooling(_DATA, _ROIS, spatial_scale=1, output_dim=2, group_size=2,
                                                  pooled_size=2, no_trans=True, trans_std=2),
     r"_contrib_DeformablePSROIPooling.*trans_std"),
    (lambda: mx.nd.contrib.RROIAlign(_DATA, _ROIS, pooled_size=(2, 2), spatial_scale=1),
     r"_contrib_RROIAlign.*rois.*\(3, 5\).*6"),
    (lambda: mx.nd.contrib.RROIAlign(mx.nd.zeros((4, 4)), mx.nd.zeros((3, 6)), pooled_size=(2, 2), spatial_scale=1),
     r"_contrib_RROIAlign.*data.*\(4, 4\)"),
    (lambda: mx.nd.contrib.RROIAlign(_DATA, mx.nd.zeros((3, 6)), pooled_size=(2, 0), spatial_scale=1),
     r"_contrib_RROIAlign.*pooled_size"),
])
def test_bad_input_is_an_mxnet_error(call, match):
    with pytest.raises(mx.MXNetError, match=match):
        call()


def test_symbol_json_round_trips_mxnets_bytes():
    """A graph of all five detection ops that MXNet 1.9.1 wrote (fixtures/make_detection_fixtures.py) loads, infers
    shapes, and is written back byte for byte; mxcy builds the same JSON from the same calls."""
    from tests.ops.fixtures.make_detection_fixtures import detection_symbol
    with open(FIXTURE) as f:
        text = json.load(f)["symbol_json"]
    sym = mx.sym.load_json(text)
    assert sym.tojson() == text == detection_symbol(mx).tojson()
    assert sym.list_arguments() == ["data", "cls_prob", "bbox_pred", "im_info", "rois", "moved_trans", "rrois"]
    _, out_shapes, _ = sym.infer_shape(data=(2, 18, 20, 20), cls_prob=(1, 4, 20, 20), rois=(4, 5),
                                       moved_trans=(4, 2, 3, 3), rrois=(3, 6))
    assert out_shapes == [(10, 2, 3, 3), (300, 1), (4, 2, 3, 3), (4, 2, 3, 3), (3, 18, 2, 2)]
