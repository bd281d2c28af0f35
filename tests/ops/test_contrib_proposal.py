"""contrib Proposal and MultiProposal: OpSpecs against a NumPy float64 reference written from MXNet's description,
values printed by MXNet 1.9.1 (fixtures/detection_reference.json, written by fixtures/make_detection_fixtures.py),
MXNet's zero gradients, symbols and errors."""
import json
import os

import numpy as np
import pytest

import mxcy as mx
from tests.ops.opspec import OpSpec, check_mxnet_outputs, check_zero_gradients, spec_tests

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "detection_reference.json")
ZERO_GRAD = ("MXNet 1.9.1's backward writes zeros: proposals are a selection, piecewise constant in the scores "
             "(test_zero_gradients checks that mxcy does the same)")


def _make(batch_max):
    def make(rng):
        batch = int(rng.integers(1, batch_max + 1))
        scales = tuple(float(s) for s in rng.choice([1.0, 2.0, 4.0], int(rng.integers(1, 3)), replace=False))
        ratios = tuple(float(r) for r in rng.choice([0.5, 1.0, 2.0], int(rng.integers(1, 3)), replace=False))
        stride = int(rng.choice([4, 8, 16]))
        n_anchor, height, width = len(scales) * len(ratios), int(rng.integers(1, 4)), int(rng.integers(1, 5))
        # image sizes up to the map's, so some cells lie outside the image
        info = np.stack([rng.uniform(0.5, 1, batch) * height * stride, rng.uniform(0.5, 1, batch) * width * stride,
                         rng.uniform(0.5, 1.5, batch)], axis=1)
        attrs = {"scales": scales, "ratios": ratios, "feature_stride": stride,
                 "rpn_pre_nms_top_n": int(rng.choice([-1, 3, 50])), "rpn_post_nms_top_n": int(rng.integers(1, 9)),
                 "threshold": float(rng.uniform(0.3, 0.9)), "rpn_min_size": int(rng.integers(1, stride)),
                 "output_score": bool(rng.integers(2)), "iou_loss": bool(rng.integers(2))}
        arrays = [rng.uniform(0, 1, (batch, 2 * n_anchor, height, width)),
                  rng.normal(0, 0.3, (batch, 4 * n_anchor, height, width)), info]
        return [a.astype(np.float32) for a in arrays], attrs  # float32 only, as MXNet 1.9.1
    return make


def _anchors(stride, scales, ratios):
    """The base anchors, ratio-major: a stride x stride box reshaped to each ratio with whole-pixel sides, scaled."""
    centre = (stride - 1) / 2
    out = []
    for ratio in ratios:
        for scale in scales:
            w = np.floor(np.sqrt(np.floor(stride * stride / ratio)) + 0.5)
            h = np.floor(w * ratio + 0.5)
            w, h = w * scale, h * scale
            out.append([centre - (w - 1) / 2, centre - (h - 1) / 2, centre + (w - 1) / 2, centre + (h - 1) / 2])
    return np.array(out)


def _iou(a, b):
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]) + 1)
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]) + 1)
    area = lambda r: (r[2] - r[0] + 1) * (r[3] - r[1] + 1)  # noqa: E731
    return w * h / (area(a) + area(b) - w * h)


def _image(scores, deltas, info, anchors, stride, attrs):
    """(rows, scores) of one image."""
    A, (H, W) = len(anchors), scores.shape[1:]
    boxes = []
    for h in range(H):
        for w in range(W):
            for a in range(A):
                box = anchors[a] + stride * np.array([w, h, w, h])
                d = deltas[4 * a:4 * a + 4, h, w]
                if attrs["iou_loss"]:
                    box = box + d
                else:
                    size = box[2:] - box[:2] + 1
                    centre = box[:2] + (size - 1) / 2 + d[:2] * size
                    size = np.exp(d[2:]) * size
                    box = np.concatenate([centre - (size - 1) / 2, centre + (size - 1) / 2])
                box = np.clip(box, 0, [info[1] - 1, info[0] - 1] * 2)
                score = scores[A + a, h, w] if h < int(info[0] / stride) and w < int(info[1] / stride) else -1
                small = attrs["rpn_min_size"] * info[2]
                if min(box[2:] - box[:2] + 1) < small:
                    box, score = box + np.array([-1, -1, 1, 1]) * small / 2, -1
                boxes.append(np.append(box, score))
    boxes = np.array(boxes)
    ranked = boxes[np.argsort(-boxes[:, 4], kind="stable")]
    pre = attrs["rpn_pre_nms_top_n"]
    ranked = ranked[:pre] if pre > 0 else ranked
    post = min(attrs["rpn_post_nms_top_n"], len(ranked))
    kept = []
    for box in ranked:
        if len(kept) == post:
            break
        if all(_iou(k, box) <= attrs["threshold"] for k in kept):
            kept.append(box)
    rows = np.array([kept[i % len(kept)] for i in range(attrs["rpn_post_nms_top_n"])])
    return rows[:, :4], rows[:, 4:]


def _reference(single_image):
    def reference(cls_prob, bbox_pred, im_info, **kw):
        attrs = {"rpn_pre_nms_top_n": 6000, "rpn_post_nms_top_n": 300, "threshold": 0.7, "rpn_min_size": 16,
                 "scales": (4, 8, 16, 32), "ratios": (0.5, 1, 2), "feature_stride": 16, "output_score": False,
                 "iou_loss": False}
        attrs.update(kw)
        anchors, stride = _anchors(attrs["feature_stride"], attrs["scales"], attrs["ratios"]), attrs["feature_stride"]
        rows, scores = [], []
        for b in range(len(cls_prob)):
            boxes, score = _image(cls_prob[b], bbox_pred[b], im_info[b], anchors, stride, attrs)
            rows.append(np.concatenate([np.full((len(boxes), 1), 0 if single_image else b), boxes], axis=1))
            scores.append(score)
        rows, scores = np.concatenate(rows), np.concatenate(scores)
        return (rows, scores) if attrs["output_score"] else rows
    return reference


