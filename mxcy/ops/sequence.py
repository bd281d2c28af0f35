"""Sequence ops over a time axis with per-batch valid lengths: SequenceMask, SequenceLast, SequenceReverse and
SequenceLast's hidden gradient. Which rows of the (rows, features) view each op moves is planned on the host
from the lengths; the CPU moves them with NumPy, a GPU with gather_gpu's row-copy kernel."""
import numpy as np

from . import registry
from ._gpu_layout import kernels, put_rows, to_host, zero_unless_add
from ._helpers import store
from ._nn_common import scratch
from .registry import OpDef, Param
from ..kernels.common import REQ_WRITE


def _arguments(attrs):
    return ["data", "sequence_length"] if attrs["use_sequence_length"] else ["data"]


def _params(axis_doc):
    return (Param("use_sequence_length", "bool", False,
                  "read the valid length of each batch entry from `sequence_length`; otherwise every "
                  "sequence fills the time axis"),
            Param("axis", "int", 0, axis_doc))


def _time_batch(attrs, shape):
    """(time axis, batch axis) of data of `shape`, or ValueError naming the shape."""
    axis = attrs["axis"]
    if axis not in (0, 1):
        raise ValueError(f"axis={axis}: the time axis must be 0 or 1")
    if len(shape) < 2:
        raise ValueError(f"data of shape {tuple(shape)} needs a time and a batch axis")
    return axis, 1 - axis


def _infer(drop_time_axis):
    def infer(attrs, shapes):
        data = shapes[0]
        if data is None:
            return None, None
        axis, batch_axis = _time_batch(attrs, data)
        if attrs["use_sequence_length"]:
            want = (data[batch_axis],)
            if shapes[1] is not None and tuple(shapes[1]) != want:
                raise ValueError(f"sequence_length has shape {tuple(shapes[1])}; data of shape {tuple(data)} "
                                 f"with time axis {axis} needs {want}")
            shapes = [data, want]
        out = data[:axis] + data[axis + 1:] if drop_time_axis else data
        return shapes, [out]
    return infer


def _infer_type(attrs, types):
    # as MXNet: the lengths keep their own type when known, else take the data's
    data = types[0]
    return [data] + [t if t is not None else data for t in types[1:]], data


def _lengths(attrs, inputs, steps, batch, least):
    """The valid lengths as host int64 (truncated like MXNet's cast), each in [least, steps]."""
    if not attrs["use_sequence_length"]:
        return np.full(batch, steps, np.int64)
    seq = inputs[1] if isinstance(inputs[1], np.ndarray) else to_host(inputs[1])
    lengths = seq.astype(np.int64)
    bad = (lengths < least) | (lengths > steps)
    if bad.any():
        raise ValueError(f"sequence_length {seq[bad][0]!r} is outside [{least}, {steps}], the valid lengths "
                         f"for a time axis of {steps} steps")
    return lengths


def _rows(axis, shape):
    """(steps, batch) int64 grid: the row of the (rows, features) view that holds time t of batch entry b."""
    steps, batch = shape[axis], shape[1 - axis]
    grid = np.arange(steps * batch, dtype=np.int64).reshape(shape[:2])
    return grid if axis == 0 else grid.T


def _features(shape):
    return int(np.prod(shape[2:], dtype=np.int64))


def _on_host(a):
    return isinstance(a, np.ndarray)


# --- SequenceMask ------------------------------------------------------------------------------

def _mask_compute(attrs, inputs, outputs, reqs):
    data, out = inputs[0], outputs[0]
    axis, _ = _time_batch(attrs, data.shape)
    steps = data.shape[axis]
    lengths = _lengths(attrs, inputs, steps, data.shape[1 - axis], 0)
    valid = np.arange(steps)[:, None] < lengths[None, :]  # (steps, batch)
    if _on_host(data):
        keep = (valid if axis == 0 else valid.T).reshape(data.shape[:2] + (1,) * (data.ndim - 2))
        store(out, np.where(keep, data, np.asarray(attrs["value"], data.dtype)), reqs[0])
        return
    rows = _rows(axis, data.shape)[valid]
    result = scratch(out, out.dtype)
    kernels("elemwise_gpu").fill_gpu(result, attrs["value"], REQ_WRITE)
    put_rows(data, rows, result, rows, _features(data.shape), REQ_WRITE)
    kernels("elemwise_gpu").copy_gpu(result, out, reqs[0])


def _mask_gradient(F, attrs, inputs, outputs, ograds):
    kwargs = {"use_sequence_length": attrs["use_sequence_length"], "axis": attrs["axis"], "value": 0.0}
    return [F.SequenceMask(ograds[0], *inputs[1:], **kwargs)] + [None] * (len(inputs) - 1)


registry.register(OpDef(
    "SequenceMask", arguments=_arguments,
    params=_params("the time axis, 0 (time, batch, ...) or 1 (batch, time, ...)")
    + (Param("value", "float", 0.0, "what the steps past each sequence's length become"),),
    infer_shape=_infer(False), infer_type=_infer_type, compute={"cpu": _mask_compute, "gpu": _mask_compute},
    gradient=_mask_gradient, grad_reads=lambda attrs: ((1,) if attrs["use_sequence_length"] else (), ()),
    doc="Sets the steps at and after each sequence's valid length to `value`."))


# --- SequenceLast and its gradient -------------------------------------------------------------

