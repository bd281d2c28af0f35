"""BatchNorm, LayerNorm, InstanceNorm, GroupNorm, L2Normalization and LRN against NumPy float64 references (their
hidden backward ops through gradient checks), numbers printed by MXNet 1.9.1, BatchNorm's moving statistics and
gamma, errors, Symbol shape inference, and gpu(0) against cpu() (float16 included)."""
import numpy as np
import pytest

import mxcy as mx
from tests.ops.opspec import OpSpec, outputs_and_grads, spec_tests

nd = mx.nd

NO_SPEC = {
    "_backward_BatchNorm": "BatchNorm's gradient; checked numerically through the BatchNorm specs",
    "_backward_LayerNorm": "LayerNorm's gradient; checked numerically through the LayerNorm specs",
    "_backward_InstanceNorm": "InstanceNorm's gradient; checked numerically through the InstanceNorm specs",
    "_backward_GroupNorm": "GroupNorm's gradient; checked numerically through the GroupNorm specs",
    "_backward_LRN": "LRN's gradient; checked numerically through the LRN specs",
}

# The standard gradient check puts head gradients on every output, but MXNet's gradients of these ops read only
# output 0's: specs whose saved statistics depend on the differentiated inputs use test_gradient_of_output_0.

def _shape(rng, ndim, lo=1, hi=3):
    return tuple(int(d) for d in rng.integers(lo, hi + 1, size=ndim))


def _along(v, ndim, axis):
    """v (one entry per index of `axis`) shaped to broadcast against an ndim array."""
    shape = [1] * ndim
    shape[axis] = -1
    return v.reshape(shape)


def _normalize(x, axes, eps):
    mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps), mean, var


# --- BatchNorm ----------------------------------------------------------------------------------

def _bn_ref(train):
    def ref(x, gamma, beta, moving_mean, moving_var, eps=1e-3, momentum=0.9, fix_gamma=True,
            use_global_stats=False, output_mean_var=False, axis=1):
        ax = axis % x.ndim
        if train and not use_global_stats:
            others = tuple(i for i in range(x.ndim) if i != ax)
            mean, var = x.mean(axis=others), x.var(axis=others)
        else:
            mean, var = moving_mean, moving_var
        g = np.ones_like(gamma) if fix_gamma else gamma
        out = (x - _along(mean, x.ndim, ax)) / np.sqrt(_along(var, x.ndim, ax) + eps) * _along(g, x.ndim, ax) \
            + _along(beta, x.ndim, ax)
        return out, mean, 1 / np.sqrt(var + eps)
    return ref


def _bn_make(ndim, use_global_stats=False):
    def make(rng):
        shape = _shape(rng, ndim, lo=2 if ndim == 2 else 1)
        axis = int(rng.choice([1, -1, int(rng.integers(-ndim, ndim))]))
        c = shape[axis]
        attrs = {"axis": axis, "eps": float(rng.uniform(1e-3, 0.1)), "momentum": float(rng.uniform(0.5, 0.99)),
                 "fix_gamma": bool(rng.random() < 0.5), "output_mean_var": bool(rng.random() < 0.5)}
        if use_global_stats:
            attrs["use_global_stats"] = True
        x = rng.standard_normal(shape) * 2 + 1
        gamma = rng.uniform(0.5, 2, c) * rng.choice([-1, 1], c)
        return [x, gamma, rng.standard_normal(c), rng.standard_normal(c), rng.uniform(0.5, 2, c)], attrs
    return make


BN_SPECS = [
    OpSpec("BatchNorm", _bn_make(2), _bn_ref(True), train=True, grad_outputs=(0,), grad_inputs=(0, 1, 2),
           rtol=1e-4, atol=1e-5),
    OpSpec("BatchNorm", _bn_make(4), _bn_ref(True), train=True, grad_outputs=(0,), grad_inputs=(0, 1, 2),
           rtol=1e-4, atol=1e-5),
    # Inference: backward in its default training mode applies the batch-statistics formula to the saved (moving)
    # statistics, as MXNet 1.9.1 does (test_matches_mxnet); test_gradient_of_output_0 runs it in predict mode.
    OpSpec("BatchNorm", _bn_make(2), _bn_ref(False), grad_outputs=(0,), grad_inputs=(0, 1, 2),
           rtol=1e-4, atol=1e-5),
    OpSpec("BatchNorm", _bn_make(4), _bn_ref(False), grad_outputs=(0,), grad_inputs=(0, 1, 2),
           rtol=1e-4, atol=1e-5),
    # global statistics: the saved statistics are the moving ones, so the standard check (every head set) applies
    OpSpec("BatchNorm", _bn_make(3, use_global_stats=True), _bn_ref(True), train=True, grad_inputs=(0, 1, 2),
           rtol=1e-4, atol=1e-5),
]


# --- LayerNorm, InstanceNorm, GroupNorm ---------------------------------------------------------

