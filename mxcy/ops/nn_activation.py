"""Activation operators: Activation, LeakyReLU (leaky/prelu/rrelu/elu/selu/gelu), softmax, log_softmax, softmin,
SoftmaxActivation, Dropout and Embedding, with the hidden backward ops their gradients call. The hidden backward
ops have gradients of their own, written with registered ops, so higher-order gradients go through them. Computes
dispatch on the array type: NumPy arrays go to the CPU kernels, numba device arrays to the CUDA ones."""
import math

import numpy as np

from . import registry
from ._helpers import norm_axis
from ._nn_common import (cast, check_float, fill, flat, float_type, host, kernel_compute, kernels, passing_through,
                         put, run_activation, scratch, split3, typed_call, widen, work_dtype)
from .partial_shape import batch_free, merge, same_shape, to_user
from .random import draw_uniform, key
from .registry import REQUIRED, OpDef, Param
from ..base import MXNetError
from ..kernels.common import REQ_NULL, REQ_WRITE


# --- shape rules -------------------------------------------------------------------------------

def _check_inputs(shapes, names):
    if len(shapes) != len(names):
        raise ValueError(f"expected {len(names)} inputs ({', '.join(names)}) with these arguments, got "
                         f"{len(shapes)}")


# --- element-wise activations ------------------------------------------------------------------

def _act_grad_run(inputs, outputs, reqs, act_type, slope):
    """The activation's gradient kernel on arrays a kernel takes as they are: dx (req)= dy * f'(x, y)."""
    k = kernels("activation")
    run = k.act_bwd_cpu if host(inputs[0]) else k.act_bwd_gpu
    run(flat(inputs[0]), flat(inputs[1]), flat(inputs[2]), flat(outputs[0]), k.ACT_TYPES[act_type], float(slope),
        reqs[0])


def _act_forward(x, out, act_type, slope, req):
    typed_call(lambda i, o, r: run_activation(i, o, r, act_type, slope), [x], [out], [req], dtype=work_dtype(x.dtype))


def _act_backward(dy, x, y, dx, act_type, slope, req):
    typed_call(lambda i, o, r: _act_grad_run(i, o, r, act_type, slope), [dy, x, y], [dx], [req],
               dtype=work_dtype(x.dtype))


def _prelu_forward(x, gamma, out, req, shape3):
    """out = x > 0 ? x : gamma[c] * x over the (outer, C, inner) view `shape3`."""
    k = kernels("activation")
    run = k.prelu_fwd_cpu if host(x) else k.prelu_fwd_gpu
    typed_call(lambda i, o, r: run(i[0].reshape(shape3), flat(i[1]), o[0].reshape(shape3), r[0]),
                [x, gamma], [out], [req], dtype=work_dtype(x.dtype))


def _prelu_backward(dy, x, gamma, dx, dgamma, reqs, shape3):
    """dx and dgamma of _prelu_forward; dgamma None when not wanted."""
    k = kernels("activation")
    run = k.prelu_bwd_cpu if host(x) else k.prelu_bwd_gpu
    outs = [dx] if dgamma is None else [dx, dgamma]

    def call(i, o, r):
        dg = o[1] if dgamma is not None else scratch(x, o[0].dtype, (1,))
        run(i[0].reshape(shape3), i[1].reshape(shape3), flat(i[2]), o[0].reshape(shape3), flat(dg), r[0],
            r[1] if dgamma is not None else REQ_NULL)
    typed_call(call, [dy, x, gamma], outs, reqs[:len(outs)], dtype=work_dtype(x.dtype))


_ACT_TYPE = Param("act_type", "str", REQUIRED, "activation function",
                  choices=("relu", "sigmoid", "softrelu", "softsign", "tanh"))


def _act_compute(attrs, inputs, outputs, reqs):
    _act_forward(inputs[0], outputs[0], attrs["act_type"], 0.0, reqs[0])


def _act_back_compute(attrs, inputs, outputs, reqs):
    dy, x, y = inputs
    _act_backward(dy, x, y, outputs[0], attrs["act_type"], 0.0, reqs[0])


def _act_host(attrs, inputs, outputs, reqs):
    """_act_compute's kernel call on host arrays typed_call passes through (a graph replay's step)."""
    run_activation(inputs, outputs, reqs, attrs["act_type"], 0.0)


def _act_back_host(attrs, inputs, outputs, reqs):
    """_act_back_compute's kernel call on host arrays typed_call passes through."""
    _act_grad_run(inputs, outputs, reqs, attrs["act_type"], 0.0)


