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
    grad_float32: bool = False  # mixed-precision ops whose "grad" is float32 (mp_lamb_update_phase2's step)

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
    Update("mp_lamb_update_phase2", rules.lamb_phase2,
           lambda rng, s: [rng.choice([0.0, 1.0]) * _positive(rng, (1,)), _positive(rng, (1,))],
           lambda rng: {"lr": float(rng.uniform(0.01, 0.5)), "lower_bound": float(rng.choice([-1.0, 0.5])),
                        "upper_bound": float(rng.choice([-1.0, 0.8]))}, multi_precision=True, grad_float32=True),
    Update("_sparse_adagrad_update", rules.adagrad, lambda rng, s: [_positive(rng, s)],
           lambda rng: {"lr": float(rng.uniform(0.01, 0.5)), "epsilon": float(rng.choice([1e-7, 0.1])),
                        "rescale_grad": float(rng.choice([1.0, 0.5])),
                        "clip_gradient": float(rng.choice([-1.0, 0.3]))}),
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
    fn = getattr(mx.nd._internal, update.name)
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
    grad_dtype = np.float32 if update.grad_float32 else np.float16
    for _ in range(2):
        grad = rng.standard_normal(w.shape).astype(grad_dtype)
        getattr(mx.nd._internal, update.name)(weight, mx.nd.array(grad, dtype=grad_dtype), *nd_states, nd_master,
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


def _multi_groups(rng, states, multi_precision, n=3):
    """Groups (weight, grad, *states(rng, shape)[, weight32]) of n weights of different shapes."""
    groups = []
    for k in range(n):
        shape = tuple(int(d) for d in rng.integers(1, 5, size=k % 2 + 1))
        w = rng.standard_normal(shape)
        groups.append([w, 2 * rng.standard_normal(shape)] + states(rng, shape)
                      + [w.astype(np.float32)] * multi_precision)
    return groups


def _multi_draw(rng, has_mom, multi_precision, n=3):
    """Groups (weight, grad[, mom][, weight32]) of n weights of different shapes, and the op's attributes."""
    groups = _multi_groups(rng, lambda r, shape: [r.standard_normal(shape)] * has_mom, multi_precision, n)
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


_LAMB1 = next(u for u in UPDATES if u.name == "lamb_update_phase1")


@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_mp_lamb_phase1_reads_the_master_and_returns_a_float32_step(seed):
    rng = np.random.default_rng(seed)
    w, _, states, attrs = _draw(_LAMB1, rng)
    master = mx.nd.array(w, dtype="float32")
    nd_states = [mx.nd.array(x, dtype="float32") for x in states]
    want_states = [x.astype(np.float32).astype(np.float64) for x in states]
    for _ in range(2):
        grad = rng.standard_normal(w.shape).astype(np.float16)
        step = mx.nd.mp_lamb_update_phase1(mx.nd.array(w, dtype="float16"), mx.nd.array(grad, dtype="float16"),
                                           *nd_states, master, **attrs)
        want, *want_states = rules.lamb_phase1(w.astype(np.float32).astype(np.float64), grad.astype(np.float64),
                                               *want_states, **attrs)
        assert step.dtype == np.float32
        np.testing.assert_allclose(step.asnumpy(), want, rtol=2e-5, atol=2e-5)
        for got, x in zip(nd_states, want_states):
            np.testing.assert_allclose(got.asnumpy(), x, rtol=2e-5, atol=2e-5)
    np.testing.assert_array_equal(master.asnumpy(), w.astype(np.float32))


def _group_adagrad_make(rng):
    rows, cols = int(rng.integers(1, 5)), int(rng.integers(1, 5))
    attrs = {"lr": float(rng.uniform(0.01, 0.5)), "epsilon": float(rng.choice([1e-5, 0.1])),
             "rescale_grad": float(rng.choice([1.0, 0.5])), "clip_gradient": float(rng.choice([-1.0, 0.3]))}
    return [rng.standard_normal((rows, cols)), 2 * rng.standard_normal((rows, cols)),
            _positive(rng, (rows, 1))], attrs


@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_group_adagrad_steps_match_reference(seed):
    rng = np.random.default_rng(seed)
    (w, _, history), attrs = _group_adagrad_make(rng)
    weight, nd_history = mx.nd.array(w, dtype="float64"), mx.nd.array(history, dtype="float64")
    for _ in range(3):
        grad = rng.standard_normal(w.shape)
        mx.nd.contrib.group_adagrad_update(weight, mx.nd.array(grad, dtype="float64"), nd_history, out=weight,
                                           **attrs)
        w, history = rules.group_adagrad(w, grad, history, **attrs)
        np.testing.assert_allclose(weight.asnumpy(), w, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(nd_history.asnumpy(), history, rtol=1e-12, atol=1e-12)
    with pytest.raises(mx.MXNetError, match=r"group_adagrad_update.*history.*\(3, 1\)"):
        mx.nd.contrib.group_adagrad_update(mx.nd.ones((3, 2)), mx.nd.ones((3, 2)), mx.nd.ones((3, 2)), lr=0.1)


def test_row_sparse_adagrads_update_only_the_gradient_rows():
    rng = np.random.default_rng(11)
    w, history = rng.standard_normal((4, 3)), _positive(rng, (4, 3))
    rows, values = np.array([1, 3]), rng.standard_normal((2, 3))
    grad = mx.nd.sparse.row_sparse_array((values, rows), shape=(4, 3))
    weight, nd_history = mx.nd.array(w, dtype="float64"), mx.nd.array(history, dtype="float64")
    mx.nd.sparse.adagrad_update(weight, grad.astype("float64"), nd_history, lr=0.2, out=weight)
    want_w, want_h = w.copy(), history.copy()
    want_w[rows], want_h[rows] = rules.adagrad(w[rows], values, history[rows], lr=0.2)
    np.testing.assert_allclose(weight.asnumpy(), want_w, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(nd_history.asnumpy(), want_h, rtol=1e-12, atol=1e-12)
    with pytest.raises(mx.MXNetError, match="adagrad_update does not support wd"):
        mx.nd.sparse.adagrad_update(weight, weight, nd_history, lr=0.2, wd=0.1).wait_to_read()
    group_history = mx.nd.array(history[:, :1], dtype="float64")
    mx.nd.contrib.group_adagrad_update(weight, grad.astype("float64"), group_history, lr=0.2, out=weight)
    want_gw, want_gh = want_w.copy(), history[:, :1].copy()
    want_gw[rows], want_gh[rows] = rules.group_adagrad(want_w[rows], values, history[rows, :1], lr=0.2)
    np.testing.assert_allclose(weight.asnumpy(), want_gw, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(group_history.asnumpy(), want_gh, rtol=1e-12, atol=1e-12)


def _lars_make(rng):
    n = int(rng.integers(1, 6))
    zero_some = lambda: rng.uniform(0.1, 4.0, n) * (rng.uniform(size=n) > 0.2)  # noqa: E731  (0: lr kept)
    return [rng.uniform(0.01, 0.5, n), zero_some(), zero_some(), rng.choice([0.0, 0.1], n)], \
        {"eta": float(rng.uniform(0.5, 2.0)), "eps": float(rng.choice([0.0, 1e-3])),
         "rescale_grad": float(rng.choice([1.0, 0.5]))}


def test_multi_lars_known_values():
    # lr * eta * |w| / (|g| * rescale_grad + wd * |w| + eps) = 0.1 * 2 * 3 / (2 * 0.5 + 0.1 * 3 + 0.2)
    got = mx.nd.multi_lars(mx.nd.array([0.1, 0.1, 0.3]), mx.nd.array([9.0, 0.0, 4.0]), mx.nd.array([4.0, 1.0, 0.0]),
                           mx.nd.array([0.1, 0.1, 0.0]), eta=2.0, eps=0.2, rescale_grad=0.5)
    np.testing.assert_allclose(got.asnumpy(), [0.1 * 2 * 3 / 1.5, 0.1, 0.3], rtol=1e-6)
    with pytest.raises(mx.MXNetError, match="multi_lars.*float32"):
        mx.nd.multi_lars(*[mx.nd.ones((2,), dtype="float64")] * 4, eta=1.0, eps=0.0)


# Other multi-weight updates: (name, per-weight group maker, shared-input maker, reference of weight k).


def _mean_var(rng, shape):
    return [rng.standard_normal(shape), _positive(rng, shape)]


def _preloaded(has_mom, multi_precision):
    def make(rng):
        groups, attrs = _multi_draw(rng, has_mom, multi_precision)
        tail = [np.array(attrs.pop("lrs")), np.array(attrs.pop("wds"))]
        return groups, tail, attrs

    def rule(group, k, tail, attrs):
        return _multi_rule(group, k, has_mom, multi_precision, dict(attrs, lrs=tail[0], wds=tail[1]))
    return make, rule


def _multi_adamw(multi_precision):
    def make(rng):
        groups = _multi_groups(rng, _mean_var, multi_precision)
        n = len(groups)
        attrs = {"lrs": tuple(rng.uniform(0.01, 0.5, n)), "wds": tuple(rng.choice([0.0, 0.1], n)),
                 "etas": tuple(rng.uniform(0.5, 1.0, n)), "beta1": 0.9, "beta2": 0.99, "epsilon": 1e-8,
                 "clip_gradient": float(rng.choice([-1.0, 0.3])), "num_weights": n}
        return groups, [np.array([rng.choice([1.0, 0.5])])], attrs

    def rule(group, k, tail, attrs):
        w = group[-1] if multi_precision else group[0]
        return rules.adamw(w, group[1], group[2], group[3], lr=attrs["lrs"][k], wd=attrs["wds"][k],
                           eta=attrs["etas"][k], rescale_grad=float(tail[0][0]), beta1=attrs["beta1"],
                           beta2=attrs["beta2"], epsilon=attrs["epsilon"], clip_gradient=attrs["clip_gradient"])
    return make, rule


def _multi_lamb(multi_precision):
    def make(rng):
        groups = _multi_groups(rng, _mean_var, multi_precision)
        n = len(groups)
        attrs = {"learning_rates": tuple(rng.uniform(0.01, 0.5, n)), "wds": tuple(rng.choice([0.0, 0.1], n)),
                 "step_count": tuple(int(t) for t in rng.integers(1, 5, n)),
                 "bias_correction": bool(rng.choice([True, False])), "rescale_grad": float(rng.choice([1.0, 0.5])),
                 "clip_gradient": float(rng.choice([-1.0, 0.3])), "lower_bound": float(rng.choice([-1.0, 0.5])),
                 "upper_bound": float(rng.choice([-1.0, 2.0])), "num_tensors": n}
        return groups, [], attrs

    def rule(group, k, tail, attrs):
        w = group[-1] if multi_precision else group[0]
        return rules.lamb(w, group[1], group[2], group[3], t=attrs["step_count"][k], wd=attrs["wds"][k],
                          lr=attrs["learning_rates"][k], bias_correction=attrs["bias_correction"],
                          rescale_grad=attrs["rescale_grad"], clip_gradient=attrs["clip_gradient"],
                          lower_bound=attrs["lower_bound"], upper_bound=attrs["upper_bound"], epsilon=1e-6)
    return make, rule


OTHER_MULTI = {f"preloaded_multi_{'mp_' * mp}sgd{'_mom' * mom}_update": (_preloaded(mom, mp), mp)
               for mom in (False, True) for mp in (False, True)}
OTHER_MULTI.update({f"_multi_{'mp_' * mp}adamw_update": (_multi_adamw(mp), mp) for mp in (False, True)})
OTHER_MULTI.update({f"_multi_{'mp_' * mp}lamb_update": (_multi_lamb(mp), mp) for mp in (False, True)})


@pytest.mark.parametrize("name", sorted(OTHER_MULTI))
@settings(max_examples=3, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_other_multi_steps_in_place_match_reference(name, seed):
    (make, rule), multi_precision = OTHER_MULTI[name]
    rng = np.random.default_rng(seed)
    groups, tail, attrs = make(rng)
    dtype = "float16" if multi_precision else "float64"
    arrays = [[mx.nd.array(a, dtype="float32" if j >= 2 and multi_precision else dtype) for j, a in enumerate(g)]
              for g in groups]
    want = [[a.astype(dtype).astype(np.float64) if j < 2 else a.astype(np.float64) for j, a in enumerate(g)]
            for g in groups]
    nd_tail = [mx.nd.array(t, dtype="float32") for t in tail]
    tol = 2e-5 if multi_precision else 1e-10
    for _ in range(2):
        for a, w in zip(arrays, want):
            grad = rng.standard_normal(w[0].shape).astype(dtype)
            a[1], w[1] = mx.nd.array(grad, dtype=dtype), grad.astype(np.float64)
        getattr(mx.nd._internal, name)(*[a for g in arrays for a in g], *nd_tail, out=[g[0] for g in arrays],
                                       **attrs)
        for k, (a, w) in enumerate(zip(arrays, want)):
            new_w, *new_states = rule(w, k, [t.astype(np.float32).astype(np.float64) for t in tail], attrs)
            w[2:] = list(new_states) + [new_w] * multi_precision
            w[0] = new_w
            np.testing.assert_allclose((a[-1] if multi_precision else a[0]).asnumpy(), new_w, rtol=tol, atol=tol,
                                       err_msg=f"{name} weight {k}")
            for j, x in enumerate(new_states):
                np.testing.assert_allclose(a[2 + j].asnumpy(), x, rtol=tol, atol=tol, err_msg=f"{name} state {j}")
            if multi_precision:
                np.testing.assert_array_equal(a[0].asnumpy(), a[-1].asnumpy().astype(np.float16))


def _spec_of_other_multi(name):
    (make_groups, rule), _ = OTHER_MULTI[name]
    count = "num_tensors" if "lamb" in name else "num_weights"
    n_tail = 2 if name.startswith("preloaded") else 1 if "adamw" in name else 0

    def make(rng):
        groups, tail, attrs = make_groups(rng)
        return [a for g in groups for a in g] + tail, attrs

    def reference(*arrays, **attrs):
        n = attrs[count]
        stride = (len(arrays) - n_tail) // n
        tail = list(arrays[len(arrays) - n_tail:])
        return tuple(rule(list(arrays[k * stride:(k + 1) * stride]), k, tail, attrs)[0] for k in range(n))
    return OpSpec(name, make, reference, grad=False, rtol=2e-5, atol=2e-5, why="update operators have no gradient")


SPECS = [_spec(u) for u in UPDATES] + [_adamw_spec("_adamw_update", False), _adamw_spec("_mp_adamw_update", True)] \
    + [_multi_spec(*m) for m in MULTI] + [_spec_of_other_multi(name) for name in sorted(OTHER_MULTI)] + [
        _spec(dataclasses.replace(_LAMB1, name="mp_lamb_update_phase1", multi_precision=True)),
        OpSpec("_contrib_group_adagrad_update", _group_adagrad_make, lambda *a, **k: rules.group_adagrad(*a, **k)[0],
               grad=False, rtol=2e-5, atol=2e-5, why="update operators have no gradient"),
        OpSpec("multi_lars", _lars_make, rules.lars, grad=False, rtol=2e-5, atol=2e-7,
               why="learning-rate computation, not differentiable")]


@pytest.mark.parametrize("spec", SPECS, ids=repr)
@settings(max_examples=3, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_forward(spec, seed):
    check_forward(spec, np.random.default_rng(seed))
