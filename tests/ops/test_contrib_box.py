"""contrib box_iou, box_nms (and its gradient scatter), bipartite_matching, box_encode, box_decode: OpSpecs against
NumPy float64 references, values and gradients printed by MXNet 1.9.1 (fixtures/box_reference.json, written by
fixtures/make_box_fixtures.py), MXNet's zero gradients, symbols and errors."""
import json
import os

import numpy as np
import pytest

import mxcy as mx
from tests.ops.opspec import OpSpec, check_zero_gradients, spec_tests

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "box_reference.json")
ZERO_GRAD = "MXNet 1.9.1's backward writes zeros (test_zero_gradients checks that mxcy does the same)"


def _corner(rng, *lead):
    lo = rng.uniform(0, 0.7, lead + (2,))
    return np.concatenate([lo, lo + rng.uniform(0.05, 0.4, lead + (2,))], axis=-1)


def _to_center(boxes):
    return np.concatenate([(boxes[..., :2] + boxes[..., 2:]) / 2, boxes[..., 2:] - boxes[..., :2]], axis=-1)


def _to_corner(boxes):
    return np.concatenate([boxes[..., :2] - boxes[..., 2:] / 2, boxes[..., :2] + boxes[..., 2:] / 2], axis=-1)


def _iou_matrix(a, b):
    """IoU of corner boxes a (L, 4) with b (R, 4)."""
    lo, hi = np.maximum(a[:, None, :2], b[None, :, :2]), np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(hi - lo, 0, None), axis=-1)
    area = lambda x: np.prod(np.clip(x[:, 2:] - x[:, :2], 0, None), axis=-1)  # noqa: E731
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(inter > 0, inter / (area(a)[:, None] + area(b)[None] - inter), 0.0)


# --- box_iou ---------------------------------------------------------------------------------------

def _make_iou(rng):
    fmt = str(rng.choice(["corner", "center"]))
    lhs, rhs = _corner(rng, *rng.integers(1, 4, int(rng.integers(1, 3)))), _corner(rng, int(rng.integers(1, 5)))
    return ([_to_center(lhs), _to_center(rhs)] if fmt == "center" else [lhs, rhs]), {"format": fmt}


def _iou(lhs, rhs, format="corner"):
    if format == "center":
        lhs, rhs = _to_corner(lhs), _to_corner(rhs)
    return _iou_matrix(lhs.reshape(-1, 4), rhs.reshape(-1, 4)).reshape(lhs.shape[:-1] + rhs.shape[:-1])


# --- box_nms ---------------------------------------------------------------------------------------

def _make_nms(rng):
    """Detections (batch..., N, 6) as (class id, score, 4 coordinates): clustered boxes so that NMS suppresses."""
    lead = tuple(int(d) for d in rng.integers(1, 3, int(rng.integers(0, 2))))
    n = int(rng.integers(1, 8))
    centres = rng.uniform(0.2, 0.8, lead + (n, 2)).round(1)  # few distinct centres: overlaps
    boxes = np.concatenate([centres - 0.15, centres + 0.15], axis=-1) + rng.uniform(-0.05, 0.05, lead + (n, 4))
    fmt = str(rng.choice(["corner", "center"]))
    if fmt == "center":
        boxes = _to_center(boxes)
    # Class ids k + 0.5: NMS compares int(id), which a numerical gradient's nudge must not change (so no id equals
    # background_id here; the MXNet fixtures cover background boxes).
    ids = rng.integers(0, 3, lead + (n, 1)) + 0.5
    data = np.concatenate([ids, rng.uniform(-0.2, 1, lead + (n, 1)),
                           boxes], axis=-1)
    attrs = {"overlap_thresh": float(rng.uniform(0.2, 0.7)), "valid_thresh": float(rng.uniform(0, 0.3)),
             "topk": int(rng.integers(-1, n + 1)), "force_suppress": bool(rng.integers(2)),
             "in_format": fmt, "out_format": fmt}
    if rng.integers(2):
        attrs.update(id_index=0, background_id=int(rng.integers(-1, 3)))
    return [data], attrs


