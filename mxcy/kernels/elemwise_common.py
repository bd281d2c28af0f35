"""Scalar formulas of the elementwise ops as inlined njit functions that CUDA kernels call, keyed by op name.
Importing it does not import numba.cuda; results follow NumPy/MXNet semantics and the kernel's store casts
them to the output dtype."""
import math

import numba

_scalar = numba.njit(inline="always", nogil=True, error_model="numpy")

# Floats at least this large in magnitude (and inf, nan) are already whole numbers for rounding.
_WHOLE = 4503599627370496.0  # 2**52


@_scalar
def _floor(x):
    return float(math.floor(x)) if abs(x) < _WHOLE else x


@_scalar
def _ceil(x):
    return float(math.ceil(x)) if abs(x) < _WHOLE else x


@_scalar
def _trunc(x):
    return float(math.trunc(x)) if abs(x) < _WHOLE else x


@_scalar
def _rint(x):
    # Nearest whole number, ties to even (np.rint).
    if not abs(x) < _WHOLE:
        return x
    f = float(math.floor(x))
    d = x - f
    return f + 1.0 if d > 0.5 or (d == 0.5 and f % 2.0 != 0.0) else f


@_scalar
def _round(x):
    # Nearest whole number, ties away from zero (MXNet's round, std::round).
    a = abs(x)
    if not a < _WHOLE:
        return x
    f = float(math.floor(a))
    return math.copysign(f + 1.0 if a - f >= 0.5 else f, x)


@_scalar
def _sign(x):
    if x > 0:
        return 1
    if x < 0:
        return -1
    return x  # 0 and nan


@_scalar
def _cbrt(x):
    # Real cube root: pow on |x| and one Newton step (exact on perfect cubes).
    y = math.copysign(abs(x) ** (1.0 / 3.0), x)
    if y != 0.0 and abs(y) < math.inf:
        y -= (y * y * y - x) / (3.0 * y * y)
    return y


@_scalar
def _relu(x):
    return 0 if x < 0 else x  # keeps nan, as np.maximum(x, 0)


@_scalar
def _sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


# op name -> f(x); erfinv and _digamma have no scalar formula here and stay CPU-only.
UNARY_FUNCS = {
    "abs": _scalar(lambda x: abs(x)),
    "sign": _sign,
    "negative": _scalar(lambda x: -x),
    "ceil": _ceil,
    "floor": _floor,
    "trunc": _trunc,
    "fix": _trunc,
    "rint": _rint,
    "round": _round,
    "exp": _scalar(lambda x: math.exp(x)),
    "expm1": _scalar(lambda x: math.expm1(x)),
    "log": _scalar(lambda x: math.log(x)),
    "log10": _scalar(lambda x: math.log10(x)),
    "log2": _scalar(lambda x: math.log2(x)),
    "log1p": _scalar(lambda x: math.log1p(x)),
    "sqrt": _scalar(lambda x: math.sqrt(x)),
    "rsqrt": _scalar(lambda x: 1.0 / math.sqrt(x)),
    "cbrt": _cbrt,
    "rcbrt": _scalar(lambda x: 1.0 / _cbrt(x)),
    "square": _scalar(lambda x: x * x),
    "reciprocal": _scalar(lambda x: 1.0 / x),
    "sin": _scalar(lambda x: math.sin(x)),
    "cos": _scalar(lambda x: math.cos(x)),
    "tan": _scalar(lambda x: math.tan(x)),
    "arcsin": _scalar(lambda x: math.asin(x)),
    "arccos": _scalar(lambda x: math.acos(x)),
    "arctan": _scalar(lambda x: math.atan(x)),
    "sinh": _scalar(lambda x: math.sinh(x)),
    "cosh": _scalar(lambda x: math.cosh(x)),
    "tanh": _scalar(lambda x: math.tanh(x)),
    "arcsinh": _scalar(lambda x: math.asinh(x)),
    "arccosh": _scalar(lambda x: math.acosh(x)),
    "arctanh": _scalar(lambda x: math.atanh(x)),
    "degrees": _scalar(lambda x: math.degrees(x)),
    "radians": _scalar(lambda x: math.radians(x)),
    "sigmoid": _sigmoid,
    "relu": _relu,
    "softsign": _scalar(lambda x: x / (1.0 + abs(x))),
    "erf": _scalar(lambda x: math.erf(x)),
    "gamma": _scalar(lambda x: math.gamma(x)),
    "gammaln": _scalar(lambda x: math.lgamma(x)),
    "logical_not": _scalar(lambda x: 1 if x == 0 else 0),
}


@_scalar
def _mod(a, b):
    # MXNet's mod: the sign of the divisor, and 0 where the divisor is 0.
    return 0 if b == 0 else a % b


@_scalar
def _maximum(a, b):
    return a if a >= b or a != a else b  # nan in either input gives nan, as np.maximum


@_scalar
def _minimum(a, b):
    return a if a <= b or a != a else b


# op name (the X of broadcast_X) -> f(a, b); comparisons and logical ops give 0/1.
BINARY_FUNCS = {
    "add": _scalar(lambda a, b: a + b),
    "sub": _scalar(lambda a, b: a - b),
    "mul": _scalar(lambda a, b: a * b),
    "div": _scalar(lambda a, b: a / b),
    "mod": _mod,
    "power": _scalar(lambda a, b: a ** b),
    "maximum": _maximum,
    "minimum": _minimum,
    "hypot": _scalar(lambda a, b: math.hypot(a, b)),
    "equal": _scalar(lambda a, b: 1 if a == b else 0),
    "not_equal": _scalar(lambda a, b: 1 if a != b else 0),
    "greater": _scalar(lambda a, b: 1 if a > b else 0),
    "greater_equal": _scalar(lambda a, b: 1 if a >= b else 0),
    "lesser": _scalar(lambda a, b: 1 if a < b else 0),
    "lesser_equal": _scalar(lambda a, b: 1 if a <= b else 0),
    "logical_and": _scalar(lambda a, b: 1 if a != 0 and b != 0 else 0),
    "logical_or": _scalar(lambda a, b: 1 if a != 0 or b != 0 else 0),
    "logical_xor": _scalar(lambda a, b: 1 if (a != 0) != (b != 0) else 0),
}