def _ln_ref(x, gamma, beta, axis=-1, eps=1e-5, output_mean_var=False):
    ax = axis % x.ndim
    xhat, mean, var = _normalize(x, (ax,), eps)
    return xhat * _along(gamma, x.ndim, ax) + _along(beta, x.ndim, ax), mean, np.sqrt(var + eps)


def _ln_make(rng):
    shape = _shape(rng, int(rng.integers(1, 4)), hi=4)
    axis = int(rng.integers(-len(shape), len(shape)))
    c = shape[axis]
    attrs = {"axis": axis, "eps": float(rng.uniform(1e-5, 0.1)), "output_mean_var": bool(rng.random() < 0.5)}
    return [rng.standard_normal(shape) * 2 - 1, rng.uniform(-2, 2, c), rng.standard_normal(c)], attrs


def _in_ref(x, gamma, beta, eps=1e-3):
    xhat, mean, var = _normalize(x, tuple(range(2, x.ndim)), eps)
    out = xhat * _along(gamma, x.ndim, 1) + _along(beta, x.ndim, 1)
    return out, mean.reshape(x.shape[:2]), var.reshape(x.shape[:2])


def _in_make(rng):
    shape = _shape(rng, 2) + _shape(rng, int(rng.integers(1, 3)), lo=2)
    attrs = {"eps": float(rng.uniform(1e-3, 0.1))} if rng.random() < 0.7 else {}
    c = shape[1]
    return [rng.standard_normal(shape) + 0.5, rng.uniform(-2, 2, c), rng.standard_normal(c)], attrs


def _gn_ref(x, gamma, beta, num_groups=1, eps=1e-5, output_mean_var=False):
    n, c = x.shape[:2]
    xhat, mean, var = _normalize(x.reshape(n, num_groups, -1), (2,), eps)
    per_channel = c // num_groups
    out = xhat.reshape(x.shape) * _along(np.repeat(gamma, per_channel), x.ndim, 1) \
        + _along(np.repeat(beta, per_channel), x.ndim, 1)
    return out, mean.reshape(n, num_groups), np.sqrt(var + eps).reshape(n, num_groups)


def _gn_make(rng):
    groups, per_group = (int(v) for v in rng.integers(1, 3, size=2))
    shape = (int(rng.integers(1, 3)), groups * per_group) + _shape(rng, int(rng.integers(1, 3)), hi=2)
    attrs = {"num_groups": groups, "eps": float(rng.uniform(1e-5, 0.1)), "output_mean_var": bool(rng.random() < 0.5)}
    return [rng.standard_normal(shape) * 2, rng.uniform(-2, 2, groups), rng.standard_normal(groups)], attrs


ROW_SPECS = [
    OpSpec("LayerNorm", _ln_make, _ln_ref, grad_outputs=(0,), rtol=1e-4, atol=1e-5),
    OpSpec("InstanceNorm", _in_make, _in_ref, grad_outputs=(0,), rtol=1e-4, atol=1e-5),
    OpSpec("GroupNorm", _gn_make, _gn_ref, grad_outputs=(0,), rtol=1e-4, atol=1e-5),
]


# --- L2Normalization, LRN -----------------------------------------------------------------------

def _l2_ref(x, eps=1e-10, mode="instance"):
    axes = {"instance": tuple(range(1, x.ndim)), "channel": (1,), "spatial": tuple(range(2, x.ndim))}[mode]
    norm = np.sqrt((x ** 2).sum(axis=axes, keepdims=True) + eps)
    shape = {"instance": x.shape[:1], "channel": (x.shape[0], 1) + x.shape[2:], "spatial": x.shape[:2]}[mode]
    return x / norm, norm.reshape(shape)


def _l2_make(mode):
    def make(rng):
        ndim = int(rng.integers(1, 4)) if mode == "instance" else int(rng.integers(3, 5))
        attrs = {"mode": mode, "eps": float(rng.choice([1e-10, rng.uniform(0.01, 0.5)]))}
        return [rng.standard_normal(_shape(rng, ndim)) + 0.3], attrs
    return make


def _lrn_ref(x, alpha=1e-4, beta=0.75, knorm=2.0, nsize=None):
    half = (nsize - 1) // 2  # MXNet 1.9.1 CPU: an even nsize sums nsize - 1 channels
    tmp = np.stack([knorm + alpha / nsize * (x[:, max(0, c - half):c + half + 1] ** 2).sum(axis=1)
                    for c in range(x.shape[1])], axis=1)
    return x / tmp ** beta, tmp


def _lrn_make(rng):
    shape = (int(rng.integers(1, 3)), int(rng.integers(1, 6))) + _shape(rng, 2, hi=2)
    attrs = {"nsize": int(rng.integers(1, 6)), "alpha": float(rng.uniform(0.1, 2)),
             "beta": float(rng.uniform(0.3, 1)), "knorm": float(rng.uniform(0.5, 2))}
    return [rng.standard_normal(shape) * 1.5], attrs


