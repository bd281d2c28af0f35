"""GridGenerator, BilinearSampler, SpatialTransformer, ROIPooling, Correlation and _contrib_ROIAlign against NumPy
float64 references (their hidden backward ops through the gradient checks), numbers computed by MXNet 1.9.1
(fixtures/spatial_reference.json and roi_align_reference.json, made by the scripts beside them), shape inference and
error cases."""
import functools
import json
import os

import numpy as np
import pytest

import mxcy as mx
from tests.ops.opspec import OpSpec, spec_tests

NO_SPEC = {name: f"{name[10:]}'s gradient; checked numerically by its specs and against MXNet 1.9.1's numbers"
           for name in ("_backward_GridGenerator", "_backward_BilinearSampler", "_backward_ROIPooling",
                                         "_backward_Correlation")}
NO_SPEC["_backward_ROIAlign"] = "ROIAlign's gradient; checked numerically by its spec and against MXNet 1.9.1's numbers"

FIXTURES = [os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", name)
            for name in ("spatial_reference.json", "roi_align_reference.json")]


# --- references ----------------------------------------------------------------------------------------------------

def _grid_ref(data, transform_type, target_shape=(0, 0)):
    if transform_type == "affine":
        H, W = target_shape
        x, y = np.meshgrid(np.linspace(-1, 1, W), np.linspace(-1, 1, H))
        dst = np.stack([x.ravel(), y.ravel(), np.ones(H * W)])
        return (data.reshape(-1, 2, 3) @ dst).reshape(-1, 2, H, W)
    _, _, H, W = data.shape
    return np.stack([(data[:, 0] + np.arange(W)) / ((W - 1) / 2) - 1,
                     (data[:, 1] + np.arange(H)[:, None]) / ((H - 1) / 2) - 1], axis=1)


def _tent(pos, size):
    """(..., size) bilinear weights of each pixel for positions pos (pixels): 0 beyond one pixel away."""
    return np.maximum(0.0, 1 - np.abs(pos[..., None] - np.arange(size)))


def _sampler_ref(data, grid, cudnn_off=None):
    _, _, H, W = data.shape
    wx = _tent((grid[:, 0] + 1) * (W - 1) / 2, W)  # (N, h, w, W)
    wy = _tent((grid[:, 1] + 1) * (H - 1) / 2, H)  # (N, h, w, H)
    return np.einsum("nabi,ncij,nabj->ncab", wy, data, wx)


def _transformer_ref(data, loc, target_shape, transform_type, sampler_type, cudnn_off=None):
    return _sampler_ref(data, _grid_ref(loc, transform_type, target_shape))


def _round_half_away(v):
    return int(np.sign(v) * np.floor(abs(v) + 0.5))


