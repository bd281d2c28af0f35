"""gluon.contrib.cnn's DeformableConvolution and ModulatedDeformableConvolution: MXNet 1.9.1's parameter names,
shapes, repr, outputs and input gradients (fixtures/conv_layers_reference.json, made by
fixtures/make_conv_layers_fixture.py), a NumPy float64 reference built from the operators' references, float64
numerical gradients of the input and every parameter, hybridized = imperative, and the traced graph's JSON."""
import json
import os
import re

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import mxcy as mx
from mxcy.gluon.contrib.cnn import DeformableConvolution, ModulatedDeformableConvolution
from tests.gluon.nn.checks import check_hybrid, init_float64, numeric_grad, outputs_and_grads, set_params
from tests.ops.test_nn_conv import _conv_ref
from tests.ops.test_nn_deformable import _deformable_ref

with open(os.path.join(os.path.dirname(__file__), "fixtures", "conv_layers_reference.json")) as _f:
    MXNET = json.load(_f)["cases"]

LAYERS = {"DeformableConvolution": DeformableConvolution,
          "ModulatedDeformableConvolution": ModulatedDeformableConvolution}


@pytest.mark.parametrize("case", MXNET, ids=lambda c: c["prefix"])
def test_matches_mxnet(case):
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in case["kwargs"].items()}  # JSON made them lists
    layer = LAYERS[case["layer"]](prefix=case["prefix"], **kwargs)
    layer.initialize()
    x = np.array(case["input"])
    layer(mx.nd.array(x))
    assert [[k, list(p.shape)] for k, p in layer.collect_params().items()] == case["params"]
    if case["layer"] == "DeformableConvolution":  # 1.9.1's ModulatedDeformableConvolution has no repr of its own
        assert repr(layer) == case["repr"]
    for name, value in case["values"].items():
        layer.collect_params()[name].set_data(mx.nd.array(value))
    for hybrid, want in zip((False, True), case["results"]):
        if hybrid:
            layer.hybridize()
        xa = mx.nd.array(x)
        xa.attach_grad()
        with mx.autograd.record():
            y = layer(xa)
        np.testing.assert_allclose(y.asnumpy(), want["output"], rtol=1e-4, atol=1e-4)
        if "grad" in want:
            y.backward(mx.nd.array(case["head"]))
            np.testing.assert_allclose(xa.grad.asnumpy(), want["grad"], rtol=1e-4, atol=1e-4)
    # The traced graph is MXNet's byte for byte, but for one shape's brackets: MXNet passes the deformable weight's
    # shape as a list and keeps it so, mxcy's Parameter stores every shape as a tuple.
    want_graph = re.sub(r'"__shape__": "\[([^\]]*)\]"', r'"__shape__": "(\1)"', case["graph"])
    assert layer._cached_graph[1].tojson() == want_graph


def _reference(modulated, kwargs, x, p):
    """The layer in float64 from the operators' NumPy references: offsets (and masks) by Convolution, then the
    deformable convolution, then the activation."""
    window = dict(kernel=kwargs["kernel_size"], stride=kwargs.get("strides", (1, 1)),
                  pad=kwargs.get("padding", (0, 0)), dilate=kwargs.get("dilation", (1, 1)))
    groups, dg = kwargs.get("groups", 1), kwargs.get("num_deformable_group", 1)
    taps = window["kernel"][0] * window["kernel"][1] * dg
    offset = _conv_ref(x, p["offset_weight"], p.get("offset_bias"), num_filter=(3 if modulated else 2) * taps,
                       num_group=groups, **window)
    extra = []
    if modulated:
        offset, extra = offset[:, :2 * taps], [2 / (1 + np.exp(-offset[:, 2 * taps:]))]
    bias = p.get("deformable_conv_bias")
    out = _deformable_ref(x, offset, *extra, p["deformable_conv_weight"], *([] if bias is None else [bias]),
                          num_filter=kwargs["channels"], num_group=groups, num_deformable_group=dg,
                          no_bias=bias is None, modulated=modulated, **window)
    return np.maximum(out, 0) if kwargs.get("activation") == "relu" else out


_CASES = [
    (False, dict(channels=2, kernel_size=(2, 2), padding=(1, 0))),
    (False, dict(channels=4, kernel_size=(2, 1), strides=(1, 2), groups=2, num_deformable_group=2,
                 offset_use_bias=False, activation="relu")),
    (True, dict(channels=2, kernel_size=(2, 2), dilation=(1, 2), num_deformable_group=2, use_bias=False)),
]


def _layer(modulated, kwargs, seed):
    rng = np.random.default_rng(seed)
    layer = (ModulatedDeformableConvolution if modulated else DeformableConvolution)(**kwargs)
    x = rng.standard_normal((1, 4, 3, 4))
    init_float64(layer, x)
    values = set_params(layer, rng)
    return layer, x, values, rng


@pytest.mark.parametrize("modulated, kwargs", _CASES)
@settings(max_examples=3, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_reference_gradients_and_hybrid(modulated, kwargs, seed):
    layer, x, values, rng = _layer(modulated, kwargs, seed)
    want = _reference(modulated, dict(kwargs, kernel_size=kwargs["kernel_size"]), x, values)
    y, dx, dparams = outputs_and_grads(layer, x, head := rng.standard_normal(want.shape), False)
    np.testing.assert_allclose(y, want, rtol=1e-10, atol=1e-10)

    def loss():
        return float((layer(mx.nd.array(x, dtype="float64")).asnumpy() * head).sum())

    np.testing.assert_allclose(dx, numeric_grad(loss, x), rtol=1e-5, atol=1e-6, err_msg="input")
    for p, analytic in zip(layer.collect_params().values(), dparams):
        value = p.data().asnumpy().copy()

        def loss_of_param():
            p.set_data(mx.nd.array(value, dtype="float64"))
            return loss()
        numeric = numeric_grad(loss_of_param, value)
        p.set_data(mx.nd.array(value, dtype="float64"))  # the last difference left value - eps in the block
        np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-6, err_msg=p.name)
    check_hybrid(layer, x)


def test_offsets_start_at_zero_so_the_layer_starts_as_a_convolution():
    layer = DeformableConvolution(3, kernel_size=3, padding=1, in_channels=2)
    layer.initialize()
    x = mx.nd.random.uniform(shape=(2, 2, 5, 4))
    got = layer(x)  # the deformable weight's input channels are inferred here, even with in_channels (as MXNet)
    want = mx.nd.Convolution(x, layer.deformable_conv_weight.data(), layer.deformable_conv_bias.data(),
                             kernel=(3, 3), pad=(1, 1), num_filter=3)
    np.testing.assert_allclose(got.asnumpy(), want.asnumpy(), rtol=1e-5, atol=1e-6)
    assert layer.offset_weight.shape == (18, 2, 3, 3)


def test_only_nchw_and_nhwc_layouts_are_accepted():
    with pytest.raises(AssertionError, match="NCHW"):
        ModulatedDeformableConvolution(2, layout="NCW")
