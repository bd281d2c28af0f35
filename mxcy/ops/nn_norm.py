"""Normalization operators: BatchNorm, LayerNorm, InstanceNorm, GroupNorm (norm kernels, CPU and GPU), L2Normalization
and LRN, with the hidden backward ops. BatchNorm updates moving_mean/var in a training forward (as MXNet's GPU path
does; its CPU path does it in backward, so the states agree once forward and backward have both run)."""
import numpy as np

from . import registry
from ._helpers import store
from ._nn_common import (check_float, fill, fill_shapes, flat, host, kernel, kernel_compute, kernels, scratch, split3,
                         widen)
from .partial_shape import batch_free
from .registry import REQUIRED, OpDef, Param
from ..kernels.common import REQ_WRITE

# --- shared -------------------------------------------------------------------------------------

_STAT_NAMES = ("gamma", "beta", "moving_mean", "moving_var")


def _kernel(device, name):
    """norm_cpu.<name>_cpu or norm_gpu.<name>_gpu."""
    return kernel(f"norm_{device}", name, device)


def _norm_type(n_out, names, wide_params=False):
    """Type rule: float data; the other inputs (named `names`) and the saved statistics take the data type, or its
    `widen` type when `wide_params` (BatchNorm keeps the parameters and statistics of float16 data in float32)."""
    def rule(attrs, types):
        data = types[0]
        check_float(data)
        if data is None:
            return types, [None] * n_out
        param = widen(data) if wide_params else np.dtype(data)
        for name, t in zip(names, types[1:]):
            if t is not None and np.dtype(t) != param:
                raise ValueError(f"{name} must be {param.name} for {np.dtype(data).name} data, got "
                                 f"{np.dtype(t).name}")
        return [data] + [param] * len(names), [data] + [param] * (n_out - 1)
    return rule


def _backward_type(n_params, wide_params=False):
    """Type rule of a hidden backward op with inputs (ograd, data, gamma, saved statistics...): the data
    gradient takes data's type, the parameter gradients gamma's."""
    forward = _norm_type(1, ("gamma",), wide_params)

    def rule(attrs, types):
        ins, _ = forward(attrs, [types[1], types[2]])
        return types, [ins[0]] + [ins[1]] * n_params
    return rule


def _check_ograd(ograd, data):
    if ograd is not None and data is not None and tuple(ograd) != tuple(data):
        raise ValueError(f"head gradient of shape {tuple(ograd)} does not match data {tuple(data)}")


def _mean_var_visible(attrs):
    return 3 if attrs["output_mean_var"] else 1


# --- BatchNorm ----------------------------------------------------------------------------------

_BN_PARAMS = (
    Param("eps", "float", 1e-3, "epsilon added to the variance"),
    Param("momentum", "float", 0.9, "momentum of the moving averages"),
    Param("fix_gamma", "bool", True, "treat gamma as 1 (MXNet also writes 1s into gamma) with a zero gradient"),
    Param("use_global_stats", "bool", False, "normalize with the moving statistics also in training"),
    Param("output_mean_var", "bool", False, "also output the mean and the inverse standard deviation"),
    Param("axis", "int", 1, "the channel axis"),
    Param("cudnn_off", "bool", False, "accepted for compatibility; mxcy never uses cuDNN"),
    Param("min_calib_range", "float", None, "accepted for compatibility (quantized BatchNorm)"),
    Param("max_calib_range", "float", None, "accepted for compatibility (quantized BatchNorm)"),
)


def _data_axis(attrs, shape):
    """attrs["axis"] as an index into data of `shape` (which has at least one dimension)."""
    if len(shape) == 0:
        raise ValueError("data must have at least one dimension")
    axis = attrs["axis"]
    if not -len(shape) <= axis < len(shape):
        raise ValueError(f"axis {axis} is out of range for data of shape {tuple(shape)}")
    return axis % len(shape)


def _bn_view(attrs, shape):
    """(outer, C, inner) view of data of `shape` around the channel axis, and C."""
    view = split3(shape, _data_axis(attrs, shape))
    return view, view[1]


def _bn_infer(attrs, shapes):
    data = shapes[0]
    if data is None:
        return shapes, [None] * 3
    c = _bn_view(attrs, data)[1]
    shapes = fill_shapes(shapes, _STAT_NAMES, [(c,)] * 4, f"data {tuple(data)} with axis={attrs['axis']}")
    return shapes, [tuple(data), (c,), (c,)]


