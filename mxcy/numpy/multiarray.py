"""mx.np.ndarray: an NDArray with NumPy's array semantics (0-d results, NumPy reshape and dtype rules), and the
operator dispatch that mx.np's binary functions share. Every value is computed by registered operators."""
import functools

import numpy as _onp

from .. import ndarray as nd
from ..base import np_dtype, numeric_types
from ..ndarray.ndarray import NDArray, _check_inplace
from ..ops import registry
from ..ops.binary import OPERATOR_OPS
from ..ops.invoke import invoke
from ..util import _NumpyShapeWithin

__all__ = ["ndarray"]

# Python operators and mx.np functions whose results are booleans in MXNet's NumPy interface.
_COMPARISONS = frozenset(("equal", "not_equal", "greater", "greater_equal", "lesser", "lesser_equal"))


def as_np(array):
    """`array` (an mx.nd array the caller just made) as an mx.np ndarray: the same object, its class changed, so
    that autograd and the engine keep seeing the one array."""
    if type(array) is NDArray:
        array.__class__ = ndarray
    return array


def np_results(result, inputs=()):
    """`result` (an array or a list/tuple of arrays) with every NDArray the call made as an mx.np ndarray;
    arrays among `inputs` (the caller's own, e.g. an `out=` array) are handed back as they are."""
    if isinstance(result, (list, tuple)):
        return type(result)(np_results(r, inputs) for r in result)
    if isinstance(result, NDArray) and not any(result is x for x in inputs):
        return as_np(result)
    return result


def np_function(func):
    """Decorator for mx.np functions: run `func` with NumPy shape semantics on in this thread (the legacy
    operators it calls then keep 0-d and zero-size shapes) and return NumPy arrays."""
    @functools.wraps(func)
    def wrapped(*args, **kwargs):
        with _NumpyShapeWithin():
            result = func(*args, **kwargs)
        given = [x for arg in (*args, *kwargs.values())
                 for x in (arg if isinstance(arg, (list, tuple)) else (arg,))]
        return np_results(result, given)
    return wrapped


def into(result, out):
    """`result`, or `out` with `result` copied into it when the caller gave one."""
    if out is None:
        return result
    if not isinstance(out, NDArray):
        raise TypeError(f"out must be an mx.np.ndarray, got {type(out).__name__}")
    return result.copyto(out)


def cast(array, dtype):
    """`array` in `dtype` (itself when it already is)."""
    if array._data.dtype == dtype:
        return array
    return invoke(registry.get("Cast"), [array], {"dtype": _onp.dtype(dtype).name})[0]


def result_type(dtype1, dtype2):
    """MXNet's NumPy type promotion of two arrays: a floating type wins over an integer one whatever their
    sizes (int32 with float16 is float16), otherwise NumPy's promotion."""
    dtype1, dtype2 = _onp.dtype(dtype1), _onp.dtype(dtype2)
    if dtype1 == dtype2:
        return dtype1
    float1, float2 = dtype1.kind == "f", dtype2.kind == "f"
    if float1 != float2:
        return dtype1 if float1 else dtype2
    return _onp.result_type(dtype1, dtype2)


def _scalar_operands(name, array, scalar):
    """(array, scalar) as MXNet's NumPy scalar operators see them: an integer array takes the scalar in its own
    type (1.5 counts as 1), true division of integers runs in float32, arithmetic on booleans in int64."""
    kind = array._data.dtype.kind
    if name == "divide" and kind in "iub":
        return cast(array, _onp.float32), scalar
    if kind == "b" and name not in _COMPARISONS:
        array, kind = cast(array, _onp.int64), "i"
    if kind in "iu":
        scalar = int(scalar)
    return array, scalar


