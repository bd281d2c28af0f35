"""mx.optimizer and mx.lr_scheduler against NumPy float64 versions of MXNet 1.9.1's rules, step by step:
every optimizer, lr/wd multipliers, multi-precision, Updater state round trips and their safe format, schedules."""
import math
import pickle

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import mxcy as mx
from tests import optimizer_rules as rules

_KW = dict(learning_rate=0.1, wd=0.05, rescale_grad=0.5, clip_gradient=0.4)


def _adam_ref(beta1=0.9, beta2=0.999, epsilon=1e-8):
    def step(w, g, state, t, lr, wd, rescale, clip):
        state = state or [0 * w, 0 * w]
        lr_t = lr * math.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
        w, *state = rules.adam(w, g, *state, lr=lr_t, beta1=beta1, beta2=beta2, epsilon=epsilon, wd=wd,
                               rescale_grad=rescale, clip_gradient=clip)
        return w, state
    return step


def _fused(rule, n_states, **fixed):
    def step(w, g, state, t, lr, wd, rescale, clip):
        state = state or [0 * w for _ in range(n_states)]
        extra = dict(fixed, t=t) if rule is rules.ftml else fixed
        clip_key = "clip_grad" if rule is rules.ftml else "clip_gradient"
        w, *state = rule(w, g, *state, lr=lr, wd=wd, rescale_grad=rescale, **{clip_key: clip}, **extra)
        return w, state
    return step


def _adagrad(w, g, state, t, lr, wd, rescale, clip):
    hist = state[0] if state else 0 * w
    g = rules.clip(g * rescale, clip)
    hist = hist + g * g
    return w - lr * (g / np.sqrt(hist + 1e-7) + wd * w), [hist]


def _adadelta(w, g, state, t, lr, wd, rescale, clip, rho=0.9, eps=1e-5):
    acc_g, acc_d = state or [0 * w, 0 * w]
    g = rules.clip(g * rescale, clip)
    acc_g = rho * acc_g + (1 - rho) * g * g
    delta = np.sqrt(acc_d + eps) / np.sqrt(acc_g + eps) * g
    acc_d = rho * acc_d + (1 - rho) * delta * delta
    return w - delta - wd * w, [acc_g, acc_d]


def _adamax(w, g, state, t, lr, wd, rescale, clip, b1=0.9, b2=0.999):
    m, u = state or [0 * w, 0 * w]
    g = rules.clip(g * rescale + wd * w, clip)
    m = b1 * m + (1 - b1) * g
    u = np.maximum(b2 * u, np.abs(g))
    return w - lr / (1 - b1 ** t) * m / u, [m, u]


def _nadam(w, g, state, t, lr, wd, rescale, clip, b1=0.9, b2=0.999, eps=1e-8, decay=0.004):
    m, v, schedule = state or [0 * w, 0 * w, 1.0]
    g = rules.clip(g * rescale + wd * w, clip)
    mom_t = b1 * (1 - 0.5 * 0.96 ** (t * decay))
    mom_next = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * decay))
    schedule = schedule * mom_t
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    m_bar = (1 - mom_t) * g / (1 - schedule) + mom_next * m / (1 - schedule * mom_next)
    return w - lr * m_bar / (np.sqrt(v / (1 - b2 ** t)) + eps), [m, v, schedule]


def _dcasgd(w, g, state, t, lr, wd, rescale, clip, momentum=0.9, lamda=0.04):
    mom, prev = state or [0 * w, w.copy()]
    g = rules.clip(g * rescale, clip)
    mom = momentum * mom - lr * (g + wd * w + lamda * g * g * (w - prev))
    return w + mom, [mom, w.copy()]


def _lars_lr(w, g, lr, wd, rescale, eta, eps=0.0):
    w_norm, g_norm = np.linalg.norm(w), np.linalg.norm(g) * rescale
    return lr * eta * w_norm / (g_norm + wd * w_norm + eps) if w_norm > 0 and g_norm > 0 else lr


def _lars(momentum, eta):
    def step(w, g, state, t, lr, wd, rescale, clip):
        lr = _lars_lr(w, g, lr, wd, rescale, eta)
        if not momentum:
            return rules.sgd(w, g, lr=lr, wd=wd, rescale_grad=rescale, clip_gradient=clip)[0], []
        w, mom = rules.sgd_mom(w, g, state[0] if state else 0 * w, lr=lr, momentum=momentum, wd=wd,
                               rescale_grad=rescale, clip_gradient=clip)
        return w, [mom]
    return step


