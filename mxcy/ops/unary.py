"""Unary elementwise operators (exp, log, relu, sigmoid, round, ...), one table row each.

Each row: NumPy forward, gradient from (F, x, y, og) using registered ops, and whether the forward
emits floating-point warnings that MXNet would not. On a GPU: ops/_gpu's kernels, and kernels.unary_gpu for
erfinv and _digamma, whose formulas CUDA's math library lacks.
"""
import math

import numpy as np
from scipy.special import digamma as _digamma, erf as _erf, erfinv as _erfinv
from scipy.special import gamma as _gamma, gammaln as _lgamma

from . import _gpu, registry
from ._helpers import store, ufunc_compute
from ._nn_common import kernels, passing_through, run_activation, widening
from .partial_shape import same_shape
from .registry import OpDef, zero_gradients


def _round_half_away(x):
    """MXNet's round: halves go away from zero (std::round), unlike NumPy's half-to-even."""
    return np.copysign(np.floor(np.abs(x) + 0.5), x)


def _mxnet_digamma(x):
    """psi(x) with MXNet's value at the poles (0, -1, -2, ..., -inf): the largest double (inf in float32), where
    SciPy gives -inf or nan; gamma's and gammaln's gradients at the poles follow from it."""
    poles = (x <= 0) & (np.floor(x) == x)
    return np.where(poles, np.finfo(np.float64).max, _digamma(x))


def _sigmoid(x):
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-x))


def _softsign(x):
    return x / (1 + np.abs(x))


def _relu(x):
    return np.maximum(x, 0)


def _rsqrt(x):
    with np.errstate(all="ignore"):
        return 1 / np.sqrt(x)


def _rcbrt(x):
    with np.errstate(all="ignore"):
        return 1 / np.cbrt(x)


def _reciprocal(x):
    with np.errstate(all="ignore"):
        return 1 / x




_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)
_ZERO = zero_gradients  # piecewise-constant functions: no gradient flows

# name -> (forward, gradient(F, x, y, og), emits fp warnings, aliases)
_UNARY = {
    "abs": (np.abs, lambda F, x, y, g: g * F.sign(x), False, ()),
    "sign": (np.sign, _ZERO, False, ()),
    "negative": (np.negative, lambda F, x, y, g: F.negative(g), False, ()),
    "ceil": (np.ceil, _ZERO, False, ()),
    "floor": (np.floor, _ZERO, False, ()),
    "trunc": (np.trunc, _ZERO, False, ()),
    "fix": (np.trunc, _ZERO, False, ()),
    "rint": (np.rint, _ZERO, False, ()),
    "round": (_round_half_away, _ZERO, False, ()),
    "exp": (np.exp, lambda F, x, y, g: g * y, True, ()),
    "expm1": (np.expm1, lambda F, x, y, g: g * (y + 1), True, ()),
    "log": (np.log, lambda F, x, y, g: g / x, True, ()),
    "log10": (np.log10, lambda F, x, y, g: g / (x * math.log(10)), True, ()),
    "log2": (np.log2, lambda F, x, y, g: g / (x * math.log(2)), True, ()),
    "log1p": (np.log1p, lambda F, x, y, g: g / (x + 1), True, ()),
    "sqrt": (np.sqrt, lambda F, x, y, g: g / (y * 2), True, ()),
    "rsqrt": (_rsqrt, lambda F, x, y, g: g * y * y * y * -0.5, True, ()),
    "cbrt": (np.cbrt, lambda F, x, y, g: g / (y * y * 3), True, ()),
    "rcbrt": (_rcbrt, lambda F, x, y, g: g * y / (x * -3), True, ()),
    "square": (np.square, lambda F, x, y, g: g * x * 2, False, ()),
    "reciprocal": (_reciprocal, lambda F, x, y, g: F.negative(g) * y * y, True, ()),
    "sin": (np.sin, lambda F, x, y, g: g * F.cos(x), True, ()),
    "cos": (np.cos, lambda F, x, y, g: F.negative(g) * F.sin(x), True, ()),
    "tan": (np.tan, lambda F, x, y, g: g * (y * y + 1), True, ()),
    "arcsin": (np.arcsin, lambda F, x, y, g: g * F.rsqrt(1 - x * x), True, ()),
    "arccos": (np.arccos, lambda F, x, y, g: F.negative(g) * F.rsqrt(1 - x * x), True, ()),
    "arctan": (np.arctan, lambda F, x, y, g: g / (x * x + 1), True, ()),
    "sinh": (np.sinh, lambda F, x, y, g: g * F.cosh(x), True, ()),
    "cosh": (np.cosh, lambda F, x, y, g: g * F.sinh(x), True, ()),
    "tanh": (np.tanh, lambda F, x, y, g: g * (1 - y * y), False, ()),
    "arcsinh": (np.arcsinh, lambda F, x, y, g: g * F.rsqrt(x * x + 1), True, ()),
    "arccosh": (np.arccosh, lambda F, x, y, g: g * F.rsqrt(x * x - 1), True, ()),
    "arctanh": (np.arctanh, lambda F, x, y, g: g / (1 - x * x), True, ()),
    # g * ones_like(x): the gradient reads x as MXNet's backward op does, so a second-order gradient is zeros
    "degrees": (np.degrees, lambda F, x, y, g: g * F.ones_like(x) * (180 / math.pi), False, ()),
    "radians": (np.radians, lambda F, x, y, g: g * F.ones_like(x) * (math.pi / 180), False, ()),
    "sigmoid": (_sigmoid, lambda F, x, y, g: g * y * (1 - y), False, ()),
    "relu": (_relu, lambda F, x, y, g: F._backward_relu(g, y), False, ()),  # nan at nan, as MXNet
    "softsign": (_softsign, lambda F, x, y, g: g / F.square(F.abs(x) + 1), False, ()),
    "erf": (_erf, lambda F, x, y, g: g * F.exp(F.negative(x * x)) * _TWO_OVER_SQRT_PI, False, ()),
    "erfinv": (_erfinv, lambda F, x, y, g: g * F.exp(y * y) * (1 / _TWO_OVER_SQRT_PI), True, ()),
    "gamma": (_gamma, lambda F, x, y, g: g * y * F._digamma(x), True, ()),
    "gammaln": (_lgamma, lambda F, x, y, g: g * F._digamma(x), True, ()),
    "_digamma": (_mxnet_digamma, None, True, ()),
    "logical_not": (lambda x: np.logical_not(x), _ZERO, False, ()),
    "_copy": (np.positive, lambda F, x, y, g: g, False, ("identity",)),
    "BlockGrad": (np.positive, _ZERO, False, ("stop_gradient",)),
    "zeros_like": (np.zeros_like, _ZERO, False, ()),
    "ones_like": (np.ones_like, _ZERO, False, ()),
}


