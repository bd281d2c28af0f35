"""Convolution, Deconvolution and FullyConnected on the conv/dense kernels, with the hidden backward ops their
gradients call. Channel-first data (NCW, NCHW, NCDHW) only; Deconvolution runs the convolution kernels with
the roles of input and output swapped."""
import functools
import math

from . import registry
from ._nn_common import fill_shapes, float_type, host, kernel, kernel_compute, kernels, scratch
from .partial_shape import UNKNOWN, batch_free, is_known, merge, to_user
from .registry import OpDef, Param
from ..kernels.common import REQ_ADD, REQ_NULL, REQ_WRITE
from ..kernels.conv_common import conv_out_size, deconv_out_size

# --- shared -------------------------------------------------------------------------------------


def _conv(device, name):
    """The convolution kernel conv_<name> of `device` (kernels.conv_cpu or conv_gpu)."""
    return kernel(f"conv_{device}", f"conv_{name}", device)


def _with_bias(attrs):
    return ["data", "weight"] if attrs["no_bias"] else ["data", "weight", "bias"]


def _n_grads(attrs):
    return 2 if attrs["no_bias"] else 3


def _backward_infer(forward_infer):
    """Shape rule of a hidden backward op with inputs (ograd, data, weight): the forward rule on data and
    weight checks them, the head gradient must have the forward output's shape, and the outputs are the
    gradients of data, weight (and bias)."""
    def infer(attrs, shapes):
        ograd, data, weight = shapes
        ins, outs = forward_infer(attrs, [data, weight] + [None] * (_n_grads(attrs) - 2))
        if outs[0] is not None and ograd is not None and tuple(ograd) != tuple(outs[0]):
            raise ValueError(f"head gradient of shape {tuple(ograd)} is not the output shape {outs[0]} of "
                             f"data {tuple(data)}")
        return [ograd, ins[0], ins[1]], list(ins)
    return infer


def _register_pair(name, params, infer, forward, backward, doc, back_doc, partial_shapes=False, back_gradient=None):
    """Register op `name` (inputs data, weight and, unless no_bias, bias) and its hidden backward op, which
    its gradient calls and which returns the gradients of every input at once; `partial_shapes` as OpDef's,
    `back_gradient` the backward op's own gradient (second order), reading its inputs only."""
    back = "_backward_" + name

    def gradient(F, attrs, inputs, outputs, ograds):
        grads = list(getattr(F, back)(ograds[0], inputs[0], inputs[1], **attrs))
        if len(inputs) == 3 and inputs[2].shape != grads[2].shape:  # FullyConnected's (num_hidden, 1) bias
            grads[2] = F.reshape(grads[2], shape=inputs[2].shape)
        return grads

    registry.register(OpDef(
        name, params=params, arguments=_with_bias, infer_shape=infer, infer_type=float_type,
        compute=kernel_compute(forward), gradient=gradient, output_names=("output",),
        grad_reads=(None, ()), doc=doc, partial_shapes=partial_shapes, gradient_op=back))
    registry.register(OpDef(
        back, params=params, arguments=("ograd", "data", "weight"), infer_shape=_backward_infer(infer),
        infer_type=float_type,
        compute=kernel_compute(backward), num_outputs=_n_grads, doc=back_doc, gradient=back_gradient,
        grad_reads=((0, 1, 2), ()) if back_gradient else None))


# --- geometry of Convolution and Deconvolution --------------------------------------------------

_LAYOUTS = {1: "NCW", 2: "NCHW", 3: "NCDHW"}
_CHANNEL_LAST = ("NHWC", "NDHWC")


def _spd(attrs):
    """(kernel, stride, pad, dilate) with MXNet's defaults (1, 0, 1), after checking the parameters alone."""
    return _checked_spd(attrs["kernel"], attrs["layout"], attrs["stride"], attrs["pad"], attrs["dilate"],
                        attrs["num_filter"], attrs["num_group"])


