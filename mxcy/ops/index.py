"""Hidden ops behind NDArray indexing: read x[key], and write x[key] = v (array or scalar). On the GPU a basic
key (ints, slices, None, Ellipsis) is a strided window of x; any other key becomes the flat positions it
selects, computed by NumPy on the host."""
import numpy as np

from . import registry
from ._gpu_layout import (broadcast_positions, broadcast_window, copy, dense, kernels, probe, put_rows,
                          scatter_add, to_device, window, zero_unless_add)
from ._helpers import store
from ._nn_common import put, scratch
from ..kernels.common import REQ_WRITE
from .gather import _OptIntTuple, _slice_infer, _slice_key
from .registry import OpDef, Param

_KEY = Param("key", "any", doc="a NumPy-style index (ints, slices, integer arrays)")


def _is_basic(key):
    parts = key if isinstance(key, tuple) else (key,)
    return all(k is None or k is Ellipsis or isinstance(k, slice) or
               isinstance(k, (int, np.integer)) and not isinstance(k, (bool, np.bool_)) for k in parts)


def _basic_view(base, key):
    """base[key] for a basic key, as a view even when the key picks one element (NumPy gives a scalar)."""
    parts = key if isinstance(key, tuple) else (key,)
    return base[parts if any(k is Ellipsis for k in parts) else parts + (Ellipsis,)]


def _positions(shape, key):
    """The flat positions x[key] selects from an x of `shape`, laid out as x[key]: the key applied to each
    axis' share of the C-order position, a zero-stride view, so only the selection is ever materialised."""
    total = np.broadcast_to(np.int64(0), shape)[key]
    stride = 1
    for d in range(len(shape) - 1, -1, -1):
        share = (np.arange(shape[d], dtype=np.int64) * stride).reshape((-1,) + (1,) * (len(shape) - 1 - d))
        total = total + np.broadcast_to(share, shape)[key]
        stride *= shape[d]
    return total


def _index_shape(attrs, shapes):
    probe = np.broadcast_to(np.zeros((), np.int8), shapes[0])
    return shapes, [probe[attrs["key"]].shape]


def _index_compute(attrs, inputs, outputs, reqs):
    store(outputs[0], inputs[0][attrs["key"]], reqs[0])


def _index_gpu(attrs, inputs, outputs, reqs):
    x, out, key = inputs[0], outputs[0], attrs["key"]
    if _is_basic(key):
        base = probe(x.shape)
        part = _basic_view(base, key)
        copy(x, window(part, base), out, dense(part.shape), reqs[0])
    else:
        kernels("gather_gpu").take_gpu(x, to_device(_positions(x.shape, key)), out, x.size, 1, reqs[0])


def _index_gradient(F, attrs, inputs, outputs, ograds):
    return [F._index_scatter_add(ograds[0], shape=inputs[0].shape, key=attrs["key"])]


def _scatter_shape(attrs, shapes):
    return shapes, [tuple(attrs["shape"])]


def _scatter_compute(attrs, inputs, outputs, reqs):
    grad = np.zeros(outputs[0].shape, outputs[0].dtype)
    np.add.at(grad, attrs["key"], inputs[0])
    store(outputs[0], grad, reqs[0])


def _scatter_gpu(attrs, inputs, outputs, reqs):
    data, out, key, req = inputs[0], outputs[0], attrs["key"], reqs[0]
    if _is_basic(key):  # basic keys select each position once: a window copy
        base = probe(out.shape)
        part = _basic_view(base, key)
        zero_unless_add(out, req)
        copy(data, broadcast_window(data.shape, part.shape), out, window(part, base), req)
    else:
        pos = _positions(out.shape, key)
        scatter_add(data, pos.ravel(), out.size, out, 1, req, src_rows=broadcast_positions(data.shape, pos.shape))


def _scatter_gradient(F, attrs, inputs, outputs, ograds):
    return [F._index(ograds[0], key=attrs["key"])]


def _assign_shape(attrs, shapes):
    """lhs's shape, once the value is known to broadcast to the positions `key` selects (leading 1s of the
    value dropped, as MXNet's and NumPy's assignment do)."""
    lhs, rhs = shapes
    target = _index_shape(attrs, [lhs])[1][0]
    if rhs is not None:
        value = _without_leading_ones(tuple(rhs), len(target))
        if np.broadcast_shapes(value, target) != tuple(target):
            raise ValueError(f"a value of shape {tuple(rhs)} cannot be assigned to positions of shape "
                             f"{tuple(target)}")
    return shapes, [lhs]


def _without_leading_ones(shape, ndim):
    while len(shape) > ndim and shape[0] == 1:
        shape = shape[1:]
    return shape


def _assign_value(attrs, out, value):
    """The value as it is assigned to out[key]: its leading 1s beyond the selection's rank dropped (the
    same array object when there are none, so x[key] = x is still seen as reading what it overwrites)."""
    shape = _without_leading_ones(tuple(value.shape), len(_index_shape(attrs, [tuple(out.shape)])[1][0]))
    return value if shape == tuple(value.shape) else value.reshape(shape)


def _assign_compute(attrs, inputs, outputs, reqs):
    outputs[0][attrs["key"]] = _assign_value(attrs, outputs[0], inputs[1])


def _assign_scalar_compute(attrs, inputs, outputs, reqs):
    outputs[0][attrs["key"]] = attrs["scalar"]


