"""ResNet V1 (post-activation) and V2 (pre-activation) with basic and bottleneck residual blocks, laid out
like MXNet 1.9.1's so parameter names and saved files match."""
from ....context import cpu
from ...block import HybridBlock
from ... import nn
from ..model_store import _default_root, _with_pretrained
from ._common import constructor

__all__ = ["ResNetV1", "ResNetV2",
           "BasicBlockV1", "BasicBlockV2",
           "BottleneckV1", "BottleneckV2",
           "resnet18_v1", "resnet34_v1", "resnet50_v1", "resnet101_v1", "resnet152_v1",
           "resnet18_v2", "resnet34_v2", "resnet50_v2", "resnet101_v2", "resnet152_v2",
           "get_resnet"]


def _conv3x3(channels, stride, in_channels):
    return nn.Conv2D(channels, kernel_size=3, strides=stride, padding=1, use_bias=False,
                     in_channels=in_channels)


class _PostActivationBlock(HybridBlock):
    """relu(body(x) + shortcut(x)); the shortcut is a strided 1x1 conv + BatchNorm when `downsample`.
    `_shortcut_first` keeps the operand order of MXNet's sum so exported graphs are the same."""
    _shortcut_first = False

    def _add_shortcut(self, channels, stride, downsample, in_channels):
        if downsample:
            self.downsample = nn.HybridSequential(prefix="")
            self.downsample.add(nn.Conv2D(channels, kernel_size=1, strides=stride, use_bias=False,
                                          in_channels=in_channels))
            self.downsample.add(nn.BatchNorm())
        else:
            self.downsample = None

    def hybrid_forward(self, F, x):
        out = self.body(x)
        residual = self.downsample(x) if self.downsample else x
        total = residual + out if self._shortcut_first else out + residual
        return F.Activation(total, act_type="relu")


class BasicBlockV1(_PostActivationBlock):
    """Two 3x3 convolutions with BatchNorm, ReLU after the sum (ResNet V1 18/34)."""
    _shortcut_first = True

    def __init__(self, channels, stride, downsample=False, in_channels=0, **kwargs):
        super().__init__(**kwargs)
        self.body = nn.HybridSequential(prefix="")
        self.body.add(_conv3x3(channels, stride, in_channels), nn.BatchNorm(), nn.Activation("relu"),
                      _conv3x3(channels, 1, channels), nn.BatchNorm())
        self._add_shortcut(channels, stride, downsample, in_channels)


