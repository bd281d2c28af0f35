"""VGG 11/13/16/19 with and without BatchNorm, laid out like MXNet 1.9.1's (with its initializers)."""
from ....context import cpu
from ....initializer import Xavier
from ...block import HybridBlock
from ... import nn
from ..model_store import _default_root, _with_pretrained
from ._common import constructor

__all__ = ["VGG",
           "vgg11", "vgg13", "vgg16", "vgg19",
           "vgg11_bn", "vgg13_bn", "vgg16_bn", "vgg19_bn",
           "get_vgg"]


class VGG(HybridBlock):
    """VGG (Simonyan & Zisserman): per block `layers[i]` 3x3 convolutions of `filters[i]` channels (each
    optionally followed by BatchNorm) and a 2x2 max-pool, then two Dense(4096)+Dropout and Dense(`classes`)."""

    def __init__(self, layers, filters, classes=1000, batch_norm=False, **kwargs):
        super().__init__(**kwargs)
        if len(layers) != len(filters):
            raise ValueError(f"VGG: layers and filters must have the same length, got {list(layers)} and "
                             f"{list(filters)}")
        with self.name_scope():
            self.features = self._make_features(layers, filters, batch_norm)
            for _ in range(2):
                self.features.add(nn.Dense(4096, activation="relu", weight_initializer="normal",
                                           bias_initializer="zeros"),
                                  nn.Dropout(rate=0.5))
            self.output = nn.Dense(classes, weight_initializer="normal", bias_initializer="zeros")

    def _make_features(self, layers, filters, batch_norm):
        featurizer = nn.HybridSequential(prefix="")
        for num, channels in zip(layers, filters):
            for _ in range(num):
                featurizer.add(nn.Conv2D(channels, kernel_size=3, padding=1,
                                         weight_initializer=Xavier(rnd_type="gaussian", factor_type="out",
                                                                   magnitude=2),
                                         bias_initializer="zeros"))
                if batch_norm:
                    featurizer.add(nn.BatchNorm())
                featurizer.add(nn.Activation("relu"))
            featurizer.add(nn.MaxPool2D(strides=2))
        return featurizer

    def hybrid_forward(self, F, x):
        return self.output(self.features(x))


vgg_spec = {11: ([1, 1, 2, 2, 2], [64, 128, 256, 512, 512]),
            13: ([2, 2, 2, 2, 2], [64, 128, 256, 512, 512]),
            16: ([2, 2, 3, 3, 3], [64, 128, 256, 512, 512]),
            19: ([2, 2, 4, 4, 4], [64, 128, 256, 512, 512])}


def get_vgg(num_layers, pretrained=False, ctx=cpu(), root=_default_root, **kwargs):
    """VGG with `num_layers` (11, 13, 16, 19); `pretrained` loads MXNet's published weights (the `_bn` file
    when batch_norm=True) from `root` onto `ctx`; other keywords go to VGG."""
    if num_layers not in vgg_spec:
        raise ValueError(f"Invalid number of layers: {num_layers}. Options are {sorted(vgg_spec)}")
    layers, filters = vgg_spec[num_layers]
    suffix = "_bn" if kwargs.get("batch_norm") else ""
    return _with_pretrained(VGG(layers, filters, **kwargs), pretrained, f"vgg{num_layers}{suffix}", root, ctx)


vgg11, vgg13, vgg16, vgg19 = (
    constructor(f"vgg{n}", f"VGG-{n}; keywords: pretrained, ctx, root, classes (see get_vgg).", get_vgg, n)
    for n in (11, 13, 16, 19))
vgg11_bn, vgg13_bn, vgg16_bn, vgg19_bn = (
    constructor(f"vgg{n}_bn", f"VGG-{n} with BatchNorm; keywords: pretrained, ctx, root, classes (see get_vgg).",
                get_vgg, n, batch_norm=True)
    for n in (11, 13, 16, 19))
