"""Executor: a Symbol bound to arrays. forward runs the graph node by node through the same invoke path
as mx.nd (recording on autograd's tape when gradients are wanted); backward walks that tape. Both are traced
(graph_trace) on their first run for the bound shapes, and later runs replay the traces as one engine op each."""
import math
import os
import warnings

import numpy as np

from . import autograd, graph_trace
from .base import MXNetError
from .error import MXNetValueError
from .context import Context
from .ndarray import NDArray, empty
from .ndarray.utils import buffer_zeros
from .symbol import partition
from .symbol.cse import eliminate_common_expr
from .symbol.graph import copy_graph, topo_order
from .symbol.infer import infer_graph
from .symbol.symbol import Symbol
from .ops.partial_shape import from_user, is_known
from .util import is_np_shape
from .symbol.infer_storage import infer_storage, variable_stypes
from .graph_plan import GraphPlan, named_hook
from .ops import registry
from .ops.invoke import invoke

__all__ = ["Executor"]

_REQS = ("null", "write", "add", "inplace")


def _alias(array):
    """A second handle on `array`'s buffer, so marking it for autograd leaves the user's array alone."""
    if array.stype != "default":  # a sparse array: a second handle on its parts
        return type(array)(array._values, array._aux, array.shape, array._ctx)
    return NDArray(array._data, array._ctx, var=array._var)