def _bn_forward(device, attrs, inputs, outputs, reqs):
    x, gamma, beta, moving_mean, moving_var = inputs
    out, mean, invstd = outputs
    view = _bn_view(attrs, x.shape)[0]
    fix, eps = attrs["fix_gamma"], attrs["eps"]
    if fix:
        fill(gamma, 1, REQ_WRITE)  # as MXNet does, so a later read of gamma shows what was used
    batch = attrs["__is_train__"] and not attrs["use_global_stats"]
    _kernel(device, "batch_norm_fwd")(x.reshape(view), gamma, beta, moving_mean, moving_var, out.reshape(view),
                                      mean, invstd, eps, fix, not batch, reqs[0])
    if batch:
        _kernel(device, "batch_norm_update_moving")(mean, invstd, moving_mean, moving_var, attrs["momentum"], eps)


def _bn_backward(device, attrs, inputs, outputs, reqs):
    """Gradients from the forward's saved mean and invstd. In global-stats mode (use_global_stats, or a backward
    in predict mode: this op is train-aware, so __is_train__ is the backward's flag) the kernel reads 'moving'
    statistics: the saved ones, as variance 1/invstd^2 with eps 0."""
    dy, x, gamma, mean, invstd = inputs
    dx, dgamma, dbeta = outputs
    view = _bn_view(attrs, x.shape)[0]
    glob = attrs["use_global_stats"] or not attrs["__is_train__"]
    if not glob:
        var, eps = invstd, attrs["eps"]  # unread
    elif host(invstd):
        var, eps = np.power(invstd, -2.0, dtype=invstd.dtype), 0.0
    else:
        var, eps = scratch(invstd, invstd.dtype), 0.0
        kernels("elemwise_gpu").scalar_gpu("power", invstd, -2.0, var, False, REQ_WRITE)
    _kernel(device, "batch_norm_bwd")(dy.reshape(view), x.reshape(view), gamma, mean, invstd, mean, var,
                                      dx.reshape(view), dgamma, dbeta, eps, attrs["momentum"], attrs["fix_gamma"],
                                      glob, False, *reqs)


def _bn_back_infer(attrs, shapes):
    ograd, data, gamma, mean, invstd = shapes
    _check_ograd(ograd, data)
    if data is None:
        return shapes, [None] * 3
    ins, outs = _bn_infer(attrs, [data, gamma, None, mean, invstd])
    return [ograd, ins[0], ins[1], ins[3], ins[4]], [outs[0], ins[1], ins[1]]


def _bn_gradient(F, attrs, inputs, outputs, ograds):
    """Through output 0's head only, as MXNet. Like MXNet, backward's own train_mode picks the formula (the
    backward op is train-aware, so it sees that flag, not the forward's): the batch-statistics one over the saved
    mean/invstd (even after an inference forward, whose saved statistics are the moving ones), or the affine one
    (use_global_stats, or backward in predict mode). MXNet's affine one reads the moving statistics; this one the
    saved, which differ only after a training forward."""
    return list(F._backward_BatchNorm(ograds[0], inputs[0], inputs[1], outputs[1], outputs[2], **attrs))


registry.register(OpDef(
    "BatchNorm", params=_BN_PARAMS, arguments=("data", "gamma", "beta"), aux=("moving_mean", "moving_var"),
    infer_shape=batch_free(_bn_infer), partial_shapes=True,
    infer_type=_norm_type(3, _STAT_NAMES, wide_params=True),
    compute=kernel_compute(_bn_forward, (True, False, False), n_aux=2), gradient=_bn_gradient,
    grad_reads=((0, 1), (1, 2)),
    num_outputs=3, output_names=("output", "mean", "var"), visible_outputs=_mean_var_visible,
    mutate_inputs=(1,), train_aware=True,
    input_var_attrs={"moving_mean": {"__init__": '["zero", {}]'}, "moving_var": {"__init__": '["one", {}]'}},
    doc="Batch normalization: out = (data - mean) / sqrt(var + eps) * gamma + beta per channel `axis`, with the "
        "batch statistics in training (updating moving_mean/moving_var by `momentum`) and the moving ones in "
        "inference. Outputs (output, mean, var); var holds 1/sqrt(var + eps), MXNet's saved inverse std."))
