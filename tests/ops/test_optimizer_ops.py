"""The update operators against NumPy float64 versions of MXNet 1.9.1's rules (tests/optimizer_rules.py):
several in-place steps (out=weight) checking weight and every state, multi-precision float16 weights with float32
masters, write requests, AdamW's skipped steps, and bad input."""
import dataclasses
from typing import Callable

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import mxcy as mx
from mxcy.kernels.common import REQ_ADD
from mxcy.ops import registry
from mxcy.ops.invoke import invoke
from tests import optimizer_rules as rules
from tests.ops.opspec import OpSpec, check_forward


@dataclasses.dataclass
class Update:
    """One update op: its rule, how to draw its states (from rng and the weight's shape) and attributes."""
    name: str
    rule: Callable
    states: Callable
    attrs: Callable
    multi_precision: bool = False

    def __repr__(self):
        return self.name


def _common(rng, clip_name="clip_gradient"):
    return {"lr": float(rng.uniform(0.01, 0.5)), "wd": float(rng.choice([0.0, 0.1])),
            "rescale_grad": float(rng.choice([1.0, 0.5])), clip_name: float(rng.choice([-1.0, 0.3]))}


def _mom(rng):
    return dict(_common(rng), momentum=float(rng.choice([0.0, 0.9])))


def _normal(rng, shape, n):
    return [rng.standard_normal(shape) for _ in range(n)]


def _positive(rng, shape):
    return rng.uniform(0.1, 1.0, shape)


def _zeros(n):
    return lambda rng, shape: [np.zeros(shape) for _ in range(n)]


UPDATES = [
    Update("sgd_update", rules.sgd, _zeros(0), _common),
    Update("sgd_mom_update", rules.sgd_mom, lambda rng, s: _normal(rng, s, 1), _mom),
    Update("nag_mom_update", rules.nag_mom, lambda rng, s: _normal(rng, s, 1), _mom),
    Update("mp_sgd_update", rules.sgd, _zeros(0), _common, multi_precision=True),
    Update("mp_sgd_mom_update", rules.sgd_mom, lambda rng, s: _normal(rng, s, 1), _mom, multi_precision=True),
    Update("mp_nag_mom_update", rules.nag_mom, lambda rng, s: _normal(rng, s, 1), _mom, multi_precision=True),
    Update("adam_update", rules.adam, lambda rng, s: [rng.standard_normal(s), _positive(rng, s)],
           lambda rng: dict(_common(rng), beta1=0.9, beta2=float(rng.choice([0.999, 0.9])), epsilon=1e-8)),
    Update("rmsprop_update", rules.rmsprop, lambda rng, s: [_positive(rng, s)],
           lambda rng: dict(_common(rng), gamma1=0.9, clip_weights=float(rng.choice([-1.0, 1.0])))),
    Update("rmspropalex_update", rules.rmspropalex, _zeros(3),
           lambda rng: dict(_common(rng), gamma1=0.95, gamma2=0.9, epsilon=1e-4,
                            clip_weights=float(rng.choice([-1.0, 1.0])))),
    Update("ftrl_update", rules.ftrl, lambda rng, s: [rng.standard_normal(s), _positive(rng, s)],
           lambda rng: dict(_common(rng), lamda1=float(rng.choice([0.01, 0.5])), beta=1.0)),
    Update("ftml_update", rules.ftml, lambda rng, s: [_positive(rng, s), _positive(rng, s), rng.standard_normal(s)],
           lambda rng: dict(_common(rng, "clip_grad"), beta1=0.6, beta2=0.999, t=int(rng.integers(1, 5)))),
    Update("signsgd_update", rules.signsgd, _zeros(0), _common),
    Update("signum_update", rules.signum, lambda rng, s: _normal(rng, s, 1),
           lambda rng: dict(_mom(rng), wd_lh=float(rng.choice([0.0, 0.01])))),
    Update("lamb_update_phase1", rules.lamb_phase1, lambda rng, s: [rng.standard_normal(s), _positive(rng, s)],
           lambda rng: {"t": int(rng.integers(1, 5)), "wd": float(rng.choice([0.0, 0.1])),
                        "bias_correction": bool(rng.choice([True, False])),
                        "rescale_grad": float(rng.choice([1.0, 0.5])),
                        "clip_gradient": float(rng.choice([-1.0, 0.3]))}),
    Update("lamb_update_phase2", rules.lamb_phase2,  # r1, r2: the norms, 0 now and then (the ratio is then 1)
           lambda rng, s: [rng.choice([0.0, 1.0]) * _positive(rng, (1,)), _positive(rng, (1,))],
           lambda rng: {"lr": float(rng.uniform(0.01, 0.5)), "lower_bound": float(rng.choice([-1.0, 0.5])),
                        "upper_bound": float(rng.choice([-1.0, 0.8]))}),
]