OTHER_SPECS = [OpSpec("L2Normalization", _l2_make(mode), _l2_ref, grad_outputs=(0,), rtol=1e-5)
               for mode in ("instance", "channel", "spatial")] + [
    OpSpec("LRN", _lrn_make, _lrn_ref, grad_outputs=(0,), rtol=1e-5)]

SPECS = BN_SPECS + ROW_SPECS + OTHER_SPECS
test_forward, test_gradient, test_req_add = spec_tests(SPECS)


# --- BatchNorm's moving statistics and gamma ----------------------------------------------------

_XB = ((np.arange(24) * 5 % 11) / 3).reshape(4, 3, 2)
_MM0, _MV0 = np.array([0.5, -1.0, 2.0]), np.array([1.0, 2.0, 0.5])


def _bn_arrays(dtype=np.float64):
    return [nd.array(a, dtype=dtype) for a in (_XB, [1.5, -0.5, 2.0], [0.1, 0.2, 0.3], _MM0, _MV0)]


def test_moving_statistics_update_once_per_training_forward():
    x, gamma, beta, mm, mv = _bn_arrays()
    gamma.attach_grad()
    with mx.autograd.record():
        y = nd.BatchNorm(x, gamma, beta, mm, mv, momentum=0.75, fix_gamma=False)
    y.backward()
    mean, var = _XB.mean(axis=(0, 2)), _XB.var(axis=(0, 2))  # the biased batch variance, as MXNet 1.9.1
    np.testing.assert_allclose(mm.asnumpy(), 0.75 * _MM0 + 0.25 * mean, rtol=1e-12)
    np.testing.assert_allclose(mv.asnumpy(), 0.75 * _MV0 + 0.25 * var, rtol=1e-12)
    with mx.autograd.train_mode():  # a training forward without backward updates them too (once)
        nd.BatchNorm(x, gamma, beta, mm, mv, momentum=0.75).wait_to_read()
    np.testing.assert_allclose(mm.asnumpy(), 0.75 * (0.75 * _MM0 + 0.25 * mean) + 0.25 * mean, rtol=1e-12)
    np.testing.assert_allclose(mv.asnumpy(), 0.75 * (0.75 * _MV0 + 0.25 * var) + 0.25 * var, rtol=1e-12)


@pytest.mark.parametrize("forward_train", [True, False])
@pytest.mark.parametrize("backward_train", [True, False])
def test_backward_train_mode_picks_the_gradient_formula(forward_train, backward_train):
    """As MXNet: backward's own train_mode, not the forward's, picks the batch-statistics gradient or the affine
    one (here over the saved statistics: the batch ones after a training forward, the moving ones otherwise)."""
    x, gamma, beta, mm, mv = _bn_arrays()
    for a in (x, gamma, beta):
        a.attach_grad()
    with mx.autograd.record(train_mode=forward_train):
        y, mean, invstd = nd.BatchNorm(x, gamma, beta, mm, mv, fix_gamma=False, output_mean_var=True)
    dy = np.linspace(-1, 1, y.size).reshape(y.shape)
    mean, invstd = mean.asnumpy()[:, None], invstd.asnumpy()[:, None]
    y.backward(nd.array(dy, dtype=np.float64), train_mode=backward_train)
    xhat, g = (_XB - mean) * invstd, np.array([1.5, -0.5, 2.0])[:, None]
    if backward_train:
        dx = g * invstd * (dy - dy.mean(axis=(0, 2), keepdims=True)
                           - xhat * (dy * xhat).mean(axis=(0, 2), keepdims=True))
    else:
        dx = g * invstd * dy
    np.testing.assert_allclose(x.grad.asnumpy(), dx, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gamma.grad.asnumpy(), (dy * xhat).sum(axis=(0, 2)), rtol=1e-10)
    np.testing.assert_allclose(beta.grad.asnumpy(), dy.sum(axis=(0, 2)), rtol=1e-10)


@pytest.mark.parametrize("mode", ["predict", "record_predict", "global_stats"])
def test_moving_statistics_untouched_outside_batch_statistics(mode):
    x, gamma, beta, mm, mv = _bn_arrays()
    kwargs = {"use_global_stats": True} if mode == "global_stats" else {}
    scope = mx.autograd.record(train_mode=mode == "global_stats") if mode != "predict" else mx.autograd.pause()
    with scope:
        out, mean, invstd = nd.BatchNorm(x, gamma, beta, mm, mv, output_mean_var=True, **kwargs)
    np.testing.assert_array_equal(mm.asnumpy(), _MM0)
    np.testing.assert_array_equal(mv.asnumpy(), _MV0)
    np.testing.assert_allclose(mean.asnumpy(), _MM0)
    np.testing.assert_allclose(invstd.asnumpy(), 1 / np.sqrt(_MV0 + 1e-3), rtol=1e-12)
    expected = (_XB - _MM0[:, None]) / np.sqrt(_MV0[:, None] + 1e-3) + [[0.1], [0.2], [0.3]]
    np.testing.assert_allclose(out.asnumpy(), expected, rtol=1e-12)