registry.register(OpDef(
    "_backward_BatchNorm", params=_BN_PARAMS, arguments=("ograd", "data", "gamma", "mean", "invstd"),
    infer_shape=_bn_back_infer, infer_type=_backward_type(2, wide_params=True),
    compute=kernel_compute(_bn_backward, (True, True, True)), num_outputs=3, train_aware=True,
    doc="BatchNorm's (data, gamma, beta) gradients from the head gradient and the saved statistics; "
                      "use_global_stats, or running in predict mode, selects the affine (inference) gradient."))


# --- LayerNorm, InstanceNorm, GroupNorm ---------------------------------------------------------

def _ln_geometry(attrs, shape):
    """(view, parameter shape, statistics shape, forward kernel args, backward kernel args) for LayerNorm."""
    axis = _data_axis(attrs, shape)
    stat = tuple(shape[:axis]) + (1,) + tuple(shape[axis + 1:])
    return split3(shape, axis), (shape[axis],), stat, (attrs["eps"],), ()


def _spatial_view(name, shape):
    if len(shape) < 3:
        raise ValueError(f"{name} needs data of at least 3 dimensions (N, C, ...), got shape {tuple(shape)}")
    return shape[0], shape[1], int(np.prod(shape[2:], dtype=np.int64))


def _in_geometry(attrs, shape):
    n, c, s = _spatial_view("InstanceNorm", shape)
    return (n, c, s), (c,), (n, c), (attrs["eps"],), (attrs["eps"],)


def _gn_geometry(attrs, shape):
    n, c, s = _spatial_view("GroupNorm", shape)
    g = attrs["num_groups"]
    if g < 1 or c % g:
        raise ValueError(f"num_groups={g} must be positive and divide the {c} channels of data {tuple(shape)}")
    return (n, c, s), (g,), (n, g), (g, attrs["eps"]), (g,)


def _register_rownorm(name, geometry, params, stat_names, visible, doc):
    """An op normalizing rows of data with per-channel (or per-group) gamma/beta on the norm kernels
    <kernel>_fwd/<kernel>_bwd, saving two statistics per row, and its hidden backward op."""
    kernel = {"LayerNorm": "layer_norm", "InstanceNorm": "instance_norm", "GroupNorm": "group_norm"}[name]

    def infer(attrs, shapes):
        data = shapes[0]
        if data is None:
            return shapes, [None] * 3
        _, param, stat, _, _ = geometry(attrs, data)
        shapes = fill_shapes(shapes, ("gamma", "beta"), [param] * 2, f"data {tuple(data)}")
        return shapes, [tuple(data), stat, stat]

    def forward(device, attrs, inputs, outputs, reqs):
        (x, gamma, beta), (out, mean, sd) = inputs, outputs
        view, _, _, args, _ = geometry(attrs, x.shape)
        _kernel(device, kernel + "_fwd")(x.reshape(view), gamma, beta, out.reshape(view), flat(mean), flat(sd),
                                         *args, reqs[0])

    def backward(device, attrs, inputs, outputs, reqs):
        (dy, x, gamma, mean, sd), (dx, dgamma, dbeta) = inputs, outputs
        view, _, _, _, args = geometry(attrs, x.shape)
        _kernel(device, kernel + "_bwd")(dy.reshape(view), x.reshape(view), gamma, flat(mean), flat(sd),
                                         dx.reshape(view), dgamma, dbeta, *args, *reqs)

    def back_infer(attrs, shapes):
        ograd, data, gamma, mean, sd = shapes
        _check_ograd(ograd, data)
        if data is None:
            return shapes, [None] * 3
        ins, outs = infer(attrs, [data, gamma, None])
        return [ograd, ins[0], ins[1], outs[1], outs[2]], [outs[0], ins[1], ins[1]]

    back = "_backward_" + name
    registry.register(OpDef(
        name, params=params, arguments=("data", "gamma", "beta"), infer_shape=batch_free(infer), partial_shapes=True,
        infer_type=_norm_type(3, ("gamma", "beta")), compute=kernel_compute(forward, (True, False, False)),
        gradient=lambda F, attrs, inputs, outputs, ograds: list(getattr(F, back)(
            ograds[0], inputs[0], inputs[1], outputs[1], outputs[2], **attrs)),
        num_outputs=3, output_names=("output",) + stat_names, visible_outputs=visible, grad_reads=((0, 1), (1, 2)),
        doc=doc))
    registry.register(OpDef(
        back, params=params, arguments=("ograd", "data", "gamma") + stat_names, infer_shape=back_infer,
        infer_type=_backward_type(2), compute=kernel_compute(backward, (True, True, True)), num_outputs=3,
        doc=f"{name}'s (data, gamma, beta) gradients from the head gradient and the saved statistics."))


