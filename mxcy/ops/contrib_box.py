"""MXNet 1.9.1's contrib bounding-box ops for detection on the kernels in kernels/box.py: box_iou, box_nms (alias
box_non_maximum_suppression, with its hidden gradient scatter), bipartite_matching, box_encode and box_decode.
As in MXNet, only box_nms passes gradients back; the others give zero gradients."""
import math

from . import registry
from ._nn_common import float_type, kernel, kernel_compute
from .registry import OpDef, Param, zero_gradients

_FORMATS = ("corner", "center")


def _kernel(name, device):
    return kernel("box", name, device)


def _format(name, default, what):
    return Param(name, "str", default, f"{what} box encoding: corner (xmin, ymin, xmax, ymax) or center "
                                       "(x, y, width, height)", choices=_FORMATS)



def _register(name, compute, exact=None, gradient=zero_gradients, grad_reads=((), ()), **kw):
    """An op of this family: float types, compute(device, attrs, inputs, outputs, reqs) on both devices through
    `kernel_compute`, zero gradients unless told."""
    registry.register(OpDef(name, infer_type=float_type, compute=kernel_compute(compute, exact), gradient=gradient,
                            grad_reads=grad_reads, **kw))


def _boxes_last(name, shape, ndim=2, exact=False):
    """Check that `shape` is at least (exactly when `exact`) `ndim`-dimensional and ends in 4 box numbers."""
    if len(shape) < ndim or (exact and len(shape) != ndim) or shape[-1] != 4:
        raise ValueError(f"{name} must have {'' if exact else 'at least '}{ndim} dimensions, the last of size 4 "
                         f"(one box), got shape {tuple(shape)}")


# --- box_iou -------------------------------------------------------------------------------------

def _iou_shape(attrs, shapes):
    lhs, rhs = shapes
    if lhs is None or rhs is None:
        return shapes, [None]
    _boxes_last("lhs", lhs)
    _boxes_last("rhs", rhs)
    return shapes, [tuple(lhs[:-1]) + tuple(rhs[:-1])]


