"""MXNet's control-flow operators `_foreach`, `_while_loop` and `_cond`: nodes whose subgraphs (a Symbol per
loop body, condition or branch, in params["subgraphs"] as nnvm keeps them) run through GraphPlan, op by op.

Executors and CachedOps run them through `imperative` (as Custom): each subgraph's operators go through
invoke, so while recording they land on autograd's tape one by one and the gradient is theirs; there is no
backward operator of its own. The loop itself runs in Python on the host, as MXNet's does in C++."""
import numpy as np

from ..base import MXNetError
from . import registry
from .partial_shape import UNKNOWN, is_known
from .registry import Param

__all__ = []


def _locs(name, doc):
    return Param(name, "shape", doc=doc)


class _SubgraphOp(registry.OpDef):
    """An op whose first `n_graphs` MXNet inputs are subgraphs; the node's inputs are the `data*` arrays."""
    __slots__ = ("n_graphs", "graph_names")

    def __init__(self, name, graph_names, params, doc, partial_shapes=False):
        self.n_graphs = len(graph_names)
        self.graph_names = graph_names
        super().__init__(name, params=(Param("num_args", "int", doc="Number of inputs, the subgraphs "
                                             "included."),
                                       Param("num_outputs", "int", doc="Number of outputs."),) + params,
                         arguments=self._data_names, num_outputs=lambda attrs: attrs["num_outputs"],
                         infer_shape=self._infer_shape, infer_type=self._infer_type, compute={},
                         key_var_num_args="num_args", doc=doc, partial_shapes=partial_shapes)

    def _data_names(self, attrs):
        return [f"data{i}" for i in range(attrs["num_args"] - self.n_graphs)]

    def graphs(self, attrs):
        """The node's subgraph Symbols; a node without them (a hand-written JSON file) is an error."""
        graphs = attrs.get("subgraphs")
        if graphs is None or len(graphs) != self.n_graphs:
            raise MXNetError(f"{self.name}: expects {self.n_graphs} subgraphs ({', '.join(self.graph_names)}), "
                             f"got {0 if graphs is None else len(graphs)}")
        return graphs

    def _infer_shape(self, attrs, in_shapes):
        return self.infer(attrs, in_shapes, "shape")

    def _infer_type(self, attrs, in_types):
        return self.infer(attrs, in_types, "type")


def _infer_graph(graph, in_values, rule):
    """Run `rule` ('shape'/'type') over a subgraph from one value (or None) per graph input; returns
    (input values, output values), None where still unknown."""
    from ..symbol.infer import infer_graph
    names = graph.list_inputs()
    known = {n: v for n, v in zip(names, in_values) if v is not None}
    values = infer_graph(graph, known, rule, lambda node: None)
    if rule == "shape":  # the loop rules below work on complete shapes
        values = {k: v if is_known(v) else None for k, v in values.items()}
    inputs = [values.get((id(n), 0)) for n in graph._topo() if n.op is None]
    return inputs, [values.get((id(n), i)) for n, i in graph._outputs]


def _same(op, what, index, entering, leaving, rule):
    if entering is not None and leaving is not None and entering != leaving:
        raise ValueError(f"{what} {index} enters the {op} body with {rule} {_show(entering, rule)} and leaves "
                         f"it with {_show(leaving, rule)}; a loop variable keeps its {rule}")
    return entering if entering is not None else leaving


def _show(value, rule):
    return str(tuple(value)) if rule == "shape" else getattr(value, "name", str(value))


def _check_inputs(op, graph, locs, n_inputs):
    n_graph = len(graph.list_inputs())
    if sorted(locs) != list(range(n_graph)) or n_inputs != n_graph:
        raise ValueError(f"{op}: the input locations {list(locs)} do not cover the subgraph's {n_graph} inputs "
                         f"({n_inputs} arrays given)")


