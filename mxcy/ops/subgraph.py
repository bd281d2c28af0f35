"""MXNet's `_CachedOp` graph node: a whole subgraph (its JSON in the `subgraph` attribute) run as one node, as
MXNet's subgraph API writes them (`mx.sym._internal._CachedOp(*inputs, subgraph=sym.tojson())`).

Executors and CachedOps run it through `imperative` (as the control-flow ops): the subgraph's operators go
through invoke, so while recording they land on autograd's tape and the gradient is theirs."""
import functools

from . import registry
from .control_flow import _fresh, _infer_graph, _Runner
from .registry import Param

__all__ = []


@functools.lru_cache(maxsize=64)
def _graph(subgraph_json):
    from ..symbol.json_io import load_json
    return load_json(subgraph_json)


@functools.lru_cache(maxsize=64)
def _aux_positions(subgraph_json):
    """Where the subgraph's auxiliary states sit among its inputs (MXNet's DefaultSubgraphOpMutableInputsHelper):
    the node takes the inputs in the subgraph's list_inputs order, so they interleave with the arguments."""
    graph = _graph(subgraph_json)
    aux = {id(n) for n in graph._variables()[1]}
    return tuple(k for k, n in enumerate(n for n in graph._topo() if n.op is None) if id(n) in aux)


class _SubgraphNode(registry.OpDef):
    __slots__ = ()

    def __init__(self):
        super().__init__("_CachedOp", params=(Param("subgraph", "str", doc="The subgraph's symbol JSON."),),
                         arguments=lambda attrs: _graph(attrs["subgraph"]).list_arguments(),
                         num_outputs=lambda attrs: len(_graph(attrs["subgraph"]).list_outputs()),
                         output_names=lambda attrs: _graph(attrs["subgraph"]).list_outputs(),
                         infer_shape=self._infer_shape, infer_type=self._infer("type"), compute={},
                         partial_shapes=True,
                         doc="Runs the symbol in `subgraph` on the inputs, one input per subgraph input.")

    def list_inputs(self, attrs):
        return _graph(attrs["subgraph"]).list_inputs()

    def aux_inputs(self, attrs):
        return _aux_positions(attrs["subgraph"])

    @staticmethod
    def _infer_shape(attrs, in_shapes, out_shapes=None):
        """The subgraph's own inference on partial shapes, seeded with what is known of its inputs and outputs,
        so shapes also flow back through the node (a weight's unknown dimension from its reader outside)."""
        from ..symbol.infer import infer_graph
        graph = _graph(attrs["subgraph"])
        known = {n: v for n, v in zip(graph.list_inputs(), in_shapes) if v is not None}
        values = infer_graph(graph, known, "shape", lambda node: None, out_shapes or ())
        return ([values.get((id(n), 0)) for n in graph._topo() if n.op is None],
                [values.get((id(n), i)) for n, i in graph._outputs])

    @staticmethod
    def _infer(rule):
        def infer(attrs, values):
            return _infer_graph(_graph(attrs["subgraph"]), list(values), rule)
        return infer

    def imperative(self, inputs, attrs):
        graph = _graph(attrs["subgraph"])
        from ..graph_plan import GraphPlan
        results = _Runner(self.name, GraphPlan(graph), graph, inputs).run(dict(enumerate(inputs)))
        outputs = []
        for r in results:  # an output repeating an input or an earlier output gets an array of its own
            outputs.append(_fresh(r, list(inputs) + outputs))
        return outputs


registry.register(_SubgraphNode())
