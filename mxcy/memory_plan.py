"""The memory an executor's run needs beyond its bound arguments, for debug_str's "Total N MB allocated" line:
the outputs, and, when some gradient reaches an argument that wants one, the values the backward reads."""
import numpy as np

from .graph_plan import GraphPlan
from .graph_walk import post_order
from .ops.registry import zero_gradients


def gradient_flows(symbol, grad_reqs):
    """Whether a gradient from the outputs reaches an argument whose grad_req is not 'null' (MXNet's zero-gradient
    pass: ops without a gradient, or whose gradient is zeros (BlockGrad, logic ops), stop it)."""
    def passes(node):
        return node.op is not None and node.op.gradient is not None and node.op.gradient is not zero_gradients

    def children(node):
        return [n for n, _ in node.inputs] if passes(node) else []
    reached = post_order([n for n, _ in symbol._outputs if passes(n)], children)
    return any(n.op is None and grad_reqs.get(n.name, "null") != "null" for n in reached)


def allocated_bytes(symbol, arg_shapes, arg_types, grad_reqs):
    """Bytes of the run's outputs, plus those of the intermediate values kept for the backward when a gradient
    flows (None when the graph's shapes cannot be inferred)."""
    internals = symbol.get_internals()
    _, shapes, _ = internals.infer_shape(**arg_shapes)
    _, types, _ = internals.infer_type(**arg_types)
    if shapes is None or types is None:
        return None
    size = {(id(n), i): int(np.prod(s)) * np.dtype(t).itemsize
            for (n, i), s, t in zip(internals._outputs, shapes, types)}
    total = sum(size[(id(n), i)] for n, i in symbol._outputs)
    if gradient_flows(symbol, grad_reqs):
        plan = GraphPlan(symbol)
        bound = {(id(n), i) for n, i in symbol._outputs} | {(id(n), 0) for n in plan.order if n.op is None}
        total += sum(size[key] for key in plan.saved if key in size and key not in bound)
    return total
