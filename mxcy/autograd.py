"""Imperative autograd: record ops on a tape while `record()` is active, then walk it backwards
calling each op's registered gradient (itself recorded when create_graph=True).
"""
import collections
import threading

import numpy as np

from . import engine
from .base import MXNetError
from .graph_walk import post_order

__all__ = ["record", "pause", "train_mode", "predict_mode", "is_recording", "is_training",
           "set_recording", "set_training", "mark_variables", "backward", "grad", "Function", "get_symbol",
           "NDArray", "Symbol", "array"]


def __getattr__(name):
    """NDArray, Symbol and array, which MXNet's autograd hands out with `import *` (MXNet's tests use
    them that way); imported on first use because ndarray and symbol import this module."""
    if name in ("NDArray", "array"):
        from . import ndarray
        return getattr(ndarray, name)
    if name == "Symbol":
        from .symbol import Symbol
        return Symbol
    raise AttributeError(f"module 'mxcy.autograd' has no attribute {name!r}")

class _ThreadState(threading.local):
    """Per-thread autograd flags; class attributes are the defaults every thread starts with."""
    recording = False
    training = False
    # (gradient op name, per output whether no input needs it) for the next invoke of that op: _skipped_inputs
    skip_gradients = None


_local = _ThreadState()


def _recording():
    return _local.recording


def is_recording():
    return _local.recording


def is_training():
    return _local.training


def set_recording(is_recording):  # noqa: D401 - MXNet's name
    """Set recording on or off; returns the previous state."""
    prev, _local.recording = _local.recording, bool(is_recording)
    return prev


def set_training(train_mode):
    prev, _local.training = _local.training, bool(train_mode)
    return prev


class _Scope:
    def __init__(self, recording, training):
        self._want = (recording, training)
        self._prev = None

    def __enter__(self):
        self._prev = (_local.recording, _local.training)
        if self._want[0] is not None:
            _local.recording = self._want[0]
        if self._want[1] is not None:
            _local.training = self._want[1]
        return self

    def __exit__(self, *exc):
        _local.recording, _local.training = self._prev


def record(train_mode=True):
    """Scope in which operations are recorded for gradient computation."""
    return _Scope(True, train_mode)


def pause(train_mode=False):
    """Scope in which recording is suspended."""
    return _Scope(False, train_mode)


def train_mode():
    return _Scope(None, True)


def predict_mode():
    return _Scope(None, False)


class _Node:
    """One recorded op application; outputs point back at it through `_node = (node, index)`."""
    __slots__ = ("op", "attrs", "inputs", "outputs", "freed")

    def __init__(self, op, attrs, inputs, outputs):
        self.op = op
        self.attrs = attrs
        self.inputs = inputs
        self.outputs = outputs
        self.freed = False


class _Leaf:
    __slots__ = ()


_LEAF = _Leaf()


def _record(op, attrs, inputs, outputs):
    """Tape an op application whose inputs touch the graph; `inputs`/`outputs` are fresh lists. An input
    computed in a graph that a backward has since freed is a constant now, as in MXNet."""
    touches = False
    for x in inputs:
        n = x._node
        if n is not None:
            if n is not _LEAF and n[0].freed:
                x._node = None
            else:
                touches = True
    if not touches:
        return
    node = _Node(op, attrs, inputs, outputs)
    for i, out in enumerate(outputs):
        out._node = (node, i)


class _PythonOp:
    """Stands in for an OpDef on the tape for gradients written in Python (Function, Custom)."""
    __slots__ = ("name", "_backward")

    def __init__(self, name, backward_fn):
        self.name, self._backward = name, backward_fn

    def gradient(self, F, attrs, inputs, outputs, ograds):
        with pause(is_training()):
            return self._backward(ograds)


def record_python(name, inputs, outputs, backward_fn):
    """Put a node on the tape whose gradient is backward_fn(out_grads) -> one grad per input."""
    _record(_PythonOp(name, backward_fn), {}, inputs, outputs)


