"""Joining and splitting along an axis: Concat, stack, SliceChannel (split), _split_v2, and Pad. On the GPU
each part is a strided copy between a whole array and a window of the joined one."""
import numpy as np

from . import registry
from ._gpu_layout import copy, dense, kernels, probe, window
from ._helpers import norm_axis, store
from .partial_shape import UNKNOWN, is_known, merge, to_user
from .registry import OpDef, Param


def _arg_names(attrs):
    return [f"arg{i}" for i in range(attrs["num_args"])]


def _check_count(attrs, shapes):
    if attrs["num_args"] < 1 or len(shapes) != attrs["num_args"]:
        raise ValueError(f"num_args={attrs['num_args']} but {len(shapes)} arrays were given")


def _first_out(fn):
    """Compute for a one-output op whose output is fn(attrs, inputs)."""
    def compute(attrs, inputs, outputs, reqs):
        store(outputs[0], fn(attrs, inputs), reqs[0])
    return compute


def _join_computes(windows):
    """{"cpu", "gpu"} computes of an op that writes each input into its window of the output:
    windows(attrs, joined, inputs) lists NumPy views of `joined`, one per input, of that input's shape."""
    def cpu(attrs, inputs, outputs, reqs):
        for x, part in zip(inputs, windows(attrs, outputs[0], inputs)):
            store(part, x, reqs[0])

    def gpu(attrs, inputs, outputs, reqs):
        out = outputs[0]
        base = probe(out.shape)
        for x, part in zip(inputs, windows(attrs, base, inputs)):
            copy(x, dense(part.shape), out, window(part, base), reqs[0])
    return {"cpu": cpu, "gpu": gpu}


def _split_computes(fn):
    """{"cpu", "gpu"} computes of a multi-output op: fn(attrs, x) lists the parts as NumPy views of x, each
    reshaped to its output (or copied from its window of x on the GPU)."""
    def cpu(attrs, inputs, outputs, reqs):
        for out, part, req in zip(outputs, fn(attrs, inputs[0]), reqs):
            store(out, part.reshape(out.shape), req)

    def gpu(attrs, inputs, outputs, reqs):
        x = inputs[0]
        base = probe(x.shape)
        for out, part, req in zip(outputs, fn(attrs, base), reqs):
            copy(x, window(part, base), out, dense(part.shape), req)
    return {"cpu": cpu, "gpu": gpu}


def _as_list(result):
    return list(result) if isinstance(result, (list, tuple)) else [result]


# --- Concat and stack ---------------------------------------------------------------------------

