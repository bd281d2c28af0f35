"""Matrix products: dot, batch_dot and linalg gemm/gemm2, computed by NumPy's BLAS-backed matmul on the CPU
and kernels.matmul_gpu's tiled GEMM on a GPU.

Gradients are products again (with transposes), so they are differentiable in turn.
"""
import math

import numpy as np

from . import registry
from ._helpers import store
from ._nn_common import kernels, typed_call
from .partial_shape import is_known, merge, to_user
from .registry import OpDef, Param
from ..kernels.common import REQ_INPLACE, REQ_WRITE

__all__ = ["dot_geometry"]


def _matmul_into(out, a, b, req):
    """out (req) = a @ b; a plain write goes straight into out, so BLAS needs no extra copy."""
    if (req == REQ_WRITE or req == REQ_INPLACE) and out.flags.c_contiguous:
        np.matmul(a, b, out=out.reshape(a.shape[:-1] + b.shape[-1:]))
    else:
        store(out, np.matmul(a, b).reshape(out.shape), req)


def _batched(x, row):
    """x as the (P, rows, Q, cols) view that matmul_gpu takes: rows on axis `row`, columns on the last."""
    s = tuple(x.shape)
    return x.reshape(math.prod(s[:row]), s[row], math.prod(s[row + 1:-1]), s[-1])


def _matmul_gpu(a, b, out, ta, tb, req, alpha=1.0, c=None, beta=0.0):
    """kernels.matmul_gpu on (P, rows, Q, cols) views, through typed_call: float16 is multiplied in float32, as
    MXNet's cuBLAS calls do."""
    def run(ins, outs, kreqs):
        kernels("matmul_gpu").matmul_gpu(ins[0], ins[1], outs[0], ta, tb, kreqs[0], alpha,
                                         None if c is None else ins[2], beta)
    typed_call(run, [a, b] if c is None else [a, b, c], [out], [req])


def _reshaped(F, x, shape):
    return x if x.shape == tuple(shape) else F.reshape(x, shape=shape)


# --- dot -----------------------------------------------------------------------------------------

def dot_geometry(lshape, rshape, transpose_a, transpose_b):
    """MXNet's dot as a 2-D product: (lhs as 2-D, rhs as 2-D, output shape).

    lhs is split before its last axis, or after its first when transposed; rhs after its first
    axis, or before its last when transposed. Two vectors give shape (1,).
    """
    lshape, rshape = tuple(lshape), tuple(rshape)
    if len(lshape) == 1 and len(rshape) == 1:
        if transpose_a or transpose_b:
            raise ValueError("cannot transpose vectors")
        if lshape != rshape:
            raise ValueError(f"dot shape error: {lshape} X {rshape}")
        return (1, lshape[0]), (rshape[0], 1), (1,)
    if transpose_a:
        lhs2, lhs_out = (lshape[0], math.prod(lshape[1:])), lshape[1:]
    else:
        lhs2, lhs_out = (math.prod(lshape[:-1]), lshape[-1]), lshape[:-1]
    if transpose_b:
        rhs2, rhs_out = (math.prod(rshape[:-1]), rshape[-1]), rshape[:-1]
    else:
        rhs2, rhs_out = (rshape[0], math.prod(rshape[1:])), rshape[1:]
    inner_l, inner_r = lhs2[0 if transpose_a else 1], rhs2[1 if transpose_b else 0]
    if inner_l != inner_r:
        raise ValueError(f"dot shape error: {lshape} X {rshape} (transpose_a={transpose_a}, "
                         f"transpose_b={transpose_b}) contracts {inner_l} with {inner_r}")
    # A vector operand contributes no output axes.
    return lhs2, rhs2, (lhs_out if len(lshape) > 1 else ()) + (rhs_out if len(rshape) > 1 else ())


def _flags(attrs):
    return attrs["transpose_a"], attrs["transpose_b"]


def _dot_shape(attrs, shapes, out_shapes=None):
    """On partial shapes (MXNet's DotShape): with both ranks known and neither a vector, the output keeps the
    operands' unknown dimensions (an unknown batch passes through)."""
    lhs, rhs = shapes
    if is_known(lhs) and is_known(rhs):
        return shapes, [dot_geometry(lhs, rhs, *_flags(attrs))[2]]
    if lhs is None or rhs is None or len(lhs) == 1 or len(rhs) == 1:
        return shapes, [None]
    ta, tb = _flags(attrs)
    inner_l, lhs_out = (lhs[0], lhs[1:]) if ta else (lhs[-1], lhs[:-1])
    inner_r, rhs_out = (rhs[-1], rhs[:-1]) if tb else (rhs[0], rhs[1:])
    if inner_l >= 0 and inner_r >= 0 and inner_l != inner_r:
        raise ValueError(f"dot shape error: {to_user(lhs)} X {to_user(rhs)} (transpose_a={ta}, transpose_b={tb}) "
                         f"contracts {inner_l} with {inner_r}")
    return shapes, [tuple(lhs_out) + tuple(rhs_out)]


