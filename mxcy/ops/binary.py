"""Binary elementwise operators: broadcast_*, elemwise_* and the *_scalar forms.

One table row per operation gives its NumPy ufunc and its gradient; the three op flavours are
generated from it. OPERATOR_OPS says which of them Python operators and mx.nd's add/maximum/... run.
"""
from typing import NamedTuple

import numpy as np

from . import _gpu, registry
from ._helpers import broadcast_shape, ufunc_compute
from .partial_shape import same_shape
from .registry import OpDef, Param, zero_gradients

__all__ = ["unbroadcast", "OperatorOps", "OPERATOR_OPS", "legacy_name"]


def unbroadcast(F, grad, shape):
    """Sum `grad` over the axes along which an input of `shape` was broadcast."""
    if grad.shape == tuple(shape):
        return grad
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, n in enumerate(shape)
                                     if n == 1 and grad.shape[i + lead] != 1)
    return F.reshape(F.sum(grad, axis=axes, keepdims=True), shape=shape)


def _log(F, a):
    return F.log(a) if hasattr(a, "shape") else float(np.log(a))


def _mod(a, b):
    """MXNet's mod: the sign of the divisor, and 0 where the divisor is 0."""
    with np.errstate(all="ignore"):
        r = np.mod(a, b)
    return np.where(np.asarray(b) == 0, 0, r)


def _pow(a, b):
    with np.errstate(all="ignore"):
        return np.power(a, b)


def _float_only(partial):
    """MXNet's mod gradients (mod_grad, mod_rgrad) are 0 for integer types and `partial` for floating ones."""
    return lambda F, a, b, y, g: F.zeros_like(g) if np.dtype(y.dtype).kind in "iub" else partial(F, a, b, y, g)


# name -> (NumPy function, d/da, d/db, emits fp warnings); each partial is (F, a, b, out, og) -> array
_ARITH = {
    "add": (np.add, lambda F, a, b, y, g: g, lambda F, a, b, y, g: g, False),
    "sub": (np.subtract, lambda F, a, b, y, g: g, lambda F, a, b, y, g: F.negative(g), False),
    "mul": (np.multiply, lambda F, a, b, y, g: g * b, lambda F, a, b, y, g: g * a, False),
    "div": (np.divide, lambda F, a, b, y, g: g / b, lambda F, a, b, y, g: F.negative(g) * a / (b * b), True),
    "mod": (_mod, _float_only(lambda F, a, b, y, g: g),
            _float_only(lambda F, a, b, y, g: F.negative(g) * F.floor(a / b)), False),
    "power": (_pow, lambda F, a, b, y, g: g * b * a ** (b - 1), lambda F, a, b, y, g: g * y * _log(F, a), False),
    "maximum": (np.maximum, lambda F, a, b, y, g: g * (a >= b), lambda F, a, b, y, g: g * (a < b), False),
    "minimum": (np.minimum, lambda F, a, b, y, g: g * (a <= b), lambda F, a, b, y, g: g * (a > b), False),
    "hypot": (np.hypot, lambda F, a, b, y, g: g * a / y, lambda F, a, b, y, g: g * b / y, True),
}
_LOGIC = {
    "equal": np.equal, "not_equal": np.not_equal, "greater": np.greater,
    "greater_equal": np.greater_equal, "lesser": np.less, "lesser_equal": np.less_equal,
    "logical_and": np.logical_and, "logical_or": np.logical_or, "logical_xor": np.logical_xor,
}


def _broadcast_infer(attrs, shapes):
    return shapes, [broadcast_shape(shapes[0], shapes[1])]


def _binary_gradient(grad):
    d_lhs, d_rhs = grad

    def gradient(F, attrs, inputs, outputs, ograds):
        a, b = inputs
        y, g = outputs[0], ograds[0]
        return [unbroadcast(F, d_lhs(F, a, b, y, g), a.shape),
                unbroadcast(F, d_rhs(F, a, b, y, g), b.shape)]
    return gradient



def _scalar_gradient(grad, reverse):
    """Gradient of x op s (or s op x when `reverse`) from the binary rule with b a scalar."""
    partial = grad[1] if reverse else grad[0]

    def gradient(F, attrs, inputs, outputs, ograds):
        x, s = inputs[0], attrs["scalar"]
        a, b = (s, x) if reverse else (x, s)
        return [partial(F, a, b, outputs[0], ograds[0])]
    return gradient


_SCALAR = Param("scalar", "float", 1.0, "scalar input value")