class _Foreach(_SubgraphOp):
    __slots__ = ()

    def __init__(self):
        super().__init__("_foreach", ("fn",), (
            Param("num_out_data", "int", doc="Number of per-step outputs (stacked along axis 0)."),
            _locs("in_state_locs", "Positions of the loop states among the subgraph's inputs."),
            _locs("in_data_locs", "Positions of the sliced data among the subgraph's inputs."),
            _locs("remain_locs", "Positions of the other inputs among the subgraph's inputs.")),
            "Runs the subgraph once per slice of the data along axis 0, carrying the states; the per-step "
            "outputs are stacked. Built by mx.sym.contrib.foreach.", partial_shapes=True)

    @staticmethod
    def _sub_locs(attrs):
        return list(attrs["in_data_locs"]) + list(attrs["in_state_locs"]) + list(attrs["remain_locs"])

    def infer(self, attrs, values, rule):
        (graph,) = self.graphs(attrs)
        locs = self._sub_locs(attrs)
        _check_inputs(self.name, graph, locs, len(values))
        n_data, n_out = len(attrs["in_data_locs"]), attrs["num_out_data"]
        sub = [None] * len(locs)
        length = None
        for k, (loc, value) in enumerate(zip(locs, values)):
            if k < n_data and rule == "shape" and value is not None:
                if length is not None and value[0] != length:
                    raise ValueError(f"the data arrays differ in length along axis 0: {length} and {value[0]}")
                length = value[0]
                value = tuple(value[1:]) or (1,)  # a slice of a vector is a 1-vector in MXNet 1.x
            sub[loc] = value
        sub_in, sub_out = _infer_graph(graph, sub, rule)
        new = list(values)
        for k, loc in enumerate(locs[n_data:], n_data):
            new[k] = sub_in[loc]
        for k in range(n_data):
            if new[k] is None and rule == "type":
                new[k] = sub_in[locs[k]]
        states = []
        for j, value in enumerate(sub_out[n_out:]):
            k = n_data + j
            new[k] = _same(self.name, "loop state", j, new[k], value, rule)
            states.append(new[k])
        outs = []
        for value in sub_out[:n_out]:
            if rule == "type":
                outs.append(value)
            else:
                outs.append(None if value is None or length is None else (length,) + tuple(value))
        return new, outs + states

    def _infer_shape(self, attrs, in_shapes, out_shapes=None):
        """The loop's shapes from partial ones: a data array whose only unknown dimension is axis 0 (the loop
        length) gives the body complete slices, and the per-step outputs an unknown axis 0 too; the body works on
        complete shapes only."""
        n_data, n_out = len(attrs["in_data_locs"]), attrs["num_out_data"]
        shapes = [s if is_known(s) else None for s in in_shapes]
        lengths = {s[0] for s in shapes[:n_data] if s is not None}
        unknown_length = not lengths
        for k in range(n_data):
            data = in_shapes[k]
            if shapes[k] is None and data is not None and is_known(data[1:]):
                shapes[k] = (min(lengths, default=1),) + tuple(data[1:])
        try:
            ins, outs = self.infer(attrs, shapes, "shape")
        except (ValueError, MXNetError):
            if all(s is not None for s in shapes) and not unknown_length:
                raise
            return in_shapes, [None] * attrs["num_outputs"]
        if unknown_length:
            ins[:n_data] = in_shapes[:n_data]
            outs[:n_out] = [None if o is None else (UNKNOWN,) + tuple(o[1:]) for o in outs[:n_out]]
        return ins, outs

    def imperative(self, inputs, attrs):
        from ..graph_plan import GraphPlan
        from ..ndarray import op as nd
        (graph,) = self.graphs(attrs)
        locs = self._sub_locs(attrs)
        n_data, n_state, n_out = len(attrs["in_data_locs"]), len(attrs["in_state_locs"]), attrs["num_out_data"]
        length = inputs[0].shape[0]
        for x in inputs[1:n_data]:
            if x.shape[0] != length:
                raise MXNetError(f"{self.name}: the data arrays differ in length along axis 0: "
                                 f"{[a.shape for a in inputs[:n_data]]}")
        if length == 0:
            raise MXNetError(f"{self.name}: the data has length 0 along axis 0; there is nothing to loop over")
        runner = _Runner(self.name, GraphPlan(graph), graph, inputs)
        sub = list(inputs)  # position k of the inputs goes to subgraph input locs[k]
        states = list(inputs[n_data:n_data + n_state])
        steps = []
        for t in range(length):
            for k in range(n_data):
                sub[k] = inputs[k][t]
            sub[n_data:n_data + n_state] = states
            results = runner.run({loc: x for loc, x in zip(locs, sub)})
            _check_states(self.name, "loop state", states, results[n_out:])
            steps.append(results[:n_out])
            states = results[n_out:]
        outputs = [nd.stack(*column, axis=0) for column in zip(*steps)]
        return outputs + [_fresh(s, inputs) for s in states]


