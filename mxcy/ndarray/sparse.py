"""mx.nd.sparse: CSRNDArray / RowSparseNDArray, creation, cast_storage, dot, elementwise ops, and
the StoredArray conversions of mx.nd.save / load. A sparse array holds NDArrays for its parts (each
with its own engine var) and no dense buffer: dense-only code that touches one fails loudly."""
import operator
import sys
# mx.nd.sparse.slice (the operator) takes the builtin's name in this module
from builtins import slice as py_slice

import numpy as np

from .. import autograd, storage
from ..error import MXNetValueError
from ..base import MXNetError, NotSupportedForSparseNDArray, np_dtype, numeric_types
from ..context import Context, current_context
from ..ops import registry
from ..ops import sparse as _parts
from ..ops.invoke import infer, invoke
from . import sparse_ops, sparse_update
from .sparse_stypes import storage_types
from .ndarray import NDArray

# cast_storage, dot, retain (gs_retain), elemwise_add/sub: the registered operators' functions (ndarray/
# register.py fills them in); their sparse inputs and results come through `dispatch` below.
__all__ = ["BaseSparseNDArray", "CSRNDArray", "RowSparseNDArray", "csr_matrix",
           "row_sparse_array", "zeros", "empty", "array", "add", "subtract", "multiply", "divide",
           "to_stored", "from_stored", "dispatch"]

_STYPES = ("default", "csr", "row_sparse")


def _op(name, inputs, out=None, **attrs):
    op = registry.get(name)
    return invoke(op, inputs, op.parse_attrs(attrs), out)[0]


def _nd(values, ctx):
    return NDArray(storage.from_host(np.ascontiguousarray(values), ctx), ctx)


def _ctx(ctx):
    return current_context() if ctx is None else ctx if isinstance(ctx, Context) else Context(ctx)


def _dense_only(self):
    # Name the operator (invoke's `op`) or the function that asked, skipping "<listcomp>" frames.
    frame = sys._getframe(1)
    while frame.f_code.co_name.startswith("<") and frame.f_back is not None:
        frame = frame.f_back
    what = getattr(frame.f_locals.get("op"), "name", None) or frame.f_code.co_name
    err = NotSupportedForSparseNDArray(what, None)
    err.args = (f"{err.args[0]} Got a {type(self).__name__} of shape {self.shape}; convert it "
                f"with .tostype('default') first.",)
    raise err


