"""Optimizer update ops on sparse arrays, as MXNet 1.9.1 dispatches them: lazy row updates for row_sparse
gradients (sgd_update, sgd_mom_update, adam_update, ftrl_update, adagrad, group adagrad), the dense rule otherwise.

A lazy update touches only the rows the gradient holds: for sgd with lazy_update; for sgd_mom/adam with
lazy_update when the states have the weight's storage type; for ftrl when weight and states are row_sparse.
Otherwise (the standard update) the gradient counts as dense, zero in its absent rows, and other sparse inputs
(csr) are computed on dense copies written back (MXNet's storage fallback). row_sparse weights
must hold every row (MXNet's CheckAllRowsPresent); row_sparse states that hold none start as zeros.

The lazy update is one engine op: the rows are gathered with NumPy on the host, updated by the op's own
compute (the dense rule's Numba kernel) and scattered back.
"""
import numpy as np

from .. import engine, storage
from ..base import MXNetError
from ..kernels.common import REQ_WRITE
from ..ops.invoke import invoke

__all__ = ["ROW_SPARSE_UPDATES", "is_update", "row_sparse_update"]

# the update ops with a lazy form for row_sparse gradients
ROW_SPARSE_UPDATES = frozenset({"sgd_update", "sgd_mom_update", "adam_update", "ftrl_update",
                                "_sparse_adagrad_update", "_contrib_group_adagrad_update"})


def is_update(op):
    """Whether `op` is an optimizer update (its inputs start with weight and grad)."""
    return tuple(op.arguments[:2]) == ("weight", "grad") if isinstance(op.arguments, tuple) else False


def _new(values, ctx):
    from .ndarray import NDArray
    return NDArray(storage.from_host(values, ctx), ctx)


def _has_all_rows(op, array, what, required):
    """Whether row_sparse `array` holds every row (an empty state is given all rows, zero, first); `required`
    turns a partly filled weight into MXNet's error."""
    nnz = array._values.shape[0]
    if nnz == 0 and what != "weight":
        ctx = array.context
        array._values = _new(np.zeros(array.shape, array.dtype), ctx)
        array._aux = (_new(np.arange(array.shape[0], dtype=np.int64), ctx),)
        return True
    if nnz != array.shape[0] and required:
        raise MXNetError(f"{op.name}: the row_sparse {what} of shape {array.shape} holds {nnz} rows; sparse "
                         f"updates need every row of the {what} present")
    return nnz == array.shape[0]


def _is_lazy(op, attrs, weight, states):
    if op.name == "ftrl_update":
        return weight.stype == "row_sparse" and all(s.stype == "row_sparse" for s in states)
    # the AdaGrads have no lazy_update switch: their row_sparse form is always lazy
    return attrs.get("lazy_update", True) and all(s.stype == weight.stype for s in states)


def row_sparse_update(op, inputs, attrs, out):
    """Run update op `op` (is_update) on inputs some of which are sparse: the lazy row update where MXNet
    does one, else the dense rule on dense views (a full row_sparse array's values) or dense copies written
    back (MXNet's storage fallback, e.g. for csr)."""
    from .sparse import cast_storage
    weight, grad = inputs[0], inputs[1]
    if tuple(grad.shape) != tuple(weight.shape):
        raise MXNetError(f"{op.name}: gradient of shape {grad.shape} does not match the weight's {weight.shape}")
    outputs = out if isinstance(out, (list, tuple)) else [out]
    in_place = len(outputs) == 1 and outputs[0] is weight
    if any(o is not None and o.stype != "default" and o is not weight for o in outputs):
        raise MXNetError(f"{op.name}: out= must be the weight or a dense array")
    sparse_grad = grad.stype == "row_sparse" and op.name in ROW_SPARSE_UPDATES
    mutated = [0] + list(op.mutated_inputs(attrs))
    views, write_back = list(inputs), []
    for i in mutated:
        x = inputs[i]
        if x.stype == "default":
            continue
        if x.stype == "row_sparse" and _has_all_rows(op, x, "weight" if i == 0 else "state", sparse_grad):
            views[i] = x._values
        else:
            views[i] = cast_storage(x, "default")
            write_back.append(i)
    if sparse_grad and _is_lazy(op, attrs, weight, inputs[2:]):
        if not in_place:
            raise MXNetError(f"{op.name}: a lazy update with a row_sparse gradient writes the weight in place; "
                             "pass out=weight")
        _push_lazy(op, attrs, [views[i] for i in mutated], grad)
        return [weight]
    views = [v if v.stype == "default" else cast_storage(v, "default") for v in views]
    result = invoke(op, views, attrs, views[0] if in_place else out)
    for i in write_back:
        inputs[i][:] = views[i]
    return [weight] if in_place else result


def _push_lazy(op, attrs, views, grad):
    compute = op.compute["cpu"]
    values, indices = grad._values, grad._aux[0]
    if values.dtype != views[0].dtype:
        raise MXNetError(f"{op.name}: gradient is {np.dtype(values.dtype).name}, the weight is "
                         f"{np.dtype(views[0].dtype).name}")
    arrays = [v._data for v in views]
    g_values, g_rows = values._data, indices._data

    def run():
        rows = np.asarray(g_rows, np.int64)
        if rows.size == 0:
            return
        gathered = [np.ascontiguousarray(a[rows]) for a in arrays]  # the states are updated in place
        compute(attrs, [gathered[0], np.ascontiguousarray(g_values)] + gathered[1:], [gathered[0]], (REQ_WRITE,))
        for a, part in zip(arrays, gathered):
            a[rows] = part

    writes = tuple(dict.fromkeys(v._var for v in views))
    engine.push(run, (values._var, indices._var), writes, views[0].context, 0, op.name)