def _lamb(lower_bound=-1.0, upper_bound=-1.0, bias_correction=True):
    def step(w, g, state, t, lr, wd, rescale, clip):
        mean, var = state or [0 * w, 0 * w]
        update, mean, var = rules.lamb_phase1(w, g, mean, var, t=t, wd=wd, epsilon=1e-6, rescale_grad=rescale,
                                              clip_gradient=clip, bias_correction=bias_correction)
        w = rules.lamb_phase2(w, update, np.array([np.linalg.norm(w)]), np.array([np.linalg.norm(update)]), lr=lr,
                              lower_bound=lower_bound, upper_bound=upper_bound)[0]
        return w, [mean, var]
    return step


def _test_rule(w, g, state, t, lr, wd, rescale, clip):
    w = w + g * rescale
    return w, [w]


CASES = [  # (name, extra optimizer arguments, reference step)
    ("sgd", {}, _fused(rules.sgd, 0)),
    ("sgd", {"momentum": 0.9}, _fused(rules.sgd_mom, 1, momentum=0.9)),
    ("nag", {"momentum": 0.9}, _fused(rules.nag_mom, 1, momentum=0.9)),
    ("nag", {}, _fused(rules.sgd, 0)),
    ("adam", {}, _adam_ref()),
    ("rmsprop", {}, _fused(rules.rmsprop, 1, gamma1=0.9)),
    ("rmsprop", {"centered": True, "clip_weights": 2.0},
     _fused(rules.rmspropalex, 3, gamma1=0.9, gamma2=0.9, clip_weights=2.0)),
    ("ftrl", {"lamda1": 0.02}, _fused(rules.ftrl, 2, lamda1=0.02)),
    ("ftml", {}, _fused(rules.ftml, 3)),
    ("signum", {"wd_lh": 0.01}, _fused(rules.signum, 1, momentum=0.9, wd_lh=0.01)),
    ("signum", {"momentum": 0.0}, _fused(rules.signsgd, 0)),
    ("adagrad", {}, _adagrad),
    ("adadelta", {}, _adadelta),
    ("adamax", {}, _adamax),
    ("nadam", {}, _nadam),
    ("dcasgd", {"momentum": 0.9}, _dcasgd),
    ("test", {}, _test_rule),
    ("lars", {"momentum": 0.9, "eta": 0.5}, _lars(0.9, 0.5)),
    ("lars", {}, _lars(0.0, 0.001)),
    ("lamb", {}, _lamb()),
    ("lamb", {"lower_bound": 0.5, "upper_bound": 1.5, "bias_correction": False}, _lamb(0.5, 1.5, False)),
    # batch_scale 1 steps every update; the linear warmup then stays at 1
    ("lbsgd", {"momentum": 0.9}, _fused(rules.sgd_mom, 1, momentum=0.9)),
]


