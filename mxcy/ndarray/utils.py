"""Array creation (array, zeros, ones, full, arange, ...) and mx.nd.save / mx.nd.load."""
import numpy as np

from .. import storage
from ..base import MXNetError, np_dtype
from ..error import MXNetValueError
from ..context import Context, current_context
from ..ops import registry
from ..ops.invoke import invoke
from ..util import _np_shape_for_loading, is_np_shape, np_shape
from .ndarray import NDArray

__all__ = ["array", "empty", "zeros", "ones", "full", "arange", "linspace", "eye", "save", "load",
           "concatenate", "moveaxis", "onehot_encode", "from_numpy", "split_v2", "histogram"]


def _ctx(ctx):
    return current_context() if ctx is None else ctx if isinstance(ctx, Context) else Context(ctx)


def _shape(shape):
    return (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(d) for d in shape)


def array(source_array, ctx=None, dtype=None):
    """An NDArray copied from an array-like; float32 unless `dtype` is given or the source is an
    NDArray (MXNet's rule: NumPy float64 input becomes float32)."""
    from .sparse import BaseSparseNDArray, array as sparse_array
    if isinstance(source_array, BaseSparseNDArray) or _is_scipy_sparse(source_array):
        return sparse_array(source_array, ctx=ctx, dtype=dtype)
    if isinstance(source_array, NDArray):
        dtype = source_array.dtype if dtype is None else dtype
        source_array = source_array.asnumpy()
    dtype = np_dtype(dtype, "array")
    try:
        values = np.asarray(source_array, dtype=dtype)
    except (TypeError, ValueError) as err:
        raise MXNetError(f"array: source_array must be array-like: {err}") from None
    if values.ndim == 0 and not is_np_shape():
        values = values.reshape(1)
    ctx = _ctx(ctx)
    return NDArray(storage.from_host(values, ctx), ctx)


def _is_scipy_sparse(x):
    return type(x).__module__.startswith("scipy.sparse")


def from_numpy(ndarray, zero_copy=True, array_cls=NDArray):
    """An NDArray (array_cls mx.nd.NDArray or mx.np.ndarray) sharing memory with a C-contiguous NumPy array
    (MXNet's zero-copy import)."""
    from ..numpy import ndarray as np_ndarray
    if array_cls not in (NDArray, np_ndarray):
        raise MXNetError(f"from_numpy: array_cls must be mx.nd.NDArray or mx.np.ndarray, got {array_cls}")
    if not zero_copy:
        copied = array(ndarray, dtype=ndarray.dtype)
        return copied.as_np_ndarray().reshape(ndarray.shape) if array_cls is np_ndarray else copied
    if not ndarray.flags.c_contiguous:
        raise ValueError("Only c-contiguous arrays are supported for zero-copy")
    np_dtype(ndarray.dtype, "from_numpy")
    if not ndarray.flags.writeable:
        try:  # locked by an earlier from_numpy: memory the array owns can be unlocked again
            ndarray.flags.writeable = True
        except ValueError:
            raise ValueError("from_numpy: the array is read-only and does not own its memory; zero-copy needs "
                             "writable memory (pass zero_copy=False to copy it)") from None
    # a writeable view made before the source is locked (legacy arrays have no 0-d shape)
    shared = ndarray.reshape(ndarray.shape if array_cls is np_ndarray else ndarray.shape or (1,))
    # As MXNet: the NumPy array becomes read-only, so that only the NDArray (through the engine) writes it.
    ndarray.flags.writeable = False
    return array_cls(shared, current_context())


def empty(shape, ctx=None, dtype=None, stype=None):
    """An array of `shape` with unspecified values; sparse storage types (stype) hold no values at all."""
    if stype not in (None, "default"):
        from .sparse import zeros as sparse_zeros
        return sparse_zeros(stype, shape, ctx, dtype)
    ctx = _ctx(ctx)
    return NDArray(storage.alloc(_shape(shape), np_dtype(dtype, "empty"), ctx), ctx)


def _create(op_name, ctx, dtype, out=None, **attrs):
    """A creation op's result, written into `out` when given (its context and, by default, its dtype)."""
    op = registry.get(op_name)
    if out is not None:
        ctx = out.context if ctx is None else ctx
        dtype = out.dtype if dtype is None else dtype
    attrs["dtype"] = np_dtype(dtype, op_name).name
    return invoke(op, [], op.parse_attrs(attrs), out, _ctx(ctx))[0]


def zeros(shape, ctx=None, dtype=None, stype=None, out=None, **kwargs):
    if stype not in (None, "default"):
        from .sparse import zeros as sparse_zeros
        return sparse_zeros(stype, shape, ctx=ctx, dtype=dtype, **kwargs)
    return _create("_zeros", ctx, dtype, out, shape=_shape(shape))


