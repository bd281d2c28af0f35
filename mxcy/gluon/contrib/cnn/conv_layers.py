"""mx.gluon.contrib.cnn's DeformableConvolution (v1) and ModulatedDeformableConvolution (v2): a Convolution computes
the offsets (and v2's masks) from the input, then the contrib deformable operator convolves the input at them."""
from ....base import numeric_types
from ...block import HybridBlock
from ...nn import Activation
from ...nn.conv_layers import conv_repr

__all__ = ["DeformableConvolution", "ModulatedDeformableConvolution"]


def _setup(block, channels, kernel_size, strides, padding, dilation, groups, num_deformable_group, layout, use_bias,
           in_channels, activation, weight_initializer, bias_initializer, offset_weight_initializer,
           offset_bias_initializer, offset_use_bias, op_name, adj, per_tap):
    """The layers' shared construction, in MXNet 1.9.1's terms: `per_tap` offset-conv channels per kernel tap and
    deformable group (2 for v1's (dh, dw); 3 for v2, whose third is the mask). Returns a function that creates the
    parameters in MXNet's order: the offset conv's first for v1, the deformable conv's first for v2."""
    block._channels, block._in_channels, block._op_name = channels, in_channels, op_name
    assert layout in ("NCHW", "NHWC"), "Only supports 'NCHW' and 'NHWC' layout for now"
    if isinstance(kernel_size, numeric_types):
        kernel_size = (kernel_size,) * 2
    nd = len(kernel_size)
    strides, padding, dilation = ((v,) * nd if isinstance(v, numeric_types) else v
                                  for v in (strides, padding, dilation))
    taps = kernel_size[0] * kernel_size[1] * num_deformable_group
    offset_channels = per_tap * taps
    block.offset_split_index = 2 * taps
    window = {"kernel": kernel_size, "stride": strides, "dilate": dilation, "pad": padding}
    block._kwargs_offset = dict(window, num_filter=offset_channels, num_group=groups, no_bias=not offset_use_bias,
                                layout=layout)
    block._kwargs_deformable_conv = dict(window, num_filter=channels, num_group=groups,
                                         num_deformable_group=num_deformable_group, no_bias=not use_bias,
                                         layout=layout)
    if adj:
        block._kwargs_offset["adj"] = adj
        block._kwargs_deformable_conv["adj"] = adj

    def offset_params():
        # The offset conv's weight as Convolution infers it from data (1, in_channels, ...): 0 (deferred) when
        # in_channels is unknown.
        block.offset_weight = block.params.get(
            "offset_weight", shape=(offset_channels, in_channels // groups) + tuple(kernel_size),
            init=offset_weight_initializer, allow_deferred_init=True)
        block.offset_bias = block.params.get(
            "offset_bias", shape=(offset_channels,), init=offset_bias_initializer,
            allow_deferred_init=True) if offset_use_bias else None

    def conv_params():
        # MXNet leaves the input channels of this weight to shape inference even when in_channels is given.
        block.deformable_conv_weight = block.params.get(
            "deformable_conv_weight", shape=(channels, 0) + tuple(kernel_size), init=weight_initializer,
            allow_deferred_init=True)
        block.deformable_conv_bias = block.params.get(
            "deformable_conv_bias", shape=(channels,), init=bias_initializer,
            allow_deferred_init=True) if use_bias else None

    block.act = Activation(activation, prefix=activation + "_") if activation else None
    return offset_params, conv_params


def _offsets(F, block, x, offset_weight, offset_bias):
    bias = () if offset_bias is None else (offset_bias,)
    return F.Convolution(x, offset_weight, *bias, cudnn_off=True, **block._kwargs_offset)


def _finish(block, out):
    return block.act(out) if block.act else out


class DeformableConvolution(HybridBlock):
    """2-D deformable convolution v1 (Dai et al., 2017): the sampling positions of each kernel tap are shifted by
    offsets that a zero-initialised Convolution (`offset_weight`, `offset_bias`) computes from the input, then
    `contrib.DeformableConvolution` (`deformable_conv_weight`, `deformable_conv_bias`) convolves at them.

    Arguments as MXNet 1.9.1's: channels, kernel_size, strides, padding, dilation, groups, num_deformable_group,
    layout ('NCHW'; the operators implement NCHW only), use_bias, in_channels, activation, the initializers of the
    two convolutions, offset_use_bias; op_name is recorded and adj passed to both operators, as MXNet does.
    """

    def __init__(self, channels, kernel_size=(1, 1), strides=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1,
                 num_deformable_group=1, layout='NCHW', use_bias=True, in_channels=0, activation=None,
                 weight_initializer=None, bias_initializer='zeros',
                 offset_weight_initializer='zeros', offset_bias_initializer='zeros', offset_use_bias=True,
                 op_name='DeformableConvolution', adj=None, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        with self.name_scope():
            offset_params, conv_params = _setup(
                self, channels, kernel_size, strides, padding, dilation, groups, num_deformable_group, layout,
                use_bias, in_channels, activation, weight_initializer, bias_initializer, offset_weight_initializer,
                offset_bias_initializer, offset_use_bias, op_name, adj, per_tap=2)
            offset_params()
            conv_params()

    def hybrid_forward(self, F, x, offset_weight, deformable_conv_weight, offset_bias=None,
                       deformable_conv_bias=None):
        offset = _offsets(F, self, x, offset_weight, offset_bias)
        bias = {} if deformable_conv_bias is None else {"bias": deformable_conv_bias}
        out = F.contrib.DeformableConvolution(data=x, offset=offset, weight=deformable_conv_weight, name='fwd',
                                              **bias, **self._kwargs_deformable_conv)
        return _finish(self, out)

    def _alias(self):
        return 'deformable_conv'

    def __repr__(self):
        kw = self._kwargs_deformable_conv
        return conv_repr(self, kw, len(kw["kernel"]), self.deformable_conv_weight, self.deformable_conv_bias)


class ModulatedDeformableConvolution(HybridBlock):
    """2-D modulated deformable convolution v2 (Zhu et al., 2018): as DeformableConvolution, with a third of the
    offset convolution's channels turned into per-sample masks (2 * sigmoid) that scale every sample, through
    `contrib.ModulatedDeformableConvolution`. Arguments as DeformableConvolution's (MXNet 1.9.1's)."""

    def __init__(self, channels, kernel_size=(1, 1), strides=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1,
                 num_deformable_group=1, layout='NCHW', use_bias=True, in_channels=0, activation=None,
                 weight_initializer=None, bias_initializer='zeros',
                 offset_weight_initializer='zeros', offset_bias_initializer='zeros', offset_use_bias=True,
                 op_name='ModulatedDeformableConvolution', adj=None, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        with self.name_scope():
            offset_params, conv_params = _setup(
                self, channels, kernel_size, strides, padding, dilation, groups, num_deformable_group, layout,
                use_bias, in_channels, activation, weight_initializer, bias_initializer, offset_weight_initializer,
                offset_bias_initializer, offset_use_bias, op_name, adj, per_tap=3)
            conv_params()
            offset_params()

    def hybrid_forward(self, F, x, offset_weight, deformable_conv_weight, offset_bias=None,
                       deformable_conv_bias=None):
        offset = _offsets(F, self, x, offset_weight, offset_bias)
        offset_t = F.slice_axis(offset, axis=1, begin=0, end=self.offset_split_index)
        mask = F.sigmoid(F.slice_axis(offset, axis=1, begin=self.offset_split_index, end=None)) * 2
        bias = {} if deformable_conv_bias is None else {"bias": deformable_conv_bias}
        out = F.contrib.ModulatedDeformableConvolution(data=x, offset=offset_t, mask=mask,
                                                       weight=deformable_conv_weight, name='fwd', **bias,
                                                       **self._kwargs_deformable_conv)
        return _finish(self, out)

    def _alias(self):
        return 'modulated_deformable_conv'
