"""MXNet 1.x's legacy operators: Convolution_v1, Pooling_v1 and BatchNorm_v1 (thin records over the current ops'
computes), SVMOutput and IdentityAttachKLSparseReg (identity forwards whose backward is a loss or penalty gradient).

SVMOutput's gradient and IdentityAttachKLSparseReg's moving average run on kernels/legacy_loss.py (CPU and CUDA;
SVMOutput's labels are checked on the host). BatchNorm_v1's conversion of the saved inverse std into the variance
it outputs is NumPy on the CPU and the element-wise CUDA kernels on a GPU.
"""
import functools

import numpy as np

from . import registry
from ._helpers import store
from ._nn_common import cast, host, kernel, kernel_compute, kernels, put, scratch, widen
from .registry import OpDef, Param
from ..kernels.common import REQ_WRITE

__all__ = []


def _with_defaults(base):
    """attrs of a legacy op -> attrs of `base`, whose extra parameters take their defaults."""
    def full(attrs):
        merged = dict(base.defaults)
        merged.update(attrs)
        return merged
    return full


def _legacy(name, base_name, params, doc, compute=None, gradient=None, **kw):
    """Register `name` as `base_name` under MXNet 1.x's parameter set `params`: the base op's shape, type, compute
    and gradient rules, run with the base's defaults for what the legacy op lacks."""
    base = registry.get(base_name)
    full = _with_defaults(base)

    def visible(attrs):
        if base.visible_outputs is None:
            return num_outputs(attrs)
        return base.visible_outputs(full(attrs)) if callable(base.visible_outputs) else base.visible_outputs

    def num_outputs(attrs):
        return base.num_outputs(full(attrs)) if callable(base.num_outputs) else base.num_outputs

    def output_names(attrs):
        return base.output_names(full(attrs)) if callable(base.output_names) else base.output_names

    arguments = base.arguments if not callable(base.arguments) else (lambda attrs: base.arguments(full(attrs)))
    registry.register(OpDef(
        name, params=params, arguments=arguments, aux=base.aux,
        infer_shape=lambda attrs, shapes: base.infer_shape(full(attrs), shapes),
        infer_type=lambda attrs, types: base.infer_type(full(attrs), types),
        compute=compute or {device: (lambda fn: lambda attrs, *a: fn(full(attrs), *a))(fn)
                            for device, fn in base.compute.items()},
        gradient=gradient or (lambda F, attrs, *a: base.gradient(F, full(attrs), *a)),
        num_outputs=num_outputs, output_names=output_names, visible_outputs=visible,
        mutate_inputs=base.mutate_inputs, train_aware=base.train_aware, input_var_attrs=base.input_var_attrs,
        grad_reads=base.grad_reads, doc=doc, **kw))
    return base, full


def _window(what, default_kernel):
    kernel = Param("kernel", "shape", doc=f"{what} kernel size: (h, w) or (d, h, w)") if default_kernel is None \
        else Param("kernel", "shape", default_kernel, f"{what} kernel size: (h, w) or (d, h, w)")
    return (kernel,
            Param("stride", "shape", (), f"{what} stride per spatial dimension; defaults to 1"),
            Param("pad", "shape", (), "zero padding per spatial dimension; defaults to 0"))


# --- Convolution_v1, Pooling_v1 -------------------------------------------------------------------

_legacy("Convolution_v1", "Convolution", _window("convolution", None) + (
    Param("dilate", "shape", (), "dilation per spatial dimension; defaults to 1"),
    Param("num_filter", "int", doc="number of output channels"),
    Param("num_group", "int", 1, "number of groups of input and output channels"),
    Param("workspace", "int", 1024, "accepted for compatibility (MB of temporary workspace)"),
    Param("no_bias", "bool", False, "leave out the bias input"),
    Param("cudnn_tune", "str", None, "accepted for compatibility; mxcy never uses cuDNN",
          choices=(None, "off", "limited_workspace", "fastest")),
    Param("cudnn_off", "bool", False, "accepted for compatibility; mxcy never uses cuDNN"),
    Param("layout", "str", None, "data layout; only the channel-first NCHW, NCDHW (the default)",
          choices=(None, "NCHW", "NHWC", "NCDHW", "NDHWC"))),
    "MXNet 1.x's first Convolution: the same computation as Convolution, for 2-D and 3-D data.")