class Executor:
    """Run `symbol` with bound argument, gradient and auxiliary arrays."""

    def __init__(self, symbol, ctx, arg_arrays, grad_arrays, grad_reqs, aux_arrays):
        self._symbol = symbol
        self._ctx = ctx
        self.arg_arrays = arg_arrays
        self.grad_arrays = grad_arrays
        self.aux_arrays = aux_arrays
        self._grad_reqs = grad_reqs
        self._arg_names = symbol.list_arguments()
        self._aux_names = symbol.list_auxiliary_states()
        self._out_names = symbol.list_outputs()
        self._optimized = _shapes_from_graph(_optimized(symbol), {
            n: a.shape for n, a in zip(self._arg_names + self._aux_names, arg_arrays + aux_arrays)})
        self._plan = GraphPlan(self._optimized)
        self._heads = None
        self._recorded = None  # whether the last forward recorded its ops; None before any forward
        self._monitor = None  # (callback, monitor_all) from set_monitor_callback
        self._tape_nodes = {}  # tape node -> graph node, for the monitor's names in backward
        self._traces = {}  # (record, is_train, shapes and dtypes bound) -> graph_trace.Signature
        self._replayed = None  # (Signature, saved buffers, heads) after a replayed recorded forward
        self._tracing = None  # (Signature, traced forward, bound arrays) while the backward is to be traced
        self.outputs = self._allocate_outputs()

    # --- construction ----------------------------------------------------------------------
    @classmethod
    def bind(cls, symbol, ctx, args, args_grad=None, grad_req="write", aux_states=None, group2ctx=None,
             shared_exec=None):
        """Bind the given arrays. MXNet's shared_exec lends its memory pool for intermediates; mxcy keeps
        no pool, so there is nothing to share. group2ctx: see _placements."""
        ctx = _context(ctx)
        _check_shared_exec(shared_exec)
        _placements(symbol, ctx, group2ctx)
        arg_names, aux_names = symbol.list_arguments(), symbol.list_auxiliary_states()
        arg_arrays = _as_list(args, arg_names, "args", required=True)
        grad_reqs = _grad_reqs(grad_req, arg_names)
        if args_grad is None:
            grad_arrays = [None] * len(arg_names)
            grad_reqs = ["null"] * len(arg_names)
        else:
            grad_arrays = _as_list(args_grad, arg_names, "args_grad", required=False)
            grad_reqs = [r if g is not None else "null" for r, g in zip(grad_reqs, grad_arrays)]
            grad_arrays = [g if r != "null" else None for r, g in zip(grad_reqs, grad_arrays)]
        aux_arrays = _as_list(aux_states or [], aux_names, "aux_states", required=True)
        for name, a, g in zip(arg_names, arg_arrays, grad_arrays):
            if g is not None and g.shape != a.shape:
                raise MXNetError(f"bind: gradient array of '{name}' has shape {g.shape}, the argument "
                                 f"has {a.shape}")
        return cls(symbol, ctx, arg_arrays, grad_arrays, grad_reqs, aux_arrays)

    @classmethod
    def simple_bind(cls, symbol, ctx, grad_req="write", type_dict=None, stype_dict=None, group2ctx=None,
                    shared_arg_names=None, shared_exec=None, shared_buffer=None, shapes=None):
        """Allocate the arrays from the inferred shapes and types and bind them.

        As in MXNet, sharing needs a shared_buffer (the Module API's bucketing path): arguments named in
        shared_arg_names then use shared_exec's arrays and gradients, auxiliary states are shared_exec's,
        and every other argument (gradient) is a view of shared_buffer[name] (["grad of " + name]) when that
        holds enough items, else a new array stored there. Without a buffer, shared_exec would only lend
        MXNet's memory pool, which mxcy does not have. Arguments take the storage types of stype_dict or of
        their variables' stype, gradients those the graph's storage inference gives (a sparse one is never taken
        from shared_buffer). group2ctx places arrays as _placements says."""
        ctx = _context(ctx)
        _check_shared_exec(shared_exec)
        where = _placements(symbol, ctx, group2ctx)
        if shared_buffer is not None and not isinstance(shared_buffer, dict):
            raise MXNetError(f"simple_bind: shared_buffer must be a dict or None, got {type(shared_buffer).__name__}")
        # as MXNet's simple_bind, only tuple values are shapes; other keywords (axis=0, mode='clip') are ignored
        shapes = {k: v for k, v in (shapes or {}).items() if isinstance(v, (tuple, list))}
        arg_shapes, _, aux_shapes = symbol.infer_shape(**shapes)
        if arg_shapes is None:
            raise MXNetError("simple_bind: cannot infer the shapes of all arguments from "
                             f"{shapes}; give the missing ones as keyword arguments")
        arg_names, aux_names = symbol.list_arguments(), symbol.list_auxiliary_states()
        # types given, declared on variables (dtype=) or inferred from them; the rest float32, as MXNet
        given = {k: v for k, v in (type_dict or {}).items() if k in arg_names}
        partial = symbol.infer_type_partial(**given)[0]
        types = {n: np.float32 if t is None else t for n, t in zip(arg_names, partial)} if partial else \
            {n: np.float32 for n in arg_names}
        types.update(given)
        arg_types, _, aux_types = symbol.infer_type(**types)
        if arg_types is None:
            arg_types = [types[n] for n in arg_names]
            aux_types = [np.float32] * len(aux_names)
        grad_reqs = _grad_reqs(grad_req, arg_names)
        stypes = variable_stypes(symbol, stype_dict)
        grad_stypes = infer_storage(symbol, stypes)[1]
        lender = shared_exec if shared_buffer is not None else None
        shared_names = set(shared_arg_names or ()) if shared_buffer is not None else set()

        def array(name, shape, dtype, grad):
            if name in shared_names and lender is not None:  # shared_exec's own arrays, sparse ones too
                return _lent(lender.grad_dict if grad else lender.arg_dict, name, shape, dtype)
            stype = grad_stypes.get(name, "default") if grad else stypes[name]
            if stype != "default":
                return buffer_zeros(shape, ctx=where.get(name, ctx), dtype=dtype, stype=stype)
            if name in shared_names or shared_buffer is None:
                return buffer_zeros(shape, ctx=where.get(name, ctx), dtype=dtype)
            return _reshape_or_create(shared_buffer, "grad of " + name if grad else name, shape, dtype,
                                      where.get(name, ctx))

        arg_arrays, grad_arrays = [], []
        for name, shape, dtype, req in zip(arg_names, arg_shapes, arg_types, grad_reqs):
            arg_arrays.append(array(name, tuple(shape), dtype, False))
            grad_arrays.append(None if req == "null" else array(name, tuple(shape), dtype, True))
        aux_arrays = [_lent(lender.aux_dict, n, tuple(s), t) if lender is not None else
                      buffer_zeros(s, ctx=where.get(n, ctx), dtype=t)
                      for n, s, t in zip(aux_names, aux_shapes, aux_types)]
        return cls(symbol, ctx, arg_arrays, grad_arrays, grad_reqs, aux_arrays)

    def _allocate_outputs(self):
        shapes = {n: a.shape for n, a in zip(self._arg_names, self.arg_arrays)}
        shapes.update({n: a.shape for n, a in zip(self._aux_names, self.aux_arrays)})
        types = {n: a.dtype for n, a in zip(self._arg_names, self.arg_arrays)}
        types.update({n: a.dtype for n, a in zip(self._aux_names, self.aux_arrays)})
        _, out_shapes, _ = self._symbol.infer_shape(**shapes)
        _, out_types, _ = self._symbol.infer_type(**types)
        if out_shapes is None or out_types is None:
            raise MXNetError(f"bind: cannot infer the output shapes/types of the symbol from the bound "
                             f"arrays {shapes}")
        # (whether the graph holds sparse values is kept for the run: sparse ops compute on the host, op by op)
        out_stypes, _, self._sparse_inside = infer_storage(
            self._symbol, {n: a.stype for n, a in zip(self._arg_names, self.arg_arrays)})
        return [buffer_zeros(s, ctx=self._ctx, dtype=t, stype=st) for s, t, st in zip(out_shapes, out_types, out_stypes)]

    # --- dictionaries ----------------------------------------------------------------------
    @property
    def arg_dict(self):
        return dict(zip(self._arg_names, self.arg_arrays))

    @property
    def grad_dict(self):
        return {n: g for n, g in zip(self._arg_names, self.grad_arrays) if g is not None}

    @property
    def aux_dict(self):
        return dict(zip(self._aux_names, self.aux_arrays))

    @property
    def output_dict(self):
        return dict(zip(self._out_names, self.outputs))

    # --- running ---------------------------------------------------------------------------
    def forward(self, is_train=False, **kwargs):
        """Run the graph; keyword arguments are copied into the bound arguments first."""
        arg_dict = self.arg_dict
        for key, value in kwargs.items():
            if key not in arg_dict:
                raise MXNetError(f"forward: '{key}' is not an argument of the symbol; arguments are "
                                 f"{self._arg_names}")
            target = arg_dict[key]
            if isinstance(value, NDArray):
                if value.shape != target.shape:
                    raise MXNetError(f"forward: '{key}' has shape {value.shape}, bound as {target.shape}")
                value.copyto(target)
            else:
                target[:] = value
        return self._run(bool(is_train), bool(is_train) and any(r != "null" for r in self._grad_reqs))

    def _run(self, is_train, record):
        """The forward pass proper, on the autograd tape when `record` (in training mode when `is_train`)."""
        if self._heads is not None:
            autograd.release(self._heads)  # the last step's saved arrays go before new ones come
        self._heads, self._recorded, self._replayed, self._tracing = None, False, None, None
        sig = self._signature(record, is_train)
        scope = autograd.record(train_mode=is_train) if record else autograd.pause(train_mode=is_train)
        with scope:
            if sig is not None and (sig.backward if record else sig.forward):
                heads, datas = sig.run_forward(self._inputs())
                self._replayed = (sig, {s: datas[s] for s in sig.saved}, heads) if record else None
            else:
                heads = self._run_plan(record, sig)
                self._heads = heads if record else None
        self._recorded = record
        for head, out in zip(heads, self.outputs):
            if out.stype == "default":
                head.copyto(out)
            else:
                out[:] = head  # a sparse output takes the head's parts (cast when the head is dense)
        return self.outputs

    def _signature(self, record, is_train):
        """The traces for the bound arrays' shapes and dtypes, or None where runs go op by op: under a monitor,
        while the profiler times ops, on a GPU, or where the graph holds sparse arrays."""
        if self._monitor is not None or self._ctx.device_type != "cpu" or not graph_trace.plain_run() or \
                self._sparse_inside:
            return None
        arrays = self.arg_arrays + self.aux_arrays
        if any(type(a) is not NDArray for a in arrays) or \
                any(g is not None and type(g) is not NDArray for g in self.grad_arrays):
            return None
        key = (record, bool(is_train), tuple((a._data.shape, a._data.dtype, a._ctx) for a in arrays))
        sig = self._traces.get(key)
        if sig is None:
            sig = self._traces[key] = graph_trace.Signature(f"{self._symbol.name or 'graph'}_forward", self._ctx)
        return sig

    def _inputs(self):
        inputs = dict(zip(self._arg_names, self.arg_arrays))
        inputs.update(zip(self._aux_names, self.aux_arrays))
        return inputs

    def _run_plan(self, record, sig):
        """The forward op by op; traced when `sig` has no verdict on it yet."""
        bound = self._bind_variables(record)

        def run():
            return self._plan.run(bound, self._ctx, record, self._forward_hook(record))
        if sig is None or (sig.backward if record else sig.forward) is False:
            return run()
        heads, traced = sig.capture_forward(run, bound)
        if not record:
            sig.keep_forward(traced)
        elif traced is None:
            sig.backward = False
        else:
            self._tracing = (sig, traced, bound)
        return heads

    def _bind_variables(self, record):
        bound = {}
        for name, array, grad, req in zip(self._arg_names, self.arg_arrays, self.grad_arrays,
                                          self._grad_reqs):
            if record and req != "null":
                handle = _alias(array)
                autograd.mark_variables([handle], [grad], req)
                bound[name] = handle
            else:
                bound[name] = array
        bound.update(zip(self._aux_names, self.aux_arrays))
        return bound

    def backward(self, out_grads=None, is_train=True):
        """Gradients of the outputs (weighted by out_grads) into the bound gradient arrays."""
        if all(r == "null" for r in self._grad_reqs):
            return  # no gradient is asked for: nothing to do, as in MXNet
        if not self._recorded:  # MXNet differentiates an inference forward too (or none): run it on the tape
            self._run(False, True)
        heads = self._heads if self._replayed is None else self._replayed[2]
        if out_grads is None:
            out_grads = []
        elif isinstance(out_grads, NDArray):
            out_grads = [out_grads]
        out_grads = list(out_grads) + [None] * (len(heads) - len(out_grads))
        for i, ((node, _), g, head, name) in enumerate(zip(self._symbol._outputs, out_grads, heads, self._out_names)):
            loss = node.op is not None and node.op.is_loss(node.params)
            if g is None and not loss:
                raise MXNetError(f"backward: output '{name}' is not a loss, so its head gradient is "
                                 "required (out_grads)")
            if g is not None and g.shape != head.shape and g.size == head.size == 0:
                # MXNet copies the (no) values of a zero-size gradient without comparing shapes
                out_grads[i] = g = empty(head.shape, ctx=head.context, dtype=g.dtype)
            if g is not None and g.shape != head.shape:
                if not loss:
                    raise MXNetError(f"backward: out_grad of '{name}' has shape {g.shape}, the output "
                                     f"has {head.shape}")
                out_grads[i] = None  # a loss's gradient never reads it; MXNet does not even copy it
            elif g is not None and g.dtype != head.dtype:
                out_grads[i] = g.astype(head.dtype)  # MXNet copies head gradients into arrays of the output's type
        if self._replayed is not None:
            sig, saved, heads = self._replayed
            if sig.backward_mode == bool(is_train) and self._monitor is None and graph_trace.plain_run():
                sig.run_backward(saved, self._inputs(), [g if g is not None else h.ones_like()
                                                         for g, h in zip(out_grads, heads)],
                                 [h._var for h in heads], self._grad_targets())
                return
            # a backward the trace does not cover: the ops go on the tape as the op-by-op forward records them
            self._heads = heads = sig.rebuild_tape(saved, self._bind_variables(True), heads[0]._var)
            self._replayed = None
        # Outputs that no bound gradient's argument reaches (a loop counter) give nothing, as in MXNet.
        pairs = [(head, g if g is not None else head.ones_like()) for g, head in zip(out_grads, heads)
                 if head._node is not None]
        if not pairs:
            return
        heads, grads = (list(x) for x in zip(*pairs))
        tracing, self._tracing = self._tracing, None
        if tracing is not None and len(pairs) == len(out_grads):
            sig, traced, bound = tracing
            sig.capture_backward(lambda: self._backward_into(heads, grads, is_train, bound), grads, traced,
                                 self._grad_targets(), bool(is_train))
            return
        autograd._run_backward(heads, grads, None, retain_graph=True, create_graph=False, train_mode=is_train,
                               on_node=self._backward_hook())

    def _grad_targets(self):
        return {n: g for n, g, r in zip(self._arg_names, self.grad_arrays, self._grad_reqs) if r != "null"}

    def _backward_into(self, heads, head_grads, is_train, bound):
        """The backward as a traceable run: the gradients of the bound variables, written into the gradient
        arrays by operators (as autograd writes a leaf's .grad: a copy, or a sum for grad_req 'add')."""
        targets = self._grad_targets()
        grads = autograd._run_backward(heads, head_grads, [bound[n] for n in targets], retain_graph=True,
                                       create_graph=False, train_mode=is_train, allow_unused=True)
        for (name, target), g in zip(targets.items(), grads):
            if g is None:
                continue
            if g.dtype != target.dtype:  # MXNet writes into gradient arrays bound in another type too
                g = g.astype(target.dtype)
            if self._grad_reqs[self._arg_names.index(name)] == "add":
                invoke(registry.get("elemwise_add"), [target, g], {}, out=target)
            else:
                invoke(registry.get("_copy"), [g], {}, out=target)
        return []

    # --- monitoring ------------------------------------------------------------------------
    def set_monitor_callback(self, callback, monitor_all=False):
        """Call callback(name, array) for every array an operator computes: forward outputs as
        '<node>_<output>' (with monitor_all, each operator's inputs before them as '<node>_<argument>' or
        '<node>_input<i>', variables also under their own name),
        and in backward each operator's input gradients as '<node>_backward_output<i>' ('..._output' for
        one), MXNet's names. The name is bytes, as MXNet's C callback passes it. Arrays reach the callback
        as their ops are pushed; what it pushes in turn runs after them, in engine order."""
        self._monitor = (callback, monitor_all)

    def _forward_hook(self, record):
        self._tape_nodes = {}
        if self._monitor is None:
            return None
        callback, monitor_all = self._monitor
        named = named_hook(lambda name, node, array: callback(name.encode(), array), monitor_all, variables=True)

        def hook(node, inputs, outputs):
            named(node, inputs, outputs)
            if record and outputs and isinstance(outputs[0]._node, tuple):
                self._tape_nodes[outputs[0]._node[0]] = node
        return hook

    def _backward_hook(self):
        if self._monitor is None:
            return None
        callback, tape_nodes = self._monitor[0], self._tape_nodes

        def hook(tape_node, in_grads):
            node = tape_nodes.get(tape_node)
            if node is None:
                return
            n_args = len(node.argument_inputs())
            for i, (grad, x) in enumerate(zip(in_grads[:n_args], tape_node.inputs)):
                # an input without a gradient (a loss's label) is reported as zeros, as MXNet's backward
                # node still has that output
                suffix = "" if n_args == 1 else str(i)
                callback(f"{node.name}_backward_output{suffix}".encode(), x.zeros_like() if grad is None else grad)
        return hook

    # --- parameters and reshaping --------------------------------------------------------------
    def copy_params_from(self, arg_params, aux_params=None, allow_extra_params=False):
        arg_dict, aux_dict = self.arg_dict, self.aux_dict
        for params, targets, kind in ((arg_params, arg_dict, "argument"), (aux_params or {}, aux_dict, "aux")):
            for name, value in params.items():
                if name in targets:
                    targets[name][:] = value
                elif not allow_extra_params:  # a ValueError, as MXNet raises
                    raise MXNetValueError(f"copy_params_from: '{name}' is not an {kind} of the symbol")

    def reshape(self, partial_shaping=False, allow_up_sizing=False, **kwargs):
        """A new executor for new input shapes, sharing the arrays whose shapes stay the same."""
        # Shapes follow from the new ones where the graph says so; the rest keep their current shape.
        partial, _, _ = self._symbol.infer_shape_partial(**kwargs)
        shapes = dict(kwargs)
        shapes.update({n: a.shape for n, a, s in zip(self._arg_names, self.arg_arrays, partial)
                       if (not s or 0 in s) and n not in kwargs})  # (0, 3): a declared shape, still unknown
        arg_shapes, _, aux_shapes = self._symbol.infer_shape(**shapes)
        if arg_shapes is None:
            raise MXNetError(f"reshape: cannot infer shapes from {kwargs}")
        new_args, new_grads = [], []
        for name, shape, array, grad in zip(self._arg_names, arg_shapes, self.arg_arrays, self.grad_arrays):
            if array.shape == tuple(shape):
                new_args.append(array)
                new_grads.append(grad)
                continue
            if name not in kwargs and not partial_shaping:
                raise MXNetError(f"reshape: shape of unspecified argument '{name}' changed from "
                                 f"{array.shape} to {tuple(shape)}; pass partial_shaping=True")
            if int(np.prod(shape)) > array.size and not allow_up_sizing:
                raise MXNetError(f"reshape: new shape {tuple(shape)} of '{name}' is larger than "
                                 f"{array.shape}; pass allow_up_sizing=True")
            new_args.append(_reshaped_array(array, shape))
            new_grads.append(None if grad is None else _reshaped_array(grad, shape))
        new_aux = [_reshaped_array(a, s) for a, s in zip(self.aux_arrays, aux_shapes)]
        reshaped = Executor(self._symbol, self._ctx, new_args, new_grads, list(self._grad_reqs), new_aux)
        reshaped.outputs = [_reshaped_array(old, new.shape) if old.dtype == new.dtype else new
                            for old, new in zip(self.outputs, reshaped.outputs)]
        reshaped._monitor = self._monitor  # a Module re-binding for a new batch shape keeps its monitor
        return reshaped

    def debug_str(self):
        """The graph, then MXNet's memory line: what the run allocates beyond the bound arguments (memory_plan)."""
        from .memory_plan import allocated_bytes
        total = allocated_bytes(self._symbol, {n: a.shape for n, a in zip(self._arg_names, self.arg_arrays)},
                                {n: a.dtype for n, a in zip(self._arg_names, self.arg_arrays)},
                                dict(zip(self._arg_names, self._grad_reqs)))
        text = self._symbol.debug_str()
        return text if total is None else text + f"Total {round(total / 2 ** 20)} MB allocated\n"

    def get_optimized_symbol(self):
        """The graph this executor runs (the bound symbol after common subexpression elimination, unless
        MXNET_ELIMINATE_COMMON_EXPR=0 at bind); its outputs compute the bound symbol's, in order."""
        return self._optimized