class BaseSparseNDArray(NDArray):
    """Parts are NDArrays: `_values`, and `_aux` in MXNet's aux order; `_shape` is logical."""
    __slots__ = ("_values", "_aux", "_shape")
    _data = property(_dense_only, doc="Sparse arrays have no dense buffer.")

    def __init__(self, values, aux, shape, ctx):
        self._values, self._aux, self._shape = values, tuple(aux), tuple(int(d) for d in shape)
        self._ctx, self._var, self._grad, self._grad_req, self._node = ctx, None, None, "null", None
        self._fresh_grad = False

    shape = property(lambda self: self._shape)
    _num_aux = property(lambda self: len(self._aux), doc="How many index arrays (csr: 2, row_sparse: 1).")
    ndim = property(lambda self: len(self._shape))
    size = property(lambda self: int(np.prod(self._shape, dtype=np.int64)))
    dtype = property(lambda self: self._values.dtype)
    indices = property(lambda self: self._aux[-1].copy(), doc="A copy of the index array.")
    data = property(lambda self: self._values.copy(), doc="A copy of the stored values.")

    def __len__(self):
        return self._shape[0]

    def __repr__(self):
        return f"\n<{type(self).__name__} {'x'.join(map(str, self._shape))} @{self._ctx}>"

    def _parts(self):
        return (self._values,) + self._aux

    def _host(self):
        """(values, aux) as NumPy arrays, after waiting for pending writes."""
        return self._values.asnumpy(), tuple(a.asnumpy() for a in self._aux)

    def _like(self, values, aux=None):
        return type(self)(values, self._aux if aux is None else aux, self._shape, self._ctx)

    def wait_to_read(self):
        for part in self._parts():
            part.wait_to_read()

    def asnumpy(self):
        return to_stored(self).todense()

    def astype(self, dtype, copy=True):
        dtype = np_dtype(dtype, "astype")
        if not copy and dtype == np.dtype(self.dtype):
            return self
        return self._like(self._values.astype(dtype), tuple(a.copy() for a in self._aux))

    def copyto(self, other):
        """Copy to a Context (new array), into a sparse array of this type, or into a dense one."""
        if isinstance(other, Context):
            return type(self)(self._values.copyto(other), [a.copyto(other) for a in self._aux],
                              self._shape, other)
        if isinstance(other, type(self)):
            if other is not self:
                other._take(self, "copyto")
            return other
        if isinstance(other, BaseSparseNDArray):
            raise MXNetError(f"copyto: cannot copy a {type(self).__name__} into a "
                             f"{type(other).__name__}")
        return _cast_storage(self, "default").copyto(other)

    def _take(self, src, func):
        """Make this array hold a copy of `src` (same storage type and shape), MXNet's [:] = src."""
        if src.shape != self._shape:
            raise MXNetError(f"{func}: source shape {src.shape} != destination shape {self._shape}")
        values = src._values.copyto(self._ctx)
        self._values = values if values.dtype == self.dtype else values.astype(self.dtype)
        self._aux = tuple(a.copyto(self._ctx) for a in src._aux)

    def detach(self):
        return self._like(self._values)

    def check_format(self, full_check=True):
        """Raise MXNetError unless the parts form a valid array (full_check: values too)."""
        _parts.validate("check_format", self.stype, self._shape, *self._host(), full_check)

    def reshape(self, *shape, **kwargs):
        raise NotSupportedForSparseNDArray(self.reshape, None, shape)

    def __setitem__(self, key, value):
        if not (isinstance(key, py_slice) and key == py_slice(None)):
            raise MXNetError(f"__setitem__: {type(self).__name__} supports only x[:] = value, "
                             f"got key {key!r}")
        if isinstance(value, numeric_types) and self.stype == "row_sparse":  # MXNet fills every row
            value = np.full(self._shape, value, self.dtype)
        if isinstance(value, (np.ndarray, list, tuple)):
            value = _nd(np.asarray(value, self.dtype), self._ctx)
        if isinstance(value, NDArray) and value.stype in ("default", self.stype):
            self._take(value if value.stype == self.stype else _cast_storage(value, self.stype),
                       "__setitem__")
        else:
            raise MXNetError(f"__setitem__: cannot assign {type(value).__name__} to a "
                             f"{type(self).__name__}")

    def _binary(self, other, op_name, scalar_name, out=None):
        if out is not None:  # x += y: the result in x's storage type
            out[:] = self._binary(other, op_name, scalar_name)
            return out
        if isinstance(other, numeric_types) and scalar_name is not None:
            op = registry.get(scalar_name)
            attrs = op.parse_attrs({"scalar": other})
            result = sparse_ops.sparse_result(op, [self], attrs, storage_types(op, attrs, [self.stype]))
            if result is not None:
                _record_sparse_results(op, [self], attrs, result)
                return result[0]
        kind = _KINDS.get(op_name)
        if kind and _same_layout(self, other):
            result = [_combine(self, other, kind)]
            _record_sparse_results(registry.get(op_name), [self, other], {}, result)
            return result[0]
        return _dense(self)._binary(_dense(other), op_name, scalar_name)

    def _rbinary(self, other, op_name, rscalar_name):
        return _dense(self)._rbinary(other, op_name, rscalar_name)

    def __neg__(self):
        return self._binary(-1.0, "broadcast_mul", "_mul_scalar")

    def __abs__(self):
        return self._like(_op("abs", [self._values]))

    def __getstate__(self):
        values, aux = self._host()
        return {"shape": self._shape, "values": values, "aux": aux, "ctx": self._ctx.device_type,
                "device_id": self._ctx.device_id}

    def __setstate__(self, state):
        ctx = Context(state["ctx"], state["device_id"])
        BaseSparseNDArray.__init__(self, _nd(state["values"], ctx),
                                   [_nd(a, ctx) for a in state["aux"]], state["shape"], ctx)


