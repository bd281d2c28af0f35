"""mx.np's functions on arrays (reshape, reductions, joining, element-wise math, dot, where, ...), each composed of
registered operators through mx.nd, with NumPy's shapes and MXNet 1.9.1's NumPy dtype rules."""
import builtins

import numpy as _onp

from .. import ndarray as nd
from ..base import MXNetError, numeric_types
from ..error import MXNetValueError
from ..ndarray.ndarray import NDArray
from ..util import _check_ufunc_kwargs
from .multiarray import binary, cast, into, np_function, result_type

# NumPy's element-wise functions of one array and the legacy operator each one runs; all keep the input's dtype,
# as MXNet 1.9.1's do (np.exp of int32 is int32).
_UNARY = {
    "exp": "exp", "expm1": "expm1", "log": "log", "log2": "log2", "log10": "log10", "log1p": "log1p",
    "sqrt": "sqrt", "cbrt": "cbrt", "square": "square", "abs": "abs", "absolute": "abs", "fabs": "abs",
    "sign": "sign", "sin": "sin", "cos": "cos", "tan": "tan", "arcsin": "arcsin", "arccos": "arccos",
    "arctan": "arctan", "sinh": "sinh", "cosh": "cosh", "tanh": "tanh", "arcsinh": "arcsinh",
    "arccosh": "arccosh", "arctanh": "arctanh", "floor": "floor", "ceil": "ceil", "trunc": "trunc",
    "rint": "rint", "fix": "fix", "negative": "negative", "reciprocal": "reciprocal", "degrees": "degrees",
    "radians": "radians", "rad2deg": "degrees", "deg2rad": "radians",
}
# NumPy's element-wise functions of two operands and the ops/binary.OPERATOR_OPS row each one runs.
_BINARY = {
    "add": "add", "subtract": "subtract", "multiply": "multiply", "divide": "divide", "true_divide": "divide",
    "mod": "modulo", "remainder": "modulo", "power": "power", "maximum": "maximum", "minimum": "minimum",
    "equal": "equal", "not_equal": "not_equal", "greater": "greater", "greater_equal": "greater_equal",
    "less": "lesser", "less_equal": "lesser_equal",
}

__all__ = sorted([*_UNARY, *_BINARY, "reshape", "transpose", "sum", "mean", "prod", "std", "var", "max", "min",
                  "amax", "amin", "all", "any", "argmax", "argmin", "cumsum", "concatenate", "stack", "split",
                  "array_split", "dot", "matmul", "where", "clip", "squeeze", "expand_dims", "swapaxes",
                  "moveaxis", "ravel", "broadcast_to", "flip", "tile", "repeat", "take", "sort", "argsort",
                  "around", "round", "round_", "copy", "shape", "nonzero", "vstack", "hstack"])


def _unary(name, legacy):
    op = getattr(nd, legacy)

    def func(x, out=None, **kwargs):
        _check_ufunc_kwargs(name, kwargs)
        if isinstance(x, numeric_types):
            return getattr(_onp, name)(x)
        return into(op(x), out)
    func.__name__ = func.__qualname__ = name
    func.__doc__ = f"NumPy's {name} of each element of `x` (the {legacy} operator); the dtype stays."
    return np_function(func)


def _binary(name, row):
    def func(x1, x2, out=None, **kwargs):
        _check_ufunc_kwargs(name, kwargs)
        if isinstance(x1, numeric_types) and isinstance(x2, numeric_types):
            return getattr(_onp, name)(x1, x2)
        return binary(row, x1, x2, out)
    func.__name__ = func.__qualname__ = name
    func.__doc__ = f"NumPy's {name} of `x1` and `x2`, broadcast (arrays or numbers)."
    return np_function(func)


globals().update({name: _unary(name, legacy) for name, legacy in _UNARY.items()})
globals().update({name: _binary(name, row) for name, row in _BINARY.items()})


# --- shapes ---------------------------------------------------------------------------------------
def _shape_tuple(shape):
    return (int(shape),) if isinstance(shape, (int, _onp.integer)) else tuple(int(d) for d in shape)


def _axis(axis, ndim, what):
    if not -ndim <= axis < builtins.max(ndim, 1):
        raise MXNetValueError(f"{what}: axis {axis} is out of bounds for an array of dimension {ndim}")
    return axis % builtins.max(ndim, 1)