def test_fix_gamma_writes_ones_into_gamma_and_gives_it_no_gradient():
    for train in (True, False):
        x, gamma, beta, mm, mv = _bn_arrays(np.float32)
        gamma.attach_grad()
        with mx.autograd.record(train_mode=train):
            y = nd.BatchNorm(x, gamma, beta, mm, mv)
        y.backward(nd.array(np.linspace(-1, 1, y.size).reshape(y.shape)))
        assert gamma.asnumpy().tolist() == [1.0, 1.0, 1.0]
        assert gamma.grad.asnumpy().tolist() == [0.0, 0.0, 0.0]
    x, gamma, beta, mm, mv = _bn_arrays(np.float32)
    nd.BatchNorm(x, gamma, beta, mm, mv, fix_gamma=False).wait_to_read()
    assert gamma.asnumpy().tolist() == [1.5, -0.5, 2.0]


def test_float16_data_runs_in_float32_with_float32_statistics():
    x, gamma, beta, mm, mv = _bn_arrays(np.float32)
    with mx.autograd.train_mode():
        out, mean, invstd = nd.BatchNorm(x.astype("float16"), gamma, beta, mm, mv, fix_gamma=False,
                                         output_mean_var=True)
    assert (out.dtype, mean.dtype, invstd.dtype) == (np.float16, np.float32, np.float32)
    np.testing.assert_allclose(out.asnumpy(), _bn_ref(True)(_XB, np.array([1.5, -0.5, 2.0]), np.array(
        [0.1, 0.2, 0.3]), _MM0, _MV0, fix_gamma=False)[0], rtol=2e-3, atol=2e-3)
    np.testing.assert_allclose(mm.asnumpy(), 0.9 * _MM0 + 0.1 * _XB.mean(axis=(0, 2)), rtol=1e-3)
    with pytest.raises(mx.MXNetError, match="gamma must be float32 for float16 data, got float16"):
        nd.BatchNorm(x.astype("float16"), gamma.astype("float16"), beta, mm, mv)
    y = nd.LayerNorm(x.astype("float16"), nd.ones(2, dtype="float16"), nd.zeros(2, dtype="float16"))
    np.testing.assert_allclose(y.asnumpy(), _ln_ref(_XB, np.ones(2), np.zeros(2))[0], atol=2e-3)


def test_executor_updates_moving_statistics_only_in_training():
    sym = mx.sym.BatchNorm(mx.sym.var("data"), name="bn", momentum=0.5)
    exe = sym.simple_bind(mx.cpu(), data=_XB.shape, grad_req="null")
    exe.arg_dict["data"][:] = _XB
    exe.arg_dict["bn_gamma"][:] = 1
    exe.forward(is_train=False)
    assert exe.aux_dict["bn_moving_var"].asnumpy().tolist() == [0.0, 0.0, 0.0]  # simple_bind's zeros
    exe.forward(is_train=True)
    np.testing.assert_allclose(exe.aux_dict["bn_moving_mean"].asnumpy(), 0.5 * _XB.mean(axis=(0, 2)), rtol=1e-5)
    np.testing.assert_allclose(exe.aux_dict["bn_moving_var"].asnumpy(), 0.5 * _XB.var(axis=(0, 2)), rtol=1e-5)


# --- outputs, names, shape inference ------------------------------------------------------------

def test_visible_outputs():
    x, gamma, beta, mm, mv = _bn_arrays(np.float32)
    assert isinstance(nd.BatchNorm(x, gamma, beta, mm, mv), nd.NDArray)
    assert [o.shape for o in nd.BatchNorm(x, gamma, beta, mm, mv, output_mean_var=True)] == [(4, 3, 2), (3,), (3,)]
    assert isinstance(nd.LayerNorm(x, nd.ones(2), nd.zeros(2)), nd.NDArray)
    assert [o.shape for o in nd.LayerNorm(x, nd.ones(3), nd.zeros(3), axis=1, output_mean_var=True)] == \
        [(4, 3, 2), (4, 1, 2), (4, 1, 2)]
    assert [o.shape for o in nd.GroupNorm(x, nd.ones(3), nd.zeros(3), num_groups=3, output_mean_var=True)] == \
        [(4, 3, 2), (4, 3), (4, 3)]
    for y in (nd.InstanceNorm(x, nd.ones(3), nd.zeros(3)), nd.L2Normalization(x), nd.LRN(x.reshape((4, 3, 2, 1)),
                                                                                       nsize=3)):
        assert isinstance(y, nd.NDArray)
    out = nd.zeros((4, 3, 2))
    nd.BatchNorm(x, gamma, beta, mm, mv, out=out)
    np.testing.assert_allclose(out.asnumpy(), nd.BatchNorm(x, gamma, beta, mm, mv).asnumpy())