def _iou(device, attrs, inputs, outputs, reqs):
    lhs, rhs = inputs
    out = outputs[0].reshape(lhs.size // 4, rhs.size // 4)
    _kernel("iou", device)(lhs.reshape(lhs.size), rhs.reshape(rhs.size), out, attrs["format"] == "center", reqs[0])


_register("_contrib_box_iou", _iou, arguments=("lhs", "rhs"), infer_shape=_iou_shape,
          params=(_format("format", "corner", "the"),),
          doc="Intersection over union of every box of lhs (..., 4) with every box of rhs (..., 4): shape "
              "lhs.shape[:-1] + rhs.shape[:-1].")


# --- box_nms -------------------------------------------------------------------------------------

def _nms_check(attrs, width):
    """MXNet's checks of the column indices against the box width."""
    coord, score, cls = attrs["coord_start"], attrs["score_index"], attrs["id_index"]
    need = 6 if cls >= 0 else 5
    if width < need:
        raise ValueError(f"the last dimension must hold at least {need} numbers (score, 4 coordinates"
                         f"{', class id' if cls >= 0 else ''}), got {width}")
    if not 0 <= coord <= width - 4:
        raise ValueError(f"coord_start={coord}: coordinates {coord}..{coord + 3} are outside the width {width}")
    for name, index in (("score_index", score), ("id_index", cls)):
        if name == "id_index" and index < 0:
            continue
        if not 0 <= index < width:
            raise ValueError(f"{name}={index} is outside the width {width}")
        if coord <= index <= coord + 3:
            raise ValueError(f"{name}={index} falls inside the coordinates {coord}..{coord + 3}")
    if cls == score and cls >= 0:
        raise ValueError(f"id_index={cls} equals score_index")


def _nms_shape(attrs, shapes):
    data = shapes[0]
    if data is None:
        return shapes, [None, None]
    data = tuple(data)
    if len(data) < 2:
        raise ValueError(f"data must have at least 2 dimensions (..., boxes, box width), got shape {data}")
    _nms_check(attrs, data[-1])
    return shapes, [data, data[:-1] + (1,)]


def _nms(device, attrs, inputs, outputs, reqs):
    data = inputs[0]
    *lead, n, width = data.shape  # unpacked: the CUDA simulator's shapes take no negative index
    batch = math.prod(lead)
    data = data.reshape(batch, n, width)
    out, record = outputs[0].reshape(batch, n, width), outputs[1].reshape(batch, n)
    topk = n if attrs["topk"] < 0 else min(n, attrs["topk"])
    dtype = data.dtype.type  # MXNet compares scores and ids with the thresholds cast to the data's type
    _kernel("nms", device)(data, out, record, topk, dtype(attrs["valid_thresh"]), attrs["overlap_thresh"],
                   attrs["coord_start"], attrs["score_index"], attrs["id_index"], dtype(attrs["background_id"]),
                   attrs["force_suppress"], attrs["in_format"] == "center")
    if attrs["in_format"] != attrs["out_format"]:
        _kernel("convert_boxes", device)(out, attrs["coord_start"], attrs["out_format"] == "center")


def _nms_gradient(F, attrs, inputs, outputs, ograds):
    return [F._backward_contrib_box_nms(ograds[0], outputs[1])]


_register("_contrib_box_nms", _nms, exact=(False, False), gradient=_nms_gradient, grad_reads=((), (1,)),
          aliases=("_contrib_box_non_maximum_suppression",), num_outputs=2, visible_outputs=1, infer_shape=_nms_shape,
          params=(Param("overlap_thresh", "float", 0.5, "IoU above which the lower-scored box is suppressed"),
                  Param("valid_thresh", "float", 0.0, "only boxes scoring above this take part"),
                  Param("topk", "int", -1, "keep only the topk best-scoring boxes per batch before NMS (-1: all)"),
                  Param("coord_start", "int", 2, "column of the first of the 4 coordinates"),
                  Param("score_index", "int", 1, "column of the score"),
                  Param("id_index", "int", -1, "column of the class id (-1: no classes)"),
                  Param("background_id", "int", -1, "class id that is ignored (with id_index >= 0)"),
                  Param("force_suppress", "bool", False, "suppress across classes too"),
                  _format("in_format", "corner", "input"), _format("out_format", "corner", "output")),
          doc="Non-maximum suppression per batch of data (..., boxes, width): the kept boxes, best score first, "
              "packed to the top; the other rows are -1.")


def _nms_scatter_shape(attrs, shapes):
    ograd, record = shapes
    if ograd is None:
        return shapes, [None]
    if record is not None and tuple(record) != tuple(ograd[:-1]) + (1,):
        raise ValueError(f"record must have shape {tuple(ograd[:-1]) + (1,)}, got {tuple(record)}")
    return shapes, [tuple(ograd)]


def _nms_scatter(device, attrs, inputs, outputs, reqs):
    ograd, record = inputs
    width = tuple(ograd.shape)[-1]  # the CUDA simulator's shapes take no negative index
    rows = ograd.size // width  # explicit sizes: the CUDA simulator's reshape takes no -1
    _kernel("nms_scatter", device)(ograd.reshape(rows, width), record.reshape(rows), outputs[0].reshape(rows, width),
                                   reqs[0])


_register("_backward_contrib_box_nms", _nms_scatter, gradient=None, arguments=("ograd", "record"),
          infer_shape=_nms_scatter_shape,
          doc="box_nms's gradient: each output row's gradient goes back to the input row it was copied from "
              "(record, box_nms's hidden output); rows NMS dropped get 0.")


# --- bipartite_matching --------------------------------------------------------------------------

def _matching_shape(attrs, shapes):
    data = shapes[0]
    if data is None:
        return shapes, [None, None]
    data = tuple(data)
    if len(data) < 2:
        raise ValueError(f"the score matrix must have at least 2 dimensions (..., rows, cols), got shape {data}")
    return shapes, [data[:-1], data[:-2] + data[-1:]]


def _matching(device, attrs, inputs, outputs, reqs):
    scores = inputs[0]
    *lead, rows, cols = scores.shape
    batch = math.prod(lead)
    _kernel("bipartite_matching", device)(scores.reshape(batch, rows, cols), outputs[0].reshape(batch, rows),
                                  outputs[1].reshape(batch, cols), attrs["threshold"], attrs["is_ascend"],
                                  attrs["topk"], reqs[0], reqs[1])


_register("_contrib_bipartite_matching", _matching, num_outputs=2, infer_shape=_matching_shape,
          params=(Param("is_ascend", "bool", False, "match lower scores first (set threshold to match)"),
                  Param("threshold", "float", doc="scores at or below it (above it when is_ascend) are not matched"),
                  Param("topk", "int", -1, "stop after topk matches (MXNet 1.9.1 keeps the topk + 1-th); -1: no "
                                           "limit")),
          doc="Greedy bipartite matching of a score matrix (..., rows, cols): each row's column and each column's "
              "row, -1 where unmatched.")


# --- box_encode / box_decode ---------------------------------------------------------------------

def _encode_shape(attrs, shapes):
    if any(s is None for s in shapes[:4]):
        return shapes, [None, None]
    samples, matches, anchors, refs = (tuple(s) for s in shapes[:4])
    _boxes_last("anchors", anchors, 3, exact=True)
    _boxes_last("refs", refs, 3, exact=True)
    if samples != anchors[:2] or matches != anchors[:2] or refs[0] != anchors[0]:
        raise ValueError(f"samples {samples} and matches {matches} must be (batch, anchors) = {anchors[:2]} and "
                         f"refs {refs} must have the anchors' batch size")
    shapes = list(shapes)
    for i, name in ((4, "means"), (5, "stds")):
        if shapes[i] is not None and tuple(shapes[i]) != (4,):
            raise ValueError(f"{name} must have shape (4,), got {tuple(shapes[i])}")
        shapes[i] = (4,)
    return shapes, [anchors, anchors]


def _encode(device, attrs, inputs, outputs, reqs):
    samples, matches, anchors, refs, means, stds = inputs
    used = matches[samples > 0.5] if device == "cpu" else ()  # a GPU kernel writes NaN targets instead
    if len(used) and not (0 <= used.min() and used.max() < refs.shape[1]):
        raise ValueError(f"matches of positive samples must index the {refs.shape[1]} refs, got values from "
                         f"{used.min()} to {used.max()}")
    _kernel("box_encode", device)(samples, matches, anchors, refs, means, stds, *outputs, *reqs)


_register("_contrib_box_encode", _encode, arguments=("samples", "matches", "anchors", "refs", "means", "stds"),
          num_outputs=2, infer_shape=_encode_shape,
          doc="Regression targets (and their masks) of anchors (B, N, 4) towards their matched refs (B, M, 4), "
              "for samples > 0.5, normalised by means and stds (4,); corner boxes.")


def _decode_shape(attrs, shapes):
    data, anchors = shapes
    if data is None:
        return shapes, [None]
    _boxes_last("data", data, 3, exact=True)
    if anchors is not None:
        _boxes_last("anchors", anchors, 3)
        if math.prod(anchors[:-1]) < data[1]:
            raise ValueError(f"anchors {tuple(anchors)} hold fewer than the {data[1]} boxes of data {tuple(data)}")
    return shapes, [tuple(data)]


def _decode(device, attrs, inputs, outputs, reqs):
    data, anchors = inputs
    stds = tuple(attrs[f"std{i}"] for i in range(4))
    # MXNet reads the first N anchors whatever the anchors' leading shape
    first = anchors.reshape(anchors.size // 4, 4)[:data.shape[1]]
    _kernel("box_decode", device)(data, first, stds, data.dtype.type(attrs["clip"]), attrs["format"] == "center",
                                  outputs[0], reqs[0])


_register("_contrib_box_decode", _decode, arguments=("data", "anchors"), infer_shape=_decode_shape,
          params=tuple(Param(f"std{i}", "float", 1.0, f"scale of offset {i}") for i in range(4)) +
          (Param("clip", "float", -1.0, "cap of the log-size offsets when > 0"),
           _format("format", "center", "the anchors'")),
          doc="Corner boxes (B, N, 4) from offsets data (B, N, 4) relative to anchors (1, N, 4).")