SPECS = [
    OpSpec("_contrib_Proposal", _make(1), _reference(True), grad=False, why=ZERO_GRAD, rtol=1e-5, atol=2e-4),
    OpSpec("_contrib_MultiProposal", _make(2), _reference(False), grad=False, why=ZERO_GRAD, rtol=1e-5, atol=2e-4),
]

test_forward, test_gradient, test_req_add = spec_tests(SPECS)


def _cases():
    with open(FIXTURE) as f:
        return [c for c in json.load(f)["cases"] if c["op"] in ("Proposal", "MultiProposal")]


@pytest.mark.parametrize("case", _cases(), ids=lambda c: f"{c['op']}-{c['kwargs']}")
def test_mxnet_values(case):
    """Outputs equal those MXNet 1.9.1 printed."""
    check_mxnet_outputs(case, atol=1e-4)


@pytest.mark.parametrize("spec", SPECS, ids=repr)
def test_zero_gradients(spec):
    """As in MXNet 1.9.1, no gradient flows through these ops: every input gets zeros."""
    check_zero_gradients(spec)


def test_symbol_shapes_and_outputs():
    prop = mx.sym.contrib.Proposal(mx.sym.var("c"), mx.sym.var("b"), mx.sym.var("i"))
    assert prop.list_arguments() == ["c", "b", "i"] and prop.list_outputs() == ["proposal0_output"]
    assert prop.infer_shape(c=(1, 24, 5, 5)) == ([(1, 24, 5, 5), (1, 48, 5, 5), (1, 3)], [(300, 5)], [])
    multi = mx.sym.contrib.MultiProposal(mx.sym.var("c"), mx.sym.var("b"), mx.sym.var("i"), output_score=True,
                                         rpn_post_nms_top_n=7, name="mp")
    assert multi.list_outputs() == ["mp_output", "mp_score"]
    assert multi.infer_shape(c=(2, 24, 5, 5))[1] == [(14, 5), (14, 1)]


_INFO = mx.nd.array([[32, 32, 1]])


@pytest.mark.parametrize("call,match", [
    (lambda: mx.nd.contrib.Proposal(mx.nd.zeros((2, 24, 2, 2)), mx.nd.zeros((2, 48, 2, 2)), mx.nd.zeros((2, 3))),
     r"_contrib_Proposal.*cls_prob.*\(2, 24, 2, 2\).*batch 1"),
    (lambda: mx.nd.contrib.Proposal(mx.nd.zeros((1, 6, 2, 2)), mx.nd.zeros((1, 12, 2, 2)), _INFO),
     r"_contrib_Proposal.*cls_prob.*2 \* 12 anchors.*\(1, 6, 2, 2\)"),
    (lambda: mx.nd.contrib.MultiProposal(mx.nd.zeros((1, 4, 2, 2)), mx.nd.zeros((1, 4, 2, 2)), _INFO, scales=(1, 2),
                                         ratios=(1,)), r"_contrib_MultiProposal.*bbox_pred.*\(1, 8, 2, 2\).*\(1, 4, 2, 2\)"),
    (lambda: mx.nd.contrib.MultiProposal(mx.nd.zeros((1, 2, 2, 2)), mx.nd.zeros((1, 4, 2, 2)), _INFO, scales=(1,),
                                         ratios=(1,), rpn_post_nms_top_n=0), r"_contrib_MultiProposal.*rpn_post_nms_top_n"),
    (lambda: mx.nd.contrib.Proposal(mx.nd.zeros((1, 2, 2, 2), dtype="float64"), mx.nd.zeros((1, 4, 2, 2)), _INFO,
                                    scales=(1,), ratios=(1,)), r"_contrib_Proposal.*float32.*float64"),
    (lambda: mx.nd.contrib.Proposal(mx.nd.zeros((1, 2, 1, 1)), mx.nd.zeros((1, 4, 1, 1)), _INFO, scales=(1,),
                                    ratios=(1,)).asnumpy(), r"_contrib_Proposal.*im_info.*2 x 2 cells.*1 x 1"),
])
def test_bad_input_is_an_mxnet_error(call, match):
    with pytest.raises(mx.MXNetError, match=match):
        call()


@pytest.mark.parametrize("out_grads", [None, [mx.nd.ones((3, 5))]])
def test_executor_backward_ignores_the_head_gradient(out_grads):
    """The zero gradients never read the head gradient, so as in MXNet 1.9.1 an Executor's backward needs none and
    does not check its shape (MXNet's own test_multi_proposal_op passes one of the wrong shape)."""
    make = next(s for s in SPECS if s.name == "_contrib_MultiProposal").make
    arrays, attrs = make(np.random.default_rng(5))
    names = ("cls_prob", "bbox_pred", "im_info")
    sym = mx.sym.contrib.MultiProposal(*[mx.sym.var(n) for n in names], **attrs)
    args = {n: mx.nd.array(a) for n, a in zip(names, arrays)}
    ex = sym.bind(mx.cpu(), args, args_grad={n: mx.nd.ones(a.shape) for n, a in args.items()})
    ex.forward(is_train=True)
    ex.backward(out_grads)
    assert all(not g.asnumpy().any() for g in ex.grad_dict.values())
