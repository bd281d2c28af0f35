"""NDArray: a device buffer plus the engine var that orders every read and write of it.

Reading values waits on the var; every write is an op pushed to the engine.
"""
import numpy as np

from .. import engine, storage
from ..base import MXNetError, np_dtype, numeric_types
from ..context import Context, current_context
from ..ops import registry
from ..ops.binary import OPERATOR_OPS
from ..ops.invoke import invoke

__all__ = ["NDArray", "waitall"]

_get = registry.get
py_slice = slice  # MXNet's name for the built-in, which its ndarray module shadows with the slice op
# MXNet's storage-type ids (the __storage_type__ attribute of symbols and the .params format use them)
_STORAGE_TYPE_STR_TO_ID = {"undefined": -1, "default": 0, "row_sparse": 1, "csr": 2}
_STORAGE_TYPE_ID_TO_STR = {v: k for k, v in _STORAGE_TYPE_STR_TO_ID.items()}


def waitall():
    """Wait until every pushed operation has finished (and raise the first error among them)."""
    engine.wait_all()


def _apply(self, other, op, scalar_op, reverse, out):
    """self (op) other for an NDArray, scalar or NumPy `other`; `reverse` puts other on the left."""
    if isinstance(other, NDArray):
        if other.stype != "default":  # MXNet's storage fallback: a sparse operand of a dense one computes dense
            other = other.tostype("default")
        return invoke(op, [other, self] if reverse else [self, other], _EMPTY, out)[0]
    if isinstance(other, numeric_types):
        return invoke(scalar_op, [self], {"scalar": float(other)}, out)[0]
    if isinstance(other, np.ndarray):
        other = array_like(other, self)
        return invoke(op, [other, self] if reverse else [self, other], _EMPTY, out)[0]
    if out is not None:
        raise TypeError(f"type {type(other).__name__} not supported")
    return NotImplemented


def _binary_method(operation, reverse=False, inplace=False):
    """An operator method for an OPERATOR_OPS row: NDArray (broadcasting) or scalar on the other side.

    The OpDefs are looked up once, on first use, since this is the hot path of `a + b`. Subclasses
    (sparse arrays) get their `_binary`/`_rbinary` hooks called instead.
    """
    row = OPERATOR_OPS[operation]
    op_name, scalar_name = row.arrays, row.rscalar if reverse else row.scalar
    ops = []

    def method(self, other):
        if inplace:
            _check_inplace(self)
        if self.__class__ is not NDArray:
            if reverse:
                return self._rbinary(other, op_name, scalar_name)
            return self._binary(other, op_name, scalar_name, self if inplace else None)
        if not ops:
            ops.extend((_get(op_name), _get(scalar_name)))
        return _apply(self, other, ops[0], ops[1], reverse, self if inplace else None)
    method.__name__ = op_name
    return method


