"""Module-level tables and indexing helpers of MXNet's mxnet.ndarray that code reaches for: the dtype and
grad_req codes of MXNet's C API, and the indexing-key helpers its NDArray.__getitem__ is built from."""
import numpy as np

from ..base import integer_types
from ..util import is_np_array
from .serialization import _FLAG_TO_DTYPE

_DTYPE_MX_TO_NP = {-1: None, **{flag: (dt if flag == 12 else dt.type) for flag, dt in _FLAG_TO_DTYPE.items()}}
_DTYPE_NP_TO_MX = {dt: flag for flag, dt in _DTYPE_MX_TO_NP.items()}
_GRAD_REQ_MAP = {"null": 0, "write": 1, "add": 3}

# get_indexing_dispatch_code's answers, and the 0-d boolean key marker of indexing_key_expand_implicit_axes
_NDARRAY_UNSUPPORTED_INDEXING = -1
_NDARRAY_BASIC_INDEXING = 0
_NDARRAY_ADVANCED_INDEXING = 1
_NDARRAY_EMPTY_TUPLE_INDEXING = 2
_NDARRAY_NO_ZERO_DIM_BOOL_ARRAY = -1
_NDARRAY_ZERO_DIM_BOOL_ARRAY_FALSE = 0
_NDARRAY_ZERO_DIM_BOOL_ARRAY_TRUE = 1


def get_indexing_dispatch_code(key):
    """Whether a tuple key indexes basically (ints, slices, None), advancedly (arrays, lists) or is `()`."""
    from .ndarray import NDArray
    if not isinstance(key, tuple):
        raise TypeError(f"get_indexing_dispatch_code: key must be a tuple, got {type(key).__name__}")
    for idx in key:
        if isinstance(idx, (NDArray, np.ndarray, list, tuple, range)):
            return _NDARRAY_EMPTY_TUPLE_INDEXING if isinstance(idx, tuple) and not idx else _NDARRAY_ADVANCED_INDEXING
        if not (idx is None or isinstance(idx, (slice, integer_types))):
            raise ValueError(f"NDArray does not support slicing with key {idx} of type {type(idx)}.")
    return _NDARRAY_BASIC_INDEXING


def get_oshape_of_gather_nd_op(dshape, ishape):
    """gather_nd's output shape: the index's trailing dims, then the data dims its first dim leaves over."""
    if not dshape or not ishape:
        raise ValueError(f"gather_nd: data {tuple(dshape)} and indices {tuple(ishape)} must have at least one dim")
    return tuple(ishape[1:]) + tuple(dshape[ishape[0]:])


def indexing_key_expand_implicit_axes(key, shape):
    """(key with every implicit axis made an explicit slice(None), 0-d boolean marker).

    A 0-d boolean index adds an axis of length 1 (True) or 0 (False) and is reported by the marker; an
    integer 0-d array becomes its int; boolean arrays need MXNet's NumPy mode, as in 1.9.1."""
    from .ndarray import NDArray
    key = key if isinstance(key, tuple) else (key,)
    ellipsis_at, num_none, explicit = None, 0, []
    marker = _NDARRAY_NO_ZERO_DIM_BOOL_ARRAY
    for idx in key:
        if idx is Ellipsis:
            if ellipsis_at is not None:
                raise IndexError("Cannot use more than one ellipsis (`...`) for indexing")
            ellipsis_at = len(explicit)
            continue
        if isinstance(idx, bool):
            marker = _NDARRAY_ZERO_DIM_BOOL_ARRAY_TRUE if idx else _NDARRAY_ZERO_DIM_BOOL_ARRAY_FALSE
        elif isinstance(idx, NDArray) and idx.dtype == np.bool_:
            if idx.ndim == 0:
                marker = _NDARRAY_ZERO_DIM_BOOL_ARRAY_TRUE if idx.asscalar() else _NDARRAY_ZERO_DIM_BOOL_ARRAY_FALSE
            elif not is_np_array():
                raise ValueError("Cannot perform boolean indexing in legacy mode. Please activate numpy "
                                 "semantics by calling `npx.set_np()` in the global scope before calling "
                                 "this function.")
        elif isinstance(idx, NDArray) and idx.ndim == 0:
            explicit.append(int(idx.asscalar()))
        else:
            num_none += idx is None
            explicit.append(idx)
    if ellipsis_at is None:
        ellipsis_at = len(explicit)
    implicit = len(shape) + num_none - len(explicit)
    return tuple(explicit[:ellipsis_at]) + (slice(None),) * implicit + tuple(explicit[ellipsis_at:]), marker