def _view(a, shape):
    """`a` with the shape `shape` of as many elements (no special codes): a view, or a Reshape op while
    recording (the legacy reshape's rules); a zero-size result is always a view."""
    if 0 in shape:
        return NDArray(a._data.reshape(shape), a._ctx, a._var)
    return NDArray.reshape(a, shape)


@np_function
def reshape(a, newshape, order="C", out=None):
    """`a` with shape `newshape` (one -1 at most stands for the rest); the size must not change."""
    if order != "C":
        raise NotImplementedError(f"reshape: only C order is supported, got {order!r}")
    shape = _shape_tuple(newshape)
    unknown = [i for i, d in enumerate(shape) if d == -1]
    if len(unknown) > 1 or builtins.any(d < -1 for d in shape):
        raise MXNetError(f"reshape: cannot reshape array of shape {a.shape} into shape {list(shape)}: only one "
                         "dimension may be -1 and none may be below it")
    known = int(_onp.prod([d for d in shape if d != -1], dtype=_onp.int64))
    if unknown:
        if known == 0 or a.size % known:
            raise MXNetError(f"reshape: cannot reshape array of size {a.size} into shape {list(shape)}")
        shape = tuple(a.size // known if d == -1 else d for d in shape)
    elif known != a.size:
        raise MXNetError(f"reshape: cannot reshape array of size {a.size} into shape {list(shape)}")
    return into(_view(a, shape), out)


@np_function
def transpose(a, axes=None):
    """`a` with its axes permuted (reversed by default)."""
    return nd.transpose(a, axes=() if axes is None else tuple(axes))


@np_function
def swapaxes(a, axis1, axis2):
    return nd.swapaxes(a, dim1=axis1, dim2=axis2)


@np_function
def moveaxis(a, source, destination):
    """`a` with axes `source` moved to positions `destination` (ints or sequences), the others in order."""
    source = [_axis(s, a.ndim, "moveaxis") for s in ((source,) if isinstance(source, int) else source)]
    destination = [_axis(d, a.ndim, "moveaxis")
                   for d in ((destination,) if isinstance(destination, int) else destination)]
    if len(source) != len(destination):
        raise MXNetValueError("moveaxis: `source` and `destination` must have the same number of elements")
    order = [i for i in range(a.ndim) if i not in source]
    for d, s in sorted(zip(destination, source)):
        order.insert(d, s)
    return nd.transpose(a, axes=tuple(order))


@np_function
def ravel(x, order="C"):
    return reshape(x, (-1,), order)


@np_function
def squeeze(a, axis=None, out=None):
    """`a` without its length-1 axes (only those in `axis` when given; another length there is an error)."""
    axes = range(a.ndim) if axis is None else [_axis(ax, a.ndim, "squeeze")
                                                for ax in ((axis,) if isinstance(axis, int) else axis)]
    if axis is not None and builtins.any(a.shape[ax] != 1 for ax in axes):
        raise MXNetValueError(f"squeeze: cannot select an axis of length other than one in {axis} of shape "
                              f"{a.shape}")
    return into(_view(a, tuple(d for i, d in enumerate(a.shape) if not (i in axes and d == 1))), out)


@np_function
def expand_dims(a, axis):
    at = _axis(axis, a.ndim + 1, "expand_dims")
    return _view(a, a.shape[:at] + (1,) + a.shape[at:])


@np_function
def broadcast_to(array, shape):
    """`array` broadcast to `shape` by NumPy's rule (leading axes are added)."""
    shape = _shape_tuple(shape)
    if len(shape) < array.ndim:
        raise MXNetValueError(f"broadcast_to: cannot broadcast shape {array.shape} to {shape}")
    lifted = _view(array, (1,) * (len(shape) - array.ndim) + array.shape)
    return nd.broadcast_to(lifted, shape=shape) if shape else lifted.copy()


@np_function
def flip(m, axis=None, out=None):
    axes = tuple(range(m.ndim)) if axis is None else axis
    return into(nd.flip(m, axis=axes), out)


@np_function
def tile(A, reps):  # noqa: N803 - NumPy's argument name
    return nd.tile(A, reps=_shape_tuple(reps))


@np_function
def repeat(a, repeats, axis=None):
    if axis is None:
        a, axis = ravel(a), 0
    return nd.repeat(a, repeats=int(repeats), axis=axis)


def shape(a):
    """The shape of `a`, a tuple."""
    return tuple(a.shape) if hasattr(a, "shape") else _onp.shape(a)


@np_function
def copy(a, out=None):
    return into(a.copy(), out)


# --- reductions -------------------------------------------------------------------------------------
def _reduce(legacy, a, axis, keepdims, out):
    """A legacy reduction over `axis` (None: every axis, to a 0-d array; (): none)."""
    if axis == ():
        return into(a.copy(), out)
    result = getattr(nd, legacy)(a, keepdims=keepdims, **({} if axis is None else {"axis": axis}))
    return into(_reduced_view(result, a, axis, keepdims), out)


def _reduced_view(result, a, axis, keepdims):
    """A legacy reduction's `result` in NumPy's shape (a reduction over every axis is 0-d, not (1,))."""
    axes = range(a.ndim) if axis is None else [_axis(ax, a.ndim, "reduce")
                                               for ax in ((axis,) if isinstance(axis, int) else axis)]
    shape = tuple(1 if i in axes else d for i, d in enumerate(a.shape) if keepdims or i not in axes)
    return result if result.shape == shape else _view(result, shape)


@np_function
def sum(a, axis=None, dtype=None, keepdims=False, initial=None, out=None):  # noqa: A001 - NumPy's name
    """Sum over `axis` (every axis by default); booleans sum as int64, other types keep theirs."""
    a = cast(a, dtype if dtype is not None else _onp.int64 if a.dtype == _onp.bool_ else a.dtype)
    result = _reduce("sum", a, axis, keepdims, None)
    return into(result if initial is None else binary("add", result, initial), out)


@np_function
def prod(a, axis=None, dtype=None, out=None, keepdims=False):
    return _reduce("prod", cast(a, dtype or a.dtype), axis, keepdims, out)


@np_function
def mean(a, axis=None, dtype=None, out=None, keepdims=False):
    """Mean over `axis`; integers and booleans average in float32 (MXNet's default float type)."""
    if dtype is None:
        dtype = a.dtype if a.dtype.kind == "f" else _onp.float32
    return _reduce("mean", cast(a, dtype), axis, keepdims, out)


def _moment(a, axis, dtype, ddof, keepdims):
    """The variance over `axis` with `ddof` degrees of freedom taken off, computed in a floating type."""
    out_type = _onp.dtype(dtype) if dtype is not None else a.dtype
    x = cast(a, out_type if out_type.kind == "f" else _onp.float32)
    deviation = binary("subtract", x, _reduce("mean", x, axis, True, None))
    squares = _reduce("mean", deviation * deviation, axis, keepdims, None)
    axes = range(a.ndim) if axis is None else (axis,) if isinstance(axis, int) else axis
    count = int(_onp.prod([a.shape[ax] for ax in axes], dtype=_onp.int64))
    if ddof:
        squares = binary("multiply", squares, count / builtins.max(count - ddof, 0) if count > ddof else _onp.nan)
    return squares, out_type


@np_function
def var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    """Variance over `axis` (the mean squared deviation, divided by n - ddof instead of n); the input's dtype."""
    squares, out_type = _moment(a, axis, dtype, ddof, keepdims)
    return into(cast(squares, out_type), out)


@np_function
def std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    squares, out_type = _moment(a, axis, dtype, ddof, keepdims)
    return into(cast(nd.sqrt(squares), out_type), out)


@np_function
def max(a, axis=None, keepdims=False, out=None):  # noqa: A001 - NumPy's name
    return _reduce("max", a, axis, keepdims, out)


@np_function
def min(a, axis=None, keepdims=False, out=None):  # noqa: A001 - NumPy's name
    return _reduce("min", a, axis, keepdims, out)


amax, amin = max, min


@np_function
def all(a, axis=None, out=None, keepdims=False):  # noqa: A001 - NumPy's name
    """Whether every element over `axis` is non-zero (booleans)."""
    return into(cast(_reduce("min", binary("not_equal", a, 0), axis, keepdims, None), _onp.bool_), out)


@np_function
def any(a, axis=None, out=None, keepdims=False):  # noqa: A001 - NumPy's name
    """Whether some element over `axis` is non-zero (booleans)."""
    return into(cast(_reduce("max", binary("not_equal", a, 0), axis, keepdims, None), _onp.bool_), out)


def _arg_reduce(legacy, a, axis, out):
    if axis is None:
        a, axis = ravel(a), 0
    result = _reduced_view(getattr(nd, legacy)(a, axis=axis), a, axis, False)
    return into(cast(result, _onp.int64), out)


@np_function
def argmax(a, axis=None, out=None):
    """Index (int64) of the largest element over `axis`, or in the flattened array."""
    return _arg_reduce("argmax", a, axis, out)


@np_function
def argmin(a, axis=None, out=None):
    return _arg_reduce("argmin", a, axis, out)


@np_function
def cumsum(a, axis=None, dtype=None, out=None):
    """Running sum along `axis` (of the flattened array by default)."""
    if axis is None:
        a, axis = ravel(a), 0
    return into(nd.cumsum(a, axis=axis, dtype=dtype), out)


# --- joining and splitting ---------------------------------------------------------------------------
def _common(arrays, what):
    arrays = list(arrays)
    if not arrays:
        raise MXNetValueError(f"{what}: need at least one array")
    dtype = arrays[0].dtype
    for x in arrays[1:]:
        dtype = result_type(dtype, x.dtype)
    return [cast(x, dtype) for x in arrays]


@np_function
def concatenate(seq, axis=0, out=None):
    """The arrays of `seq` joined along `axis` (None: flattened first)."""
    seq = _common(seq, "concatenate")
    if axis is None:
        seq, axis = [ravel(x) for x in seq], 0
    return into(nd.concat(*seq, dim=axis), out)


@np_function
def stack(arrays, axis=0, out=None):
    return into(nd.stack(*_common(arrays, "stack"), axis=axis), out)


@np_function
def vstack(arrays, out=None):
    return concatenate([x if x.ndim >= 2 else reshape(x, (1, -1)) for x in arrays], 0, out)


@np_function
def hstack(arrays):
    arrays = list(arrays)
    return concatenate(arrays, 0 if builtins.all(x.ndim == 1 for x in arrays) else 1)


def _split(ary, indices_or_sections, axis, even):
    axis = _axis(axis, ary.ndim, "split")
    length = ary.shape[axis]
    if isinstance(indices_or_sections, (int, _onp.integer)):
        sections = int(indices_or_sections)
        if sections <= 0:
            raise MXNetValueError(f"split: the number of sections must be positive, got {sections}")
        if even and length % sections:
            raise MXNetValueError(f"split: array split does not result in an equal division ({length} along "
                                  f"axis {axis} into {sections})")
        each, extra = divmod(length, sections)
        bounds = _onp.cumsum([0] + [each + 1] * extra + [each] * (sections - extra)).tolist()
    else:
        bounds = [0] + [builtins.min(builtins.max(int(i), 0), length) for i in indices_or_sections] + [length]
    return [nd.slice_axis(ary, axis=axis, begin=b, end=e) if e > b else
            nd.zeros(ary.shape[:axis] + (0,) + ary.shape[axis + 1:], ctx=ary.context, dtype=ary.dtype)
            for b, e in zip(bounds, bounds[1:])]


@np_function
def split(ary, indices_or_sections, axis=0):
    """`ary` in equal parts along `axis` (an int that must divide its length) or cut at the given indices."""
    return _split(ary, indices_or_sections, axis, even=True)


@np_function
def array_split(ary, indices_or_sections, axis=0):
    """As split, but a number of sections need not divide the length (the first parts get one more)."""
    return _split(ary, indices_or_sections, axis, even=False)


# --- products, selection, sorting ----------------------------------------------------------------------
@np_function
def dot(a, b, out=None):
    """NumPy's dot: products of scalars, vectors, matrices; for N-D arrays the sum over a's last axis and b's
    second-to-last."""
    if not isinstance(a, NDArray) or not isinstance(b, NDArray) or a.ndim == 0 or b.ndim == 0:
        return multiply(a, b, out=out)
    if b.ndim > 2:
        b = moveaxis(b, -2, 0)
    dtype = result_type(a.dtype, b.dtype)
    result = nd.dot(cast(a, dtype), cast(b, dtype))
    return into(_view(result, ()) if a.ndim == b.ndim == 1 else result, out)


@np_function
def matmul(a, b, out=None, **kwargs):
    """NumPy's matmul: matrix products over the last two axes, the leading axes broadcast; 1-D operands are
    treated as a row (a) or column (b) vector and that axis is dropped again."""
    if kwargs:
        raise TypeError(f"matmul: unsupported arguments {sorted(kwargs)}")
    if a.ndim == 0 or b.ndim == 0:
        raise MXNetValueError("matmul: input operand does not have enough dimensions (0-d)")
    left = a if a.ndim > 1 else reshape(a, (1, -1))
    right = b if b.ndim > 1 else reshape(b, (-1, 1))
    if left.ndim == right.ndim == 2:
        result = dot(left, right)
    else:
        batch = _onp.broadcast_shapes(left.shape[:-2], right.shape[:-2])
        left = reshape(broadcast_to(left, batch + left.shape[-2:]), (-1,) + left.shape[-2:])
        right = reshape(broadcast_to(right, batch + right.shape[-2:]), (-1,) + right.shape[-2:])
        dtype = result_type(left.dtype, right.dtype)
        result = reshape(nd.batch_dot(cast(left, dtype), cast(right, dtype)),
                         batch + (left.shape[-2], right.shape[-1]))
    kept = list(result.shape)
    if b.ndim == 1:
        kept.pop(-1)
    if a.ndim == 1:
        kept.pop(-2 if b.ndim > 1 else -1)
    drop = tuple(kept)
    return into(reshape(result, drop) if drop != result.shape else result, out)


@np_function
def where(condition, x=None, y=None):
    """Elements of `x` where `condition` is non-zero, else of `y` (arrays or numbers, broadcast); with neither
    x nor y, the indices of the non-zero elements (nonzero)."""
    if x is None and y is None:
        return nonzero(condition)
    if x is None or y is None:
        raise MXNetValueError("where: either both or neither of x and y should be given")
    like = condition
    arrays = [v for v in (x, y) if isinstance(v, NDArray)]
    dtype = _onp.dtype(_onp.float32) if not arrays else arrays[0].dtype if len(arrays) == 1 else \
        result_type(x.dtype, y.dtype)
    full_shape = _onp.broadcast_shapes(*(v.shape for v in (condition, *arrays)))
    x, y = ((cast(broadcast_to(v, full_shape), dtype) if isinstance(v, NDArray)
             else nd.full(full_shape, v, ctx=like.context, dtype=dtype)) for v in (x, y))
    mask = cast(binary("not_equal", broadcast_to(condition, full_shape), 0), dtype)
    return nd.where(mask, x, y)


@np_function
def nonzero(a):
    """The indices of `a`'s non-zero elements, one int64 array per axis. Their number depends on the values,
    so they are found on the host (NumPy), as MXNet's dynamic-shape operator does on the CPU."""
    return tuple(nd.array(idx, ctx=a.context, dtype=_onp.int64) for idx in _onp.nonzero(a.asnumpy()))


@np_function
def clip(a, a_min, a_max, out=None):
    """`a` limited to [a_min, a_max] (either bound may be None, not both)."""
    if a_min is None and a_max is None:
        raise MXNetValueError("clip: a_min and a_max cannot both be None")
    limits = _onp.finfo(a.dtype) if a.dtype.kind == "f" else _onp.iinfo(a.dtype)
    return into(nd.clip(a, a_min=float(limits.min if a_min is None else a_min),
                        a_max=float(limits.max if a_max is None else a_max)), out)


@np_function
def take(a, indices, axis=None, mode="raise", out=None):
    """Elements of `a` at `indices` along `axis` (of the flattened array by default); mode raise, wrap or clip."""
    if axis is None:
        a, axis = ravel(a), 0
    if not isinstance(indices, NDArray):
        indices = nd.array(_onp.asarray(indices), ctx=a.context, dtype=_onp.int64)
    return into(nd.take(a, indices, axis=axis, mode=mode), out)


def _sorting(legacy, a, axis, order, what, **kwargs):
    if order is not None:
        raise NotImplementedError(f"{what}: order is not supported")
    if axis is None:
        a, axis = ravel(a), 0
    return legacy(a, axis=axis, **kwargs)


@np_function
def sort(a, axis=-1, kind=None, order=None):
    """`a` sorted ascending along `axis` (None: flattened); `kind` is accepted, `order` is not supported."""
    return _sorting(nd.sort, a, axis, order, "sort")


@np_function
def argsort(a, axis=-1, kind=None, order=None):
    """The int64 indices that sort `a` along `axis` (None: flattened)."""
    return _sorting(nd.argsort, a, axis, order, "argsort", dtype="int64")


@np_function
def around(x, decimals=0, out=None, **kwargs):
    """`x` rounded to `decimals` decimals, halves to even as NumPy; integers stay as they are."""
    if kwargs:
        raise TypeError(f"around: unsupported arguments {sorted(kwargs)}")
    if isinstance(x, numeric_types):
        return _onp.around(x, decimals)
    if x.dtype.kind != "f":
        return into(x.copy(), out)
    if decimals == 0:
        return into(nd.rint(x), out)
    scale = 10.0 ** decimals
    return into(binary("divide", nd.rint(binary("multiply", x, scale)), scale), out)


round = round_ = around  # noqa: A001 - NumPy's names
