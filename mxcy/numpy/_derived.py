"""mx.np functions NumPy defines through other array functions (stacking and splitting variants, differences,
products, windows, tests for nan and inf, ...), written here on mx.np's own functions."""
import builtins
import math

import numpy as _onp

from .. import ndarray as nd
from ..error import MXNetValueError
from ..ndarray.ndarray import NDArray
from ..util import _check_ufunc_kwargs
from . import _op
from ._op import _axis, concatenate, dot, flip, ravel, reshape, split, stack, swapaxes, transpose, where
from .creation import arange, array, full, linspace
from .multiarray import binary, cast, into, np_function
from .stride_tricks import broadcast_arrays

__all__ = ["append", "atleast_1d", "atleast_2d", "atleast_3d", "average", "column_stack", "row_stack", "dstack",
           "hsplit", "vsplit", "dsplit", "fliplr", "flipud", "diff", "ediff1d", "hypot", "arctan2", "ldexp", "isnan",
           "isinf", "isfinite", "isposinf", "isneginf", "logical_not", "invert", "inner", "outer", "vdot",
           "tensordot", "trace", "diagonal", "diag", "diagflat", "roll", "rot90", "logspace", "nan_to_num", "product",
           "sometrue", "may_share_memory", "shares_memory", "resize", "tril", "copysign", "einsum", "blackman",
           "hamming", "hanning", "indices", "unravel_index", "polyval", "diag_indices_from"]

product, sometrue = _op.prod, _op.any


# --- stacking and splitting -----------------------------------------------------------------------
@np_function
def append(arr, values, axis=None):
    """`values` joined after `arr` along `axis` (None: both flattened)."""
    return concatenate([arr, values if isinstance(values, NDArray) else array(values, dtype=arr.dtype,
                                                                              ctx=arr.context)], axis=axis)


def _at_least(arrays, ndim, place):
    lifted = [x if x.ndim >= ndim else reshape(x, place(x.shape)) for x in
              (a if isinstance(a, NDArray) else array(a) for a in arrays)]
    return lifted[0] if len(lifted) == 1 else lifted


@np_function
def atleast_1d(*arys):
    return _at_least(arys, 1, lambda s: (1,))


@np_function
def atleast_2d(*arys):
    return _at_least(arys, 2, lambda s: (1,) + s + (1,) * (1 - len(s)))


@np_function
def atleast_3d(*arys):
    return _at_least(arys, 3, lambda s: (1, 1, 1) if not s else (1,) + s + (1,) if len(s) == 1 else s + (1,))


@np_function
def column_stack(tup):
    return concatenate([x if x.ndim >= 2 else reshape(x, (-1, 1)) for x in tup], axis=1)


row_stack = _op.vstack


@np_function
def dstack(arrays):
    return concatenate([atleast_3d(x) for x in arrays], axis=2)


def _split_along(axis, least):
    def func(ary, indices_or_sections):
        if ary.ndim < least:
            raise MXNetValueError(f"split needs an array of at least {least} dimensions, got shape {ary.shape}")
        return split(ary, indices_or_sections, axis=1 if axis == "h" and ary.ndim > 1 else 0 if axis == "h"
                     else axis)
    return np_function(func)


hsplit, vsplit, dsplit = _split_along("h", 1), _split_along(0, 2), _split_along(2, 3)


@np_function
def fliplr(m):
    return flip(m, 1)


@np_function
def flipud(m):
    return flip(m, 0)


@np_function
def roll(a, shift, axis=None):
    """`a` rotated by `shift` places along `axis` (None: of the flattened array, then reshaped)."""
    if axis is None:
        return reshape(roll(ravel(a), shift, 0), a.shape)
    shifts, axes = (shift, axis) if isinstance(axis, (list, tuple)) else ((shift,), (axis,))
    for s, ax in zip(shifts if isinstance(shifts, (list, tuple)) else (shifts,) * len(axes), axes):
        ax = _axis(ax, a.ndim, "roll")
        n = a.shape[ax]
        if n:
            cut = n - int(s) % n
            a = concatenate([nd.slice_axis(a, axis=ax, begin=cut, end=n), nd.slice_axis(a, axis=ax, begin=0,
                                                                                        end=cut)], ax) \
                if cut % n else a.copy()
    return a