def _reflected(name, op_name):
    inherited = getattr(NDArray, name)

    def method(self, other):
        if isinstance(other, NDArray):  # a dense left operand: MXNet's storage fallback
            return other._binary(_dense(self), op_name, None)
        return inherited(self, other)
    method.__name__ = name
    return method


# Defined on the sparse class, these run before the dense left operand's own method (Python
# prefers a subclass's reflected operator), which could not handle a sparse right operand.
for _name, _op_name in (("__radd__", "broadcast_add"), ("__rsub__", "broadcast_sub"),
                        ("__rmul__", "broadcast_mul"), ("__rtruediv__", "broadcast_div"),
                        ("__rmod__", "broadcast_mod"), ("__rpow__", "broadcast_power")):
    setattr(BaseSparseNDArray, _name, _reflected(_name, _op_name))


class CSRNDArray(BaseSparseNDArray):
    """A 2-D compressed sparse row matrix: `data`, column `indices` and row pointers `indptr`."""
    __slots__ = ()
    stype = "csr"
    indptr = property(lambda self: self._aux[0].copy(), doc="A copy of the row pointer array.")

    def __getitem__(self, key):
        """Rows: x[i] or x[start:stop] give a CSRNDArray of those rows."""
        n = self._shape[0]
        if isinstance(key, (int, np.integer)):
            if not -n <= key < n:
                raise MXNetError(f"__getitem__: row {key} is out of range for shape {self._shape}")
            key = py_slice(key % n, key % n + 1)
        if not isinstance(key, py_slice) or key.step not in (None, 1):
            raise MXNetError(f"__getitem__: CSRNDArray supports only an int or a slice with step 1 "
                             f"over rows, got {key!r}")
        start, stop, _ = key.indices(n)
        stop = max(start, stop)
        return _make("csr", (stop - start, self._shape[1]),
                     *_parts.csr_rows(*self._host(), start, stop), self._ctx)

    def asscipy(self):
        """This matrix as a scipy.sparse.csr_matrix."""
        from scipy import sparse
        if self.dtype == np.float16:
            raise MXNetError(f"asscipy: scipy.sparse has no float16 (shape {self._shape}); "
                             "convert with astype('float32') first")
        values, (indptr, indices) = self._host()
        return sparse.csr_matrix((values, indices, indptr), shape=self._shape)


class RowSparseNDArray(BaseSparseNDArray):
    """An array whose stored rows (`data`) are listed by `indices`; other rows are zero."""
    __slots__ = ()
    stype = "row_sparse"

    def __getitem__(self, key):
        if isinstance(key, py_slice) and key == py_slice(None):
            return self
        raise MXNetError(f"__getitem__: RowSparseNDArray supports only x[:], got {key!r}")

    def retain(self, *args, **kwargs):
        """mx.nd.sparse.retain(self, indices): the registered operator's function, set at import."""
        return globals()["retain"](self, *args, **kwargs)


_CLASSES = {"csr": CSRNDArray, "row_sparse": RowSparseNDArray}


def _make(stype, shape, values, aux, ctx):
    """A sparse array from host parts (assumed valid); index arrays are stored as int64."""
    return _CLASSES[stype](_nd(values, ctx), [_nd(np.asarray(a, np.int64), ctx) for a in aux],
                           shape, ctx)


def _index_array(func, name, values):
    arr = values.asnumpy() if isinstance(values, NDArray) else np.asarray(values)
    if arr.dtype.kind in "iu" or arr.dtype.kind == "f" and np.all(np.floor(arr) == arr):
        return arr.astype(np.int64)
    raise MXNetError(f"{func}: {name} must hold integers, got {arr.dtype} of shape {arr.shape}")


def _values_of(source, dtype):
    """Host values in `dtype`, else in the source's dtype (float32 for lists), as MXNet does."""
    values = source.asnumpy() if isinstance(source, NDArray) else np.asarray(source)
    if dtype is None and not isinstance(source, (NDArray, np.ndarray)):
        dtype = np.float32
    return values.astype(np_dtype(dtype or values.dtype, "sparse", "dtype"), copy=False)


