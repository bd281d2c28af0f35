"""Convolution_v1, Pooling_v1, BatchNorm_v1, SVMOutput and IdentityAttachKLSparseReg: OpSpecs on the current ops'
NumPy references, the loss gradients against float64 numerical derivatives of the losses, MXNet 1.9.1's printed
values and errors."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import mxcy as mx
from tests.ops.opspec import OpSpec, spec_tests
from tests.ops.test_nn_conv import _TOL, _conv_make, _conv_ref
from tests.ops.test_nn_norm import _bn_make, _bn_ref
from tests.ops.test_nn_pool import _pool_make, _pool_ref

_IGNORES_HEAD = "a loss layer: its gradient is the hinge loss's, whatever the head gradient (tested below)"
_PENALTY = "the backward adds a sparseness penalty that is no derivative of the identity forward (tested below)"


def _pool_v1_make(pool_type, convention):
    """Pooling's cases that Pooling_v1 has: no count_include_pad (v1 averages over the padded window)."""
    make = _pool_make(pool_type, convention)

    def make_v1(rng):
        arrays, attrs = make(rng)
        attrs.pop("count_include_pad", None)
        return arrays, attrs
    return make_v1


def _bn_v1_make(rng):
    """BatchNorm's cases over axis 1, the only one BatchNorm_v1 has."""
    while True:
        arrays, attrs = _bn_make(4)(rng)
        if attrs.pop("axis") % 4 == 1:
            return arrays, attrs


def _bn_v1_ref(train):
    """BatchNorm's reference, its third output the variance instead of the inverse std."""
    def ref(*arrays, eps=1e-3, **attrs):
        out, mean, invstd = _bn_ref(train)(*arrays, eps=eps, **attrs)
        return out, mean, invstd ** -2 - eps
    return ref


def _hinge_loss(scores, label, margin, regularization_coefficient, use_linear):
    """The one-vs-all hinge loss whose gradient MXNet's SVMOutput gives (squared unless use_linear)."""
    sign = np.where(np.arange(scores.shape[-1]) == label[..., None], 1.0, -1.0)
    violation = np.maximum(0.0, margin - sign * scores)
    return regularization_coefficient * (violation if use_linear else violation ** 2).sum()


def _svm_make(rng):
    shape = tuple(int(d) for d in rng.integers(1, 4, int(rng.integers(2, 4))))
    attrs = {"margin": float(rng.uniform(0.5, 2)), "regularization_coefficient": float(rng.uniform(0.1, 2)),
             "use_linear": bool(rng.integers(2))}
    label = rng.integers(0, shape[-1], shape[:-1]).astype(np.float64)
    scores = rng.uniform(-3, 3, shape)
    scores[np.abs(np.abs(scores) - attrs["margin"]) < 0.01] += 0.05  # central differences stay off the kinks
    return [scores, label], attrs


def _hinge_loss_grad(scores, label, **attrs):
    """float64 central differences of the hinge loss: the reference of SVMOutput's gradient."""
    numeric = np.zeros_like(scores)
    for j in range(scores.size):
        step = np.zeros(scores.size)
        step[j] = 1e-6
        step = step.reshape(scores.shape)
        numeric.reshape(-1)[j] = (_hinge_loss(scores + step, label, **attrs) -
                                  _hinge_loss(scores - step, label, **attrs)) / 2e-6
    return numeric


def _kl_make(rng):
    n, units = (int(d) for d in rng.integers(1, 4, 2))
    return [rng.uniform(0, 1, (n, units)), rng.uniform(0.1, 0.9, units)], {
        "sparseness_target": float(rng.uniform(0.05, 0.5)), "penalty": float(rng.uniform(1e-3, 1)),
        "momentum": float(rng.uniform(0, 1))}


