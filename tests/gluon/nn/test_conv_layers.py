"""Convolution, transposed convolution, pooling and ReflectionPad2D layers: NumPy float64 references (the op
references of tests/ops, with channel-last data transposed around them), numerical gradients, hybridized =
imperative, MXNet 1.9.1's names/reprs/outputs, and errors."""
import numpy as np
import pytest

import mxcy as mx
from mxcy.gluon import nn
from tests.gluon.nn.checks import layer_tests
from tests.ops.test_nn_conv import _conv_ref, _deconv_ref
from tests.ops.test_nn_pool import _pool_ref


def _first(a):
    """Channel-last (N, spatial..., C) -> channel-first."""
    return np.moveaxis(a, -1, 1)


def _conv(op_ref, channel_last=False, act=lambda y: y, **kwargs):
    def ref(x, p):
        w = p["weight"]
        if channel_last:
            x, w = _first(x), _first(w)
        y = act(op_ref(x, w, p.get("bias"), kernel=w.shape[2:], **kwargs))
        return np.moveaxis(y, 1, -1) if channel_last else y
    return ref


def _pool(channel_last=False, **kwargs):
    def ref(x, p):
        if channel_last:
            return np.moveaxis(_pool_ref(_first(x), **kwargs), 1, -1)
        return _pool_ref(x, **kwargs)
    return ref


def _global(pool_type, channel_last=False):
    def ref(x, p):
        axes = tuple(range(1, x.ndim - 1)) if channel_last else tuple(range(2, x.ndim))
        return (np.max if pool_type == "max" else np.mean)(x, axis=axes, keepdims=True)
    return ref


REFERENCES = {
    "conv1d": _conv(_conv_ref, num_filter=2, pad=(1,)),
    "conv2d": _conv(_conv_ref, num_filter=4, stride=(2, 1), pad=(1, 1), dilate=(1, 2), num_group=2,
                    act=lambda y: 1 / (1 + np.exp(-y))),
    "conv2d_nhwc": _conv(_conv_ref, True, num_filter=2, num_group=2),
    "conv3d": _conv(_conv_ref, num_filter=2),
    "conv3d_ndhwc": _conv(_conv_ref, True, num_filter=2, num_group=2),
    "conv1d_transpose": _conv(_deconv_ref, num_filter=2, stride=(2,), adj=(1,)),
    "conv2d_transpose": _conv(_deconv_ref, num_filter=2, stride=(2, 2), pad=(1, 1), num_group=2),
    "conv2d_transpose_nhwc": _conv(_deconv_ref, True, num_filter=3),
    "conv3d_transpose": _conv(_deconv_ref, num_filter=1),
    "maxpool1d": _pool(kernel=(3,), stride=(2,), pad=(1,)),
    "maxpool1d_nwc": _pool(True, kernel=(2,), stride=(2,)),
    "maxpool2d_ceil": _pool(kernel=(2, 2), stride=(2, 2), pooling_convention="full"),
    "maxpool3d": _pool(kernel=(2, 2, 2), stride=(2, 2, 2)),
    "avgpool1d": _pool(kernel=(2,), stride=(1,), pad=(1,), pool_type="avg", count_include_pad=False),
    "avgpool2d": _pool(kernel=(3, 3), stride=(2, 2), pad=(1, 1), pool_type="avg", count_include_pad=True),
    "avgpool2d_nhwc": _pool(True, kernel=(2, 2), stride=(2, 2), pool_type="avg"),
    "avgpool3d_ceil": _pool(kernel=(2, 2, 2), stride=(2, 2, 2), pool_type="avg", pooling_convention="full",
                            count_include_pad=True),
    "globalmaxpool1d": _global("max"),
    "globalmaxpool2d_nhwc": _global("max", True),
    "globalmaxpool3d": _global("max"),
    "globalavgpool1d_nwc": _global("avg", True),
    "globalavgpool2d": _global("avg"),
    "globalavgpool3d_ndhwc": _global("avg", True),
    "reflectionpad2d": lambda x, p: np.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2)), mode="reflect"),
}

test_reference, test_gradient, test_hybrid, test_matches_mxnet = layer_tests(REFERENCES)


def test_conv2d_output_matches_mxnet_printed_values():
    # MXNet 1.9.1: Conv2D(2, 2, in_channels=1) with weight arange(8)/8 - 0.5, bias [0.1, -0.1], x arange(9) (1x1x3x3)
    layer = nn.Conv2D(2, 2, in_channels=1)
    layer.initialize()
    layer.weight.set_data(mx.nd.array(np.arange(8).reshape(2, 1, 2, 2) / 8 - 0.5))
    layer.bias.set_data(mx.nd.array([0.1, -0.1]))
    out = layer(mx.nd.array(np.arange(9).reshape(1, 1, 3, 3)))
    expected = [[[[-1.525, -2.775], [-5.275, -6.525]], [[2.275, 3.025], [4.525, 5.275]]]]
    np.testing.assert_allclose(out.asnumpy(), expected,
                               rtol=1e-6)


@pytest.mark.parametrize("make, match", [
    (lambda: nn.Conv2D(2, 3, layout="NCDHW"), "layout 'NCDHW' is not supported"),
    (lambda: nn.Conv1D(2, 3, layout="NWC"), "layout 'NWC' is not supported"),
    (lambda: nn.Conv2D(2, (3, 3, 3)), "kernel_size must be a number or a list of 2 ints"),
    (lambda: nn.Conv3DTranspose(2, 3, output_padding=(1, 1)), "output_padding must be a number or a list of 3"),
    (lambda: nn.MaxPool2D(layout="NCW"), "layout 'NCW' is not supported"),
    (lambda: nn.AvgPool1D((2, 2)), "pool_size must be a number or a list of 1 ints"),
    (lambda: nn.ReflectionPad2D((1, 1)), "padding must be an int or 8 ints"),
])
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("layer, shape, match", [
    (lambda: nn.Conv2D(2, 3, in_channels=3), (1, 4, 5, 5), r"conv0: Convolution.*\(1, 4, 5, 5\)"),
    (lambda: nn.Conv2D(2, 3), (1, 4, 5), r"conv0: .*\(1, 4, 5\)"),
    (lambda: nn.Conv1DTranspose(2, 3, in_channels=2), (1, 3, 4), r"Deconvolution.*\(1, 3, 4\)"),
    (lambda: nn.MaxPool2D(), (1, 2, 3), r"Pooling.*\(1, 2, 3\)"),
])
def test_bad_input_names_the_layer_op_and_shapes(layer, shape, match):
    with mx.name.NameManager():
        block = layer()
    block.initialize()
    with pytest.raises(mx.MXNetError, match=match):
        block(mx.nd.ones(shape)).wait_to_read()