_act_compute.direct = passing_through(_act_host)
_act_back_compute.direct = passing_through(_act_back_host)


# Activations whose derivative the kernels compute from the output alone (act_grad): their gradient passes
# the output in the data slot too, so the data need not be kept for it (OpDef.grad_reads).
_OUTPUT_ONLY = ("relu", "sigmoid", "tanh", "softrelu")


def _act_gradient(F, attrs, inputs, outputs, ograds):
    x = outputs[0] if attrs["act_type"] in _OUTPUT_ONLY else inputs[0]
    return [F._backward_Activation(ograds[0], x, outputs[0], act_type=attrs["act_type"])]


registry.register(OpDef(
    "Activation", params=(_ACT_TYPE,), infer_shape=same_shape, partial_shapes=True, infer_type=float_type,
    compute={"cpu": _act_compute, "gpu": _act_compute}, gradient=_act_gradient, inplace=True,
    grad_reads=lambda attrs: ((), (0,)) if attrs["act_type"] in _OUTPUT_ONLY else None,
    doc="Applies an activation function element-wise: relu, sigmoid, tanh, softrelu (log(1 + exp(x))) or "
        "softsign (x / (1 + |x|))."))


# The derivative of f' for the types (of Activation and LeakyReLU) whose f' is not piecewise constant: act_type ->
# (what f' reads: 0 data, 1 output; d f'/d(it) with registered ops). f' reads what the kernels' act_grad reads; where
# that is the output y, the chain through y = f(x) supplies the remaining factor f'(x) of f''.
_INV_SQRT_2PI = 1 / np.sqrt(2 * np.pi)
_CURVATURE = {
    "sigmoid": (1, lambda F, x, y: 1 - y * 2),  # f' = y (1 - y)
    "tanh": (1, lambda F, x, y: y * -2),  # f' = 1 - y^2
    "softrelu": (1, lambda F, x, y: F.exp(F.negative(y))),  # f' = 1 - exp(-y)
    "softsign": (0, lambda F, x, y: F.sign(x) * -2 / (F.abs(x) + 1) ** 3),  # f' = 1 / (1 + |x|)^2
    "elu": (1, lambda F, x, y: F._lesser_equal_scalar(y, scalar=0)),  # f' = y + alpha where x <= 0, else 1
    "selu": (1, lambda F, x, y: F._lesser_equal_scalar(y, scalar=0)),  # f' = y + lambda alpha, else lambda
    # f' = Phi(x) + x phi(x), so f'' = phi(x) (2 - x^2).
    "gelu": (0, lambda F, x, y: F.exp(x * x * -0.5) * (2 - x * x) * _INV_SQRT_2PI),
}


def _curvature_grads(F, act_type, head, ograd, x, y):
    """Gradients of dx = ograd * f'(x or y) w.r.t. its inputs x and y: head * ograd * d f'/d(what f' reads) for
    that one, zeros for the other (and for both where f' is piecewise constant)."""
    if act_type not in _CURVATURE:
        return [F.zeros_like(x), F.zeros_like(y)]
    reads, derivative = _CURVATURE[act_type]
    grad = head * ograd * derivative(F, x, y)
    return [grad, F.zeros_like(y)] if reads == 0 else [F.zeros_like(x), grad]


def _act_back_gradient(F, attrs, inputs, outputs, ograds):
    ograd, x, y = inputs
    # dx is linear in ograd: its gradient w.r.t. ograd is the backward op itself applied to the head.
    return [F._backward_Activation(ograds[0], x, y, act_type=attrs["act_type"])] + \
        _curvature_grads(F, attrs["act_type"], ograds[0], ograd, x, y)


registry.register(OpDef(
    "_backward_Activation", params=(_ACT_TYPE,), arguments=("ograd", "data", "output"),
    infer_shape=same_shape, partial_shapes=True, infer_type=float_type,
    compute={"cpu": _act_back_compute, "gpu": _act_back_compute},
    gradient=_act_back_gradient,
    doc="Activation's gradient from the head gradient, its input and its output."))


def _relu_back_compute(attrs, inputs, outputs, reqs):
    ograd, y = inputs
    _act_backward(ograd, y, y, outputs[0], "relu_nan", 0.0, reqs[0])


def _relu_back_gradient(F, attrs, inputs, outputs, ograds):
    # Linear in the head gradient; relu' is piecewise constant in the output.
    return [F._backward_relu(ograds[0], inputs[1]), F.zeros_like(inputs[1])]