def test_symbol_names_and_shapes_match_mxnet():
    # printed by MXNet 1.9.1 for data (2, 4, 3, 5)
    bn = mx.sym.BatchNorm(name="bn")
    assert (bn.list_arguments(), bn.list_auxiliary_states(), bn.list_outputs()) == \
        (["bn_data", "bn_gamma", "bn_beta"], ["bn_moving_mean", "bn_moving_var"], ["bn_output"])
    assert mx.sym.BatchNorm(name="bn", output_mean_var=True).list_outputs() == ["bn_output", "bn_mean", "bn_var"]
    assert bn.attr_dict() == {"bn_moving_mean": {"__init__": '["zero", {}]'},
                              "bn_moving_var": {"__init__": '["one", {}]'}}
    assert bn.infer_shape(bn_data=(2, 4, 3, 5)) == ([(2, 4, 3, 5), (4,), (4,)], [(2, 4, 3, 5)], [(4,), (4,)])
    cases = [
        (mx.sym.LayerNorm(name="n", output_mean_var=True), ["n_output", "n_mean", "n_std"], (5,),
         [(2, 4, 3, 5), (2, 4, 3, 1), (2, 4, 3, 1)]),
        (mx.sym.InstanceNorm(name="n"), ["n_output"], (4,), [(2, 4, 3, 5)]),
        (mx.sym.GroupNorm(name="n", num_groups=2, output_mean_var=True), ["n_output", "n_mean", "n_std"], (2,),
         [(2, 4, 3, 5), (2, 2), (2, 2)]),
    ]
    for sym, outputs, param, out_shapes in cases:
        assert sym.list_arguments() == ["n_data", "n_gamma", "n_beta"]
        assert sym.list_outputs() == outputs
        assert sym.infer_shape(n_data=(2, 4, 3, 5)) == ([(2, 4, 3, 5), param, param], out_shapes, [])
    for sym in (mx.sym.L2Normalization(name="n"), mx.sym.LRN(name="n", nsize=3)):
        assert (sym.list_arguments(), sym.list_outputs()) == (["n_data"], ["n_output"])
        assert sym.infer_shape(n_data=(2, 4, 3, 5)) == ([(2, 4, 3, 5)], [(2, 4, 3, 5)], [])


# --- MXNet 1.9.1's numbers ----------------------------------------------------------------------

_X = ((np.arange(12) * 7 % 11 - 5) / 4).reshape(2, 3, 2).astype(np.float32)
_X2 = ((np.arange(16) * 7 % 13 - 6) / 4).reshape(2, 4, 2).astype(np.float32)
_G3, _B3 = np.array([1.5, -0.5, 2.0], np.float32), np.array([0.1, -0.2, 0.3], np.float32)
_MM, _MV = np.array([0.3, -0.1, 0.2], np.float32), np.array([2.0, 0.5, 1.5], np.float32)


def _head(shape):
    return ((np.arange(int(np.prod(shape))) * 5 % 7 - 3) / 2).reshape(shape).astype(np.float32)


def _bn_case(**kwargs):
    return lambda x, g, b, m, v: nd.BatchNorm(x, g, b, m, v, output_mean_var=True, **kwargs)


# (function, argument arrays, aux arrays, train): each is run under autograd.record(train_mode=train) and
# output 0 is back-propagated with _head (backward in its default training mode).
MXNET_CASES = {
    "BatchNorm train=True": (_bn_case(fix_gamma=False, momentum=0.8), [_X, _G3, _B3], [_MM, _MV], True),
    "BatchNorm train=False": (_bn_case(fix_gamma=False, momentum=0.8), [_X, _G3, _B3], [_MM, _MV], False),
    "BatchNorm axis=-1 fix_gamma": (_bn_case(axis=-1), [_X, _G3[:2], _B3[:2]], [_MM[:2], _MV[:2]], True),
    "LayerNorm": (lambda x, g, b: nd.LayerNorm(x, g, b, axis=1, eps=0.01, output_mean_var=True), [_X, _G3, _B3], [],
                  True),
    "InstanceNorm": (lambda x, g, b: nd.InstanceNorm(x, g, b, eps=0.01), [_X, _G3, _B3], [], True),
    "GroupNorm": (lambda x, g, b: nd.GroupNorm(x, g, b, num_groups=2, eps=0.01, output_mean_var=True),
                  [_X2, _G3[:2], _B3[:2]], [], True),
    **{f"L2Normalization {mode}": (lambda x, mode=mode: nd.L2Normalization(x, mode=mode, eps=0.1), [_X], [], True)
       for mode in ("instance", "channel", "spatial")},
    **{f"LRN nsize={n}": (lambda x, n=n: nd.LRN(x, nsize=n, alpha=0.5, beta=0.75, knorm=1.5),
                          [_X2.reshape(2, 4, 2, 1)], [], True) for n in (3, 2)},
}