class OperatorOps(NamedTuple):
    """The ops one binary operation runs as, by what its operands are."""
    arrays: str         # two NDArrays (broadcasting)
    scalar: str         # an array, then a scalar
    rscalar: str        # a scalar, then an array
    symbols: str        # two Symbols: MXNet's legacy same-shape op, whose lowercased name names the node


# The one table of Python operators (NDArray's and Symbol's) and mx.nd's module functions (add, maximum,
# greater, ...). A Symbol with a scalar runs the scalar op under its legacy name (legacy_name), as MXNet's
# Symbol does: `a + 1` is node _plusscalar0.
OPERATOR_OPS = {
    "add": OperatorOps("broadcast_add", "_plus_scalar", "_plus_scalar", "_Plus"),
    "subtract": OperatorOps("broadcast_sub", "_minus_scalar", "_rminus_scalar", "_Minus"),
    "multiply": OperatorOps("broadcast_mul", "_mul_scalar", "_mul_scalar", "_Mul"),
    "divide": OperatorOps("broadcast_div", "_div_scalar", "_rdiv_scalar", "_Div"),
    "modulo": OperatorOps("broadcast_mod", "_mod_scalar", "_rmod_scalar", "_Mod"),
    "power": OperatorOps("broadcast_power", "_power_scalar", "_rpower_scalar", "_Power"),
    "maximum": OperatorOps("broadcast_maximum", "_maximum_scalar", "_maximum_scalar", "_Maximum"),
    "minimum": OperatorOps("broadcast_minimum", "_minimum_scalar", "_minimum_scalar", "_Minimum"),
    "equal": OperatorOps("broadcast_equal", "_equal_scalar", "_equal_scalar", "_equal"),
    "not_equal": OperatorOps("broadcast_not_equal", "_not_equal_scalar", "_not_equal_scalar", "_not_equal"),
    "greater": OperatorOps("broadcast_greater", "_greater_scalar", "_lesser_scalar", "_greater"),
    "greater_equal": OperatorOps("broadcast_greater_equal", "_greater_equal_scalar", "_lesser_equal_scalar",
                                 "_greater_equal"),
    "lesser": OperatorOps("broadcast_lesser", "_lesser_scalar", "_greater_scalar", "_lesser"),
    "lesser_equal": OperatorOps("broadcast_lesser_equal", "_lesser_equal_scalar", "_greater_equal_scalar",
                                "_lesser_equal"),
    "logical_and": OperatorOps("broadcast_logical_and", "_logical_and_scalar", "_logical_and_scalar",
                               "_logical_and"),
    "logical_or": OperatorOps("broadcast_logical_or", "_logical_or_scalar", "_logical_or_scalar", "_logical_or"),
    "logical_xor": OperatorOps("broadcast_logical_xor", "_logical_xor_scalar", "_logical_xor_scalar",
                               "_logical_xor"),
}

# (array-first, scalar-first) scalar ops registered with each binary op (by its _ARITH/_LOGIC name); the
# scalar-first one only where it is an op of its own (not the array-first op of the mirrored comparison).
_ARRAY_FIRST = {row.scalar for row in OPERATOR_OPS.values()}
_SCALAR_OPS = {row.arrays[len("broadcast_"):]: (row.scalar, row.rscalar if row.rscalar not in _ARRAY_FIRST else None)
               for row in OPERATOR_OPS.values()}


