"""mx.nd.contrib: functions generated from the operator registry (filled in by mxcy.ndarray)."""

import numpy as _np

from ..error import MXNetValueError as _MXNetValueError


def boolean_mask(data, index, axis=0, out=None):
    """The rows of `data` where the vector `index` is nonzero (MXNet 1.9.1 supports axis 0 only).

    The output's shape depends on index's values, so the positions are found on the host (NumPy); the
    rows are gathered by `take`, whose gradient scatters the head gradient back to them."""
    if axis != 0:
        raise _MXNetValueError(f"boolean_mask: axis={axis} is not supported (MXNet 1.9.1 supports axis 0 only)")
    if index.ndim != 1 or index.shape[0] != data.shape[0]:
        raise _MXNetValueError(f"boolean_mask: index must be a vector as long as data's axis 0, got data "
                               f"{data.shape} and index {index.shape}")
    from . import op
    from .utils import array
    positions = array(_np.flatnonzero(index.asnumpy()), ctx=data.context, dtype="int64")
    return op.take(data, positions, axis=0, out=out)