def _own_formula_gpu(name):
    """{"gpu": compute} for the unary ops with CUDA formulas of their own (kernels.unary_gpu), else {}."""
    if name not in ("erfinv", "_digamma"):
        return {}

    def compute(attrs, inputs, outputs, reqs):
        kernels("unary_gpu").unary_param_gpu(name, inputs[0], outputs[0], reqs[0])
    return {"gpu": widening(compute)}


def _relu_kernel(attrs, inputs, outputs, reqs):
    run_activation(inputs, outputs, reqs, "relu_nan", 0.0)


def _relu_cpu():
    """relu's CPU compute: float32 and float64 C-contiguous arrays through the activation kernel's NaN-passing ReLU
    (threaded and vectorised: 0.3-0.6 ms for 4 M floats, where np.maximum took 3.3 ms on one thread), other arrays
    through np.maximum (the table's forward). Graph replays take the kernel call directly (`direct`)."""
    general = ufunc_compute(_relu)
    direct = passing_through(_relu_kernel)

    def compute(attrs, inputs, outputs, reqs):
        (direct(inputs, outputs, reqs) or general)(attrs, inputs, outputs, reqs)
    compute.direct = direct
    return compute


# Rows whose CPU compute is a kernel of ours rather than their NumPy forward.
_KERNEL_CPU = {"relu": _relu_cpu()}


def _gradient(rule):
    def gradient(F, attrs, inputs, outputs, ograds):
        return [rule(F, inputs[0], outputs[0], ograds[0])]
    return gradient


for _name, (_fwd, _rule, _quiet, _aliases) in _UNARY.items():
    registry.register(OpDef(
        _name, aliases=_aliases, elementwise=True, infer_shape=same_shape, partial_shapes=True,
        compute={"cpu": _KERNEL_CPU.get(_name) or ufunc_compute(_fwd, _quiet), **_gpu.unary_entries(_name),
                 **_own_formula_gpu(_name)},
        gradient=_rule if _rule is zero_gradients else _gradient(_rule) if _rule is not None else None,
        doc=f"Returns element-wise {_name.strip('_')} of the input."))


def _identity_like_rhs_gradient(F, attrs, inputs, outputs, ograds):
    return [ograds[0], F.zeros_like(inputs[1])]


registry.register(OpDef(
    "_identity_with_attr_like_rhs", arguments=("lhs", "rhs"), infer_shape=same_shape, partial_shapes=True,
    compute={"cpu": lambda attrs, inputs, outputs, reqs: store(outputs[0], inputs[0], reqs[0]), "gpu": _gpu.copy},
    gradient=_identity_like_rhs_gradient, grad_reads=((), ()),
    doc="Returns lhs; its shape and dtype are also rhs's, which lets graph inference carry shapes from rhs."))