_legacy("Pooling_v1", "Pooling", _window("pooling", ()) + (
    Param("pool_type", "str", "max", "pooling to apply", choices=("max", "avg", "sum")),
    Param("global_pool", "bool", False, "pool each whole feature map into one value, ignoring kernel"),
    Param("pooling_convention", "str", "valid", "output size: valid (floor) or full (ceil)",
          choices=("valid", "full"))),
    "MXNet 1.x's first Pooling: max, average (the padded window's size divides) or sum pooling, computed as "
    "Pooling.")


# --- BatchNorm_v1 ---------------------------------------------------------------------------------

def _bn_v1_forward(device, attrs, inputs, outputs, reqs):
    """BatchNorm's forward, then its saved inverse std turned into the variance BatchNorm_v1 outputs (the batch
    variance in training, moving_var in inference), each stored under its own request: NumPy on the CPU, the
    element-wise CUDA kernels on a GPU (in the statistics' widened type)."""
    out, mean, var = outputs
    saved_mean, invstd = scratch(mean, mean.dtype), scratch(var, widen(var.dtype))
    _BN.compute[device](_bn_attrs(attrs), inputs, [out, saved_mean, invstd], [reqs[0], REQ_WRITE, REQ_WRITE])
    put(mean, saved_mean, reqs[1])
    if host(var):
        store(var, np.power(invstd, -2.0, dtype=invstd.dtype) - np.asarray(attrs["eps"], invstd.dtype), reqs[2])
    else:
        k = kernels("elemwise_gpu")
        k.scalar_gpu("power", invstd, -2.0, invstd, False, REQ_WRITE)
        k.scalar_gpu("sub", invstd, attrs["eps"], var, False, reqs[2])


def _bn_v1_gradient(F, attrs, inputs, outputs, ograds):
    invstd = F.rsqrt(F._plus_scalar(outputs[2], scalar=attrs["eps"]))
    return list(F._backward_BatchNorm(ograds[0], inputs[0], inputs[1], outputs[1], invstd, **_bn_attrs(attrs)))


_BN, _bn_attrs = _legacy("BatchNorm_v1", "BatchNorm", (
    Param("eps", "float", 1e-3, "epsilon added to the variance"),
    Param("momentum", "float", 0.9, "momentum of the moving averages"),
    Param("fix_gamma", "bool", True, "treat gamma as 1 with a zero gradient"),
    Param("use_global_stats", "bool", False, "normalize with the moving statistics also in training"),
    Param("output_mean_var", "bool", False, "also output the mean and the variance")),
    "MXNet 1.x's first BatchNorm, over axis 1: BatchNorm's computation, but its third output is the variance "
    "(BatchNorm's is the inverse standard deviation).",
    compute={d: functools.partial(_bn_v1_forward, d) for d in ("cpu", "gpu")}, gradient=_bn_v1_gradient)


# --- SVMOutput ------------------------------------------------------------------------------------

def _svm_infer(attrs, shapes):
    data, label = shapes
    if data is None:
        return shapes, [None]
    if len(data) < 2:
        raise ValueError(f"data must have a batch and a class axis, got shape {tuple(data)}")
    want = tuple(data[:-1])
    if label is not None and tuple(label) != want and int(np.prod(label)) != int(np.prod(want)):
        raise ValueError(f"label of shape {tuple(label)} does not match data {tuple(data)}: expected {want}")
    return [data, want if label is None else label], [tuple(data)]


def _svm_grad(device, attrs, inputs, outputs, reqs):
    """MXNet's hinge-loss gradient over (rows, classes) (kernels/legacy_loss.py), after the labels are checked on
    the host: one class index per row, in range."""
    out, label = inputs
    classes = out.shape[out.ndim - 1]  # (the simulator's shapes take no negative index)
    rows = out.size // classes
    labels = (label if host(label) else label.copy_to_host()).reshape(-1).astype(np.int64)
    if labels.size != rows or ((labels < 0) | (labels >= classes)).any():
        raise ValueError(f"SVMOutput: labels must be {rows} class indices in [0, {classes})")
    kernel("legacy_loss", "svm_grad", device)(out, label, outputs[0], attrs["margin"],
                                              attrs["regularization_coefficient"], attrs["use_linear"], reqs[0])


