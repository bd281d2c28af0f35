"""gluon.model_zoo.vision against MXNet 1.9.1: every architecture's parameter names, shapes and counts
(fixtures/param_table.json, param_names.json.gz), a forward of every model at the smallest input it accepts,
outputs and a float64 training step from the same seeded weights (fixtures/reference.nd), exported graphs
(fixtures/exports.json.gz), an MXNet-written parameter file, and get_model. Fixtures come from fixtures/make_zoo_fixtures.py run under MXNet 1.9.1."""
import gzip
import json
import math
import os
import sys

import numpy as np
import pytest

import mxcy as mx
from mxcy.gluon.model_zoo import vision

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures")
sys.path.insert(0, FIXTURES)
import zoo_cases  # noqa: E402

with open(os.path.join(FIXTURES, "param_table.json")) as _f:
    PARAM_TABLE = json.load(_f)
with gzip.open(os.path.join(FIXTURES, "param_names.json.gz"), "rt") as _f:
    PARAM_NAMES = json.load(_f)
REFERENCE = mx.nd.load(os.path.join(FIXTURES, "reference.nd"))
with gzip.open(os.path.join(FIXTURES, "exports.json.gz"), "rt") as _f:
    EXPORTS = json.load(_f)

MODEL_NAMES = [name for name, kwargs, _ in zoo_cases.TABLE_MODELS.values() if not kwargs]
# The smallest square input each architecture accepts, where it is below the size it was designed for:
# global pooling lets ResNet/VGG/MobileNet run at 32; AlexNet's three strided pools need 63. DenseNet
# (7x7 average pool), SqueezeNet (13x13) and Inception v3 (8x8) pool fixed windows at the end, so they need
# their full size.
SMALLEST_SIDE = {"alexnet": 63, "squeezenet1.0": 224, "squeezenet1.1": 224}
FULL_SIZE_ONLY = ("inceptionv3", "densenet121", "densenet161", "densenet169", "densenet201")


def _param_records(net):
    structural = {id(p): k for k, p in net._collect_params_with_prefix().items()}
    return [[p.name, structural[id(p)], list(p.shape)] for p in net.collect_params().values()]


@pytest.mark.parametrize("key", sorted(zoo_cases.TABLE_MODELS))
def test_parameter_names_shapes_and_counts_equal_mxnet(key):
    """Shapes come from shape inference at the designed input size (no compute)."""
    name, kwargs, shape = zoo_cases.TABLE_MODELS[key]
    net = zoo_cases.build(mx, name, kwargs)
    net.infer_shape(mx.nd.zeros(shape))
    records = _param_records(net)
    assert records == PARAM_NAMES[key]
    assert len(records) == PARAM_TABLE[key]["arrays"]
    assert sum(math.prod(shape) for _, _, shape in records) == PARAM_TABLE[key]["parameters"]


def _forward_checked(net, side, hybridize):
    x = mx.nd.array(zoo_cases.case_input((1, 3, side, side)))
    out = net(x).asnumpy()
    assert out.shape == (1, 1000) and np.isfinite(out).all()
    if hybridize:
        net.hybridize()
        np.testing.assert_allclose(net(x).asnumpy(), out, rtol=1e-4, atol=1e-5 * np.abs(out).max())


@pytest.mark.parametrize("name", [n for n in MODEL_NAMES if n not in FULL_SIZE_ONLY])
def test_forward_at_smallest_input(name):
    """Builds with default keywords, initializes, and runs imperatively and hybridized."""
    net = vision.get_model(name)
    if name.startswith("vgg"):
        # VGG's own initializers draw ~30M normal numbers (seconds on 2 cores); test_vgg_initializers
        # checks they are set, and the structure is what this test is about.
        net.collect_params().setattr("init", mx.init.Uniform(0.05))
    net.initialize()
    _forward_checked(net, SMALLEST_SIDE.get(name, 32), hybridize=True)


@pytest.mark.parametrize("name", FULL_SIZE_ONLY)
def test_forward_at_full_size(name):
    """The heaviest: one imperative forward at the designed size (299 for Inception v3, else 224)."""
    net = vision.get_model(name)
    net.initialize()
    _forward_checked(net, zoo_cases.TABLE_MODELS[name][2][-1], hybridize=False)


def test_vgg_at_224_and_its_initializers():
    """One VGG at its designed size (Dense in_units 512*7*7); its layers carry MXNet's initializers."""
    net = vision.vgg11(classes=10)
    dense_inits = {p.init for n, p in net.collect_params().items() if "dense" in n}
    assert dense_inits == {"normal", "zeros"}
    conv_weight_init = net.features[0].weight.init
    assert isinstance(conv_weight_init, mx.init.Xavier)
    assert json.loads(conv_weight_init.dumps())[1] == {"rnd_type": "gaussian", "factor_type": "out", "magnitude": 2}
    assert net.features[0].bias.init == "zeros"
    net.collect_params().setattr("init", mx.init.Uniform(0.05))
    net.initialize()
    out = net(mx.nd.array(zoo_cases.case_input((1, 3, 224, 224))))
    assert out.shape == (1, 10) and np.isfinite(out.asnumpy()).all()
    assert net.features[-4].weight.shape == (4096, 512 * 7 * 7)


