"""contrib MultiBoxPrior, MultiBoxTarget and MultiBoxDetection: OpSpecs against NumPy float64 references written
from MXNet's description, values printed by MXNet 1.9.1 (fixtures/multibox_reference.json, written by
fixtures/make_multibox_fixtures.py), MXNet's zero gradients, symbols and errors."""
import json
import os

import numpy as np
import pytest

import mxcy as mx
from tests.ops.opspec import OpSpec, check_mxnet_outputs, check_zero_gradients, spec_tests

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "multibox_reference.json")
ZERO_GRAD = ("MXNet 1.9.1's backward writes zeros: anchors and targets are piecewise constant in the inputs "
             "(test_zero_gradients checks that mxcy does the same)")


# --- MultiBoxPrior -------------------------------------------------------------------------------

def _make_prior(rng):
    shape = (1, 1) + tuple(int(d) for d in rng.integers(1, 4, 2))
    attrs = {"sizes": tuple(rng.uniform(0.1, 0.9, int(rng.integers(1, 4))).round(2)),
             "ratios": tuple(rng.uniform(0.3, 3, int(rng.integers(1, 4))).round(2)), "clip": bool(rng.integers(2))}
    if rng.integers(2):
        attrs.update(steps=tuple(rng.uniform(0.1, 0.5, 2).round(2)), offsets=tuple(rng.uniform(0, 1, 2).round(2)))
    return [rng.standard_normal(shape)], attrs


def _prior(data, sizes=(1.0,), ratios=(1.0,), clip=False, steps=(-1.0, -1.0), offsets=(0.5, 0.5)):
    h, w = data.shape[2:]
    step_y, step_x = steps if steps[0] > 0 and steps[1] > 0 else (1 / h, 1 / w)
    shapes = [(s, ratios[0]) for s in sizes] + [(sizes[0], r) for r in ratios[1:]]
    boxes = []
    for r in range(h):
        for c in range(w):
            cy, cx = (r + offsets[0]) * step_y, (c + offsets[1]) * step_x
            for s, ratio in shapes:
                hw, hh = s * h / w * np.sqrt(ratio) / 2, s / np.sqrt(ratio) / 2
                boxes.append([cx - hw, cy - hh, cx + hw, cy + hh])
    boxes = np.array(boxes)[None]
    return np.clip(boxes, 0, 1) if clip else boxes


# --- MultiBoxTarget ------------------------------------------------------------------------------

def _make_target(rng):
    """Anchors on a 3x3 grid, jittered so that no two tie in IoU with a box inside both (equal areas would), up to 3
    ground truths (padded with -1 rows), scores for 3 classes."""
    anchors = _prior(np.zeros((1, 1, 3, 3)), sizes=(0.3, 0.5), ratios=(1.0, 2.0))
    anchors = anchors + rng.uniform(-0.02, 0.02, anchors.shape)
    batch, n_label = int(rng.integers(1, 3)), int(rng.integers(1, 4))
    labels = -np.ones((batch, n_label, 5))
    for b in range(batch):
        n = int(rng.integers(0, n_label + 1))
        lo = rng.uniform(0, 0.6, (n, 2))
        labels[b, :n] = np.concatenate([rng.integers(0, 3, (n, 1)), lo, lo + rng.uniform(0.1, 0.4, (n, 2))], 1)
    attrs = {"overlap_threshold": float(rng.uniform(0, 0.6)), "ignore_label": float(rng.choice([-1.0, -2.0]))}
    if rng.integers(2):
        # few enough negatives that every batch has the candidates MXNet requires
        attrs.update(negative_mining_ratio=float(rng.uniform(0.5, 2)), negative_mining_thresh=0.7)
    return [anchors, labels, rng.standard_normal((batch, 3, anchors.shape[1]))], attrs


def _iou(a, g):
    inter = np.prod(np.clip(np.minimum(a[:, None, 2:], g[None, :, 2:]) - np.maximum(a[:, None, :2], g[None, :, :2]),
                            0, None), axis=-1)
    union = np.prod(a[:, 2:] - a[:, :2], axis=-1)[:, None] + np.prod(g[:, 2:] - g[:, :2], axis=-1)[None] - inter
    return np.where(union == 0, 0, inter / np.where(union == 0, 1, union))