def _nms(data, overlap_thresh=0.5, valid_thresh=0.0, topk=-1, coord_start=2, score_index=1, id_index=-1,
         background_id=-1, force_suppress=False, in_format="corner", out_format="corner"):
    """Greedy NMS per batch, written from MXNet's description (outputs only; the gradient is checked numerically).
    topk=0 passes the data through unchanged, as MXNet 1.9.1 does."""
    if topk == 0:
        return data
    flat = data.reshape((-1,) + data.shape[-2:])
    out = -np.ones_like(flat)
    for b, rows in enumerate(flat):
        ok = (rows[:, score_index] > valid_thresh) & ((rows[:, id_index] != background_id) if id_index >= 0 else True)
        order = [i for i in sorted(np.flatnonzero(ok), key=lambda i: -rows[i, score_index])]
        order = order if topk < 0 else order[:topk]
        boxes = rows[:, coord_start:coord_start + 4]
        corner = _to_corner(boxes) if in_format == "center" else boxes
        kept = []
        for i in order:
            same = [k for k in kept
                    if force_suppress or id_index < 0 or int(rows[k, id_index]) == int(rows[i, id_index])]
            if not same or _iou_matrix(corner[[i]], corner[same]).max() <= overlap_thresh:
                kept.append(i)
        out[b, :len(kept)] = rows[kept]
    return out.reshape(data.shape)


def _make_scatter(rng):
    n, width = int(rng.integers(1, 6)), int(rng.integers(5, 8))
    batch = int(rng.integers(1, 3))
    record = -np.ones((batch, n, 1))
    for b in range(batch):
        kept = rng.permutation(batch * n)[:int(rng.integers(0, n + 1))]
        record[b, :kept.size, 0] = kept
    # one input row comes from at most one output row: drop repeats across batches
    seen, flat = set(), record.reshape(-1)
    for i, r in enumerate(flat):
        if r in seen:
            flat[i] = -1
        seen.add(r) if r >= 0 else None
    return [rng.standard_normal((batch, n, width)), record], {}


def _scatter(ograd, record):
    grad = np.zeros_like(ograd).reshape(-1, ograd.shape[-1])
    for i, r in enumerate(record.reshape(-1)):
        if r >= 0:
            grad[int(r)] = ograd.reshape(-1, ograd.shape[-1])[i]
    return grad.reshape(ograd.shape)


# --- bipartite_matching ------------------------------------------------------------------------------

def _make_matching(rng):
    lead = tuple(int(d) for d in rng.integers(1, 3, int(rng.integers(0, 2))))
    scores = rng.uniform(0, 1, lead + tuple(int(d) for d in rng.integers(1, 5, 2)))
    return [scores], {"threshold": float(rng.uniform(0, 0.8)), "is_ascend": bool(rng.integers(2)),
                      "topk": int(rng.integers(-1, 4))}


def _matching(scores, threshold, is_ascend=False, topk=-1):
    flat = scores.reshape((-1,) + scores.shape[-2:])
    rows, cols = -np.ones(flat.shape[:2]), -np.ones((flat.shape[0], flat.shape[2]))
    for b, s in enumerate(flat):
        count = 0
        for j in sorted(range(s.size), key=lambda j: s.flat[j] if is_ascend else -s.flat[j]):
            r, c = divmod(j, s.shape[1])
            if rows[b, r] >= 0 or cols[b, c] >= 0:
                continue
            if not (s.flat[j] < threshold if is_ascend else s.flat[j] > threshold):
                break
            rows[b, r], cols[b, c] = c, r
            count += 1
            if 0 < topk < count:  # MXNet 1.9.1 stops after making the topk + 1-th match
                break
    return rows.reshape(scores.shape[:-1]), cols.reshape(scores.shape[:-2] + scores.shape[-1:])


# --- box_encode / box_decode ---------------------------------------------------------------------------