# Checked once per parameter set: a replayed ResNet-50 asks 53 times a call (4 us each).
@functools.lru_cache(maxsize=1024)
def _checked_spd(kernel, layout, stride, pad, dilate, num_filter, num_group):
    nd = len(kernel)
    if not 1 <= nd <= 3:
        raise ValueError(f"kernel {kernel} must have 1, 2 or 3 dimensions")
    if layout in _CHANNEL_LAST:
        raise ValueError(f"layout {layout} is not supported: only the channel-first layouts NCW, NCHW and NCDHW "
                         "are (transpose the data)")
    if layout is not None and layout != _LAYOUTS[nd]:
        raise ValueError(f"layout {layout} does not fit the {nd}-D kernel {kernel}: expected {_LAYOUTS[nd]}")
    geom = [kernel]
    for key, value, default in (("stride", stride, 1), ("pad", pad, 0), ("dilate", dilate, 1)):
        value = value or (default,) * nd
        if len(value) != nd:
            raise ValueError(f"{key} {value} must have {nd} entries, as kernel {kernel} has")
        geom.append(value)
    for key, value in zip(("kernel", "stride", "dilate"), (geom[0], geom[1], geom[3])):
        if min(value) < 1:
            raise ValueError(f"{key} {value} must be positive in every dimension")
    if min(geom[2]) < 0:
        raise ValueError(f"pad {geom[2]} must not be negative")
    if num_filter < 1 or num_group < 1:
        raise ValueError(f"num_filter ({num_filter}) and num_group ({num_group}) must be positive")
    if num_filter % num_group:
        raise ValueError(f"num_filter {num_filter} is not divisible by num_group {num_group}")
    return tuple(tuple(int(v) for v in g) for g in geom)


def _check_data(attrs, data, kernel):
    nd = len(kernel)
    if len(data) != nd + 2:
        raise ValueError(f"data of shape {tuple(data)} must be {nd + 2}-D ({_LAYOUTS[nd]}) for the {nd}-D kernel "
                         f"{kernel}")
    if data[1] >= 0 and data[1] % attrs["num_group"]:
        raise ValueError(f"the {data[1]} channels of data {tuple(data)} are not divisible by num_group "
                         f"{attrs['num_group']}")