class NDArray:
    """A fixed-size multidimensional array on a device, computed asynchronously."""
    __slots__ = ("_data", "_var", "_ctx", "_grad", "_grad_req", "_node", "_fresh_grad", "__weakref__")
    __array_priority__ = 1000.0
    stype = "default"

    def __init__(self, data=None, ctx=None, var=None, handle=None, writable=True):
        if handle is not None and data is None and writable:
            # a handle from mx.base._LIB's functions (_capi.py): this array takes it over
            from .._capi import adopt
            source = adopt(handle, NDArray)
            data, ctx, var = source._data, source._ctx, source._var
        elif handle is not None or data is None or not writable:
            raise MXNetError("NDArray(handle, writable): mxcy arrays hold their buffers; a handle must come from "
                             "mx.base._LIB's functions, and arrays are always writable")
        self._data = data
        self._ctx = ctx if ctx is not None else current_context()
        self._var = engine.new_var() if var is None else var
        self._grad = None
        self._grad_req = "null"
        self._node = None
        self._fresh_grad = False  # set when backward writes .grad; Trainer.step clears it (stale-gradient check)

    # --- properties -------------------------------------------------------------------------
    @property
    def shape(self):
        return tuple(self._data.shape)

    @property
    def ndim(self):
        return len(self._data.shape)

    @property
    def size(self):
        return int(np.prod(self._data.shape, dtype=np.int64))

    @property
    def dtype(self):
        return self._data.dtype.type

    @property
    def context(self):
        return self._ctx

    ctx = context

    @property
    def handle(self):
        """A ctypes.c_void_p naming this array for mx.base._LIB's functions (_capi.py)."""
        from .._capi import handle_of
        return handle_of(self)

    @property
    def writable(self):
        return True

    @property
    def T(self):
        if self.ndim > 2:
            raise MXNetError(f"T: only 1-D and 2-D arrays can be transposed, got shape {self.shape}")
        return self.transpose()

    @property
    def grad(self):
        return self._grad

    def __len__(self):
        return self._data.shape[0]

    def __repr__(self):
        shape = "x".join(str(d) for d in self.shape)
        return f"\n{self.asnumpy()}\n<{type(self).__name__} {shape} @{self._ctx}>"

    def __hash__(self):
        return id(self) // 16

    def __bool__(self):
        n = self.size
        if n == 0:
            return False
        if n == 1:
            return bool(self.asscalar())
        raise ValueError("The truth value of an NDArray with multiple elements is ambiguous.")

    def __iter__(self):
        for i in range(self.shape[0]):
            yield self[i]

    # --- synchronisation and conversion ------------------------------------------------------
    def wait_to_read(self):
        engine.wait_for_var(self._var)

    def asnumpy(self):
        """A NumPy copy of the values (waits for pending writes)."""
        engine.wait_for_var(self._var)
        data = self._data
        return data.copy() if isinstance(data, np.ndarray) else data.copy_to_host()

    def __array__(self, dtype=None, copy=None):
        arr = self.asnumpy()
        return arr if dtype is None else arr.astype(dtype, copy=False)

    def asscalar(self):
        if self.size != 1:
            raise ValueError("The current array is not a scalar")
        return self.asnumpy().reshape(())[()]

    def astype(self, dtype, copy=True):
        dtype = np_dtype(dtype, "astype")
        if not copy and dtype == self._data.dtype:
            return self
        return invoke(_get("Cast"), [self], {"dtype": dtype.name})[0]

    def copy(self):
        return self.copyto(self._ctx)

    def copyto(self, other):
        """Copy to a Context (new array) or into an NDArray of the same shape."""
        if isinstance(other, Context):
            out = NDArray(storage.alloc(self._data.shape, self._data.dtype, other), other)
        elif isinstance(other, NDArray):
            if other is self:
                return self
            if other.stype != "default":  # into a sparse array: stored in its storage type, as MXNet does
                other[:] = self
                return other
            if other._data is self._data and other._var is self._var:
                return other  # the same buffer (x[:] = x[:] after `x[:] -= y`): nothing to copy
            out = other
            if out.shape != self.shape:
                raise MXNetError(f"copyto: source shape {self.shape} != destination shape {out.shape}")
        else:
            raise MXNetError(f"copyto: destination must be a Context or NDArray, got {type(other)}")
        src, dst = self._data, out._data
        if out._var is self._var and isinstance(src, np.ndarray) and \
                src.__array_interface__ == dst.__array_interface__:
            return out  # the same memory (x[:] = x[:] after `x[:] -= y`): nothing to copy
        reads = () if out._var is self._var else (self._var,)
        engine.push(lambda: storage.copy_between(src, dst), reads, (out._var,),
                    out._ctx if out._ctx.device_type == "gpu" else self._ctx, 0, "_copyto",
                    src.size <= engine.LIGHT_ELEMENTS)
        return out

    def as_in_context(self, context):
        return self if context == self._ctx else self.copyto(context)

    def tostype(self, stype):
        from .sparse import cast_storage
        return cast_storage(self, stype)

    def detach(self):
        return NDArray(self._data, self._ctx, self._var)

    def as_nd_ndarray(self):
        """This array: it is already an mx.nd array."""
        return self

    def as_np_ndarray(self):
        """An mx.np ndarray sharing this array's memory and autograd state."""
        from ..numpy import ndarray
        return self._shallow_copy(ndarray)

    def _shallow_copy(self, cls):
        """A `cls` array sharing this one's memory and autograd state (MXNet's MXShallowCopyNDArray)."""
        copy = cls(self._data, self._ctx, self._var)
        copy._node, copy._grad, copy._grad_req = self._node, self._grad, self._grad_req
        return copy

    def to_dlpack_for_read(self):
        from .dlpack import to_dlpack_for_read
        return to_dlpack_for_read(self)

    def to_dlpack_for_write(self):
        from .dlpack import to_dlpack_for_write
        return to_dlpack_for_write(self)

    @staticmethod
    def _basic_indexing_slice_is_contiguous(slc_key, shape):
        """Whether basic indexing by the tuple of slices `slc_key` selects one contiguous block of a C-order
        array of `shape` (then MXNet's view shares memory); NumPy's flags decide on a zero-byte stand-in."""
        strides, stride = [], 1
        for d in reversed(shape):
            strides.append(stride)
            stride *= max(d, 1)
        stand_in = np.lib.stride_tricks.as_strided(np.zeros(1, np.uint8), tuple(shape), tuple(reversed(strides)))
        return bool(stand_in[tuple(slc_key)].flags.c_contiguous)

    # --- slices written in place (MXNet's _slice_assign) --------------------------------------------
    def slice_assign(self, rhs, begin, end, step):
        """self[begin:end:step] = rhs over the leading axes (None: the axis' default); returns self."""
        self[_slice_key(begin, end, step)] = rhs
        return self

    def slice_assign_scalar(self, value, begin, end, step):
        """self[begin:end:step] = value over the leading axes; returns self."""
        self[_slice_key(begin, end, step)] = value
        return self

    def split_v2(self, *args, **kwargs):
        from .utils import split_v2
        return split_v2(self, *args, **kwargs)

    # --- autograd ------------------------------------------------------------------------------
    def attach_grad(self, grad_req="write", stype=None):
        from .. import autograd
        autograd.attach_grad(self, grad_req, stype)

    def backward(self, out_grad=None, retain_graph=False, train_mode=True):
        from .. import autograd
        autograd.backward([self], None if out_grad is None else [out_grad], retain_graph,
                          train_mode)

    # --- arithmetic -------------------------------------------------------------------------------
    def _binary(self, other, op_name, scalar_name, out=None):
        """self (op) other by registered op names; the hook sparse subclasses override."""
        return _apply(self, other, _get(op_name), scalar_name and _get(scalar_name), False, out)

    def _rbinary(self, other, op_name, rscalar_name):
        """other (op) self by registered op names; the hook sparse subclasses override."""
        return _apply(self, other, _get(op_name), _get(rscalar_name), True, None)

    __add__ = __radd__ = _binary_method("add")
    __sub__ = _binary_method("subtract")
    __rsub__ = _binary_method("subtract", reverse=True)
    __mul__ = __rmul__ = _binary_method("multiply")
    __truediv__ = _binary_method("divide")
    __rtruediv__ = _binary_method("divide", reverse=True)
    __mod__ = _binary_method("modulo")
    __rmod__ = _binary_method("modulo", reverse=True)
    __pow__ = _binary_method("power")
    __rpow__ = _binary_method("power", reverse=True)
    __eq__ = _binary_method("equal")
    __ne__ = _binary_method("not_equal")
    __gt__ = _binary_method("greater")
    __ge__ = _binary_method("greater_equal")
    __lt__ = _binary_method("lesser")
    __le__ = _binary_method("lesser_equal")

    def __floordiv__(self, o):
        return (self / o).floor()

    def __rfloordiv__(self, o):
        return (o / self).floor()

    def __neg__(self):
        return invoke(_get("_mul_scalar"), [self], _MINUS_ONE)[0]

    def __pos__(self):
        return self

    def __abs__(self):
        return invoke(_get("abs"), [self], _EMPTY)[0]

    __iadd__ = _binary_method("add", inplace=True)
    __isub__ = _binary_method("subtract", inplace=True)
    __imul__ = _binary_method("multiply", inplace=True)
    __itruediv__ = _binary_method("divide", inplace=True)
    __imod__ = _binary_method("modulo", inplace=True)

    def __ifloordiv__(self, o):
        self[:] = self // o
        return self

    def __getstate__(self):
        # MXNet's pickle state ('handle': the array's raw bytes), so pickles load in either library; mxcy
        # also keeps the context, which MXNet's reader ignores.
        from .serialization import dumps_raw
        return {"handle": bytearray(dumps_raw(self.asnumpy())), "ctx": (self._ctx.device_type, self._ctx.device_id)}

    def __setstate__(self, state):
        from .serialization import loads_raw
        ctx = Context(*state["ctx"]) if "ctx" in state else Context("cpu", 0)
        NDArray.__init__(self, storage.from_host(loads_raw(state["handle"]), ctx), ctx)

    def __reduce__(self):
        return (_rebuild, (type(self),), self.__getstate__())

    # --- indexing --------------------------------------------------------------------------------
    def __getitem__(self, key):
        return (_indexing or _bind_indexing()).get_item(self, key)

    def __setitem__(self, key, value):
        (_indexing or _bind_indexing()).set_item(self, key, value)

    def reshape(self, *shape, **kwargs):
        """A view with a new shape (MXNet's special codes 0, -1, -2, -3, -4 and `reverse`)."""
        from .indexing import reshape_view
        if len(shape) == 1 and isinstance(shape[0], (list, tuple)):
            shape = tuple(shape[0])
        if "shape" in kwargs:
            shape = tuple(kwargs.pop("shape"))
        return reshape_view(self, shape, kwargs.pop("reverse", False), **kwargs)