# Printed by MXNet 1.9.1 (pip mxnet, CPU) for MXNET_CASES, flattened and rounded to 6 decimals: outI = output I,
# gradI = the gradient of argument I, auxI = aux state I after forward and backward.
MXNET = {
    "BatchNorm train=True": {
        "out0": [
            -2.252739, 0.884246, 0.143194, -0.81775, 2.978998, -0.593, 1.780528, -0.012035, 0.41775, -0.543194,
            1.193, -2.378999
        ],
        "out1": [0.0625, 0.125, -0.5],
        "out2": [1.195042, 1.098222, 1.785999],
        "grad0": [
            0.13776, 2.344164, 0.232832, 0.130013, 3.926634, -0.713545, -0.994682, -1.487242, -0.130013, -0.232832,
            -5.537452, 2.324363
        ],
        "grad1": [2.427429, -2.470999, -0.66975],
        "grad2": [-2.5, 0.0, 2.5],
        "aux0": [0.2525, -0.055, 0.06],
        "aux1": [1.739844, 0.565625, 1.2625],
    },
    "BatchNorm train=False": {
        "out0": [
            -1.543612, 0.312079, 0.08256, -1.153641, 0.381622, -1.250827, 0.842277, -0.218119, 0.435761, -0.800441,
            -0.434602, -2.067051
        ],
        "out1": [0.3, -0.1, 0.2],
        "out2": [0.70693, 1.412802, 0.816225],
        "grad0": [
            -0.388805, 1.653588, 0.317246, -0.364304, 1.457282, -0.752941, -0.110888, -0.823515, 0.007402,
            -0.674147, -2.912728, 0.590621
        ],
        "grad1": [1.855692, -3.178803, -1.734477],
        "grad2": [-2.5, 0.0, 2.5],
        "aux0": [0.3, -0.1, 0.2],
        "aux1": [2.0, 0.5, 1.5],
    },
    "BatchNorm axis=-1 fix_gamma": {
        "out0": [
            -1.166923, 0.283043, -0.175418, 1.152521, 0.816087, -1.166087, 1.807591, -0.296609, -0.836421, 0.572869,
            0.155084, -1.745739
        ],
        "out1": [-0.291667, 0.083333],
        "out2": [1.322006, 1.159304],
        "grad0": [
            -1.557626, 1.391805, 0.178692, -0.334405, 1.915011, -0.175177, -0.975692, -1.901387, 1.665159, 0.429967,
            -1.225544, 0.589195
        ],
        "grad1": [0.0, 0.0],
        "grad2": [-0.5, 0.5],
        "aux0": [0.240833, -0.081667],
        "aux1": [1.857118, 0.524306],
    },
    "LayerNorm": {
        "out0": [
            -1.713102, 0.400844, -0.2, -0.751546, 2.717469, -2.307311, 2.055483, 0.400844, 0.351547, -0.751547,
            -0.101125, -2.307311
        ],
        "out1": [-0.5, 0.333333, -0.083333, -0.166667],
        "out2": [0.620484, 0.830997, 0.830997, 0.830997],
        "grad0": [
            0.09157, 0.637992, -0.402911, -0.402012, 0.311341, -0.235979, 0.414235, -2.657491, 0.690875, 1.629347,
            -1.10511, 1.028144
        ],
        "grad1": [1.060993, -2.206186, -0.593647],
        "grad2": [-2.5, 0.0, 2.5],
    },
    "InstanceNorm": {
        "out0": [
            -1.390299, 1.590299, 0.296766, -0.696766, 2.261161, -1.661161, 1.570871, -1.370871, 0.296766, -0.696766,
            2.261161, -1.661161
        ],
        "grad0": [
            -0.027449, 0.027449, -0.00366, 0.00366, 0.075429, -0.075429, 0.056572, -0.056572, -0.00366, 0.00366,
            -0.188573, 0.188573
        ],
        "grad1": [3.464412, -1.987065, -1.470871],
        "grad2": [-2.5, 0.0, 2.5],
    },
    "GroupNorm": {
        "out0": [
            -1.586298, 1.364724, -1.164724, 1.786298, 0.362099, -0.621575, 0.221575, -0.762099, -1.586298, 1.364724,
            -1.164724, 1.786298, -0.607488, 0.370484, -0.770484, 0.207488
        ],
        "out1": [-0.5, 0.0, 0.5, -0.625],
        "out2": [0.889522, 0.889522, 0.889522, 0.766893],
        "grad0": [
            -1.231091, 1.819164, 1.131858, -1.719931, -0.443552, -0.580747, 0.580747, 0.443552, 1.719931, -1.131858,
            -1.819164, 1.231091, -0.613181, 0.532463, 0.608504, -0.527786
        ],
        "grad1": [2.810497, -4.077903],
        "grad2": [0.0, -0.5],
    },
    "L2Normalization instance": {
        "out0": [
            -0.599329, 0.239732, -0.239732, 0.599329, 0.119866, -0.359598, 0.482945, 0.0, -0.482945, 0.362209,
            -0.120736, -0.603682
        ],
        "grad0": [
            -0.564196, 0.417464, 0.062, -0.634462, 0.688195, 0.332731, 0.110528, -0.724418, 0.130944, 0.264001,
            -0.570946, 0.284417
        ],
    },
    "L2Normalization channel": {
        "out0": [
            -0.88946, 0.317821, -0.355784, 0.794552, 0.177892, -0.476731, 0.68002, 0.0, -0.68002, 0.502801,
            -0.170005, -0.838002
        ],
        "grad0": [
            -0.054043, 0.780106, 0.405324, -0.274482, 0.86469, 0.101125, 0.053065, -1.005602, 0.286945, 0.423709,
            -0.778289, 0.299421
        ],
    },
    "L2Normalization spatial": {
        "out0": [
            -0.903877, 0.361551, -0.361551, 0.903877, 0.29361, -0.88083, 0.953463, 0.0, -0.775567, 0.581675,
            -0.190347, -0.951734
        ],
        "grad0": [
            0.037809, 0.274117, -0.236308, -0.132332, 1.761661, 0.58722, -0.043339, -1.430194, 0.30906, 0.34988,
            -0.940699, 0.24552
        ],
    },
    "LRN nsize=3": {
        "out0": [
            -0.84914, 0.179785, -0.668835, 0.344097, -0.59, 0.482203, -0.490738, 0.654317, -0.35957, 0.707617,
            -0.179785, 0.752111, 0.0, -0.752111, 0.183492, -0.707617
        ],
        "grad0": [
            -0.625464, 0.724968, 0.049541, -0.693263, 0.810361, 0.44012, -0.383138, -0.875542, 0.704661, -0.140436,
            -0.72638, 0.527414, 0.365097, -0.150271, -1.089564, 0.509352
        ],
    },
    "LRN nsize=2": {
        "out0": [
            -0.871557, 0.183019, -0.775275, 0.357771, -0.657236, 0.517374, -0.517374, 0.657236, -0.357771, 0.775275,
            -0.183019, 0.871557, 0.0, -0.871557, 0.183019, -0.775275
        ],
        "grad0": [
            -0.515011, 0.720755, 0.0, -0.672609, 0.7746, 0.300569, -0.300569, -0.7746, 0.672609, 0.0, -0.720755,
            0.515011, 0.368894, -0.17167, -1.081133, 0.428003
        ],
    },
}