def _concat_rule(sizes_from_output):
    """Concat's rule on partial shapes (MXNet's ConcatShape): inputs and output agree on every dimension but the
    joined one, whose output size is the inputs' sum. With `sizes_from_output` (_rnn_param_concat, which packs
    RNN weights whose input size may be unknown) the output's size also gives the one or two unknown sizes."""
    def rule(attrs, shapes, out_shapes=None):
        _check_count(attrs, shapes)
        out = out_shapes[0] if out_shapes else None
        ranked = [tuple(s) for s in list(shapes) + [out] if s is not None]
        if not ranked:
            return shapes, [None]
        if not ranked[0]:
            raise ValueError("zero-dimensional arrays cannot be concatenated")
        axis = norm_axis(attrs["dim"], len(ranked[0]))
        try:
            common = None
            for shape in ranked:
                common = merge(common, shape[:axis] + (UNKNOWN,) + shape[axis + 1:])
        except ValueError:
            raise ValueError(f"shapes {[to_user(s) for s in shapes]} and output {to_user(out)} must agree on "
                             f"every dimension but {axis}") from None
        ins = [merge(s, common) for s in shapes]
        unknown = [i for i, s in enumerate(ins) if s[axis] < 0]
        total = sum(s[axis] for s in ins if s[axis] >= 0)
        joined = common if unknown else common[:axis] + (total,) + common[axis + 1:]
        try:
            out = merge(out, joined)
        except ValueError:
            raise ValueError(f"inputs {[to_user(s) for s in shapes]} joined along axis {axis} make "
                             f"{to_user(joined)}, not the output's {to_user(out)}") from None
        if unknown and sizes_from_output and out[axis] >= 0:
            residual = out[axis] - total
            if residual < 0 or len(unknown) > 2:
                raise ValueError(f"cannot size {len(unknown)} inputs of unknown size from the output's "
                                 f"{out[axis]} along axis {axis}, {total} of it taken by the others "
                                 "(1 or 2 inputs of unknown size are expected)")
            for i in unknown:
                ins[i] = ins[i][:axis] + (residual // len(unknown),) + ins[i][axis + 1:]
        return ins, [out]
    return rule


def _concat_grad(F, attrs, inputs, outputs, ograds):
    axis = norm_axis(attrs["dim"], inputs[0].ndim)
    grads, begin = [], 0
    for x in inputs:
        end = begin + x.shape[axis]
        grads.append(F.slice_axis(ograds[0], axis=axis, begin=begin, end=end))
        begin = end
    return grads


def _concat_windows(attrs, joined, xs):
    axis = norm_axis(attrs["dim"], joined.ndim)
    return np.split(joined, np.cumsum([x.shape[axis] for x in xs])[:-1], axis)


def _stack_windows(attrs, joined, xs):
    return list(np.moveaxis(joined, norm_axis(attrs["axis"], joined.ndim), 0))


def _stack_infer(attrs, shapes):
    _check_count(attrs, shapes)
    first = shapes[0]
    if any(s != first for s in shapes):
        raise ValueError(f"stack needs arrays of one shape, got {list(shapes)}")
    axis = norm_axis(attrs["axis"], len(first) + 1)
    return shapes, [first[:axis] + (len(shapes),) + first[axis:]]


def _stack_grad(F, attrs, inputs, outputs, ograds):
    axis = norm_axis(attrs["axis"], inputs[0].ndim + 1)
    return _as_list(F.split(ograds[0], num_outputs=len(inputs), axis=axis, squeeze_axis=True))


_NUM_ARGS = Param("num_args", "int", doc="number of input arrays")
registry.register(OpDef(
    "Concat", aliases=("concat",), arguments=_arg_names, key_var_num_args="num_args",
    params=(_NUM_ARGS, Param("dim", "int", 1, "the dimension to concatenate along")),
    infer_shape=_concat_rule(sizes_from_output=False), partial_shapes=True, gradient=_concat_grad,
    compute=_join_computes(_concat_windows),
    doc="Joins input arrays along a given axis."))
registry.register(OpDef(
    "stack", arguments=_arg_names, key_var_num_args="num_args",
    params=(Param("axis", "int", 0, "the axis of the result along which the inputs are stacked"),
            _NUM_ARGS),
    infer_shape=_stack_infer, gradient=_stack_grad, compute=_join_computes(_stack_windows),
    doc="Joins a sequence of arrays along a new axis."))


# --- SliceChannel (split) and _split_v2 -----------------------------------------------------------

def _bounds_shapes(shape, axis, bounds, squeeze):
    """Output shapes of cutting `shape` into the [start, end) `bounds` along `axis`."""
    if squeeze:
        if len(shape) == 1:
            raise ValueError(f"squeeze_axis on 1-D shape {shape} would make 0-d arrays, which "
                             "MXNet 1.x does not have")
        if any(end - start != 1 for start, end in bounds):
            raise ValueError(f"squeeze_axis needs parts of size 1 along axis {axis}; shape "
                             f"{shape} is cut into {[end - start for start, end in bounds]}")
        return [shape[:axis] + shape[axis + 1:]] * len(bounds)
    return [shape[:axis] + (end - start,) + shape[axis + 1:] for start, end in bounds]


def _channel_bounds(attrs, shape):
    axis, n = norm_axis(attrs["axis"], len(shape)), attrs["num_outputs"]
    if n < 1 or shape[axis] % n:
        raise ValueError(f"cannot split axis {axis} of shape {shape} into num_outputs={n} "
                         "equal parts")
    step = shape[axis] // n
    return axis, [(i * step, (i + 1) * step) for i in range(n)]


def _v2_bounds(attrs, shape):
    axis, sections = norm_axis(attrs["axis"], len(shape)), attrs["sections"]
    size = shape[axis]
    if sections > 0:
        if size % sections:
            raise ValueError(f"sections={sections} does not divide axis {axis} of shape {shape}")
        starts = list(range(0, size, size // sections))
    else:
        starts = list(attrs["indices"])
    bounds = list(zip(starts, starts[1:] + [size]))
    if not bounds or any(not 0 <= start < end <= size for start, end in bounds):
        raise ValueError(f"indices {tuple(starts)} do not cut axis {axis} of shape {shape} into "
                         "non-empty increasing parts")
    return axis, bounds


def _cut_infer(bounds_of):
    def infer(attrs, shapes):
        axis, bounds = bounds_of(attrs, shapes[0])
        return shapes, _bounds_shapes(shapes[0], axis, bounds, attrs["squeeze_axis"])
    return infer


def _slice_channel_infer(attrs, shapes, out_shapes=None):
    """SliceChannel's rule on partial shapes (MXNet's): the parts follow from what is known of the data, and a
    known part gives the data back (its split axis num_outputs times as long, or num_outputs when squeezed)."""
    n, data = attrs["num_outputs"], shapes[0]
    if data is None:
        return shapes, [None] * n
    data, squeeze = tuple(data), attrs["squeeze_axis"]
    axis = norm_axis(attrs["axis"], len(data))
    for part in out_shapes or ():
        if part is not None:
            size = n if squeeze else part[axis] * n if part[axis] >= 0 else UNKNOWN
            data = merge(data, tuple(part[:axis]) + (size,) + tuple(part[axis + (not squeeze):]), "data and parts")
    if is_known(data):
        return [data], _bounds_shapes(data, *_channel_bounds(attrs, data), squeeze)
    if data[axis] >= 0:
        _channel_bounds(attrs, data)  # refuses an axis num_outputs does not divide
    if squeeze and data[axis] not in (n, UNKNOWN):
        raise ValueError(f"squeeze_axis needs axis {axis} of {to_user(data)} to have num_outputs={n} entries")
    part = () if squeeze else (data[axis] // n if data[axis] >= 0 else UNKNOWN,)
    return [data], [data[:axis] + part + data[axis + 1:]] * n


def _cut(bounds_of):
    def parts(attrs, x):
        axis, bounds = bounds_of(attrs, x.shape)
        return [x[(slice(None),) * axis + (slice(start, end),)] for start, end in bounds]
    return parts


def _join_grad(F, attrs, inputs, outputs, ograds):
    axis = norm_axis(attrs["axis"], inputs[0].ndim)
    if attrs["squeeze_axis"]:
        return [F.stack(*ograds, axis=axis)]
    return [F.concat(*ograds, dim=axis)]


def _n_outputs(attrs):
    return attrs["sections"] if attrs["sections"] > 0 else len(attrs["indices"])


def split_v2_args(indices_or_sections):
    """_split_v2's arguments for MXNet's front end split_v2(ary, indices_or_sections) of mx.nd and mx.sym: equal
    sections (an int) or the indices to split at, like numpy.split."""
    if isinstance(indices_or_sections, (int, np.integer)):
        return {"indices": (), "sections": int(indices_or_sections)}
    return {"indices": (0,) + tuple(indices_or_sections)}


_SQUEEZE = Param("squeeze_axis", "bool", False, "remove the split axis (parts must have size 1)")
registry.register(OpDef(
    "SliceChannel", aliases=("split",),
    params=(Param("num_outputs", "int", doc="number of equal parts"),
            Param("axis", "int", 1, "axis to split along"), _SQUEEZE),
    num_outputs=lambda attrs: attrs["num_outputs"],
    output_names=lambda attrs: [f"output{i}" for i in range(attrs["num_outputs"])],
    infer_shape=_slice_channel_infer, partial_shapes=True, compute=_split_computes(_cut(_channel_bounds)),
    gradient=_join_grad, doc="Splits an array along an axis into num_outputs equal parts."))
registry.register(OpDef(
    "_split_v2",
    params=(Param("indices", "shape", doc="start of each part along the axis (first is 0)"),
            Param("axis", "int", 1, "axis to split along"), _SQUEEZE,
            Param("sections", "int", 0, "number of equal parts; 0 splits at indices")),
    num_outputs=_n_outputs, infer_shape=_cut_infer(_v2_bounds),
    compute=_split_computes(_cut(_v2_bounds)), gradient=_join_grad,
    doc="Splits an array along an axis at given indices or into equal sections (split_v2)."))


# --- Pad ---------------------------------------------------------------------------------------

def _pad_pairs(attrs, shape):
    """MXNet's Pad rules: 4-D or 5-D input, no padding of N and C, reflect pads below the size."""
    width, ndim = attrs["pad_width"], len(shape)
    if ndim not in (4, 5):
        raise ValueError(f"Pad supports only 4-D or 5-D input, got shape {shape}")
    if len(width) != 2 * ndim:
        raise ValueError(f"pad_width {width} needs 2 values per dimension of shape {shape}")
    if any(width[:4]):
        raise ValueError(f"pad_width {width} pads the first two axes, which must stay unpadded")
    pairs = list(zip(width[::2], width[1::2]))
    if attrs["mode"] == "reflect" and any(max(p) >= d for p, d in zip(pairs, shape)):
        raise ValueError(f"reflect padding {width} must be smaller than the input shape {shape}")
    return pairs


def _pad_infer(attrs, shapes):
    pairs = _pad_pairs(attrs, shapes[0])
    return shapes, [tuple(d + b + a for d, (b, a) in zip(shapes[0], pairs))]


def _pad(attrs, inputs):
    x, mode = inputs[0], attrs["mode"]
    pairs = _pad_pairs(attrs, x.shape)
    if mode == "constant":
        return np.pad(x, pairs, "constant", constant_values=attrs["constant_value"])
    return np.pad(x, pairs, mode)


def _pad_sources(attrs, shape):
    """Per axis, the input index each output position copies (-1: the constant): a padded index range."""
    extra = {"constant_values": -1} if attrs["mode"] == "constant" else {}
    return [np.pad(np.arange(d), p, attrs["mode"], **extra) for d, p in zip(shape, _pad_pairs(attrs, shape))]


def _pad_gpu(attrs, inputs, outputs, reqs):
    kernels("layout_gpu").axis_gather_gpu(inputs[0], _pad_sources(attrs, inputs[0].shape),
                                          attrs["constant_value"], outputs[0], reqs[0])


def _pad_grad(F, attrs, inputs, outputs, ograds):
    shape = inputs[0].shape
    pairs = _pad_pairs(attrs, shape)
    if attrs["mode"] == "constant":
        return [F.slice(ograds[0], begin=tuple(b for b, _ in pairs),
                        end=tuple(b + d for (b, _), d in zip(pairs, shape)))]
    return [F._index_scatter_add(ograds[0], shape=shape, key=np.ix_(*_pad_sources(attrs, shape)))]


registry.register(OpDef(
    "Pad", aliases=("pad",),
    params=(Param("mode", "str", "constant", "padding type",
                  choices=("constant", "edge", "reflect")),
            Param("pad_width", "shape", doc="(before, after) widths for every axis, flattened"),
            Param("constant_value", "float", 0.0, "fill value of constant padding")),
    infer_shape=_pad_infer, compute={"cpu": _first_out(_pad), "gpu": _pad_gpu}, gradient=_pad_grad,
    doc="Pads a 4-D or 5-D array along its spatial axes (constant, edge or reflect)."))