registry.register(OpDef(
    "_backward_relu", arguments=("lhs", "rhs"), infer_shape=same_shape, partial_shapes=True, infer_type=float_type,
    compute={"cpu": _relu_back_compute, "gpu": _relu_back_compute}, gradient=_relu_back_gradient,
    doc="The relu operator's gradient in one pass, from the head gradient (lhs) and relu's output (rhs): lhs where "
        "rhs > 0, NaN where rhs is NaN, else 0 (MXNet 1.9.1's _backward_relu)."))


# --- LeakyReLU -------------------------------------------------------------------------------

_LEAKY_PARAMS = (
    Param("act_type", "str", "leaky", "activation function",
          choices=("elu", "gelu", "leaky", "prelu", "rrelu", "selu")),
    Param("slope", "float", 0.25, "slope of leaky on the negative side; alpha of elu"),
    Param("lower_bound", "float", 0.125, "lower bound of rrelu's random slope"),
    Param("upper_bound", "float", 0.334, "upper bound of rrelu's random slope"),
)


def _leaky_arguments(attrs):
    return ("data", "gamma") if attrs["act_type"] == "prelu" else ("data",)


def _leaky_outputs(attrs):
    return ("output", "mask") if attrs["act_type"] == "rrelu" else ("output",)


def _gamma_axes(data_shape, gamma_shape):
    """The data axes prelu's gamma spans, as MXNet 1.9.1 broadcasts it: a 1-D gamma the channel axis 1 (a (1,)
    gamma every element), a k-D one the leading k axes; None when gamma's shape does not fit there."""
    gamma_shape = tuple(gamma_shape)
    start = 1 if len(gamma_shape) == 1 else 0
    if gamma_shape == (1,) or tuple(data_shape[start:start + len(gamma_shape)]) == gamma_shape:
        return start, len(gamma_shape)
    return None


def _channel_view(shape, gamma_shape):
    """(outer, slopes, inner): data seen as rows of gamma's elements for the prelu kernels."""
    start, k = _gamma_axes(shape, gamma_shape)
    if tuple(gamma_shape) == (1,):
        return split3(shape, 1)
    return math.prod(shape[:start]), math.prod(shape[start:start + k]), math.prod(shape[start + k:])


def _leaky_infer(attrs, shapes):
    _check_inputs(shapes, _leaky_arguments(attrs))
    n_out = len(_leaky_outputs(attrs))
    data = shapes[0]
    if data is None:
        return shapes, [None] * n_out
    if attrs["act_type"] == "prelu":
        if len(data) < 2:
            raise ValueError(f"prelu needs data with a channel axis 1 (ndim >= 2), got shape {data}")
        gamma = shapes[1]
        if gamma is None:
            gamma = (data[1],)
        elif _gamma_axes(data, gamma) is None:
            raise ValueError(f"gamma of shape {tuple(gamma)} does not match data of shape {data}: expected "
                             f"({data[1]},), one slope per channel, (1,), or the data's leading dimensions")
        shapes = [data, tuple(gamma)]
    return shapes, [data] * n_out


def _rrelu_forward(attrs, x, out, mask, reqs):
    """Training: a slope per element drawn from U(lower_bound, upper_bound), kept in `mask` for the gradient;
    inference: the mean slope, which `mask` then holds everywhere."""
    lower, upper = attrs["lower_bound"], attrs["upper_bound"]
    if attrs["__is_train__"]:
        def draw_and_apply(_, slopes, __):
            draw_uniform(attrs, slopes[0], lower, upper, x.dtype)
            _prelu_forward(x, slopes[0], out, reqs[0], (1, x.size, 1))
        typed_call(draw_and_apply, [], [mask], reqs[1:], dtype=work_dtype(x.dtype), exact=(False,))
    else:
        slope = (lower + upper) / 2
        _act_forward(x, out, "leaky", slope, reqs[0])
        fill(mask, slope, reqs[1])


def _leaky_compute(attrs, inputs, outputs, reqs):
    act, x = attrs["act_type"], inputs[0]
    if act == "prelu":
        _prelu_forward(x, inputs[1], outputs[0], reqs[0], _channel_view(x.shape, inputs[1].shape))
    elif act == "rrelu":
        _rrelu_forward(attrs, x, outputs[0], outputs[1], reqs)
    else:
        _act_forward(x, outputs[0], act, attrs["slope"], reqs[0])


def _leaky_gradient(F, attrs, inputs, outputs, ograds):
    extra = {"prelu": inputs[1:], "rrelu": outputs[1:]}.get(attrs["act_type"], [])
    grads = F._backward_LeakyReLU(ograds[0], inputs[0], outputs[0], *extra, **attrs)
    return list(grads) if isinstance(grads, (list, tuple)) else [grads]