def _make_encode(rng):
    b, n, m = (int(d) for d in rng.integers(1, 4, 3))
    samples = rng.choice([-1.0, 0.0, 1.0], (b, n))
    matches = np.where(samples > 0.5, rng.integers(0, m, (b, n)), -1).astype(float)
    return [samples, matches, _corner(rng, b, n), _corner(rng, b, m), rng.uniform(-0.2, 0.2, 4),
            rng.uniform(0.1, 1, 4)], {}


def _encode(samples, matches, anchors, refs, means, stds):
    chosen = np.take_along_axis(refs, np.clip(matches, 0, None).astype(int)[..., None], axis=1)
    a, r = _to_center(anchors), _to_center(chosen)
    targets = np.concatenate([(r[..., :2] - a[..., :2]) / a[..., 2:], np.log(r[..., 2:] / a[..., 2:])], axis=-1)
    valid = (samples > 0.5)[..., None]
    return np.where(valid, (targets - means) / stds, 0.0), np.broadcast_to(valid, targets.shape).astype(float)


def _make_decode(rng):
    b, n = (int(d) for d in rng.integers(1, 4, 2))
    fmt = str(rng.choice(["corner", "center"]))
    anchors = _corner(rng, 1, n)
    attrs = {f"std{i}": float(rng.uniform(0.1, 1)) for i in range(4)}
    attrs.update(clip=float(rng.choice([-1.0, 0.5])), format=fmt)
    return [rng.normal(0, 1, (b, n, 4)), _to_center(anchors) if fmt == "center" else anchors], attrs


def _decode(data, anchors, std0=1.0, std1=1.0, std2=1.0, std3=1.0, clip=-1.0, format="center"):
    a = anchors.reshape(-1, 4)[:data.shape[1]]
    a = a if format == "center" else _to_center(a)
    scaled = data * np.array([std0, std1, std2, std3])
    size = scaled[..., 2:] if clip <= 0 else np.minimum(scaled[..., 2:], clip)
    centre, half = scaled[..., :2] * a[:, 2:] + a[:, :2], np.exp(size) * a[:, 2:] / 2
    return np.concatenate([centre - half, centre + half], axis=-1)


SPECS = [
    OpSpec("_contrib_box_iou", _make_iou, _iou, grad=False, why=ZERO_GRAD),
    OpSpec("_contrib_box_nms", _make_nms, _nms),
    OpSpec("_backward_contrib_box_nms", _make_scatter, _scatter, grad=False,
           why="MXNet 1.9.1 registers no gradient for box_nms's backward"),
    OpSpec("_contrib_bipartite_matching", _make_matching, _matching, grad=False, why=ZERO_GRAD),
    OpSpec("_contrib_box_encode", _make_encode, _encode, grad=False, why=ZERO_GRAD, rtol=1e-4, atol=1e-5),
    OpSpec("_contrib_box_decode", _make_decode, _decode, grad=False, why=ZERO_GRAD, rtol=1e-4, atol=1e-5),
]

test_forward, test_gradient, test_req_add = spec_tests(SPECS)


def _cases():
    with open(FIXTURE) as f:
        return json.load(f)["cases"]


@pytest.mark.parametrize("case", _cases(), ids=lambda c: f"{c['op']}-{c['kwargs']}")
def test_mxnet_values(case):
    """Outputs (and box_nms's gradient for a ramp head) equal those MXNet 1.9.1 printed."""
    inputs = [mx.nd.array(np.array(a, dtype=np.float32)) for a in case["inputs"]]
    fn = getattr(mx.nd.contrib, case["op"])
    if "grads" in case:
        inputs[0].attach_grad()
        with mx.autograd.record():
            outs = fn(*inputs, **case["kwargs"])
        outs.backward(mx.nd.array(case["head"]))
        np.testing.assert_allclose(inputs[0].grad.asnumpy(), case["grads"][0], rtol=1e-6, atol=1e-7)
    else:
        outs = fn(*inputs, **case["kwargs"])
    outs = outs if isinstance(outs, (list, tuple)) else [outs]
    assert len(outs) == len(case["outputs"])
    for got, want in zip(outs, case["outputs"]):
        np.testing.assert_allclose(got.asnumpy(), want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["box_iou", "bipartite_matching", "box_encode", "box_decode"])