@np_function
def rot90(m, k=1, axes=(0, 1)):
    """`m` rotated k quarter turns in the plane of `axes` (from the first axis towards the second)."""
    first, second = axes
    k %= 4
    if k == 0:
        return m.copy()
    if k == 2:
        return flip(flip(m, first), second)
    return swapaxes(flip(m, second), first, second) if k == 1 else flip(swapaxes(m, first, second), second)


@np_function
def resize(a, new_shape):
    """An array of `new_shape` filled with `a`'s elements repeated in order."""
    shape = (int(new_shape),) if isinstance(new_shape, (int, _onp.integer)) else tuple(new_shape)
    size = int(_onp.prod(shape, dtype=_onp.int64))
    if a.size == 0 or size == 0:
        return full(shape, 0, dtype=a.dtype, ctx=a.context)
    flat = ravel(a)
    copies = -(-size // a.size)
    return reshape(nd.tile(flat, reps=(copies,))[:size], shape)


# --- differences and products --------------------------------------------------------------------------
@np_function
def diff(a, n=1, axis=-1, prepend=None, append=None):  # noqa: A002 - NumPy's argument name
    """The n-th discrete difference along `axis`, after joining `prepend` and `append` there."""
    axis = _axis(axis, a.ndim, "diff")
    parts = [p if isinstance(p, NDArray) else
             full(a.shape[:axis] + (1,) + a.shape[axis + 1:], p, dtype=a.dtype, ctx=a.context)
             for p in (prepend, a, append) if p is not None]
    x = concatenate(parts, axis) if len(parts) > 1 else a
    for _ in range(int(n)):
        length = x.shape[axis]
        if length < 2:
            return full(x.shape[:axis] + (0,) + x.shape[axis + 1:], 0, dtype=x.dtype, ctx=x.context)
        x = binary("subtract", nd.slice_axis(x, axis=axis, begin=1, end=length),
                   nd.slice_axis(x, axis=axis, begin=0, end=length - 1))
    return x


@np_function
def ediff1d(ary, to_end=None, to_begin=None):
    """Differences of the flattened array's neighbours, with `to_begin` and `to_end` joined around them."""
    parts = [diff(ravel(ary))]
    for extra, at in ((to_begin, 0), (to_end, len(parts) + 1)):
        if extra is not None:
            parts.insert(at, ravel(extra if isinstance(extra, NDArray) else array(extra, dtype=ary.dtype,
                                                                                   ctx=ary.context)))
    return concatenate(parts) if len(parts) > 1 else parts[0]


@np_function
def outer(a, b):
    return binary("multiply", reshape(a, (-1, 1)), reshape(b, (1, -1)))


@np_function
def vdot(a, b):
    return dot(ravel(a), ravel(b))


@np_function
def tensordot(a, b, axes=2):
    """Sums of products over `axes` of a and b (an int n: a's last n with b's first n; or two lists)."""
    if isinstance(axes, (int, _onp.integer)):
        axes_a, axes_b = list(range(a.ndim - int(axes), a.ndim)), list(range(int(axes)))
    else:
        axes_a, axes_b = ([x] if isinstance(x, int) else list(x) for x in axes)
    axes_a = [_axis(x, a.ndim, "tensordot") for x in axes_a]
    axes_b = [_axis(x, b.ndim, "tensordot") for x in axes_b]
    if [a.shape[x] for x in axes_a] != [b.shape[x] for x in axes_b]:
        raise MXNetValueError(f"tensordot: shape mismatch for sum over axes {axes_a} of {a.shape} and {axes_b} "
                              f"of {b.shape}")
    free_a = [x for x in range(a.ndim) if x not in axes_a]
    free_b = [x for x in range(b.ndim) if x not in axes_b]
    inner_size = int(_onp.prod([a.shape[x] for x in axes_a], dtype=_onp.int64))
    left = reshape(transpose(a, free_a + axes_a), (-1, inner_size))
    right = reshape(transpose(b, axes_b + free_b), (inner_size, -1))
    return reshape(dot(left, right), tuple(a.shape[x] for x in free_a) + tuple(b.shape[x] for x in free_b))


@np_function
def inner(a, b):
    """Sums of products over the last axes of a and b."""
    if a.ndim == 0 or b.ndim == 0:
        return binary("multiply", a, b)
    return tensordot(a, b, ([a.ndim - 1], [b.ndim - 1]))


@np_function
def einsum(*operands, **kwargs):
    """NumPy's einsum for explicit or implicit subscripts without '...' or an index repeated inside one operand:
    every operand is laid out over all the indices (length 1 where it lacks one), the product is broadcast, and the
    indices not in the output are summed. `out=` may be given; `optimize` is accepted (the order is always this)."""
    out = kwargs.pop("out", None)
    kwargs.pop("optimize", None)
    if kwargs or not operands or not isinstance(operands[0], str):
        raise TypeError(f"einsum: expected a subscripts string and arrays, got {sorted(kwargs)} as extra arguments")
    subscripts, arrays = operands[0].replace(" ", ""), operands[1:]
    inputs, arrow, output = subscripts.partition("->")
    terms = inputs.split(",")
    if "." in subscripts or len(terms) != len(arrays):
        raise NotImplementedError(f"einsum: {subscripts!r} with {len(arrays)} operands: '...' is not supported "
                                  "and each operand needs its subscripts")
    if any(len(set(t)) != len(t) for t in terms):
        raise NotImplementedError(f"einsum: an index repeated inside one operand ({subscripts!r}) is not supported")
    if not arrow:
        output = "".join(sorted(c for c in set(inputs) - {","} if inputs.count(c) == 1))
    order = output + "".join(sorted(set(inputs) - set(output) - {","}))
    sizes = {}
    for term, x in zip(terms, arrays):
        if len(term) != x.ndim:
            raise MXNetValueError(f"einsum: subscripts {term!r} do not fit an operand of shape {x.shape}")
        for c, n in zip(term, x.shape):
            if sizes.setdefault(c, n) != n and 1 not in (sizes[c], n):
                raise MXNetValueError(f"einsum: index {c!r} has lengths {sizes[c]} and {n}")
            sizes[c] = builtins.max(sizes[c], n)
    product = None
    for term, x in zip(terms, arrays):
        laid_out = transpose(x, sorted(range(len(term)), key=lambda k: order.index(term[k])))
        present = sorted(term, key=order.index)
        laid_out = reshape(laid_out, tuple(x.shape[term.index(c)] if c in present else 1 for c in order))
        product = laid_out if product is None else binary("multiply", product, laid_out)
    full_shape = tuple(sizes[c] for c in order)
    if product.shape != full_shape:
        product = _op.broadcast_to(product, full_shape)
    if len(order) > len(output):
        product = _op.sum(product, axis=tuple(range(len(output), len(order))))
    return into(product, out)


@np_function
def average(a, axis=None, weights=None, returned=False, out=None):
    """The mean over `axis`, weighted by `weights` (a's shape, or 1-D along a single axis)."""
    if weights is None:
        result = _op.mean(a, axis=axis)
        total = full(result.shape, a.size // builtins.max(result.size, 1), dtype=result.dtype, ctx=a.context)
    else:
        if weights.shape != a.shape:
            if axis is None or weights.ndim != 1 or weights.shape[0] != a.shape[axis]:
                raise MXNetValueError(f"average: weights of shape {weights.shape} do not fit a of shape {a.shape} "
                                      f"along axis {axis}")
            at = _axis(axis, a.ndim, "average")
            weights = reshape(weights, (1,) * at + weights.shape + (1,) * (a.ndim - at - 1))
        total = _op.sum(_op.broadcast_to(weights, a.shape), axis=axis)
        result = binary("divide", _op.sum(binary("multiply", a, weights), axis=axis), total)
    result = into(result, out)
    return (result, cast(total, result.dtype)) if returned else result


# --- element tests and element-wise functions -----------------------------------------------------------
def _ufunc(name, compute):
    def func(x, out=None, **kwargs):
        _check_ufunc_kwargs(name, kwargs)
        if not isinstance(x, NDArray):
            return getattr(_onp, name)(x)
        return into(compute(x), out)
    func.__name__ = func.__qualname__ = name
    return np_function(func)


def _floats_only(test, integer_answer):
    """An element test that is `integer_answer` everywhere for integer and boolean arrays."""
    return lambda x: test(x) if x.dtype.kind == "f" else full(x.shape, integer_answer, dtype=_onp.bool_,
                                                              ctx=x.context)


isnan = _ufunc("isnan", _floats_only(lambda x: binary("not_equal", x, x), False))
isinf = _ufunc("isinf", _floats_only(lambda x: binary("equal", _op.abs(x), _onp.inf), False))
isfinite = _ufunc("isfinite", _floats_only(lambda x: binary("lesser", _op.abs(x), _onp.inf), True))
isposinf = _ufunc("isposinf", _floats_only(lambda x: binary("equal", x, _onp.inf), False))
isneginf = _ufunc("isneginf", _floats_only(lambda x: binary("equal", x, -_onp.inf), False))
logical_not = _ufunc("logical_not", lambda x: binary("equal", x, 0))
# bitwise NOT: of booleans their negation, of integers -x - 1 (two's complement)
invert = _ufunc("invert", lambda x: binary("equal", x, 0) if x.dtype == _onp.bool_ else
                binary("subtract", _op.negative(x), 1) if x.dtype.kind in "iu" else _not_integer("invert", x))


def _not_integer(name, x):
    raise TypeError(f"ufunc '{name}' not supported for the input type {x.dtype}")


def _binary_ufunc(name, compute):
    def func(x1, x2, out=None, **kwargs):
        _check_ufunc_kwargs(name, kwargs)
        if not isinstance(x1, NDArray) and not isinstance(x2, NDArray):
            return getattr(_onp, name)(x1, x2)
        return into(compute(x1, x2), out)
    func.__name__ = func.__qualname__ = name
    return np_function(func)


hypot = _binary_ufunc("hypot", lambda x1, x2: _op.sqrt(binary("add", binary("multiply", x1, x1),
                                                                binary("multiply", x2, x2))))
ldexp = _binary_ufunc("ldexp", lambda x1, x2: binary(
    "multiply", x1, 2.0 ** x2 if not isinstance(x2, NDArray) else
    binary("power", 2.0, x2 if x2.dtype.kind == "f" else cast(x2, _onp.float32))))


def _negative_sign(x):
    """Where x's sign bit is set (-0.0 included, found by 1/x = -inf)."""
    if x.dtype.kind != "f":
        return binary("lesser", x, 0)
    return binary("lesser", binary("add", x, _op.reciprocal(x)), 0)


copysign = _binary_ufunc("copysign", lambda x1, x2: binary(
    "multiply", _op.abs(x1 if isinstance(x1, NDArray) else full((), x1, ctx=x2.context)),
    where(_negative_sign(x2 if isinstance(x2, NDArray) else full((), float(x2), ctx=x1.context)), -1.0, 1.0)))


def _arctan2(y, x):
    """atan(y / x) moved into the quadrant of (x, y): +-pi where x < 0, +-pi/2 (0 at the origin) where x = 0."""
    y, x = (v if isinstance(v, NDArray) else full((), v, ctx=(x if isinstance(x, NDArray) else y).context)
            for v in (y, x))
    base = _op.arctan(binary("divide", y, where(binary("equal", x, 0), 1.0, x)))
    half_turn = where(binary("greater_equal", y, 0), math.pi, -math.pi)
    on_axis = binary("multiply", _op.sign(y), math.pi / 2)
    return where(binary("greater", x, 0), base,
                 where(binary("lesser", x, 0), binary("add", base, half_turn), on_axis))


arctan2 = _binary_ufunc("arctan2", _arctan2)


@np_function
def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None, **kwargs):
    """`x` with NaN replaced by `nan` and infinities by `posinf`/`neginf` (default: the type's extremes); with
    copy=False the array itself is written."""
    if kwargs:
        raise TypeError(f"nan_to_num: unexpected arguments {sorted(kwargs)}")
    if x.dtype.kind != "f":
        return x.copy() if copy else x
    limits = _onp.finfo(x.dtype)
    result = where(isnan(x), nan, x)
    result = where(isposinf(x), limits.max if posinf is None else posinf, result)
    result = cast(where(isneginf(x), limits.min if neginf is None else neginf, result), x.dtype)
    return result if copy else result.copyto(x)


# --- diagonals and grids -------------------------------------------------------------------------------
@np_function
def diagonal(a, offset=0, axis1=0, axis2=1):
    return nd.diag(a, k=offset, axis1=axis1, axis2=axis2)


@np_function
def diag(array, k=0):  # noqa: A002 - MXNet's argument name
    """The k-th diagonal of a 2-D array, or a 2-D array with a 1-D one on its k-th diagonal."""
    if array.ndim not in (1, 2):
        raise MXNetValueError(f"diag: input must be 1- or 2-d, got shape {array.shape}")
    return nd.diag(array, k=k)


@np_function
def diagflat(array, k=0):  # noqa: A002 - MXNet's argument name
    return nd.diag(ravel(array), k=k)


def _triangle_mask(m, k, lower):
    """True on and below (lower) or on and above diagonal k of m's last two axes."""
    rows = reshape(arange(m.shape[-2], dtype=_onp.int64, ctx=m.context), (-1, 1))
    cols = reshape(arange(m.shape[-1], dtype=_onp.int64, ctx=m.context), (1, -1))
    offsets = binary("subtract", cols, rows)
    return binary("lesser_equal", offsets, k) if lower else binary("greater_equal", offsets, k)


@np_function
def tril(m, k=0):
    """m with the elements above diagonal k of its last two axes set to zero (a 1-D m is taken as a row)."""
    if m.ndim < 2:
        m = _op.broadcast_to(m, (m.shape[0],) * 2) if m.ndim == 1 else m
    return where(_triangle_mask(m, int(k), lower=True), m, 0)


@np_function
def trace(a, offset=0, axis1=0, axis2=1, out=None):
    return into(_op.sum(diagonal(a, offset, axis1, axis2), axis=-1), out)


def diag_indices_from(arr):
    """The indices of the main diagonal of the square array `arr`, one int64 array per axis."""
    if arr.ndim < 2 or len(set(arr.shape)) != 1:
        raise MXNetValueError(f"diag_indices_from: all dimensions of input must be of equal length, got "
                              f"{arr.shape}")
    index = arange(arr.shape[0], dtype=_onp.int64, ctx=arr.context)
    return (index,) * arr.ndim


@np_function
def indices(dimensions, dtype=_onp.int32, ctx=None):
    """The grid of indices of an array of shape `dimensions`: one array per axis, stacked first."""
    dimensions = tuple(dimensions)
    axes = [reshape(arange(d, dtype=dtype, ctx=ctx), (1,) * i + (d,) + (1,) * (len(dimensions) - i - 1))
            for i, d in enumerate(dimensions)]
    return stack(broadcast_arrays(*axes)) if axes else full((0,), 0, dtype=dtype, ctx=ctx)


@np_function
def unravel_index(indices, shape, order="C"):  # noqa: A002 - NumPy's argument name
    """The coordinates (one int64 array per axis of `shape`) of flat `indices`; only C order."""
    if order != "C":
        raise NotImplementedError(f"unravel_index: only C order is supported, got {order!r}")
    flat = indices if isinstance(indices, NDArray) else array(indices, dtype=_onp.int64)
    coordinates = nd.unravel_index(cast(ravel(flat), _onp.float64), shape=tuple(shape))
    return tuple(cast(reshape(coordinates[i], flat.shape), _onp.int64) for i in range(len(shape)))


# --- numbers from formulas -------------------------------------------------------------------------------
@np_function
def logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0, ctx=None):
    """`base` raised to `num` evenly spaced exponents from `start` to `stop`."""
    exponents = linspace(start, stop, num, endpoint=endpoint, axis=axis, ctx=ctx)
    return cast(binary("power", float(base), exponents), dtype or _onp.float32)