def _leaky_back_arguments(attrs):
    return ("ograd", "data", "output") + {"prelu": ("gamma",), "rrelu": ("mask",)}.get(attrs["act_type"], ())


def _leaky_back_infer(attrs, shapes):
    _check_inputs(shapes, _leaky_back_arguments(attrs))
    return shapes, [shapes[1]] + ([shapes[3]] if attrs["act_type"] == "prelu" else [])


def _leaky_back_compute(attrs, inputs, outputs, reqs):
    act, (dy, x, y) = attrs["act_type"], inputs[:3]
    if act == "prelu":
        _prelu_backward(dy, x, inputs[3], outputs[0], outputs[1], reqs, _channel_view(x.shape, inputs[3].shape))
    elif act == "rrelu":
        _prelu_backward(dy, x, inputs[3], outputs[0], None, reqs, (1, x.size, 1))
    else:
        _act_backward(dy, x, y, outputs[0], act, attrs["slope"], reqs[0])


registry.register(OpDef(
    "LeakyReLU", params=_LEAKY_PARAMS, arguments=_leaky_arguments, infer_shape=batch_free(_leaky_infer),
    partial_shapes=True,
    infer_type=float_type,
    compute={"cpu": _leaky_compute, "gpu": _leaky_compute}, gradient=_leaky_gradient,
    num_outputs=lambda attrs: len(_leaky_outputs(attrs)), output_names=_leaky_outputs, random=True,
    train_aware=True, input_var_attrs={"gamma": {"__init__": '["Constant", {"value": 0.25}]'}},
    doc="Leaky rectified linear units: leaky (x > 0 ? x : slope * x), prelu (a learnt slope per channel, input "
        "gamma), rrelu (a random slope in [lower_bound, upper_bound) per element in training, their mean in "
        "inference; a second output holds the slopes), elu, selu and gelu."))


def _leaky_back_gradient(F, attrs, inputs, outputs, ograds):
    act, (ograd, x, y), head = attrs["act_type"], inputs[:3], ograds[0]
    # dx is linear in ograd: its gradient w.r.t. ograd is the backward op itself applied to the head.
    d_ograd = F._backward_LeakyReLU(head, *inputs[1:], **attrs)
    if act not in ("prelu", "rrelu"):
        return [d_ograd] + _curvature_grads(F, act, head, ograd, x, y)
    # dx = ograd * (x > 0 ? 1 : slope), with a slope per element (rrelu's mask) or per channel (prelu's gamma):
    # d/dslope = head * ograd where x <= 0, summed per channel for prelu; dx's d/dx is 0 away from the kink.
    negative = F._lesser_equal_scalar(x, scalar=0)
    d_slopes = head * ograd * negative
    if act == "rrelu":
        return [d_ograd, F.zeros_like(x), F.zeros_like(y), d_slopes]
    gamma = inputs[3]
    start, k = _gamma_axes(x.shape, gamma.shape)
    if gamma.shape == (1,):
        d_gamma, expanded = F.sum(d_slopes), (1,) * x.ndim
    else:
        d_gamma = F.sum(d_slopes, axis=tuple(range(start, start + k)), exclude=True)
        expanded = (1,) * start + tuple(gamma.shape) + (1,) * (x.ndim - start - k)
    # prelu's second output, dgamma[c] = sum of ograd * x where x <= 0, adds head_gamma[c] * min(x, 0) to d/dograd
    # and ograd * head_gamma[c] where x <= 0 to d/dx.
    head_gamma = F.reshape(ograds[1], shape=expanded)
    d_ograd = d_ograd[0] + F.broadcast_mul(F._minimum_scalar(x, scalar=0), head_gamma)
    return [d_ograd, F.broadcast_mul(ograd * negative, head_gamma), F.zeros_like(y), d_gamma]


registry.register(OpDef(
    "_backward_LeakyReLU", params=_LEAKY_PARAMS, arguments=_leaky_back_arguments, infer_shape=_leaky_back_infer,
    infer_type=float_type,
    compute={"cpu": _leaky_back_compute, "gpu": _leaky_back_compute}, gradient=_leaky_back_gradient,
    num_outputs=lambda attrs: 2 if attrs["act_type"] == "prelu" else 1,
    doc="LeakyReLU's gradient: of data, and of gamma for prelu."))


# --- softmax, log_softmax, softmin, SoftmaxActivation ---------------------------------------

