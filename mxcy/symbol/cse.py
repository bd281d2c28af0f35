"""Common subexpression elimination over a Symbol's graph (MXNet's MXNET_ELIMINATE_COMMON_EXPR pass): nodes of
the same op, attributes and inputs become one; graph outputs that end up the same entry are kept apart by copies."""
from ..ops import registry
from .graph import Node, topo_order


def _mergeable(op):
    # random draws, in-place state updates and train-mode behaviour make two equal-looking nodes differ; a Custom
    # operator keeps Python state (MXNet's FCreateOpState ops are never merged)
    return not (op.random or op.mutate_inputs or op.train_aware or op.name == "Custom")


def eliminate_common_expr(symbol):
    """A Symbol computing what `symbol` computes, each distinct expression once (variables are shared)."""
    from .symbol import Symbol
    new_of, canonical = {}, {}
    for node in topo_order(symbol._outputs):
        if node.op is None:
            new_of[node] = node
            continue
        inputs = [(new_of[n], i) for n, i in node.inputs]
        key = (node.op.name, tuple(sorted(node.attrs.items())), tuple((id(n), i) for n, i in inputs))
        if node.inputs and _mergeable(node.op) and key in canonical:  # MXNet groups nodes by their inputs
            new_of[node] = canonical[key]
            continue
        new_of[node] = Node(node.op, node.name, dict(node.attrs), inputs, params=node.params)
        if _mergeable(node.op):
            canonical[key] = new_of[node]
    outputs, taken = [], set()
    for node, index in symbol._outputs:
        entry = (new_of[node], index)
        if (id(entry[0]), index) in taken:
            copy = registry.get("_copy")
            entry = (Node(copy, f"{node.name}_copy{index}", {}, [entry], params=copy.parse_attrs({})), 0)
        taken.add((id(entry[0]), entry[1]))
        outputs.append(entry)
    return Symbol(outputs)