def test_zero_gradients(name):
    """As in MXNet 1.9.1, no gradient flows through these ops: every input gets zeros."""
    check_zero_gradients(next(s for s in SPECS if s.name == f"_contrib_{name}"))


def test_alias_and_symbol():
    data = mx.nd.array(np.array([[0, 0.9, 0, 0, 1, 1], [0, 0.8, 0, 0, 1, 1]]))
    assert (mx.nd.contrib.box_non_maximum_suppression(data, id_index=0).asnumpy() ==
            mx.nd.contrib.box_nms(data, id_index=0).asnumpy()).all()
    sym = mx.sym.contrib.box_nms(mx.sym.var("data"), id_index=0)
    assert sym.list_outputs() == [f"{sym.name}_output0"]  # as MXNet 1.9.1 names it
    _, out_shapes, _ = sym.infer_shape(data=(2, 5, 6))
    assert out_shapes == [(2, 5, 6)]
    assert mx.sym.contrib.box_iou(mx.sym.var("a"), mx.sym.var("b")).infer_shape(a=(2, 4), b=(3, 5, 4))[1] == \
        [(2, 3, 5)]


@pytest.mark.parametrize("call,match", [
    (lambda: mx.nd.contrib.box_iou(mx.nd.zeros((2, 3)), mx.nd.zeros((2, 4))), r"_contrib_box_iou.*lhs.*\(2, 3\)"),
    (lambda: mx.nd.contrib.box_nms(mx.nd.zeros((3, 4))), r"_contrib_box_nms.*\(3, 4\).*at least 5"),
    (lambda: mx.nd.contrib.box_nms(mx.nd.zeros((3, 6)), score_index=3), r"_contrib_box_nms.*score_index=3"),
    (lambda: mx.nd.contrib.box_nms(mx.nd.zeros((3, 6)), id_index=1), r"_contrib_box_nms.*id_index=1"),
    (lambda: mx.nd.contrib.box_nms(mx.nd.zeros((3, 6)), in_format="xywh"), r"_contrib_box_nms.*in_format"),
    (lambda: mx.nd.contrib.box_nms(mx.nd.zeros((3, 6), dtype="int32")), r"_contrib_box_nms.*int32"),
    (lambda: mx.nd.contrib.bipartite_matching(mx.nd.zeros((3,)), threshold=0.1),
     r"_contrib_bipartite_matching.*at least 2.*\(3,\)"),
    (lambda: mx.nd.contrib.bipartite_matching(mx.nd.zeros((3, 2))), r"_contrib_bipartite_matching.*threshold"),
    (lambda: mx.nd.contrib.box_encode(*[mx.nd.zeros(s) for s in ((1, 2), (1, 3), (1, 2, 4), (1, 2, 4), (4,), (4,))]),
     r"_contrib_box_encode.*matches \(1, 3\)"),
    (lambda: mx.nd.contrib.box_encode(*[mx.nd.array(a) for a in (np.ones((1, 1)), np.full((1, 1), 5.0),
                                                                 np.ones((1, 1, 4)), np.ones((1, 2, 4)), np.zeros(4),
                                                                 np.ones(4))])[0].asnumpy(),
     r"_contrib_box_encode.*2 refs"),
    (lambda: mx.nd.contrib.box_decode(mx.nd.zeros((1, 3, 4)), mx.nd.zeros((1, 2, 4))),
     r"_contrib_box_decode.*fewer than the 3 boxes"),
    (lambda: mx.nd.contrib.box_decode(mx.nd.zeros((3, 4)), mx.nd.zeros((1, 3, 4))), r"_contrib_box_decode.*data"),
])
def test_bad_input_is_an_mxnet_error(call, match):
    with pytest.raises(mx.MXNetError, match=match):
        call()