_SOFTMAX_PARAMS = (
    Param("axis", "int", -1, "axis to normalise along"),
    Param("temperature", "float", None, "divides the input before the exponential (None: 1)"),
    Param("dtype", "dtype", None, "output type (None: the input's)", choices=(None, "float16", "float32", "float64")),
    Param("use_length", "bool", False, "take a second input `length`: entries past it along axis are 0",
          optional=True),
)
_NO_LENGTH = np.empty((0, 0), np.int64)


def _temperature(attrs):
    t = attrs.get("temperature")
    return 1.0 if t is None else t


def _softmax_arguments(attrs):
    return ("data", "length") if attrs["use_length"] else ("data",)


def _softmax_infer(attrs, shapes):
    _check_inputs(shapes, _softmax_arguments(attrs))
    if _temperature(attrs) == 0:
        raise ValueError("temperature must be non-zero")
    data = shapes[0]
    if data is None:
        return shapes, [None]
    axis = norm_axis(attrs["axis"], len(data))
    if attrs["use_length"]:
        want = (data[:axis] + data[axis + 1:]) or (1,)
        if shapes[1] is None:
            shapes = [data, want]
        elif tuple(shapes[1]) != want:
            raise ValueError(f"length of shape {tuple(shapes[1])} does not match data of shape {data} with "
                             f"axis={attrs['axis']}: expected {want}")
    return shapes, [data]


def _softmax_type(attrs, types):
    data = types[0]
    check_float(data)  # the length's type is checked when the op runs, as MXNet 1.9.1 binds any
    out = np.dtype(attrs["dtype"]) if attrs["dtype"] else data
    return types, [out]


def _length_arg(length, shape3):
    """The kernels' int64 (outer, inner) length, or their 'no mask' value."""
    if length is None:
        return _NO_LENGTH
    if length.dtype.kind not in "iu":
        raise MXNetError(f"length must be an integer array, got {length.dtype.name}")
    return cast(length, np.dtype(np.int64)).reshape(shape3[0], shape3[2])


def _negated(a):
    if host(a):
        return np.negative(a)
    out = scratch(a, a.dtype)
    kernels("elemwise_gpu").unary_gpu("negative", a, out, REQ_WRITE)
    return out


def softmax_forward(x, out, shape3, length, temperature, kind, req):
    """out (req)= softmax / log_softmax / softmin of x along the middle axis of the (outer, M, inner) view."""
    k = kernels("softmax")
    run = k.softmax_fwd_cpu if host(x) else k.softmax_fwd_gpu
    length = _length_arg(length, shape3)
    if not host(x) and length is _NO_LENGTH:
        length = None

    def call(i, o, r):
        src = _negated(i[0]) if kind == "softmin" else i[0]  # softmin(x) = softmax(-x)
        run(src.reshape(shape3), o[0].reshape(shape3), length, float(temperature), kind == "log_softmax", r[0])
    typed_call(call, [x], [out], [req], dtype=work_dtype(x.dtype, out.dtype))


def _softmax_backward(dy, y, dx, shape3, length, temperature, kind, req):
    k = kernels("softmax")
    run = k.softmax_bwd_cpu if host(y) else k.softmax_bwd_gpu
    length = _length_arg(length, shape3)
    if not host(y) and length is _NO_LENGTH:
        length = None
    # softmin's gradient is softmax's with the sign flipped: the kernel divides by a negated temperature.
    t = -temperature if kind == "softmin" else temperature
    typed_call(lambda i, o, r: run(i[0].reshape(shape3), i[1].reshape(shape3), o[0].reshape(shape3), length,
                                    float(t), kind == "log_softmax", r[0]),
                [dy, y], [dx], [req], dtype=work_dtype(dy.dtype, dx.dtype))


def _softmax_compute(kind):
    def compute(attrs, inputs, outputs, reqs):
        x = inputs[0]
        shape3 = split3(x.shape, norm_axis(attrs["axis"], x.ndim))
        length = inputs[1] if attrs["use_length"] else None
        softmax_forward(x, outputs[0], shape3, length, _temperature(attrs), kind, reqs[0])
    return compute


def _softmax_back_compute(kind):
    def compute(attrs, inputs, outputs, reqs):
        dy, y = inputs[:2]
        shape3 = split3(y.shape, norm_axis(attrs["axis"], y.ndim))
        length = inputs[2] if attrs["use_length"] else None
        _softmax_backward(dy, y, outputs[0], shape3, length, _temperature(attrs), kind, reqs[0])
    return compute