def _dense_array(func, source, shape, ctx, dtype, stype):
    values = _values_of(source, dtype)
    if shape is not None and tuple(shape) != values.shape:
        raise MXNetValueError(f"{func}: shape {tuple(shape)} does not match the source's shape "
                         f"{values.shape}")
    return _make(stype, values.shape, *_parts.dense_to_parts(stype, values), _ctx(ctx))


def _copy_as(func, source, ctx, dtype, shape):
    if shape is not None and tuple(shape) != source.shape:
        raise MXNetValueError(f"{func}: shape {tuple(shape)} does not match the source's shape "
                         f"{source.shape}")
    out = source.copyto(_ctx(ctx) if ctx is not None else source.context)
    return out if dtype is None else out.astype(dtype, copy=False)


def _same_shape(func, arg1, shape):
    if shape is not None and tuple(int(d) for d in shape) != tuple(int(d) for d in arg1):
        raise MXNetValueError(f"{func}: shape {tuple(shape)} does not match the shape {tuple(arg1)} given as arg1")


def csr_matrix(arg1, shape=None, ctx=None, dtype=None):
    """A CSRNDArray from (data, indices, indptr), (data, (row, col)), a shape (M, N), a dense
    array, a CSRNDArray or a scipy.sparse matrix."""
    if isinstance(arg1, CSRNDArray):
        return _copy_as("csr_matrix", arg1, ctx, dtype, shape)
    if isinstance(arg1, BaseSparseNDArray):
        raise MXNetError(f"csr_matrix: unexpected input type {type(arg1).__name__}")
    if type(arg1).__module__.startswith("scipy.sparse"):
        src = arg1.tocsr(copy=True)
        src.sum_duplicates()  # also sorts the column indices: MXNet's canonical form
        arg1 = (src.data, src.indices, src.indptr)
        shape = src.shape if shape is None else shape
    if not isinstance(arg1, tuple):
        return _dense_array("csr_matrix", arg1, shape, ctx, dtype, "csr")
    if len(arg1) == 2 and all(isinstance(d, (int, np.integer)) for d in arg1):
        _same_shape("csr_matrix", arg1, shape)
        return zeros("csr", arg1, ctx, dtype)
    if len(arg1) == 2 and isinstance(arg1[1], (tuple, list)) and len(arg1[1]) == 2:
        from scipy import sparse
        values = _values_of(arg1[0], dtype)
        row, col = (_index_array("csr_matrix", n, a) for n, a in zip(("row", "col"), arg1[1]))
        if shape is None:
            raise MXNetError("csr_matrix: shape is required for (data, (row, col)) input")
        return csr_matrix(sparse.coo_matrix((values, (row, col)), shape=tuple(shape)), ctx=ctx)
    if len(arg1) != 3:
        raise MXNetError(f"csr_matrix: expected (data, indices, indptr), (data, (row, col)) or "
                         f"(M, N), got a tuple of {len(arg1)} items")
    values = _values_of(arg1[0], dtype)
    indices, indptr = (_index_array("csr_matrix", n, a) for n, a in zip(("indices", "indptr"),
                                                                        arg1[1:]))
    if shape is None:
        if not indices.size:
            raise MXNetValueError("csr_matrix: shape is required when indices is empty (no column count to infer)")
        shape = (indptr.size - 1, int(indices.max()) + 1)
    shape = tuple(int(d) for d in shape)
    # As MXNet: the parts' shapes are checked here, their index values by check_format()
    _parts.validate("csr_matrix", "csr", shape, values, (indptr, indices), full=False)
    return _make("csr", shape, values, (indptr, indices), _ctx(ctx))