_ADAMW_ATTRS = {"lr": 0.05, "eta": 0.7, "wd": 0.1, "beta1": 0.9, "beta2": 0.99, "epsilon": 1e-8,
                "clip_gradient": 0.3}


def _draw(update, rng):
    shape = tuple(int(d) for d in rng.integers(1, 5, size=int(rng.integers(1, 3))))
    w, g = rng.standard_normal(shape), rng.standard_normal(shape) * 2
    return w, g, update.states(rng, shape), update.attrs(rng)


@pytest.mark.parametrize("update", [u for u in UPDATES if not u.multi_precision], ids=repr)
@pytest.mark.parametrize("dtype,rtol", [("float64", 1e-12), ("float32", 2e-5)])
@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_steps_in_place_match_reference(update, dtype, rtol, seed):
    rng = np.random.default_rng(seed)
    w, g, states, attrs = _draw(update, rng)
    weight = mx.nd.array(w, dtype=dtype)
    nd_states = [mx.nd.array(s, dtype=dtype) for s in states]
    fn = getattr(mx.nd, update.name)
    want_w, want_states = w.astype(dtype).astype(np.float64), [s.astype(dtype).astype(np.float64) for s in states]
    for _ in range(3):
        grad = rng.standard_normal(w.shape).astype(dtype)
        fn(weight, mx.nd.array(grad, dtype=dtype), *nd_states, out=weight, **attrs)
        want_w, *want_states = update.rule(want_w, grad.astype(np.float64), *want_states, **attrs)
        np.testing.assert_allclose(weight.asnumpy(), want_w, rtol=rtol, atol=rtol, err_msg=f"{update} weight")
        for k, (got, want) in enumerate(zip(nd_states, want_states)):
            np.testing.assert_allclose(got.asnumpy(), want, rtol=rtol, atol=rtol, err_msg=f"{update} state {k}")


@pytest.mark.parametrize("update", [u for u in UPDATES if u.multi_precision], ids=repr)
@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_multi_precision_updates_the_float32_master(update, seed):
    rng = np.random.default_rng(seed)
    w, g, states, attrs = _draw(update, rng)
    master = w.astype(np.float32)
    weight = mx.nd.array(w, dtype="float16")
    nd_master = mx.nd.array(master, dtype="float32")
    nd_states = [mx.nd.array(s, dtype="float32") for s in states]
    want_w, want_states = master.astype(np.float64), [s.astype(np.float32).astype(np.float64) for s in states]
    for _ in range(2):
        grad = rng.standard_normal(w.shape).astype(np.float16)
        getattr(mx.nd, update.name)(weight, mx.nd.array(grad, dtype="float16"), *nd_states, nd_master,
                                    out=weight, **attrs)
        want_w, *want_states = update.rule(want_w, grad.astype(np.float64), *want_states, **attrs)
        np.testing.assert_allclose(nd_master.asnumpy(), want_w, rtol=2e-5, atol=2e-5)
        assert weight.dtype == np.float16
        np.testing.assert_array_equal(weight.asnumpy(), nd_master.asnumpy().astype(np.float16))
        for got, want in zip(nd_states, want_states):
            np.testing.assert_allclose(got.asnumpy(), want, rtol=2e-5, atol=2e-5)