def _window(M, dtype, ctx, terms):  # noqa: N803 - NumPy's argument name
    """sum_k c_k cos(2 pi k n / (M - 1)) over n in [0, M): the cosine-sum windows."""
    if M < 1:
        return full((0,), 0, dtype=dtype, ctx=ctx)
    if M == 1:
        return full((1,), 1, dtype=dtype, ctx=ctx)
    phase = binary("multiply", arange(M, dtype=_onp.float64, ctx=ctx), 2 * math.pi / (M - 1))
    total = full((M,), terms[0], dtype=_onp.float64, ctx=ctx)
    for k, c in enumerate(terms[1:], start=1):
        total = binary("add", total, binary("multiply", _op.cos(binary("multiply", phase, float(k))), c))
    return cast(total, dtype)


@np_function
def hanning(M, dtype=_onp.float32, ctx=None):  # noqa: N803 - NumPy's argument name
    return _window(M, dtype, ctx, (0.5, -0.5))


@np_function
def hamming(M, dtype=_onp.float32, ctx=None):  # noqa: N803 - NumPy's argument name
    return _window(M, dtype, ctx, (0.54, -0.46))


@np_function
def blackman(M, dtype=_onp.float32, ctx=None):  # noqa: N803 - NumPy's argument name
    return _window(M, dtype, ctx, (0.42, -0.5, 0.08))