def row_sparse_array(arg1, shape=None, ctx=None, dtype=None):
    """A RowSparseNDArray from (data, indices), a shape, a dense array or a RowSparseNDArray."""
    if isinstance(arg1, RowSparseNDArray):
        return _copy_as("row_sparse_array", arg1, ctx, dtype, shape)
    if isinstance(arg1, BaseSparseNDArray):
        raise MXNetError(f"row_sparse_array: unexpected input type {type(arg1).__name__}")
    if not isinstance(arg1, tuple):
        return _dense_array("row_sparse_array", arg1, shape, ctx, dtype, "row_sparse")
    if arg1 and all(isinstance(d, (int, np.integer)) for d in arg1):
        _same_shape("row_sparse_array", arg1, shape)
        return zeros("row_sparse", arg1, ctx, dtype)
    if len(arg1) != 2:
        raise MXNetError(f"row_sparse_array: expected (data, indices) or a shape, got a tuple of "
                         f"{len(arg1)} items")
    values = _values_of(arg1[0], dtype)
    indices = _index_array("row_sparse_array", "indices", arg1[1])
    if shape is None:
        if not indices.size:
            raise MXNetValueError("row_sparse_array: shape is required when indices is empty")
        shape = (int(indices.max()) + 1,) + values.shape[1:]
    shape = tuple(int(d) for d in shape)
    _parts.validate("row_sparse_array", "row_sparse", shape, values, (indices,), full=False)  # see csr_matrix
    return _make("row_sparse", shape, values, (indices,), _ctx(ctx))


def zeros(stype, shape, ctx=None, dtype=None, **kwargs):
    """An all-zero array of storage type `stype` (nothing stored)."""
    shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(d) for d in shape)
    dtype = np_dtype(dtype, "zeros")
    if stype == "default":
        from .utils import zeros as dense_zeros
        return dense_zeros(shape, ctx=ctx, dtype=dtype, **kwargs)
    if stype == "csr" and len(shape) == 2:
        parts = (np.zeros(shape[0] + 1, np.int64), np.zeros(0, np.int64))
        return _make("csr", shape, np.zeros(0, dtype), parts, _ctx(ctx))
    if stype == "row_sparse" and shape:
        return _make("row_sparse", shape, np.zeros((0,) + shape[1:], dtype),
                     (np.zeros(0, np.int64),), _ctx(ctx))
    raise MXNetValueError(f"zeros: invalid stype {stype!r} for shape {shape}; expected 'default', "
                     "'csr' (2-D) or 'row_sparse'")


empty = zeros


def array(source_array, ctx=None, dtype=None):
    """A sparse copy of a sparse NDArray or a scipy.sparse matrix (which becomes a CSRNDArray)."""
    if isinstance(source_array, BaseSparseNDArray):
        return _copy_as("array", source_array, ctx, dtype, None)
    if type(source_array).__module__.startswith("scipy.sparse"):
        return csr_matrix(source_array, ctx=ctx, dtype=dtype)
    raise MXNetError(f"array: expected a sparse NDArray or scipy.sparse matrix, got "
                     f"{type(source_array).__name__}")


def _csr_parts(csr):
    return [csr._values, csr._aux[1], csr._aux[0]]  # the order of the part operators' inputs


def _dense(x):
    """x as a dense array; while recording, a sparse array on the tape (a row_sparse weight marked for
    autograd) stays on it through the conversion, so its gradient reaches x's row_sparse .grad."""
    if not isinstance(x, BaseSparseNDArray):
        return x
    dense = _cast_storage(x, "default")
    if x._node is not None and autograd.is_recording():
        autograd.record_python("cast_storage", [x], [dense], lambda ograds: [ograds[0]])
    return dense


def _cast_storage(data, stype):
    """`data` converted to storage type 'default', 'csr' (2-D) or 'row_sparse'."""
    if stype not in _STYPES:
        raise MXNetError(f"cast_storage: unknown stype {stype!r}; expected one of {_STYPES}")
    if not isinstance(data, NDArray):
        raise MXNetError(f"cast_storage: data must be an NDArray, got {type(data).__name__}")
    if data.stype == stype:
        return data.copy()
    if data.stype == "default":
        if stype == "csr" and data.ndim != 2:
            raise MXNetValueError(f"cast_storage: csr needs a 2-D array, got shape {data.shape}")
        return _make(stype, data.shape, *_parts.dense_to_parts(stype, data.asnumpy()), data.context)
    if stype != "default":
        raise MXNetError(f"cast_storage: {data.stype} to {stype} is not supported (shape "
                         f"{data.shape}); go through 'default'")
    if data.stype == "csr":
        return _op("_csr_todense", _csr_parts(data), csr_shape=data.shape)
    return _op("_rsp_todense", [data._values, data._aux[0]], shape=data.shape)