def _target(anchor, label, cls_pred, overlap_threshold=0.5, ignore_label=-1.0, negative_mining_ratio=-1.0,
            negative_mining_thresh=0.5, minimum_negative_samples=0, variances=(0.1, 0.1, 0.2, 0.2)):
    anchors = anchor[0]
    n = len(anchors)
    loc, mask, cls = np.zeros((len(label), n, 4)), np.zeros((len(label), n, 4)), np.full((len(label), n), ignore_label)
    for b, rows in enumerate(label):
        valid = rows[:np.argmax(rows[:, 0] == -1)] if (rows[:, 0] == -1).any() else rows
        if not len(valid):
            continue
        iou = _iou(anchors, valid[:, 1:5])
        match, positive = {}, np.zeros(n, bool)
        free = iou.copy()
        while True:  # greedy: the best remaining (anchor, gt) pair each time
            j, k = np.unravel_index(np.argmax(free), free.shape)
            if free[j, k] <= 1e-6:
                break
            match[j], positive[j] = k, True
            free[j, :], free[:, k] = -1, -1
        best = iou.max(axis=1)
        for j in range(n):
            if not positive[j]:
                match[j] = int(np.argmax(iou[j]))
                positive[j] = overlap_threshold > 0 and best[j] > overlap_threshold
        negative = ~positive
        if negative_mining_ratio > 0:
            wanted = min(int(positive.sum() * negative_mining_ratio), n - positive.sum())
            candidates = np.flatnonzero(~positive & (best < negative_mining_thresh))
            p = np.exp(cls_pred[b] - cls_pred[b].max(axis=0))
            background = (p[0] / p.sum(axis=0))[candidates]
            negative = np.zeros(n, bool)
            negative[candidates[np.argsort(background, kind="stable")[:wanted]]] = True
        cls[b, negative] = 0
        for j in np.flatnonzero(positive):
            g = valid[match[j], 1:5]
            a_size, g_size = anchors[j, 2:] - anchors[j, :2], g[2:] - g[:2]
            shift = ((g[:2] + g[2:]) - (anchors[j, :2] + anchors[j, 2:])) / 2 / a_size
            loc[b, j] = np.concatenate([shift, np.log(g_size / a_size)]) / np.array(variances)
            mask[b, j], cls[b, j] = 1, valid[match[j], 0] + 1
    return loc.reshape(len(label), -1), mask.reshape(len(label), -1), cls


# --- MultiBoxDetection ---------------------------------------------------------------------------

def _make_detection(rng):
    """Anchors on a 2x2 grid, 3 classes (0 background): probabilities of well-separated scores (no ties whose
    order a numerical nudge could flip) and offsets so that some decoded boxes overlap."""
    anchors = _prior(np.zeros((1, 1, 2, 2)), sizes=(0.3, 0.5), ratios=(1.0, 2.0))
    batch, n = int(rng.integers(1, 3)), anchors.shape[1]
    probs = rng.dirichlet(np.ones(3), (batch, n)).transpose(0, 2, 1)
    attrs = {"threshold": float(rng.uniform(0, 0.5)), "clip": bool(rng.integers(2)),
             "nms_threshold": float(rng.choice([0.0, 0.3, 0.6])), "force_suppress": bool(rng.integers(2)),
             "nms_topk": int(rng.integers(-1, n))}
    return [probs, rng.normal(0, 0.5, (batch, n * 4)), anchors], attrs


def _detection(cls_prob, loc_pred, anchor, clip=True, threshold=0.01, background_id=0, nms_threshold=0.5,
               force_suppress=False, variances=(0.1, 0.1, 0.2, 0.2), nms_topk=-1):
    anchors = anchor[0]
    out = -np.ones((len(cls_prob), len(anchors), 6))
    a_size, a_centre = anchors[:, 2:] - anchors[:, :2], (anchors[:, :2] + anchors[:, 2:]) / 2
    for b in range(len(cls_prob)):
        offsets = loc_pred[b].reshape(-1, 4) * np.array(variances)
        centre, half = offsets[:, :2] * a_size + a_centre, np.exp(offsets[:, 2:]) * a_size / 2
        boxes = np.concatenate([centre - half, centre + half], axis=1)
        boxes = np.clip(boxes, 0, 1) if clip else boxes
        cls = np.argmax(cls_prob[b, 1:], axis=0)
        score = cls_prob[b, 1:].max(axis=0)
        rows = np.concatenate([cls[:, None], score[:, None], boxes], axis=1)[score >= threshold]
        out[b, :len(rows)] = rows
        if not len(rows) or not 0 < nms_threshold <= 1:
            continue
        keep = len(rows) if not 0 < nms_topk < len(rows) else nms_topk
        out[b, keep:len(rows), 0] = -1  # MXNet leaves the cut rows unsorted, class -1
        ranked = rows[np.argsort(-rows[:, 1], kind="stable")[:keep]]
        for i in range(keep):
            if ranked[i, 0] < 0:
                continue
            for j in range(i + 1, keep):
                if ranked[j, 0] >= 0 and (force_suppress or ranked[j, 0] == ranked[i, 0]) and \
                        _iou(ranked[i:i + 1, 2:], ranked[j:j + 1, 2:])[0, 0] >= nms_threshold:
                    ranked[j, 0] = -1
        out[b, :keep] = ranked
    return out


SPECS = [
    OpSpec("_contrib_MultiBoxPrior", _make_prior, _prior, grad=False, why=ZERO_GRAD, rtol=1e-5, atol=1e-6),
    OpSpec("_contrib_MultiBoxTarget", _make_target, _target, grad=False, why=ZERO_GRAD, rtol=1e-4, atol=1e-5),
    OpSpec("_contrib_MultiBoxDetection", _make_detection, _detection, grad=False, why=ZERO_GRAD, rtol=1e-5,
           atol=1e-6),
]

