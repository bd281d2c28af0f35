"""mx.sym.contrib.foreach / while_loop / cond: trace the Python body on fresh variables inside an AttrScope that
marks its nodes with `__subgraph_name__`, cut the traced graph where it reaches symbols made outside (each such
entry becomes a variable of the subgraph named by its output, and an input of the node), and make one
`_foreach` / `_while_loop` / `_cond` node holding the subgraphs, laid out as MXNet 1.9.1 writes them."""
from ..attribute import AttrScope
from ..base import MXNetError
from ..graph_walk import post_order
from ..name import NameManager
from ..ndarray.control_flow import flatten, regroup
from ..ops import registry
from .graph import Node, hide_key
from .symbol import Group, Symbol, var

__all__ = ["foreach", "while_loop", "cond"]

_TAG = "__subgraph_name__"


def _unique_name(name):
    """`name` numbered by how many subgraphs were made from it, under the enclosing subgraph's name."""
    outer = AttrScope.current._attr.get(_TAG, "")
    if outer:
        name = f"{outer}${name}"
    AttrScope._subgraph_names[name] += 1
    return f"{name}{AttrScope._subgraph_names[name] - 1}"


def _input_name(sym):
    """The name of the variable standing in for `sym` inside a body: its node's name and output index."""
    (node, index), = sym._outputs
    return f"{node.name}-{index}"


def _body_heads(heads, name):
    """The body's outputs as entries made inside the subgraph: one that is a variable, comes from outside or
    repeats an earlier output goes through identity (a graph's outputs must be its own, distinct nodes).
    Call inside the subgraph's AttrScope."""
    from .register import make_symbol_function
    identity = make_symbol_function(registry.get("_copy"), "identity")
    out, seen = [], set()
    for sym in heads:
        (node, index), = sym._outputs
        if node.op is None or node.attrs.get(_TAG) != name or (id(node), index) in seen:
            sym = identity(sym)
        seen.add((id(sym._outputs[0][0]), sym._outputs[0][1]))
        out.append(sym)
    return Group(out) if out else None


def _cut(graph, name):
    """(the subgraph, {variable name: outer Symbol}): nodes tagged `name` are copied; each entry they read
    from an untagged node becomes one variable named by that entry's output name."""
    tagged = (lambda node: node.attrs.get(_TAG) == name)
    order = post_order([n for n, _ in graph._outputs],
                       lambda node: [n for n, _ in node.inputs] if tagged(node) else [])
    copies, cut_vars, outer = {}, {}, {}
    for node in order:
        if not tagged(node):
            continue
        if node.op is None:
            copies[id(node)] = node  # the body's own variables (a Gluon parameter's) stay shared
            continue
        inputs = []
        for src, index in node.inputs:
            if tagged(src):
                inputs.append((copies[id(src)], index))
                continue
            key = (id(src), index)
            if key not in cut_vars:
                var_name = src.output_name(index)
                if var_name in outer:
                    raise MXNetError(f"{name}: two different symbols named '{var_name}' are used inside the "
                                     "body; give them distinct names")
                cut_vars[key] = Node(None, var_name, {})
                outer[var_name] = Symbol([(src, index)])
            inputs.append((cut_vars[key], 0))
        copies[id(node)] = Node(node.op, node.name, dict(node.attrs), inputs, params=node.params)
    sub = Symbol([(copies[id(n)], i) for n, i in graph._outputs])
    names = sub.list_inputs()
    if len(set(names)) != len(names):
        raise MXNetError(f"{name}: the inputs of the subgraph don't have unique names: {names}")
    return sub, outer


def _make_node(op_name, graphs, inputs, **params):
    """The control-flow node over `inputs` (single-output Symbols), named as mx.sym._internal.<op_name>."""
    op = registry.get(op_name)
    strings = {k: str(v) for k, v in params.items()}
    strings["num_args"] = str(len(inputs) + len(graphs))
    # A loop inside a body belongs to that body's subgraph.
    strings.update((hide_key(k), v) for k, v in AttrScope.current.get(None).items())
    node = Node(op, NameManager.current.get(None, op_name), strings, [s._outputs[0] for s in inputs])
    node.params["subgraphs"] = list(graphs)
    return [Symbol([(node, i)]) for i in range(node.num_outputs())]