def _run_case(fn, args, aux, train, ctx=None):
    """{outI, gradI, auxI} as MXNET holds them, computed here on ctx."""
    ctx = ctx or mx.cpu()
    xs, auxs = [nd.array(a, ctx=ctx) for a in args], [nd.array(a, ctx=ctx) for a in aux]
    for x in xs:
        x.attach_grad()
    with mx.autograd.record(train_mode=train):
        outs = fn(*xs, *auxs)
    outs = outs if isinstance(outs, list) else [outs]
    outs[0].backward(nd.array(_head(outs[0].shape), ctx=ctx))
    got = {f"out{i}": o.asnumpy() for i, o in enumerate(outs)}
    got.update({f"grad{i}": x.grad.asnumpy() for i, x in enumerate(xs)})
    got.update({f"aux{i}": a.asnumpy() for i, a in enumerate(auxs)})
    return got


@pytest.mark.parametrize("case", MXNET)
def test_matches_mxnet(case):
    got = _run_case(*MXNET_CASES[case])
    assert sorted(got) == sorted(MXNET[case])
    for key, want in MXNET[case].items():
        np.testing.assert_allclose(got[key].ravel(), want, rtol=1e-5, atol=2e-6, err_msg=f"{case} {key}")


# --- errors -------------------------------------------------------------------------------------

def _bn(shape=(2, 3, 4), c=3, gamma=None, **kwargs):
    stats = [nd.ones(c) for _ in range(4)]
    if gamma is not None:
        stats[0] = nd.ones(gamma)
    return nd.BatchNorm(nd.ones(shape), *stats, **kwargs)


