"""Operators MXNet registers for sparse storage, here on their dense meaning: cast_storage,
_sparse_retain (mx.nd.sparse.retain), _square_sum, and contrib's straight-through round_ste / sign_ste.
Sparse inputs reach them through mx.nd.sparse's dispatch (ndarray/sparse_ops.py), which keeps the
storage types MXNet 1.9.1 gives; here they compute what a dense graph (mx.sym) needs: NumPy on the CPU, the
element-wise, reduction and select CUDA kernels on a GPU (_sparse_retain's indices checked on the host)."""
import numpy as np

from . import registry
from ._helpers import store
from ._nn_common import host, kernels, on_device_of, scratch, widening
from ..kernels.common import REQ_WRITE
from .reduce import reduce_axes, reduced_shape
from .registry import OpDef, Param

__all__ = []


def _same_shape(attrs, shapes):
    return shapes, [tuple(shapes[0])]


def _pass_through(F, attrs, inputs, outputs, ograds):
    return [ograds[0]]


_STYPE = Param("stype", "str", choices=("default", "row_sparse", "csr"), doc="the storage type to cast to")
registry.register(OpDef(
    "cast_storage", params=(_STYPE,), infer_shape=_same_shape, elementwise=True,
    compute=registry.get("_copy").compute, gradient=_pass_through,
    doc="Casts an array to storage type `stype`; the values are unchanged (a dense array in a graph)."))

# MXNet's straight-through estimators: round / sign forward, the head gradient passed through unchanged.
for _name, _base in (("_contrib_round_ste", "round"), ("_contrib_sign_ste", "sign")):
    registry.register(OpDef(
        _name, infer_shape=_same_shape, elementwise=True, compute=registry.get(_base).compute,
        gradient=_pass_through,
        doc=f"{_base} in the forward pass; the gradient is passed through unchanged (straight-through)."))


def _retain_shape(attrs, shapes):
    data, indices = shapes
    if len(data) < 1 or len(indices) != 1:
        raise ValueError(f"data must have at least 1 dimension and indices 1, got {tuple(data)} and "
                         f"{tuple(indices)}")
    return shapes, [tuple(data)]


def kept_rows(n_rows, indices):
    """Boolean mask of the rows of an n_rows-row array that `indices` names (MXNetError-free: ValueError)."""
    idx = np.asarray(indices)
    if idx.size and (np.any(idx != np.floor(idx)) or idx.min() < 0 or idx.max() >= n_rows):
        raise ValueError(f"indices must be integers in [0, {n_rows}), got {idx.tolist()}")
    mask = np.zeros(n_rows, bool)
    mask[idx.astype(np.int64)] = True
    return mask


def _retain_compute(attrs, inputs, outputs, reqs):  # NumPy on the host
    data, indices = inputs
    store(outputs[0], np.where(kept_rows(data.shape[0], indices).reshape((-1,) + (1,) * (data.ndim - 1)),
                               data, 0).astype(data.dtype, copy=False), reqs[0])


def _retain_gpu(attrs, inputs, outputs, reqs):
    data, indices = inputs
    kept = kept_rows(data.shape[0], indices.copy_to_host()).astype(np.int8)
    zeros = scratch(data, data.dtype)
    kernels("elemwise_gpu").fill_gpu(zeros, 0, REQ_WRITE)
    kernels("select_gpu").where_gpu(on_device_of(data, kept), data, zeros, outputs[0], reqs[0])


registry.register(OpDef(
    "_sparse_retain", arguments=("data", "indices"), infer_shape=_retain_shape,
    infer_type=lambda attrs, types: (types, types[0]), compute={"cpu": _retain_compute, "gpu": _retain_gpu},
    gradient=lambda F, attrs, inputs, outputs, ograds: [F._sparse_retain(ograds[0], inputs[1]), None],
    doc="The rows of `data` named by `indices`; every other row is zero."))

_REDUCE_PARAMS = (Param("axis", "axis", None, "the axes to sum over (None: all)"),
                  Param("keepdims", "bool", False, "keep the summed axes with size 1"),
                  Param("exclude", "bool", False, "sum over every axis except `axis`"))


def _square_sum_shape(attrs, shapes):
    axes = reduce_axes(shapes[0], attrs["axis"], attrs["exclude"])
    return shapes, [reduced_shape(shapes[0], axes, attrs["keepdims"])]