def _trace(variables, build, name):
    """Run build(new variables, nested as `variables`) inside a fresh subgraph scope; returns (subgraph,
    outer symbols by cut variable name, names of the variables standing in for `variables`, what build
    returned besides the heads)."""
    flat, fmt = flatten(variables, Symbol, "loop variables")
    name = _unique_name(name)
    names = [_input_name(s) for s in flat]
    with AttrScope(**{_TAG: name}):
        stand_ins = regroup([var(n) for n in names], fmt)[0]
        heads, extra = build(stand_ins)
        graph = _body_heads(heads, name)
    if graph is None:
        raise MXNetError(f"{name}: the body returns no symbols")
    sub, outer = _cut(graph, name)
    return sub, outer, names, extra


def foreach(body, data, init_states, name="foreach"):
    """Symbol version of mx.nd.contrib.foreach: one `_foreach` node whose subgraph is `body`."""
    flat_data, data_fmt = flatten(data, Symbol, "foreach input")
    flat_states, state_fmt = flatten(init_states, Symbol, "foreach states")

    def build(stand_ins):
        data_vars, state_vars = stand_ins
        outs, states = body(regroup(data_vars, data_fmt)[0], regroup(state_vars, state_fmt)[0])
        flat_out, out_fmt = flatten(outs, Symbol, "foreach output")
        flat_new, new_fmt = flatten(states, Symbol, "foreach loop_vars")
        if new_fmt != state_fmt:
            raise AssertionError("The input and output loop_vars have different format")
        return flat_out + flat_new, (len(flat_out), out_fmt)

    sub, outer, names, (n_out, out_fmt) = _trace([flat_data, flat_states], build, name)
    sub_inputs = sub.list_inputs()
    data_names, state_names = names[:len(flat_data)], names[len(flat_data):]
    for what, wanted in (("data", data_names), ("state", state_names)):
        if any(n not in sub_inputs for n in wanted):
            raise AssertionError(f"the {what} arrays have to be used in the loop body")
    inner = {n.name: Symbol([(n, 0)]) for n in sub._topo() if n.op is None}
    remain = [n for n in sub_inputs if n not in data_names and n not in state_names]
    inputs = flat_data + flat_states + [outer.get(n, inner[n]) for n in remain]
    result = _make_node("_foreach", [sub], inputs, num_outputs=n_out + len(flat_states), num_out_data=n_out,
                        in_state_locs=[sub_inputs.index(n) for n in state_names],
                        in_data_locs=[sub_inputs.index(n) for n in data_names],
                        remain_locs=[sub_inputs.index(n) for n in remain])
    return regroup(result[:n_out], out_fmt)[0], regroup(result[n_out:], state_fmt)[0]


def _union_inputs(graphs, known, by_name):
    """The node's inputs from several subgraphs: `known` maps a variable name to its outer Symbol (the loop
    variables); a cut entry or a body's own variable is added per graph, except that with `by_name` an
    input already collected under the same name is reused (MXNet's cond). Returns (inputs, per graph: the
    input position of each of its variables)."""
    inputs, positions, all_locs = [], {}, []
    for sub, outer in graphs:
        inner = {n.name: Symbol([(n, 0)]) for n in sub._topo() if n.op is None}
        names_seen = {s.name: k for k, s in enumerate(inputs)} if by_name else {}
        locs = []
        for name in sub.list_inputs():
            if name in names_seen:
                locs.append(names_seen[name])
                continue
            if name in known:
                key, sym = ("var", name), known[name]
            else:
                key, sym = ("graph", id(sub), name), outer.get(name, inner[name])
            if key not in positions:
                positions[key] = len(inputs)
                inputs.append(sym)
            locs.append(positions[key])
        all_locs.append(locs)
    return inputs, all_locs


