"""npx.save / npx.load: mx.np arrays in MXNet's .params format, written with NumPy shapes (the V3 layout, so 0-d and
zero-size arrays keep their shapes)."""
from .. import ndarray as nd
from ..numpy.multiarray import np_results
from ..util import _NumpyShapeWithin

__all__ = ["save", "load"]


def save(file, arr):
    """Save an mx.np array, a list or a str-keyed dict of them to `file` (MXNet's format with NumPy shapes)."""
    with _NumpyShapeWithin():
        nd.save(file, arr)


def load(file):
    """The mx.np arrays (list or dict) that npx.save wrote to `file`."""
    with _NumpyShapeWithin():
        loaded = nd.load(file)
    if isinstance(loaded, dict):
        return {k: np_results(v) for k, v in loaded.items()}
    return np_results(loaded)