def _register_pair(name, fn, grad, quiet_fp, logic):
    compute = {"cpu": ufunc_compute(fn, quiet_fp), "gpu": _gpu.binary(name)}
    # The gradients of sums and differences need shapes only (OpDef.grad_reads).
    reads = ((), ()) if name in ("add", "sub") else None
    b_grad = zero_gradients if logic else _binary_gradient(grad)
    doc = f"Elementwise {name} of two arrays"
    registry.register(OpDef(f"broadcast_{name}", arguments=("lhs", "rhs"), elementwise=True, grad_reads=reads,
                            infer_shape=_broadcast_infer, compute=compute, gradient=b_grad,
                            doc=doc + " with broadcasting.", ignores_unknown_args=True,
                            aliases=("broadcast_plus",) if name == "add" else
                            ("broadcast_minus",) if name == "sub" else ()))
    if name in ("add", "sub", "mul", "div"):
        aliases = {"add": ("_add", "_plus", "_Plus"), "sub": ("_sub", "_minus", "_Minus"),
                   "mul": ("_mul", "_Mul"), "div": ("_div", "_Div")}[name]
        registry.register(OpDef(f"elemwise_{name}", arguments=("lhs", "rhs"), aliases=aliases, elementwise=True,
                                grad_reads=reads,
                                infer_shape=same_shape, partial_shapes=True, compute=compute, gradient=b_grad,
                                doc=doc + " of equal shapes."))
    elif name in ("power", "maximum", "minimum", "hypot", "mod") or logic:
        internal = {"power": "_power", "maximum": "_maximum", "minimum": "_minimum",
                    "hypot": "_hypot", "mod": "_mod"}.get(name, f"_{name}")
        registry.register(OpDef(internal, arguments=("lhs", "rhs"), infer_shape=same_shape, partial_shapes=True,
                                elementwise=True,
                                aliases=_camel_alias(internal),
                                compute=compute, gradient=b_grad, doc=doc + " of equal shapes."))
    scalar_names = _SCALAR_OPS.get(name, (f"_{name}_scalar", None))
    for scalar_name, reverse in ((scalar_names[0], False), (scalar_names[1], True)):
        if scalar_name is None:
            continue
        if reverse:
            def sfn(x, s, _fn=fn):
                return _fn(s, x)
        else:
            def sfn(x, s, _fn=fn):
                return _fn(x, s)
        registry.register(OpDef(
            scalar_name, params=(_SCALAR,), elementwise=True, infer_shape=same_shape, partial_shapes=True,
            aliases=_camel_alias(scalar_name), grad_reads=reads,
            compute={"cpu": _scalar_compute(sfn, None if quiet_fp or not isinstance(fn, np.ufunc) else fn, reverse),
                     "gpu": _gpu.scalar(name, reverse)},
            gradient=zero_gradients if logic else _scalar_gradient(grad, reverse),
            doc=f"Elementwise {name} of an array and a scalar" + (" (scalar first)." if reverse else ".")))


# MXNet's legacy CamelCase names (what Symbol's operators call: a + 1 is _PlusScalar).
_CAMEL = {"_plus_scalar": "_PlusScalar", "_minus_scalar": "_MinusScalar", "_rminus_scalar": "_RMinusScalar",
          "_mul_scalar": "_MulScalar", "_div_scalar": "_DivScalar", "_rdiv_scalar": "_RDivScalar",
          "_mod": "_Mod", "_mod_scalar": "_ModScalar", "_rmod_scalar": "_RModScalar", "_power": "_Power",
          "_power_scalar": "_PowerScalar", "_rpower_scalar": "_RPowerScalar", "_maximum": "_Maximum",
          "_minimum": "_Minimum", "_maximum_scalar": "_MaximumScalar", "_minimum_scalar": "_MinimumScalar",
          "_hypot": "_Hypot", "_hypot_scalar": "_HypotScalar"}


def legacy_name(name):
    """MXNet's legacy CamelCase name of a registered op, or the name itself when it has none."""
    return _CAMEL.get(name, name)


def _camel_alias(name):
    return (_CAMEL[name],) if name in _CAMEL else ()


def _scalar_compute(sfn, ufunc, reverse):
    """`ufunc` (None: none) writes a float array's result straight into the output, warning on floating-point
    errors as the array-array op does; other cases compute quietly in the array's dtype and store."""
    from ._helpers import store
    from ..kernels.common import REQ_WRITE

    def compute(attrs, inputs, outputs, reqs):
        x = inputs[0]
        if ufunc is not None and reqs[0] == REQ_WRITE and x.dtype.kind == "f":
            if reverse:
                ufunc(attrs["scalar"], x, out=outputs[0], casting="unsafe")
            else:
                ufunc(x, attrs["scalar"], out=outputs[0], casting="unsafe")
            return
        # The scalar takes the array's dtype first, as MXNet computes in DType.
        s = x.dtype.type(attrs["scalar"]) if x.dtype.kind != "f" else attrs["scalar"]
        with np.errstate(all="ignore"):
            if reqs[0] == REQ_WRITE:
                r = sfn(x, s)
                np.copyto(outputs[0], r, casting="unsafe")
            else:
                store(outputs[0], sfn(x, s), reqs[0])
    return compute


for _name, (_fn, _d_lhs, _d_rhs, _quiet) in _ARITH.items():
    _register_pair(_name, _fn, (_d_lhs, _d_rhs), _quiet, logic=False)
for _name, _fn in _LOGIC.items():
    _register_pair(_name, _fn, None, False, logic=True)