def binary(name, x1, x2, out=None):
    """x1 (name) x2, the operation an OPERATOR_OPS row names, for mx.np arrays and numbers (broadcasting);
    comparisons give booleans."""
    row = OPERATOR_OPS[name]
    if isinstance(x1, NDArray) and isinstance(x2, NDArray):
        dtype = result_type(x1.dtype, x2.dtype)
        if name == "divide" and dtype.kind in "iub":
            dtype = _onp.dtype(_onp.float32)
        result = invoke(registry.get(row.arrays), [cast(x1, dtype), cast(x2, dtype)], {})[0]
    elif isinstance(x1, NDArray) or isinstance(x2, NDArray):
        array, scalar = (x1, x2) if isinstance(x1, NDArray) else (x2, x1)
        if not isinstance(scalar, numeric_types):
            raise TypeError(f"{name}: type {type(scalar)} not supported with an mx.np.ndarray")
        array, scalar = _scalar_operands(name, array, scalar)
        op = row.scalar if isinstance(x1, NDArray) else row.rscalar
        result = invoke(registry.get(op), [array], {"scalar": float(scalar)})[0]
    else:
        raise TypeError(f"{name}: operands must be mx.np.ndarrays or numbers, got {type(x1).__name__} and "
                        f"{type(x2).__name__}")
    if name in _COMPARISONS:
        result = cast(result, _onp.bool_)
    return into(as_np(result), out)


def _operator(name, python_name):
    """The Python operator method `__<python_name>__` running `binary(name, ...)` (r...: reflected, i...: in
    place): mx.np arrays and numbers only (a legacy NDArray or a NumPy array on the other side is a TypeError, as in
    MXNet)."""
    reverse, inplace = python_name[0] == "r", python_name[0] == "i"

    def method(self, other):
        if isinstance(other, NDArray) and not isinstance(other, ndarray):
            raise TypeError(f"type {type(other)} not supported: convert mx.nd arrays with as_np_ndarray()")
        if not isinstance(other, (ndarray, *numeric_types)):
            raise TypeError(f"type {type(other)} not supported")
        with _NumpyShapeWithin():
            if inplace:
                _check_inplace(self)
                return binary(name, self, other, out=self)
            return binary(name, other, self) if reverse else binary(name, self, other)
    method.__name__ = f"__{python_name}__"
    return method


def _is_mask(key):
    return isinstance(key, NDArray) and key._data.dtype == _onp.bool_


def _mask_positions(key):
    """`key` with each boolean array inside a tuple replaced by its nonzero() index arrays (NumPy's rule)."""
    if isinstance(key, tuple) and any(_is_mask(k) for k in key):
        return tuple(i for k in key for i in (_op.nonzero(k) if _is_mask(k) else (k,)))
    return key


def _masked(array, mask):
    """array[mask] for a boolean mask over array's leading axes: the selected entries in order (a 0-d mask adds an
    axis of length 1 or 0). How many there are depends on the mask, so contrib.boolean_mask finds them on the
    host."""
    if mask.ndim == 0:
        return _op.expand_dims(array, 0)[:1 if mask.item() else 0]
    if mask.shape != array.shape[:mask.ndim]:
        raise IndexError(f"boolean index of shape {mask.shape} does not match the array's leading dimensions "
                         f"{array.shape[:mask.ndim]}")
    return nd.contrib.boolean_mask(_op.reshape(array, (-1,) + array.shape[mask.ndim:]), _op.reshape(mask, (-1,)))


def _refused(name):
    """A legacy NDArray method that MXNet's NumPy arrays refuse (the mx.np or npx function is the way)."""
    def method(self, *args, **kwargs):
        raise AttributeError(f"mxnet.numpy.ndarray object has no attribute {name}")
    method.__name__ = name
    return method


# NDArray methods MXNet 1.9.1's mx.np.ndarray raises AttributeError for.
_REFUSED = (
    "asscalar reshape_like zeros_like ones_like broadcast_axes pad split split_v2 slice slice_axis slice_like "
    "one_hot pick topk argmax_channel abs sign shape_array size_array expand_dims tile flip depth_to_space "
    "space_to_depth diag nansum nanprod norm rint fix floor ceil trunc sin cos tan arcsin arccos arctan degrees "
    "radians sinh cosh tanh arcsinh arccosh arctanh exp expm1 log log10 log2 log1p sqrt rsqrt cbrt rcbrt square "
    "reciprocal relu sigmoid softmax log_softmax softmin broadcast_like tostype").split()


