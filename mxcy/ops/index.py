"""Hidden ops behind NDArray indexing: read x[key], and write x[key] = v (array or scalar)."""
import numpy as np

from . import registry
from ._helpers import store
from .registry import OpDef, Param

_KEY = Param("key", "any", doc="a NumPy-style index (ints, slices, integer arrays)")


def _index_shape(attrs, shapes):
    probe = np.broadcast_to(np.zeros((), np.int8), shapes[0])
    return shapes, [probe[attrs["key"]].shape]


def _index_compute(attrs, inputs, outputs, reqs):
    store(outputs[0], inputs[0][attrs["key"]], reqs[0])


def _index_gradient(F, attrs, inputs, outputs, ograds):
    return [F._index_scatter_add(ograds[0], shape=inputs[0].shape, key=attrs["key"])]


def _scatter_shape(attrs, shapes):
    return shapes, [tuple(attrs["shape"])]


def _scatter_compute(attrs, inputs, outputs, reqs):
    grad = np.zeros(outputs[0].shape, outputs[0].dtype)
    np.add.at(grad, attrs["key"], inputs[0])
    store(outputs[0], grad, reqs[0])


def _scatter_gradient(F, attrs, inputs, outputs, ograds):
    return [F._index(ograds[0], key=attrs["key"])]


def _assign_compute(attrs, inputs, outputs, reqs):
    outputs[0][attrs["key"]] = inputs[1]


def _assign_scalar_compute(attrs, inputs, outputs, reqs):
    outputs[0][attrs["key"]] = attrs["scalar"]


registry.register(OpDef("_index", params=(_KEY,), infer_shape=_index_shape,
                        compute={"cpu": _index_compute}, gradient=_index_gradient, public=False,
                        doc="x[key] as a copy."))
registry.register(OpDef("_index_scatter_add", params=(_KEY, Param("shape", "shape")),
                        infer_shape=_scatter_shape, compute={"cpu": _scatter_compute},
                        gradient=_scatter_gradient, public=False,
                        doc="Zeros of `shape` with data added at positions `key` (gradient of _index)."))
registry.register(OpDef("_index_assign", params=(_KEY,), arguments=("lhs", "rhs"),
                        infer_shape=lambda attrs, shapes: (shapes, [shapes[0]]),
                        compute={"cpu": _assign_compute}, public=False,
                        doc="lhs[key] = rhs, written in place into lhs."))
registry.register(OpDef("_index_assign_scalar", params=(_KEY, Param("scalar", "float", 0.0)),
                        infer_shape=lambda attrs, shapes: (shapes, [shapes[0]]),
                        compute={"cpu": _assign_scalar_compute}, public=False,
                        doc="data[key] = scalar, written in place."))