SPECS = [OpSpec("Convolution_v1", _conv_make(n), _conv_ref, **_TOL) for n in (2, 3)] + \
    [OpSpec("Pooling_v1", _pool_v1_make(t, c), _pool_ref)
     for t in ("max", "avg", "sum") for c in ("valid", "full")] + [
    OpSpec("BatchNorm_v1", _bn_v1_make, _bn_v1_ref(True), train=True, grad_outputs=(0,), grad_inputs=(0, 1, 2),
           rtol=1e-4, atol=1e-4),
    OpSpec("BatchNorm_v1", _bn_v1_make, _bn_v1_ref(False), grad_outputs=(0,), grad_inputs=(0, 1, 2),
           rtol=1e-4, atol=1e-4),
    OpSpec("SVMOutput", _svm_make, lambda x, label, **attrs: x, grad=False, why=_IGNORES_HEAD),
    OpSpec("_backward_SVMOutput", _svm_make, _hinge_loss_grad, grad=False, rtol=1e-4, atol=1e-4,
           why="a gradient op; MXNet 1.9.1 registers no gradient of it"),
    OpSpec("IdentityAttachKLSparseReg", _kl_make, lambda x, avg, **attrs: x, grad=False, why=_PENALTY),
]

test_forward, test_gradient, test_req_add = spec_tests(SPECS)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_svm_output_gradient_is_the_hinge_loss_gradient(seed):
    rng = np.random.default_rng(seed)
    (scores, label), attrs = _svm_make(rng)
    x = mx.nd.array(scores, dtype=np.float64)
    x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.SVMOutput(x, mx.nd.array(label, dtype=np.float64), **attrs)
    y.backward(mx.nd.array(rng.standard_normal(scores.shape), dtype=np.float64))  # ignored
    np.testing.assert_allclose(x.grad.asnumpy(), _hinge_loss_grad(scores, label, **attrs), rtol=1e-5, atol=1e-6)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_kl_sparse_reg_gradient_adds_the_kl_penalty(seed):
    rng = np.random.default_rng(seed)
    (data, avg0), attrs = _kl_make(rng)
    x, avg = mx.nd.array(data, dtype=np.float64), mx.nd.array(avg0, dtype=np.float64)
    head = rng.standard_normal(data.shape)
    x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.IdentityAttachKLSparseReg(x, avg, **attrs)
    y.backward(mx.nd.array(head, dtype=np.float64))
    moving = attrs["momentum"] * avg0 + (1 - attrs["momentum"]) * data.mean(axis=0)
    rho = attrs["sparseness_target"]
    # d/dq of KL(rho || q) = rho log(rho / q) + (1 - rho) log((1 - rho) / (1 - q)), per unit
    penalty = attrs["penalty"] * (-rho / moving + (1 - rho) / (1 - moving))
    np.testing.assert_allclose(avg.asnumpy(), moving, rtol=1e-12)
    np.testing.assert_allclose(x.grad.asnumpy(), head + penalty, rtol=1e-10)


def test_values_printed_by_mxnet():
    d, label = mx.nd.array([[0.5, -0.2, 2.0], [-1.5, 0.3, 0.1]]), mx.nd.array([2, 0])
    for use_linear, expected in ((False, [[1.5, 0.8, 0], [-2.5, 1.3, 1.1]]), (True, [[0.5, 0.5, 0], [-0.5, 0.5, 0.5]])):
        d.attach_grad()
        with mx.autograd.record():
            out = mx.nd.SVMOutput(d, label, margin=1.0, regularization_coefficient=0.5, use_linear=use_linear)
        out.backward()
        assert out.asnumpy().tolist() == d.asnumpy().tolist()
        np.testing.assert_allclose(d.grad.asnumpy(), expected, rtol=1e-6)
    sym = mx.sym.IdentityAttachKLSparseReg(mx.sym.var("d"), penalty=0.1, name="kl")
    assert sym.list_auxiliary_states() == ["kl_moving_avg"] and sym.list_outputs() == ["kl_output"]
    exe = sym.simple_bind(mx.cpu(), d=(2, 3))
    exe.aux_dict["kl_moving_avg"][:] = 0.5
    exe.forward(is_train=True, d=mx.nd.array([[0.5, 0.2, 0.9], [0.1, 0.3, 0.1]]))
    exe.backward(mx.nd.ones((2, 3)))
    np.testing.assert_allclose(exe.grad_dict["d"].asnumpy(), [[1.1522436, 1.150376, 1.16]] * 2, rtol=1e-6)
    np.testing.assert_allclose(exe.aux_dict["kl_moving_avg"].asnumpy(), [0.48, 0.475, 0.5], rtol=1e-6)