@pytest.mark.parametrize("multi_precision", [False, True])
def test_adamw_steps_and_skips(multi_precision):
    rng = np.random.default_rng(3)
    w, g = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    dtype = "float16" if multi_precision else "float64"
    weight, grad = mx.nd.array(w, dtype=dtype), mx.nd.array(g, dtype=dtype)
    mean, var = mx.nd.zeros((3, 2), dtype="float32" if multi_precision else dtype), \
        mx.nd.zeros((3, 2), dtype="float32" if multi_precision else dtype)
    master = [mx.nd.array(w, dtype="float32")] if multi_precision else []
    fn = mx.nd.contrib.mp_adamw_update if multi_precision else mx.nd.contrib.adamw_update
    base = (master[0].asnumpy() if multi_precision else w).astype(np.float64)
    want = rules.adamw(base, g.astype(dtype).astype(np.float64), 0 * w, 0 * w, rescale_grad=0.5, **_ADAMW_ATTRS)
    fn(weight, grad, mean, var, *master, mx.nd.array([0.5]), out=weight, **_ADAMW_ATTRS)
    tol = 2e-3 if multi_precision else 1e-12
    np.testing.assert_allclose(weight.asnumpy(), want[0], rtol=tol, atol=tol)
    np.testing.assert_allclose(mean.asnumpy(), want[1], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(var.asnumpy(), want[2], rtol=1e-6, atol=1e-9)
    before = [a.asnumpy() for a in [weight, mean, var] + master]
    for bad in (np.nan, np.inf, 0.0):  # MXNet skips the whole update for a loss scaler's overflow
        fn(weight, grad, mean, var, *master, mx.nd.array([bad]), out=weight, **_ADAMW_ATTRS)
        for got, old in zip([weight, mean, var] + master, before):
            np.testing.assert_array_equal(got.asnumpy(), old)


@pytest.mark.parametrize("update", [u for u in UPDATES if not u.multi_precision], ids=repr)
def test_req_add_accumulates_the_new_weight(update):
    rng = np.random.default_rng(5)
    w, g, states, attrs = _draw(update, rng)
    op = registry.get(update.name)
    prior = rng.standard_normal(w.shape)
    target = mx.nd.array(prior, dtype="float64")
    inputs = [mx.nd.array(a, dtype="float64") for a in [w, g] + states]
    invoke(op, inputs, op.parse_attrs(attrs), out=target, req=REQ_ADD)
    want_w, *want_states = update.rule(w, g, *states, **attrs)
    np.testing.assert_allclose(target.asnumpy(), prior + want_w, rtol=1e-12, atol=1e-12)
    for got, want in zip(inputs[2:], want_states):
        np.testing.assert_allclose(got.asnumpy(), want, rtol=1e-12, atol=1e-12)


def test_bad_input_names_the_op():
    w, g = mx.nd.ones((2, 3)), mx.nd.ones((2, 3))
    with pytest.raises(mx.MXNetError, match=r"sgd_mom_update.*\(3, 2\)"):
        mx.nd.sgd_mom_update(w, g, mx.nd.zeros((3, 2)), lr=0.1)
    with pytest.raises(mx.MXNetError, match="adam_update: required argument 'lr'"):
        mx.nd.adam_update(w, g, mx.nd.zeros((2, 3)), mx.nd.zeros((2, 3)))
    with pytest.raises(mx.MXNetError, match="mp_sgd_update.*float32"):
        mx.nd.mp_sgd_update(w.astype("float16"), g.astype("float16"), w.astype("float16"), lr=0.1)
    with pytest.raises(mx.MXNetError, match="sgd_update.*int32"):
        mx.nd.sgd_update(w.astype("int32"), g.astype("int32"), lr=0.1)
    with pytest.raises(mx.MXNetError, match="ftml_update: required argument 't'"):
        mx.nd.ftml_update(w, g, w, w, w, lr=0.1)


def test_lamb_bad_input_names_the_op():
    w = mx.nd.ones((2, 3))
    with pytest.raises(mx.MXNetError, match="lamb_update_phase1: required argument 'wd'"):
        mx.nd.lamb_update_phase1(w, w, w, w, t=1)
    with pytest.raises(mx.MXNetError, match=r"lamb_update_phase2.*one value.*\(2,\)"):
        mx.nd.lamb_update_phase2(w, w, mx.nd.ones((2,)), mx.nd.ones((1,)), lr=0.1)
    with pytest.raises(mx.MXNetError, match=r"lamb_update_phase2.*\(3, 2\)"):
        mx.nd.lamb_update_phase2(w, mx.nd.ones((3, 2)), mx.nd.ones((1,)), mx.nd.ones((1,)), lr=0.1)


def test_mxnet_names_and_defaults():
    import inspect
    params = inspect.signature(mx.nd.sgd_mom_update).parameters
    assert list(params)[:9] == ["weight", "grad", "mom", "lr", "momentum", "wd", "rescale_grad",
                                "clip_gradient", "lazy_update"]
    op = registry.get("adam_update")
    assert op.defaults == {"beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8, "wd": 0.0, "rescale_grad": 1.0,
                           "clip_gradient": -1.0, "lazy_update": True}
    assert op.mutate_inputs == (2, 3)


def _spec(update):
    def make(rng):
        w, g, states, attrs = _draw(update, rng)
        if update.multi_precision:
            states = states + [w.astype(np.float32)]
        return [w, g] + states, attrs

    def reference(w, g, *states, **attrs):
        if update.multi_precision:
            w, states = states[-1].astype(np.float64), states[:-1]
        return update.rule(w, g, *states, **attrs)[0]
    return OpSpec(update.name, make, reference, grad=False, rtol=2e-5, atol=2e-5,
                  why="update operators have no gradient")


def _adamw_spec(name, multi_precision):
    def make(rng):
        w, g = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
        master = [w.astype(np.float32)] if multi_precision else []
        return [w, g, np.zeros_like(w), np.ones_like(w)] + master + [np.array([0.5])], dict(_ADAMW_ATTRS)

    def reference(w, g, mean, var, *rest, **attrs):
        return rules.adamw(rest[0] if multi_precision else w, g, mean, var, rescale_grad=float(rest[-1][0]),
                           **attrs)[0]
    return OpSpec(name, make, reference, grad=False, rtol=2e-5, atol=2e-5, why="update operators have no gradient")


# multi_*sgd*_update: (name, has momentum, multi-precision)
MULTI = [("multi_sgd_update", False, False), ("multi_sgd_mom_update", True, False),
         ("multi_mp_sgd_update", False, True), ("multi_mp_sgd_mom_update", True, True)]


def _multi_draw(rng, has_mom, multi_precision, n=3):
    """Groups (weight, grad[, mom][, weight32]) of n weights of different shapes, and the op's attributes."""
    groups = []
    for k in range(n):
        shape = tuple(int(d) for d in rng.integers(1, 5, size=k % 2 + 1))
        w = rng.standard_normal(shape)
        groups.append([w, rng.standard_normal(shape) * 2] + [rng.standard_normal(shape)] * has_mom
                      + [w.astype(np.float32)] * multi_precision)
    attrs = {"lrs": tuple(float(x) for x in rng.uniform(0.01, 0.5, n)),
             "wds": tuple(float(x) for x in rng.choice([0.0, 0.1], n)), "num_weights": n,
             "rescale_grad": float(rng.choice([1.0, 0.5])), "clip_gradient": float(rng.choice([-1.0, 0.3]))}
    if has_mom:
        attrs["momentum"] = float(rng.choice([0.0, 0.9]))
    return groups, attrs


def _multi_rule(group, k, has_mom, multi_precision, attrs):
    """(new weight, *new states) of weight k by the single-weight float64 rule."""
    w, g = (group[-1] if multi_precision else group[0]), group[1]
    common = dict(lr=attrs["lrs"][k], wd=attrs["wds"][k], rescale_grad=attrs["rescale_grad"],
                  clip_gradient=attrs["clip_gradient"])
    if has_mom:
        return rules.sgd_mom(w, g, group[2], momentum=attrs["momentum"], **common)
    return rules.sgd(w, g, **common)


def _multi_spec(name, has_mom, multi_precision):
    stride = 2 + has_mom + multi_precision

    def make(rng):
        groups, attrs = _multi_draw(rng, has_mom, multi_precision)
        return [a for g in groups for a in g], attrs

    def reference(*arrays, **attrs):
        return tuple(_multi_rule(arrays[k * stride:(k + 1) * stride], k, has_mom, multi_precision, attrs)[0]
                     for k in range(attrs["num_weights"]))
    return OpSpec(name, make, reference, grad=False, rtol=2e-5, atol=2e-5, why="update operators have no gradient")


@pytest.mark.parametrize("name,has_mom,multi_precision", MULTI, ids=[m[0] for m in MULTI])
@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_multi_steps_in_place_match_reference(name, has_mom, multi_precision, seed):
    rng = np.random.default_rng(seed)
    groups, attrs = _multi_draw(rng, has_mom, multi_precision)
    dtype = "float16" if multi_precision else "float64"
    arrays = [[mx.nd.array(a, dtype="float32" if j >= 2 and multi_precision else dtype) for j, a in enumerate(g)]
              for g in groups]
    want = [[a.astype(dtype).astype(np.float64) if j < 2 else a.astype(np.float64) for j, a in enumerate(g)]
            for g in groups]
    tol = 2e-5 if multi_precision else 1e-12
    for _ in range(2):
        grads = [rng.standard_normal(g[0].shape).astype(dtype) for g in groups]
        for a, w, grad in zip(arrays, want, grads):
            a[1] = mx.nd.array(grad, dtype=dtype)
            w[1] = grad.astype(np.float64)
        getattr(mx.nd, name)(*[a for g in arrays for a in g], out=[g[0] for g in arrays], **attrs)
        for k, (a, w) in enumerate(zip(arrays, want)):
            new_w, *new_states = _multi_rule(w, k, has_mom, multi_precision, attrs)
            w[2:] = new_states + [new_w] * multi_precision
            w[0] = new_w
            got = a[-1] if multi_precision else a[0]
            np.testing.assert_allclose(got.asnumpy(), new_w, rtol=tol, atol=tol, err_msg=f"{name} weight {k}")
            if multi_precision:
                np.testing.assert_array_equal(a[0].asnumpy(), a[-1].asnumpy().astype(np.float16))
            if has_mom:
                np.testing.assert_allclose(a[2].asnumpy(), new_states[0], rtol=tol, atol=tol)


def test_multi_mutates_every_state_and_checks_counts():
    op = registry.get("multi_mp_sgd_mom_update")
    assert op.mutated_inputs(op.parse_attrs({"lrs": (0.1, 0.1), "wds": (0, 0), "num_weights": 2})) == (2, 3, 6, 7)
    w, g = mx.nd.ones((2,)), mx.nd.ones((2,))
    assert mx.nd.multi_sgd_update(w, g, lrs=(0.5,), wds=(0.0,)).asnumpy().tolist() == [0.5, 0.5]  # num_weights=1
    with pytest.raises(mx.MXNetError, match="Number of learning rates"):
        mx.nd.multi_sgd_update(w, g, w, g, lrs=(0.1,), wds=(0.0, 0.0), num_weights=2)
    with pytest.raises(mx.MXNetError, match=r"weight 1: input 1 has shape \(3,\)"):
        mx.nd.multi_sgd_update(w, g, w, mx.nd.ones((3,)), lrs=(0.1, 0.1), wds=(0.0, 0.0), num_weights=2)


SPECS = [_spec(u) for u in UPDATES] + [_adamw_spec("_adamw_update", False), _adamw_spec("_mp_adamw_update", True)] \
    + [_multi_spec(*m) for m in MULTI]


@pytest.mark.parametrize("spec", SPECS, ids=repr)
@settings(max_examples=3, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_forward(spec, seed):
    check_forward(spec, np.random.default_rng(seed))