def _optimized(symbol):
    """What an executor runs of `symbol`: as MXNet 1.9.1 at bind, partitioned when MXNET_SUBGRAPH_BACKEND names a
    default subgraph backend with op names set (symbol/partition.py), then each repeated expression once unless
    the environment sets MXNET_ELIMINATE_COMMON_EXPR to 0."""
    symbol = partition.for_bind(symbol)
    if os.environ.get("MXNET_ELIMINATE_COMMON_EXPR", "1").strip() in ("0", "false", "False"):
        return symbol
    return eliminate_common_expr(symbol)


def _shapes_from_graph(symbol, shapes):
    """`symbol` with its nodes that take no inputs and leave their shape to the graph (sym.random.randn() without
    one, legacy zeros(())) given the shape inference finds for them from the bound `shapes`, as MXNet's executor
    runs them; `symbol` itself when it has none."""
    order = symbol._topo()
    free = [n for n in order if n.op is not None and not n.inputs and "shape" in n.params]
    if not free:
        return symbol
    np_shape = is_np_shape()
    values = infer_graph(symbol, {k: from_user(v, np_shape) for k, v in shapes.items()}, "shape", lambda node: None)
    found = {}
    for node in free:
        shape = values.get((id(node), 0))
        if shape is not None and is_known(shape) and tuple(shape) != tuple(node.params["shape"]):
            found[node] = tuple(shape)
    if not found:
        return symbol
    outputs = copy_graph(symbol._outputs)
    for old, new in zip(order, topo_order(outputs)):  # a copy walks in the same order
        if old in found:
            new.params = dict(new.params, shape=found[old])
    return Symbol(outputs)


