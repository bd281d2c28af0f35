"""Helpers of NDArrayIter: inputs into a sorted (name, array) list, a check for an array type, and a reorder."""
from collections import OrderedDict

import numpy as np

from ..ndarray import NDArray, array
from ..ndarray.sparse import CSRNDArray


def _init_data(data, allow_empty, default_name):
    """`data` (an array, a list of arrays or a name -> array dict) as a list of (name, NDArray) sorted by name.

    One array is named `default_name`; several in a list are `_<i>_<default_name>`. Anything array-like that is
    not an NDArray (NumPy, SciPy CSR, nested lists) is converted with mx.nd.array."""
    if data is None:
        if not allow_empty:
            raise ValueError("NDArrayIter: data must be given")
        data = []
    if isinstance(data, (np.ndarray, NDArray)):
        data = [data]
    if isinstance(data, list):
        if not data and not allow_empty:
            raise ValueError("NDArrayIter: data must not be an empty list")
        if len(data) == 1:
            data = OrderedDict([(default_name, data[0])])
        else:
            data = OrderedDict((f"_{i}_{default_name}", d) for i, d in enumerate(data))
    if not isinstance(data, dict):
        raise TypeError("Input must be NDArray, numpy.ndarray, a list of them or dict with them as values")
    converted = {}
    for name, value in data.items():
        if isinstance(value, NDArray):
            converted[name] = value
            continue
        try:
            converted[name] = array(value)
        except Exception:  # noqa: BLE001 - any failure to convert is the caller's wrong type
            raise TypeError(f"Invalid type '{type(value)}' for {name}, should be NDArray or numpy.ndarray") from None
    return sorted(converted.items())


def _has_instance(data, dtype):
    """Whether some array of the (name, array) list `data` is a `dtype`."""
    return any(isinstance(arr, dtype) for _, arr in data)


def _getdata_by_idx(data, idx):
    """The (name, array) list `data` with every array's rows taken in the order `idx` (on the host, NumPy/SciPy)."""
    reordered = []
    for name, arr in data:
        if isinstance(arr, CSRNDArray):
            reordered.append((name, array(arr.asscipy()[idx], arr.context)))
        else:
            reordered.append((name, array(arr.asnumpy()[idx], arr.context, dtype=arr.dtype)))
    return reordered