@pytest.mark.parametrize("name,extra,reference", CASES, ids=[f"{c[0]}{c[1] or ''}" for c in CASES])
@settings(max_examples=3, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_steps_match_reference(name, extra, reference, seed):
    rng = np.random.default_rng(seed)
    clip = float(rng.choice([0.4, 10.0]))
    optimizer = mx.optimizer.create(name, **dict(_KW, clip_gradient=clip), **extra)
    updater = mx.optimizer.get_updater(optimizer)
    w = rng.standard_normal((2, 3))
    weight = mx.nd.array(w, dtype="float64")
    want, state = w, None
    for t in range(1, 4):
        g = rng.standard_normal(w.shape)
        updater(0, mx.nd.array(g, dtype="float64"), weight)
        want, state = reference(want, g, state, t, _KW["learning_rate"], _KW["wd"], _KW["rescale_grad"], clip)
        np.testing.assert_allclose(weight.asnumpy(), want, rtol=1e-9, atol=1e-9, err_msg=f"{name} step {t}")


def test_lars_keeps_lr_for_biases_decays_only_weights_and_corrects_momentum_under_a_schedule():
    rng = np.random.default_rng(4)
    scheduler = mx.lr_scheduler.MultiFactorScheduler(step=[1], factor=0.5, base_lr=0.2)
    optimizer = mx.optimizer.LARS(momentum=0.9, eta=0.5, wd=0.1, lr_scheduler=scheduler,
                                  param_idx2name={0: "fc_weight", 1: "fc_bias", 2: "bn_gamma"})
    updater = mx.optimizer.get_updater(optimizer)
    ws = [rng.standard_normal((3,)) for _ in range(3)]
    weights = [mx.nd.array(w, dtype="float64") for w in ws]
    moms = [0 * w for w in ws]
    for t, lr in ((1, 0.2), (2, 0.1)):  # the schedule halves lr after the first update
        grads = [rng.standard_normal((3,)) for _ in range(3)]
        updater([0, 1, 2], [mx.nd.array(g, dtype="float64") for g in grads], weights)
        momentum = 0.9 * (0.5 if t == 2 else 1.0)
        for k, (w, g) in enumerate(zip(ws, grads)):
            wd = 0.1 if k == 0 else 0.0  # only *_weight is decayed; gamma too is left alone by LARS
            step_lr = _lars_lr(w, g, lr, wd, 1.0, 0.5) if k == 0 else lr
            ws[k], moms[k] = rules.sgd_mom(w, g, moms[k], lr=step_lr, momentum=momentum, wd=wd)
            np.testing.assert_allclose(weights[k].asnumpy(), ws[k], rtol=1e-9, atol=1e-12, err_msg=f"{t} {k}")


def _lbsgd_mult(strategy, nup, nwup, scale, w, g, wd):
    if strategy == "lars":
        w2, g2 = np.sum(w * w), np.sum(g * g)
        return min(max(math.sqrt(w2 / (g2 + wd * w2 + 1e-18)), 0.01), 100.0)
    if nup >= nwup:
        return float(scale)
    rise = {"linear": nup / nwup, "power2": nup ** 2 / nwup ** 2, "sqrt": math.sqrt(nup / nwup)}.get(strategy, 0)
    return 1 + (scale - 1) * rise


@pytest.mark.parametrize("strategy", ["linear", "power2", "sqrt", "lars", "none"])
@pytest.mark.parametrize("begin_epoch", [0, 1])
def test_lbsgd_steps_on_the_mean_of_batch_scale_gradients_with_the_warmup_multiplier(strategy, begin_epoch):
    rng = np.random.default_rng(6)
    kw = dict(learning_rate=0.1, wd=0.05, rescale_grad=0.5, clip_gradient=0.4)
    optimizer = mx.optimizer.LBSGD(momentum=0.9, warmup_strategy=strategy, warmup_epochs=2, batch_scale=2,
                                   updates_per_epoch=3, begin_epoch=begin_epoch, **kw)
    updater = mx.optimizer.get_updater(optimizer)
    w = rng.standard_normal((2, 3))
    weight = mx.nd.array(w, dtype="float64")
    mom, cum = 0 * w, 0 * w
    for t in range(1, 8):
        g = rng.standard_normal(w.shape)
        updater(0, mx.nd.array(g, dtype="float64"), weight)
        cum = cum + g
        nup = begin_epoch * 3 + t
        if nup % 2 == 0:
            mean = cum / 2
            lr = 0.1 * _lbsgd_mult(strategy, nup, 6, 2, w, mean, 0.05)
            w, mom = rules.sgd_mom(w, mean, mom, lr=lr, momentum=0.9, wd=0.05, rescale_grad=0.5, clip_gradient=0.4)
            cum = 0 * w
        np.testing.assert_allclose(weight.asnumpy(), w, rtol=1e-9, atol=1e-12, err_msg=f"step {t}")


def test_sgld_moves_by_the_half_step_plus_noise_of_variance_lr():
    mx.random.seed(0)
    updater = mx.optimizer.get_updater(mx.optimizer.create("sgld", learning_rate=0.01))
    weight = mx.nd.zeros((20000,), dtype="float64")
    updater(0, mx.nd.ones((20000,), dtype="float64"), weight)
    noise = weight.asnumpy() + 0.01 / 2
    assert abs(noise.mean()) < 4 * 0.1 / math.sqrt(20000)
    assert abs(noise.std() - 0.1) < 0.005


def test_lr_and_wd_multipliers_by_index_name_sym_and_param_dict():
    data = mx.sym.Variable("data")
    fc_w = mx.sym.Variable("fc_weight", lr_mult=2.0)
    fc_b = mx.sym.Variable("fc_bias", wd_mult=3.0)
    net = mx.sym.FullyConnected(data, weight=fc_w, bias=fc_b, num_hidden=2, name="fc")
    optimizer = mx.optimizer.SGD(learning_rate=0.1, wd=0.01, sym=net,
                                 param_idx2name={0: "fc_weight", 1: "fc_bias", 2: "other"})
    assert optimizer._get_lr(0) == pytest.approx(0.2) and optimizer._get_lr(1) == pytest.approx(0.1)
    assert optimizer._get_wd(1) == pytest.approx(0.03)
    assert optimizer._get_wd(2) == 0.0  # named, not a weight or gamma: no decay, as MXNet
    optimizer.set_lr_mult({"other": 0.5, 1: 4.0})
    assert optimizer._get_lr(2) == pytest.approx(0.05) and optimizer._get_lr(1) == pytest.approx(0.4)
    param = mx.gluon.Parameter("p", lr_mult=3.0, wd_mult=0.0)
    optimizer.param_dict = {0: param}
    assert optimizer._get_lr(0) == pytest.approx(0.3) and optimizer._get_wd(0) == 0.0


def test_learning_rate_schedule_and_update_counts():
    scheduler = mx.lr_scheduler.FactorScheduler(step=2, factor=0.5, base_lr=1.0)
    optimizer = mx.optimizer.SGD(learning_rate=1.0, lr_scheduler=scheduler)
    updater = mx.optimizer.get_updater(optimizer)
    w = mx.nd.zeros((1,), dtype="float64")
    for _ in range(5):
        updater(0, mx.nd.ones((1,), dtype="float64"), w)
    # num_update 1..5 -> lr 1, 1, 0.5, 0.5, 0.25
    assert w.asscalar() == pytest.approx(-3.25)
    with pytest.raises(UserWarning, match="LRScheduler"):
        optimizer.set_learning_rate(0.1)


@pytest.mark.parametrize("name,extra", [("sgd", {"momentum": 0.9}), ("sgd", {}), ("nag", {"momentum": 0.9}),
                                        ("adam", {}), ("lamb", {})])
def test_multi_precision_updates_a_float32_master(name, extra):
    rng = np.random.default_rng(1)
    w = rng.standard_normal((4,))
    reference = mx.optimizer.get_updater(mx.optimizer.create(name, learning_rate=0.1, **extra))
    mixed = mx.optimizer.get_updater(mx.optimizer.create(name, learning_rate=0.1, multi_precision=True, **extra))
    w32, w16 = mx.nd.array(w, dtype="float32"), mx.nd.array(w, dtype="float16")
    w32[:] = w16.astype("float32")
    for _ in range(3):
        g = rng.standard_normal((4,)).astype(np.float16)
        reference(0, mx.nd.array(g, dtype="float32"), w32)
        mixed(0, mx.nd.array(g, dtype="float16"), w16)
    master = mixed.states[0][1] if name in ("sgd", "nag") else mixed.states[0][0]
    np.testing.assert_allclose(master.asnumpy(), w32.asnumpy(), rtol=1e-6)
    np.testing.assert_array_equal(w16.asnumpy(), w32.asnumpy().astype(np.float16))


def test_states_round_trip_resumes_identically():
    rng = np.random.default_rng(2)
    grads = [rng.standard_normal((3,)) for _ in range(4)]
    scheduler = mx.lr_scheduler.MultiFactorScheduler(step=[1, 3], factor=0.5, base_lr=0.1)

    def run(split):
        opt = mx.optimizer.Adam(learning_rate=0.1, lr_scheduler=scheduler if split is None else
                                mx.lr_scheduler.MultiFactorScheduler(step=[1, 3], factor=0.5, base_lr=0.1))
        updater = mx.optimizer.get_updater(opt)
        w = mx.nd.array([1.0, -2.0, 0.5], dtype="float64")
        for k, g in enumerate(grads):
            if k == split:
                blob = updater.get_states(dump_optimizer=True)
                updater = mx.optimizer.get_updater(mx.optimizer.SGD())
                updater.set_states(blob)
            updater(0, mx.nd.array(g, dtype="float64"), w)
        return w.asnumpy(), updater
    resumed, updater = run(2)
    assert isinstance(updater.optimizer, mx.optimizer.Adam)
    assert isinstance(updater.optimizer.lr_scheduler, mx.lr_scheduler.MultiFactorScheduler)
    np.testing.assert_array_equal(resumed, run(3)[0])


def test_states_without_optimizer_keep_the_updaters_optimizer():
    updater = mx.optimizer.get_updater(mx.optimizer.SGD(momentum=0.9))
    updater(3, mx.nd.ones((2,)), mx.nd.zeros((2,)))
    other = mx.optimizer.get_updater(mx.optimizer.SGD(momentum=0.5))
    other.set_states(updater.get_states())
    assert other.optimizer.momentum == 0.5
    np.testing.assert_allclose(other.states[3].asnumpy(), updater.states[3].asnumpy())


class _Evil:
    def __reduce__(self):
        return (print, ("executed",))


@pytest.mark.parametrize("payload", [pickle.dumps({0: _Evil()}), b"not states", b"PK\x03\x04garbage", b""])
def test_foreign_or_corrupt_states_are_refused(payload, capsys):
    updater = mx.optimizer.get_updater(mx.optimizer.SGD())
    with pytest.raises(mx.MXNetError, match="optimizer states"):
        updater.set_states(payload)
    assert "executed" not in capsys.readouterr().out


def test_unknown_optimizer_and_register():
    with pytest.raises(ValueError, match="Cannot find optimizer nosuch"):
        mx.optimizer.create("nosuch")

    @mx.optimizer.register
    class MyOpt(mx.optimizer.Optimizer):
        def update(self, index, weight, grad, state):
            weight[:] -= grad
    assert isinstance(mx.optimizer.create("myopt"), MyOpt)
    assert isinstance(mx.optimizer.Optimizer.create_optimizer("SGD"), mx.optimizer.SGD)


@pytest.mark.parametrize("make,expected", [
    (lambda: mx.lr_scheduler.FactorScheduler(step=3, factor=0.5, base_lr=1.0, stop_factor_lr=0.2),
     lambda n: max(1.0 * 0.5 ** max(0, (n - 1) // 3), 0.2)),
    (lambda: mx.lr_scheduler.MultiFactorScheduler(step=[2, 5], factor=0.1, base_lr=1.0),
     lambda n: 0.1 ** sum(n > s for s in (2, 5))),
    (lambda: mx.lr_scheduler.PolyScheduler(max_update=10, base_lr=1.0, pwr=2, final_lr=0.1, warmup_steps=2,
                                           warmup_begin_lr=0.2),
     lambda n: 0.2 + 0.8 * n / 2 if n < 2 else 0.1 + 0.9 * (1 - min(n - 2, 8) / 8) ** 2),
    (lambda: mx.lr_scheduler.CosineScheduler(max_update=10, base_lr=1.0, final_lr=0.0, warmup_steps=3,
                                             warmup_begin_lr=0.5, warmup_mode="constant"),
     lambda n: 0.5 if n < 3 else (1 + math.cos(math.pi * min(n - 3, 7) / 7)) / 2),
])
def test_schedules_follow_their_formulas(make, expected):
    scheduler = make()
    for n in range(0, 14):
        assert scheduler(n) == pytest.approx(expected(n)), n


def test_schedule_argument_errors():
    with pytest.raises(ValueError, match="increasing"):
        mx.lr_scheduler.MultiFactorScheduler(step=[3, 2])
    with pytest.raises(ValueError, match="warmup"):
        mx.lr_scheduler.FactorScheduler(step=1, warmup_mode="cubic")
    with pytest.raises(ValueError, match="Factor"):
        mx.lr_scheduler.FactorScheduler(step=1, factor=2)


@pytest.mark.parametrize("aggregate", [1, 45])
@pytest.mark.parametrize("multi_precision", [False, True])
def test_lamb_over_several_weights_one_by_one_or_aggregated(monkeypatch, aggregate, multi_precision):
    """MXNet's LAMB updates groups of aggregate_num weights with multi_(mp_)lamb_update, else one by one on the
    (mp_)lamb_update_phase1/2 ops: both match the float64 rule, float16 weights through their float32 masters."""
    monkeypatch.setenv("MXNET_OPTIMIZER_AGGREGATION_SIZE", str(aggregate))
    rng = np.random.default_rng(4)
    shapes = [(3, 2), (4,), (2, 2)]
    dtype = "float16" if multi_precision else "float64"
    ws = [rng.standard_normal(s).astype(dtype).astype(np.float64) for s in shapes]
    weights = [mx.nd.array(w, dtype=dtype) for w in ws]
    updater = mx.optimizer.get_updater(mx.optimizer.create(
        "lamb", learning_rate=0.1, wd=0.05, upper_bound=1.5, multi_precision=multi_precision))
    reference, states = _lamb(upper_bound=1.5), [None] * len(ws)
    for t in range(1, 3):
        gs = [rng.standard_normal(s).astype(dtype) for s in shapes]
        updater(list(range(len(ws))), [mx.nd.array(g, dtype=dtype) for g in gs], weights)
        for k, g in enumerate(gs):
            ws[k], states[k] = reference(ws[k], g.astype(np.float64), states[k], t, 0.1, 0.05, 1.0, -1.0)
    tol = 1e-5 if multi_precision else 1e-12
    for k, (w, weight) in enumerate(zip(ws, weights)):
        master = updater.states[k][0] if multi_precision else weight
        np.testing.assert_allclose(master.asnumpy(), w, rtol=tol, atol=tol, err_msg=f"weight {k}")
        np.testing.assert_array_equal(weight.asnumpy(), master.asnumpy().astype(weight.dtype))


@pytest.mark.parametrize("sparse", [False, True])
def test_group_adagrad_matches_the_row_rule(sparse):
    rng = np.random.default_rng(6)
    w, history = rng.standard_normal((4, 3)), np.zeros((4, 1))
    weight = mx.nd.array(w, dtype="float64")
    updater = mx.optimizer.get_updater(mx.optimizer.contrib.GroupAdaGrad(learning_rate=0.1, rescale_grad=0.5,
                                                                         clip_gradient=0.4))
    for _ in range(3):
        g = rng.standard_normal((4, 3))
        rows = np.array([0, 2]) if sparse else np.arange(4)
        g[np.setdiff1d(np.arange(4), rows)] = 0
        grad = mx.nd.array(g, dtype="float64")
        updater(0, grad.tostype("row_sparse") if sparse else grad, weight)
        w[rows], history[rows] = rules.group_adagrad(w[rows], g[rows], history[rows], lr=0.1, rescale_grad=0.5,
                                                     clip_gradient=0.4)
        np.testing.assert_allclose(weight.asnumpy(), w, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(updater.states[0].asnumpy(), history, rtol=1e-12, atol=1e-12)
    with pytest.raises(mx.MXNetError, match="GroupAdaGrad: weight decay is not supported"):
        mx.optimizer.create("groupadagrad", wd=0.1).update(0, weight, grad, updater.states[0])
    with pytest.raises(mx.MXNetError, match=r"GroupAdaGrad: weight 0 must be 2-D.*\(4,\)"):
        mx.optimizer.contrib.GroupAdaGrad().create_state(0, mx.nd.ones((4,)))


def test_lr_and_wd_mult_given_to_an_op_reach_its_variables():
    # MXNet 1.9.1 (test_optimizer.py::test_lr_wd_mult): op arguments lr_mult/wd_mult become hidden attributes of
    # the node and of the variables it creates; an explicit Variable keeps its own.
    bias = mx.sym.Variable("fc1_bias", lr_mult=1.0)
    fc1 = mx.sym.FullyConnected(mx.sym.Variable("data"), bias=bias, name="fc1", num_hidden=3, lr_mult=0)
    fc2 = mx.sym.FullyConnected(fc1, name="fc2", num_hidden=3, wd_mult=0.5)
    names = [n for n in fc2.list_arguments() if n != "data"]
    opt = mx.optimizer.create("sgd", sym=fc2, param_idx2name=dict(enumerate(names)))
    assert opt.lr_mult == {"fc1_bias": 1.0, "fc1_weight": 0.0}
    assert opt.wd_mult == {"fc2_bias": 0.5, "fc2_weight": 0.5, "fc1_bias": 0.0}