@pytest.mark.sim_slow
def test_gpu_nms_with_more_boxes_than_a_block_has_threads():
    """The GPU NMS splits each reference box's comparisons among a block's (at most 256) threads: with 300
    clustered boxes every thread takes several, and the result equals the CPU's."""
    rng = np.random.default_rng(3)
    centres = rng.uniform(0.2, 0.8, (1, 300, 2)).round(1)
    data = np.concatenate([rng.integers(0, 2, (1, 300, 1)) + 0.5, rng.uniform(0, 1, (1, 300, 1)),
                           centres - 0.1, centres + 0.1 + rng.uniform(0, 0.05, (1, 300, 2))], axis=-1)
    results = [mx.nd.contrib.box_nms(mx.nd.array(data, ctx=ctx), id_index=0, overlap_thresh=0.4).asnumpy()
               for ctx in (mx.cpu(), mx.gpu(0))]
    assert (results[0][0, :, 0] >= 0).sum() < 300  # some boxes were suppressed
    np.testing.assert_allclose(results[1], results[0], rtol=1e-6)


def test_gpu_encode_gives_nan_targets_for_a_match_outside_refs():
    """The CPU op refuses such matches (test_bad_input_is_an_mxnet_error); a GPU kernel cannot raise, so it writes
    NaN targets rather than read outside refs."""
    arrays = (np.ones((1, 2)), np.array([[0.0, 5.0]]), np.tile([0.1, 0.1, 0.3, 0.4], (1, 2, 1)),
              np.tile([0.2, 0.1, 0.3, 0.5], (1, 2, 1)), np.zeros(4), np.ones(4))
    targets, masks = mx.nd.contrib.box_encode(*[mx.nd.array(a, ctx=mx.gpu(0)) for a in arrays])
    assert np.isfinite(targets.asnumpy()[0, 0]).all() and np.isnan(targets.asnumpy()[0, 1]).all()
    assert (masks.asnumpy() == 1).all()


def _many_boxes(rng, n, kind):
    """n detections (class, score, corner box) of one image: small boxes in a unit square, or those mixed with
    large, inverted and zero-size boxes, or some with NaN coordinates."""
    lo, size = rng.uniform(0, 1, (n, 2)), rng.uniform(0.01, 0.15, (n, 2))
    if kind == "mixed":
        size[::7] = rng.uniform(0.3, 1.5, (size[::7].shape[0], 2))  # large boxes span many grid cells
        size[3::11] *= -1  # inverted: they intersect nothing
        size[5::13, 0] = 0  # zero width
    boxes = np.concatenate([lo, lo + size], axis=1)
    if kind == "nan":
        boxes[::17, 2] = np.nan
    return np.concatenate([rng.integers(0, 3, (n, 1)) + 0.5, rng.uniform(0, 1, (n, 1)), boxes], axis=1)[None]


@pytest.mark.parametrize("kind, overlap_thresh", [("small", 0.3), ("mixed", 0.2), ("mixed", 0.0), ("small", -0.1),
                                                  ("nan", 0.3)])
@pytest.mark.parametrize("force_suppress", [False, True])
def test_nms_of_hundreds_of_boxes_equals_the_greedy_reference(kind, overlap_thresh, force_suppress):
    """Hundreds of overlapping boxes: the CPU kernel's grid (thresholds >= 0, finite boxes) and all-pairs (negative
    thresholds, NaN coordinates) suppressions both equal the greedy reference."""
    data = _many_boxes(np.random.default_rng(7), 400, kind)
    kwargs = {"overlap_thresh": overlap_thresh, "id_index": 0, "force_suppress": force_suppress}
    got = mx.nd.contrib.box_nms(mx.nd.array(data, dtype=np.float64), **kwargs).asnumpy()
    want = _nms(data, **kwargs)
    assert 0 < (want[0, :, 0] >= 0).sum() < 400
    np.testing.assert_array_equal(got, want)