_register_rownorm(
    "LayerNorm", _ln_geometry,
    (Param("axis", "int", -1, "the axis normalized over"),
     Param("eps", "float", 1e-5, "epsilon added to the variance"),
     Param("output_mean_var", "bool", False, "also output the mean and std = sqrt(var + eps)")),
    ("mean", "std"), _mean_var_visible,
    "Layer normalization over `axis`: out = (data - mean) / sqrt(var + eps) * gamma + beta, gamma and beta of the "
    "axis' length. Outputs (output, mean, std), the statistics with `axis` kept as 1.")
_register_rownorm(
    "InstanceNorm", _in_geometry, (Param("eps", "float", 1e-3, "epsilon added to the variance"),),
    ("mean", "var"), 1,
    "Instance normalization of data (N, C, ...): each (n, c) plane is normalized over its spatial positions, then "
    "scaled by gamma[c] and shifted by beta[c]. Hidden outputs: mean and var, shape (N, C).")
_register_rownorm(
    "GroupNorm", _gn_geometry,
    (Param("num_groups", "int", 1, "number of channel groups"),
     Param("eps", "float", 1e-5, "epsilon added to the variance"),
     Param("output_mean_var", "bool", False, "also output the mean and std = sqrt(var + eps)")),
    ("mean", "std"), _mean_var_visible,
    "Group normalization of data (N, C, ...): the channels are split into num_groups groups, each normalized over "
    "its channels and spatial positions, then scaled and shifted by gamma/beta of shape (num_groups,) as in "
    "MXNet 1.9.1. Outputs (output, mean, std) with statistics of shape (N, num_groups).")


# --- L2Normalization ----------------------------------------------------------------------------

def _l2_geometry(attrs, shape):
    """(reduced axes, norm shape, norm broadcast against data) for data of `shape`."""
    mode, nd = attrs["mode"], len(shape)
    if nd == 0:
        raise ValueError("data must have at least one dimension")
    if mode == "instance":
        axes, norm = tuple(range(1, nd)), (shape[0],)
    else:
        _spatial_view(f"mode '{mode}'", shape)
        axes = (1,) if mode == "channel" else tuple(range(2, nd))
        norm = (shape[0], 1) + tuple(shape[2:]) if mode == "channel" else tuple(shape[:2])
    return axes, norm, tuple(1 if i in axes else n for i, n in enumerate(shape))


def _l2_infer(attrs, shapes):
    data = shapes[0]
    if data is None:
        return shapes, [None, None]
    return shapes, [tuple(data), _l2_geometry(attrs, data)[1]]


def _l2_forward(device, attrs, inputs, outputs, reqs):
    """norm = sqrt(sum x^2 + eps) over the mode's axes, out = x / norm (NumPy on the CPU, the element-wise and
    reduction kernels on a GPU)."""
    x, (out, norm) = inputs[0], outputs
    axes, _, keep = _l2_geometry(attrs, x.shape)
    if device == "cpu":
        with np.errstate(divide="ignore", invalid="ignore"):
            n = np.sqrt(np.sum(np.square(x), axis=axes).reshape(keep) + attrs["eps"])
            store(out, x / n, reqs[0])
        store(norm, n.reshape(norm.shape), reqs[1])
        return
    k = kernels("elemwise_gpu")
    sq = scratch(x, x.dtype)
    k.unary_gpu("square", x, sq, REQ_WRITE)
    total = scratch(x, x.dtype, keep)
    if axes:
        k.reduce_gpu(sq, total, axes, "sum", REQ_WRITE)
    else:
        k.copy_gpu(sq, total, REQ_WRITE)
    k.scalar_gpu("add", total, attrs["eps"], total, False, REQ_WRITE)
    k.unary_gpu("sqrt", total, total, REQ_WRITE)
    k.binary_gpu("div", x, total, out, reqs[0])
    k.copy_gpu(total, norm, reqs[1])


