"""CUDA element-wise kernels of the unary ops without a formula in elemwise_common: erfinv and digamma (numba's
CUDA math has neither; both in float64, SciPy's special values) and _fill_nan (NaN -> a parameter).
Flat arrays, grid-stride, out[i] (req)= f(x[i], param) cast to out's dtype."""
import math

import numba
from numba import cuda

from .common import REQ_NULL, assign
from .launch import grid_1d

_scalar = numba.njit(inline="always", nogil=True, error_model="numpy")
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_ERFINV_STEPS = 4  # enough from the polynomials' start, even 1e-16 from |x| = 1
_WHOLE = 2.0 ** 52  # floats at least this large in magnitude are whole numbers (math.floor would overflow)
_POLE = 1.7976931348623157e308  # what MXNet's psi gives at 0, -1, -2, ... (inf once stored in float32)
_DIGAMMA_SERIES_FROM = 10.0  # the asymptotic series is exact to double precision from here on


@_scalar
def erfinv(x, param):
    """The y with erf(y) = x: Giles' single-precision polynomials ("Approximating the erfinv function", 2010)
    and Newton steps, from |x| = 0.5 on on log(erfc(y)) = log(1 - |x|): erfc keeps the digits erf loses near
    1, and the log is near linear in y, so far tails (where the polynomials are rough) converge as fast."""
    a = abs(x)
    if not a < 1.0:
        return math.copysign(math.inf, x) if a == 1.0 else math.nan
    w = -math.log((1.0 - a) * (1.0 + a))
    if w < 5.0:
        w -= 2.5
        p = 2.81022636e-08
        p = 3.43273939e-07 + p * w
        p = -3.5233877e-06 + p * w
        p = -4.39150654e-06 + p * w
        p = 0.00021858087 + p * w
        p = -0.00125372503 + p * w
        p = -0.00417768164 + p * w
        p = 0.246640727 + p * w
        p = 1.50140941 + p * w
    else:
        w = math.sqrt(w) - 3.0
        p = -0.000200214257
        p = 0.000100950558 + p * w
        p = 0.00134934322 + p * w
        p = -0.00367342844 + p * w
        p = 0.00573950773 + p * w
        p = -0.0076224613 + p * w
        p = 0.00943887047 + p * w
        p = 1.00167406 + p * w
        p = 2.83297682 + p * w
    y = p * a
    for _ in range(_ERFINV_STEPS):
        slope = _TWO_OVER_SQRT_PI * math.exp(-y * y)
        if a < 0.5:
            y -= (math.erf(y) - a) / slope
        else:
            tail = math.erfc(y)
            y += (math.log(tail) - math.log(1.0 - a)) * tail / slope
    return math.copysign(y, x)


@_scalar
def digamma(x, param):
    """psi(x): reflection psi(x) = psi(1 - x) - pi / tan(pi x) far left of 0, the recurrence
    psi(x) = psi(x + 1) - 1 / x up to 10 (exact steps near the poles), then the asymptotic series."""
    if x <= 0.0 and (x <= -_WHOLE or x == float(math.floor(x))):  # the poles (and -inf): MXNet's largest double
        return _POLE
    result = 0.0
    if x < -_DIGAMMA_SERIES_FROM:
        # tan has period pi: use the nearest-integer remainder, exact, so that tan keeps its digits.
        result = -math.pi / math.tan(math.pi * (x - float(math.floor(x + 0.5))))
        x = 1.0 - x
    while x < _DIGAMMA_SERIES_FROM:
        result -= 1.0 / x
        x += 1.0
    f = 1.0 / (x * x)
    tail = f * (-1.0 / 12 + f * (1.0 / 120 + f * (-1.0 / 252 + f * (1.0 / 240 + f * (
        -1.0 / 132 + f * (691.0 / 32760 + f * (-1.0 / 12)))))))
    return result + math.log(x) - 0.5 / x + tail


@_scalar
def fill_nan(x, param):
    return param if x != x else x


def _make_kernel(f):
    def _unary_param_kernel(x, out, param, req):
        i = cuda.grid(1)
        while i < out.size:
            out[i] = assign(out[i], f(x[i], param), req)
            i += cuda.gridsize(1)
    return _unary_param_kernel


FUNCS = {"erfinv": erfinv, "_digamma": digamma, "_fill_nan": fill_nan}
_PY = {name: _make_kernel(f) for name, f in FUNCS.items()}
_KERNELS = {name: cuda.jit(fn) for name, fn in _PY.items()}
PTX_CHECKS = [(fn, f"void({t}[::1], {t}[::1], {t}, int64)") for fn in _PY.values() for t in ("float32", "float64")]


def unary_param_gpu(name, x, out, req, param=0.0, stream=0):
    """out (req)= FUNCS[name](x, param) element-wise on C-contiguous device arrays of one shape; param is cast to
    x's dtype (the NaN replacement of _fill_nan, unused by the others)."""
    if req == REQ_NULL or out.size == 0:
        return
    blocks, threads = grid_1d(out.size)
    _KERNELS[name][blocks, threads, stream](x.reshape(x.size), out.reshape(out.size), x.dtype.type(param), req)