def _dot(lhs, rhs, transpose_a=False, transpose_b=False, forward_stype=None):
    """op(lhs) @ op(rhs) with sparse operands; output storage as MXNet's dot chooses it:
    csr x dense -> dense, csr.T x dense -> row_sparse, dense x csr -> csr, else dense
    (`forward_stype` overrides)."""
    if forward_stype not in (None,) + _STYPES:
        raise MXNetError(f"dot: unknown forward_stype {forward_stype!r}")
    if not isinstance(lhs, NDArray) or not isinstance(rhs, NDArray):
        raise MXNetError(f"dot: operands must be NDArrays, got {type(lhs)} and {type(rhs)}")
    ta, tb = bool(transpose_a), bool(transpose_b)
    target = "default"
    if lhs.stype == "csr" and rhs.stype != "csr":
        out = _op("_csr_dot", _csr_parts(lhs) + [_dense(rhs)], csr_shape=lhs.shape,
                  transpose_a=ta, transpose_b=tb)
        if ta and not tb and forward_stype in (None, "row_sparse"):
            # MXNet stores one output row per column index that occurs in lhs.
            rows = np.unique(lhs._aux[1].asnumpy())
            return _make("row_sparse", out.shape, out.asnumpy()[rows], (rows,), out.context)
    elif rhs.stype == "csr" and lhs.stype != "csr":
        out = _op("_dot_dns_csr", [_dense(lhs)] + _csr_parts(rhs), csr_shape=rhs.shape,
                  transpose_a=ta, transpose_b=tb)
        target = "csr" if not (ta or tb) else target
    else:
        out = _op("dot", [_dense(lhs), _dense(rhs)], transpose_a=ta, transpose_b=tb)
    target = forward_stype or target
    return out if target == "default" else _cast_storage(out, target)


def _retain(data, indices):
    """The rows of row_sparse `data` whose index is in `indices`; other rows become zero."""
    if not isinstance(data, RowSparseNDArray):
        raise MXNetError(f"retain: data must be a RowSparseNDArray, got {type(data).__name__}")
    values, (rows,) = data._host()
    mask = np.isin(rows, _index_array("retain", "indices", indices))
    return _make("row_sparse", data.shape, values[mask], (rows[mask],), data.context)


_KINDS = {"broadcast_add": "add", "elemwise_add": "add", "_plus": "add", "_add": "add",
          "broadcast_sub": "sub", "elemwise_sub": "sub", "_minus": "sub", "_sub": "sub",
          "broadcast_mul": "mul", "elemwise_mul": "mul", "_mul": "mul"}


def _same_layout(a, b):
    return isinstance(a, BaseSparseNDArray) and isinstance(b, BaseSparseNDArray) and \
        a.stype == b.stype and a.shape == b.shape


def _combine(a, b, kind):
    if a.dtype != b.dtype:
        raise MXNetError(f"elemwise_{kind}: dtypes differ, {np.dtype(a.dtype).name} and "
                         f"{np.dtype(b.dtype).name} (shape {a.shape})")
    values, aux = _parts.combine_parts(a.stype, a.shape, a._host(), b._host(), kind)
    return _make(a.stype, a.shape, values, aux, a.context)


def _elementwise(kind, pyop):
    def fn(lhs, rhs):
        if kind != "div" and _same_layout(lhs, rhs):
            return _combine(lhs, rhs, kind)
        scalar = isinstance(rhs, numeric_types) or kind == "mul" and isinstance(lhs, numeric_types)
        if scalar and kind in ("mul", "div"):
            return pyop(lhs, rhs)  # a sparse array scaled by a number stays sparse
        return pyop(_dense(lhs), _dense(rhs))
    fn.__name__ = kind
    fn.__doc__ = f"Elementwise {kind}, sparse for one sparse layout or scaling, else dense."
    return fn


add = _elementwise("add", operator.add)
subtract = _elementwise("sub", operator.sub)
multiply = _elementwise("mul", operator.mul)
divide = _elementwise("div", operator.truediv)


