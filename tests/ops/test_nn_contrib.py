"""_contrib_BatchNormWithReLU and _contrib_SyncBatchNorm against NumPy float64 references (BatchNorm's, with ReLU
after it), their moving statistics, Symbol arguments and errors."""
import numpy as np
import pytest

import mxcy as mx
from tests.ops.opspec import OpSpec, spec_tests
from tests.ops.test_nn_norm import _bn_make, _bn_ref, _shape

nd = mx.nd


def _relu_ref(train):
    bn = _bn_ref(train)

    def ref(*arrays, **attrs):
        out, mean, invstd = bn(*arrays, **attrs)
        return np.maximum(out, 0), mean, invstd
    return ref


def _sync_make(ndim):
    """BatchNorm's draws with the channel axis fixed at 1 (SyncBatchNorm has no axis argument)."""
    def make(rng):
        shape = _shape(rng, ndim, lo=2 if ndim == 2 else 1)
        c = shape[1]
        attrs = {"eps": float(rng.uniform(1e-3, 0.1)), "momentum": float(rng.uniform(0.5, 0.99)),
                 "fix_gamma": bool(rng.random() < 0.5), "output_mean_var": bool(rng.random() < 0.5),
                 "key": "layer0", "ndev": 1}
        stats = [rng.uniform(0.5, 2, c) * rng.choice([-1, 1], c), rng.standard_normal(c), rng.standard_normal(c),
                 rng.uniform(0.5, 2, c)]
        return [rng.standard_normal(shape) * 2 + 1] + stats, attrs
    return make


def _sync_ref(train):
    bn = _bn_ref(train)

    def ref(*arrays, key, ndev, **attrs):
        return bn(*arrays, axis=1, **attrs)
    return ref


_TOL = {"rtol": 1e-4, "atol": 1e-5}

SPECS = [
    OpSpec("_contrib_BatchNormWithReLU", _bn_make(2), _relu_ref(True), train=True, grad_outputs=(0,),
           grad_inputs=(0, 1, 2), **_TOL),
    OpSpec("_contrib_BatchNormWithReLU", _bn_make(4), _relu_ref(True), train=True, grad_outputs=(0,),
           grad_inputs=(0, 1, 2), **_TOL),
    OpSpec("_contrib_BatchNormWithReLU", _bn_make(3), _relu_ref(False), grad_outputs=(0,), grad_inputs=(0, 1, 2),
           **_TOL),
    OpSpec("_contrib_SyncBatchNorm", _sync_make(4), _sync_ref(True), train=True, grad_outputs=(0,),
           grad_inputs=(0, 1, 2), **_TOL),
    OpSpec("_contrib_SyncBatchNorm", _sync_make(2), _sync_ref(False), grad_outputs=(0,), grad_inputs=(0, 1, 2),
           **_TOL),
]

test_forward, test_gradient, test_req_add = spec_tests(SPECS)


def _arrays():
    x = np.array([[[1.0, -2.0], [0.5, 3.0]], [[-1.0, 4.0], [2.5, -0.5]]])  # (2, 2, 2), channel axis 1
    return [nd.array(a, dtype="float64") for a in (x, [1.5, 0.5], [0.1, -0.2], [0.0, 1.0], [1.0, 2.0])]


@pytest.mark.parametrize("op, kwargs", [(nd.contrib.BatchNormWithReLU, {}),
                                        (nd.contrib.SyncBatchNorm, {"key": "k"})])
def test_training_forward_updates_moving_statistics_like_batch_norm(op, kwargs):
    x, gamma, beta, mm, mv = _arrays()
    with mx.autograd.train_mode():
        op(x, gamma, beta, mm, mv, momentum=0.5, fix_gamma=False, **kwargs).wait_to_read()
    xs = x.asnumpy()
    np.testing.assert_allclose(mm.asnumpy(), 0.5 * np.array([0.0, 1.0]) + 0.5 * xs.mean(axis=(0, 2)), rtol=1e-12)
    np.testing.assert_allclose(mv.asnumpy(), 0.5 * np.array([1.0, 2.0]) + 0.5 * xs.var(axis=(0, 2)), rtol=1e-12)


def test_symbols_have_batch_norm_arguments_and_hidden_statistics():
    s = mx.sym.contrib.SyncBatchNorm(mx.sym.var("data"), key="bn0", name="bn")
    assert s.list_arguments() == ["data", "bn_gamma", "bn_beta"]
    assert s.list_auxiliary_states() == ["bn_moving_mean", "bn_moving_var"]
    assert s.list_outputs() == ["bn_output"]
    r = mx.sym.contrib.BatchNormWithReLU(mx.sym.var("data"), name="r", output_mean_var=True)
    assert r.list_outputs() == ["r_output", "r_mean", "r_var"]
    assert r.infer_shape(data=(2, 5, 3))[0] == [(2, 5, 3), (5,), (5,)]


def test_errors_name_the_op_and_shapes():
    x, gamma, beta, mm, mv = _arrays()
    with pytest.raises(mx.MXNetError, match=r"_contrib_SyncBatchNorm.*\(2, 2, 2\).*ndev=2.*not supported"):
        nd.contrib.SyncBatchNorm(x, gamma, beta, mm, mv, key="k", ndev=2)
    with pytest.raises(mx.MXNetError, match="_contrib_SyncBatchNorm: required argument 'key'"):
        nd.contrib.SyncBatchNorm(x, gamma, beta, mm, mv)
    with pytest.raises(mx.MXNetError, match=r"_contrib_BatchNormWithReLU.*gamma shape \(3,\)"):
        nd.contrib.BatchNormWithReLU(x, nd.ones(3, dtype="float64"), beta, mm, mv)