def _softmax_gradient(kind):
    def gradient(F, attrs, inputs, outputs, ograds):
        dx = getattr(F, f"_backward_{kind}")(ograds[0], outputs[0], *inputs[1:], **attrs)
        if dx.dtype != inputs[0].dtype:  # the dtype argument made the output another type than the data
            dx = F.Cast(dx, dtype=inputs[0].dtype)
        return [dx] + [F.zeros_like(length) for length in inputs[1:]]  # MXNet writes the length's gradient as 0
    return gradient


def _softmax_back_type(attrs, types):
    return types, [types[0]]


def _valid_entries(F, y, attrs, inputs):
    """1 on the entries of each row the kernels use (j < length, clipped as they clip it), 0 past them; None without
    use_length. Softmax of zeros is 1/n on a row's first n entries and 0 past them."""
    if not attrs["use_length"]:
        return None
    uniform = F.softmax(F.zeros_like(y), inputs[2], axis=attrs["axis"], use_length=True)
    return F._greater_scalar(uniform, scalar=0)


def _softmax_back_gradient(kind):
    """Gradients of the backward op's inputs (ograd g, output y[, length]) for the head h of its dx, along axis, with
    T the temperature, sums over a row's valid entries and 0 past them (length gets none):
    softmax: dx = y (g - sum g y) / T, a symmetric Jacobian in g, so d/dg = the backward op applied to h, and
        d/dy = (g h - h sum(g y) - g sum(h y)) / T;
    softmin: softmax's with -T;
    log_softmax: dx = (g - exp(y) sum g) / T, so d/dg = (h - sum(h exp(y))) / T, d/dy = -h exp(y) sum(g) / T."""
    def gradient(F, attrs, inputs, outputs, ograds):
        g, y, h = inputs[0], inputs[1], ograds[0]
        valid = _valid_entries(F, y, attrs, inputs)

        def masked(a):
            return a if valid is None else a * valid

        def row_sum(a):
            return F.sum(masked(a), axis=attrs["axis"], keepdims=True)

        if kind == "log_softmax":
            t = _temperature(attrs)
            p = F.exp(y)
            d_g = masked(F.broadcast_sub(h, row_sum(h * p))) / t
            d_y = masked(F.broadcast_mul(h * p, row_sum(g))) / -t
        else:
            t = -_temperature(attrs) if kind == "softmin" else _temperature(attrs)
            d_g = getattr(F, f"_backward_{kind}")(h, *inputs[1:], **attrs)
            d_y = masked(g * h - F.broadcast_mul(h, row_sum(g * y)) - F.broadcast_mul(g, row_sum(h * y))) / t
        return [d_g, d_y] + [None] * (len(inputs) - 2)
    return gradient


_SOFTMAX_DOCS = {
    "softmax": "exp(x / t) / sum(exp(x / t)) along axis",
    "log_softmax": "x / t - log(sum(exp(x / t))) along axis",
    "softmin": "softmax of -x: exp(-x / t) / sum(exp(-x / t)) along axis",
}
for _kind, _doc in _SOFTMAX_DOCS.items():
    registry.register(OpDef(
        _kind, params=_SOFTMAX_PARAMS, arguments=_softmax_arguments, infer_shape=batch_free(_softmax_infer),
        partial_shapes=True,
        infer_type=_softmax_type, compute={"cpu": _softmax_compute(_kind), "gpu": _softmax_compute(_kind)},
        gradient=_softmax_gradient(_kind),
        doc=f"{_kind}: {_doc}, with temperature t; with use_length, entries of a row past length[row] are 0."))
    registry.register(OpDef(
        f"_backward_{_kind}", params=_SOFTMAX_PARAMS,
        arguments=lambda attrs: ("ograd", "output", "length") if attrs["use_length"] else ("ograd", "output"),
        infer_shape=lambda attrs, shapes: (shapes, [shapes[1]]), infer_type=_softmax_back_type,
        compute={"cpu": _softmax_back_compute(_kind), "gpu": _softmax_back_compute(_kind)},
        gradient=_softmax_back_gradient(_kind),
        doc=f"{_kind}'s gradient from the head gradient and its output, in the output's type."))


def _softmax_activation_axis(attrs, ndim):
    # MXNet 1.9.1 computes mode='instance' along the last axis, mode='channel' along axis 1.
    if attrs["mode"] == "channel":
        if ndim < 3:
            raise ValueError(f"mode='channel' needs data of at least 3 dimensions, got {ndim}")
        return 1
    return ndim - 1


def _softmax_activation_compute(attrs, inputs, outputs, reqs):
    x = inputs[0]
    shape3 = split3(x.shape, _softmax_activation_axis(attrs, x.ndim))
    softmax_forward(x, outputs[0], shape3, None, 1.0, "softmax", reqs[0])