def dispatch(op, inputs, attrs, out=None):
    """What calling registered `op` does when an input or `out` is sparse, or it is asked for a sparse
    result (cast_storage, dot's forward_stype): results in the storage types of op's rule
    (sparse_stypes.storage_types, which the Executor's inference reads too), computed on the sparse structure
    where there is such a compute (op.compute_ex, sparse_ops.py, dot, elementwise add/sub/mul of one sparse
    layout), else MXNet's storage fallback: dense inputs, a dense result, cast to the rule's storage type and to
    a sparse `out`."""
    if sparse_update.is_update(op):
        return sparse_update.row_sparse_update(op, inputs, attrs, out)
    targets = storage_types(op, attrs, [x.stype for x in inputs])
    if op.compute_ex is not None:
        infer(op, attrs, [x.shape for x in inputs], [x.dtype for x in inputs])  # the op's shape and type checks
        result = op.compute_ex(attrs, inputs)
    elif op.name == "dot":
        keys = ("transpose_a", "transpose_b", "forward_stype")
        result = [_dot(*inputs, **{k: attrs[k] for k in keys if k in attrs})]
    elif _KINDS.get(op.name) and len(inputs) == 2 and _same_layout(*inputs):
        result = [_combine(*inputs, _KINDS[op.name])]
    else:
        result = sparse_ops.sparse_result(op, inputs, attrs, targets) if inputs else None
    if result is not None:
        _record_sparse_results(op, inputs, attrs, result)
    outs = out if isinstance(out, (list, tuple)) else [out]
    if result is None:
        dense_out = None if any(isinstance(o, BaseSparseNDArray) for o in outs) or \
            any(t != "default" for t in targets) else out
        result = invoke(op, [_dense(x) for x in inputs], attrs, dense_out,
                        None if inputs else outs[0].context)  # an op without inputs runs on out's context
        if dense_out is not None:
            return result
        result = [_stored_as(r, t) for r, t in zip(result, targets)]
    if out is None:
        return result
    for dst, src in zip(outs, result):
        dst[:] = src if dst.stype == src.stype else _cast_storage(src, dst.stype)
    return list(outs)


def _stored_as(dense, stype):
    """A dense result in storage type `stype`; while recording, the cast passes gradients straight through."""
    if stype == "default":
        return dense
    result = _cast_storage(dense, stype)
    if dense._node is not None and autograd.is_recording():
        autograd.record_python("cast_storage", [dense], [result], lambda ograds: [ograds[0]])
    return result


def _record_sparse_results(op, inputs, attrs, result):
    """While recording, put sparse results computed off the tape (host structure code) on it: the op runs
    again densely through invoke, which records its gradient, and each result passes its head gradient to
    the dense twin. Values agree by construction; only recorded calls pay for the second run."""
    if not autograd.is_recording() or all(x._node is None for x in inputs) or \
            all(r._node is not None for r in result):
        return
    twins = invoke(op, [_dense(x) for x in inputs], attrs)
    for res, twin in zip(result, twins):
        if res._node is None:
            autograd.record_python(f"{op.name}_sparse_result", [twin], [res], lambda ograds: [ograds[0]])


def to_stored(nd):
    """The StoredArray that mx.nd.save writes for `nd` (waits for its pending writes)."""
    from .serialization import StoredArray
    if isinstance(nd, BaseSparseNDArray):
        values, aux = nd._host()
        return StoredArray(nd.stype, nd.shape, values, aux)
    return StoredArray("default", nd.shape, nd.asnumpy())


def from_stored(stored, ctx=None):
    """NDArray, CSRNDArray or RowSparseNDArray of a StoredArray (None stays None), on cpu(0)."""
    if stored is None:
        return None
    ctx = Context("cpu", 0) if ctx is None else _ctx(ctx)
    if stored.stype == "default":
        return NDArray(storage.from_host(stored.data, ctx), ctx)
    _parts.validate("load", stored.stype, stored.shape, stored.data, stored.aux)
    return _make(stored.stype, stored.shape, stored.data, stored.aux, ctx)


def __getattr__(name):
    if name == "gs_retain":  # MXNet's generated retain, under a second name
        return globals()["retain"]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