@np_function
def polyval(p, x):
    """The polynomial with coefficients `p` (highest power first) at `x`, by Horner's rule."""
    result = binary("multiply", x, 0) if isinstance(x, NDArray) else 0.0
    for i in range(p.shape[0]):
        result = binary("add", binary("multiply", result, x), p[i]) if isinstance(x, NDArray) or i else p[i]
    return result


# --- memory ---------------------------------------------------------------------------------------------
def _memory_test(a, b, max_work, numpy_test, what):
    """NumPy's `numpy_test` on a and b's host buffers; on a GPU, whether they are views of one buffer."""
    if not (isinstance(a, NDArray) and isinstance(b, NDArray)):
        raise TypeError(f"{what}: both arguments must be mx.np arrays")
    if a.context != b.context:
        return False
    if isinstance(a._data, _onp.ndarray) and isinstance(b._data, _onp.ndarray):
        return bool(numpy_test(a._data, b._data, max_work=max_work))
    return a._var is b._var


def may_share_memory(a, b, max_work=None):
    """Whether a and b's memory ranges overlap."""
    return _memory_test(a, b, max_work, _onp.may_share_memory, "may_share_memory")


def shares_memory(a, b, max_work=None):
    """Whether a and b have an element in common in memory."""
    return _memory_test(a, b, max_work, _onp.shares_memory, "shares_memory")