def _softmax_activation_infer(attrs, shapes):
    if shapes[0] is not None:
        _softmax_activation_axis(attrs, len(shapes[0]))
    return shapes, [shapes[0]]


registry.register(OpDef(
    "SoftmaxActivation",
    params=(Param("mode", "str", "instance", "instance: along the last axis; channel: along axis 1",
                  choices=("channel", "instance")),),
    infer_shape=batch_free(_softmax_activation_infer), partial_shapes=True, infer_type=float_type,
    compute={"cpu": _softmax_activation_compute, "gpu": _softmax_activation_compute},
    gradient=lambda F, attrs, inputs, outputs, ograds: [F._backward_softmax(
        ograds[0], outputs[0], axis=_softmax_activation_axis(attrs, inputs[0].ndim))],
    doc="Softmax along the last axis (mode='instance') or along the channel axis 1 (mode='channel')."))


# --- Dropout -----------------------------------------------------------------------------------

def _dropout_infer(attrs, shapes):
    if not 0 <= attrs["p"] <= 1:
        raise ValueError(f"p={attrs['p']} is outside [0, 1]")
    data = shapes[0]
    if data is not None:
        for a in attrs["axes"]:
            norm_axis(a, len(data))
    return shapes, [data, data]


def _dropout_body(device, attrs, inputs, outputs, reqs):
    """output = data * mask; mask holds 0 (dropped) or 1 / (1 - p), drawn once per position of data's shape with
    `axes` set to 1 and shared along `axes` (kernels.random_dist: the same masks on either device). Identity with
    a mask of ones when inactive."""
    x, (out, mask) = inputs[0], outputs
    p = attrs["p"]
    if p == 0 or not (attrs["mode"] == "always" or attrs["__is_train__"]):
        put(out, x, reqs[0])
        fill(mask, 1, reqs[1])
        return
    axes = {norm_axis(a, x.ndim) for a in attrs["axes"]}
    if axes:
        shape = tuple(x.shape)
        draw_strides, stride = [0] * x.ndim, 1
        for i in reversed(range(x.ndim)):
            if i not in axes:
                draw_strides[i], stride = stride, stride * shape[i]
    else:
        shape, draw_strides = (x.size,), [1]
    # keep where a 32-bit word < (1 - p) * 2**32; p == 1 gives 0 * inf = nan everywhere, as MXNet does.
    threshold = np.uint64(round((1 - p) * 2 ** 32))
    scale = np.inf if p == 1 else 1.0 / (1 - p)
    run = getattr(kernels("random_dist"), f"dropout_{device}")
    run(flat(x), flat(out), flat(mask), shape, tuple(draw_strides), threshold, scale, *key(attrs))


registry.register(OpDef(
    "Dropout",
    params=(Param("p", "float", 0.5, "fraction of the input dropped in training"),
            Param("mode", "str", "training", "training: only while training; always: also in inference",
                  choices=("always", "training")),
            Param("axes", "shape", (), "axes along which one drop decision is shared"),
            Param("cudnn_off", "bool", False, "ignored (no cuDNN here)", optional=True)),
    infer_shape=batch_free(_dropout_infer), partial_shapes=True, infer_type=float_type,
    compute=kernel_compute(_dropout_body, exact=(False, False)),
    grad_reads=((), (1,)),
    gradient=lambda F, attrs, inputs, outputs, ograds: [F.elemwise_mul(ograds[0], outputs[1])],
    num_outputs=2, output_names=("output", "mask"), visible_outputs=1, random=True, train_aware=True,
    doc="Sets a fraction p of the input to zero in training and scales the rest by 1 / (1 - p); identity in "
        "inference unless mode='always'."))


# --- Embedding ---------------------------------------------------------------------------------

def _embedding_dims(attrs):
    n, d = attrs["input_dim"], attrs["output_dim"]
    if n < 1 or d < 1:
        raise ValueError(f"input_dim={n} and output_dim={d} must be positive")
    return n, d


def _embedding_infer(attrs, shapes, out_shapes=None):
    """On partial shapes: the weight is (input_dim, output_dim), the output the data's shape (unknown dimensions
    too) and output_dim."""
    data, weight = shapes
    want = _embedding_dims(attrs)
    try:
        merge(weight, want)
    except ValueError:
        raise ValueError(f"weight of shape {to_user(weight)} does not match input_dim={want[0]}, "
                         f"output_dim={want[1]}: expected {want}") from None
    return [data, want], [None if data is None else tuple(data) + (want[1],)]


