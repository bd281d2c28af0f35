"""Loss layers: SoftmaxOutput (Softmax), Linear/Logistic/MAERegressionOutput, MakeLoss, make_loss, whose gradients
ignore the head gradient as MXNet's do, and softmax_cross_entropy, whose gradient scales by it."""
import numpy as np

from . import registry
from ._nn_common import flat, float_type, kernel_compute, kernels, put, scratch
from .nn_activation import _act_forward, softmax_forward
from .partial_shape import batch_free
from .registry import OpDef, Param


def _identity(attrs, inputs, outputs, reqs):
    put(outputs[0], inputs[0], reqs[0])


# --- SoftmaxOutput -----------------------------------------------------------------------------

_SOFTMAX_OUTPUT_PARAMS = (
    Param("grad_scale", "float", 1.0, "scales the gradient"),
    Param("ignore_label", "float", -1.0, "label whose rows get no gradient when use_ignore"),
    Param("multi_output", "bool", False, "softmax along axis 1, one label per position of the other axes"),
    Param("use_ignore", "bool", False, "zero the gradient of rows labelled ignore_label"),
    Param("preserve_shape", "bool", False, "softmax along the last axis instead of over all but the first"),
    Param("normalization", "str", "null", "divide the gradient by 1 (null), the label count (batch), or the "
          "count of labels other than ignore_label (valid)", choices=("batch", "null", "valid")),
    Param("out_grad", "bool", False, "multiply the gradient by the head gradient"),
    Param("smooth_alpha", "float", 0.0, "label smoothing: targets 1 - alpha and alpha / (classes - 1)"),
)


def _softmax_output_infer(attrs, shapes):
    data, label = shapes
    if data is None:
        return shapes, [None]
    data = tuple(data)
    if len(data) < 2:
        raise ValueError(f"data must have a batch axis and a class axis (ndim >= 2), got shape {data}")
    if label is not None and tuple(label) == data:
        return shapes, [data]  # probabilities as labels
    if attrs["multi_output"]:
        n, rest = data[0], data[2:]
        options = [(n, int(np.prod(rest, dtype=np.int64))), (n,) + rest, (n, 1) + rest]
    else:
        options = [data[:-1]]
    if label is None:
        label = options[0]
    elif tuple(label) not in options:
        raise ValueError(f"label of shape {tuple(label)} does not match data of shape {data}"
                         + (" with multi_output" if attrs["multi_output"] else "") + ": expected "
                         + " or ".join(map(str, options[:2])) + f", or the data shape {data}")
    return [data, tuple(label)], [data]


def _softmax_output_view(attrs, shape):
    """(outer, classes, inner) view of data that the softmax runs along the middle of."""
    size = int(np.prod(shape, dtype=np.int64))
    if attrs["multi_output"]:
        return shape[0], shape[1], size // (shape[0] * shape[1])
    if attrs["preserve_shape"]:
        return size // shape[len(shape) - 1], shape[len(shape) - 1], 1  # a device array's shape: no [-1]
    return shape[0], size // shape[0], 1  # MXNet flattens all but the first axis


def _softmax_output_compute(attrs, inputs, outputs, reqs):
    x = inputs[0]
    softmax_forward(x, outputs[0], _softmax_output_view(attrs, x.shape), None, 1.0, "softmax", reqs[0])