class BottleneckV1(_PostActivationBlock):
    """1x1 (strided, biased) -> 3x3 -> 1x1 (biased) with BatchNorm, ReLU after the sum (ResNet V1 50+)."""

    def __init__(self, channels, stride, downsample=False, in_channels=0, **kwargs):
        super().__init__(**kwargs)
        self.body = nn.HybridSequential(prefix="")
        self.body.add(nn.Conv2D(channels // 4, kernel_size=1, strides=stride), nn.BatchNorm(),
                      nn.Activation("relu"),
                      _conv3x3(channels // 4, 1, channels // 4), nn.BatchNorm(), nn.Activation("relu"),
                      nn.Conv2D(channels, kernel_size=1, strides=1), nn.BatchNorm())
        self._add_shortcut(channels, stride, downsample, in_channels)


class _PreActivationBlock(HybridBlock):
    """x + convN(relu(bnN(... conv1(relu(bn1(x)))))); the shortcut, when `downsample`, is a strided 1x1
    conv of relu(bn1(x)). Children are attributes bn1, conv1, bn2, ... as in MXNet's saved files."""

    def _add_layers(self, convs, channels, stride, downsample, in_channels):
        for i, conv in enumerate(convs, 1):
            setattr(self, f"bn{i}", nn.BatchNorm())
            setattr(self, f"conv{i}", conv)
        self._depth = len(convs)
        if downsample:
            self.downsample = nn.Conv2D(channels, 1, stride, use_bias=False, in_channels=in_channels)
        else:
            self.downsample = None

    def hybrid_forward(self, F, x):
        residual = x
        for i in range(1, self._depth + 1):
            x = F.Activation(getattr(self, f"bn{i}")(x), act_type="relu")
            if i == 1 and self.downsample:
                residual = self.downsample(x)
            x = getattr(self, f"conv{i}")(x)
        return x + residual


class BasicBlockV2(_PreActivationBlock):
    """Two pre-activated 3x3 convolutions (ResNet V2 18/34)."""

    def __init__(self, channels, stride, downsample=False, in_channels=0, **kwargs):
        super().__init__(**kwargs)
        self._add_layers([_conv3x3(channels, stride, in_channels), _conv3x3(channels, 1, channels)],
                         channels, stride, downsample, in_channels)


class BottleneckV2(_PreActivationBlock):
    """Pre-activated 1x1 -> 3x3 (strided) -> 1x1 (ResNet V2 50+)."""

    def __init__(self, channels, stride, downsample=False, in_channels=0, **kwargs):
        super().__init__(**kwargs)
        self._add_layers([nn.Conv2D(channels // 4, kernel_size=1, strides=1, use_bias=False),
                          _conv3x3(channels // 4, stride, channels // 4),
                          nn.Conv2D(channels, kernel_size=1, strides=1, use_bias=False)],
                         channels, stride, downsample, in_channels)


class _ResNet(HybridBlock):
    """features (stem, stages `stage1_`.., pooling) then the Dense `output`."""

    def _build(self, block, layers, channels, classes, thumbnail, pre_activation):
        if len(layers) != len(channels) - 1:
            raise ValueError(f"{type(self).__name__}: channels must be one longer than layers, got "
                             f"layers={list(layers)} and channels={list(channels)}")
        with self.name_scope():
            self.features = nn.HybridSequential(prefix="")
            if pre_activation:
                self.features.add(nn.BatchNorm(scale=False, center=False))
            if thumbnail:
                self.features.add(_conv3x3(channels[0], 1, 0))
            else:
                self.features.add(nn.Conv2D(channels[0], 7, 2, 3, use_bias=False), nn.BatchNorm(),
                                  nn.Activation("relu"), nn.MaxPool2D(3, 2, 1))
            for i, num_layer in enumerate(layers):
                self.features.add(self._make_layer(block, num_layer, channels[i + 1], 1 if i == 0 else 2,
                                                   i + 1, in_channels=channels[i]))
            if pre_activation:
                self.features.add(nn.BatchNorm(), nn.Activation("relu"))
            self.features.add(nn.GlobalAvgPool2D())
            if pre_activation:
                self.features.add(nn.Flatten())
            self.output = nn.Dense(classes, in_units=channels[-1])

    def _make_layer(self, block, layers, channels, stride, stage_index, in_channels=0):
        layer = nn.HybridSequential(prefix=f"stage{stage_index}_")
        with layer.name_scope():
            layer.add(block(channels, stride, channels != in_channels, in_channels=in_channels, prefix=""))
            for _ in range(layers - 1):
                layer.add(block(channels, 1, False, in_channels=channels, prefix=""))
        return layer

    def hybrid_forward(self, F, x):
        return self.output(self.features(x))


class ResNetV1(_ResNet):
    """ResNet V1 (He et al. 2015): `block` is BasicBlockV1 or BottleneckV1, `layers` the blocks per stage,
    `channels` the stem width then each stage's width; `thumbnail` swaps the 7x7 stem and max-pool for
    one 3x3 convolution (small images such as CIFAR)."""

    def __init__(self, block, layers, channels, classes=1000, thumbnail=False, **kwargs):
        super().__init__(**kwargs)
        self._build(block, layers, channels, classes, thumbnail, pre_activation=False)


class ResNetV2(_ResNet):
    """ResNet V2 (He et al. 2016, identity mappings): as ResNetV1 with pre-activation blocks
    (BasicBlockV2, BottleneckV2), an affine-free input BatchNorm and a final BatchNorm + ReLU."""

    def __init__(self, block, layers, channels, classes=1000, thumbnail=False, **kwargs):
        super().__init__(**kwargs)
        self._build(block, layers, channels, classes, thumbnail, pre_activation=True)


resnet_spec = {18: ("basic_block", [2, 2, 2, 2], [64, 64, 128, 256, 512]),
               34: ("basic_block", [3, 4, 6, 3], [64, 64, 128, 256, 512]),
               50: ("bottle_neck", [3, 4, 6, 3], [64, 256, 512, 1024, 2048]),
               101: ("bottle_neck", [3, 4, 23, 3], [64, 256, 512, 1024, 2048]),
               152: ("bottle_neck", [3, 8, 36, 3], [64, 256, 512, 1024, 2048])}

resnet_net_versions = [ResNetV1, ResNetV2]
resnet_block_versions = [{"basic_block": BasicBlockV1, "bottle_neck": BottleneckV1},
                         {"basic_block": BasicBlockV2, "bottle_neck": BottleneckV2}]


def get_resnet(version, num_layers, pretrained=False, ctx=cpu(), root=_default_root, **kwargs):
    """ResNet `version` (1 or 2) with `num_layers` (18, 34, 50, 101, 152); `pretrained` loads MXNet's
    published weights from `root` onto `ctx`; other keywords go to ResNetV1/ResNetV2."""
    if num_layers not in resnet_spec:
        raise ValueError(f"Invalid number of layers: {num_layers}. Options are {sorted(resnet_spec)}")
    if version not in (1, 2):
        raise ValueError(f"Invalid resnet version: {version}. Options are 1 and 2.")
    block_type, layers, channels = resnet_spec[num_layers]
    net = resnet_net_versions[version - 1](resnet_block_versions[version - 1][block_type], layers, channels,
                                           **kwargs)
    return _with_pretrained(net, pretrained, f"resnet{num_layers}_v{version}", root, ctx)


resnet18_v1, resnet34_v1, resnet50_v1, resnet101_v1, resnet152_v1, \
    resnet18_v2, resnet34_v2, resnet50_v2, resnet101_v2, resnet152_v2 = (
        constructor(f"resnet{n}_v{v}", f"ResNet-{n} V{v}; keywords: pretrained, ctx, root, classes, thumbnail "
                    "(see get_resnet).", get_resnet, v, n)
        for v in (1, 2) for n in (18, 34, 50, 101, 152))
