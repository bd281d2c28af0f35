"""Activation, LeakyReLU, PReLU, ELU, SELU, Swish and GELU: NumPy float64 references (the LeakyReLU op's), numerical
gradients, hybridized = imperative, MXNet 1.9.1's names/reprs/outputs, and errors."""
import numpy as np
import pytest

import mxcy as mx
from mxcy.gluon import nn
from tests.gluon.nn.checks import layer_tests
from tests.ops.test_nn_activation import _leaky_ref


def _channel_alpha(x, alpha):
    return alpha.reshape((1, -1) + (1,) * (x.ndim - 2)) if alpha.size > 1 else alpha


REFERENCES = {
    "activation_softrelu": lambda x, p: np.log1p(np.exp(x)),
    "leakyrelu": lambda x, p: np.where(x >= 0, x, 0.1 * x),
    "prelu": lambda x, p: np.where(x >= 0, x, p["alpha"] * x),
    "prelu_channels": lambda x, p: np.where(x >= 0, x, _channel_alpha(x, p["alpha"]) * x),
    "elu": lambda x, p: np.where(x > 0, x, 0.5 * np.expm1(x)),
    "selu": lambda x, p: _leaky_ref(x, act_type="selu"),
    "swish": lambda x, p: x / (1 + np.exp(-1.5 * x)),
    "gelu": lambda x, p: _leaky_ref(x, act_type="gelu"),
}

test_reference, test_gradient, test_hybrid, test_matches_mxnet = layer_tests(REFERENCES)


def test_prelu_default_alpha_is_a_quarter():
    layer = nn.PReLU()
    layer.initialize()
    np.testing.assert_allclose(layer(mx.nd.array([[-4.0, 2.0]])).asnumpy(), [[-1.0, 2.0]])


def test_activation_prefix_is_the_activation_name():
    with mx.name.NameManager():
        assert nn.Activation("tanh").prefix == "tanh0_"
        assert nn.Dense(2, activation="relu").act.prefix == "dense0_relu_"


def test_errors():
    with pytest.raises(ValueError, match="LeakyReLU: the slope alpha must be no less than 0, got -0.1"):
        nn.LeakyReLU(-0.1)
    layer = nn.Activation("nonsense")
    with pytest.raises(mx.MXNetError, match="Activation: invalid value 'nonsense' for argument 'act_type'"):
        layer(mx.nd.ones((2,)))
    prelu = nn.PReLU(in_channels=3)
    prelu.initialize()
    with pytest.raises(mx.MXNetError, match=r"LeakyReLU.*\(2, 4\).*gamma of shape \(3,\)"):
        prelu(mx.nd.ones((2, 4))).wait_to_read()