def _square_sum_compute(attrs, inputs, outputs, reqs):  # NumPy on the host
    x = inputs[0]
    axes = reduce_axes(x.shape, attrs["axis"], attrs["exclude"])
    store(outputs[0], np.sum(np.square(x), axis=axes).reshape(outputs[0].shape), reqs[0])


def _square_sum_gpu(attrs, inputs, outputs, reqs):
    x, k = inputs[0], kernels("elemwise_gpu")
    squares = scratch(x, x.dtype)
    k.unary_gpu("square", x, squares, REQ_WRITE)
    k.reduce_gpu(squares, outputs[0], reduce_axes(x.shape, attrs["axis"], attrs["exclude"]), "sum", reqs[0])


def _square_sum_gradient(F, attrs, inputs, outputs, ograds):
    x = inputs[0]
    kept = reduced_shape(x.shape, reduce_axes(x.shape, attrs["axis"], attrs["exclude"]), True)
    spread = F.broadcast_like(F.reshape(ograds[0], shape=kept), x)
    return [F.broadcast_mul(F._mul_scalar(x, scalar=2.0), spread)]


registry.register(OpDef(
    "_square_sum", params=_REDUCE_PARAMS, infer_shape=_square_sum_shape,
    compute={"cpu": _square_sum_compute, "gpu": widening(_square_sum_gpu)}, gradient=_square_sum_gradient,
    doc="The sum of the squares of the elements over `axis` (MXNet's sparse-friendly square_sum)."))


def _getnnz_shape(attrs, shapes):
    shape, axis = tuple(shapes[0]), attrs["axis"]
    if len(shape) != 2 or axis not in (None, 0, 1):
        raise ValueError(f"getnnz takes a 2-D matrix and axis None, 0 or 1, got shape {shape} and axis {axis}")
    return shapes, [(1,) if axis is None else (shape[1 - axis],)]


def _getnnz_compute(attrs, inputs, outputs, reqs):  # NumPy on the host
    axis = attrs["axis"]
    store(outputs[0], np.count_nonzero(inputs[0], axis=axis).reshape(outputs[0].shape), reqs[0])


def _getnnz_gpu(attrs, inputs, outputs, reqs):
    x, k = inputs[0], kernels("elemwise_gpu")
    nonzero = scratch(x, np.int64)
    k.scalar_gpu("not_equal", x, 0, nonzero, False, REQ_WRITE)
    axis = attrs["axis"]
    k.reduce_gpu(nonzero, outputs[0], tuple(range(x.ndim)) if axis is None else (axis,), "sum", reqs[0])


registry.register(OpDef(
    "_contrib_getnnz", params=(Param("axis", "axis", None, "None: the whole matrix, 0: per column, 1: per "
                                     "row"),),
    infer_shape=_getnnz_shape, infer_type=lambda attrs, types: (types, np.dtype(np.int64)),
    compute={"cpu": _getnnz_compute, "gpu": widening(_getnnz_gpu)},
    doc="How many values a matrix stores (a csr matrix: its stored entries; a dense one: its non-zeros)."))


def _scatter_twin(name, dense_name, what):
    """MXNet's _scatter_* op: `dense_name` on dense arrays (same computes, shape and gradient); on a sparse left
    operand only its stored entries are computed (ndarray/sparse_ops.py), the storage rule is
    ndarray/sparse_stypes.py's."""
    dense = registry.get(dense_name)
    registry.register(OpDef(
        name, params=tuple(dense.params.values()), arguments=dense.arguments, infer_shape=dense.infer_shape,
        infer_type=dense.infer_type, elementwise=dense.elementwise, compute=dict(dense.compute),
        gradient=dense.gradient, grad_reads=dense.grad_reads,
        doc=f"{what}; on a row_sparse{' or csr' if 'scalar' in name else ''} left operand only its stored "
            "values are computed and the result keeps its storage."))


_scatter_twin("_scatter_elemwise_div", "elemwise_div", "lhs / rhs element-wise")
_scatter_twin("_scatter_plus_scalar", "_plus_scalar", "data + scalar element-wise")
_scatter_twin("_scatter_minus_scalar", "_minus_scalar", "data - scalar element-wise")