class _WhileLoop(_SubgraphOp):
    __slots__ = ()

    def __init__(self):
        super().__init__("_while_loop", ("cond", "func"), (
            Param("num_out_data", "int", doc="Number of per-step outputs of the body."),
            Param("max_iterations", "int", doc="Most steps the loop runs; the per-step outputs have this length."),
            _locs("cond_input_locs", "For each input of cond, its position among the op's inputs."),
            _locs("func_input_locs", "For each input of func, its position among the op's inputs."),
            _locs("func_var_locs", "For each loop variable, its position among func's inputs.")),
            "Runs func while cond holds (at most max_iterations steps); per-step outputs are stacked and "
            "padded with zeros to max_iterations. Built by mx.sym.contrib.while_loop.")

    def infer(self, attrs, values, rule):
        cond, func = self.graphs(attrs)
        cond_locs, func_locs = list(attrs["cond_input_locs"]), list(attrs["func_input_locs"])
        var_locs, n_out = list(attrs["func_var_locs"]), attrs["num_out_data"]
        for graph, locs in ((cond, cond_locs), (func, func_locs)):
            _check_inputs(self.name, graph, range(len(locs)), len(locs))
            if any(not 0 <= loc < len(values) for loc in locs):
                raise ValueError(f"input locations {locs} point outside the {len(values)} inputs")
        new = list(values)
        func_in, func_out = _infer_graph(func, [new[loc] for loc in func_locs], rule)
        for loc, value in zip(func_locs, func_in):
            new[loc] = new[loc] if value is None else value
        for i, (j, value) in enumerate(zip(var_locs, func_out[n_out:])):
            new[func_locs[j]] = _same(self.name, "loop variable", i, new[func_locs[j]], value, rule)
        cond_in, _ = _infer_graph(cond, [new[loc] for loc in cond_locs], rule)
        for loc, value in zip(cond_locs, cond_in):
            new[loc] = new[loc] if value is None else value
        outs = [value if value is None or rule == "type" else (attrs["max_iterations"],) + tuple(value)
                for value in func_out[:n_out]]
        return new, outs + [new[func_locs[j]] for j in var_locs]

    def imperative(self, inputs, attrs):
        from ..graph_plan import GraphPlan
        from ..ndarray import op as nd
        from ..ndarray.utils import zeros
        cond, func = self.graphs(attrs)
        cond_locs, func_locs = list(attrs["cond_input_locs"]), list(attrs["func_input_locs"])
        var_locs, n_out = list(attrs["func_var_locs"]), attrs["num_out_data"]
        limit = attrs["max_iterations"]
        cond_run = _Runner(self.name, GraphPlan(cond), cond, inputs)
        func_run = _Runner(self.name, GraphPlan(func), func, inputs)
        current = list(inputs)  # the op's inputs, loop variables replaced by their latest values
        steps = []
        while len(steps) < limit and _truth(self.name, "cond", cond_run.run(
                {k: current[loc] for k, loc in enumerate(cond_locs)})[0]):
            results = func_run.run({k: current[loc] for k, loc in enumerate(func_locs)})
            variables = [current[func_locs[j]] for j in var_locs]
            _check_states(self.name, "loop variable", variables, results[n_out:])
            for j, value in zip(var_locs, results[n_out:]):
                current[func_locs[j]] = value
            steps.append(results[:n_out])
        if steps:
            outputs = [nd.stack(*column, axis=0) for column in zip(*steps)]
        else:  # nothing ran: zeros of the inferred shapes, as the symbol promised them
            shapes = self.infer(attrs, [x.shape for x in inputs], "shape")[1]
            types = self.infer(attrs, [x.dtype for x in inputs], "type")[1]
            outputs = [zeros(s, ctx=inputs[0].context, dtype=t) for s, t in zip(shapes[:n_out], types)]
        if steps and len(steps) < limit:  # MXNet leaves the rows after the last step unset; zeros here
            outputs = [nd.concat(o, zeros((limit - len(steps),) + o.shape[1:], ctx=o.context, dtype=o.dtype),
                                 dim=0) for o in outputs]
        return outputs + [_fresh(current[func_locs[j]], inputs) for j in var_locs]


