"""The graph under a Symbol: nodes (a registered op or a variable), their string attributes, and walks.

Nodes are shared between symbols and treated as immutable once built (composition copies), except for
their attributes, which `_set_attr` edits as MXNet does.
"""
from ..base import MXNetError
from ..graph_walk import post_order
from ..ops import registry

__all__ = ["Node", "topo_order", "copy_graph", "HIDDEN_KEYS", "hide_key"]

# Attribute keys MXNet stores as __key__ (and lists under both spellings).
HIDDEN_KEYS = ("ctx_group", "lr_mult", "wd_mult", "force_mirroring", "mirror_stage", "profiler_scope")


def hide_key(key):
    return f"__{key}__" if key in HIDDEN_KEYS else key


class Node:
    """One graph node. op: OpDef, or None for a variable. attrs: str -> str as in MXNet's JSON (the op's
    parameters as given, plus __hidden__ attributes). params: the op's typed parameters. inputs: a list of
    (Node, output index)."""
    __slots__ = ("op", "name", "attrs", "params", "inputs", "__weakref__")

    def __init__(self, op, name, attrs, inputs=(), params=None):
        self.op = op
        self.name = name
        self.attrs = attrs
        self.inputs = list(inputs)
        if op is None:
            self.params = None
        elif params is not None:
            self.params = params
        else:
            try:
                self.params = op.parse_attrs(attrs)
            except MXNetError as err:
                raise MXNetError(f"node '{name}': {err}") from None
            n_in = len(op.list_inputs(self.params))
            if self.inputs and len(self.inputs) != n_in:
                raise MXNetError(f"{op.name} '{name}': expects {n_in} inputs "
                                 f"({', '.join(op.list_inputs(self.params))}), got {len(self.inputs)}")

    @property
    def is_variable(self):
        return self.op is None

    def num_outputs(self):
        return 1 if self.op is None else self.op.n_outputs(self.params)

    def num_visible_outputs(self):
        return 1 if self.op is None else self.op.n_visible_outputs(self.params)

    def output_name(self, index):
        if self.op is None:
            return self.name
        return f"{self.name}_{self.op.list_outputs(self.params)[index]}"

    def aux_inputs(self):
        """Positions of the inputs that are auxiliary states (OpDef.aux_inputs)."""
        return self.op.aux_inputs(self.params)

    def argument_inputs(self):
        """Positions of the inputs that are arguments: all but the auxiliary states."""
        aux = self.aux_inputs()
        return [k for k in range(len(self.inputs)) if k not in aux]


def topo_order(outputs):
    """Nodes reachable from `outputs` in depth-first post-order, inputs visited in order (nnvm's DFSVisit)."""
    return post_order([head for head, _ in outputs], lambda node: [child for child, _ in node.inputs])


def copy_graph(outputs, replace=None, bypass=()):
    """Fresh nodes for everything reachable from `outputs`; `replace` maps a variable Node to the
    (Node, index) entry that takes its place (composition); nodes of the ops named in `bypass` are left out,
    a reader of their output i reading their input i instead (MXNet's remove_amp_cast)."""
    replace = replace or {}
    memo = {}

    def skipped(node):
        return node.op is not None and node.op.name in bypass

    def entry(node, index):
        if node in replace:
            return replace[node]
        if skipped(node):
            return entry(*node.inputs[index])
        return memo[node], index

    for node in topo_order(outputs):
        if node in replace or skipped(node):
            continue
        memo[node] = Node(node.op, node.name, dict(node.attrs),
                          [entry(n, i) for n, i in node.inputs], params=node.params)
    return [entry(n, i) for n, i in outputs]


def registry_op(name):
    """The OpDef called `name`, with an error that names the op when this build lacks it."""
    try:
        return registry.get(name)
    except MXNetError:
        raise MXNetError(f"operator '{name}' is not supported by mxcy (unknown op in the symbol file "
                         f"or call)") from None