def _reshaped_array(array, shape):
    """`array` itself for its own shape; for a shape no larger, its leading elements viewed in that shape (MXNet's
    reshaped executor shares memory so); a fresh zero array when the shape is larger or the array not dense."""
    shape = tuple(shape)
    if array.shape == shape:
        return array
    size = int(np.prod(shape))
    if type(array) is NDArray and size <= array.size and array._data.flags.c_contiguous:
        return NDArray(array._data.reshape(-1)[:size].reshape(shape), array._ctx, array._var)
    return buffer_zeros(shape, ctx=array.context, dtype=array.dtype)


def _check_shared_exec(shared_exec):
    if shared_exec is not None and not isinstance(shared_exec, Executor):
        raise MXNetError(f"bind: shared_exec must be an Executor or None, got {type(shared_exec).__name__}")


def _placements(symbol, ctx, group2ctx):
    """{variable name: context} for model parallelism: each variable goes where group2ctx puts its ctx_group
    (its own, else that of the first operator reading it), as MXNet places arguments, gradients and
    auxiliary states. Honoured when every context is a CPU one: cpu(i) arrays share host memory, so the
    graph's ops may mix them. Groups on other devices would need copies across devices inside the graph,
    which mxcy does not insert: those placements are warned about and ignored (all arrays on ctx)."""
    elsewhere = {g: c for g, c in (group2ctx or {}).items() if c != ctx}
    if not elsewhere:
        return {}
    if any(not c.device_type == "cpu" == ctx.device_type for c in elsewhere.values()):
        warnings.warn(f"group2ctx: mxcy runs the whole graph on {ctx}; the placements {elsewhere} are "
                      "ignored", stacklevel=4)
        return {}
    attrs = symbol.attr_dict()
    groups = {}
    for node in symbol._topo():  # a variable comes before its readers, so its own group wins
        group = attrs.get(node.name, {}).get("__ctx_group__")
        if group is None:
            continue
        for name in [node.name] if node.op is None else [src.name for src, _ in node.inputs if src.op is None]:
            groups.setdefault(name, group)
    return {name: group2ctx[group] for name, group in groups.items() if group in group2ctx}