def attach_grad(array, grad_req="write", stype=None):
    from .ndarray.utils import buffer_zeros
    if grad_req not in ("write", "add", "null"):
        raise MXNetError(f"attach_grad: grad_req must be 'write', 'add' or 'null', got {grad_req!r}")
    # the gradient's storage: `stype`, or the array's own (MXNet's default)
    array._grad = buffer_zeros(array.shape, ctx=array.context, dtype=array.dtype, stype=stype or array.stype) \
        if grad_req != "null" else None
    array._grad_req = grad_req
    array._node = _LEAF


def mark_variables(variables, gradients, grad_reqs="write"):
    if not isinstance(variables, (list, tuple)):
        variables, gradients = [variables], [gradients]
    if isinstance(grad_reqs, str):
        grad_reqs = [grad_reqs] * len(variables)
    for var, g, req in zip(variables, gradients, grad_reqs):
        var._grad, var._grad_req, var._node = g, req, _LEAF


def _topo(heads, stop=frozenset()):
    """Tape nodes behind `heads`, heads' nodes first; the walk does not go behind arrays whose id is in
    `stop`."""
    def behind(node):
        if node.freed:
            raise MXNetError("backward: the graph has already been freed by an earlier backward; "
                             "pass retain_graph=True to the first backward to go through it twice")
        return [x._node[0] for x in reversed(_walk_inputs(node)) if isinstance(x._node, tuple) and id(x) not in stop]
    # reversed, a post-order puts every node before the nodes it reads; inputs and heads go last-first, so
    # gradients accumulate in the order they always have
    return post_order([h._node[0] for h in reversed(heads) if isinstance(h._node, tuple)], behind)[::-1]


def _walk_inputs(node):
    """The arrays a node's gradient must run before: its inputs, and for a cached graph whose inner tape a
    recorded gradient has read, the inner outputs too (so that tape is not freed before the node runs)."""
    inner = getattr(node.op, "inner_heads", None)
    return node.inputs if inner is None else list(node.inputs) + inner()


def _run_backward(heads, head_grads, variables, retain_graph, create_graph, train_mode, allow_unused=False,
                  stop_at_variables=False, on_node=None):
    """The backward walk. allow_unused: variables the heads do not depend on get None instead of an error;
    stop_at_variables: the walk ends at the variables (a cached graph's inputs) instead of going behind them;
    on_node(node, input gradients) sees each node's gradients as they are pushed (the Executor's monitor)."""
    from .ndarray import _internal as F
    if not isinstance(heads, (list, tuple)):
        heads = [heads]
    if head_grads is None:
        head_grads = [None] * len(heads)
    elif not isinstance(head_grads, (list, tuple)):
        head_grads = [head_grads]
    if len(head_grads) != len(heads):
        raise MXNetError(f"backward: {len(heads)} heads but {len(head_grads)} head gradients")
    for h in heads:
        if h._node is None:
            raise MXNetError("backward: cannot differentiate an array that was not computed "
                             "inside autograd.record() from arrays with attached gradients")
    grads = {}  # id(array) -> accumulated gradient NDArray, dropped once its node has used it
    keep = {}  # the arrays whose gradients are returned or written at the end
    wanted = {id(v) for v in variables} if variables is not None else set()
    in_flight = collections.deque()

    def add(array, g):
        if g is None:
            return
        key = id(array)
        if array._node is _LEAF or key in wanted:
            keep[key] = array
        grads[key] = g if key not in grads else grads[key] + g

    with _Scope(create_graph, train_mode):
        for h, hg in zip(heads, head_grads):
            if hg is None:
                hg = F.ones_like(h)
            elif hg.shape != h.shape:
                raise MXNetError(f"backward: head gradient of shape {hg.shape} does not match "
                                 f"head of shape {h.shape}")
            add(h, hg)
        order = _topo(heads, wanted if stop_at_variables else frozenset())
        for node in order:
            # Output gradients are released as they are used, and without retain_graph so are the
            # node's saved arrays: memory peaks at the forward's arrays, not at twice them.
            ograds = [grads.get(id(o)) if id(o) in wanted else grads.pop(id(o), None) for o in node.outputs]
            if all(g is None for g in ograds):
                if not retain_graph:
                    _free(node)
                continue
            ograds = [F.zeros_like(o) if g is None else g for o, g in zip(node.outputs, ograds)]
            # Gradients are written for mx.nd arrays: mx.np ones among the saved values are seen as such.
            _local.skip_gradients = _skipped_inputs(node) if on_node is None else None
            try:
                in_grads = node.op.gradient(F, node.attrs, [x.as_nd_ndarray() for x in node.inputs],
                                            [y.as_nd_ndarray() for y in node.outputs], ograds)
            finally:
                _local.skip_gradients = None
            del ograds
            if on_node is not None:
                on_node(node, in_grads)
            for x, g in zip(node.inputs, in_grads):
                if x._node is not None and g is not None:
                    add(x, g)
            throttle(in_flight, in_grads)
            del in_grads
            if not retain_graph:
                _free(node)
    if variables is not None:
        missing = [i for i, v in enumerate(variables) if id(v) not in grads]
        if missing and not allow_unused:
            raise MXNetError(f"grad: variables at positions {missing} are not part of the graph "
                             "of the heads")
        return [grads.get(id(v)) for v in variables]
    copies = []
    for key, array in keep.items():
        if array._node is _LEAF and array._grad_req != "null" and array._grad is not None:
            g = grads[key]
            if array._grad_req == "add" and array._grad.stype != "default":
                array._grad[:] = array._grad + g  # sparse arrays have no in-place add; the sum keeps the storage
            elif array._grad_req == "add":
                array._grad += g
            elif _host_twins(g, array._grad):
                copies.append((g, array._grad))
            else:
                array._grad[:] = g
            array._fresh_grad = True
    _copy_all(copies)
    return None