def _l2_gradient(F, attrs, inputs, outputs, ograds):
    # dx = (dy - y * sum(dy * y)) / norm over the mode's axes; the head gradient of norm is ignored, as in MXNet.
    (y, norm), dy = outputs[:2], ograds[0]
    axes, _, keep = _l2_geometry(attrs, y.shape)
    t = F.elemwise_mul(dy, y)
    if axes:
        t = F.sum(t, axis=axes, keepdims=True)
    return [F.broadcast_div(F.elemwise_sub(dy, F.broadcast_mul(y, t)), F.Reshape(norm, shape=keep))]


registry.register(OpDef(
    "L2Normalization",
    params=(Param("eps", "float", 1e-10, "epsilon added to the sum of squares"),
            Param("mode", "str", "instance", "instance: one norm per sample; channel: across channels at each "
                  "position; spatial: per channel over the positions", choices=("channel", "instance", "spatial"))),
    infer_shape=batch_free(_l2_infer), partial_shapes=True, infer_type=_norm_type(2, ()),
    compute=kernel_compute(_l2_forward),
    gradient=_l2_gradient, num_outputs=2, output_names=("output", "norm"), visible_outputs=1,
    doc="out = data / sqrt(sum(data^2) + eps), the sum over each sample (instance), over the channels at each "
        "position (channel) or over the positions of each channel (spatial); 1-D data is N samples of one value."))


# --- LRN ----------------------------------------------------------------------------------------

def _lrn_check(attrs, shape):
    if attrs["nsize"] < 1:
        raise ValueError(f"nsize must be at least 1, got {attrs['nsize']}")
    if len(shape) != 4:
        raise ValueError(f"data must be 4-D (N, C, H, W), got shape {tuple(shape)}")


def _lrn_infer(attrs, shapes):
    data = shapes[0]
    if data is None:
        return shapes, [None, None]
    _lrn_check(attrs, data)
    return shapes, [tuple(data)] * 2


def _lrn_view(a):
    """The (N, C, H * W) view the LRN kernels take."""
    return a.reshape(a.shape[0], a.shape[1], a.shape[2] * a.shape[3])


def _lrn_forward(device, attrs, inputs, outputs, reqs):
    (x,), (out, tmp) = inputs, outputs
    kernel("lrn", "lrn_fwd", device)(_lrn_view(x), _lrn_view(out), _lrn_view(tmp), attrs["nsize"], attrs["alpha"],
                                     attrs["beta"], attrs["knorm"], *reqs)


def _lrn_backward(device, attrs, inputs, outputs, reqs):
    dy, x, tmp = (_lrn_view(a) for a in inputs)
    kernel("lrn", "lrn_bwd", device)(dy, x, tmp, _lrn_view(outputs[0]), attrs["nsize"], attrs["alpha"],
                                     attrs["beta"], reqs[0])


def _lrn_back_infer(attrs, shapes):
    ograd, data, tmp = shapes
    _check_ograd(ograd, data)
    _check_ograd(tmp, data)
    return shapes, [None if data is None else tuple(data)]


_LRN_PARAMS = (
    Param("alpha", "float", 1e-4, "variance scaling"),
    Param("beta", "float", 0.75, "power"),
    Param("knorm", "float", 2.0, "additive constant k"),
    Param("nsize", "int", REQUIRED, "window width in channels"),
)

registry.register(OpDef(
    "LRN", params=_LRN_PARAMS, infer_shape=_lrn_infer, infer_type=_norm_type(2, ()),
    compute=kernel_compute(_lrn_forward),
    gradient=lambda F, attrs, inputs, outputs, ograds: [F._backward_LRN(ograds[0], inputs[0], outputs[1],
                                                                        **attrs)],
    num_outputs=2, output_names=("output", "tmp_norm"), visible_outputs=1,
    doc="Local response normalization across channels of data (N, C, H, W): out = data / (knorm + alpha / nsize * "
        "sum of data^2 over a window of channels)^beta."))
registry.register(OpDef(
    "_backward_LRN", params=_LRN_PARAMS, arguments=("ograd", "data", "tmp_norm"), infer_shape=_lrn_back_infer,
    infer_type=_norm_type(1, ("data", "tmp_norm")), compute=kernel_compute(_lrn_backward),
    doc="LRN's data gradient from the head gradient, the data and the saved tmp_norm."))
