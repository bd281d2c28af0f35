"""Unary, binary, scalar, reshape, cast, indexing and creation ops against NumPy float64 references."""
import math

import numpy as np
import pytest
from scipy import special

import mxcy as mx
from tests.ops.opspec import OpSpec, spec_tests


def _shape(rng, max_dims=3, max_size=4):
    return tuple(int(d) for d in rng.integers(1, max_size + 1, size=rng.integers(1, max_dims + 1)))


def _unary(name, ref, low=-2.0, high=2.0, grad=True, away_from=None, **kw):
    def make(rng):
        x = rng.uniform(low, high, size=_shape(rng))
        if away_from is not None:  # keep numerical differences off kinks and jumps
            x = np.where(np.abs(x - np.round(x - away_from) - away_from) < 0.05, x + 0.1, x)
        return [x], {}
    return OpSpec(name, make, lambda x: ref(x), grad=grad, **kw)


def _round_half_away(x):
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


UNARY = [
    _unary("abs", np.abs, away_from=0.0), _unary("sign", np.sign, grad=False, why="piecewise constant"),
    _unary("negative", np.negative), _unary("ceil", np.ceil, grad=False, why="piecewise constant"),
    _unary("floor", np.floor, grad=False, why="step"), _unary("trunc", np.trunc, grad=False, why="step"),
    _unary("fix", np.trunc, grad=False, why="step"), _unary("rint", np.rint, grad=False, why="step"),
    _unary("round", _round_half_away, grad=False, why="step"),
    _unary("exp", np.exp), _unary("expm1", np.expm1), _unary("log", np.log, 0.2, 3.0),
    _unary("log10", np.log10, 0.2, 3.0), _unary("log2", np.log2, 0.2, 3.0),
    _unary("log1p", np.log1p, -0.8, 3.0), _unary("sqrt", np.sqrt, 0.2, 3.0),
    _unary("rsqrt", lambda x: 1 / np.sqrt(x), 0.2, 3.0), _unary("cbrt", np.cbrt, 0.2, 3.0),
    _unary("rcbrt", lambda x: 1 / np.cbrt(x), 0.2, 3.0), _unary("square", np.square),
    _unary("reciprocal", lambda x: 1 / x, 0.3, 3.0), _unary("sin", np.sin), _unary("cos", np.cos),
    _unary("tan", np.tan, -1.2, 1.2), _unary("arcsin", np.arcsin, -0.9, 0.9),
    _unary("arccos", np.arccos, -0.9, 0.9), _unary("arctan", np.arctan), _unary("sinh", np.sinh),
    _unary("cosh", np.cosh), _unary("tanh", np.tanh), _unary("arcsinh", np.arcsinh),
    _unary("arccosh", np.arccosh, 1.2, 3.0), _unary("arctanh", np.arctanh, -0.9, 0.9),
    _unary("degrees", np.degrees, rtol=1e-5, atol=1e-4), _unary("radians", np.radians),
    _unary("sigmoid", lambda x: 1 / (1 + np.exp(-x))), _unary("relu", lambda x: np.maximum(x, 0), away_from=0.0),
    _unary("softsign", lambda x: x / (1 + np.abs(x))), _unary("erf", special.erf),
    _unary("erfinv", special.erfinv, -0.9, 0.9, rtol=1e-4), _unary("gamma", special.gamma, 0.5, 3.0, rtol=1e-4),
    _unary("gammaln", special.gammaln, 0.5, 3.0, rtol=1e-4),
    _unary("_digamma", special.digamma, 0.5, 3.0, grad=False, why="polygamma not registered", rtol=1e-4),
    _unary("logical_not", lambda x: np.logical_not(x).astype(x.dtype), grad=False, why="boolean"),
    _unary("_copy", lambda x: x), _unary("BlockGrad", lambda x: x, grad=False, why="gradient is zero by definition"),
    _unary("zeros_like", np.zeros_like, grad=False, why="constant"),
    _unary("ones_like", np.ones_like, grad=False, why="constant"),
]