def test_batch_norm_v1_outputs_the_variance_as_mxnet():
    x = mx.nd.array(np.arange(24).reshape(2, 3, 2, 2))
    sym = mx.sym.BatchNorm_v1(mx.sym.var("x"), fix_gamma=False, output_mean_var=True, name="bn")
    assert sym.list_arguments() == ["x", "bn_gamma", "bn_beta"]
    assert sym.list_auxiliary_states() == ["bn_moving_mean", "bn_moving_var"]
    exe = sym.bind(mx.cpu(), {"x": x, "bn_gamma": mx.nd.array([1, 2, 3]), "bn_beta": mx.nd.array([0, 1, 0])},
                   aux_states={"bn_moving_mean": mx.nd.zeros(3), "bn_moving_var": mx.nd.ones(3)})
    out, mean, var = exe.forward(is_train=True)
    np.testing.assert_allclose(out.asnumpy().reshape(-1)[:6],
                               [-1.2288314, -1.0649872, -0.901143, -0.73729885, -1.4576627, -1.1299744], rtol=1e-5)
    assert mean.asnumpy().tolist() == [7.5, 11.5, 15.5]
    np.testing.assert_allclose(var.asnumpy(), [37.25] * 3, rtol=1e-6)


def test_legacy_ops_take_mxnets_arguments_only():
    x = mx.nd.ones((1, 2, 4, 4))
    with pytest.raises(mx.MXNetError, match="Pooling_v1.*count_include_pad"):
        mx.nd.Pooling_v1(x, kernel=(2, 2), count_include_pad=False)
    with pytest.raises(mx.MXNetError, match="Pooling_v1.*lp"):
        mx.nd.Pooling_v1(x, kernel=(2, 2), pool_type="lp")
    with pytest.raises(mx.MXNetError, match="BatchNorm_v1.*axis"):
        mx.nd.BatchNorm_v1(x, mx.nd.ones(2), mx.nd.ones(2), mx.nd.zeros(2), mx.nd.ones(2), axis=1)
    with mx.name.NameManager():
        assert mx.sym.Convolution_v1(mx.sym.var("d"), kernel=(1, 1), num_filter=2).list_arguments() == \
            ["d", "convolution_v10_weight", "convolution_v10_bias"]


@pytest.mark.parametrize("call,match", [
    (lambda: mx.nd.Convolution_v1(mx.nd.ones((1, 2, 4, 4)), mx.nd.ones((3, 5, 2, 2)), mx.nd.ones(3), kernel=(2, 2),
                                  num_filter=3), r"Convolution_v1.*\(3, 5, 2, 2\)"),
    (lambda: mx.nd.SVMOutput(mx.nd.ones((2, 3)), mx.nd.ones((4,))), r"SVMOutput.*label.*\(4,\).*\(2, 3\)"),
    (lambda: mx.nd.SVMOutput(mx.nd.ones((3,)), mx.nd.ones((1,))), r"SVMOutput.*\(3,\)"),
    (lambda: mx.nd.IdentityAttachKLSparseReg(mx.nd.ones((2, 3, 2)), mx.nd.ones(3)),
     r"IdentityAttachKLSparseReg.*\(2, 3, 2\)"),
    (lambda: mx.nd.IdentityAttachKLSparseReg(mx.nd.ones((2, 3)), mx.nd.ones(4)),
     r"IdentityAttachKLSparseReg.*moving_avg.*\(4,\)"),
])
def test_errors_name_the_op_and_shapes(call, match):
    with pytest.raises(mx.MXNetError, match=match):
        call().wait_to_read()


def test_svm_output_refuses_labels_out_of_range():
    x = mx.nd.ones((2, 3))
    x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.SVMOutput(x, mx.nd.array([0, 3]))
    with pytest.raises(mx.MXNetError, match=r"SVMOutput: labels must be 2 class indices in \[0, 3\)"):
        y.backward()
        x.grad.wait_to_read()
