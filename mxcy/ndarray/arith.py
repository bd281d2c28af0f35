"""MXNet's module-level binary functions (mx.nd.add, maximum, greater, ...): NDArray or scalar on
either side, dispatched to the broadcast_* op or the matching *_scalar op."""
import operator

from ..base import MXNetError, numeric_types
from ..ops import registry
from ..ops.invoke import invoke
from .ndarray import NDArray

# name -> (array op, scalar op with the array on the left, with the array on the right, Python op)
_TABLE = {
    "add": ("broadcast_add", "_plus_scalar", "_plus_scalar", operator.add),
    "subtract": ("broadcast_sub", "_minus_scalar", "_rminus_scalar", operator.sub),
    "multiply": ("broadcast_mul", "_mul_scalar", "_mul_scalar", operator.mul),
    "divide": ("broadcast_div", "_div_scalar", "_rdiv_scalar", operator.truediv),
    "true_divide": ("broadcast_div", "_div_scalar", "_rdiv_scalar", operator.truediv),
    "modulo": ("broadcast_mod", "_mod_scalar", "_rmod_scalar", operator.mod),
    "power": ("broadcast_power", "_power_scalar", "_rpower_scalar", operator.pow),
    "maximum": ("broadcast_maximum", "_maximum_scalar", "_maximum_scalar", max),
    "minimum": ("broadcast_minimum", "_minimum_scalar", "_minimum_scalar", min),
    "equal": ("broadcast_equal", "_equal_scalar", "_equal_scalar", operator.eq),
    "not_equal": ("broadcast_not_equal", "_not_equal_scalar", "_not_equal_scalar", operator.ne),
    "greater": ("broadcast_greater", "_greater_scalar", "_lesser_scalar", operator.gt),
    "greater_equal": ("broadcast_greater_equal", "_greater_equal_scalar", "_lesser_equal_scalar",
                      operator.ge),
    "lesser": ("broadcast_lesser", "_lesser_scalar", "_greater_scalar", operator.lt),
    "lesser_equal": ("broadcast_lesser_equal", "_lesser_equal_scalar", "_greater_equal_scalar",
                     operator.le),
    "logical_and": ("broadcast_logical_and", "_logical_and_scalar", "_logical_and_scalar",
                    lambda a, b: float(bool(a) and bool(b))),
    "logical_or": ("broadcast_logical_or", "_logical_or_scalar", "_logical_or_scalar",
                   lambda a, b: float(bool(a) or bool(b))),
    "logical_xor": ("broadcast_logical_xor", "_logical_xor_scalar", "_logical_xor_scalar",
                    lambda a, b: float(bool(a) != bool(b))),
}
__all__ = list(_TABLE)


def _make(name, array_op, left_op, right_op, scalar_fn):
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


globals().update({name: _make(name, *row) for name, row in _TABLE.items()})
