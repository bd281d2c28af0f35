"""Convolution, transposed convolution, pooling and reflection-padding layers (Convolution, Deconvolution,
Pooling and pad ops through F), in the channel-first layouts and the channel-last ones MXNet 1.9.1 accepts."""
from .activations import Activation
from ..block import HybridBlock
from ...base import numeric_types

__all__ = ["Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose",
           "MaxPool1D", "MaxPool2D", "MaxPool3D", "AvgPool1D", "AvgPool2D", "AvgPool3D",
           "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalMaxPool3D", "GlobalAvgPool1D", "GlobalAvgPool2D",
           "GlobalAvgPool3D", "ReflectionPad2D"]

_LAYOUTS = {1: ("NCW", "NWC"), 2: ("NCHW", "NHWC"), 3: ("NCDHW", "NDHWC")}


def _tuple(value, n, what, layer):
    """An int repeated n times, or a tuple/list of n ints."""
    if isinstance(value, numeric_types):
        return (int(value),) * n
    value = tuple(value)
    if len(value) != n:
        raise ValueError(f"{layer}: {what} must be a number or a list of {n} ints, got {value}")
    return value


def _check_layout(layout, n, layer, allowed=None):
    allowed = allowed or _LAYOUTS[n]
    if layout not in allowed:
        raise ValueError(f"{layer}: layout {layout!r} is not supported; expected one of {', '.join(allowed)}")


def _channel_last(layout):
    return layout[-1] == "C"


def _channel_first_op(F, op, x, ndim, weights=(), **kwargs):
    """op over channel-last `x` (N, spatial..., C) and `weights` (their second axis last, as MXNet stores them):
    the Convolution/Deconvolution/Pooling ops compute channel-first only, so the arrays are transposed around
    the op (registered transpose ops, so gradients and hybridized graphs follow)."""
    to_first = (0, ndim - 1) + tuple(range(1, ndim - 1))
    moved = [F.transpose(a, axes=to_first) for a in (x,) + tuple(weights[:1])] + list(weights[1:])
    out = op(*moved, **dict(kwargs, layout=None))
    return F.transpose(out, axes=(0,) + tuple(range(2, ndim)) + (1,))


def conv_repr(block, kwargs, ndim, weight, bias):
    """MXNet 1.9.1's repr of a convolution layer (also gluon.contrib.cnn's): the operator's window arguments that
    differ from their defaults, the bias and activation. MXNet shows no output_padding (it looks for an attribute
    the layers never set)."""
    s = f"kernel_size={kwargs['kernel']}, stride={kwargs['stride']}"
    if kwargs["pad"] != (0,) * ndim:
        s += f", padding={kwargs['pad']}"
    if kwargs["dilate"] != (1,) * ndim:
        s += f", dilation={kwargs['dilate']}"
    if kwargs["num_group"] != 1:
        s += f", groups={kwargs['num_group']}"
    if bias is None:
        s += ", bias=False"
    if block.act:
        s += f", {block.act}"
    shape = weight.shape
    return f"{type(block).__name__}({shape[1] if shape[1] else None} -> {shape[0]}, {s})"


