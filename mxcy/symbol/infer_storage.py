"""Storage-type inference over a Symbol's graph (MXNet's InferStorageType): each node's result storage from
its op record's rule, the same rule mx.nd's sparse dispatch follows (ndarray/sparse_stypes.py), so an
Executor's output and gradient arrays get the storage types its forward and backward produce."""
from ..base import MXNetError

__all__ = ["infer_storage", "variable_stypes"]

_STYPE_NAMES = {"0": "default", "1": "row_sparse", "2": "csr"}


def variable_stypes(symbol, stype_dict=None):
    """{argument or auxiliary name: stype}: stype_dict's entries, else the variable's stype attribute
    (mx.sym.Variable(stype=...)), else 'default'."""
    stypes = {}
    for node in symbol._topo():
        if node.op is None:
            given = (stype_dict or {}).get(node.name)
            stypes[node.name] = given if given is not None else \
                _STYPE_NAMES.get(node.attrs.get("__storage_type__", "0"), "default")
    for name, stype in (stype_dict or {}).items():
        if stype not in _STYPE_NAMES.values():
            raise MXNetError(f"stype_dict: unknown storage type {stype!r} for '{name}'; expected one of "
                             f"{sorted(_STYPE_NAMES.values())}")
    return stypes


def infer_storage(symbol, stypes):
    """(output stypes, {variable name: gradient stype}, whether any value is sparse) for variables of storage
    `stypes` (name -> stype). A variable's gradient is sparse when every op reading it makes that input's gradient
    the same sparse type."""
    from ..ndarray.sparse_stypes import grad_storage_types, storage_types
    values, grads = {}, {}
    for node in symbol._topo():
        if node.op is None:
            values[(id(node), 0)] = stypes.get(node.name, "default")
            continue
        in_stypes = [values[(id(n), i)] for n, i in node.inputs]
        for j, out in enumerate(storage_types(node.op, node.params, in_stypes)):
            values[(id(node), j)] = out
        for (src, _), grad in zip(node.inputs, grad_storage_types(node.op, node.params, in_stypes)):
            if src.op is None:
                grads.setdefault(src.name, set()).add(grad)
    grad_stypes = {name: found.pop() if len(found) == 1 else "default" for name, found in grads.items()}
    return ([values[(id(n), i)] for n, i in symbol._outputs], grad_stypes,
            any(v != "default" for v in values.values()))
