"""MobileNet (v1) and MobileNetV2 with width multipliers, laid out like MXNet 1.9.1's."""
from ....context import cpu
from ...block import HybridBlock
from ... import nn
from ..model_store import _default_root, _with_pretrained
from ._common import constructor

__all__ = ["MobileNet", "MobileNetV2", "mobilenet1_0", "mobilenet_v2_1_0", "mobilenet0_75", "mobilenet_v2_0_75",
           "mobilenet0_5", "mobilenet_v2_0_5", "mobilenet0_25", "mobilenet_v2_0_25", "get_mobilenet",
           "get_mobilenet_v2"]


class RELU6(HybridBlock):
    """min(max(x, 0), 6), MobileNetV2's activation."""

    def hybrid_forward(self, F, x):
        return F.clip(x, 0, 6, name="relu6")


def _add_conv(out, channels=1, kernel=1, stride=1, pad=0, num_group=1, active=True, relu6=False):
    """Append a bias-free (grouped) convolution, BatchNorm and, when `active`, ReLU or ReLU6 to `out`."""
    out.add(nn.Conv2D(channels, kernel, stride, pad, groups=num_group, use_bias=False), nn.BatchNorm(scale=True))
    if active:
        out.add(RELU6() if relu6 else nn.Activation("relu"))


def _add_conv_dw(out, dw_channels, channels, stride, relu6=False):
    """Depthwise 3x3 then pointwise 1x1 (a depthwise-separable convolution)."""
    _add_conv(out, channels=dw_channels, kernel=3, stride=stride, pad=1, num_group=dw_channels, relu6=relu6)
    _add_conv(out, channels=channels, relu6=relu6)


class LinearBottleneck(HybridBlock):
    """MobileNetV2's inverted residual: 1x1 expansion by `t`, depthwise 3x3 (`stride`), linear 1x1 projection
    to `channels`; adds the input when the shapes allow (stride 1, in_channels == channels)."""

    def __init__(self, in_channels, channels, t, stride, **kwargs):
        super().__init__(**kwargs)
        self.use_shortcut = stride == 1 and in_channels == channels
        with self.name_scope():
            self.out = nn.HybridSequential()
            _add_conv(self.out, in_channels * t, relu6=True)
            _add_conv(self.out, in_channels * t, kernel=3, stride=stride, pad=1, num_group=in_channels * t,
                      relu6=True)
            _add_conv(self.out, channels, active=False, relu6=True)

    def hybrid_forward(self, F, x):
        out = self.out(x)
        return F.elemwise_add(out, x) if self.use_shortcut else out


class MobileNet(HybridBlock):
    """MobileNet v1 (Howard et al.): a strided 3x3 stem and 13 depthwise-separable convolutions, widths scaled
    by `multiplier` (at least 0.25), global average pool and Dense(`classes`)."""

    def __init__(self, multiplier=1.0, classes=1000, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.features = nn.HybridSequential(prefix="")
            with self.features.name_scope():
                _add_conv(self.features, channels=int(32 * multiplier), kernel=3, pad=1, stride=2)
                dw_channels = [int(c * multiplier) for c in [32, 64] + [128] * 2 + [256] * 2 + [512] * 6 + [1024]]
                channels = [int(c * multiplier) for c in [64] + [128] * 2 + [256] * 2 + [512] * 6 + [1024] * 2]
                strides = [1, 2] * 3 + [1] * 5 + [2, 1]
                for dwc, c, s in zip(dw_channels, channels, strides):
                    _add_conv_dw(self.features, dw_channels=dwc, channels=c, stride=s)
                self.features.add(nn.GlobalAvgPool2D(), nn.Flatten())
            self.output = nn.Dense(classes)

    def hybrid_forward(self, F, x):
        return self.output(self.features(x))


class MobileNetV2(HybridBlock):
    """MobileNetV2 (Sandler et al.): a strided 3x3 stem, 17 LinearBottlenecks, a 1x1 convolution to 1280
    channels (scaled only when `multiplier` > 1), global average pool and a bias-free 1x1 convolution to
    `classes` (`output_pred_`)."""

    def __init__(self, multiplier=1.0, classes=1000, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.features = nn.HybridSequential(prefix="features_")
            with self.features.name_scope():
                _add_conv(self.features, int(32 * multiplier), kernel=3, stride=2, pad=1, relu6=True)
                in_channels_group = [int(c * multiplier) for c in
                                     [32] + [16] + [24] * 2 + [32] * 3 + [64] * 4 + [96] * 3 + [160] * 3]
                channels_group = [int(c * multiplier) for c in
                                  [16] + [24] * 2 + [32] * 3 + [64] * 4 + [96] * 3 + [160] * 3 + [320]]
                ts = [1] + [6] * 16
                strides = [1, 2] * 2 + [1, 1, 2] + [1] * 6 + [2] + [1] * 3
                for in_c, c, t, s in zip(in_channels_group, channels_group, ts, strides):
                    self.features.add(LinearBottleneck(in_channels=in_c, channels=c, t=t, stride=s))
                last_channels = int(1280 * multiplier) if multiplier > 1.0 else 1280
                _add_conv(self.features, last_channels, relu6=True)
                self.features.add(nn.GlobalAvgPool2D())
            self.output = nn.HybridSequential(prefix="output_")
            with self.output.name_scope():
                self.output.add(nn.Conv2D(classes, 1, use_bias=False, prefix="pred_"), nn.Flatten())

    def hybrid_forward(self, F, x):
        return self.output(self.features(x))


def _file_suffix(multiplier):
    """The multiplier as MXNet's weight files spell it: 1.0, 0.75, 0.5, 0.25."""
    suffix = f"{multiplier:.2f}"
    return suffix[:-1] if suffix in ("1.00", "0.50") else suffix


def get_mobilenet(multiplier, pretrained=False, ctx=cpu(), root=_default_root, **kwargs):
    """MobileNet v1 with width `multiplier`; `pretrained` loads MXNet's published weights from `root` onto
    `ctx`; other keywords go to MobileNet."""
    return _with_pretrained(MobileNet(multiplier, **kwargs), pretrained,
                            f"mobilenet{_file_suffix(multiplier)}", root, ctx)


def get_mobilenet_v2(multiplier, pretrained=False, ctx=cpu(), root=_default_root, **kwargs):
    """MobileNetV2 with width `multiplier`; `pretrained` loads MXNet's published weights from `root` onto
    `ctx`; other keywords go to MobileNetV2."""
    return _with_pretrained(MobileNetV2(multiplier, **kwargs), pretrained,
                            f"mobilenetv2_{_file_suffix(multiplier)}", root, ctx)


mobilenet1_0, mobilenet0_75, mobilenet0_5, mobilenet0_25 = (
    constructor(f"mobilenet{m.replace('.', '_')}", f"MobileNet v1, width multiplier {m}; keywords: pretrained, "
                "ctx, root, classes (see get_mobilenet).", get_mobilenet, float(m))
    for m in ("1.0", "0.75", "0.5", "0.25"))
mobilenet_v2_1_0, mobilenet_v2_0_75, mobilenet_v2_0_5, mobilenet_v2_0_25 = (
    constructor(f"mobilenet_v2_{m.replace('.', '_')}", f"MobileNetV2, width multiplier {m}; keywords: "
                "pretrained, ctx, root, classes (see get_mobilenet_v2).", get_mobilenet_v2, float(m))
    for m in ("1.0", "0.75", "0.5", "0.25"))
