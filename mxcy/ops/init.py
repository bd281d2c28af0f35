"""Array-creation operators with no inputs: _zeros, _ones, _full, _arange, _linspace, _eye."""
import math

import numpy as np

from . import _gpu, registry
from ._helpers import store
from ..util import is_np_shape
from .partial_shape import from_user
from .registry import OpDef, Param

_DTYPE = Param("dtype", "dtype", "float32", "output data type")
_CTX = Param("ctx", "str", "", "device context (set from the ctx argument)")


def _type_from_attr(attrs, types):
    return types, np.dtype(attrs["dtype"])


def _fill_compute(value_of):
    def compute(attrs, inputs, outputs, reqs):
        store(outputs[0], value_of(attrs), reqs[0])
    return compute


def _shape_rule(attrs, shapes):
    return shapes, [tuple(attrs["shape"])]


def _known_shape_rule(attrs, shapes, out_shapes=None):
    """The shape of _zeros and _ones. Without NumPy shape semantics MXNet's legacy shapes call () and 0-size
    dimensions unknown, as MXNet 1.9.1 does: graph inference (which passes `out_shapes`) keeps them unknown for
    other nodes to fill in, an imperative call refuses them."""
    np_shape = is_np_shape()
    shape = tuple(attrs["shape"])
    if out_shapes is not None:
        return shapes, [from_user(shape, np_shape)]
    if not np_shape and (not shape or 0 in shape):
        raise ValueError(f"shape {shape} is unknown without NumPy shape semantics (0 and () mean unknown; "
                         "use mx.util.np_shape() for 0-d and zero-size arrays)")
    return shapes, [shape]


def _creation(name, params, shape_rule, values, doc):
    registry.register(OpDef(name, arguments=(), params=params + (_CTX, _DTYPE),
                            infer_shape=shape_rule, infer_type=_type_from_attr,
                            partial_shapes=shape_rule is _known_shape_rule,
                            compute={"cpu": _fill_compute(values), "gpu": _gpu.creation(values)},
                            doc=doc))


_SHAPE = Param("shape", "shape", (), "output shape")
_creation("_zeros", (_SHAPE,), _known_shape_rule, lambda a: 0, "An array of zeros.")
_creation("_ones", (_SHAPE,), _known_shape_rule, lambda a: 1, "An array of ones.")
_creation("_full", (_SHAPE, Param("value", "float", 0.0)), _shape_rule, lambda a: a["value"],
          "An array filled with `value`.")


def _arange_len(attrs):
    start, stop, step = attrs["start"], attrs["stop"], attrs["step"]
    if stop is None:
        start, stop = 0.0, start
    if step == 0:
        raise ValueError("arange: step must not be 0")
    return max(0, int(math.ceil((stop - start) / step))), start


def _arange_values(attrs):
    """start + i * step as MXNet 1.9.1 computes it: start and step cast to the output type first (integers
    truncate, so arange(1.3, 10, 1.3, dtype='int32') counts 1, 2, 3, ...; unsigned ones wrap), the arithmetic
    in that type (float32 rounds as MXNet's kernel does); float16 in float64, rounded once."""
    n, start = _arange_len(attrs)
    dtype, step = np.dtype(attrs["dtype"]), attrs["step"]
    if dtype.kind in "iub":
        values = (int(start) + int(step) * np.arange(n, dtype=np.int64)).astype(dtype)
    elif dtype.itemsize >= 4:
        values = dtype.type(start) + dtype.type(step) * np.arange(n, dtype=dtype)
    else:
        values = start + step * np.arange(n, dtype=np.float64)
    return np.repeat(values, attrs["repeat"])


_creation("_arange", (Param("start", "float", 0.0), Param("stop", "float", None),
                      Param("step", "float", 1.0), Param("repeat", "int", 1),
                      Param("infer_range", "bool", False)),
          lambda attrs, shapes: (shapes, [(_arange_len(attrs)[0] * attrs["repeat"],)]),
          _arange_values, "Evenly spaced values in [start, stop), each repeated `repeat` times.")
def _linspace_len(attrs):
    if attrs["num"] < 0:
        raise ValueError(f"num must be non-negative, got {attrs['num']}")
    return attrs["num"]


_creation("_linspace", (Param("start", "float", 0.0), Param("stop", "float", 1.0),
                        Param("num", "int", 50), Param("endpoint", "bool", True)),
          lambda attrs, shapes: (shapes, [(_linspace_len(attrs),)]),
          lambda a: np.linspace(a["start"], a["stop"], a["num"], endpoint=a["endpoint"]),
          "`num` evenly spaced values over [start, stop].")
_creation("_eye", (Param("N", "int"), Param("M", "int", 0), Param("k", "int", 0)),
          lambda attrs, shapes: (shapes, [(attrs["N"], attrs["M"] or attrs["N"])]),
          lambda a: np.eye(a["N"], a["M"] or a["N"], a["k"]),
          "A 2-D array with ones on the k-th diagonal.")
