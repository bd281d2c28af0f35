"""Dense, Embedding, the normalizations, Flatten, the Sequential containers, Dropout and the Lambdas: NumPy float64
references, numerical gradients, hybridized = imperative, MXNet 1.9.1's names/reprs/outputs, and errors."""
import numpy as np
import pytest

import mxcy as mx
from mxcy.gluon import nn
from mxcy.gluon.contrib import nn as cnn
from tests.gluon.nn import layer_cases
from tests.gluon.nn.checks import check_against_mxnet, check_hybrid, init_float64, layer_tests, set_params
from tests.ops.test_nn_norm import _bn_ref, _gn_ref, _in_ref, _ln_ref


def _bn(train, axis=1, eps=1e-5, fix_gamma=False):
    def ref(x, p):
        return _bn_ref(train)(x, p["gamma"], p["beta"], p["running_mean"], p["running_var"], eps=eps,
                              fix_gamma=fix_gamma, axis=axis)[0]
    return ref


def _instance_axis2(x, p):
    return _in_ref(x.swapaxes(1, 2), p["gamma"], p["beta"], eps=1e-5)[0].swapaxes(1, 2)


REFERENCES = {
    "dense": lambda x, p: x.reshape(len(x), -1) @ p["weight"].T + p["bias"],
    "dense_relu_nobias": lambda x, p: np.maximum(x @ p["weight"].T, 0),
    "dense_noflatten": lambda x, p: np.tanh(x @ p["weight"].T + p["bias"]),
    "embedding": lambda x, p: p["weight"][x.astype(int)],
    "batchnorm": _bn(True),
    "batchnorm_axis_noscale": _bn(False, axis=-1, eps=0.1, fix_gamma=True),
    "batchnormrelu": lambda x, p: np.maximum(_bn(True)(x, p), 0),
    "instancenorm": lambda x, p: _in_ref(x, p["gamma"], p["beta"], eps=1e-5)[0],
    "instancenorm_axis2": _instance_axis2,
    "layernorm": lambda x, p: _ln_ref(x, p["gamma"], p["beta"])[0],
    # center=False only freezes beta (initialized to zeros), as in MXNet: a beta set by hand is still added
    "layernorm_axis1": lambda x, p: _ln_ref(x, p["gamma"], p["beta"], axis=1)[0],
    "groupnorm": lambda x, p: _gn_ref(x, p["gamma"], p["beta"], num_groups=2)[0],
    "flatten": lambda x, p: x.reshape(len(x), -1),
}

test_reference, test_gradient, test_hybrid, test_matches_mxnet = layer_tests(
    REFERENCES, train={"batchnorm", "batchnormrelu"})


def _stacks():
    with mx.name.NameManager():
        return layer_cases.stack_cases(nn, cnn)


@pytest.mark.parametrize("index", [0, 1])
def test_containers_match_mxnet_and_hybridize(index):
    name, block, shape = _stacks()[index]
    check_against_mxnet(name, block, shape, "float")
    name, block, shape = _stacks()[index]
    x = np.random.default_rng(2).standard_normal(shape)
    init_float64(block, x)
    set_params(block, np.random.default_rng(3))
    check_hybrid(block, x)


def test_sequential_indexing_slicing_and_len():
    with mx.name.NameManager():
        for cls in (nn.Sequential, nn.HybridSequential):
            net = cls()
            with net.name_scope():
                net.add(nn.Dense(3), nn.Dense(2, activation="tanh"))
                net.add(nn.Flatten())
            assert len(net) == 3 and isinstance(net[1], nn.Dense) and isinstance(net[-1], nn.Flatten)
            head = net[:2]
            assert type(head) is cls and len(head) == 2 and head.prefix == net.prefix
            assert head[1] is net[1] and head[0].prefix == net.prefix + "dense0_"
    net = nn.Sequential()
    net.add(nn.Dense(2, in_units=3, use_bias=False))
    net.initialize(mx.init.One())
    np.testing.assert_allclose(net(mx.nd.ones((1, 3))).asnumpy(), [[3.0, 3.0]])
    with pytest.warns(UserWarning, match="Consider using HybridSequential"):
        net.hybridize()


