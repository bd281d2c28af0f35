"""MXNet 1.9.1's contrib SSD ops on the kernels in kernels/multibox.py (CPU and CUDA): MultiBoxPrior (anchor boxes of
a feature map), MultiBoxTarget (training targets of those anchors; the labels' padding is scanned on the host) and
MultiBoxDetection (decoded, suppressed detections). As in MXNet, no gradient flows through them: their backward
functions write zeros."""
import functools

import numpy as np

from . import registry
from ._nn_common import float_type, host, kernel, on_device_of, widening
from .registry import OpDef, Param, zero_gradients



def _register(name, compute, **kw):
    """An op of this family: float types, compute(device, attrs, inputs, outputs, reqs) run through `widening` on
    each device, zero gradients."""
    registry.register(OpDef(name, infer_type=float_type, gradient=zero_gradients, grad_reads=((), ()),
                            compute={d: widening(functools.partial(compute, d)) for d in ("cpu", "gpu")}, **kw))


# --- MultiBoxPrior -------------------------------------------------------------------------------

def _prior_check(attrs):
    for name in ("sizes", "ratios"):
        if not attrs[name]:
            raise ValueError(f"{name} must hold at least one value")
    for name in ("steps", "offsets"):
        if len(attrs[name]) != 2:
            raise ValueError(f"{name} must hold 2 values (y, x), got {tuple(attrs[name])}")
    if not all(0 <= v <= 1 for v in attrs["offsets"]):
        raise ValueError(f"offsets must lie in [0, 1], got {tuple(attrs['offsets'])}")
    if attrs["steps"][0] * attrs["steps"][1] < 0:
        raise ValueError(f"steps {tuple(attrs['steps'])}: give both step_y and step_x, or neither")


def _prior_shape(attrs, shapes):
    _prior_check(attrs)
    data = shapes[0]
    if data is None:
        return shapes, [None]
    if len(data) < 4 or data[2] <= 0 or data[3] <= 0:
        raise ValueError(f"data must be 4-d (batch, channel, height, width) with height and width > 0, got "
                         f"shape {tuple(data)}")
    return shapes, [(1, data[2] * data[3] * (len(attrs["sizes"]) + len(attrs["ratios"]) - 1), 4)]