def _conv_infer(attrs, shapes, out_shapes=None):
    """MXNet's rule on partial shapes: the data's rank must be known; weight and bias follow from its channels,
    the output from the data, and a known output gives the data its batch and, where the stride is 1, its
    spatial sizes."""
    kernel, stride, pad, dilate = _spd(attrs)
    data = shapes[0]
    if data is None:
        return shapes, [None]
    data, given = tuple(data), out_shapes[0] if out_shapes else None
    if given is not None and len(given) == len(data):
        back = [o + d * (k - 1) - 2 * p if s == 1 and o >= 0 else UNKNOWN
                for o, k, s, p, d in zip(given[2:], kernel, stride, pad, dilate)]
        data = _expect(data, (given[0], data[1], *back), "data", lambda: f"output {to_user(given)}")
    _check_data(attrs, data, kernel)
    out = []
    for n, k, s, p, d in zip(data[2:], kernel, stride, pad, dilate):
        if n >= 0 and d * (k - 1) + 1 > n + 2 * p:
            raise ValueError(f"kernel {kernel} with dilate {dilate} spans more than data {data} padded by {pad}")
        out.append(conv_out_size(n, k, s, p, d) if n >= 0 else UNKNOWN)
    O, G = attrs["num_filter"], attrs["num_group"]
    context = lambda: f"data {to_user(data)} with num_filter={O}, num_group={G}, kernel={kernel}"  # noqa: E731
    ins = [data, _expect(shapes[1], (O, data[1] // G if data[1] >= 0 else UNKNOWN) + kernel, "weight", context)]
    if len(shapes) == 3:
        ins.append(_expect(shapes[2], (O,), "bias", context))
    return ins, [(data[0], O) + tuple(out)]


def _deconv_pad(attrs, data):
    """(stride, pad, dilate, adj) of Deconvolution on data of shape `data`; with a target_shape, pad and adj
    come from it as MXNet's InferPad computes them: the excess over the full size, half as pad (rounded up),
    the odd remainder as adj."""
    kernel, stride, pad, dilate = _spd(attrs)
    nd, target, data = len(kernel), attrs["target_shape"], tuple(data)
    adj = attrs["adj"] or (0,) * nd
    if len(adj) != nd:
        raise ValueError(f"adj {adj} must have {nd} entries, as kernel {kernel} has")
    if any(target):
        if len(target) != nd or min(target) < 1:
            raise ValueError(f"target_shape {target} must have {nd} positive entries, as kernel {kernel} has")
        full = tuple(deconv_out_size(n, k, s, 0, d) for n, k, s, d in zip(data[2:], kernel, stride, dilate))
        if any(t > f for t, f in zip(target, full)):
            raise ValueError(f"target_shape {target} is larger than the full output {full} of data {data}")
        pad = tuple((f - t + 1) // 2 for f, t in zip(full, target))
        adj = tuple((f - t) % 2 for f, t in zip(full, target))
    if any(a >= s or a < 0 for a, s in zip(adj, stride)):
        raise ValueError(f"adj {adj} must be non-negative and smaller than stride {stride}"
                         + (f" (target_shape {target} needs it)" if any(target) else ""))
    return kernel, stride, pad, dilate, adj


def _deconv_infer(attrs, shapes):
    kernel = _spd(attrs)[0]
    data = shapes[0]
    if data is None:
        return shapes, [None]
    data = tuple(data)
    _check_data(attrs, data, kernel)
    _, stride, pad, dilate, adj = _deconv_pad(attrs, data)
    out = tuple(deconv_out_size(*a) for a in zip(data[2:], kernel, stride, pad, dilate, adj))
    if min(out) < 1:
        raise ValueError(f"output size {out} of data {data} with kernel {kernel}, stride {stride}, pad {pad}, "
                         f"dilate {dilate}, adj {adj} is not positive")
    F, G = attrs["num_filter"], attrs["num_group"]
    weight = (data[1], F // G) + kernel
    shapes = fill_shapes(shapes, ("weight", "bias"), (weight, (F,)),
                   f"data {data} with num_filter={F}, num_group={G}, kernel={kernel}")
    return shapes, [(data[0], F) + out]


def _conv_args(attrs):
    """(stride, pad, dilate, groups) as the kernels take them."""
    _, stride, pad, dilate = _spd(attrs)
    return stride, pad, dilate, attrs["num_group"]


def _deconv_args(attrs, data_shape):
    """(stride, pad, dilate, groups) as the kernels take them; pad may come from target_shape."""
    _, stride, pad, dilate, _ = _deconv_pad(attrs, data_shape)
    return stride, pad, dilate, attrs["num_group"]


# --- Convolution --------------------------------------------------------------------------------

def _bias(attrs, inputs):
    return None if attrs["no_bias"] else inputs[2]


def _conv_forward(device, attrs, inputs, outputs, reqs):
    x, w = inputs[:2]
    _conv(device, "fwd")(x, w, _bias(attrs, inputs), outputs[0], reqs[0], *_conv_args(attrs))


def _conv_backward(device, attrs, inputs, outputs, reqs):
    dy, x, w = inputs
    geom = _conv_args(attrs)
    _conv(device, "bwd_data")(dy, w, outputs[0], reqs[0], *geom)
    _conv(device, "bwd_weight")(x, dy, outputs[1], reqs[1], *geom)
    if len(outputs) == 3:
        _conv(device, "bwd_bias")(dy, outputs[2], reqs[2])


def _common_params(workspace, no_bias):
    return (
        Param("num_filter", "int", doc="number of output channels"),
        Param("num_group", "int", 1, "number of groups: input and output channels are split into this many "
              "independent convolutions"),
        Param("workspace", "int", workspace, "accepted for compatibility (MB of temporary workspace)"),
        Param("no_bias", "bool", no_bias, "leave out the bias input"),
        Param("cudnn_tune", "str", None, "accepted for compatibility; mxcy never uses cuDNN",
              choices=(None, "off", "limited_workspace", "fastest")),
        Param("cudnn_off", "bool", False, "accepted for compatibility; mxcy never uses cuDNN"),
        Param("layout", "str", None, "data layout; only the channel-first NCW, NCHW, NCDHW (the default)",
              choices=(None, "NCW", "NCHW", "NCDHW", "NHWC", "NDHWC")),
    )


def _window_params(what):
    return (
        Param("kernel", "shape", doc=f"{what} kernel size: (w,), (h, w) or (d, h, w)"),
        Param("stride", "shape", (), f"{what} stride per spatial dimension; defaults to 1"),
        Param("dilate", "shape", (), "dilation per spatial dimension; defaults to 1"),
        Param("pad", "shape", (), "zero padding per spatial dimension; defaults to 0"),
    )


_register_pair(
    "Convolution", _window_params("convolution") + _common_params(1024, False), _conv_infer, _conv_forward,
    _conv_backward,
    "Convolution over 1-3 spatial dimensions of channel-first data, with groups and dilation: weight "
    "(num_filter, channels/num_group, *kernel), bias (num_filter,).",
    "Convolution's gradients wrt data, weight (and bias) from the head gradient, the data and the weight.",
    partial_shapes=True)


# --- Deconvolution ------------------------------------------------------------------------------

def _deconv_forward(device, attrs, inputs, outputs, reqs):
    x, w = inputs[:2]
    # The data gradient of the convolution mapping Deconvolution's output back to its input.
    _conv(device, "bwd_data")(x, w, outputs[0], reqs[0], *_deconv_args(attrs, x.shape), bias=_bias(attrs, inputs))


def _deconv_backward(device, attrs, inputs, outputs, reqs):
    dy, x, w = inputs
    geom = _deconv_args(attrs, x.shape)
    _conv(device, "fwd")(dy, w, None, outputs[0], reqs[0], *geom)
    _conv(device, "bwd_weight")(dy, x, outputs[1], reqs[1], *geom)
    if len(outputs) == 3:
        _conv(device, "bwd_bias")(dy, outputs[2], reqs[2])


_register_pair(
    "Deconvolution",
    _window_params("deconvolution") + (
        Param("adj", "shape", (), "extra output size at the end of each dimension, smaller than the stride; "
              "ignored with target_shape"),
        Param("target_shape", "shape", (), "output spatial size; pad and adj are then computed from it"),
    ) + _common_params(512, True),
    batch_free(_deconv_infer), _deconv_forward, _deconv_backward,
    "Transposed convolution (the data gradient of Convolution) over 1-3 spatial dimensions: weight "
    "(channels, num_filter/num_group, *kernel), output size stride*(in-1) + dilate*(kernel-1) + 1 - 2*pad + adj.",
    "Deconvolution's gradients wrt data, weight (and bias) from the head gradient, the data and the weight.",
    partial_shapes=True)


# --- FullyConnected -----------------------------------------------------------------------------

def _fc_split(attrs, data):
    """(rows, features) of data seen as a matrix: all but axis 0 flattened, or all but the last axis
    as rows."""
    data = tuple(data)  # a device array's shape may not take negative indices (CUDA simulator)
    if attrs["flatten"]:
        return data[0], math.prod(data[1:])
    return math.prod(data[:-1]), data[-1]


def _fc_infer(attrs, shapes, out_shapes=None):
    """MXNet's rule on partial shapes: the data's rank must be known; weight, bias and output follow from the
    data, and the data's leading dimensions (the batch) from a known output."""
    H = attrs["num_hidden"]
    if H < 1:
        raise ValueError(f"num_hidden must be positive, got {H}")
    data = shapes[0]
    if data is None:
        return shapes, [None]
    data, out = tuple(data), out_shapes[0] if out_shapes else None
    lead = 1 if attrs["flatten"] else len(data) - 1
    if out is not None:
        data = _expect(data, tuple(out[:lead]) + data[lead:], "data", lambda: f"output {to_user(out)}")
    features = data[lead:]
    K = math.prod(features) if is_known(features) else UNKNOWN
    context = lambda: f"data {to_user(data)} with num_hidden={H}, flatten={attrs['flatten']}"  # noqa: E731
    ins = [data, _expect(shapes[1], (H, K), "weight", context)]
    if len(shapes) == 3:  # MXNet 1.9.1 also takes a (num_hidden, 1) bias
        bias = (H, 1) if shapes[2] is not None and tuple(shapes[2]) == (H, 1) else (H,)
        ins.append(_expect(shapes[2], bias, "bias", context))
    return ins, [data[:lead] + (H,)]


def _expect(have, want, name, context):
    """`have` completed with `want`; a ValueError naming the input and context() when they disagree."""
    try:
        return merge(have, want)
    except ValueError:
        raise ValueError(f"{name} shape {to_user(have)} does not match {context()}: "
                         f"expected {to_user(want)}") from None


def _as_matrix(attrs, a, data_shape, width=None):
    if len(data_shape) == 2:  # a matrix already, either way of flattening (the common case, kept short)
        return a if width is None or a.shape[1] == width else a.reshape((data_shape[0], width))
    rows, k = _fc_split(attrs, data_shape)
    shape = (rows, k if width is None else width)
    return a if a.shape == shape else a.reshape(shape)


def _fc_bias(attrs, inputs):
    """The bias input as a vector (it may be (num_hidden, 1))."""
    bias = _bias(attrs, inputs)
    return None if bias is None else bias.reshape(bias.shape[0])


def _fc_forward(device, attrs, inputs, outputs, reqs):
    x, w = inputs[:2]
    kernel("dense", "fc_fwd", device)(_as_matrix(attrs, x, x.shape), w, _fc_bias(attrs, inputs),
                                      _as_matrix(attrs, outputs[0], x.shape, w.shape[0]), reqs[0])


def _fc_backward(device, attrs, inputs, outputs, reqs):
    dy, x, w = inputs
    db, req_db = (outputs[2], reqs[2]) if len(outputs) == 3 else (None, REQ_WRITE)
    kernel("dense", "fc_bwd", device)(_as_matrix(attrs, dy, x.shape, w.shape[0]), _as_matrix(attrs, x, x.shape), w,
                                      _as_matrix(attrs, outputs[0], x.shape), outputs[1], db, reqs[0], reqs[1],
                                      req_db)


def _fc_backward_gradient(F, attrs, inputs, outputs, ograds):
    """The backward op's outputs are bilinear in its inputs (dy, x, w) (as matrices: dx = dy w, dw = dy^T x,
    db = dy's column sums), so each input's gradient is a FullyConnected or its backward of the head gradients
    (gx, gw, gb): d dy = gx w^T + gb + x gw^T, d x = dy gw, d w = dy^T gx. MXNet 1.9.1's
    _backward_backward_FullyConnected gives the last two (and no gradient of dy)."""
    dy, x, w = inputs
    gx, gw = ograds[:2]
    plain = dict(attrs, no_bias=True)
    d_dy = F.FullyConnected(gx, w, *ograds[2:], **attrs) + F.FullyConnected(x, gw, **plain)
    d_x, d_w = F._backward_FullyConnected(dy, gx, gw, **plain)
    return [d_dy, d_x, d_w]


_register_pair(
    "FullyConnected",
    (Param("num_hidden", "int", doc="number of output features"),
     Param("no_bias", "bool", False, "leave out the bias input"),
     Param("flatten", "bool", True, "flatten all but the first axis of data; else apply to the last axis")),
    _fc_infer, _fc_forward, _fc_backward,
    "A linear layer, data @ weight.T + bias: weight (num_hidden, features), bias (num_hidden,).",
    "FullyConnected's gradients wrt data, weight (and bias) from the head gradient, the data and the weight.",
    partial_shapes=True, back_gradient=_fc_backward_gradient)


# --- Convolution -> BatchNorm (inference) -> (+ residual) -> (ReLU), fused ----------------------------------------

_BN_STATS = ("gamma", "beta", "moving_mean", "moving_var")


def _fused_arguments(attrs):
    return (_with_bias(attrs) + list(_BN_STATS) + (["residual"] if attrs["with_sum"] else []))


def _fused_infer(attrs, shapes):
    n_conv = 2 if attrs["no_bias"] else 3
    conv_ins, (out,) = _conv_infer(attrs, shapes[:n_conv])
    if out is None or any(s is None for s in conv_ins):
        return shapes, [None]
    O = attrs["num_filter"]
    # fill_shapes passes over its first entry: the last convolution input stands there
    rest = fill_shapes([conv_ins[-1]] + list(shapes[n_conv:]), _fused_arguments(attrs)[n_conv - 1:],
                       [(O,)] * 4 + [out], f"the output {tuple(out)} of data {tuple(conv_ins[0])} with num_filter={O}")
    return list(conv_ins) + rest[1:], [out]


def _fused_forward(device, attrs, inputs, outputs, reqs):
    if reqs[0] == REQ_NULL:
        return
    x, w = inputs[:2]
    n_conv = 2 if attrs["no_bias"] else 3
    gamma, beta, mean, var = inputs[n_conv:n_conv + 4]
    out = outputs[0]
    y = out if reqs[0] == REQ_WRITE else scratch(out, out.dtype)
    bias = inputs[2] if n_conv == 3 else None
    N, O = y.shape[:2]
    res = (inputs[-1] if attrs["with_sum"] else y).reshape(N, O, -1)
    finish = (gamma, beta, mean, var, attrs["eps"], res, attrs["with_sum"], attrs["with_relu"])
    # The CPU kernels finish some convolutions block by block, the bias folded in; otherwise the convolution has
    # added the bias and the epilogue runs over its output.
    if device == "cpu":
        if _conv(device, "fwd")(x, w, bias, y, REQ_WRITE, *_conv_args(attrs), epilogue=finish):
            return _add_into(out, y, reqs[0])
    else:
        _conv(device, "fwd")(x, w, bias, y, REQ_WRITE, *_conv_args(attrs))
    kernel("conv_epilogue", "conv_epilogue", device)(y.reshape(N, O, -1), gamma, False, *finish)
    _add_into(out, y, reqs[0])


def _add_into(out, y, req):
    """out += y for a req add (y the scratch the result went to)."""
    if req == REQ_ADD:
        if host(out):
            out += y
        else:
            kernels("elemwise_gpu").copy_gpu(y, out, REQ_ADD)


registry.register(OpDef(
    "_fused_conv_bn",
    params=_window_params("convolution") + _common_params(1024, False) + (
        Param("eps", "float", 1e-3, "the BatchNorm's epsilon, added to the moving variance"),
        Param("with_sum", "bool", False, "add the input `residual` after the BatchNorm"),
        Param("with_relu", "bool", False, "ReLU last"),
    ),
    arguments=_fused_arguments, infer_shape=_fused_infer, infer_type=float_type, compute=kernel_compute(_fused_forward),
    doc="relu?(BatchNorm(Convolution(data, weight, bias)) (+ residual)) with the BatchNorm in inference mode (moving "
        "statistics, gamma as given) as one operator, the convolution's output finished in one pass "
        "(kernels/conv_epilogue.py): what symbol/fuse.py makes of such chains in inference graphs, as MXNet's oneDNN "
        "subgraph backend makes _sg_mkldnn_conv. Inference only: no gradient."))