def _last_rows(attrs, inputs, shape):
    """Row of each batch entry's last valid step, in the (rows, features) view of data of `shape`."""
    axis, batch_axis = _time_batch(attrs, shape)
    lengths = _lengths(attrs, inputs, shape[axis], shape[batch_axis], 1)
    return _rows(axis, shape)[lengths - 1, np.arange(shape[batch_axis])]


def _last_compute(attrs, inputs, outputs, reqs):
    data, out = inputs[0], outputs[0]
    rows = _last_rows(attrs, inputs, data.shape)
    features = _features(data.shape)
    if _on_host(data):
        store(out, data.reshape(-1, features)[rows].reshape(out.shape), reqs[0])
    else:
        put_rows(data, rows, out, np.arange(rows.size), features, reqs[0])


def _last_backward_compute(attrs, inputs, outputs, reqs):
    ograd, data = inputs[0], inputs[1]
    out = outputs[0]
    rows = _last_rows(attrs, inputs[1:], data.shape)
    features = _features(data.shape)
    if _on_host(ograd):
        grad = np.zeros((out.size // features, features), out.dtype)
        grad[rows] = ograd.reshape(-1, features)
        store(out, grad.reshape(out.shape), reqs[0])
    else:
        zero_unless_add(out, reqs[0])
        put_rows(ograd, np.arange(rows.size), out, rows, features, reqs[0])


def _last_attrs(attrs):
    return {"use_sequence_length": attrs["use_sequence_length"], "axis": attrs["axis"]}


def _last_gradient(F, attrs, inputs, outputs, ograds):
    return [F._backward_SequenceLast(ograds[0], *inputs, **_last_attrs(attrs))] + [None] * (len(inputs) - 1)


def _last_backward_gradient(F, attrs, inputs, outputs, ograds):
    return [F.SequenceLast(ograds[0], *inputs[2:], **_last_attrs(attrs)), None] + [None] * (len(inputs) - 2)


def _last_backward_infer(attrs, shapes):
    ograd, data = shapes[0], shapes[1]
    if data is None:
        return None, None
    inner, (out,) = _infer(True)(attrs, shapes[1:])
    if ograd is not None and tuple(ograd) != tuple(out):
        raise ValueError(f"head gradient of shape {tuple(ograd)} for SequenceLast's output of shape {out}")
    return [out] + list(inner), [data]


def _last_backward_type(attrs, types):
    in_types, out = _infer_type(attrs, types[1:])
    return [out] + in_types, out


registry.register(OpDef(
    "SequenceLast", arguments=_arguments,
    params=_params("the time axis, 0 (time, batch, ...) or 1 (batch, time, ...)"),
    infer_shape=_infer(True), infer_type=_infer_type, compute={"cpu": _last_compute, "gpu": _last_compute},
    gradient=_last_gradient, grad_reads=lambda attrs: ((1,) if attrs["use_sequence_length"] else (), ()),
    doc="Takes each sequence's last valid step: the time axis is removed."))

registry.register(OpDef(
    "_backward_SequenceLast",
    arguments=lambda attrs: ["ograd"] + _arguments(attrs),
    params=_params("the time axis of SequenceLast's data"),
    infer_shape=_last_backward_infer, infer_type=_last_backward_type,
    compute={"cpu": _last_backward_compute, "gpu": _last_backward_compute},
    gradient=_last_backward_gradient,
    grad_reads=lambda attrs: ((2,) if attrs["use_sequence_length"] else (), ()),
    doc="SequenceLast's gradient: the head gradient placed at each sequence's last valid step, zeros elsewhere "
        "(`data` gives only the shape)."))


# --- SequenceReverse ---------------------------------------------------------------------------

def _reverse_compute(attrs, inputs, outputs, reqs):
    data, out = inputs[0], outputs[0]
    axis, _ = _time_batch(attrs, data.shape)
    steps, batch = data.shape[0], data.shape[1]
    lengths = _lengths(attrs, inputs, steps, batch, 0)
    t = np.arange(steps)[:, None]
    source_t = np.where(t < lengths[None, :], lengths[None, :] - 1 - t, t)  # (steps, batch)
    source = (source_t * batch + np.arange(batch)[None, :]).ravel()
    features = _features(data.shape)
    if _on_host(data):
        store(out, data.reshape(-1, features)[source].reshape(out.shape), reqs[0])
    else:
        put_rows(data, source, out, np.arange(source.size), features, reqs[0])


def _reverse_infer(attrs, shapes):
    if attrs["axis"] != 0:
        raise ValueError(f"axis={attrs['axis']}: SequenceReverse reverses time axis 0 only (as MXNet 1.9.1)")
    return _infer(False)(attrs, shapes)


def _reverse_gradient(F, attrs, inputs, outputs, ograds):
    # reversing the valid steps is its own inverse, so the gradient is the head gradient reversed the same way
    kwargs = {"use_sequence_length": attrs["use_sequence_length"], "axis": attrs["axis"]}
    return [F.SequenceReverse(ograds[0], *inputs[1:], **kwargs)] + [None] * (len(inputs) - 1)


registry.register(OpDef(
    "SequenceReverse", arguments=_arguments,
    params=_params("the time axis; MXNet 1.9.1 supports only 0 (time, batch, ...)"),
    infer_shape=_reverse_infer, infer_type=_infer_type,
    compute={"cpu": _reverse_compute, "gpu": _reverse_compute},
    gradient=_reverse_gradient, grad_reads=lambda attrs: ((1,) if attrs["use_sequence_length"] else (), ()),
    doc="Reverses the order of each sequence's valid steps; the steps past its length stay in place."))
