"""Shape and type inference over a Symbol's graph: the ops' own rules run forward and backward (a rule may fill
an unknown input, such as a weight from the data shape) until nothing changes. Shapes may be partial, as in
MXNet 1.x (0 = unknown dimension), and rules that declare partial_shapes also see the outputs' shapes."""
import warnings

import numpy as np

from ..base import FLAG_TO_DTYPE, MXNetError, parse_shape
from ..ops.partial_shape import from_user, is_known, merge, to_user
from ..util import is_np_shape

__all__ = ["infer_shape", "infer_type", "infer_graph"]


def _given(symbol, args, kwargs, what):
    """name -> value from positional values (list_arguments order) and keyword values."""
    arg_names = symbol.list_arguments()
    if args and kwargs:
        raise MXNetError(f"{what}: give values either positionally or by name, not both")
    if len(args) > len(arg_names):
        raise MXNetError(f"{what}: {len(args)} values for {len(arg_names)} arguments {arg_names}")
    known = {n: v for n, v in zip(arg_names, args) if v is not None}
    inputs = set(symbol.list_inputs())
    for key, value in kwargs.items():
        if key not in inputs:
            raise MXNetError(f"{what}: '{key}' is not an input of the symbol; inputs are "
                             f"{sorted(inputs)}")
        if value is not None:
            known[key] = value
    return known


def infer_graph(symbol, known, rule, var_default, outputs=()):
    """Fixed point of `rule` ("shape" or "type") over the graph, walking it forward then backward until nothing
    changes. known: variable name -> value (shapes may be partial, ops/partial_shape.py); outputs: a value or
    None per graph output, known before the walk (a subgraph node's rule passes its outputs' shapes in).
    Returns {(node id, index): value or None}."""
    order = symbol._topo()
    values = {}
    for node in order:
        if node.op is None:
            value = known.get(node.name)
            if value is None:
                value = var_default(node)
            values[(id(node), 0)] = value
    for (node, index), value in zip(symbol._outputs, outputs):
        _merge(values, (id(node), index), value, node, rule)
    done = is_known if rule == "shape" else (lambda v: v is not None)
    ops = [node for node in order if node.op is not None]
    passes, changed = (ops, ops[::-1]), True
    while changed:
        changed = False
        for walk in passes:
            for node in walk:
                changed |= _visit(node, rule, values, done)
    return values


def _visit(node, rule, values, done):
    """Run the node's rule once and merge what it found into `values`; whether anything changed."""
    in_keys = [(id(n), i) for n, i in node.inputs]
    out_keys = [(id(node), i) for i in range(node.num_outputs())]
    ins = [values.get(k) for k in in_keys]
    outs = [values.get(k) for k in out_keys]
    if all(done(v) for v in ins) and all(done(v) for v in outs):
        return False
    new_ins, new_outs = _apply(node, rule, ins, outs, done)
    if new_ins is None:
        return False
    changed = False
    for k, new in list(zip(in_keys, new_ins)) + list(zip(out_keys, new_outs)):
        changed |= _merge(values, k, new, node, rule)
    return changed


def _apply(node, rule, ins, outs, done):
    """Run the op's rule. A partial-shape rule sees everything known; any other sees only complete inputs, and
    one that cannot cope with the unknown ones means 'not yet'."""
    op, params = node.op, node.params
    partial = rule == "shape" and op.partial_shapes
    if not partial:
        ins = [v if done(v) else None for v in ins]
    complete = all(v is not None for v in ins)
    try:
        if partial:
            new_ins, new_outs = op.infer_shape(params, list(ins), list(outs))
        elif rule == "shape":
            new_ins, new_outs = op.infer_shape(params, list(ins))
        else:
            new_ins, new_outs = op.infer_type(params, list(ins))
            if not isinstance(new_outs, (list, tuple)):
                new_outs = [new_outs] * node.num_outputs()
    except Exception as err:  # noqa: BLE001 - a rule's failure on what is known is bad input
        if not complete and not partial:
            return None, None
        shown = [to_user(v) for v in ins] if rule == "shape" else _type_names(ins)
        raise MXNetError(f"Error in operator {node.name}: {op.name} cannot infer {rule}s from inputs "
                         f"{shown}: {err}") from None
    if new_ins is None:
        return None, None
    return list(new_ins), list(new_outs or ()) + [None] * (node.num_outputs() - len(new_outs or ()))


def _merge(values, key, new, node, rule):
    """Store what a rule found for `key`; whether that taught anything new."""
    if new is None:
        return False
    old = values.get(key)
    if rule == "shape":
        try:
            merged = merge(old, new)
        except ValueError:
            raise MXNetError(f"Error in operator {node.name}: shape inconsistent, provided = {to_user(old)}, "
                             f"inferred shape = {to_user(tuple(new))}") from None
    else:
        merged = np.dtype(new)
        if old is not None and old != merged:
            raise MXNetError(f"Error in operator {node.name}: type inconsistent, provided = "
                             f"{_type_names([old])[0]}, inferred type = {_type_names([merged])[0]}")
    if old is not None and merged == old:  # (np.dtype("float64") == None holds: None means float64 to NumPy)
        return False
    values[key] = merged
    return True


def _type_names(values):
    return [None if v is None else np.dtype(v).name for v in values]


def _var_shape(node, np_shape):
    text = node.attrs.get("__shape__")
    return None if text is None else from_user(parse_shape(text), np_shape)


def _var_type(node):
    text = node.attrs.get("__dtype__")
    return None if text is None else FLAG_TO_DTYPE[int(text)]


def _collect(symbol, values, partial, done, shown):
    """(arguments, outputs, auxiliary states) from inferred `values`; None when something is not `done` and not
    `partial`, else what is unknown as `shown` makes it."""
    args, auxs = symbol._variables()
    groups = ([(id(n), 0) for n in args], [(id(n), i) for n, i in symbol._outputs], [(id(n), 0) for n in auxs])
    found = [[values.get(k) for k in keys] for keys in groups]
    if not partial and not all(done(v) for vs in found for v in vs):
        return None
    return tuple([shown(v) for v in vs] for vs in found)


def infer_shape(symbol, args, kwargs, partial):
    """Shapes are given and reported in the semantics in force (mx.util.np_shape: -1 and None for unknown)."""
    np_shape = is_np_shape()
    known = {k: from_user(v, np_shape) for k, v in _given(symbol, args, kwargs, "infer_shape").items()}
    values = infer_graph(symbol, known, "shape", lambda node: _var_shape(node, np_shape))
    res = _collect(symbol, values, partial, is_known, lambda shape: to_user(shape, np_shape))
    if res is None:
        unknown = [f"{n.name}: {to_user(values.get((id(n), 0)), np_shape)}" for n in symbol._variables()[0]
                   if not is_known(values.get((id(n), 0)))]
        warnings.warn("Cannot decide shape for the following arguments (0s in shape means unknown "
                      "dimensions). Consider providing them as input:\n\t" + "\n\t".join(unknown[:10]),
                      stacklevel=3)
        return None, None, None
    return res


def infer_type(symbol, args, kwargs, partial):
    known = {k: np.dtype(v) for k, v in _given(symbol, args, kwargs, "infer_type").items()}
    values = infer_graph(symbol, known, "type", _var_type)
    res = _collect(symbol, values, partial, lambda v: v is not None,
                   lambda t: None if t is None else np.dtype(t).type)
    return (None, None, None) if res is None else res