def _identity(attrs, inputs, outputs, reqs):
    put(outputs[0], inputs[0], reqs[0])


_SVM_PARAMS = (Param("margin", "float", 1.0, "the margin the scores must clear"),
               Param("regularization_coefficient", "float", 1.0, "scale of the gradient"),
               Param("use_linear", "bool", False, "L1-SVM (hinge) gradient; L2-SVM (squared hinge) by default"))

registry.register(OpDef(
    "_backward_SVMOutput", params=_SVM_PARAMS, arguments=("output", "label"),
    infer_shape=lambda attrs, shapes: (shapes, [shapes[0]]), compute=kernel_compute(_svm_grad, (True,)),
    doc="SVMOutput's data gradient from its output and the labels."))

registry.register(OpDef(
    "SVMOutput", params=_SVM_PARAMS, arguments=("data", "label"), loss=True, infer_shape=_svm_infer,
    compute={"cpu": _identity, "gpu": _identity},
    gradient=lambda F, attrs, inputs, outputs, ograds: [F._backward_SVMOutput(outputs[0], inputs[1], **attrs), None],
    grad_reads=((1,), (0,)),
    doc="Support vector machine output layer: the forward passes data through; the backward ignores the head "
        "gradient and gives the L2-SVM (or, with use_linear, L1-SVM) hinge-loss gradient of one-vs-all scores."))


# --- IdentityAttachKLSparseReg --------------------------------------------------------------------

_KL_PARAMS = (Param("sparseness_target", "float", 0.1, "the target mean activation rho"),
              Param("penalty", "float", 0.001, "weight of the sparseness penalty"),
              Param("momentum", "float", 0.9, "momentum of the moving average of the activations"))


def _kl_infer(attrs, shapes):
    data = shapes[0]
    if data is None:
        return shapes, [None]
    if len(data) < 2 or int(np.prod(data[1:])) != data[1]:
        raise ValueError(f"data must be (batch, units) with any further axes of size 1, got shape {tuple(data)}")
    avg = shapes[1]
    if avg is not None and tuple(avg) != (data[1],):
        raise ValueError(f"moving_avg of shape {tuple(avg)} does not match data {tuple(data)}: "
                         f"expected ({data[1]},)")
    return [data, (data[1],)], [tuple(data), (data[1],)]


def _kl_forward(device, attrs, inputs, outputs, reqs):
    """Identity; a training forward also moves moving_avg towards this batch's mean activation per unit
    (kernels/legacy_loss.py, in float32 for float16) and keeps the updated average as the hidden output the gradient
    reads. MXNet updates it in the backward instead; the values after a training step are the same (as with mxcy's
    BatchNorm, which also updates in the forward)."""
    data, moving_avg = inputs
    put(outputs[0], data, reqs[0])
    if attrs["__is_train__"]:
        work = cast(moving_avg, widen(moving_avg.dtype))
        kernel("legacy_loss", "moving_average", device)(data, work, attrs["momentum"])
        if work is not moving_avg:
            put(moving_avg, work, REQ_WRITE)
    put(outputs[1], moving_avg, REQ_WRITE)


def _kl_gradient(F, attrs, inputs, outputs, ograds):
    """The head gradient plus penalty * d KL(rho || avg) / d avg per unit: -rho / avg + (1 - rho) / (1 - avg)."""
    rho, penalty, data = attrs["sparseness_target"], attrs["penalty"], inputs[0]
    avg = F.reshape(outputs[1], shape=(1, -1) + (1,) * (data.ndim - 2))
    return [F.broadcast_add(ograds[0], (-rho * penalty) / avg + ((1 - rho) * penalty) / (1 - avg))]


registry.register(OpDef(
    "IdentityAttachKLSparseReg", params=_KL_PARAMS, aux=("moving_avg",), infer_shape=_kl_infer,
    compute=kernel_compute(_kl_forward, n_aux=1), gradient=_kl_gradient, num_outputs=2, visible_outputs=1,
    output_names=("output", "moving_avg"), train_aware=True, grad_reads=((), (1,)),
    input_var_attrs={"moving_avg": {"__init__": '["zero", {}]'}},
    doc="Identity forward; the backward adds the gradient of a KL-divergence sparseness penalty on the units' "
        "mean activation (a moving average in the aux state moving_avg, updated by each training forward) to "
        "the head gradient."))
