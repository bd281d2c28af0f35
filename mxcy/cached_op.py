"""CachedOp: a Symbol run as one operator (what a hybridized Gluon block calls). The first call of an input
signature runs the graph's nodes through invoke and traces them (graph_trace); later calls replay the trace as
one engine op. On autograd's tape the whole call is one node whose gradient runs the graph's backward in one
step (itself a replayed trace once a backward has been traced)."""
from . import autograd, graph_trace
from .base import MXNetError
from .graph_plan import GraphPlan, named_hook
from .ndarray import NDArray
from .symbol import fuse

__all__ = ["CachedOp"]


class CachedOp:
    """Call with one NDArray per `sym.list_inputs()` entry, in that order; returns an NDArray or a list.

    `flags` are MXNet's CachedOp flags as (name, value) pairs (static_alloc, static_shape, data_indices,
    param_indices, ...); they are accepted for compatibility: a replayed call allocates its buffers with
    NumPy, whose allocator reuses them."""

    def __init__(self, sym, flags=()):
        self._sym = sym
        self._flags = dict(flags)
        self._plan = GraphPlan(sym)
        self._input_names = sym.list_inputs()
        self._name = sym.name or "cached_graph"
        self._n_ops = sum(node.op is not None for node in self._plan.order)
        self._monitor = None
        self._traces = {}  # input signature -> graph_trace.Signature
        self._fused_plan = None  # the inference plan (_inference_plan), made on first use

    def register_op_hook(self, callback, monitor_all=False):
        """Call callback(output name, op name, array) for every operator output (and, with monitor_all,
        input) the graph computes, as MXNet's CachedOp does."""
        # Names arrive as bytes, as through MXNet's C callback (its users decode them with py_str).
        self._monitor = named_hook(lambda name, node, array: callback(name.encode(), node.op.name.encode(), array),
                                   monitor_all)

    def __call__(self, *args, out=None, default_ctx=None, **kwargs):
        if kwargs:
            raise TypeError(f"CachedOp.__call__ got unexpected keyword argument(s) {sorted(kwargs)}; it takes "
                            "out and default_ctx")
        if len(args) != len(self._input_names):
            raise MXNetError(f"CachedOp: the graph takes {len(self._input_names)} inputs "
                             f"{self._input_names}, got {len(args)}")
        for name, a in zip(self._input_names, args):
            if not isinstance(a, NDArray):
                raise MXNetError(f"CachedOp: input '{name}' must be an NDArray, got {type(a).__name__}")
        ctx = args[0].context if args else default_ctx
        if autograd.is_recording() and any(a._node is not None for a in args):
            if self._n_ops <= self._flags.get("inline_limit", -1):
                # As MXNet's inline_limit: a small graph's ops go on the user's tape one by one.
                outputs = self._plan.run(dict(zip(self._input_names, args)), ctx, True, self._monitor)
            else:
                outputs = self._call_recorded(args, ctx, self._signature(args, ctx, True))
        else:
            with autograd.pause(train_mode=autograd.is_training()):
                outputs = self._call(args, ctx, self._signature(args, ctx, False))
        if out is not None:
            targets = [out] if isinstance(out, NDArray) else list(out)
            for src, dst in zip(outputs, targets):
                src.copyto(dst)
            return out
        return outputs[0] if len(outputs) == 1 else outputs

    def _signature(self, args, ctx, recording):
        """The traces for this call's input signature (shapes, dtypes, contexts, training flag, and when
        recording which inputs are tracked), or None where calls run op by op: under an op hook, while the
        profiler times ops, on a GPU, or with sparse inputs."""
        if self._monitor is not None or ctx is None or ctx.device_type != "cpu" or not graph_trace.plain_run():
            return None
        if any(type(a) is not NDArray for a in args):
            return None
        key = (recording, autograd.is_training(),
               tuple((a._data.shape, a._data.dtype, a._ctx, recording and a._node is not None) for a in args))
        sig = self._traces.get(key)
        if sig is None:
            sig = self._traces[key] = graph_trace.Signature(self._name, ctx)
        return sig

    def _inference_plan(self, ctx):
        """The plan of a call outside recording: for inference on the CPU the graph with its Convolution ->
        BatchNorm (-> add) (-> relu) chains fused (symbol/fuse.py), unless MXNET_SUBGRAPH_BACKEND=NONE or an op
        hook watches the graph's own ops."""
        if autograd.is_training() or self._monitor is not None or ctx is None or ctx.device_type != "cpu" \
                or not fuse.enabled():
            return self._plan
        if self._fused_plan is None:
            self._fused_plan = GraphPlan(fuse.fuse_conv_bn(self._sym))
        return self._fused_plan

    def _call(self, args, ctx, sig):
        plan = self._plan if sig is None else self._inference_plan(ctx)

        def run():
            return plan.run(dict(zip(self._input_names, args)), ctx, False, self._monitor)
        if sig is None or sig.forward is False:
            return run()
        if sig.forward is None:
            outputs, traced = sig.capture_forward(run, dict(enumerate(args)))
            sig.keep_forward(traced)
            return outputs
        return sig.run_forward(dict(enumerate(args)))[0]

    def _call_recorded(self, args, ctx, sig):
        # The user's tape gets one node over the inputs and outputs. Once a forward and its backward have been
        # traced, both are replayed; until then the graph is recorded on a private tape from stand-ins for the
        # inputs in the user's graph, and the node's gradient walks that private tape.
        if sig is not None and sig.backward:
            heads, datas = sig.run_forward(dict(enumerate(args)))
            visible = [NDArray(h._data, h._ctx, var=h._var) for h in heads]
            step = _TracedStep(self._name, sig, list(args), {s: datas[s] for s in sig.saved}, heads)
            autograd._record(step, {}, list(args), visible)
            return visible
        stand_ins = _stand_ins(args)

        def run():
            return self._plan.run(dict(zip(self._input_names, stand_ins)), ctx, True, self._monitor)
        traced = None
        if sig is not None and sig.backward is None:
            heads, traced = sig.capture_forward(run, dict(enumerate(args)))
            if traced is None:
                sig.backward = False
        else:
            heads = run()
        visible = [NDArray(h._data, h._ctx, var=h._var) for h in heads]
        # Every input is an input of the tape node (as in MXNet's graph); untracked ones get no gradient.
        step = _GraphStep(self._name, heads, stand_ins, (sig, traced) if traced is not None else None)
        autograd._record(step, {}, list(args), visible)
        return visible


