"""Shape and type inference over a Symbol's graph: the ops' own rules run forward and backward (a rule
may fill an unknown input, such as a weight from the data shape) until nothing changes."""
import warnings

import numpy as np

from ..base import FLAG_TO_DTYPE, MXNetError, parse_shape

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


def _shape_or_none(shape):
    """() and shapes with a 0 dimension are MXNet 1.x's 'unknown' and stay to be inferred."""
    shape = tuple(int(d) for d in shape)
    return None if not shape or 0 in shape else shape


def infer_graph(symbol, known, rule, var_default):
    """Fixed point of `rule` ("shape" or "type") over the graph. known: variable name -> value.
    Returns {(node id, index): value or None}."""
    order = symbol._topo()
    values = {}
    for node in order:
        if node.op is None:
            value = known.get(node.name)
            if value is None:
                value = var_default(node)
            values[(id(node), 0)] = value
    changed = True
    while changed:
        changed = False
        for node in order:
            if node.op is None:
                continue
            keys = [(id(n), i) for n, i in node.inputs]
            ins = [values.get(k) for k in keys]
            outs_known = [values.get((id(node), i)) for i in range(node.num_outputs())]
            if all(v is not None for v in outs_known) and all(v is not None for v in ins):
                continue
            new_ins, outs = _apply(node, rule, ins)
            if new_ins is None:
                continue
            for k, old, new in zip(keys, ins, new_ins):
                changed |= _merge(values, k, old, new, node, rule)
            for i, new in enumerate(outs):
                k = (id(node), i)
                changed |= _merge(values, k, values.get(k), new, node, rule)
    return values


def _apply(node, rule, ins):
    """Run the op's rule; with some inputs unknown a rule that cannot cope means 'not yet'."""
    op, params = node.op, node.params
    complete = all(v is not None for v in ins)
    try:
        if rule == "shape":
            new_ins, outs = op.infer_shape(params, list(ins))
        else:
            new_ins, outs = op.infer_type(params, list(ins))
            if not isinstance(outs, (list, tuple)):
                outs = [outs] * node.num_outputs()
    except Exception as err:  # noqa: BLE001 - a rule's failure on known inputs is bad input
        if not complete:
            return None, None
        raise MXNetError(f"Error in operator {node.name}: {op.name} cannot infer {rule}s from inputs "
                         f"{_fmt(ins, rule)}: {err}") from None
    outs = list(outs) + [None] * (node.num_outputs() - len(outs))
    return list(new_ins), outs


def _merge(values, key, old, new, node, rule):
    if new is None:
        return False
    new = tuple(new) if rule == "shape" else np.dtype(new)
    if old is None:
        values[key] = new
        return True
    if old != new:
        raise MXNetError(f"Error in operator {node.name}: {rule} inconsistent, provided = "
                         f"{_fmt([old], rule)[0]}, inferred {rule} = {_fmt([new], rule)[0]}")
    return False


def _fmt(values, rule):
    if rule == "shape":
        return [None if v is None else tuple(v) for v in values]
    return [None if v is None else np.dtype(v).name for v in values]


def _var_shape(node):
    text = node.attrs.get("__shape__")
    return None if text is None else _shape_or_none(parse_shape(text))


def _var_type(node):
    text = node.attrs.get("__dtype__")
    return None if text is None else FLAG_TO_DTYPE[int(text)]


def _collect(symbol, values, partial, empty, unknown_dims=None):
    """(arguments, outputs, auxiliary states) from inferred `values`, None when incomplete and not `partial`;
    with `partial`, what is still unknown is `unknown_dims`' shape with 0s, or `empty`."""
    args, auxs = symbol._variables()
    arg_v = [values.get((id(n), 0)) for n in args]
    aux_v = [values.get((id(n), 0)) for n in auxs]
    out_v = [values.get((id(n), i)) for n, i in symbol._outputs]
    complete = all(v is not None for v in arg_v + aux_v + out_v)
    if not complete and not partial:
        return None
    unknown_dims = unknown_dims or {}
    arg_k = [(id(n), 0) for n in args]
    out_k = [(id(n), i) for n, i in symbol._outputs]
    aux_k = [(id(n), 0) for n in auxs]
    fill = (lambda vs, ks: [unknown_dims.get(k, empty) if v is None else v for v, k in zip(vs, ks)])
    return fill(arg_v, arg_k), fill(out_v, out_k), fill(aux_v, aux_k)


def _unknown_dims(symbol, values, given):
    """Shapes with unknown (0) dimensions, from the given shapes and variables' __shape__, carried through the
    ops that define infer_shape_partial (control flow's foreach); what infer_shape_partial reports for the
    entries whose full shape stays unknown."""
    out = {}
    for node in symbol._topo():
        if node.op is None:
            text = node.attrs.get("__shape__")
            shape = given.get(node.name) or (parse_shape(text) if text else None)
            if values.get((id(node), 0)) is None and shape:
                out[(id(node), 0)] = tuple(int(d) for d in shape)
            continue
        rule = getattr(node.op, "infer_shape_partial", None)
        keys = [(id(node), i) for i in range(node.num_outputs())]
        if rule is None or all(values.get(k) is not None for k in keys):
            continue
        in_keys = [(id(n), i) for n, i in node.inputs]
        new_ins, outs = rule(node.params, [values.get(k) or out.get(k) for k in in_keys])
        for k, shape in list(zip(in_keys, new_ins)) + list(zip(keys, outs)):
            if shape is not None and values.get(k) is None:
                out[k] = tuple(shape)
    return out


def infer_shape(symbol, args, kwargs, partial):
    given = _given(symbol, args, kwargs, "infer_shape")
    known = {k: _shape_or_none(v) for k, v in given.items()}
    values = infer_graph(symbol, known, "shape", _var_shape)
    unknown_dims = _unknown_dims(symbol, values, given) if partial else None
    res = _collect(symbol, values, partial, (), unknown_dims)
    if res is None:
        unknown = [f"{n.name}: ()" for n in symbol._variables()[0] if values.get((id(n), 0)) is None]
        warnings.warn("Cannot decide shape for the following arguments (0s in shape means unknown "
                      "dimensions). Consider providing them as input:\n\t" + "\n\t".join(unknown[:10]),
                      stacklevel=3)
        return None, None, None
    return res


def infer_type(symbol, args, kwargs, partial):
    known = {k: np.dtype(v) for k, v in _given(symbol, args, kwargs, "infer_type").items()}
    values = infer_graph(symbol, known, "type", _var_type)
    res = _collect(symbol, values, partial, None)
    if res is None:
        return None, None, None
    return tuple([None if t is None else np.dtype(t).type for t in vs] for vs in res)
