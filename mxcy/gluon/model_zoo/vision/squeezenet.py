"""SqueezeNet 1.0 and 1.1, laid out like MXNet 1.9.1's."""
from ....context import cpu
from ...block import HybridBlock
from ... import nn
from ...contrib.nn import HybridConcurrent
from ..model_store import _default_root, _with_pretrained
from ._common import constructor

__all__ = ["SqueezeNet", "squeezenet1_0", "squeezenet1_1"]


def _make_fire(squeeze_channels, expand1x1_channels, expand3x3_channels):
    """Fire module: a 1x1 squeeze, then 1x1 and 3x3 expands side by side (all with ReLU)."""
    out = nn.HybridSequential(prefix="")
    out.add(_make_fire_conv(squeeze_channels, 1))
    paths = HybridConcurrent(axis=1, prefix="")
    paths.add(_make_fire_conv(expand1x1_channels, 1), _make_fire_conv(expand3x3_channels, 3, 1))
    out.add(paths)
    return out


def _make_fire_conv(channels, kernel_size, padding=0):
    out = nn.HybridSequential(prefix="")
    out.add(nn.Conv2D(channels, kernel_size, padding=padding), nn.Activation("relu"))
    return out


def _pool():
    return nn.MaxPool2D(pool_size=3, strides=2, ceil_mode=True)


class SqueezeNet(HybridBlock):
    """SqueezeNet (Iandola et al.) `version` '1.0' or '1.1' (2.4x less computation); ends in a 1x1
    convolution to `classes`, ReLU and a 13x13 average pool, so it expects 224x224 inputs."""

    def __init__(self, version, classes=1000, **kwargs):
        super().__init__(**kwargs)
        if version not in ("1.0", "1.1"):
            raise ValueError(f"Unsupported SqueezeNet version {version}: 1.0 or 1.1 expected")
        with self.name_scope():
            self.features = nn.HybridSequential(prefix="")
            if version == "1.0":
                self.features.add(nn.Conv2D(96, kernel_size=7, strides=2), nn.Activation("relu"), _pool(),
                                  _make_fire(16, 64, 64), _make_fire(16, 64, 64), _make_fire(32, 128, 128),
                                  _pool(),
                                  _make_fire(32, 128, 128), _make_fire(48, 192, 192), _make_fire(48, 192, 192),
                                  _make_fire(64, 256, 256),
                                  _pool(),
                                  _make_fire(64, 256, 256))
            else:
                self.features.add(nn.Conv2D(64, kernel_size=3, strides=2), nn.Activation("relu"), _pool(),
                                  _make_fire(16, 64, 64), _make_fire(16, 64, 64),
                                  _pool(),
                                  _make_fire(32, 128, 128), _make_fire(32, 128, 128),
                                  _pool(),
                                  _make_fire(48, 192, 192), _make_fire(48, 192, 192), _make_fire(64, 256, 256),
                                  _make_fire(64, 256, 256))
            self.features.add(nn.Dropout(0.5))
            self.output = nn.HybridSequential(prefix="")
            self.output.add(nn.Conv2D(classes, kernel_size=1), nn.Activation("relu"), nn.AvgPool2D(13),
                            nn.Flatten())

    def hybrid_forward(self, F, x):
        return self.output(self.features(x))


def get_squeezenet(version, pretrained=False, ctx=cpu(), root=_default_root, **kwargs):
    """SqueezeNet `version` ('1.0' or '1.1'); `pretrained` loads MXNet's published weights from `root` onto
    `ctx`; other keywords go to SqueezeNet."""
    return _with_pretrained(SqueezeNet(version, **kwargs), pretrained, f"squeezenet{version}", root, ctx)


squeezenet1_0, squeezenet1_1 = (
    constructor(f"squeezenet{v.replace('.', '_')}", f"SqueezeNet {v}; keywords: pretrained, ctx, root, classes "
                "(see get_squeezenet).", get_squeezenet, v)
    for v in ("1.0", "1.1"))