def _lent(arrays, name, shape, dtype):
    """shared_exec's array `name` (from its arg, grad or aux dict), which must have this shape and dtype."""
    have = arrays.get(name)
    if have is None:
        raise MXNetError(f"simple_bind: shared_exec has no array '{name}' to share")
    if have.shape != shape or np.dtype(have.dtype) != np.dtype(dtype):
        raise MXNetError(f"simple_bind: shared_exec's '{name}' is {have.shape} {np.dtype(have.dtype).name}, "
                         f"this executor needs {shape} {np.dtype(dtype).name}")
    return have


def _reshape_or_create(buffer, key, shape, dtype, ctx):
    """MXNet's bucketing rule: a view of the first items of buffer[key] when it holds enough of them
    (same dtype required), else new zeros that replace it there."""
    size = math.prod(shape)
    have = buffer.get(key)
    if have is not None and have.size >= size:
        if np.dtype(have.dtype) != np.dtype(dtype):
            raise MXNetError(f"simple_bind: shared_buffer['{key}'] has dtype {np.dtype(have.dtype).name}, "
                             f"the argument needs {np.dtype(dtype).name}")
        return NDArray(have._data.reshape(-1)[:size].reshape(shape), have._ctx, var=have._var)
    if have is not None:
        warnings.warn(f"simple_bind: shared_buffer['{key}'] holds {have.shape}, fewer items than {shape}; "
                      "allocating a larger array (bind the largest bucket first to share memory)", stacklevel=5)
    buffer[key] = buffer_zeros(shape, ctx=ctx, dtype=dtype)
    return buffer[key]