def _broadcast_pair(rng, low=-2.0, high=2.0):
    shape = _shape(rng)
    other = tuple(d if rng.random() < 0.6 else 1 for d in shape)[int(rng.integers(0, len(shape))):]
    a, b = rng.uniform(low, high, size=shape), rng.uniform(low, high, size=other or (1,))
    return [a, b] if rng.random() < 0.5 else [b, a]


def _mxnet_mod(a, b):
    return np.where(b == 0, 0, np.mod(a, b))


ARITH = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide,
         "mod": _mxnet_mod, "power": np.power, "maximum": np.maximum, "minimum": np.minimum,
         "hypot": np.hypot}
LOGIC = {"equal": np.equal, "not_equal": np.not_equal, "greater": np.greater,
         "greater_equal": np.greater_equal, "lesser": np.less, "lesser_equal": np.less_equal,
         "logical_and": np.logical_and, "logical_or": np.logical_or, "logical_xor": np.logical_xor}
_POSITIVE = {"power", "div", "mod", "hypot"}  # keep away from 0 (poles) and negative bases
_KINK_AT_TIES = {"maximum", "minimum"}  # central differences straddling a tie give a fraction of the head


def _apart(draw, rng):
    """draw(rng) again until no two compared elements lie within 1e-3 of each other."""
    while True:
        a, b = draw(rng)
        if np.all(np.abs(a - b) >= 1e-3):
            return [a, b]


def _binary_specs():
    specs = []
    for name, fn in list(ARITH.items()) + list(LOGIC.items()):
        logic = name in LOGIC
        low = 0.5 if name in _POSITIVE else -2.0

        def ref(a, b, fn=fn, logic=logic):
            return fn(a, b).astype(a.dtype) if logic else fn(a, b)

        def make_b(rng, low=low, logic=logic, kink=name in _KINK_AT_TIES):
            pair = _apart(lambda r: _broadcast_pair(r, low), rng) if kink else _broadcast_pair(rng, low)
            return [np.round(p) for p in pair] if logic else pair

        def make_same(rng, low=low, logic=logic, kink=name in _KINK_AT_TIES):
            def draw(r):
                shape = _shape(r)
                return [r.uniform(low, 2.0, size=shape) for _ in range(2)]
            pair = _apart(draw, rng) if kink else draw(rng)
            return ([np.round(p) for p in pair] if logic else pair), {}

        grad = dict(grad=False, why="comparison") if logic else {}
        if name == "mod":
            grad = dict(grad_inputs=(0,), why="d/db of mod jumps; checked on lhs only")
        specs.append(OpSpec(f"broadcast_{name}", lambda rng, m=make_b: (m(rng), {}), ref, **grad))
        internal = {"add": "elemwise_add", "sub": "elemwise_sub", "mul": "elemwise_mul",
                    "div": "elemwise_div"}.get(name, f"_{name}")
        specs.append(OpSpec(internal, make_same, ref, **grad))
    return specs


def _scalar_specs():
    table = [("_plus_scalar", np.add, False), ("_minus_scalar", np.subtract, False),
             ("_rminus_scalar", np.subtract, True), ("_mul_scalar", np.multiply, False),
             ("_div_scalar", np.divide, False), ("_rdiv_scalar", np.divide, True),
             ("_mod_scalar", _mxnet_mod, False), ("_rmod_scalar", _mxnet_mod, True),
             ("_power_scalar", np.power, False), ("_rpower_scalar", np.power, True),
             ("_maximum_scalar", np.maximum, False), ("_minimum_scalar", np.minimum, False),
             ("_hypot_scalar", np.hypot, False)]
    table += [(f"_{n}_scalar", fn, False) for n, fn in LOGIC.items()]
    specs = []
    for name, fn, reverse in table:
        logic = name[1:-7] in LOGIC

        def make(rng, logic=logic):
            x = rng.uniform(0.5, 2.0, size=_shape(rng))
            s = float(np.round(rng.uniform(0.5, 2.0), 2))
            return ([np.round(x)] if logic else [x]), {"scalar": round(s) if logic else s}

        def ref(x, scalar, fn=fn, reverse=reverse, logic=logic):
            r = fn(scalar, x) if reverse else fn(x, scalar)
            return r.astype(x.dtype) if logic else r
        grad = dict(grad=False, why="comparison") if logic else {}
        if name == "_rmod_scalar":
            grad = dict(grad=False, why="d/dx of s mod x is a sawtooth with jumps")
        specs.append(OpSpec(name, make, ref, **grad))
    return specs


