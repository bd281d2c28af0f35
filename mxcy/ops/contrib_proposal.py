"""MXNet 1.9.1's contrib Proposal and MultiProposal (Faster R-CNN's region proposal layer) on kernels/proposal.py, CPU
and CUDA. float32 only, as MXNet's; as in MXNet no gradient flows through them (their backward writes zeros)."""
import functools

import numpy as np

from . import registry
from ._nn_common import kernel, on_device_of, widening
from .registry import OpDef, Param, zero_gradients



def _float32_only(attrs, types):
    """MXNet 1.9.1 runs these ops in float32 only (its legacy default type rule refuses any other type)."""
    for name, t in zip(("cls_prob", "bbox_pred", "im_info"), types):
        if t is not None and np.dtype(t) != np.float32:
            raise ValueError(f"{name} must be float32 (MXNet 1.9.1 supports no other type here), got "
                             f"{np.dtype(t).name}")
    return [np.dtype(np.float32)] * 3, [np.dtype(np.float32)] * 2


def base_anchors(feature_stride, scales, ratios):
    """(len(ratios) * len(scales), 4) anchors of the cell at the origin, ratio-major, in MXNet's float32 rounding:
    the stride x stride box reshaped to each ratio (sides rounded to whole pixels) and scaled. Host NumPy: a few
    numbers per call."""
    f = np.float32
    side = f(feature_stride)
    centre = f(0.5) * (side - f(1))
    rows = []
    for ratio in ratios:
        for scale in scales:
            w = np.floor(np.sqrt(np.floor(side * side / f(ratio))) + f(0.5)) * f(scale)
            h = np.floor(w / f(scale) * f(ratio) + f(0.5)) * f(scale)
            rows.append([centre - f(0.5) * (w - f(1)), centre - f(0.5) * (h - f(1)),
                         centre + f(0.5) * (w - f(1)), centre + f(0.5) * (h - f(1))])
    return np.array(rows, np.float32)


def _shape_rule(single_image):
    def infer(attrs, shapes):
        post, n_anchor = attrs["rpn_post_nms_top_n"], len(attrs["scales"]) * len(attrs["ratios"])
        if post <= 0 or attrs["feature_stride"] <= 0 or not n_anchor:
            raise ValueError(f"rpn_post_nms_top_n ({post}) and feature_stride ({attrs['feature_stride']}) must be "
                             f"positive and scales {tuple(attrs['scales'])}, ratios {tuple(attrs['ratios'])} "
                             "non-empty")
        scores = shapes[0]
        if scores is None:
            return shapes, [None, None]
        scores = tuple(scores)
        if len(scores) != 4 or min(scores) <= 0 or scores[1] != 2 * n_anchor:
            raise ValueError(f"cls_prob must be (batch, 2 * {n_anchor} anchors (len(scales) * len(ratios)), height, "
                             f"width), got shape {scores}")
        if single_image and scores[0] != 1:
            raise ValueError(f"cls_prob {scores}: Proposal takes one image (batch 1), as MXNet 1.9.1; use "
                             "MultiProposal for several")
        want = {"bbox_pred": (scores[0], 2 * scores[1]) + scores[2:], "im_info": (scores[0], 3)}
        for i, name in ((1, "bbox_pred"), (2, "im_info")):
            if shapes[i] is not None and tuple(shapes[i]) != want[name]:
                raise ValueError(f"{name} must have shape {want[name]} for cls_prob {scores}, got {tuple(shapes[i])}")
        rows = scores[0] * post
        return [scores, want["bbox_pred"], want["im_info"]], [(rows, 5), (rows, 1)]
    return infer


def _compute(device, single_image, attrs, inputs, outputs, reqs):
    scores, deltas, im_info = inputs
    stride = attrs["feature_stride"]
    if device == "cpu":  # MXNet's check; a GPU run leaves im_info on the device (no cell is then out of the image)
        rows, cols = (im_info[:, :2] / np.float32(stride)).astype(np.int64).max(axis=0)
        if rows > scores.shape[2] or cols > scores.shape[3]:
            raise ValueError(f"im_info {im_info.tolist()} over feature_stride {stride} spans {rows} x {cols} "
                             f"cells, more than the feature map's {scores.shape[2]} x {scores.shape[3]}")
    anchors = on_device_of(scores, base_anchors(stride, attrs["scales"], attrs["ratios"]))
    kernel("proposal", "proposals", device)(
        scores, deltas, im_info, anchors, *outputs, stride, attrs["iou_loss"], attrs["rpn_min_size"],
        attrs["threshold"], attrs["rpn_pre_nms_top_n"], attrs["rpn_post_nms_top_n"], single_image)


_PARAMS = (
    Param("rpn_pre_nms_top_n", "int", 6000, "boxes of the best scores kept before NMS, per image (not positive: all)"),
    Param("rpn_post_nms_top_n", "int", 300, "rows per image after NMS (fewer kept boxes are repeated cyclically)"),
    Param("threshold", "float", 0.7, "IoU above which NMS suppresses the lower-scored box"),
    Param("rpn_min_size", "int", 16, "boxes with a side below rpn_min_size * im_info's scale get score -1"),
    Param("scales", "floats", (4.0, 8.0, 16.0, 32.0), "anchor scales (multiples of feature_stride)"),
    Param("ratios", "floats", (0.5, 1.0, 2.0), "anchor aspect ratios (height / width)"),
    Param("feature_stride", "int", 16, "image pixels per feature-map cell"),
    Param("output_score", "bool", False, "also return the scores (batch * rpn_post_nms_top_n, 1)"),
    Param("iou_loss", "bool", False, "bbox_pred moves the corners (IoU loss) instead of centre and log-size"),
)


def _register(name, single_image, doc):
    registry.register(OpDef(
        name, params=_PARAMS, arguments=("cls_prob", "bbox_pred", "im_info"), num_outputs=2,
        visible_outputs=lambda attrs: 2 if attrs["output_score"] else 1, output_names=("output", "score"),
        infer_shape=_shape_rule(single_image), infer_type=_float32_only, gradient=zero_gradients,
        grad_reads=((), ()), doc=doc, loss=True,  # the zero gradients ignore the head gradient
        # the kernels write every row, so req add goes through temporaries
        compute={d: widening(functools.partial(_compute, d, single_image), exact=(False, False))
                 for d in ("cpu", "gpu")}))


_DOC = ("Region proposals of Faster R-CNN's RPN: anchors (scales x ratios around each cell of a feature_stride "
        "grid) moved by bbox_pred (batch, 4A, H, W), clipped to the image (im_info rows: height, width, scale), "
        "scored by cls_prob's foreground half (batch, 2A, H, W); per image the rpn_pre_nms_top_n best go through NMS "
        "and rpn_post_nms_top_n rows (batch index, x1, y1, x2, y2) come out (score: the box's score). float32; no "
        "gradient flows back (zeros), as in MXNet 1.9.1.")
_register("_contrib_Proposal", True, _DOC + " One image (batch 1); its rows say batch 0.")
_register("_contrib_MultiProposal", False, _DOC + " Any batch; image b's rows say b.")