def _assign_gpu_into(out, key, value):
    """out[key] = value on the GPU, value broadcast as NumPy assigns it; repeated positions take the last."""
    if value is out:  # x[key] = x reads what it overwrites: read from a copy, as NumPy does
        value = scratch(out, out.dtype)
        put(value, out, REQ_WRITE)
    if _is_basic(key):
        base = probe(out.shape)
        part = _basic_view(base, key)
        copy(value, broadcast_window(value.shape, part.shape), out, window(part, base), REQ_WRITE)
    else:
        pos = _positions(out.shape, key)
        put_rows(value, broadcast_positions(value.shape, pos.shape), out, pos, 1, REQ_WRITE)


def _assign_gpu(attrs, inputs, outputs, reqs):
    _assign_gpu_into(outputs[0], attrs["key"], _assign_value(attrs, outputs[0], inputs[1]))


def _assign_scalar_gpu(attrs, inputs, outputs, reqs):
    out = outputs[0]
    value = np.asarray(attrs["scalar"]).astype(out.dtype).reshape(1)  # cast as NumPy assigns a Python float
    _assign_gpu_into(out, attrs["key"], to_device(value, out.dtype))


registry.register(OpDef("_index", params=(_KEY,), infer_shape=_index_shape,
                        compute={"cpu": _index_compute, "gpu": _index_gpu}, gradient=_index_gradient,
                        doc="x[key] as a copy."))
registry.register(OpDef("_index_scatter_add", params=(_KEY, Param("shape", "shape")),
                        infer_shape=_scatter_shape, compute={"cpu": _scatter_compute, "gpu": _scatter_gpu},
                        gradient=_scatter_gradient,
                        doc="Zeros of `shape` with data added at positions `key` (gradient of _index)."))
registry.register(OpDef("_index_assign", params=(_KEY,), arguments=("lhs", "rhs"),
                        infer_shape=_assign_shape,
                        compute={"cpu": _assign_compute, "gpu": _assign_gpu},
                        doc="lhs[key] = rhs, written in place into lhs."))
registry.register(OpDef("_index_assign_scalar", params=(_KEY, Param("scalar", "float", 0.0)),
                        infer_shape=lambda attrs, shapes: (shapes, [shapes[0]]),
                        compute={"cpu": _assign_scalar_compute, "gpu": _assign_scalar_gpu},
                        doc="data[key] = scalar, written in place."))


# MXNet's _slice_assign / _crop_assign: lhs with the region begin:end:step replaced (by rhs, or by a scalar)
def _slice_assign_shape(attrs, shapes):
    lhs, rhs = shapes
    if lhs is not None and rhs is not None:
        region = _slice_infer(attrs, [lhs])[1][0]
        if tuple(rhs) != region:
            raise ValueError(f"rhs has shape {tuple(rhs)}, the region begin={attrs['begin']} end={attrs['end']} "
                             f"step={attrs['step']} of lhs {tuple(lhs)} has shape {region}")
    return shapes, [lhs]


def _slice_assign_compute(attrs, inputs, outputs, reqs):
    lhs, out = inputs[0], outputs[0]
    result = out if reqs[0] == REQ_WRITE else np.empty_like(lhs)  # req add: out += the assigned copy
    if result is not lhs:
        result[...] = lhs
    result[_slice_key(attrs, lhs.shape)] = inputs[1] if len(inputs) > 1 else attrs["scalar"]
    if result is not out:
        store(out, result, reqs[0])


def _slice_assign_gpu(attrs, inputs, outputs, reqs):
    lhs, out = inputs[0], outputs[0]
    result = out if reqs[0] == REQ_WRITE else scratch(lhs, lhs.dtype)
    if result is not lhs:
        put(result, lhs, REQ_WRITE)
    value = inputs[1] if len(inputs) > 1 else \
        to_device(np.asarray(attrs["scalar"]).astype(out.dtype).reshape(1), out.dtype)
    _assign_gpu_into(result, _slice_key(attrs, lhs.shape), value)
    if result is not out:
        put(out, result, reqs[0])


def _slice_assign_gradient(F, attrs, inputs, outputs, ograds):
    region = {k: attrs[k] for k in ("begin", "end", "step")}
    lhs_grad = F._slice_assign_scalar(ograds[0], scalar=0.0, **region)
    return [lhs_grad, F.slice(ograds[0], **region)] if len(inputs) > 1 else [lhs_grad]


_REGION = (_OptIntTuple("begin", doc="start per axis; None is the start for the step's direction"),
           _OptIntTuple("end", doc="stop per axis (exclusive); None runs to the edge"),
           _OptIntTuple("step", (), "step per axis; None or missing is 1"))
registry.register(OpDef("_slice_assign", params=_REGION, arguments=("lhs", "rhs"), aliases=("_crop_assign",),
                        infer_shape=_slice_assign_shape, compute={"cpu": _slice_assign_compute, "gpu": _slice_assign_gpu},
                        gradient=_slice_assign_gradient, inplace=True,
                        doc="lhs with lhs[begin:end:step] replaced by rhs (MXNet's _slice_assign)."))
registry.register(OpDef("_slice_assign_scalar", params=(Param("scalar", "float", 0.0),) + _REGION,
                        aliases=("_crop_assign_scalar",),
                        infer_shape=lambda attrs, shapes: (shapes, [shapes[0]]),
                        compute={"cpu": _slice_assign_compute, "gpu": _slice_assign_gpu},
                        gradient=_slice_assign_gradient, inplace=True,
                        doc="data with data[begin:end:step] set to scalar (MXNet's _slice_assign_scalar)."))