def _dot_compute(attrs, inputs, outputs, reqs):
    ta, tb = _flags(attrs)
    lhs2, rhs2, _ = dot_geometry(inputs[0].shape, inputs[1].shape, ta, tb)
    a, b = inputs[0].reshape(lhs2), inputs[1].reshape(rhs2)
    _matmul_into(outputs[0], a.T if ta else a, b.T if tb else b, reqs[0])


def _dot_compute_gpu(attrs, inputs, outputs, reqs):
    ta, tb = _flags(attrs)
    lhs2, rhs2, _ = dot_geometry(inputs[0].shape, inputs[1].shape, ta, tb)
    out2 = (lhs2[1] if ta else lhs2[0], rhs2[0] if tb else rhs2[1])
    a, b, out = (_batched(x.reshape(s), 0) for x, s in zip((*inputs, outputs[0]), (lhs2, rhs2, out2)))
    _matmul_gpu(a, b, out, ta, tb, reqs[0])


def _product_grads(mul, a, b, g, ta, tb):
    """Gradients of g-weighted op(a) @ op(b), written with `mul(x, y, transpose_a, transpose_b)`."""
    da = mul(b, g, tb, True) if ta else mul(g, b, False, not tb)
    db = mul(g, a, True, ta) if tb else mul(a, g, not ta, False)
    return da, db


def _dot_gradient(F, attrs, inputs, outputs, ograds):
    a, b = inputs
    ta, tb = _flags(attrs)
    lhs2, rhs2, _ = dot_geometry(a.shape, b.shape, ta, tb)
    out2 = (lhs2[1] if ta else lhs2[0], rhs2[0] if tb else rhs2[1])
    da, db = _product_grads(
        lambda x, y, tx, ty: F.dot(x, y, transpose_a=tx, transpose_b=ty),
        _reshaped(F, a, lhs2), _reshaped(F, b, rhs2), _reshaped(F, ograds[0], out2), ta, tb)
    return [_reshaped(F, da, a.shape), _reshaped(F, db, b.shape)]


# --- batch_dot -----------------------------------------------------------------------------------

def _batch_dot_shape(attrs, shapes, out_shapes=None):
    """On partial shapes (MXNet's BatchDotShape): the batch dimensions merge, the output is known once the
    contracted dimensions are."""
    if shapes[0] is None or shapes[1] is None:
        return shapes, [None]
    lhs, rhs = (tuple(s) for s in shapes)
    ta, tb = _flags(attrs)
    if len(lhs) < 3 or len(lhs) != len(rhs):
        raise ValueError(f"batch_dot needs two arrays of equal rank >= 3, got {to_user(lhs)} X {to_user(rhs)}")
    try:
        batch = merge(lhs[:-2], rhs[:-2])
    except ValueError:
        raise ValueError(f"batch_dot: the leading batch dimensions must be equal: {to_user(lhs)} X "
                         f"{to_user(rhs)}") from None
    m, k = (lhs[-1], lhs[-2]) if ta else lhs[-2:]
    k2, n = (rhs[-1], rhs[-2]) if tb else rhs[-2:]
    if k < 0 or k2 < 0:
        return [batch + lhs[-2:], batch + rhs[-2:]], [None]
    if k != k2:
        raise ValueError(f"batch_dot shape error: {to_user(lhs)} X {to_user(rhs)} (transpose_a={ta}, "
                         f"transpose_b={tb}) contracts {k} with {k2}")
    return [batch + lhs[-2:], batch + rhs[-2:]], [batch + (m, n)]


def _batch_dot_compute(attrs, inputs, outputs, reqs):
    ta, tb = _flags(attrs)
    a, b = inputs
    _matmul_into(outputs[0], a.swapaxes(-1, -2) if ta else a, b.swapaxes(-1, -2) if tb else b,
                 reqs[0])


def _batch_dot_compute_gpu(attrs, inputs, outputs, reqs):
    row = outputs[0].ndim - 2
    _matmul_gpu(*(_batched(x, row) for x in (*inputs, outputs[0])), *_flags(attrs), reqs[0])


def _batch_dot_gradient(F, attrs, inputs, outputs, ograds):
    def mul(x, y, tx, ty):
        return F.batch_dot(x, y, transpose_a=tx, transpose_b=ty)
    return list(_product_grads(mul, inputs[0], inputs[1], ograds[0], *_flags(attrs)))


_PRODUCT_PARAMS = (
    Param("transpose_a", "bool", False, "use the transpose of the first input"),
    Param("transpose_b", "bool", False, "use the transpose of the second input"),
    Param("forward_stype", "str", None, "storage type of the output (dense here)",
          choices=(None, "default", "row_sparse", "csr")))