test_forward, test_gradient, test_req_add = spec_tests(SPECS)


def _cases():
    with open(FIXTURE) as f:
        return json.load(f)["cases"]


@pytest.mark.parametrize("case", _cases(), ids=lambda c: f"{c['op']}-{c['kwargs']}")
def test_mxnet_values(case):
    """Outputs equal those MXNet 1.9.1 printed."""
    check_mxnet_outputs(case)


@pytest.mark.parametrize("name", ["MultiBoxPrior", "MultiBoxTarget", "MultiBoxDetection"])
def test_zero_gradients(name):
    """As in MXNet 1.9.1, no gradient flows through these ops: every input gets zeros."""
    check_zero_gradients(next(s for s in SPECS if s.name == f"_contrib_{name}"))


def test_symbol_shapes_and_names():
    prior = mx.sym.contrib.MultiBoxPrior(mx.sym.var("data"), sizes=(0.5, 0.25), ratios=(1, 2, 0.5))
    assert prior.infer_shape(data=(2, 8, 3, 5))[1] == [(1, 3 * 5 * 4, 4)]
    target = mx.sym.contrib.MultiBoxTarget(prior, mx.sym.var("label"), mx.sym.var("cls_pred"))
    assert [n.rsplit("_", 2)[-2] + "_" + n.rsplit("_", 1)[-1] for n in target.list_outputs()] == \
        ["loc_target", "loc_mask", "cls_target"]
    _, out_shapes, _ = target.infer_shape(data=(2, 8, 3, 5), label=(2, 4, 5), cls_pred=(2, 3, 60))
    assert out_shapes == [(2, 240), (2, 240), (2, 60)]
    detection = mx.sym.contrib.MultiBoxDetection(mx.sym.var("cls_prob"), mx.sym.var("loc_pred"), prior)
    assert detection.infer_shape(data=(2, 8, 3, 5), cls_prob=(2, 3, 60), loc_pred=(2, 240))[1] == [(2, 60, 6)]


_ANCHOR = mx.nd.array([[[0.1, 0.1, 0.5, 0.5], [0.4, 0.4, 0.9, 0.9]]])
_SCORES = mx.nd.zeros((1, 2, 2))


@pytest.mark.parametrize("call,match", [
    (lambda: mx.nd.contrib.MultiBoxPrior(mx.nd.zeros((2, 3))), r"_contrib_MultiBoxPrior.*4-d.*\(2, 3\)"),
    (lambda: mx.nd.contrib.MultiBoxPrior(mx.nd.zeros((1, 1, 2, 2)), steps=(0.1,)), r"_contrib_MultiBoxPrior.*steps"),
    (lambda: mx.nd.contrib.MultiBoxPrior(mx.nd.zeros((1, 1, 2, 2)), offsets=(0.5, 1.5)),
     r"_contrib_MultiBoxPrior.*offsets"),
    (lambda: mx.nd.contrib.MultiBoxTarget(mx.nd.zeros((2, 2, 4)), mx.nd.zeros((1, 1, 5)), _SCORES),
     r"_contrib_MultiBoxTarget.*anchor.*\(2, 2, 4\)"),
    (lambda: mx.nd.contrib.MultiBoxTarget(_ANCHOR, mx.nd.zeros((1, 1, 4)), _SCORES),
     r"_contrib_MultiBoxTarget.*label.*\(1, 1, 4\)"),
    (lambda: mx.nd.contrib.MultiBoxTarget(_ANCHOR, mx.nd.zeros((1, 1, 5)), mx.nd.zeros((1, 2, 3))),
     r"_contrib_MultiBoxTarget.*cls_pred.*\(1, 2, 3\)"),
    (lambda: mx.nd.contrib.MultiBoxTarget(_ANCHOR, mx.nd.array([[[-1, 0.1, 0.1, 0.2, 0.2]]]), _SCORES)[0].asnumpy(),
     r"_contrib_MultiBoxTarget.*padding"),
    (lambda: mx.nd.contrib.MultiBoxTarget(_ANCHOR, mx.nd.array([[[0, 0.1, 0.1, 0.5, 0.5]]]), _SCORES,
                                          negative_mining_ratio=3, negative_mining_thresh=0.01)[0].asnumpy(),
     r"_contrib_MultiBoxTarget.*fewer anchors"),
    (lambda: mx.nd.contrib.MultiBoxDetection(mx.nd.zeros((1, 3, 2)), mx.nd.zeros((1, 7)), _ANCHOR),
     r"_contrib_MultiBoxDetection.*loc_pred.*\(1, 7\)"),
    (lambda: mx.nd.contrib.MultiBoxDetection(mx.nd.zeros((1, 3, 3)), mx.nd.zeros((1, 8)), _ANCHOR),
     r"_contrib_MultiBoxDetection.*cls_prob.*\(1, 3, 3\)"),
])
def test_bad_input_is_an_mxnet_error(call, match):
    with pytest.raises(mx.MXNetError, match=match):
        call()