def _reshape_make(rng):
    shape = _shape(rng, 3, 3)
    codes = [(-1,), (0, -1), (-2,), (-3, -2) if len(shape) >= 2 else (-1,), tuple(reversed(shape))]
    return [rng.standard_normal(shape)], {"shape": codes[int(rng.integers(len(codes)))]}


def _reshape_ref(x, shape):
    out, i = [], 0
    for c in shape:
        if c == -2:
            out += list(x.shape[i:])
            i = x.ndim
        elif c == -3:
            out.append(x.shape[i] * x.shape[i + 1])
            i += 2
        elif c == 0:
            out.append(x.shape[i])
            i += 1
        else:
            out.append(c)
            i += 1
    return x.reshape(out)


def _index_make(rng):
    shape = _shape(rng, 3, 4)
    key = tuple(slice(int(rng.integers(0, d)), None, int(rng.integers(1, 3))) for d in shape)
    return [rng.standard_normal(shape)], {"key": key}


def _scatter_make(rng):
    shape = _shape(rng, 2, 4)
    idx = rng.integers(0, shape[0], size=3)
    return [rng.standard_normal((3,) + shape[1:])], {"key": idx, "shape": shape}


def _scatter_ref(g, key, shape):
    out = np.zeros(shape)
    np.add.at(out, key, g)
    return out


def _creation(name, attrs_of, ref):
    return OpSpec(name, lambda rng: ([], attrs_of(rng)), ref, grad=False, why="no inputs")


def _same_shape_pair(rng):
    shape = _shape(rng)
    return [rng.standard_normal(shape), rng.standard_normal(shape)], {}


OTHER = [
    OpSpec("Reshape", _reshape_make, _reshape_ref),
    OpSpec("Cast", lambda rng: ([rng.standard_normal(_shape(rng))], {"dtype": "float32"}),
           lambda x, dtype: x.astype(dtype), dtype="float64", grad=False,
           why="gradient casts back; checked in test_cast_gradient"),
    OpSpec("_index", _index_make, lambda x, key: x[key]),
    OpSpec("_identity_with_attr_like_rhs", _same_shape_pair, lambda lhs, rhs: lhs),
    OpSpec("_index_scatter_add", _scatter_make, _scatter_ref),
    _creation("_zeros", lambda rng: {"shape": _shape(rng)}, lambda shape: np.zeros(shape)),
    _creation("_ones", lambda rng: {"shape": _shape(rng)}, lambda shape: np.ones(shape)),
    _creation("_full", lambda rng: {"shape": _shape(rng), "value": float(rng.uniform(-3, 3))},
              lambda shape, value: np.full(shape, value)),
    _creation("_arange", lambda rng: {"start": float(rng.integers(-5, 5)), "stop": float(rng.integers(6, 12)),
                                      "step": float(rng.choice([0.5, 1, 2])), "repeat": int(rng.integers(1, 3))},
              lambda start, stop, step, repeat: np.repeat(np.arange(start, stop, step), repeat)),
    _creation("_linspace", lambda rng: {"start": float(rng.uniform(-3, 0)), "stop": float(rng.uniform(1, 3)),
                                        "num": int(rng.integers(1, 9)), "endpoint": bool(rng.integers(2))},
              lambda start, stop, num, endpoint: np.linspace(start, stop, num, endpoint=endpoint)),
    _creation("_eye", lambda rng: {"N": int(rng.integers(1, 5)), "M": int(rng.integers(0, 5)),
                                   "k": int(rng.integers(-2, 3))},
              lambda N, M, k: np.eye(N, M or N, k)),
]