class ndarray(NDArray):
    """An array with NumPy's semantics (MXNet's mx.np.ndarray): full reductions and integer indexing give 0-d
    arrays, reshape is NumPy's, operators follow MXNet's NumPy dtype rules and give mx.np arrays."""
    __slots__ = ()

    @property
    def dtype(self):
        return self._data.dtype

    @property
    def T(self):
        return _op.transpose(self)

    @property
    def grad(self):
        return as_np(self._grad) if self._grad is not None else None

    def __len__(self):
        if not self._data.shape:
            raise TypeError("len() of unsized object")
        return self._data.shape[0]

    def __iter__(self):
        if not self._data.shape:
            raise TypeError("iteration over a 0-d array")
        return super().__iter__()

    def __bool__(self):
        if self.size == 0:
            raise ValueError("The truth value of an empty array is ambiguous")
        if self.size > 1:
            raise ValueError("The truth value of an ndarray with more than one element is ambiguous.")
        return bool(self.item())

    def __float__(self):
        return float(self._scalar("float"))

    def __int__(self):
        return int(self._scalar("int"))

    def _scalar(self, what):
        if self.size != 1:
            raise TypeError(f"only size-1 arrays can be converted to Python {what}s, got shape {self.shape}")
        return self.item()

    def __repr__(self):
        values = self.asnumpy()
        text = "array(" + _onp.array2string(values, separator=", ", prefix="array(")
        if values.dtype != _onp.float32:
            text += f", dtype={values.dtype.name}"
        if self._ctx.device_type != "cpu":
            text += f", ctx={self._ctx}"
        return text + ")"

    def __str__(self):
        return str(self.asnumpy())

    def __format__(self, format_spec):
        if self.ndim == 0:
            return format(self.item(), format_spec)
        if format_spec:
            raise TypeError("Cannot format mxnet.numpy.ndarray with format_spec")
        return str(self)

    def __getitem__(self, key):
        with _NumpyShapeWithin():
            if _is_mask(key):
                return as_np(_masked(self, key))
            return as_np(super().__getitem__(_mask_positions(key)))

    def __setitem__(self, key, value):
        if isinstance(value, (list, tuple)):
            value = _onp.asarray(value, dtype=self._data.dtype)
        with _NumpyShapeWithin():
            if _is_mask(key):
                key, value = slice(None), _op.where(_op.broadcast_to(
                    _op.reshape(key, key.shape + (1,) * (self.ndim - key.ndim)), self.shape), value, self)
            super().__setitem__(_mask_positions(key), value)

    __hash__ = NDArray.__hash__  # the comparison operators set below return arrays

    def __floordiv__(self, other):
        return NotImplemented  # MXNet 1.9.1's NumPy arrays have no floor division

    __rfloordiv__ = __ifloordiv__ = __floordiv__

    def __neg__(self):
        return _op.negative(self)

    def __abs__(self):
        return _op.absolute(self)

    def __matmul__(self, other):
        return _op.matmul(self, other)

    def __rmatmul__(self, other):
        return _op.matmul(other, self)

    # --- conversion ------------------------------------------------------------------------------
    def item(self, *args):
        """Element `args` (none: the only element) as a Python scalar."""
        return self.asnumpy().item(*args)

    def tolist(self):
        return self.asnumpy().tolist()

    def as_nd_ndarray(self):
        """A legacy mx.nd NDArray sharing this array's memory and autograd state."""
        return self._shallow_copy(NDArray)

    def as_np_ndarray(self):
        return self

    def detach(self):
        return ndarray(self._data, self._ctx, self._var)

    def attach_grad(self, grad_req="write"):  # noqa: D102 - MXNet's np arrays take no stype
        super().attach_grad(grad_req)

    def astype(self, dtype, order="K", casting="unsafe", subok=True, copy=True):  # noqa: ARG002 - NumPy's
        """This array in `dtype` (a copy, or itself when `copy` is false and nothing changes)."""
        if order not in ("K", "C") or casting != "unsafe" or not subok:
            raise NotImplementedError(f"astype: only order='K'/'C', casting='unsafe' and subok=True are supported, got "
                             f"order={order!r}, casting={casting!r}, subok={subok!r}")
        dtype = np_dtype(dtype, "astype")
        if not copy and dtype == self._data.dtype:
            return self
        return as_np(invoke(registry.get("Cast"), [self], {"dtype": dtype.name})[0])

    def copy(self, order="C"):
        if order != "C":
            raise NotImplementedError(f"copy: only C order is supported, got {order!r}")
        return as_np(super().copy())

    def copyto(self, other):
        return np_results(super().copyto(other), (other,))

    def as_in_context(self, context):
        return as_np(super().as_in_context(context))

    def as_in_ctx(self, ctx):
        return self.as_in_context(ctx)

    def reshape(self, *args, **kwargs):
        """NumPy's reshape (one -1 at most), as separate ints or a tuple; only C order."""
        order = kwargs.pop("order", "C")
        if kwargs:
            raise TypeError(f"reshape: {sorted(kwargs)} are invalid keyword arguments (only order)")
        if not args:
            raise TypeError("reshape() takes exactly 1 argument (0 given)")
        return _op.reshape(self, args[0] if len(args) == 1 else args, order=order)

    def reshape_view(self, *shape, **kwargs):
        """The legacy NDArray reshape (MXNet's special codes), as a view."""
        return as_np(super().reshape(*shape, **kwargs))

    # --- methods that are mx.np functions on this array -----------------------------------------------
    def sum(self, axis=None, dtype=None, out=None, keepdims=False):
        return _op.sum(self, axis=axis, dtype=dtype, out=out, keepdims=keepdims)

    def prod(self, axis=None, dtype=None, out=None, keepdims=False):
        return _op.prod(self, axis=axis, dtype=dtype, out=out, keepdims=keepdims)

    def mean(self, axis=None, dtype=None, out=None, keepdims=False):
        return _op.mean(self, axis=axis, dtype=dtype, out=out, keepdims=keepdims)

    def std(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
        return _op.std(self, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims)

    def var(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
        return _op.var(self, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims)

    def max(self, axis=None, out=None, keepdims=False):
        return _op.max(self, axis=axis, out=out, keepdims=keepdims)

    def min(self, axis=None, out=None, keepdims=False):
        return _op.min(self, axis=axis, out=out, keepdims=keepdims)

    def all(self, axis=None, out=None, keepdims=False):
        return _op.all(self, axis=axis, out=out, keepdims=keepdims)

    def any(self, axis=None, out=None, keepdims=False):
        return _op.any(self, axis=axis, out=out, keepdims=keepdims)

    def argmax(self, axis=None, out=None):
        return _op.argmax(self, axis=axis, out=out)

    def argmin(self, axis=None, out=None):
        return _op.argmin(self, axis=axis, out=out)

    def cumsum(self, axis=None, dtype=None, out=None):
        return _op.cumsum(self, axis=axis, dtype=dtype, out=out)

    def transpose(self, *axes):
        if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (list, tuple))):
            axes = axes[0]
        return _op.transpose(self, axes or None)

    def swapaxes(self, axis1, axis2):
        return _op.swapaxes(self, axis1, axis2)

    def flatten(self, order="C"):
        return _op.ravel(self, order)

    def squeeze(self, axis=None):
        return _op.squeeze(self, axis)

    def broadcast_to(self, shape):
        return _op.broadcast_to(self, shape)

    def repeat(self, repeats, axis=None):
        return _op.repeat(self, repeats, axis)

    def take(self, indices, axis=None, mode="raise"):
        return _op.take(self, indices, axis, mode)

    def sort(self, axis=-1, kind=None, order=None):
        return _op.sort(self, axis, kind, order)

    def argsort(self, axis=-1, kind=None, order=None):
        return _op.argsort(self, axis, kind, order)

    def clip(self, min=None, max=None, out=None):  # noqa: A002 - MXNet's argument names
        return _op.clip(self, min, max, out)

    def round(self, decimals=0, out=None, **kwargs):
        return _op.around(self, decimals, out, **kwargs)

    def dot(self, b, out=None):
        return _op.dot(self, b, out)

    def nonzero(self):
        return _op.nonzero(self)


# OPERATOR_OPS row -> the Python operators running it (r...: reflected, i...: in place)
_PYTHON_OPERATORS = {
    "add": "add radd iadd", "subtract": "sub rsub isub", "multiply": "mul rmul imul",
    "divide": "truediv rtruediv itruediv", "modulo": "mod rmod imod", "power": "pow rpow", "equal": "eq",
    "not_equal": "ne", "greater": "gt", "greater_equal": "ge", "lesser": "lt", "lesser_equal": "le",
}
for _row, _names in _PYTHON_OPERATORS.items():
    for _name in _names.split():
        setattr(ndarray, f"__{_name}__", _operator(_row, _name))
for _name in _REFUSED:
    setattr(ndarray, _name, _refused(_name))

from . import _op  # noqa: E402 - the functions the methods above call import this module
