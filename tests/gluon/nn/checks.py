"""The checks every Gluon layer test module runs over its rows of layer_cases (bound by `layer_tests`): output
against a NumPy float64 reference with random parameter values, float64 numerical gradients of the input and
every trained parameter on hypothesis-drawn values, hybridized against imperative outputs and gradients, and
MXNet 1.9.1's prefix, repr, parameter shapes (before and after the first forward) and output
(fixtures/layers_mxnet.json)."""
import json
import os

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import mxcy as mx
from mxcy.gluon import nn
from mxcy.gluon.contrib import nn as cnn
from tests.gluon.nn import layer_cases

with open(os.path.join(os.path.dirname(__file__), "fixtures", "layers_mxnet.json")) as _f:
    MXNET = json.load(_f)

_CASES = {c.id: c for c in layer_cases.CASES}


def build(case_id):
    """(a fresh mxcy block of the row, numbered 0 as in the fixtures, the row)."""
    case = _CASES[case_id]
    with mx.name.NameManager():
        return case.build(nn, cnn), case


def draw_input(case, rng):
    if case.kind == "index":
        return rng.integers(0, 5, case.shape).astype(np.float64)
    return rng.standard_normal(case.shape)


def init_float64(block, x):
    """Initialize `block` in float64 and finish its deferred shapes with one forward of `x`."""
    block.initialize()
    block.cast("float64")
    block(mx.nd.array(x, dtype="float64"))


def set_params(block, rng):
    """Random float64 values for every parameter (running variances positive); {name without prefix: value}."""
    values = {}
    for name, p in block.collect_params().items():
        v = rng.uniform(0.5, 2, p.shape) if name.endswith("running_var") else rng.standard_normal(p.shape)
        p.set_data(mx.nd.array(v, dtype="float64"))
        values[name[len(block.prefix):]] = v
    return values


def _trained(block):
    return [p for p in block.collect_params().values() if p.grad_req != "null"]


def _forward(block, x, train):
    with mx.autograd.train_mode() if train else mx.autograd.predict_mode():
        return block(mx.nd.array(x, dtype="float64")).asnumpy()


def outputs_and_grads(block, x, head, train):
    """(output, input gradient, [gradients of the trained parameters]) for head gradient `head`."""
    xs = mx.nd.array(x, dtype="float64")
    xs.attach_grad()
    with mx.autograd.record(train_mode=train):
        y = block(xs)
    y.backward(mx.nd.array(head, dtype="float64"), train_mode=train)  # BatchNorm's backward follows the mode
    return y.asnumpy(), xs.grad.asnumpy(), [p.grad().asnumpy() for p in _trained(block)]


def numeric_grad(fn, a, eps=1e-6):
    """Central differences of the scalar fn() in each element of `a` (changed in place and restored)."""
    grad = np.zeros_like(a)
    flat, gflat = a.reshape(-1), grad.reshape(-1)
    for j in range(flat.size):
        old = flat[j]
        flat[j] = old + eps
        plus = fn()
        flat[j] = old - eps
        minus = fn()
        flat[j] = old
        gflat[j] = (plus - minus) / (2 * eps)
    return grad


def check_reference(case_id, reference, seed, train=False):
    block, case = build(case_id)
    rng = np.random.default_rng(seed)
    x = draw_input(case, rng)
    init_float64(block, x)
    params = set_params(block, rng)
    got = _forward(block, x, train)
    np.testing.assert_allclose(got, reference(x, params), rtol=1e-10, atol=1e-10, err_msg=case_id)


def check_gradient(case_id, seed, train=False):
    block, case = build(case_id)
    rng = np.random.default_rng(seed)
    x = draw_input(case, rng)
    init_float64(block, x)
    set_params(block, rng)
    head = rng.standard_normal(_forward(block, x, train).shape)
    _, dx, dparams = outputs_and_grads(block, x, head, train)

    def loss():
        return float((_forward(block, x, train) * head).sum())

    if case.kind != "index":
        np.testing.assert_allclose(dx, numeric_grad(loss, x), rtol=1e-5, atol=1e-6, err_msg=f"{case_id}: input")
    for p, analytic in zip(_trained(block), dparams):
        value = p.data().asnumpy().copy()

        def loss_of_param():
            p.set_data(mx.nd.array(value, dtype="float64"))
            return loss()
        np.testing.assert_allclose(analytic, numeric_grad(loss_of_param, value), rtol=1e-5, atol=1e-6,
                                   err_msg=f"{case_id}: {p.name}")


def check_hybrid(block, x, train=False):
    """Imperative and hybridized outputs and gradients of `block` (initialized, float64) are equal."""
    shape = _forward(block, x, train).shape
    head = np.linspace(-1, 1, int(np.prod(shape))).reshape(shape)
    imperative = outputs_and_grads(block, x, head, train)
    block.hybridize()
    hybrid = outputs_and_grads(block, x, head, train)
    for a, b in zip(imperative[:2] + tuple(imperative[2]), hybrid[:2] + tuple(hybrid[2])):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12)


def check_against_mxnet(case_id, block, shape, kind):
    want = MXNET[case_id]
    assert block.prefix == want["prefix"]
    assert repr(block) == want["repr_before"]
    assert [[k, list(v.shape)] for k, v in block.collect_params().items()] == want["params_before"]
    block.initialize()
    x = mx.nd.array(layer_cases.fixed_input(shape, kind))
    block(x)
    for name, p in block.collect_params().items():
        p.set_data(mx.nd.array(layer_cases.fixed_param(name[len(block.prefix):], p.shape)))
    out = block(x).asnumpy()
    if want["output"] is not None:  # MXNet's CPU build fails a few rows (the fixture says why)
        np.testing.assert_allclose(out, np.array(want["output"]), rtol=1e-4, atol=1e-5)
        assert repr(block) == want["repr_after"]
        assert [[k, list(v.shape)] for k, v in block.collect_params().items()] == want["params_after"]


def layer_tests(references, train=()):
    """The standard tests over the rows named in `references` ({case id: reference(x, params) -> output}); rows
    in `train` run in training mode. Bind at module level:

        test_reference, test_gradient, test_hybrid, test_matches_mxnet = layer_tests(REFERENCES)
    """
    ids = sorted(references)
    seeds = given(seed=st.integers(0, 2**32 - 1))
    few = settings(max_examples=3, deadline=None)

    @pytest.mark.parametrize("case_id", ids)
    @few
    @seeds
    def test_reference(case_id, seed):
        check_reference(case_id, references[case_id], seed, case_id in train)

    @pytest.mark.parametrize("case_id", ids)
    @few
    @seeds
    def test_gradient(case_id, seed):
        check_gradient(case_id, seed, case_id in train)

    @pytest.mark.parametrize("case_id", ids)
    def test_hybrid(case_id):
        block, case = build(case_id)
        x = draw_input(case, np.random.default_rng(0))
        init_float64(block, x)
        set_params(block, np.random.default_rng(1))
        check_hybrid(block, x, case_id in train)

    @pytest.mark.parametrize("case_id", ids)
    def test_matches_mxnet(case_id):
        block, case = build(case_id)
        check_against_mxnet(case_id, block, case.shape, case.kind)

    return test_reference, test_gradient, test_hybrid, test_matches_mxnet