def _prior(device, attrs, inputs, outputs, reqs):
    height, width = inputs[0].shape[2:4]
    step_y, step_x = attrs["steps"]
    if step_y <= 0 or step_x <= 0:  # MXNet's -1: one step per feature-map cell
        step_y, step_x = 1.0 / height, 1.0 / width
    out = outputs[0].reshape(height, width, outputs[0].shape[1] // (height * width), 4)
    sizes, ratios = (on_device_of(out, np.array(attrs[name], np.float64)) for name in ("sizes", "ratios"))
    kernel("multibox", "prior", device)(out, sizes, ratios, step_y, step_x, *attrs["offsets"], attrs["clip"], reqs[0])


_register("_contrib_MultiBoxPrior", _prior, aliases=("_npx_multibox_prior",),
          infer_shape=_prior_shape,
          params=(Param("sizes", "floats", (1.0,), "anchor sizes, as fractions of the image"),
                  Param("ratios", "floats", (1.0,), "anchor aspect ratios (width / height)"),
                  Param("clip", "bool", False, "clip the boxes to [0, 1]"),
                  Param("steps", "floats", (-1.0, -1.0), "(step_y, step_x) between anchor centres; -1: "
                                                         "1 / feature-map size"),
                  Param("offsets", "floats", (0.5, 0.5), "(y, x) offset of the centres within a cell")),
          doc="Anchor boxes (1, H * W * (len(sizes) + len(ratios) - 1), 4) of data (N, C, H, W), corner format: "
              "per cell, every size with ratios[0], then sizes[0] with each further ratio.")


# --- MultiBoxTarget ------------------------------------------------------------------------------

def _target_shape(attrs, shapes):
    if len(attrs["variances"]) != 4:
        raise ValueError(f"variances must hold 4 values, got {tuple(attrs['variances'])}")
    if any(s is None for s in shapes):
        return shapes, [None] * 3
    anchor, label, pred = (tuple(s) for s in shapes)
    if len(anchor) != 3 or anchor[0] != 1 or anchor[1] <= 0 or anchor[2] != 4:
        raise ValueError(f"anchor must be (1, anchors, 4) boxes shared across the batch, got shape {anchor}")
    if len(label) != 3 or label[1] <= 0 or label[2] < 5:
        raise ValueError(f"label must be (batch, labels, width >= 5), got shape {label}")
    if len(pred) != 3 or pred[2] != anchor[1]:
        raise ValueError(f"cls_pred must be (batch, classes, {anchor[1]}) to match anchor {anchor}, got shape "
                         f"{pred}")
    return shapes, [(label[0], anchor[1] * 4), (label[0], anchor[1] * 4), (label[0], anchor[1])]


def _valid_labels(labels):
    """Per batch, the number of labels before the first padding row (class -1); a padding row's box must be -1
    too, as MXNet checks. Host NumPy: a scan of the small label array."""
    padding = labels[:, :, 0] == -1
    n_valid = np.where(padding.any(axis=1), padding.argmax(axis=1), labels.shape[1])
    for b, n in enumerate(n_valid):
        if n < labels.shape[1] and not (labels[b, n, 1:5] == -1).all():
            raise ValueError(f"label row {n} of batch {b} has class -1 (padding) but box "
                             f"{labels[b, n, 1:5].tolist()}; padding rows must be all -1")
    return n_valid.astype(np.int64)


def _target(device, attrs, inputs, outputs, reqs):
    anchor, labels, preds = inputs
    n_anchor = anchor.shape[1]
    if attrs["negative_mining_ratio"] > 0 and not attrs["negative_mining_thresh"] > 0:
        raise ValueError(f"negative_mining_thresh must be > 0 when mining, got {attrs['negative_mining_thresh']}")
    short = on_device_of(labels, np.zeros(labels.shape[0], np.int64))
    loc, mask, cls = outputs
    n_valid = _valid_labels(labels if host(labels) else labels.copy_to_host())
    kernel("multibox", "target", device)(anchor.reshape(n_anchor, 4), labels, on_device_of(labels, n_valid), preds,
                                         loc.reshape(loc.shape[0], n_anchor, 4),
                                         mask.reshape(mask.shape[0], n_anchor, 4), cls, attrs["overlap_threshold"],
                                         attrs["ignore_label"], attrs["negative_mining_ratio"],
                                         attrs["negative_mining_thresh"],
                                         on_device_of(labels, np.array(attrs["variances"], np.float64)), short,
                                         tuple(reqs))
    short = short if host(short) else short.copy_to_host()
    if short.any():
        raise ValueError(f"batch {int(short.argmax())} has fewer anchors below negative_mining_thresh="
                         f"{attrs['negative_mining_thresh']} than negative_mining_ratio asks for")


_register("_contrib_MultiBoxTarget", _target, aliases=("_npx_multibox_target",),
          arguments=("anchor", "label", "cls_pred"), num_outputs=3, infer_shape=_target_shape,
          output_names=("loc_target", "loc_mask", "cls_target"),
          params=(Param("overlap_threshold", "float", 0.5, "IoU above which an anchor matches a ground truth"),
                  Param("ignore_label", "float", -1.0, "class target of anchors neither positive nor negative"),
                  Param("negative_mining_ratio", "float", -1.0, "at most this many negatives per positive, the "
                                                                "hardest first (-1: every anchor not matched)"),
                  Param("negative_mining_thresh", "float", 0.5, "only anchors with a best IoU below it are mined"),
                  Param("minimum_negative_samples", "int", 0, "accepted for MXNet's signature; MXNet 1.9.1's CPU "
                                                              "op does not read it either"),
                  Param("variances", "floats", (0.1, 0.1, 0.2, 0.2), "scales of the (x, y, w, h) box targets")),
          doc="SSD training targets of anchors (1, A, 4) for labels (B, L, >= 5) rows (class, xmin, ymin, xmax, "
              "ymax; class -1 pads) and class predictions (B, classes, A): loc_target and loc_mask (B, A * 4), "
              "cls_target (B, A).")


# --- MultiBoxDetection ---------------------------------------------------------------------------

def _detection_shape(attrs, shapes):
    if len(attrs["variances"]) != 4:
        raise ValueError(f"variances must hold 4 values, got {tuple(attrs['variances'])}")
    if any(s is None for s in shapes):
        return shapes, [None]
    prob, loc, anchor = (tuple(s) for s in shapes)
    if len(anchor) != 3 or anchor[1] <= 0 or anchor[2] != 4:
        raise ValueError(f"anchor must be (1, anchors, 4), got shape {anchor}")
    if len(prob) != 3 or prob[2] != anchor[1]:
        raise ValueError(f"cls_prob must be (batch, classes, {anchor[1]}) to match anchor {anchor}, got shape {prob}")
    if len(loc) != 2 or loc[1] != 4 * anchor[1]:
        raise ValueError(f"loc_pred must be (batch, {4 * anchor[1]}) to match anchor {anchor}, got shape {loc}")
    return shapes, [(prob[0], anchor[1], 6)]


def _detection(device, attrs, inputs, outputs, reqs):
    prob, loc, anchor = inputs
    kernel("multibox", "detection", device)(prob, loc, anchor.reshape(anchor.shape[1], 4), outputs[0],
                                            attrs["threshold"], attrs["clip"],
                                            on_device_of(prob, np.array(attrs["variances"], np.float64)),
                                            attrs["nms_threshold"], attrs["force_suppress"], attrs["nms_topk"], reqs[0])


_register("_contrib_MultiBoxDetection", _detection, aliases=("_npx_multibox_detection",),
          arguments=("cls_prob", "loc_pred", "anchor"), infer_shape=_detection_shape,
          params=(Param("clip", "bool", True, "clip the boxes to [0, 1]"),
                  Param("threshold", "float", 0.01, "lowest score of a detection"),
                  Param("background_id", "int", 0, "accepted for MXNet's signature; MXNet 1.9.1's CPU op takes "
                                                   "class 0 as the background whatever it says"),
                  Param("nms_threshold", "float", 0.5, "IoU at which the lower-scored box of a class is "
                                                       "suppressed (outside (0, 1]: no NMS)"),
                  Param("force_suppress", "bool", False, "suppress across classes too"),
                  Param("variances", "floats", (0.1, 0.1, 0.2, 0.2), "scales of the (x, y, w, h) box offsets"),
                  Param("nms_topk", "int", -1, "keep only the nms_topk best detections before NMS (-1: all)")),
          doc="Detections (B, A, 6) rows (class, score, xmin, ymin, xmax, ymax) from class probabilities "
              "(B, classes, A), box offsets loc_pred (B, A * 4) and anchors (1, A, 4); dropped rows are -1.")