@pytest.mark.parametrize("call,match", [
    (lambda: _bn(axis=3), r"BatchNorm: .*axis 3 is out of range for data of shape \(2, 3, 4\)"),
    (lambda: _bn(c=2, axis=-4), r"axis -4 is out of range for data of shape \(2, 3, 4\)"),
    (lambda: _bn(gamma=4), r"BatchNorm: .*gamma shape \(4,\) does not match data \(2, 3, 4\) with axis=1: "
                           r"expected \(3,\)"),
    (lambda: _bn(c=4, gamma=3), r"beta shape \(4,\) does not match data \(2, 3, 4\) with axis=1: expected \(3,\)"),
    (lambda: nd.BatchNorm(nd.ones((2, 3)), nd.ones(3), nd.ones(3), nd.ones(3), nd.ones(2)),
     r"moving_var shape \(2,\) does not match data \(2, 3\)"),
    (lambda: nd.BatchNorm(nd.ones((2, 3), dtype="int32"), *[nd.ones(3)] * 4),
     "data must be float16, float32 or float64, got int32"),
    (lambda: nd.BatchNorm(nd.ones((2, 3)), nd.ones(3, dtype="float64"), nd.ones(3), nd.ones(3), nd.ones(3)),
     "gamma must be float32 for float32 data, got float64"),
    (lambda: _bn(momentum="fast"), "invalid value 'fast' for argument 'momentum'"),
    (lambda: nd.LayerNorm(nd.ones((2, 3)), nd.ones(3), nd.ones(3), axis=2),
     r"LayerNorm: .*axis 2 is out of range for data of shape \(2, 3\)"),
    (lambda: nd.LayerNorm(nd.ones((2, 3)), nd.ones(2), nd.ones(2)),
     r"gamma shape \(2,\) does not match data \(2, 3\): expected \(3,\)"),
    (lambda: nd.InstanceNorm(nd.ones((2, 3)), nd.ones(3), nd.ones(3)),
     r"InstanceNorm needs data of at least 3 dimensions \(N, C, ...\), got shape \(2, 3\)"),
    (lambda: nd.InstanceNorm(nd.ones((2, 3, 2)), nd.ones(2), nd.ones(3)),
     r"gamma shape \(2,\) does not match data \(2, 3, 2\): expected \(3,\)"),
    (lambda: nd.GroupNorm(nd.ones((2, 3, 4)), nd.ones(2), nd.ones(2), num_groups=2),
     r"num_groups=2 must be positive and divide the 3 channels of data \(2, 3, 4\)"),
    (lambda: nd.GroupNorm(nd.ones((2, 4, 4)), nd.ones(4), nd.ones(4), num_groups=2),
     r"gamma shape \(4,\) does not match data \(2, 4, 4\): expected \(2,\)"),
    (lambda: nd.GroupNorm(nd.ones((2, 4)), nd.ones(1), nd.ones(1)), "GroupNorm needs data of at least 3 dimensions"),
    (lambda: nd.L2Normalization(nd.ones((2, 3)), mode="channel"),
     r"mode 'channel' needs data of at least 3 dimensions \(N, C, ...\), got shape \(2, 3\)"),
    (lambda: nd.L2Normalization(nd.ones((2, 3)), mode="pixel"), "invalid value 'pixel' for argument 'mode'"),
    (lambda: nd.LRN(nd.ones((1, 3, 2, 2))), "LRN: required argument 'nsize' is missing"),
    (lambda: nd.LRN(nd.ones((1, 3, 2, 2)), nsize=0), "nsize must be at least 1, got 0"),
    (lambda: nd.LRN(nd.ones((1, 3, 2)), nsize=3), r"data must be 4-D \(N, C, H, W\), got shape \(1, 3, 2\)"),
])
def test_errors(call, match):
    with pytest.raises(mx.MXNetError, match=match):
        call()


# --- gpu(0) against cpu() ----------------------------------------------------------------------

_GPU_CASES = ["BatchNorm train=True", "BatchNorm train=False", "BatchNorm axis=-1 fix_gamma", "LayerNorm",
              "InstanceNorm", "GroupNorm", "L2Normalization instance", "L2Normalization channel",
              "L2Normalization spatial", "LRN nsize=3", "LRN nsize=2"]


@pytest.mark.cuda
@pytest.mark.parametrize("case", _GPU_CASES)
def test_gpu_matches_cpu(case):
    cpu, gpu = _run_case(*MXNET_CASES[case]), _run_case(*MXNET_CASES[case], ctx=mx.gpu(0))
    assert sorted(cpu) == sorted(gpu)
    for key in cpu:
        np.testing.assert_allclose(gpu[key], cpu[key], rtol=1e-5, atol=1e-6, err_msg=f"{case} {key}")


_F16 = np.float16
_FLOAT16_CASES = {
    # BatchNorm (in training: outputs_and_grads records in train mode) keeps gamma, beta and its statistics in
    # float32 for float16 data, as MXNet does.
    "BatchNorm": (lambda x, g, b: nd.BatchNorm(x, g, b, nd.zeros(3, ctx=x.context), nd.ones(3, ctx=x.context),
                                               fix_gamma=False), [_X.astype(_F16), _G3, _B3]),
    "LayerNorm": (lambda x, g, b: nd.LayerNorm(x, g, b, axis=1), [_X.astype(_F16), _G3.astype(_F16),
                                                                   _B3.astype(_F16)]),
    "LRN": (lambda x: nd.LRN(x, nsize=3, alpha=0.5, knorm=1.5), [_X2.reshape(2, 4, 2, 1).astype(_F16)]),
}


@pytest.mark.cuda
@pytest.mark.parametrize("case", _FLOAT16_CASES)
def test_gpu_float16_matches_cpu(case):
    # Both devices compute float16 in float32 and round the results: equal up to a float16 rounding step.
    fn, arrays = _FLOAT16_CASES[case]
    results = [outputs_and_grads(ctx, fn, arrays) for ctx in (mx.gpu(0), mx.cpu())]
    for got, want, a in zip(*results, [None] + arrays):
        assert got.dtype == want.dtype == (np.float16 if a is None else a.dtype)
        np.testing.assert_allclose(got.astype(np.float64), want, rtol=1e-3, atol=1e-3, err_msg=case)
