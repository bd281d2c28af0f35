"""MXNet 1.9.1's storage-type rules (FInferStorageType) for the registered operators that give sparse results,
set on their OpDef records (`infer_storage`, and `infer_grad_storage` where the backward makes a gradient
sparse). mx.nd's sparse dispatch and the Executor's graph inference both read them through storage_types."""
import numpy as np

from ..base import MXNetError
from ..ops import registry

__all__ = ["DNS", "CSR", "RSP", "storage_types", "grad_storage_types", "computes_on_values"]

DNS, CSR, RSP = "default", "csr", "row_sparse"

# Unary ops MXNet registers with row_sparse and csr kernels (f(0) == 0): the result keeps the storage.
_KEEP_UNARY = (
    "relu", "negative", "abs", "sign", "round", "rint", "ceil", "floor", "trunc", "fix", "log1p", "expm1",
    "square", "sqrt", "cbrt", "sin", "tan", "arcsin", "arctan", "degrees", "radians", "sinh", "tanh", "arcsinh",
    "arctanh", "_contrib_round_ste", "_contrib_sign_ste", "BlockGrad", "make_loss", "_copy")
# Binary ops whose result keeps a storage type both operands share (MXNet's ElemwiseStorageType); else dense.
_SAME_SPARSE = ("elemwise_add", "elemwise_sub", "broadcast_add", "broadcast_sub", "_plus", "_minus", "_maximum",
                "_minimum", "_hypot")
_MUL = ("elemwise_mul", "broadcast_mul", "_mul")
_KEEP_IF_ZERO_STAYS = ("_plus_scalar", "_minus_scalar", "_equal_scalar", "_not_equal_scalar", "_greater_scalar",
                       "_greater_equal_scalar", "_lesser_scalar", "_lesser_equal_scalar", "_contrib_quadratic")


def storage_types(op, attrs, in_stypes):
    """The storage types of op's results for inputs of `in_stypes` (all dense where the op has no rule)."""
    rule = op.infer_storage
    return list(rule(attrs, in_stypes)) if rule is not None else [DNS] * op.n_outputs(attrs)


def grad_storage_types(op, attrs, in_stypes):
    """The storage type of each input's gradient (dense unless the op's backward makes one sparse)."""
    rule = op.infer_grad_storage
    return list(rule(attrs, in_stypes)) if rule is not None else [DNS] * len(in_stypes)


def computes_on_values(op):
    """Whether op's sparse result is op applied to the stored values alone (the structure unchanged)."""
    return op.infer_storage in _VALUE_RULES


def _keep(attrs, stypes):
    return [stypes[0]]


def _keeps_zero(op):
    """Scalar ops (and quadratic) keep a sparse input's storage when they send an implicit zero to zero."""
    def rule(attrs, stypes):
        from . import array
        from ..ops.invoke import invoke
        if stypes[0] == DNS:
            return [DNS]
        zero = invoke(op, [array(np.zeros(1, np.float32))], attrs)[0].asnumpy()[0]
        return [stypes[0] if zero == 0 else DNS]
    return rule


def _clip(attrs, stypes):
    return [stypes[0] if attrs["a_min"] <= 0 <= attrs["a_max"] else DNS]


def _same_sparse(attrs, stypes):
    return [stypes[0] if stypes[0] == stypes[1] else DNS]


def _mul(attrs, stypes):
    """Only entries stored by a sparse operand can be non-zero: dense * sparse keeps the sparse storage."""
    lhs, rhs = stypes
    if lhs == rhs or DNS in stypes:
        return [rhs if lhs == DNS else lhs]
    return [DNS]


def _add_n(attrs, stypes):
    return [RSP if all(s == RSP for s in stypes) else DNS]


def _csr_slice(attrs, stypes):
    return [CSR if stypes[0] == CSR and all(s in (None, 1) for s in attrs["step"] or ()) else DNS]


def _csr_take(attrs, stypes):
    return [CSR if stypes[0] == CSR and attrs["axis"] == 0 and attrs["mode"] in ("clip", "wrap") else DNS]


def _square_sum(attrs, stypes):
    axis = attrs["axis"] if isinstance(attrs["axis"], tuple) else (attrs["axis"],)
    return [RSP if stypes[0] == RSP and axis == (1,) and attrs["keepdims"] and not attrs["exclude"] else DNS]


def _dot(attrs, stypes):
    """csr x dense -> dense, csr.T x dense -> row_sparse, dense x csr -> csr, else dense; forward_stype
    overrides."""
    if attrs.get("forward_stype") is not None:
        return [attrs["forward_stype"]]
    lhs, rhs = stypes
    ta, tb = attrs["transpose_a"], attrs["transpose_b"]
    if lhs == CSR and rhs != CSR:
        return [RSP if ta and not tb else DNS]
    if rhs == CSR and lhs != CSR:
        return [CSR if not (ta or tb) else DNS]
    return [DNS]


def _dot_grad(attrs, stypes):
    """dot(csr, w)'s gradient of w is op(csr).T @ head: stored on the rows the csr's columns name."""
    lhs = stypes[0]
    return [DNS, RSP if lhs == CSR and not attrs["transpose_a"] and not attrs["transpose_b"] else DNS]


def _scatter_div(attrs, stypes):
    return [RSP if stypes[0] == RSP else DNS]


def _embedding_grad(attrs, stypes):
    return [DNS, RSP if attrs["sparse_grad"] else DNS]


def _batch_norm(op):
    def rule(attrs, stypes):
        if attrs["fix_gamma"] and any(s != DNS for s in stypes):
            raise MXNetError(f"BatchNorm: fix_gamma=True is not supported for sparse arrays (nor in MXNet 1.9.1); "
                             f"input storage types {list(stypes)}")
        return [DNS] * op.n_outputs(attrs)
    return rule


_VALUE_RULES = set()


def _install():
    rules = {name: _keep for name in _KEEP_UNARY + ("_mul_scalar", "_div_scalar", "_scatter_plus_scalar",
                                                     "_scatter_minus_scalar")}
    # MXNet scales the stored values only, even for x / 0; these keep sparsity when 0 stays 0 (other scalar
    # ops give dense results)
    for name in _KEEP_IF_ZERO_STAYS:
        rules[name] = _keeps_zero(registry.get(name))
    rules["clip"] = _clip
    _VALUE_RULES.update(rules.values())
    rules.update({name: _same_sparse for name in _SAME_SPARSE})
    rules.update({name: _mul for name in _MUL})
    rules.update({"zeros_like": lambda attrs, stypes: [stypes[0]], "add_n": _add_n, "slice": _csr_slice, "take": _csr_take,
                  "_square_sum": _square_sum, "dot": _dot, "_scatter_elemwise_div": _scatter_div,
                  "cast_storage": lambda attrs, stypes: [attrs["stype"]],
                  "_sparse_retain": lambda attrs, stypes: [RSP]})
    rules["BatchNorm"] = _batch_norm(registry.get("BatchNorm"))
    for name, rule in rules.items():
        registry.get(name).infer_storage = rule
    registry.get("dot").infer_grad_storage = _dot_grad
    registry.get("Embedding").infer_grad_storage = _embedding_grad
    registry.get("_contrib_SparseEmbedding").infer_grad_storage = lambda attrs, stypes: [DNS, RSP]


_install()