def while_loop(cond, func, loop_vars, max_iterations=None, name="while_loop"):
    """Symbol version of mx.nd.contrib.while_loop: one `_while_loop` node with the cond and func subgraphs.
    The per-step outputs have max_iterations rows (rows after the last step are zeros)."""
    if max_iterations is None:
        raise ValueError("max_iterations should be specified")
    try:
        max_iterations = int(max_iterations)
    except (TypeError, ValueError):
        raise ValueError("Cannot convert max_iteration to python int") from None
    flat_vars, var_fmt = flatten(loop_vars, Symbol, "while loop_vars")
    if not flat_vars:
        raise ValueError("loop_vars should contain at least one element")
    as_args = (lambda stand_ins: stand_ins if isinstance(stand_ins, (list, tuple)) else [stand_ins])

    def build_cond(stand_ins):
        result = cond(*as_args(stand_ins))
        if not isinstance(result, Symbol):
            raise ValueError("Return of cond must be a Symbol")
        return [result], None

    def build_func(stand_ins):
        step_output, new_vars = func(*as_args(stand_ins))
        step_output = [] if step_output is None else step_output
        new_vars = [] if new_vars is None else new_vars
        flat_out, out_fmt = flatten(list(step_output) if isinstance(step_output, tuple) else step_output,
                                    Symbol, "while output")
        flat_new, _ = flatten(list(new_vars) if isinstance(new_vars, tuple) else new_vars, Symbol,
                              "while loop_vars")
        if len(flat_new) != len(flat_vars):
            raise ValueError("The number of loop_vars should be consistent during the loop")
        return flat_out + flat_new, (len(flat_out), out_fmt)

    cond_g, cond_outer, names, _ = _trace(loop_vars, build_cond, name + "_cond")
    func_g, func_outer, _, (n_out, out_fmt) = _trace(loop_vars, build_func, name + "_func")
    known = dict(zip(names, flat_vars))
    inputs, (cond_locs, func_locs) = _union_inputs([(cond_g, cond_outer), (func_g, func_outer)], known, False)
    func_inputs = func_g.list_inputs()
    var_locs = []
    for i, n in enumerate(names, 1):
        if n not in func_inputs:
            raise ValueError(f"The {i}-th loop_var doesn't involve into the computation")
        var_locs.append(func_inputs.index(n))
    result = _make_node("_while_loop", [cond_g, func_g], inputs, cond_input_locs=cond_locs,
                        func_input_locs=func_locs, func_var_locs=var_locs, max_iterations=max_iterations,
                        num_out_data=n_out, num_outputs=n_out + len(flat_vars))
    return regroup(result[:n_out], out_fmt)[0], regroup(result[n_out:], var_fmt)[0]


def cond(pred, then_func, else_func, name="cond"):
    """Symbol version of mx.nd.contrib.cond: one `_cond` node with the pred, then and else subgraphs."""
    if not isinstance(pred, Symbol):
        raise MXNetError(f"cond: pred must be a Symbol, got {type(pred).__name__}")
    pred_g, pred_outer, _, _ = _trace([], lambda _: ([pred], None), name + "_pred")
    if len(pred_g.list_outputs()) != 1:
        raise ValueError("pred should always be a single output")

    def branch(func):
        def build(_):
            flat, fmt = flatten(func(), Symbol, "cond outputs")
            return flat, fmt
        return build

    then_g, then_outer, _, then_fmt = _trace([], branch(then_func), name + "_then")
    else_g, else_outer, _, _ = _trace([], branch(else_func), name + "_else")
    n_out = len(then_g.list_outputs())
    if n_out != len(else_g.list_outputs()):
        raise ValueError("Number of outputs differs between then-branch and else-branch")
    inputs, (pred_locs, then_locs, else_locs) = _union_inputs(
        [(pred_g, pred_outer), (then_g, then_outer), (else_g, else_outer)], {}, True)
    result = _make_node("_cond", [pred_g, then_g, else_g], inputs, cond_input_locs=pred_locs,
                        then_input_locs=then_locs, else_input_locs=else_locs, num_outputs=n_out)
    return regroup(result, then_fmt)[0]