registry.register(OpDef(
    "dot", arguments=("lhs", "rhs"), params=_PRODUCT_PARAMS, infer_shape=_dot_shape, partial_shapes=True,
    compute={"cpu": _dot_compute, "gpu": _dot_compute_gpu}, gradient=_dot_gradient,
    doc="Dot product: contracts the last axis of lhs with the first axis of rhs."))
registry.register(OpDef(
    "batch_dot", arguments=("lhs", "rhs"), params=_PRODUCT_PARAMS, infer_shape=_batch_dot_shape, partial_shapes=True,
    compute={"cpu": _batch_dot_compute, "gpu": _batch_dot_compute_gpu}, gradient=_batch_dot_gradient,
    doc="Batchwise matrix product over the last two axes of arrays of equal rank >= 3."))


# --- linalg gemm2 / gemm -------------------------------------------------------------------------

def _row_axis(axis, ndim):
    row = axis + ndim if axis < 0 else axis
    if not 0 <= row < ndim - 1:
        raise ValueError(f"invalid row axis {axis} for arrays of rank {ndim}")
    return row


def _gemm_shape(attrs, shapes):
    a, b = (tuple(s) for s in shapes[:2])
    ta, tb = _flags(attrs)
    if len(a) < 2 or len(a) != len(b):
        raise ValueError(f"needs two arrays of equal rank >= 2, got {a} and {b}")
    row = _row_axis(attrs["axis"], len(a))
    if any(a[i] != b[i] for i in range(len(a) - 1) if i != row):
        raise ValueError(f"shapes {a} and {b} must agree except on the row and column axes")
    if (a[row] if ta else a[-1]) != (b[-1] if tb else b[row]):
        raise ValueError(f"incompatible matrix dimensions: {a} X {b} (transpose_a={ta}, "
                         f"transpose_b={tb})")
    out = list(a)
    out[row], out[-1] = (a[-1] if ta else a[row]), (b[row] if tb else b[-1])
    out = tuple(out)
    if len(shapes) == 3 and tuple(shapes[2]) != out:
        raise ValueError(f"C has shape {tuple(shapes[2])}, the product has shape {out}")
    return shapes, [out]


def _gemm_compute(attrs, inputs, outputs, reqs):
    ta, tb = _flags(attrs)
    row = _row_axis(attrs["axis"], inputs[0].ndim)
    # Bring the row axis next to the column axis; matmul then batches over the rest.
    a, b = (np.moveaxis(x, row, -2) for x in inputs[:2])
    result = attrs["alpha"] * np.matmul(a.swapaxes(-1, -2) if ta else a,
                                        b.swapaxes(-1, -2) if tb else b)
    if len(inputs) == 3:
        result += attrs["beta"] * np.moveaxis(inputs[2], row, -2)
    store(outputs[0], np.moveaxis(result, -2, row), reqs[0])


def _gemm_compute_gpu(attrs, inputs, outputs, reqs):
    row = _row_axis(attrs["axis"], inputs[0].ndim)
    a, b, *c = (_batched(x, row) for x in inputs)
    _matmul_gpu(a, b, _batched(outputs[0], row), *_flags(attrs), reqs[0], attrs["alpha"],
                c[0] if c else None, attrs.get("beta", 0.0))


def _gemm_gradient(F, attrs, inputs, outputs, ograds):
    def mul(x, y, tx, ty):
        return F._linalg_gemm2(x, y, transpose_a=tx, transpose_b=ty, alpha=attrs["alpha"],
                               axis=attrs["axis"])
    grads = list(_product_grads(mul, inputs[0], inputs[1], ograds[0], *_flags(attrs)))
    if len(inputs) == 3:  # gemm's C enters scaled by beta
        grads.append(ograds[0] * attrs["beta"])
    return grads


_GEMM_PARAMS = (
    Param("transpose_a", "bool", False, "use the transpose of A"),
    Param("transpose_b", "bool", False, "use the transpose of B"),
    Param("alpha", "float", 1.0, "scalar factor of A*B"))
_ROW_AXIS = Param("axis", "int", -2, "axis of the matrix rows (columns are the last axis)")
registry.register(OpDef(
    "_linalg_gemm2", aliases=("linalg_gemm2",), arguments=("A", "B"),
    params=_GEMM_PARAMS + (_ROW_AXIS,),
    infer_shape=_gemm_shape, compute={"cpu": _gemm_compute, "gpu": _gemm_compute_gpu}, gradient=_gemm_gradient,
    doc="alpha * op(A) @ op(B) over batches of matrices."))
registry.register(OpDef(
    "_linalg_gemm", aliases=("linalg_gemm",), arguments=("A", "B", "C"),
    params=_GEMM_PARAMS + (Param("beta", "float", 1.0, "scalar factor of C"), _ROW_AXIS),
    infer_shape=_gemm_shape, compute={"cpu": _gemm_compute, "gpu": _gemm_compute_gpu}, gradient=_gemm_gradient,
    doc="alpha * op(A) @ op(B) + beta * C over batches of matrices."))
