"""add_n, hard_sigmoid, smooth_l1, moments, khatri_rao, ravel/unravel, all_finite, multi_all_finite, multi_sum_sq
and contrib div_sqrt_dim / quadratic / arange_like: OpSpecs against NumPy float64 references, MXNet 1.9.1's
printed values, symbols and errors."""
import math

import numpy as np
import pytest

import mxcy as mx
from tests.ops.opspec import OpSpec, spec_tests

NO_GRAD = "MXNet 1.9.1 registers no gradient for it (integer-valued or a check)"


def _shape(rng, low=1):
    return tuple(int(d) for d in rng.integers(low, 4, size=int(rng.integers(1, 4))))


def _one(attrs=lambda rng: {}, low=-2, high=2):
    def make(rng):
        return [rng.uniform(low, high, _shape(rng))], attrs(rng)
    return make


def _make_many(count_key, same_shape=True):
    def make(rng):
        n, shape = int(rng.integers(1, 4)), _shape(rng)
        arrays = [rng.uniform(-2, 2, shape if same_shape else _shape(rng)) for _ in range(n)]
        return arrays, {count_key: n}
    return make


def _make_moments(rng):
    x = rng.uniform(-2, 2, _shape(rng))
    axes = tuple(sorted(rng.choice(x.ndim, size=int(rng.integers(1, x.ndim + 1)), replace=False).tolist()))
    return [x], {"axes": axes, "keepdims": bool(rng.integers(2))}


def _moments(x, axes=None, keepdims=False):
    mean, var = x.mean(axis=axes, keepdims=keepdims), x.var(axis=axes, keepdims=keepdims)
    return np.reshape(mean, mean.shape or (1,)), np.reshape(var, var.shape or (1,))


def _make_khatri_rao(rng):
    k, n = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    return [rng.uniform(-2, 2, (int(rng.integers(1, 4)), k)) for _ in range(n)], {"num_args": n}


def _khatri_rao(*mats, num_args):
    cols = [np.ones(1) for _ in range(mats[0].shape[1])]
    for j in range(mats[0].shape[1]):
        for m in mats:
            cols[j] = np.kron(cols[j], m[:, j])
    return np.stack(cols, axis=1)


def _make_ravel(rng):
    shape = _shape(rng)
    n = int(rng.integers(1, 5))
    return [np.stack([rng.integers(0, d, n) for d in shape]).astype(np.float32)], {"shape": shape}


def _make_unravel(rng):
    shape = _shape(rng)
    return [rng.integers(0, math.prod(shape), int(rng.integers(1, 5))).astype(np.float32)], {"shape": shape}


def _make_finite(count_key):
    def make(rng):
        arrays, attrs = _make_many(count_key, same_shape=False)(rng) if count_key else ([rng.uniform(-1, 1, _shape(rng))], {})
        if rng.integers(2):
            arrays[int(rng.integers(len(arrays)))].reshape(-1)[0] = rng.choice([np.inf, -np.inf, np.nan])
        return arrays, attrs
    return make


def _all_finite(*arrays, **attrs):
    return np.array([float(all(np.isfinite(a).all() for a in arrays))])


def _arange_like_attrs(rng):
    return {"start": float(rng.integers(-3, 3)), "step": float(rng.choice([0.5, 1, 2])),
            "repeat": int(rng.integers(1, 3))}


def _make_arange_like(rng):
    x = rng.uniform(-1, 1, _shape(rng))
    attrs = _arange_like_attrs(rng)
    if rng.integers(2):
        attrs["axis"] = int(rng.integers(-x.ndim, x.ndim))
    return [x], attrs