def _skipped_inputs(node):
    """(the op's gradient_op, per input whether it needs no gradient), or None when every input needs one or the
    gradient is not one such op; invoke then passes REQ_NULL for those outputs, whose arrays nobody reads."""
    name = getattr(node.op, "gradient_op", None)
    if name is None:
        return None
    unneeded = tuple(x._node is None for x in node.inputs)
    return (name, unneeded) if any(unneeded) else None


def _host_twins(src, dst):
    """Whether `src` can be copied into `dst` as `dst[:] = src` would: dense host arrays of one shape."""
    return src.stype == "default" == dst.stype and type(src._data) is np.ndarray is type(dst._data) and \
        src._data.shape == dst._data.shape


def _copy_all(pairs):
    """The `.grad` writes of one backward as one engine op (dst[:] = src for each (src, dst) pair)."""
    if not pairs:
        return
    reads, writes = engine.var_sets([src._var for src, _ in pairs], [dst._var for _, dst in pairs])
    buffers = [(src._data, dst._data) for src, dst in pairs]

    def copy():
        for src, dst in buffers:
            np.copyto(dst, src, casting="unsafe")
    engine.push(copy, reads, writes, pairs[0][1]._ctx, 0, "_copyto",
                sum(src.size for src, _ in buffers) <= engine.LIGHT_ELEMENTS)


# Ops are pushed far faster than they run, and each allocates its outputs when pushed; waiting on the result
# from this many ops back keeps the engine busy while bounding that memory (ResNet-50 at batch 32 run op by op:
# unbounded, each call faulted in ~230 MB of fresh pages, 0.4-3.7 s of system time).
MAX_IN_FLIGHT = 4


def throttle(in_flight, results):
    """Note the first of an op's results (None: no array) in the deque `in_flight`; past MAX_IN_FLIGHT of them,
    wait for the oldest."""
    for g in results:
        if g is not None:
            in_flight.append(g)
            break
    if len(in_flight) > MAX_IN_FLIGHT:
        in_flight.popleft().wait_to_read()


def _free(node):
    node.freed = True
    node.inputs = node.outputs = ()
    release_inner = getattr(node.op, "free", None)  # a cached graph's node holds a tape of its own
    if release_inner is not None:
        release_inner()


