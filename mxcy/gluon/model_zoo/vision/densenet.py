"""DenseNet-BC 121/161/169/201, laid out like MXNet 1.9.1's."""
from ....context import cpu
from ...block import HybridBlock
from ... import nn
from ...contrib.nn import HybridConcurrent, Identity
from ..model_store import _default_root, _with_pretrained
from ._common import constructor

__all__ = ["DenseNet", "densenet121", "densenet161", "densenet169", "densenet201"]


def _make_dense_block(num_layers, bn_size, growth_rate, dropout, stage_index):
    block = nn.HybridSequential(prefix=f"stage{stage_index}_")
    with block.name_scope():
        for _ in range(num_layers):
            block.add(_make_dense_layer(growth_rate, bn_size, dropout))
    return block


def _make_dense_layer(growth_rate, bn_size, dropout):
    """concat(x, new features): BN-ReLU-1x1 conv (bn_size*growth_rate) - BN-ReLU-3x3 conv (growth_rate)."""
    new_features = nn.HybridSequential(prefix="")
    new_features.add(nn.BatchNorm(), nn.Activation("relu"),
                     nn.Conv2D(bn_size * growth_rate, kernel_size=1, use_bias=False),
                     nn.BatchNorm(), nn.Activation("relu"),
                     nn.Conv2D(growth_rate, kernel_size=3, padding=1, use_bias=False))
    if dropout:
        new_features.add(nn.Dropout(dropout))
    layer = HybridConcurrent(axis=1, prefix="")
    layer.add(Identity(), new_features)
    return layer


def _make_transition(num_output_features):
    transition = nn.HybridSequential(prefix="")
    transition.add(nn.BatchNorm(), nn.Activation("relu"),
                   nn.Conv2D(num_output_features, kernel_size=1, use_bias=False),
                   nn.AvgPool2D(pool_size=2, strides=2))
    return transition


class DenseNet(HybridBlock):
    """Densenet-BC (Huang et al.): a 7x7 stem with `num_init_features` filters, dense blocks of
    `block_config` layers each adding `growth_rate` channels (bottleneck width bn_size*growth_rate),
    halving transitions between them, then a 7x7 average pool and Dense(`classes`). Expects 224x224."""

    def __init__(self, num_init_features, growth_rate, block_config, bn_size=4, dropout=0, classes=1000,
                 **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.features = nn.HybridSequential(prefix="")
            self.features.add(nn.Conv2D(num_init_features, kernel_size=7, strides=2, padding=3, use_bias=False),
                              nn.BatchNorm(), nn.Activation("relu"),
                              nn.MaxPool2D(pool_size=3, strides=2, padding=1))
            num_features = num_init_features
            for i, num_layers in enumerate(block_config):
                self.features.add(_make_dense_block(num_layers, bn_size, growth_rate, dropout, i + 1))
                num_features += num_layers * growth_rate
                if i != len(block_config) - 1:
                    num_features //= 2
                    self.features.add(_make_transition(num_features))
            self.features.add(nn.BatchNorm(), nn.Activation("relu"), nn.AvgPool2D(pool_size=7), nn.Flatten())
            self.output = nn.Dense(classes)

    def hybrid_forward(self, F, x):
        return self.output(self.features(x))


densenet_spec = {121: (64, 32, [6, 12, 24, 16]),
                 161: (96, 48, [6, 12, 36, 24]),
                 169: (64, 32, [6, 12, 32, 32]),
                 201: (64, 32, [6, 12, 48, 32])}


def get_densenet(num_layers, pretrained=False, ctx=cpu(), root=_default_root, **kwargs):
    """DenseNet-BC with `num_layers` (121, 161, 169, 201); `pretrained` loads MXNet's published weights from
    `root` onto `ctx`; other keywords go to DenseNet."""
    if num_layers not in densenet_spec:
        raise ValueError(f"Invalid number of layers: {num_layers}. Options are {sorted(densenet_spec)}")
    num_init_features, growth_rate, block_config = densenet_spec[num_layers]
    return _with_pretrained(DenseNet(num_init_features, growth_rate, block_config, **kwargs), pretrained,
                            f"densenet{num_layers}", root, ctx)


densenet121, densenet161, densenet169, densenet201 = (
    constructor(f"densenet{n}", f"DenseNet-BC {n}; keywords: pretrained, ctx, root, classes, bn_size, dropout "
                "(see get_densenet).", get_densenet, n)
    for n in (121, 161, 169, 201))