def _roi_ref(data, rois, pooled_size, spatial_scale):
    """Bin edges in exact integer arithmetic: floor(b * extent / bins), ceil((b + 1) * extent / bins)."""
    N, C, H, W = data.shape
    PH, PW = pooled_size
    out = np.zeros((len(rois), C, PH, PW))
    scale = float(np.float32(spatial_scale))
    for r, roi in enumerate(rois):
        b = int(roi[0])
        x1, y1, x2, y2 = (_round_half_away(v * scale) for v in roi[1:])
        eh, ew = max(y2 - y1 + 1, 1), max(x2 - x1 + 1, 1)
        for ph, pw in np.ndindex(PH, PW):
            h0, h1 = (np.clip(y1 + e, 0, H) for e in ((ph * eh) // PH, -(-(ph + 1) * eh // PH)))
            w0, w1 = (np.clip(x1 + e, 0, W) for e in ((pw * ew) // PW, -(-(pw + 1) * ew // PW)))
            if 0 <= b < N and h1 > h0 and w1 > w0:
                out[r, :, ph, pw] = data[b, :, h0:h1, w0:w1].max(axis=(1, 2))
    return out


def _align_axis(starts, bin_size, grid, size):
    """(bins, grid, size) bilinear weights of each pixel for the grid samples of each bin along one axis: samples
    more than a pixel outside weigh nothing, those in the outer band are clamped to the edge pixel."""
    pos = starts[:, None] + (np.arange(grid) + 0.5) * bin_size / grid
    inside = (pos >= -1) & (pos <= size)
    return _tent(np.clip(pos, 0, size - 1), size) * inside[..., None]


def _align_ref(data, rois, pooled_size, spatial_scale, sample_ratio=-1, position_sensitive=False, aligned=False):
    N, C, H, W = data.shape
    PH, PW = pooled_size
    scale, offset = float(np.float32(spatial_scale)), 0.5 if aligned else 0.0
    C_out = C // (PH * PW) if position_sensitive else C
    out = np.zeros((len(rois), C_out, PH, PW))
    for r, (b, x1, y1, x2, y2) in enumerate(rois):
        if not 0 <= int(b) < N:
            continue
        top, left = y1 * scale - offset, x1 * scale - offset
        height, width = y2 * scale - offset - top, x2 * scale - offset - left
        if not aligned:
            height, width = max(height, 1.0), max(width, 1.0)
        gh, gw = ((sample_ratio,) * 2 if sample_ratio > 0 else
                  (int(np.ceil(height / PH)), int(np.ceil(width / PW))))
        wy = _align_axis(top + np.arange(PH) * height / PH, height / PH, gh, H)  # (PH, gh, H)
        wx = _align_axis(left + np.arange(PW) * width / PW, width / PW, gw, W)  # (PW, gw, W)
        planes = data[int(b)]
        if position_sensitive:
            planes = planes.reshape(C_out, PH, PW, H, W)
            out[r] = np.einsum("pah,qbw,cpqhw->cpq", wy, wx, planes) / (gh * gw)
        else:
            out[r] = np.einsum("pah,qbw,chw->cpq", wy, wx, planes) / (gh * gw)
    return out


def _corr_ref(data1, data2, kernel_size=1, max_displacement=1, stride1=1, stride2=1, pad_size=0,
              is_multiply=True):
    N, C, H, W = data1.shape
    k, md, pad = kernel_size, max_displacement, pad_size
    border = md + (k - 1) // 2
    OH, OW = (int(np.ceil((size + 2 * pad - 2 * border) / stride1)) for size in (H, W))
    r = md // stride2
    p1, p2 = (np.pad(d, ((0, 0), (0, 0), (pad, pad), (pad, pad))) for d in (data1, data2))
    out = np.zeros((N, (2 * r + 1) ** 2, OH, OW))
    for t, (dy, dx) in enumerate(np.ndindex(2 * r + 1, 2 * r + 1)):
        dy, dx = (dy - r) * stride2, (dx - r) * stride2
        for i, j in np.ndindex(OH, OW):
            y, x = i * stride1 + md, j * stride1 + md
            a = p1[:, :, y:y + k, x:x + k]
            b = p2[:, :, y + dy:y + dy + k, x + dx:x + dx + k]
            out[:, t, i, j] = (a * b if is_multiply else np.abs(a - b)).mean(axis=(1, 2, 3))
    return out


# --- specs ---------------------------------------------------------------------------------------------------------

def _size(rng, low=2, high=5):
    return int(rng.integers(low, high + 1))


def _make_grid_affine(rng):
    return [rng.standard_normal((_size(rng, 1, 3), 6))], \
        {"transform_type": "affine", "target_shape": (_size(rng), _size(rng))}


def _make_grid_warp(rng):
    return [rng.standard_normal((_size(rng, 1, 2), 2, _size(rng), _size(rng))) * 2], {"transform_type": "warp"}


def _make_sampler(rng):
    N, C = _size(rng, 1, 2), _size(rng, 1, 3)
    data = rng.standard_normal((N, C, _size(rng), _size(rng)))
    # Points also outside [-1, 1], where some or all taps lie outside the image.
    return [data, rng.uniform(-1.3, 1.3, (N, 2, _size(rng), _size(rng)))], {}


def _make_transformer(rng):
    N = _size(rng, 1, 2)
    loc = np.array([1, 0, 0, 0, 1, 0]) + rng.uniform(-0.4, 0.4, (N, 6))
    return [rng.standard_normal((N, _size(rng, 1, 2), _size(rng), _size(rng))), loc], \
        {"target_shape": (_size(rng), _size(rng)), "transform_type": "affine", "sampler_type": "bilinear"}


def _make_roi(rng):
    N, C, H, W = _size(rng, 1, 2), _size(rng, 1, 2), _size(rng, 3, 7), _size(rng, 3, 7)
    scale = float(rng.choice([1.0, 0.5, 0.25]))  # scaled integer corners are exact: no rounding ties to break
    R = _size(rng, 1, 4)
    corners = rng.integers(-2, int(max(H, W) / scale) + 2, (R, 4))
    batch = rng.integers(0, N + 1, (R, 1))  # N: a row outside the batch, which pools to 0
    rois = np.concatenate([batch, np.minimum(corners[:, :2], corners[:, 2:]), np.maximum(corners[:, :2],
                                                                                        corners[:, 2:])], axis=1)
    return [rng.standard_normal((N, C, H, W)), rois.astype(np.float64)], \
        {"pooled_size": (_size(rng, 1, 3), _size(rng, 1, 3)), "spatial_scale": scale}


def _make_align(rng):
    N, PH, PW = _size(rng, 1, 2), _size(rng, 1, 3), _size(rng, 1, 3)
    sensitive, aligned = bool(rng.integers(2)), bool(rng.integers(2))
    C, H, W = _size(rng, 1, 2) * (PH * PW if sensitive else 1), _size(rng, 3, 7), _size(rng, 3, 7)
    scale = float(rng.choice([1.0, 0.5, 0.25]))
    R = _size(rng, 1, 4)
    # Corners beyond the map on every side; aligned regions need a positive extent, others may be tiny.
    corners = rng.uniform(-2 / scale, (max(H, W) + 2) / scale, (R, 4))
    lo, hi = np.minimum(corners[:, :2], corners[:, 2:]), np.maximum(corners[:, :2], corners[:, 2:]) + 0.1
    batch = rng.integers(-1, N + 1, (R, 1))  # -1 and N: rows outside the batch, which pool to 0
    return [rng.standard_normal((N, C, H, W)), np.concatenate([batch, lo, hi], axis=1)], \
        {"pooled_size": (PH, PW), "spatial_scale": scale, "sample_ratio": int(rng.choice([-1, 1, 2])),
         "position_sensitive": sensitive, "aligned": aligned}


def _make_corr(rng):
    shape = (_size(rng, 1, 2), _size(rng, 1, 2), _size(rng, 3, 6), _size(rng, 3, 6))
    k, md = int(rng.choice([1, 3])), _size(rng, 0, 2)
    border = md + (k - 1) // 2
    return [rng.standard_normal(shape), rng.standard_normal(shape)], {
        "kernel_size": k, "max_displacement": md, "stride1": _size(rng, 1, 2), "stride2": _size(rng, 1, 2),
        "pad_size": max(border - _size(rng, 0, 1), 0), "is_multiply": bool(rng.integers(2))}


SPECS = [
    OpSpec("GridGenerator", _make_grid_affine, _grid_ref, atol=1e-5),
    OpSpec("GridGenerator", _make_grid_warp, _grid_ref, atol=1e-5),
    OpSpec("BilinearSampler", _make_sampler, _sampler_ref, atol=1e-5),
    OpSpec("SpatialTransformer", _make_transformer, _transformer_ref, atol=1e-5),
    # rois get a zero gradient (MXNet's rule), which the fixture test checks.
    OpSpec("ROIPooling", _make_roi, _roi_ref, grad_inputs=(0,)),
    OpSpec("Correlation", _make_corr, _corr_ref, atol=1e-5),
    OpSpec("_contrib_ROIAlign", _make_align, _align_ref, grad_inputs=(0,), atol=1e-5),
]

test_forward, test_gradient, test_req_add = spec_tests(SPECS)


# --- MXNet 1.9.1's numbers -----------------------------------------------------------------------------------------

def _fixture_cases():
    cases = []
    for path in FIXTURES:
        with open(path) as f:
            cases += json.load(f)["cases"]
    return cases


def _array(entry):
    return np.array(entry["values"], np.float32).reshape(entry["shape"])


@pytest.mark.parametrize("case", _fixture_cases(), ids=lambda c: f"{c['op']}-{sorted(c['attrs'].items())}")
def test_matches_mxnet(case):
    xs = [mx.nd.array(_array(a)) for a in case["inputs"]]
    for x in xs:
        x.attach_grad()
    attrs = {k: tuple(v) if isinstance(v, list) else v for k, v in case["attrs"].items()}
    with mx.autograd.record():
        y = functools.reduce(getattr, case["op"].split("."), mx.nd)(*xs, **attrs)
    y.backward(mx.nd.array(np.linspace(-1, 1, y.size).reshape(y.shape)))
    np.testing.assert_allclose(y.asnumpy(), _array(case["output"]), rtol=1e-5, atol=1e-5)
    for x, want in zip(xs, case["grads"]):
        np.testing.assert_allclose(x.grad.asnumpy(), _array(want), rtol=1e-4, atol=1e-5)


# --- shapes, symbols and errors --------------------------------------------------------------------------------------

def test_symbol_shapes_and_arguments():
    st = mx.sym.SpatialTransformer(mx.sym.Variable("data"), target_shape=(5, 6), transform_type="affine",
                                   sampler_type="bilinear", name="st")
    assert st.list_arguments() == ["data", "st_loc"]
    args, outs, _ = st.infer_shape(data=(2, 3, 8, 9))
    assert args == [(2, 3, 8, 9), (2, 6)] and outs == [(2, 3, 5, 6)]
    grid = mx.sym.GridGenerator(mx.sym.Variable("flow"), transform_type="warp")
    sampler = mx.sym.BilinearSampler(mx.sym.Variable("data"), grid)
    assert sampler.list_outputs() == ["bilinearsampler0_output"]
    assert sampler.infer_shape(data=(1, 4, 7, 7), flow=(1, 2, 3, 5))[1] == [(1, 4, 3, 5)]


def test_roi_pooling_docstring_example():
    """MXNet 1.9.1's documented example: one 5 x 5 box at two scales."""
    x = mx.nd.array(np.arange(48.0).reshape(1, 1, 8, 6))
    rois = mx.nd.array([[0, 0, 0, 4, 4]])
    assert mx.nd.ROIPooling(x, rois, (2, 2), 1.0).asnumpy().ravel().tolist() == [14, 16, 26, 28]
    assert mx.nd.ROIPooling(x, rois, (2, 2), 0.7).asnumpy().ravel().tolist() == [7, 9, 19, 21]


def test_correlation_shapes():
    """FlowNet-C's setting: 21 x 21 displacements (max_displacement 20, stride2 2) of 1 x 1 patches."""
    corr = mx.sym.Correlation(mx.sym.Variable("a"), mx.sym.Variable("b"), kernel_size=1, max_displacement=20,
                              stride1=1, stride2=2, pad_size=20)
    assert corr.list_arguments() == ["a", "b"]
    assert corr.infer_shape(a=(2, 8, 12, 16))[1] == [(2, 441, 12, 16)]
    assert mx.nd.Correlation(mx.nd.ones((1, 1, 7, 7)), mx.nd.ones((1, 1, 7, 7)), kernel_size=3,
                             max_displacement=1, stride1=2).shape == (1, 9, 2, 2)


@pytest.mark.parametrize("call, words", [
    (lambda: mx.nd.GridGenerator(mx.nd.zeros((2, 5)), transform_type="affine", target_shape=(3, 3)),
     ["GridGenerator", "data", "(2, 5)"]),
    (lambda: mx.nd.GridGenerator(mx.nd.zeros((2, 6)), transform_type="affine"), ["GridGenerator", "target_shape"]),
    (lambda: mx.nd.GridGenerator(mx.nd.zeros((2, 3, 4, 4)), transform_type="warp"),
     ["GridGenerator", "(2, 3, 4, 4)"]),
    (lambda: mx.nd.GridGenerator(mx.nd.zeros((2, 6)), transform_type="perspective", target_shape=(3, 3)),
     ["GridGenerator", "transform_type"]),
    (lambda: mx.nd.BilinearSampler(mx.nd.zeros((2, 3, 4, 4)), mx.nd.zeros((2, 3, 4, 4))),
     ["BilinearSampler", "grid", "(2, 3, 4, 4)"]),
    (lambda: mx.nd.BilinearSampler(mx.nd.zeros((2, 3, 4, 4)), mx.nd.zeros((1, 2, 4, 4))),
     ["BilinearSampler", "batch", "(1, 2, 4, 4)"]),
    (lambda: mx.nd.BilinearSampler(mx.nd.zeros((3, 4, 4)), mx.nd.zeros((3, 2, 4, 4))),
     ["BilinearSampler", "data", "(3, 4, 4)"]),
    (lambda: mx.nd.SpatialTransformer(mx.nd.zeros((2, 1, 4, 4)), mx.nd.zeros((2, 6)), transform_type="affine",
                                      sampler_type="bilinear"), ["SpatialTransformer", "target_shape"]),
    (lambda: mx.nd.SpatialTransformer(mx.nd.zeros((2, 1, 4, 4)), mx.nd.zeros((2, 4)), target_shape=(3, 3),
                                      transform_type="affine", sampler_type="bilinear"),
     ["SpatialTransformer", "loc", "(2, 4)"]),
    (lambda: mx.nd.SpatialTransformer(mx.nd.zeros((2, 1, 4, 4)), mx.nd.zeros((2, 6)), target_shape=(3, 3),
                                      transform_type="affine"), ["SpatialTransformer", "sampler_type"]),
    (lambda: mx.nd.ROIPooling(mx.nd.zeros((1, 2, 4, 4)), mx.nd.zeros((3, 4)), pooled_size=(2, 2), spatial_scale=1),
     ["ROIPooling", "rois", "(3, 4)"]),
    (lambda: mx.nd.ROIPooling(mx.nd.zeros((2, 4, 4)), mx.nd.zeros((3, 5)), pooled_size=(2, 2), spatial_scale=1),
     ["ROIPooling", "data", "(2, 4, 4)"]),
    (lambda: mx.nd.ROIPooling(mx.nd.zeros((1, 2, 4, 4)), mx.nd.zeros((3, 5)), pooled_size=(2, 0), spatial_scale=1),
     ["ROIPooling", "pooled_size", "(2, 0)"]),
    (lambda: mx.nd.ROIPooling(mx.nd.zeros((1, 2, 4, 4)), mx.nd.zeros((3, 5)), pooled_size=(2, 2), spatial_scale=2),
     ["ROIPooling", "spatial_scale"]),
    (lambda: mx.nd.ROIPooling(mx.nd.zeros((1, 2, 4, 4)), mx.nd.zeros((3, 5)), spatial_scale=1),
     ["ROIPooling", "pooled_size"]),
    (lambda: mx.nd.Correlation(mx.nd.zeros((1, 2, 5, 5)), mx.nd.zeros((1, 3, 5, 5))),
     ["Correlation", "data2", "(1, 3, 5, 5)"]),
    (lambda: mx.nd.Correlation(mx.nd.zeros((1, 2, 5, 5)), mx.nd.zeros((1, 2, 5, 5)), kernel_size=2),
     ["Correlation", "kernel_size"]),
    (lambda: mx.nd.Correlation(mx.nd.zeros((1, 2, 5, 5)), mx.nd.zeros((1, 2, 5, 5)), max_displacement=3),
     ["Correlation", "max_displacement", "(1, 2, 5, 5)"]),
    (lambda: mx.nd.Correlation(mx.nd.zeros((2, 5, 5)), mx.nd.zeros((2, 5, 5))), ["Correlation", "data1", "(2, 5, 5)"]),
    (lambda: mx.nd.Correlation(mx.nd.zeros((1, 2, 5, 5)), mx.nd.zeros((1, 2, 5, 5)), stride1=0),
     ["Correlation", "stride1"]),
    (lambda: mx.nd.contrib.ROIAlign(mx.nd.zeros((1, 6, 4, 4)), mx.nd.zeros((3, 5)), (2, 2), 1.0,
                                    position_sensitive=True), ["ROIAlign", "data", "(1, 6, 4, 4)", "pooled_size"]),
    (lambda: mx.nd.contrib.ROIAlign(mx.nd.zeros((1, 2, 4, 4)), mx.nd.zeros((3, 4)), (2, 2), 1.0),
     ["ROIAlign", "rois", "(3, 4)"]),
    (lambda: mx.nd.contrib.ROIAlign(mx.nd.zeros((2, 4, 4)), mx.nd.zeros((3, 5)), (2, 2), 1.0),
     ["ROIAlign", "data", "(2, 4, 4)"]),
    (lambda: mx.nd.contrib.ROIAlign(mx.nd.zeros((1, 2, 4, 4)), mx.nd.zeros((3, 5)), (0, 2), 1.0),
     ["ROIAlign", "pooled_size", "(0, 2)"]),
    (lambda: mx.nd.contrib.ROIAlign(mx.nd.zeros((1, 2, 4, 4)), mx.nd.zeros((3, 5)), (2, 2), 1.5),
     ["ROIAlign", "spatial_scale"]),
])
def test_bad_input_names_op_argument_and_shape(call, words):
    with pytest.raises(mx.MXNetError) as err:
        call()
    for word in words:
        assert word in str(err.value)