SPECS = UNARY + _binary_specs() + _scalar_specs() + OTHER
NO_SPEC = {"_index_assign": "in-place write; tested through NDArray.__setitem__ in tests/ndarray",
           "_index_assign_scalar": "in-place write; tested through NDArray.__setitem__ in tests/ndarray"}


test_forward, test_gradient, test_req_add = spec_tests(SPECS)


def test_round_is_half_away_from_zero():
    x = mx.nd.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5])
    assert mx.nd.round(x).asnumpy().tolist() == [-3, -2, -1, 1, 2, 3]
    assert mx.nd.rint(x).asnumpy().tolist() == [-2, -2, -0, 0, 2, 2]


def test_cast_gradient():
    x = mx.nd.array([1.5, -2.0], dtype="float64")
    x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.Cast(x, dtype="float32") * 3
    y.backward()
    assert x.grad.dtype == np.float64
    assert x.grad.asnumpy().tolist() == [3.0, 3.0]


def test_integer_division_truncates_like_mxnet():
    a = mx.nd.array([7, -7, 9], dtype="int32")
    assert (a / 2).asnumpy().tolist() == [3, -3, 4]
    assert (a % 4).asnumpy().tolist() == [3, 1, 1]
    assert math.isclose((mx.nd.array([1.0]) / 0).asscalar(), math.inf)


def test_broadcast_ops_ignore_unknown_arguments_as_mxnet():
    """MXNet 1.9.1 registers no attribute parser for broadcast_*: test_cosine_loss passes axis=1."""
    out = mx.nd.broadcast_maximum(mx.nd.array([0]), mx.nd.array([[1], [-2]]), axis=1)
    assert out.asnumpy().tolist() == [[1], [0]]
    assert mx.nd.broadcast_minimum(mx.nd.array([0]), mx.nd.array([1, -2]), bogus=3).asnumpy().tolist() == [0, -2]


def test_relu_gradient_is_nan_at_nan_as_mxnet():
    x = mx.nd.array([np.nan, -1.0, 0.0, 2.0])
    x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.relu(x)
    y.backward()
    grad = x.grad.asnumpy()
    assert np.isnan(grad[0]) and grad[1:].tolist() == [0.0, 0.0, 1.0]


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int32"])
def test_relu_forward_on_every_path(dtype):
    """float32/float64 through the activation kernel (NaN at NaN, as MXNet), the other types and strided views
    through np.maximum; both against NumPy."""
    values = np.array([np.nan, -1.5, -0.0, 0.0, 2.5, 7.0, -3.0, 1e6])
    x = values[1:] if dtype == "int32" else values
    data = mx.nd.array(x, dtype=dtype)
    want = np.maximum(x.astype(dtype), 0)
    np.testing.assert_array_equal(mx.nd.relu(data).asnumpy(), want)
    big = np.random.default_rng(0).standard_normal(1 << 16).astype(dtype)  # the kernel's threaded build
    np.testing.assert_array_equal(mx.nd.relu(mx.nd.array(big, dtype=dtype)).asnumpy(), np.maximum(big, 0))
    np.testing.assert_array_equal(mx.nd.relu(mx.nd.array(x, dtype=dtype)[::2]).asnumpy(), want[::2])


def test_gamma_gradients_at_the_poles_as_mxnet():
    """MXNet 1.9.1 printed these float32 gradients: its psi gives the largest double at 0, -1, -2, ..."""
    x = mx.nd.array([0.0, -1.0, -2.5, 1.0, 2.0])
    want = {"gamma": [np.inf, np.nan, -1.0428237, -0.5772157, 0.42278433],
            "gammaln": [np.inf, np.inf, 1.1031568, -0.5772157, 0.42278433]}
    for name, grad in want.items():
        x.attach_grad()
        with mx.autograd.record():
            y = getattr(mx.nd, name)(x)
        y.backward()
        np.testing.assert_allclose(x.grad.asnumpy(), grad, rtol=1e-6)