def _stand_ins(args):
    """Arrays standing for a recorded call's inputs on its private tape."""
    stand_ins = []
    for a in args:
        if a._node is None:
            stand_ins.append(a)
            continue
        s = NDArray(a._data, a._ctx, var=a._var)
        # Linked to the input through a pass-through node, so a create_graph backward that records
        # the inner gradient reaches the user's arrays; the inner walk itself stops at the stand-ins.
        autograd._record(_PASS_THROUGH, {}, [a], [s])
        stand_ins.append(s)
    return stand_ins


class _GraphStep:
    """The tape entry of one recorded CachedOp call. autograd.get_symbol shows it as one `_CachedOp` node,
    as MXNet does, so it also answers the few OpDef questions a symbol node asks."""
    __slots__ = ("graph_name", "_heads", "_stand_ins", "_recorded_from", "_n_in", "_n_out", "_tracing")
    name = "_CachedOp"

    def __init__(self, graph_name, heads, stand_ins, tracing=None):
        self.graph_name = graph_name
        self._heads = heads
        self._stand_ins = stand_ins
        self._recorded_from = False  # a create_graph backward's recorded gradient reads the inner tape
        self._n_in, self._n_out = len(stand_ins), len(heads)
        self._tracing = tracing  # (Signature, traced forward) while this call's backward is to be traced

    def attr_strings(self, attrs):
        return {}

    def parse_attrs(self, attrs):
        return {}

    def list_inputs(self, params):
        return [f"arg{i}" for i in range(self._n_in)]

    list_arguments = list_inputs

    def aux_inputs(self, params):
        return ()

    def list_outputs(self, params):
        return [f"output{i}" for i in range(self._n_out)]

    def n_outputs(self, params):
        return self._n_out

    n_visible_outputs = n_outputs

    def gradient(self, F, attrs, inputs, outputs, ograds):
        if self._heads is None:
            raise MXNetError(f"backward: the graph of {self.graph_name} has already been freed by an earlier "
                             "backward; pass retain_graph=True to go through it twice")
        # Recording here means the outer backward has create_graph=True: the inner walk records too.
        self._recorded_from |= autograd.is_recording()
        # Outputs that are untracked inputs passed straight through carry no gradient.
        pairs = [(h, g) for h, g in zip(self._heads, ograds) if h._node is not None]
        if not pairs:
            return [None] * len(self._stand_ins)
        heads, head_grads = zip(*pairs)

        def run():
            return autograd._run_backward(list(heads), list(head_grads), self._stand_ins, retain_graph=True,
                                          create_graph=autograd.is_recording(),
                                          train_mode=autograd.is_training(), allow_unused=True,
                                          stop_at_variables=True)
        tracing, self._tracing = self._tracing, None
        if tracing is None or autograd.is_recording() or len(pairs) != len(ograds):
            return run()
        sig, traced = tracing
        return sig.capture_backward(run, ograds, traced)

    def inner_heads(self):
        return list(self._heads) if self._recorded_from and self._heads is not None else []

    def free(self):
        if self._heads is not None and not self._recorded_from:
            # Cut the stand-ins from the user's graph first, so the release stops at them.
            for stand_in in self._stand_ins:
                if isinstance(stand_in._node, tuple):
                    autograd._free(stand_in._node[0])
                    stand_in._node = None
            autograd.release(self._heads)
        self._heads = self._stand_ins = self._tracing = None


class _TracedStep(_GraphStep):
    """The tape entry of a replayed CachedOp call: its gradient replays the traced backward. A create_graph
    backward needs the ops on a tape instead: the private tape is then rebuilt from the trace over the
    call's saved buffers, exactly as the op-by-op run would have recorded it."""
    __slots__ = ("_sig", "_args", "_saved", "_outputs")

    def __init__(self, graph_name, sig, args, saved, heads):
        super().__init__(graph_name, heads, args)
        self._heads = None  # no private tape unless a create_graph backward asks for one
        self._sig, self._args, self._saved, self._outputs = sig, args, saved, heads

    def gradient(self, F, attrs, inputs, outputs, ograds):
        if self._saved is None:
            return super().gradient(F, attrs, inputs, outputs, ograds)  # the freed graph's error
        if self._heads is None and not autograd.is_recording():
            return self._sig.run_backward(self._saved, dict(enumerate(self._args)), ograds,
                                          [h._var for h in self._outputs])
        if self._heads is None:
            self._stand_ins = _stand_ins(self._args)
            self._heads = self._sig.rebuild_tape(self._saved, dict(enumerate(self._stand_ins)),
                                                 self._outputs[0]._var)
        return super().gradient(F, attrs, inputs, outputs, ograds)

    def free(self):
        if self._heads is not None:
            super().free()
        self._saved = self._args = self._outputs = None


class _PassThrough:
    """Tape op of a stand-in: the gradient passes unchanged."""
    __slots__ = ()
    name = "_cached_graph_input"

    def gradient(self, F, attrs, inputs, outputs, ograds):
        return [ograds[0]]


_PASS_THROUGH = _PassThrough()