class _Conv(HybridBlock):
    """Convolution or Deconvolution (`_transpose`) over `_ndim` spatial axes, with weight and optional bias, then
    an optional activation.

    Weight shapes are MXNet's: Convolution (channels, in_channels/groups, *kernel), Deconvolution (in_channels,
    channels/groups, *kernel); channel-last layouts move the second axis last. in_channels=0 leaves it unknown
    until the first forward. The Convolution/Deconvolution ops compute channel-first only, so channel-last data
    and weights are transposed around the op.
    """
    _ndim = None
    _transpose = False

    def __init__(self, channels, kernel_size, strides, padding, dilation, groups, layout, in_channels=0,
                 activation=None, use_bias=True, weight_initializer=None, bias_initializer="zeros",
                 output_padding=None, op_name=None, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        n, name = self._ndim, type(self).__name__
        _check_layout(layout, n, name, ("NCW",) if n == 1 else None)  # MXNet 1.9.1's 1-D ones take NCW only
        kernel_size = _tuple(kernel_size, n, "kernel_size", name)
        with self.name_scope():
            self._channels = channels
            self._in_channels = in_channels
            self._op_name = op_name or ("Deconvolution" if self._transpose else "Convolution")
            self._kwargs = {"kernel": kernel_size, "stride": _tuple(strides, n, "strides", name),
                            "dilate": _tuple(dilation, n, "dilation", name),
                            "pad": _tuple(padding, n, "padding", name), "num_filter": channels,
                            "num_group": groups, "no_bias": not use_bias, "layout": layout}
            if self._transpose:
                self.outpad = self._kwargs["adj"] = _tuple(output_padding, n, "output_padding", name)
            first, second = (in_channels, channels // groups) if self._transpose else \
                (channels, in_channels // groups)
            wshape = (first,) + kernel_size + (second,) if _channel_last(layout) else (first, second) + kernel_size
            self.weight = self.params.get("weight", shape=wshape, init=weight_initializer,
                                          allow_deferred_init=True)
            self.bias = self.params.get("bias", shape=(channels,), init=bias_initializer,
                                        allow_deferred_init=True) if use_bias else None
            self.act = Activation(activation, prefix=activation + "_") if activation is not None else None

    def hybrid_forward(self, F, x, weight, bias=None):
        op = getattr(F, self._op_name)
        weights = (weight,) if bias is None else (weight, bias)
        if _channel_last(self._kwargs["layout"]):
            out = _channel_first_op(F, op, x, self._ndim + 2, weights, name="fwd", **self._kwargs)
        else:
            out = op(x, *weights, name="fwd", **self._kwargs)
        return self.act(out) if self.act is not None else out

    def infer_shape(self, x, *args):
        """Channel-last layers fill in_channels from the data's last axis themselves: shape inference cannot see
        the weight through the transpose their graph puts before the op."""
        if not _channel_last(self._kwargs["layout"]):
            return super().infer_shape(x, *args)
        in_channels, groups = x.shape[-1], self._kwargs["num_group"]
        shape = list(self.weight.shape)
        if self._transpose:
            shape[0] = in_channels
        else:
            shape[-1] = in_channels // groups
        self.weight.shape = tuple(shape)
        return None

    def _alias(self):
        return "conv"

    def __repr__(self):
        return conv_repr(self, self._kwargs, self._ndim, self.weight, self.bias)


class Conv1D(_Conv):
    """1-D convolution over (N, C, W) data."""
    _ndim = 1

    def __init__(self, channels, kernel_size, strides=1, padding=0, dilation=1, groups=1, layout="NCW",
                 activation=None, use_bias=True, weight_initializer=None, bias_initializer="zeros", in_channels=0,
                 **kwargs):
        super().__init__(channels, kernel_size, strides, padding, dilation, groups, layout, in_channels,
                         activation, use_bias, weight_initializer, bias_initializer, **kwargs)


class Conv2D(_Conv):
    """2-D convolution over NCHW or NHWC data."""
    _ndim = 2

    def __init__(self, channels, kernel_size, strides=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1,
                 layout="NCHW", activation=None, use_bias=True, weight_initializer=None, bias_initializer="zeros",
                 in_channels=0, **kwargs):
        super().__init__(channels, kernel_size, strides, padding, dilation, groups, layout, in_channels,
                         activation, use_bias, weight_initializer, bias_initializer, **kwargs)


class Conv3D(_Conv):
    """3-D convolution over NCDHW or NDHWC data."""
    _ndim = 3

    def __init__(self, channels, kernel_size, strides=(1, 1, 1), padding=(0, 0, 0), dilation=(1, 1, 1), groups=1,
                 layout="NCDHW", activation=None, use_bias=True, weight_initializer=None, bias_initializer="zeros",
                 in_channels=0, **kwargs):
        super().__init__(channels, kernel_size, strides, padding, dilation, groups, layout, in_channels,
                         activation, use_bias, weight_initializer, bias_initializer, **kwargs)


class Conv1DTranspose(_Conv):
    """1-D transposed convolution: out_width = (width-1)*strides - 2*padding + kernel_size + output_padding."""
    _ndim, _transpose = 1, True

    def __init__(self, channels, kernel_size, strides=1, padding=0, output_padding=0, dilation=1, groups=1,
                 layout="NCW", activation=None, use_bias=True, weight_initializer=None, bias_initializer="zeros",
                 in_channels=0, **kwargs):
        super().__init__(channels, kernel_size, strides, padding, dilation, groups, layout, in_channels,
                         activation, use_bias, weight_initializer, bias_initializer, output_padding, **kwargs)


class Conv2DTranspose(_Conv):
    """2-D transposed convolution over NCHW or NHWC data."""
    _ndim, _transpose = 2, True

    def __init__(self, channels, kernel_size, strides=(1, 1), padding=(0, 0), output_padding=(0, 0),
                 dilation=(1, 1), groups=1, layout="NCHW", activation=None, use_bias=True, weight_initializer=None,
                 bias_initializer="zeros", in_channels=0, **kwargs):
        super().__init__(channels, kernel_size, strides, padding, dilation, groups, layout, in_channels,
                         activation, use_bias, weight_initializer, bias_initializer, output_padding, **kwargs)


class Conv3DTranspose(_Conv):
    """3-D transposed convolution over NCDHW or NDHWC data."""
    _ndim, _transpose = 3, True

    def __init__(self, channels, kernel_size, strides=(1, 1, 1), padding=(0, 0, 0), output_padding=(0, 0, 0),
                 dilation=(1, 1, 1), groups=1, layout="NCDHW", activation=None, use_bias=True,
                 weight_initializer=None, bias_initializer="zeros", in_channels=0, **kwargs):
        super().__init__(channels, kernel_size, strides, padding, dilation, groups, layout, in_channels,
                         activation, use_bias, weight_initializer, bias_initializer, output_padding, **kwargs)


class _Pooling(HybridBlock):
    """The Pooling op over `_ndim` spatial axes; strides default to the pool size, ceil_mode is MXNet's 'full'
    pooling convention."""
    _ndim = None

    def __init__(self, pool_size, strides, padding, ceil_mode, global_pool, pool_type, layout,
                 count_include_pad=None, **kwargs):
        super().__init__(**kwargs)
        n, name = self._ndim, type(self).__name__
        _check_layout(layout, n, name)
        pool_size = _tuple(pool_size, n, "pool_size", name)
        self._kwargs = {"kernel": pool_size, "stride": _tuple(pool_size if strides is None else strides, n,
                                                              "strides", name),
                        "pad": _tuple(padding, n, "padding", name), "global_pool": global_pool,
                        "pool_type": pool_type, "layout": layout, "pooling_convention": "full" if ceil_mode else "valid"}
        if count_include_pad is not None:
            self._kwargs["count_include_pad"] = count_include_pad

    def _alias(self):
        return "pool"

    def hybrid_forward(self, F, x):
        if _channel_last(self._kwargs["layout"]):
            return _channel_first_op(F, F.Pooling, x, self._ndim + 2, name="fwd", **self._kwargs)
        return F.Pooling(x, name="fwd", **self._kwargs)

    def __repr__(self):
        k = self._kwargs
        return (f"{type(self).__name__}(size={k['kernel']}, stride={k['stride']}, padding={k['pad']}, "
                f"ceil_mode={k['pooling_convention'] == 'full'}, global_pool={k['global_pool']}, "
                f"pool_type={k['pool_type']}, layout={k['layout']})")


class MaxPool1D(_Pooling):
    """Max pooling over W (NCW or NWC)."""
    _ndim = 1

    def __init__(self, pool_size=2, strides=None, padding=0, layout="NCW", ceil_mode=False, **kwargs):
        super().__init__(pool_size, strides, padding, ceil_mode, False, "max", layout, **kwargs)


class MaxPool2D(_Pooling):
    """Max pooling over H, W (NCHW or NHWC)."""
    _ndim = 2

    def __init__(self, pool_size=(2, 2), strides=None, padding=0, layout="NCHW", ceil_mode=False, **kwargs):
        super().__init__(pool_size, strides, padding, ceil_mode, False, "max", layout, **kwargs)


class MaxPool3D(_Pooling):
    """Max pooling over D, H, W (NCDHW or NDHWC)."""
    _ndim = 3

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding=0, ceil_mode=False, layout="NCDHW", **kwargs):
        super().__init__(pool_size, strides, padding, ceil_mode, False, "max", layout, **kwargs)


class AvgPool1D(_Pooling):
    """Average pooling over W; count_include_pad counts padded positions in the divisor."""
    _ndim = 1

    def __init__(self, pool_size=2, strides=None, padding=0, layout="NCW", ceil_mode=False, count_include_pad=True,
                 **kwargs):
        super().__init__(pool_size, strides, padding, ceil_mode, False, "avg", layout, count_include_pad, **kwargs)


class AvgPool2D(_Pooling):
    """Average pooling over H, W."""
    _ndim = 2

    def __init__(self, pool_size=(2, 2), strides=None, padding=0, ceil_mode=False, layout="NCHW",
                 count_include_pad=True, **kwargs):
        super().__init__(pool_size, strides, padding, ceil_mode, False, "avg", layout, count_include_pad, **kwargs)


class AvgPool3D(_Pooling):
    """Average pooling over D, H, W."""
    _ndim = 3

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding=0, ceil_mode=False, layout="NCDHW",
                 count_include_pad=True, **kwargs):
        super().__init__(pool_size, strides, padding, ceil_mode, False, "avg", layout, count_include_pad, **kwargs)


class _GlobalPooling(_Pooling):
    """Pooling over all spatial positions: output spatial size 1."""
    _pool_type = None

    def __init__(self, layout, **kwargs):
        super().__init__(1, None, 0, True, True, self._pool_type, layout, **kwargs)


class GlobalMaxPool1D(_GlobalPooling):
    """Maximum over W."""
    _ndim, _pool_type = 1, "max"

    def __init__(self, layout="NCW", **kwargs):
        super().__init__(layout, **kwargs)


class GlobalMaxPool2D(_GlobalPooling):
    """Maximum over H, W."""
    _ndim, _pool_type = 2, "max"

    def __init__(self, layout="NCHW", **kwargs):
        super().__init__(layout, **kwargs)


class GlobalMaxPool3D(_GlobalPooling):
    """Maximum over D, H, W."""
    _ndim, _pool_type = 3, "max"

    def __init__(self, layout="NCDHW", **kwargs):
        super().__init__(layout, **kwargs)


class GlobalAvgPool1D(_GlobalPooling):
    """Mean over W."""
    _ndim, _pool_type = 1, "avg"

    def __init__(self, layout="NCW", **kwargs):
        super().__init__(layout, **kwargs)


class GlobalAvgPool2D(_GlobalPooling):
    """Mean over H, W."""
    _ndim, _pool_type = 2, "avg"

    def __init__(self, layout="NCHW", **kwargs):
        super().__init__(layout, **kwargs)


class GlobalAvgPool3D(_GlobalPooling):
    """Mean over D, H, W."""
    _ndim, _pool_type = 3, "avg"

    def __init__(self, layout="NCDHW", **kwargs):
        super().__init__(layout, **kwargs)


class ReflectionPad2D(HybridBlock):
    """Pads H and W of NCHW data by `padding` on each side with the reflection of the border (the edge itself
    not repeated); `padding` may also be the 8-entry pad_width of the pad op."""

    def __init__(self, padding=0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(padding, numeric_types):
            padding = (0, 0, 0, 0, padding, padding, padding, padding)
        if len(padding) != 8:
            raise ValueError(f"ReflectionPad2D: padding must be an int or 8 ints, got {padding}")
        self._padding = tuple(padding)

    def hybrid_forward(self, F, x):
        return F.pad(x, mode="reflect", pad_width=self._padding)