def _arange_like(x, start, step, repeat, axis=None):
    shape = x.shape if axis is None else (x.shape[axis],)
    return (start + (np.arange(math.prod(shape)) // repeat) * step).reshape(shape)


def _smooth_l1(x, scalar):
    s2 = scalar ** 2
    return np.where(np.abs(x) < 1 / s2, 0.5 * s2 * x * x, np.abs(x) - 0.5 / s2)


def _away_from_kinks(attrs_of, kinks):
    """Inputs at least 0.05 away from every point where the function's derivative jumps."""
    def make(rng):
        arrays, attrs = _one(attrs_of)(rng)
        x = arrays[0]
        for k in kinks(attrs):
            near = np.abs(x - k) < 0.05
            x[near] = k + 0.1 * np.where(x[near] >= k, 1, -1)
        return arrays, attrs
    return make


_HARD_SIGMOID = _away_from_kinks(
    lambda rng: {"alpha": float(rng.uniform(0.2, 1)), "beta": float(rng.uniform(0, 1))},
    lambda attrs: [-attrs["beta"] / attrs["alpha"], (1 - attrs["beta"]) / attrs["alpha"]])
_SMOOTH_L1 = _away_from_kinks(lambda rng: {"scalar": float(rng.uniform(0.8, 2))},
                              lambda attrs: [-1 / attrs["scalar"] ** 2, 1 / attrs["scalar"] ** 2])


SPECS = [
    OpSpec("add_n", _make_many("num_args"), lambda *a, num_args: sum(a)),
    OpSpec("hard_sigmoid", _HARD_SIGMOID,
           lambda x, alpha, beta: np.clip(alpha * x + beta, 0, 1)),
    OpSpec("smooth_l1", _SMOOTH_L1, _smooth_l1),
    OpSpec("_contrib_div_sqrt_dim", _one(), lambda x: x / np.sqrt(x.shape[-1])),
    OpSpec("_contrib_quadratic", _one(lambda rng: {k: float(rng.uniform(-2, 2)) for k in "abc"}),
           lambda x, a, b, c: a * x * x + b * x + c),
    OpSpec("moments", _make_moments, _moments, rtol=1e-4, atol=1e-5),
    OpSpec("khatri_rao", _make_khatri_rao, _khatri_rao, grad=False, why=NO_GRAD),
    OpSpec("_ravel_multi_index", _make_ravel,
           lambda d, shape: np.ravel_multi_index(d.astype(np.int64), shape).astype(np.float64), grad=False,
           why=NO_GRAD),
    OpSpec("_unravel_index", _make_unravel,
           lambda d, shape: np.stack(np.unravel_index(d.astype(np.int64), shape)).astype(np.float64), grad=False,
           why=NO_GRAD),
    OpSpec("all_finite", _make_finite(None), _all_finite, grad=False, why=NO_GRAD),
    OpSpec("multi_all_finite", _make_finite("num_arrays"), _all_finite, grad=False, why=NO_GRAD),
    OpSpec("multi_sum_sq", _make_many("num_arrays", same_shape=False),
           lambda *a, num_arrays: np.array([np.sum(x * x) for x in a]), grad=False, why=NO_GRAD, rtol=1e-5),
    OpSpec("_contrib_arange_like", _make_arange_like, _arange_like),
]

test_forward, test_gradient, test_req_add = spec_tests(SPECS)


CONTEXTS = [mx.cpu(), pytest.param(mx.gpu(0), marks=pytest.mark.cuda)]


@pytest.mark.parametrize("ctx", CONTEXTS)
def test_values_printed_by_mxnet(ctx):
    with ctx:
        a, b = mx.nd.array([[1, 2], [3, 4]]), mx.nd.array([[1, 2], [3, 4.1]])
        mean, var = mx.nd.moments(a, axes=(1,))
        assert mean.asnumpy().tolist() == [1.5, 3.5] and var.asnumpy().tolist() == [0.25, 0.25]
        assert mx.nd.khatri_rao(a, mx.nd.array([[1, 2], [3, 4], [5, 6]])).asnumpy().tolist() == \
            [[1, 4], [3, 8], [5, 12], [3, 8], [9, 16], [15, 24]]
        idx = mx.nd.array([[3, 6, 6], [4, 5, 1]], dtype="int32")
        flat = mx.nd.ravel_multi_index(idx, shape=(7, 6))
        assert flat.dtype == np.int32 and flat.asnumpy().tolist() == [22, 41, 37]
        assert mx.nd.unravel_index(mx.nd.array([22, 41, 37]), shape=(7, 6)).asnumpy().tolist() == \
            [[3, 6, 6], [4, 5, 1]]
        # A leading -1 is an unknown size: MXNet's test_ravel passes one to both ops.
        assert mx.nd.unravel_index(mx.nd.array([22, 41, 37]), shape=(-1, 6)).asnumpy().tolist() == \
            [[3, 6, 6], [4, 5, 1]]
        assert mx.nd.ravel_multi_index(idx, shape=(-1, 6)).asnumpy().tolist() == [22, 41, 37]
        np.testing.assert_allclose(mx.nd.smooth_l1(mx.nd.array([-2, -0.5, 0, 0.3, 3]), scalar=2.0).asnumpy(),
                                   [1.875, 0.375, 0, 0.175, 2.875], rtol=1e-6)
        np.testing.assert_allclose(mx.nd.hard_sigmoid(mx.nd.array([-5, -1, 0, 1, 5])).asnumpy(), [0, 0.3, 0.5, 0.7, 1])
        assert mx.nd.contrib.arange_like(mx.nd.ones((5,)), repeat=2).asnumpy().tolist() == [0, 0, 1, 1, 2]
        assert mx.nd.contrib.arange_like(a, axis=1, start=2, step=3).asnumpy().tolist() == [2, 5]
        summed = mx.nd.multi_sum_sq(a, b, num_arrays=2)
        assert summed.dtype == np.float32
        np.testing.assert_allclose(summed.asnumpy(), [30, 30.81], rtol=1e-6)
        finite = mx.nd.multi_all_finite(a, b, num_arrays=2)
        assert finite.dtype == np.float32 and finite.shape == (1,) and finite.asscalar() == 1
        assert mx.nd.all_finite(mx.nd.array([np.inf])).asscalar() == 0
        assert mx.nd.add_n(a, b, a).asnumpy().tolist() == mx.nd.ElementWiseSum(a, b, a).asnumpy().tolist()


@pytest.mark.parametrize("ctx", CONTEXTS)
def test_all_finite_without_init_output_only_writes_a_zero(ctx):
    with ctx:
        out = mx.nd.array([5.0])
        mx.nd.all_finite(mx.nd.ones((2,)), init_output=False, out=out)
        assert out.asscalar() == 5.0
        mx.nd.all_finite(mx.nd.array([np.nan]), init_output=False, out=out)
        assert out.asscalar() == 0.0


def test_symbol_names_follow_mxnet():
    a, b = mx.sym.var("a"), mx.sym.var("b")
    with mx.name.NameManager():
        assert mx.sym.add_n(a, b).name == "add_n0"
        assert mx.sym.ElementWiseSum(a, b).name == "elementwisesum0"
        assert mx.sym.khatri_rao(a).name == "khatri_rao0"
    mean, var = mx.sym.moments(a, axes=(0,))
    assert mx.sym.Group([mean, var]).infer_shape(a=(3, 4))[1] == [(4,), (4,)]


@pytest.mark.parametrize("call,match", [
    (lambda: mx.nd.add_n(mx.nd.ones((2,)), mx.nd.ones((3,))), r"add_n.*same shape"),
    (lambda: mx.nd.khatri_rao(mx.nd.ones((2, 3)), mx.nd.ones((2, 4))), r"khatri_rao.*same number of columns"),
    (lambda: mx.nd.ravel_multi_index(mx.nd.ones((3, 2)), shape=(4, 4)), r"_ravel_multi_index.*\(2, N\)"),
    (lambda: mx.nd.unravel_index(mx.nd.ones((3, 2)), shape=(4, 4)), r"_unravel_index.*vector"),
    (lambda: mx.nd.moments(mx.nd.ones((2, 3)), axes=()), r"moments.*empty axes"),
    (lambda: mx.nd.moments(mx.nd.ones((2, 3)), axes=(2,)), r"moments.*axis 2 is out of range"),
    (lambda: mx.nd.multi_sum_sq(mx.nd.ones((2,)), num_arrays=2), r"multi_sum_sq.*required input 'arg1' is missing"),
])
def test_bad_input_raises_naming_op(call, match):
    with pytest.raises(mx.MXNetError, match=match):
        call()