def _seeded_case(key):
    name, kwargs, shape = zoo_cases.OUTPUT_CASES[key]
    net = zoo_cases.build(mx, name, kwargs)
    zoo_cases.set_seeded_weights(mx, net, shape)
    return net, shape


@pytest.mark.parametrize("hybridize", [False, True])
@pytest.mark.parametrize("key", sorted(zoo_cases.OUTPUT_CASES))
def test_output_equals_mxnet_from_same_weights(key, hybridize):
    net, shape = _seeded_case(key)
    if hybridize:
        net.hybridize()
    expected = REFERENCE[key + "/output"].asnumpy()
    got = zoo_cases.inference_output(mx, net, shape).asnumpy()
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5 * np.abs(expected).max())


@pytest.mark.parametrize("key", sorted(zoo_cases.OUTPUT_CASES))
def test_export_equals_mxnet(key, tmp_path):
    """The exported graph is MXNet's byte for byte: node order, names, attributes."""
    assert zoo_cases.exported_symbol(mx, key, str(tmp_path)) == EXPORTS[key]


@pytest.mark.parametrize("key", zoo_cases.TRAIN_CASES)
def test_training_step_equals_mxnet(key):
    """Loss, parameter gradients, BatchNorm running statistics and the output after one SGD step, in float64."""
    net, shape = _seeded_case(key)
    result = zoo_cases.train_step(mx, net, shape)
    expected = {k[len(key) + len("/train/"):]: v for k, v in REFERENCE.items() if k.startswith(key + "/train/")}
    assert sorted(result) == sorted(expected)
    assert any(k.startswith("grad:") for k in result) and any(k.endswith("running_var") for k in result)
    for k, v in result.items():
        assert v.dtype == np.float64
        # MXNet's CPU BatchNorm blends float64 running statistics with momentum 0.9 held as a float32
        # (5e-8 off a float64 NumPy reference, which mxcy meets to 1e-16); the inference output after the
        # step uses those statistics. Gradients of these deep
        # train-mode nets amplify rounding ~1e5-fold, hence 1e-8 of the largest value rather than 1e-15.
        tol = 1e-6 if k.endswith(("running_mean", "running_var", "output_after")) else 1e-8
        want = expected[k].asnumpy()
        np.testing.assert_allclose(v.asnumpy(), want, rtol=tol, atol=tol * np.abs(want).max(), err_msg=k)


def test_loads_mxnet_parameter_file():
    """save_parameters output of MXNet 1.9.1 (structural names) loads and gives MXNet's output."""
    name, kwargs, shape = zoo_cases.OUTPUT_CASES["mobilenet0.25"]
    net = zoo_cases.build(mx, name, kwargs)
    net.load_parameters(os.path.join(FIXTURES, "mobilenet0.25_classes10.params"))
    expected = REFERENCE["mobilenet0.25/output"].asnumpy()
    np.testing.assert_allclose(zoo_cases.inference_output(mx, net, shape).asnumpy(), expected, rtol=1e-5,
                               atol=1e-6)


def test_get_model_names_and_keywords():
    assert len(MODEL_NAMES) == 34
    net = vision.get_model("ResNet18_V1", classes=7, thumbnail=True, prefix="r_")
    assert isinstance(net, vision.ResNetV1) and net.prefix == "r_" and net.output._units == 7
    assert isinstance(net.features[0], mx.gluon.nn.Conv2D) and net.features[0]._kwargs["kernel"] == (3, 3)
    assert isinstance(vision.get_model("mobilenetv2_0.5"), vision.MobileNetV2)
    assert isinstance(vision.get_model("vgg13_bn").features[1], mx.gluon.nn.BatchNorm)
    with pytest.raises(ValueError, match="resnet19_v1 is not supported.*\n\talexnet\n\tdensenet121"):
        vision.get_model("resnet19_v1")


@pytest.mark.parametrize("call, message", [
    (lambda: vision.get_resnet(3, 18), "Invalid resnet version: 3"),
    (lambda: vision.get_resnet(1, 19), "Invalid number of layers: 19"),
    (lambda: vision.get_vgg(12), "Invalid number of layers: 12"),
    (lambda: vision.SqueezeNet("1.2"), "Unsupported SqueezeNet version 1.2"),
    (lambda: vision.ResNetV1(vision.BasicBlockV1, [2, 2], [64, 64]), "channels must be one longer"),
    (lambda: vision.VGG([1, 1], [64]), "layers and filters must have the same length"),
])
def test_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_constructors_carry_names():
    assert vision.resnet50_v2.__name__ == "resnet50_v2" and vision.vgg19_bn.__name__ == "vgg19_bn"
    assert vision.mobilenet_v2_0_75.__module__ == "mxcy.gluon.model_zoo.vision.mobilenet"
    assert vision.vgg11_bn(batch_norm=False).features[1].__class__ is mx.gluon.nn.BatchNorm