def _context(ctx):
    if isinstance(ctx, (list, tuple)):
        if len(ctx) != 1:
            raise MXNetError("bind: mxcy binds one executor to one context")
        ctx = ctx[0]
    if not isinstance(ctx, Context):
        raise MXNetError(f"bind: ctx must be a Context, got {ctx!r}")
    return ctx


def _as_list(arrays, names, what, required):
    """Arrays in `names` order from a list or a name -> array dict (whose other keys MXNet ignores)."""
    if isinstance(arrays, dict):
        out = [arrays.get(n) for n in names]
    else:
        out = list(arrays)
        if len(out) != len(names):
            raise MXNetError(f"bind: {what} has {len(out)} arrays, the symbol needs {len(names)} ({names})")
    for name, a in zip(names, out):
        if a is None and required:
            raise MXNetError(f"bind: {what} is missing '{name}'")
        if a is not None and not isinstance(a, NDArray):
            raise MXNetError(f"bind: {what}['{name}'] must be an NDArray, got {type(a).__name__}")
    return out


def _grad_reqs(grad_req, names):
    if isinstance(grad_req, str):
        reqs = [grad_req] * len(names)
    elif isinstance(grad_req, dict):
        reqs = [grad_req.get(n, "null") for n in names]
    else:
        reqs = list(grad_req)
        if len(reqs) != len(names):
            raise MXNetError(f"bind: grad_req has {len(reqs)} entries for {len(names)} arguments")
    for r in reqs:
        if r not in _REQS:
            raise MXNetError(f"bind: grad_req must be one of {_REQS}, got {r!r}")
    return ["write" if r == "inplace" else r for r in reqs]