def _embedding_type(attrs, types):
    data, weight = types
    if weight is None:
        weight = np.dtype(attrs["dtype"])
    return [data, weight], [weight]


def _embedding_indices(data):
    """(data as the kernels read it: flat, float16 widened exactly to float32; whether it holds floats)."""
    data = cast(data, widen(data.dtype))
    return flat(data), data.dtype.kind == "f"


def _embedding_work_dtype(dtype):
    """The type the kernels gather and add weights in: its `widen` type, int8/uint8 in int32 (CUDA atomics add 32
    or 64 bits)."""
    dtype = widen(dtype)
    return np.dtype(np.int32) if dtype.itemsize < 4 else dtype


def _embedding_compute(attrs, inputs, outputs, reqs):
    data, weight = inputs
    k = kernels("embedding")
    run = k.embedding_fwd_cpu if host(data) else k.embedding_fwd_gpu
    index, is_float = _embedding_indices(data)
    typed_call(lambda i, o, r: run(index, i[0], o[0].reshape(index.size, weight.shape[1]), is_float, r[0]),
                [weight], outputs, reqs, dtype=_embedding_work_dtype(weight.dtype))


def _embedding_back_compute(attrs, inputs, outputs, reqs):
    dy, data = inputs
    k = kernels("embedding")
    run = k.embedding_bwd_cpu if host(data) else k.embedding_bwd_gpu
    index, is_float = _embedding_indices(data)
    typed_call(lambda i, o, r: run(index, i[0].reshape(index.size, attrs["output_dim"]), o[0], is_float, r[0]),
                [dy], outputs, reqs, dtype=_embedding_work_dtype(dy.dtype))


def _embedding_back_infer(attrs, shapes):
    ograd, data = shapes
    n, d = _embedding_dims(attrs)
    if ograd is not None and data is not None and tuple(ograd) != tuple(data) + (d,):
        raise ValueError(f"head gradient of shape {tuple(ograd)} does not match data of shape {tuple(data)} with "
                         f"output_dim={d}: expected {tuple(data) + (d,)}")
    return shapes, [(n, d)]


_EMBEDDING_PARAMS = (
    Param("input_dim", "int", REQUIRED, "number of rows of weight (vocabulary size)"),
    Param("output_dim", "int", REQUIRED, "length of each embedding vector"),
    Param("dtype", "dtype", "float32", "weight type when it is not given",
          choices=("float16", "float32", "float64", "int32", "int64", "int8", "uint8")),
    Param("sparse_grad", "bool", False, "give the weight a row_sparse gradient (where the gradient's storage "
          "is inferred: simple_bind; the values are the same)"))


def _register_embedding(name, params, doc):
    registry.register(OpDef(
        name, params=params, arguments=("data", "weight"), infer_shape=_embedding_infer, partial_shapes=True,
        infer_type=_embedding_type, compute={"cpu": _embedding_compute, "gpu": _embedding_compute},
        # No gradient to the indices.
        gradient=lambda F, attrs, inputs, outputs, ograds: [
            None, F._backward_Embedding(ograds[0], inputs[0], **{k: attrs[k] for k in _EMBEDDING_NAMES})],
        grad_reads=((0,), ()),
        doc="Maps integer indices to rows of weight: output[..., :] = weight[data[...], :], indices truncated to "
            "integers and clipped to [0, input_dim - 1]." + doc))


_EMBEDDING_NAMES = tuple(p.name for p in _EMBEDDING_PARAMS)
_register_embedding("Embedding", _EMBEDDING_PARAMS, "")
# MXNet's contrib.SparseEmbedding: Embedding whose weight gradient is always row_sparse (ndarray/sparse_stypes.py);
# `deterministic` orders MXNet's parallel gradient sums, which here are always summed in one order.
_register_embedding("_contrib_SparseEmbedding", _EMBEDDING_PARAMS + (
    Param("deterministic", "bool", False, "accepted: the gradient is always summed in one order"),),
    " Its weight gradient is row_sparse.")
registry.register(OpDef(
    "_backward_Embedding", params=_EMBEDDING_PARAMS, arguments=("ograd", "data"), infer_shape=_embedding_back_infer,
    infer_type=lambda attrs, types: (types, [types[0]]),
    compute={"cpu": _embedding_back_compute, "gpu": _embedding_back_compute},
    gradient=lambda F, attrs, inputs, outputs, ograds: [F.Embedding(inputs[1], ograds[0], **attrs), None],
    grad_reads=((1,), ()),
    doc="Embedding's dense weight gradient: the head gradient's rows added at the (clipped) rows of the indices."))
