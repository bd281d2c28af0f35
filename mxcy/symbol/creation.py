"""mx.sym's creation and two-operand helpers: zeros/ones/full/arange/linspace/eye and pow/maximum/minimum/hypot
over symbols or scalars, each one node of the matching registered op."""
from numbers import Number

import numpy as np

from ..base import MXNetError
from .symbol import Symbol, _call

__all__ = ["zeros", "ones", "full", "arange", "linspace", "eye", "pow", "power", "maximum", "minimum", "hypot", "histogram", "split_v2"]


def _dtype(dtype):
    return np.dtype("float32" if dtype is None else dtype).name


def zeros(shape, dtype=None, **kwargs):
    return _call("_zeros", shape=shape, dtype=_dtype(dtype), **kwargs)


def ones(shape, dtype=None, **kwargs):
    return _call("_ones", shape=shape, dtype=_dtype(dtype), **kwargs)


def full(shape, val, dtype=None, **kwargs):
    return _call("_full", shape=shape, value=val, dtype=_dtype(dtype), **kwargs)


def arange(start, stop=None, step=1.0, repeat=1, infer_range=False, name=None, dtype=None):
    return _call("_arange", start=start, stop=stop, step=step, repeat=repeat, infer_range=infer_range,
                 name=name, dtype=_dtype(dtype))


def linspace(start, stop, num, endpoint=True, name=None, dtype=None):
    return _call("_linspace", start=start, stop=stop, num=num, endpoint=endpoint, name=name, dtype=_dtype(dtype))


def eye(N, M=0, k=0, dtype=None, **kwargs):
    return _call("_eye", N=N, M=M, k=k, dtype=_dtype(dtype), **kwargs)


def _two(lhs, rhs, both, scalar, rscalar, name):
    if isinstance(lhs, Symbol) and isinstance(rhs, Symbol):
        return _call(both, lhs, rhs)
    if isinstance(lhs, Symbol) and isinstance(rhs, Number):
        return _call(scalar, lhs, scalar=rhs)
    if isinstance(lhs, Number) and isinstance(rhs, Symbol):
        return _call(rscalar, rhs, scalar=lhs)
    raise MXNetError(f"{name}: expected Symbols or numbers, got {type(lhs).__name__} and "
                     f"{type(rhs).__name__}")


def pow(base, exp):  # noqa: A001 - MXNet's name
    return _two(base, exp, "_Power", "_PowerScalar", "_RPowerScalar", "pow")


power = pow


def maximum(left, right):
    return _two(left, right, "_Maximum", "_MaximumScalar", "_MaximumScalar", "maximum")


def minimum(left, right):
    return _two(left, right, "_Minimum", "_MinimumScalar", "_MinimumScalar", "minimum")


def hypot(left, right):
    return _two(left, right, "_Hypot", "_HypotScalar", "_HypotScalar", "hypot")


def histogram(a, bins=10, range=None, **kwargs):  # noqa: A002 -- MXNet's argument name
    """Symbol of (counts, bin edges) of `a`: `bins` equal bins over `range`, or the edges in a Symbol `bins`."""
    from ..ops.misc_tensor import histogram_args
    return _call("_histogram", data=a, **histogram_args(bins, range, Symbol), **kwargs)


def split_v2(ary, indices_or_sections, axis=0, squeeze_axis=False):
    """Symbol of the parts of `ary` split into equal sections (an int) or at the given indices, like numpy.split."""
    from ..ops.join import split_v2_args
    return _call("_split_v2", data=ary, axis=axis, squeeze_axis=squeeze_axis, **split_v2_args(indices_or_sections))
