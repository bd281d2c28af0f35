"""mx.np's order statistics and counts: percentile and quantile (sorted values interpolated), histogram, bincount
and unique."""
import builtins

import numpy as _onp

from .. import ndarray as nd
from ..error import MXNetValueError
from ..ndarray.ndarray import NDArray
from . import _op
from .creation import array
from .multiarray import binary, cast, into, np_function

__all__ = ["percentile", "quantile", "histogram", "bincount", "unique"]

_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantiles(a, q, axis, interpolation, keepdims, what):
    """The q-th quantiles (q in [0, 1]: a number or an array, read on the host as the parameter it is) of `a`
    along `axis`, NumPy's shape: q's dimensions first."""
    if interpolation not in _INTERPOLATIONS:
        raise MXNetValueError(f"{what}: interpolation must be one of {_INTERPOLATIONS}, got {interpolation!r}")
    qs = _onp.asarray(q.asnumpy() if isinstance(q, NDArray) else q, dtype=_onp.float64)
    if qs.size and (qs.min() < 0 or qs.max() > 1):
        raise MXNetValueError(f"{what}: percentiles must be in the range [0, 100] (quantiles in [0, 1])")
    values = cast(a, a.dtype if a.dtype.kind == "f" else _onp.float32)
    if axis is None:
        kept_shape = (1,) * a.ndim
        values, axis = _op.ravel(values), 0
    else:
        axis = _op._axis(axis, a.ndim, what)
        kept_shape = a.shape[:axis] + (1,) + a.shape[axis + 1:]
    ordered = _op.sort(values, axis=axis)
    positions = qs * (ordered.shape[axis] - 1)
    below, above = _onp.floor(positions), _onp.ceil(positions)
    if interpolation == "nearest":
        below = above = _onp.around(positions)
    elif interpolation == "lower":
        above = below
    elif interpolation == "higher":
        below = above

    def picked(index):
        taken = _op.take(ordered, array(index.reshape(-1), dtype=_onp.int64, ctx=a.context), axis=axis)
        return _op.moveaxis(_op.reshape(taken, ordered.shape[:axis] + qs.shape + ordered.shape[axis + 1:]),
                            list(range(axis, axis + qs.ndim)), list(range(qs.ndim)))
    low, high = picked(below), picked(above)
    weight = 0.5 * (above > below) if interpolation == "midpoint" else positions - below
    weight = array(weight.reshape(qs.shape + (1,) * (low.ndim - qs.ndim)), dtype=low.dtype, ctx=a.context)
    result = binary("add", low, binary("multiply", binary("subtract", high, low), weight))
    return _op.reshape(result, qs.shape + kept_shape) if keepdims else result


@np_function
def quantile(a, q, axis=None, out=None, overwrite_input=None, interpolation="linear", keepdims=False):
    """The q-th quantiles (q in [0, 1]) of `a` along `axis` (None: the flattened array)."""
    return into(_quantiles(a, q, axis, interpolation, keepdims, "quantile"), out)


@np_function
def percentile(a, q, axis=None, out=None, overwrite_input=None, interpolation="linear", keepdims=False):
    """The q-th percentiles (q in [0, 100]) of `a` along `axis` (None: the flattened array)."""
    fractions = binary("divide", q, 100.0) if isinstance(q, NDArray) else _onp.asarray(q, dtype=_onp.float64) / 100
    return into(_quantiles(a, fractions, axis, interpolation, keepdims, "percentile"), out)


@np_function
def histogram(a, bins=10, range=None, normed=None, weights=None, density=None):  # noqa: A002 - NumPy's name
    """(counts, bin edges) of `a`'s values in `bins` equal bins over `range` (default: a's min to max)."""
    if normed or weights is not None or density:
        raise NotImplementedError("histogram: normed, weights and density are not supported")
    return tuple(nd.histogram(a, bins=bins, range=range))


@np_function
def bincount(x, weights=None, minlength=0):
    """How often each value 0..max(x) occurs in the non-negative integer array `x` (summing `weights` instead of
    ones when given). The length depends on max(x), which is read from the device."""
    if x.ndim != 1 or x.dtype.kind not in "iu":
        raise MXNetValueError(f"bincount: x must be a 1-D array of non-negative integers, got {x.dtype} of shape "
                              f"{x.shape}")
    if x.size and _op.min(x).item() < 0:
        raise MXNetValueError("bincount: x must not hold negative values")
    length = builtins.max(int(_op.max(x).item()) + 1 if x.size else 0, int(minlength))
    if length == 0:
        return nd.zeros((0,), ctx=x.context, dtype=_onp.int64)
    dtype = _onp.int64 if weights is None else weights.dtype
    hits = nd.one_hot(cast(x, _onp.float32), depth=length, dtype=_onp.dtype(dtype).name)
    if weights is not None:
        hits = binary("multiply", hits, _op.reshape(weights, (-1, 1)))
    return _op.sum(hits, axis=0)


@np_function
def unique(ar, return_index=False, return_inverse=False, return_counts=False, axis=None):
    """NumPy's unique: the sorted distinct values (or rows along `axis`) and, when asked, first indices, inverse
    and counts (int64). How many there are depends on the values, so NumPy finds them on the host."""
    found = _onp.unique(ar.asnumpy(), return_index=return_index, return_inverse=return_inverse,
                        return_counts=return_counts, axis=axis)
    if not isinstance(found, tuple):
        return array(found, dtype=ar.dtype, ctx=ar.context)
    return (array(found[0], dtype=ar.dtype, ctx=ar.context),
            *(array(extra, dtype=_onp.int64, ctx=ar.context) for extra in found[1:]))
