"""mx.np.meshgrid (MXNet's numpy/function_base.py)."""
from ..error import MXNetValueError
from ._op import reshape, swapaxes
from .multiarray import np_function
from .stride_tricks import broadcast_arrays

__all__ = ["meshgrid"]


@np_function
def meshgrid(*xi, **kwargs):
    """Coordinate arrays from 1-D coordinate vectors (indexing 'xy' swaps the first two axes as NumPy's)."""
    indexing, sparse, copy = kwargs.pop("indexing", "xy"), kwargs.pop("sparse", False), kwargs.pop("copy", True)
    if kwargs or indexing not in ("xy", "ij"):
        raise MXNetValueError(f"meshgrid: indexing must be 'xy' or 'ij' and no other arguments, got "
                              f"{indexing!r} and {sorted(kwargs)}")
    ndim = len(xi)
    grids = [reshape(x, (1,) * i + (-1,) + (1,) * (ndim - i - 1)) for i, x in enumerate(xi)]
    if indexing == "xy" and ndim > 1:
        grids = [swapaxes(g, 0, 1) for g in grids]
    if sparse:
        return [g.copy() if copy else g for g in grids]
    return broadcast_arrays(*grids)