def _rebuild(cls):
    return cls.__new__(cls)


# mxcy.ndarray.indexing and mxcy.autograd, bound on first use (they import this module)
_indexing = None
_autograd = None


def _bind_indexing():
    global _indexing
    from . import indexing
    _indexing = indexing
    return indexing


def _check_inplace(array, *sources):
    """MXNet's refusal to write, while recording, into an array that is in the graph (or from one that is)."""
    global _autograd
    if _autograd is None:
        from .. import autograd as _autograd
    if _autograd.is_recording() and any(x._node is not None for x in (array, *sources) if isinstance(x, NDArray)):
        raise MXNetError("Inplace operations (+=, -=, x[:]=, etc) are not supported when recording with "
                         "autograd: the array is in the recorded graph, whose gradient may need its old value; "
                         "use a new array instead")


_EMPTY = {}
_MINUS_ONE = {"scalar": -1.0}


def array_like(values, like):
    """An NDArray of `values` (NumPy) on `like`'s context with `like`'s dtype."""
    values = np.asarray(values, dtype=like._data.dtype)
    return NDArray(storage.from_host(values, like._ctx), like._ctx)


def _slice_key(begin, end, step):
    begin, end = tuple(begin), tuple(end)
    step = tuple(step) if step else (None,) * len(begin)
    if not len(begin) == len(end) == len(step):
        raise MXNetError(f"slice_assign: begin {begin}, end {end} and step {step} must have one entry per axis")
    return tuple(slice(b, e, s) for b, e, s in zip(begin, end, step))