def _softmax_output_back_body(device, attrs, inputs, outputs, reqs):
    """MXNet's SoftmaxOutput backward (kernels.loss). Labels are truncated to integers. Without multi_output only
    the first `rows` labels are read (MXNet reads label i for row i of the flattened data), but the batch and valid
    counts use them all."""
    ograd, out, label = inputs
    view = _softmax_output_view(attrs, out.shape)
    dense = tuple(label.shape) == tuple(out.shape)  # probabilities as labels: no normalization
    alpha, norm, k = attrs["smooth_alpha"], attrs["normalization"], kernels("loss")
    with np.errstate(divide="ignore"):
        off = np.float64(alpha) / (view[1] - 1) if alpha else 0.0
    count, valid_count = 1, scratch(out, np.float64, (0,))
    if norm == "batch":
        count = label.shape[0] if attrs["multi_output"] else label.size
    elif norm == "valid" and not dense:
        valid_count = scratch(out, np.float64, (1,))
        getattr(k, f"count_valid_{device}")(flat(label), int(attrs["ignore_label"]), valid_count)
    if attrs["multi_output"] and norm != "valid":
        count *= view[2]
    getattr(k, f"softmax_output_grad_{device}")(
        out.reshape(view), flat(label), ograd.reshape(view), outputs[0].reshape(view), dense, 1.0 - alpha,
        float(off), int(attrs["ignore_label"]), attrs["use_ignore"], attrs["grad_scale"], float(count), valid_count,
        attrs["out_grad"], reqs[0])


registry.register(OpDef(
    "SoftmaxOutput", params=_SOFTMAX_OUTPUT_PARAMS, arguments=("data", "label"), aliases=("Softmax",), loss=True,
    infer_shape=batch_free(_softmax_output_infer), partial_shapes=True, infer_type=float_type,
    compute={"cpu": _softmax_output_compute, "gpu": _softmax_output_compute},
    gradient=lambda F, attrs, inputs, outputs, ograds: [
        F._backward_SoftmaxOutput(ograds[0], outputs[0], inputs[1], **attrs), None],
    doc="Softmax with a cross-entropy gradient: forward softmax over all axes but the first (along the last with "
        "preserve_shape, along axis 1 with multi_output); backward (softmax - one_hot(label)) * grad_scale / "
        "normalizer, ignoring the head gradient unless out_grad."))
registry.register(OpDef(
    "_backward_SoftmaxOutput", params=_SOFTMAX_OUTPUT_PARAMS, arguments=("ograd", "output", "label"),
    infer_shape=lambda attrs, shapes: (shapes, [shapes[1]]), infer_type=lambda attrs, types: (types, types[1]),
    compute=kernel_compute(_softmax_output_back_body),
    doc="SoftmaxOutput's gradient from its output and label."))


# --- regression outputs ----------------------------------------------------------------------

def _regression_infer(attrs, shapes):
    data, label = shapes
    if data is None:
        return shapes, [None]
    data = tuple(data)
    if label is None:
        # A (batch, 1) output takes a (batch,) label by default, as in MXNet.
        label = (data[0],) if len(data) == 2 and data[1] == 1 else data
    elif not (len(label) and label[0] == data[0] and np.prod(label) == np.prod(data)):
        raise ValueError(f"label of shape {tuple(label)} does not match data of shape {data}: expected the "
                         "same first axis and size")
    return [data, tuple(label)], [data]


def _regression_gradient(mae):
    def gradient(F, attrs, inputs, outputs, ograds):
        out, label = outputs[0], inputs[1]
        diff = F.elemwise_sub(out, F.Reshape(label, shape=out.shape))
        if mae:
            diff = F.sign(diff)
        per_sample = label.size // label.shape[0]  # MXNet divides by the label elements per sample
        return [F._mul_scalar(diff, scalar=attrs["grad_scale"] / per_sample), None]
    return gradient


def _logistic_compute(attrs, inputs, outputs, reqs):
    _act_forward(inputs[0], outputs[0], "sigmoid", 0.0, reqs[0])


for _name, _compute, _mae, _doc in (
        ("LinearRegressionOutput", _identity, False, "identity forward; gradient (output - label)"),
        ("LogisticRegressionOutput", _logistic_compute, False, "sigmoid forward; gradient (output - label)"),
        ("MAERegressionOutput", _identity, True, "identity forward; gradient sign(output - label)")):
    registry.register(OpDef(
        _name, params=(Param("grad_scale", "float", 1.0, "scales the gradient"),), arguments=("data", "label"),
        infer_shape=_regression_infer, infer_type=float_type, compute={"cpu": _compute, "gpu": _compute},
        gradient=_regression_gradient(_mae), loss=True,
        doc=f"Regression loss layer: {_doc} * grad_scale / (label elements per sample); the head gradient is "
            "ignored."))