@pytest.mark.parametrize("args, dtype, expected", [
    # printed by MXNet 1.9.1: start and step are cast to the output type before start + i * step
    ((1.3, 10.0, 1.3), "int32", [1, 2, 3, 4, 5, 6, 7]),
    ((0.5, 5.9, 1.7), "int32", [0, 1, 2, 3]),
    ((-3.7, 5.0, 2.6), "int64", [-3, -1, 1, 3]),
    ((300.0, 0.0, -50.0), "uint8", [44, 250, 200, 150, 100, 50]),
    ((-100.0, -97.0, 1.0), "uint8", [156, 157, 158]),
])
def test_arange_in_the_output_type_as_mxnet(args, dtype, expected):
    assert mx.nd.arange(*args, dtype=dtype).asnumpy().tolist() == expected


def test_arange_float32_rounds_as_mxnet():
    # MXNet 1.9.1's float32 arange(1.3, 456.6, 1.3) equals float32(1.3) + float32(1.3) * i in float32
    got = mx.nd.arange(1.3, 456.6, 1.3, dtype="float32").asnumpy()
    np.testing.assert_array_equal(got, np.float32(1.3) + np.float32(1.3) * np.arange(351, dtype=np.float32))


@pytest.mark.parametrize("name", ["degrees", "radians"])
def test_second_order_gradient_of_a_linear_unary_op_is_zero(name):
    # MXNet 1.9.1's test_higher_order_grad.test_radians: the second gradient exists and is zeros
    x = mx.nd.array([1.0, 2.0], dtype="float64")
    x.attach_grad()
    with mx.autograd.record():
        y = getattr(mx.nd, name)(x)
        first, = mx.autograd.grad(y, [x], create_graph=True, retain_graph=True)
    second, = mx.autograd.grad(first, [x])
    scale = 180 / np.pi if name == "degrees" else np.pi / 180
    np.testing.assert_allclose(first.asnumpy(), [scale] * 2)
    assert second.asnumpy().tolist() == [0.0, 0.0]


@pytest.mark.parametrize("make", [
    lambda a, b: mx.sym.broadcast_mod(a, b), lambda a, b: a % b, lambda a, b: a % 3])
def test_integer_mod_gradients_are_zero_as_mxnet(make):
    """MXNet 1.9.1 (printed there): mod's gradients are 0 in integer types, 1 and -floor(a/b) in floating ones."""
    a, b = mx.sym.var("a"), mx.sym.var("b")
    sym = make(mx.sym.cast(a, dtype="int32"), mx.sym.cast(b, dtype="int32"))
    names = sym.list_arguments()
    grads = {n: mx.nd.ones((3,)) for n in names}
    args = {"a": mx.nd.array([5, 7, 9]), "b": mx.nd.array([2, 3, 4])}
    exe = sym.bind(mx.cpu(), {n: args[n] for n in names}, args_grad=grads)
    exe.forward(is_train=True)
    exe.backward(mx.nd.array([1.0, 2.0, 3.0]))
    assert all(g.asnumpy().tolist() == [0, 0, 0] for g in grads.values())
    floats = make(a, b)
    exe = floats.bind(mx.cpu(), {n: args[n] for n in names}, args_grad={n: mx.nd.zeros((3,)) for n in names})
    exe.forward(is_train=True)
    exe.backward(mx.nd.array([1.0, 2.0, 3.0]))
    assert exe.grad_dict["a"].asnumpy().tolist() == [1, 2, 3]
    if "b" in names:
        assert exe.grad_dict["b"].asnumpy().tolist() == [-2, -4, -6]