def test_batchnorm_running_statistics_follow_training_forwards_only():
    x = np.random.default_rng(4).standard_normal((4, 2, 3))
    layer = nn.BatchNorm(momentum=0.75)
    init_float64(layer, x)  # a predict-mode forward: statistics unchanged
    np.testing.assert_array_equal(layer.running_mean.data().asnumpy(), [0, 0])
    with mx.autograd.record():
        layer(mx.nd.array(x, dtype="float64"))
    np.testing.assert_allclose(layer.running_mean.data().asnumpy(), 0.25 * x.mean(axis=(0, 2)), rtol=1e-12)
    np.testing.assert_allclose(layer.running_var.data().asnumpy(), 0.75 + 0.25 * x.var(axis=(0, 2)), rtol=1e-12)
    assert layer.gamma.grad_req == "write" and layer.running_var.grad_req == "null"
    assert nn.BatchNorm(scale=False, center=False).gamma.grad_req == "null"


def test_batchnorm_cast_keeps_float32_parameters_for_float16():
    layer = nn.BatchNorm(in_channels=2)
    layer.initialize()
    layer.cast("float16")
    assert np.dtype(layer.gamma.dtype) == np.float32


def test_dropout_scales_kept_units_in_training_and_passes_through_otherwise():
    x = mx.nd.ones((50, 40))
    layer = nn.Dropout(0.25)
    np.testing.assert_array_equal(layer(x).asnumpy(), x.asnumpy())
    with mx.autograd.train_mode():
        y = layer(x).asnumpy()
        shared = nn.Dropout(0.5, axes=(1,))(x).asnumpy()
    assert set(np.unique(y)) <= {0.0, np.float32(1 / 0.75)} and 0.15 < (y == 0).mean() < 0.35
    assert all(len(set(row)) == 1 for row in shared)  # one mask value per row: the mask is shared along axis 1
    with mx.autograd.train_mode():
        np.testing.assert_array_equal(nn.Dropout(0)(x).asnumpy(), x.asnumpy())


def test_lambdas():
    x = mx.nd.array([[-1.0, 0.5]])
    assert repr(nn.Lambda(lambda a: a * 2)) == "Lambda(<lambda>)"
    np.testing.assert_allclose(nn.Lambda("tanh")(x).asnumpy(), np.tanh([[-1.0, 0.5]]), rtol=1e-6)
    hybrid = nn.HybridLambda(lambda F, a, b: F.broadcast_add(a, b))
    hybrid.hybridize()
    np.testing.assert_allclose(hybrid(x, x).asnumpy(), [[-2.0, 1.0]])
    with pytest.raises(ValueError, match="'no_such_op' is not found"):
        nn.Lambda("no_such_op")
    with pytest.raises(ValueError, match="Unrecognized function"):
        nn.HybridLambda(3)


@pytest.mark.parametrize("layer, shape, match", [
    (lambda: nn.Dense(3, in_units=4), (2, 5), r"FullyConnected.*\(2, 5\)"),
    (lambda: nn.BatchNorm(in_channels=3), (2, 4, 2), r"BatchNorm.*\(2, 4, 2\).*gamma shape \(3,\)"),
    (lambda: nn.LayerNorm(in_channels=3), (2, 4), r"LayerNorm.*\(2, 4\)"),
    (lambda: nn.GroupNorm(3), (2, 4, 2), r"GroupNorm.*\(2, 4, 2\)"),
])
def test_bad_input_names_the_op_and_shapes(layer, shape, match):
    block = layer()
    block.initialize()
    with pytest.raises(mx.MXNetError, match=match):
        block(mx.nd.ones(shape)).wait_to_read()