# --- MakeLoss, make_loss ---------------------------------------------------------------------

def _make_loss_gradient(F, attrs, inputs, outputs, ograds):
    x, scale = inputs[0], attrs["grad_scale"]
    if attrs["normalization"] == "batch":
        scale /= x.shape[0]
    grad = F._mul_scalar(F.ones_like(x), scalar=scale)
    if attrs["normalization"] == "valid":
        valid = F._maximum_scalar(F.sum(F._greater_scalar(x, scalar=attrs["valid_thresh"])), scalar=1)
        grad = F.broadcast_div(grad, valid)
    return [grad]


registry.register(OpDef(
    "MakeLoss",
    params=(Param("grad_scale", "float", 1.0, "the gradient of every element"),
            Param("valid_thresh", "float", 0.0, "elements above it count as valid for normalization='valid'"),
            Param("normalization", "str", "null", "divide the gradient by 1 (null), the batch size (batch) or the "
                  "count of valid elements (valid)", choices=("batch", "null", "valid"))),
    infer_shape=lambda attrs, shapes: (shapes, [shapes[0]]), compute={"cpu": _identity, "gpu": _identity},
    gradient=_make_loss_gradient, loss=True,
    doc="Marks data as a loss: identity forward; the gradient is grad_scale / normalizer, whatever the head "
        "gradient."))
registry.register(OpDef(
    "make_loss", output_names=("loss",), loss=True, infer_shape=lambda attrs, shapes: (shapes, [shapes[0]]),
    compute={"cpu": _identity, "gpu": _identity},
    gradient=lambda F, attrs, inputs, outputs, ograds: [F.ones_like(inputs[0])],
    doc="Marks data as a loss: identity forward; the gradient is ones, whatever the head gradient."))


# --- softmax_cross_entropy -------------------------------------------------------------------

def _cross_entropy_infer(attrs, shapes):
    data, label = shapes
    if data is None:
        return shapes, [(1,)]
    if len(data) != 2:
        raise ValueError(f"data must be 2-D (batch, classes), got shape {tuple(data)}")
    if label is None:
        label = (data[0],)
    elif tuple(label) != (data[0],):
        raise ValueError(f"label of shape {tuple(label)} does not match data of shape {tuple(data)}: expected "
                         f"({data[0]},)")
    return [tuple(data), tuple(label)], [(1,)]


def _cross_entropy_body(device, attrs, inputs, outputs, reqs):
    x, label = inputs
    getattr(kernels("loss"), f"cross_entropy_{device}")(x, flat(label), outputs[0], reqs[0])


def _cross_entropy_back_body(device, attrs, inputs, outputs, reqs):
    ograd, x, label = inputs
    getattr(kernels("loss"), f"cross_entropy_grad_{device}")(flat(ograd), x, flat(label), outputs[0], reqs[0])


registry.register(OpDef(
    "softmax_cross_entropy", arguments=("data", "label"), infer_shape=_cross_entropy_infer, infer_type=float_type,
    compute=kernel_compute(_cross_entropy_body),
    gradient=lambda F, attrs, inputs, outputs, ograds: [
        F._backward_softmax_cross_entropy(ograds[0], inputs[0], inputs[1]), None],
    doc="Sum over the batch of -log(softmax(data)[label]); data (batch, classes), label (batch,); output (1,)."))
registry.register(OpDef(
    "_backward_softmax_cross_entropy", arguments=("ograd", "data", "label"),
    infer_shape=lambda attrs, shapes: (shapes, [shapes[1]]), infer_type=lambda attrs, types: (types, types[1]),
    compute=kernel_compute(_cross_entropy_back_body),
    doc="softmax_cross_entropy's gradient: (softmax(data) - one_hot(label)) * ograd."))
