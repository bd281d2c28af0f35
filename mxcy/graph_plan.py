"""GraphPlan: a Symbol's nodes in run order with what each step frees, and the one loop that runs them through
invoke. The Executor and Gluon's CachedOp both run graphs through it."""
import collections

import numpy as np

from . import autograd
from .base import MXNetError
from .ndarray import NDArray
from .ndarray.register import wants_sparse
from .ops.invoke import invoke

__all__ = ["GraphPlan", "named_hook", "hollow_buffer"]


class GraphPlan:
    """What running `symbol` needs to know once: node order, each value's last reader, and which values
    some gradient reads (so they are kept when recording)."""

    def __init__(self, symbol):
        self.outputs = list(symbol._outputs)
        self.order = symbol._topo()
        self.last_use = _last_uses(self.order, self.outputs)
        self.saved = _saved_for_gradient(self.order)

    def run_inside(self, bound, ctx):
        """run() as one step of an enclosing graph (a control-flow body): recording exactly when autograd is,
        so the body's ops land on the enclosing tape one by one."""
        return self.run(bound, ctx, autograd.is_recording())

    def run(self, bound, ctx, record, monitor=None):
        """Run every node on `bound` (variable name -> NDArray); returns the output NDArrays. When
        `record`, values no gradient reads are hollowed after their last reader, and ops may write in place
        over dying inputs only where no gradient needs them. `monitor(node, inputs, outputs)` sees each
        node's arrays as it is pushed; a monitored run writes nothing in place, so the inputs it sees keep
        their values."""
        values, last_use, saved = {}, self.last_use, self.saved
        in_flight = collections.deque()
        for step, node in enumerate(self.order):
            if node.op is None:
                values[(id(node), 0)] = bound[node.name]
                continue
            inputs = [values[(id(n), i)] for n, i in node.inputs]
            run = getattr(node.op, "imperative", None)  # Python-defined ops (Custom) run as in mx.nd
            dying = last_use.get(step, ())
            out = _inplace_output(node, inputs, dying, saved if record else ()) \
                if not run and monitor is None else None
            try:
                if run:
                    outs = run(inputs, node.params)
                elif wants_sparse(inputs, node.params, None):  # csr / row_sparse in or out: mx.nd.sparse's rules
                    from .ndarray.sparse import dispatch
                    outs = dispatch(node.op, inputs, node.params)
                else:
                    outs = invoke(node.op, inputs, node.params, out=out, ctx=ctx)
            except MXNetError as err:
                raise MXNetError(f"Error in operator {node.name}: {err}") from None
            if monitor is not None:
                monitor(node, inputs, outs)
            autograd.throttle(in_flight, outs)
            for i, out in enumerate(outs):
                values[(id(node), i)] = out
            for key in dying:
                value = values.pop(key, None)  # intermediates go once their last reader is pushed
                if record and key not in saved and value is not None:
                    _hollow(value)  # the tape holds it, but no gradient reads its values
        return [values[(id(n), i)] for n, i in self.outputs]


def named_hook(callback, monitor_all, variables=False):
    """A GraphPlan monitor calling callback(name, node, array) under MXNet's monitor names: every output
    an op computes as '<node>_<output>' and, with monitor_all, its inputs before them as '<node>_<argument>',
    or '<node>_input<i>' for ops whose input names MXNet does not declare (OpDef.lists_input_names); with
    `variables`, an input that is a variable is also given first under its own name (MXNet's Executor does
    so, its CachedOp does not)."""
    def monitor(node, inputs, outputs):
        if monitor_all:
            names = node.op.list_inputs(node.params) if node.op.lists_input_names else \
                [f"input{i}" for i in range(len(inputs))]
            for (source, _), name, array in zip(node.inputs, names, inputs):
                if variables and source.op is None:
                    callback(source.name, node, array)
                callback(f"{node.name}_{name}", node, array)
        for i, array in enumerate(outputs[:node.num_visible_outputs()]):
            callback(node.output_name(i), node, array)
    return monitor


def _saved_for_gradient(order):
    """Keys (id(node), output index) of the values to keep: those some gradient reads (OpDef.grad_reads),
    and every variable (bound arrays belong to the user)."""
    saved = set()
    for node in order:
        if node.op is None:
            saved.add((id(node), 0))
            continue
        if node.op.gradient is None and not hasattr(node.op, "imperative"):
            continue  # Python-run ops (Custom, control flow) record what they read on the tape: keep all
        in_reads, out_reads = node.op.gradient_reads(node.params)
        for n, k in enumerate(node.argument_inputs()):  # the gradient numbers the arguments only
            if in_reads is None or n in in_reads:
                src, i = node.inputs[k]
                saved.add((id(src), i))
        for j in range(node.num_outputs()):
            if out_reads is None or j in out_reads:
                saved.add((id(node), j))
    return saved


def _inplace_output(node, inputs, dying, saved):
    """An output array over input 0's buffer when the op allows it and that input is an intermediate whose
    last reader is this node and whose value no gradient needs. It keeps input 0's engine var, so the op
    counts as writing it and runs only after every earlier reader of the buffer. None otherwise."""
    if not node.op.inplace or not node.inputs:
        return None
    src, index = node.inputs[0]
    key = (id(src), index)
    if src.op is None or key not in dying or key in saved:
        return None
    if node.num_outputs() != 1 or any(n is src and i == index for n, i in node.inputs[1:]):
        return None
    x = inputs[0]
    if not isinstance(x._data, np.ndarray) or not x._data.flags.writeable:
        return None
    if any(v.shape != x.shape or v.dtype != x.dtype for v in inputs[1:]):
        return None  # broadcasting or mixed types: the output is not input 0's twin
    return NDArray(x._data, x._ctx, var=x._var)


def _hollow(array):
    """Let go of an intermediate's buffer, keeping its shape and dtype for the gradients that ask; engine
    ops still pending on it hold their own reference to the buffer."""
    data = array._data
    if isinstance(data, np.ndarray):
        array._data = hollow_buffer(data.shape, data.dtype)


def hollow_buffer(shape, dtype):
    """A read-only stand-in of this shape and dtype holding no memory (every stride zero over one 0)."""
    return np.broadcast_to(np.zeros((), dtype), shape)


def _last_uses(order, outputs):
    """{step: keys of values whose last reader is the node at that step}, heads excluded."""
    heads = {(id(n), i) for n, i in outputs}
    last = {}
    for step, node in enumerate(order):
        for n, i in node.inputs:
            last[(id(n), i)] = step
    by_step = {}
    for key, step in last.items():
        if key not in heads:
            by_step.setdefault(step, []).append(key)
    return by_step