def release(heads):
    """Free the recorded graph behind `heads` now. Nodes and their outputs reference each other, so
    without this a dropped graph waits for Python's cycle collector, holding every saved array."""
    stack = [h._node[0] for h in heads if isinstance(h._node, tuple)]
    while stack:
        node = stack.pop()
        if node.freed:
            continue
        stack.extend(x._node[0] for x in node.inputs if isinstance(x._node, tuple))
        _free(node)


def backward(heads, head_grads=None, retain_graph=False, train_mode=True):
    """Compute gradients of `heads` into the .grad of every marked variable."""
    _run_backward(heads, head_grads, None, retain_graph, False, train_mode)


def grad(heads, variables, head_grads=None, retain_graph=None, create_graph=False,
         train_mode=True):
    """Gradients of `heads` with respect to `variables`, returned instead of stored."""
    single = not isinstance(variables, (list, tuple))
    variables = [variables] if single else list(variables)
    if retain_graph is None:
        retain_graph = create_graph
    result = _run_backward(heads, head_grads, variables, retain_graph, create_graph, train_mode)
    return result


class Function:
    """A custom differentiable function: subclass and define forward and backward on NDArrays."""

    def __init__(self):
        self._saved = ()

    def save_for_backward(self, *args):
        self._saved = args

    @property
    def saved_tensors(self):
        return self._saved

    def forward(self, *inputs):
        raise NotImplementedError

    def backward(self, *output_grads):
        raise NotImplementedError

    def __call__(self, *inputs):
        with pause(is_training()):
            outputs = self.forward(*inputs)
        single = not isinstance(outputs, (list, tuple))
        outs = [outputs] if single else list(outputs)
        if _recording():
            def backward_fn(ograds):
                res = self.backward(*ograds)
                return list(res) if isinstance(res, (list, tuple)) else [res]
            outs = [o.detach() for o in outs]
            record_python(type(self).__name__, list(inputs), outs, backward_fn)
        return outs[0] if single else outs


def get_symbol(x):
    """The recorded computation of NDArray `x` as a Symbol; arrays it started from become variables
    var0, var1, ... in the order first met, auxiliary states <node>_<name>."""
    from .symbol.graph import Node as SymbolNode
    from .symbol.symbol import Symbol
    if x._node is None or x._node is _LEAF:
        raise MXNetError("get_symbol: the array was not computed under autograd.record()")
    variables, built, counts = {}, {}, {}

    def entry(array):
        tape = array._node
        if tape is None or tape is _LEAF:
            if id(array) not in variables:
                variables[id(array)] = (array, SymbolNode(None, f"var{len(variables)}", {}))
            return variables[id(array)][1], 0
        return built[id(tape[0])], tape[1]

    for node in _tape_order(x._node[0]):
        if node.freed:
            raise MXNetError("get_symbol: the graph was freed by backward(); record again or pass "
                             "retain_graph=True")
        if not hasattr(node.op, "attr_strings"):
            raise MXNetError(f"get_symbol: {node.op.name} is a Python operator and has no symbol form")
        n = counts.get(node.op.name, 0)
        counts[node.op.name] = n + 1
        name = f"{node.op.name.lower()}{n}"
        attrs = node.op.attr_strings({k: v for k, v in node.attrs.items() if not k.startswith("__")})
        # the tape holds the arguments; the auxiliary states are fresh variables at their input positions
        aux, args = node.op.aux_inputs(node.attrs), iter(node.inputs)
        names = node.op.list_inputs(node.attrs) if aux else ()
        inputs = [(SymbolNode(None, f"{name}_{names[k]}", {}), 0) if k in aux else entry(next(args))
                  for k in range(len(node.inputs) + len(aux))]
        built[id(node)] = SymbolNode(node.op, name, attrs, inputs)
    return Symbol([entry(x)])


def _tape_order(head):
    """Tape nodes feeding `head` (inclusive), inputs before the nodes that read them."""
    return post_order([head], lambda node: [a._node[0] for a in node.inputs
                                            if a._node is not None and a._node is not _LEAF])