class _Cond(_SubgraphOp):
    __slots__ = ()

    def __init__(self):
        super().__init__("_cond", ("cond", "then_branch", "else_branch"), (
            _locs("cond_input_locs", "For each input of cond, its position among the op's inputs."),
            _locs("then_input_locs", "For each input of then_branch, its position among the op's inputs."),
            _locs("else_input_locs", "For each input of else_branch, its position among the op's inputs.")),
            "Runs then_branch when cond's one-element output is nonzero, else_branch otherwise. Built by "
            "mx.sym.contrib.cond.")

    def _pairs(self, attrs):
        return list(zip(self.graphs(attrs), (list(attrs[k]) for k in
                                             ("cond_input_locs", "then_input_locs", "else_input_locs"))))

    def infer(self, attrs, values, rule):
        new = list(values)
        branch_outs = []
        for graph, locs in self._pairs(attrs):
            _check_inputs(self.name, graph, range(len(locs)), len(locs))
            if any(not 0 <= loc < len(values) for loc in locs):
                raise ValueError(f"input locations {locs} point outside the {len(values)} inputs")
            ins, outs = _infer_graph(graph, [new[loc] for loc in locs], rule)
            for loc, value in zip(locs, ins):
                new[loc] = new[loc] if value is None else value
            branch_outs.append(outs)
        then_outs, else_outs = branch_outs[1:]
        if len(then_outs) != attrs["num_outputs"] or len(else_outs) != attrs["num_outputs"]:
            raise ValueError(f"then_branch has {len(then_outs)} outputs and else_branch {len(else_outs)}; "
                             f"num_outputs is {attrs['num_outputs']}")
        outs = []
        for i, (a, b) in enumerate(zip(then_outs, else_outs)):
            if a is not None and b is not None and a != b:
                raise ValueError(f"output {i} has {rule} {_show(a, rule)} in then_branch and {_show(b, rule)} "
                                 "in else_branch; both branches must agree")
            outs.append(a if a is not None else b)
        return new, outs

    def imperative(self, inputs, attrs):
        from ..graph_plan import GraphPlan
        (cond, cond_locs), *branches = self._pairs(attrs)
        pred = _Runner(self.name, GraphPlan(cond), cond, inputs).run(
            {k: inputs[loc] for k, loc in enumerate(cond_locs)})[0]
        graph, locs = branches[0] if _truth(self.name, "cond", pred) else branches[1]
        results = _Runner(self.name, GraphPlan(graph), graph, inputs).run(
            {k: inputs[loc] for k, loc in enumerate(locs)})
        return [_fresh(r, inputs) for r in results]


class _Runner:
    """One subgraph's plan, run on the arrays given by subgraph input position; records on autograd's tape
    while recording (GraphPlan.run_inside), so the gradient is the subgraph's own ops'."""
    __slots__ = ("op_name", "plan", "names", "ctx")

    def __init__(self, op_name, plan, graph, inputs):
        from ..context import current_context
        self.op_name, self.plan, self.names = op_name, plan, graph.list_inputs()
        self.ctx = inputs[0].context if inputs else current_context()

    def run(self, by_position):
        bound = {self.names[k]: x for k, x in by_position.items()}
        return self.plan.run_inside(bound, self.ctx)


def _check_states(op_name, what, before, after):
    for i, (a, b) in enumerate(zip(before, after)):
        if a.shape != b.shape or a.dtype != b.dtype:
            raise MXNetError(f"{op_name}: {what} {i} enters the body as {a.shape} {np.dtype(a.dtype).name} and "
                             f"leaves it as {b.shape} {np.dtype(b.dtype).name}; a loop variable keeps its shape "
                             "and dtype")


def _truth(op_name, what, array):
    if array.size != 1:
        raise MXNetError(f"{op_name}: {what} must give one element, got shape {array.shape}")
    return bool(array.asscalar())


def _fresh(array, inputs):
    """An output that is one of the op's own inputs (a loop that never ran) is copied through `_copy`, so the
    output is a new array and its gradient reaches the input on the tape."""
    if any(array is x for x in inputs):
        from ..ndarray import op as nd
        return nd.identity(array)
    return array


for _op in (_Foreach(), _WhileLoop(), _Cond()):
    registry.register(_op)