def buffer_zeros(shape, ctx=None, dtype=None, stype=None):
    """Zeros for mxcy's own buffers (gradients, an Executor's arrays): unlike mx.nd.zeros, a zero-size or 0-d shape
    is fine here whatever the shape semantics, as MXNet allocates these buffers without the _zeros operator."""
    with np_shape(True):
        return zeros(shape, ctx=ctx, dtype=dtype, stype=stype)


def ones(shape, ctx=None, dtype=None, out=None, **kwargs):
    return _create("_ones", ctx, dtype, out, shape=_shape(shape))


def full(shape, val, ctx=None, dtype=None, out=None):
    return _create("_full", ctx, dtype, out, shape=_shape(shape), value=val)


def arange(start, stop=None, step=1.0, repeat=1, infer_range=False, ctx=None, dtype=None):
    return _create("_arange", ctx, dtype, start=start, stop=stop, step=step, repeat=repeat)


def linspace(start, stop, num, endpoint=True, ctx=None, dtype=None):
    return _create("_linspace", ctx, dtype, start=start, stop=stop, num=num, endpoint=endpoint)


def eye(N, M=0, k=0, ctx=None, dtype=None, **kwargs):
    return _create("_eye", ctx, dtype, N=N, M=M, k=k)


def concatenate(arrays, axis=0, always_copy=True):
    from . import op
    return op.concat(*arrays, dim=axis)


def moveaxis(tensor, source, destination):
    """Move axes `source` (an int or a sequence) to positions `destination`, the others keeping
    their order (numpy.moveaxis); out-of-range, repeated or unpaired axes are a ValueError."""
    from numpy.lib.array_utils import normalize_axis_tuple
    try:
        src = normalize_axis_tuple(source, tensor.ndim, "source")
        dst = normalize_axis_tuple(destination, tensor.ndim, "destination")
    except (ValueError, IndexError) as err:  # numpy's AxisError or a repeated axis
        raise MXNetValueError(f"moveaxis: source {source}, destination {destination} for {tensor.ndim} "
                              f"dimensions: {err}") from None
    if len(src) != len(dst):
        raise MXNetValueError(f"moveaxis: source {source} and destination {destination} must have the same "
                              "number of elements")
    axes = [a for a in range(tensor.ndim) if a not in src]
    for position, axis in sorted(zip(dst, src)):
        axes.insert(position, axis)
    from . import op
    return op.transpose(tensor, axes=tuple(axes))


def split_v2(ary, indices_or_sections, axis=0, squeeze_axis=False):
    """Split into equal sections (an int) or at the given indices (a tuple), like numpy.split."""
    from . import _internal
    from ..ops.join import split_v2_args
    out = _internal._split_v2(ary, axis=axis, squeeze_axis=squeeze_axis, **split_v2_args(indices_or_sections))
    return out if isinstance(out, list) else [out]


def histogram(a, bins=10, range=None):  # noqa: A002 -- MXNet's argument name
    """(counts, bin edges) of `a`: `bins` equal bins over `range`, or the edges in an NDArray `bins`."""
    from . import _internal
    from ..ops.misc_tensor import histogram_args
    return _internal._histogram(data=a, **histogram_args(bins, range, NDArray))


def onehot_encode(indices, out):
    from . import op
    return op.one_hot(indices, depth=out.shape[1], out=out)


def save(fname, data):
    """Save an NDArray, a list of NDArrays or a dict of str -> NDArray in MXNet's binary format."""
    from . import serialization
    from .sparse import to_stored
    if isinstance(data, NDArray):
        data = [data]
    if isinstance(data, dict):
        names, arrays = list(data.keys()), list(data.values())
        if not all(isinstance(k, str) for k in names):
            raise MXNetError(f"save: dict keys must be str, got {[type(k).__name__ for k in names]}")
    elif isinstance(data, (list, tuple)):
        names, arrays = None, list(data)
    else:
        raise MXNetError(f"save: data must be an NDArray, list or dict, got {type(data).__name__}")
    for a in arrays:
        if not isinstance(a, NDArray):
            raise MXNetError(f"save: every value must be an NDArray, got {type(a).__name__}")
    serialization.save(str(fname), [to_stored(a) for a in arrays], names, np_shape=is_np_shape())


def load(fname):
    """Load what `save` (here or in MXNet 1.x) wrote: a list, or a dict when names were saved."""
    from . import serialization
    from .sparse import from_stored
    stored, names = serialization.load(str(fname), np_shape=_np_shape_for_loading())
    arrays = [from_stored(s) for s in stored]
    return dict(zip(names, arrays)) if names else arrays


def load_frombuffer(buf):
    from . import serialization
    from .sparse import from_stored
    stored, names = serialization.loads(bytes(buf), "<buffer>", np_shape=_np_shape_for_loading())
    arrays = [from_stored(s) for s in stored]
    return dict(zip(names, arrays)) if names else arrays
