"""MXNet's module-level binary functions (mx.nd.add, maximum, greater, ...): NDArray or scalar on
either side, dispatched to the ops that ops/binary.OPERATOR_OPS names."""
import operator

from ..base import MXNetError, numeric_types
from ..ops import registry
from ..ops.binary import OPERATOR_OPS
from ..ops.invoke import invoke
from .ndarray import NDArray

# What two numbers give (MXNet's functions accept scalars on both sides too).
_PYTHON = {
    "add": operator.add, "subtract": operator.sub, "multiply": operator.mul, "divide": operator.truediv,
    "modulo": operator.mod, "power": operator.pow, "maximum": max, "minimum": min,
    "equal": operator.eq, "not_equal": operator.ne, "greater": operator.gt, "greater_equal": operator.ge,
    "lesser": operator.lt, "lesser_equal": operator.le,
    "logical_and": lambda a, b: float(bool(a) and bool(b)),
    "logical_or": lambda a, b: float(bool(a) or bool(b)),
    "logical_xor": lambda a, b: float(bool(a) != bool(b)),
}
_ALIASES = {"true_divide": "divide"}
__all__ = list(OPERATOR_OPS) + list(_ALIASES)


def _make(name, ops, scalar_fn):
    array_op, left_op, right_op = ops.arrays, ops.scalar, ops.rscalar

    def fn(lhs, rhs):
        if isinstance(lhs, NDArray) and isinstance(rhs, NDArray):
            return invoke(registry.get(array_op), [lhs, rhs], {})[0]
        if isinstance(lhs, NDArray) and isinstance(rhs, numeric_types):
            return invoke(registry.get(left_op), [lhs], {"scalar": float(rhs)})[0]
        if isinstance(rhs, NDArray) and isinstance(lhs, numeric_types):
            return invoke(registry.get(right_op), [rhs], {"scalar": float(lhs)})[0]
        if isinstance(lhs, numeric_types) and isinstance(rhs, numeric_types):
            return scalar_fn(lhs, rhs)
        raise MXNetError(f"{name}: operands must be NDArrays or numbers, got "
                         f"{type(lhs).__name__} and {type(rhs).__name__}")
    fn.__name__ = name
    fn.__doc__ = (f"{name}(lhs, rhs): element-wise {name} with broadcasting; either side may be a "
                  f"scalar (uses {array_op}, {left_op} or {right_op}).")
    return fn


globals().update({name: _make(name, OPERATOR_OPS[name], _PYTHON[name]) for name in OPERATOR_OPS})
globals().update({alias: _make(alias, OPERATOR_OPS[name], _PYTHON[name]) for alias, name in _ALIASES.items()})
_power = power


def power(base, exp):
    """power(base, exp): element-wise base ** exp with broadcasting; either side may be a scalar (MXNet names
    this function's operands base and exp)."""
    return _power(base, exp)
