"""Traces: one run of a graph (a CachedOp's or an Executor's forward, or its backward) recorded as the list of
its operators' computes over numbered buffers, and replayed for later calls with the same input signature as
ONE engine op, with no per-op argument binding, shape inference, allocation of NDArrays or engine push."""
import contextlib
import threading
from functools import partial

import numpy as np

from . import autograd, engine, profiler
from . import random as _random
from .base import MXNetError
from .graph_plan import hollow_buffer
from .kernels import buffer_versions
from .kernels.blas_cpu import single_threaded_blas
from .kernels.common import REQ_NULL
from .ndarray import NDArray

__all__ = ["capture", "Trace", "Untraceable", "plain_run"]


# Graphs whose computes write more than this a call run op by op (measured: a CIFAR ResNet-18 training step at
# batch 64 (130M elements) took 1.4x as long replayed; LeNet at batch 128 (2M), tiny MLPs and ResNet-50 inference at
# batch 1 (36M) gain from replays)
TRACE_MAX_ELEMENTS = 64 << 20


class Untraceable(Exception):
    """The run did something a trace cannot repeat (a Python-run or sparse op, a host copy, a buffer made
    outside the graph): calls with that signature keep running op by op."""


def plain_run():
    """Whether a traced run may replace the op-by-op one now: not while the profiler times each op."""
    return not profiler._recording()


def _buffer(data):
    """A buffer's identity while a capture holds it alive: where it starts and how it is laid out."""
    if not isinstance(data, np.ndarray):
        raise Untraceable(f"a {type(data).__name__} buffer (traces run on host arrays only)")
    return data.__array_interface__["data"][0], data.shape, data.strides, data.dtype.str


def _is_hollow(data):
    """graph_plan.hollow_buffer's stand-in for a dropped intermediate: every stride zero over a single 0."""
    return data.ndim > 0 and data.size > 0 and not any(data.strides) and data.flat[0] == 0


class _Recorder:
    """Watches engine pushes and tape records of one thread while a run is captured."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.thread = threading.get_ident()
        self.specs = []  # per slot: ("in", key) | ("new", shape, dtype) | ("hollow", shape, dtype) | ("view", slot, shape)
        self.slots = {}  # _buffer(data) -> slot
        self.starts = {}  # (address, nbytes) of a C-contiguous slot -> slot, to place reshaped views
        self.held = []  # each slot's buffer: none is freed (and its address reused) during the capture
        self.tape_arrays = []
        self.steps, self.nodes = [], []
        self.values = {}  # id(NDArray) on the tape -> its index in tape_values
        self.tape_values = []  # (slot, shape, dtype) per array on the tape: in-place ops give two arrays one slot
        self.direct_steps = []  # steps, with the kernel computes that wrappers only passed the buffers to
        self.elements = 0  # written by the computes so far
        self.touched = 0  # per compute, its largest array's size, summed
        self.error = None

    def _add(self, data, spec):
        slot = len(self.specs)
        self.specs.append(spec)
        self.held.append(data)
        self.slots[_buffer(data)] = slot
        if data.flags.c_contiguous:
            self.starts.setdefault((data.__array_interface__["data"][0], data.nbytes), slot)
        return slot

    def bind(self, key, data):
        if _buffer(data) in self.slots:
            raise Untraceable(f"inputs {key} and {self.specs[self.slots[_buffer(data)]][1]} share one buffer")
        return self._add(data, ("in", key))

    def slot(self, data):
        """The slot holding buffer `data`; a reshaped view of a slot or a hollowed value gets a slot of its own."""
        slot = self.slots.get(_buffer(data))
        if slot is not None:
            return slot
        if data.flags.c_contiguous:
            base = self.starts.get((data.__array_interface__["data"][0], data.nbytes))
            if base is not None and np.dtype(self.held[base].dtype) == data.dtype:
                return self._add(data, ("view", base, data.shape))
        if _is_hollow(data):
            return self._add(data, ("hollow", data.shape, data.dtype))
        raise Untraceable(f"reads a {data.shape} {data.dtype} buffer made outside the traced ops")

    def output(self, data):
        slot = self.slots.get(_buffer(data))
        if slot is None and data.flags.c_contiguous and \
                (data.__array_interface__["data"][0], data.nbytes) in self.starts:
            slot = self.slot(data)  # written through a view of a known buffer
        return self._add(data, ("new", data.shape, data.dtype)) if slot is None else slot

    def push(self, fn, reads, writes, ctx=None, priority=0, name=None, light=False):
        _real_push(fn, reads, writes, ctx, priority, name, light)
        if threading.get_ident() != self.thread or self.error is not None:
            return
        try:
            # invoke pushes partial(compute, attrs, inputs, outputs, reqs); anything else (a host copy, a sparse
            # update) cannot be re-aimed at new buffers
            if not (isinstance(fn, partial) and len(fn.args) == 4 and not fn.keywords):
                raise Untraceable(f"{name} is not an operator's compute")
            if ctx is not self.ctx:
                raise Untraceable(f"{name} runs on {ctx}, the graph on {self.ctx}")
            attrs, ins, outs, reqs = fn.args
            self.elements += sum(d.size for d in outs)
            self.touched += max(d.size for d in (*ins, *outs)) if ins or outs else 0
            if self.elements > TRACE_MAX_ELEMENTS:
                raise Untraceable(f"it writes over {TRACE_MAX_ELEMENTS} elements a call: kernels dominate, and op by "
                                  "op the engine's workers overlap independent ops where one replay runs them in turn")
            in_slots = tuple(self.slot(d) for d in ins)
            step = (fn.func, attrs, in_slots, tuple(self.output(d) for d in outs), reqs, name)
            self.steps.append(step)
            direct = getattr(fn.func, "direct", None)
            direct = direct and direct(ins, outs, reqs)
            self.direct_steps.append(step if direct is None else (direct,) + step[1:])
        except Untraceable as err:
            self.error = str(err)

    def record(self, op, attrs, inputs, outputs):
        _real_record(op, attrs, inputs, outputs)
        if threading.get_ident() != self.thread or self.error is not None:
            return
        try:
            self.nodes.append((op, attrs, tuple(self.value(x) for x in inputs), tuple(self.value(x) for x in outputs)))
        except Untraceable as err:
            self.error = str(err)

    def value(self, array):
        index = self.values.get(id(array))
        if index is None:
            index = self.values[id(array)] = len(self.tape_values)
            self.tape_values.append((self.slot(array._data), array._data.shape, array._data.dtype))
            self.tape_arrays.append(array)  # held, so that no other array takes its id during the capture
        return index


_real_push = None
_real_record = None
_capture_lock = threading.Lock()


def capture(run, inputs, ctx):
    """Call run() while recording the operators it pushes. `inputs` maps keys to the buffers the trace will
    take as inputs. Returns (run()'s result, the recorder); recorder.error says why the run is untraceable."""
    global _real_push, _real_record
    recorder = _Recorder(ctx)
    try:
        for key, data in inputs.items():
            recorder.bind(key, data)
    except Untraceable as err:
        recorder.error = str(err)
        return run(), recorder
    # One capture at a time: the swapped functions are process-wide (other threads pass straight through).
    with _capture_lock:
        _real_push, _real_record = engine.push, autograd._record
        engine.push, autograd._record = recorder.push, recorder.record
        try:
            result = run()
        finally:
            engine.push, autograd._record = _real_push, _real_record
    return result, recorder


class Trace:
    """A captured run, replayable on new input buffers of the same shapes and dtypes."""

    def __init__(self, recorder, name, heads=()):
        self.name = name
        self.ctx = recorder.ctx
        self.specs = recorder.specs
        self.steps = recorder.steps
        self.direct_steps = recorder.direct_steps
        self.light = recorder.touched <= engine.LIGHT_ELEMENTS
        self.nodes = recorder.nodes  # the tape records over tape values, to rebuild a tape when one is wanted
        self.tape_values = recorder.tape_values
        self.tape_heads = tuple(recorder.values.get(id(h)) for h in heads)
        self.inputs = [(slot, spec[1]) for slot, spec in enumerate(self.specs) if spec[0] == "in"]
        self.input_types = [(slot, recorder.held[slot].dtype) for slot, _ in self.inputs]
        self.new = [(slot, spec[1], spec[2]) for slot, spec in enumerate(self.specs) if spec[0] == "new"]
        self.derived = [(slot, spec) for slot, spec in enumerate(self.specs) if spec[0] in ("hollow", "view")]
        self.random = [i for i, step in enumerate(self.steps) if "__key__" in step[1]]
        read = {s for step in self.steps for s in step[2]}
        written = {s for step in self.steps for s in step[3]}
        self.written_inputs = [spec[1] for slot, spec in enumerate(self.specs)
                               if spec[0] == "in" and slot in written]
        self.read_inputs = [spec[1] for slot, spec in enumerate(self.specs)
                            if spec[0] == "in" and slot in read and slot not in written]

    def skip_unread(self, results):
        """Make the computes skip (REQ_NULL) new buffers that no step reads and that are not among the slots
        `results`: a backward's gradients of inputs that need none (MXNet's kNullOp), e.g. a data gradient under
        grad_req 'null'."""
        live = {s for s in results if s is not None} | {i for step in self.steps for i in step[2]}
        for slot, spec in self.derived:
            if spec[0] == "view" and slot in live:
                live.add(spec[1])
        for k, (compute, attrs, ins, outs, reqs, name) in enumerate(self.steps):
            skipped = tuple(REQ_NULL if self.specs[o][0] == "new" and o not in live else r for o, r in zip(outs, reqs))
            if skipped != reqs:  # the wrapped compute: it makes sure a kernel that ignores REQ_NULL writes scratch
                self.steps[k] = self.direct_steps[k] = (compute, attrs, ins, outs, skipped, name)

    def buffers(self, inputs):
        """Every slot's buffer for a run on `inputs` (key -> buffer); new ones are allocated here, as invoke
        would allocate them."""
        datas = [None] * len(self.specs)
        for slot, key in self.inputs:
            datas[slot] = inputs[key]
        for slot, shape, dtype in self.new:
            datas[slot] = np.empty(shape, dtype)
        for slot, spec in self.derived:
            datas[slot] = hollow_buffer(spec[1], spec[2]) if spec[0] == "hollow" else \
                datas[spec[1]].reshape(spec[2])
        return datas

    def push(self, datas, reads, writes, stamps=None):
        """Run the captured computes over `datas` (from buffers()) as one engine op reading and writing the
        given vars; `stamps`: the versions of the buffers read (buffer_versions.snapshot), or None."""
        # the direct computes need input buffers of the kinds captured (a kernel converts nothing)
        steps = self.direct_steps if all(datas[s].dtype == t and datas[s].flags.c_contiguous
                                         for s, t in self.input_types) else self.steps
        if self.random:  # fresh draws for every call, keyed in program order as invoke keys them
            steps = list(steps)
            for i in self.random:
                compute, attrs, ins, outs, reqs, name = steps[i]
                steps[i] = (compute, dict(attrs, __key__=_random.next_key(self.ctx)), ins, outs, reqs, name)

        # One BLAS pin for the whole run: the kernels' own pins nest inside it for a counter step, not six calls
        # into the BLAS libraries each (ResNet-50 at batch 1 pins 57 times a call).
        blas_pin = contextlib.nullcontext if self.light else single_threaded_blas

        def run():
            with blas_pin(), buffer_versions.reading(stamps):
                for compute, attrs, ins, outs, reqs, name in steps:
                    try:
                        compute(attrs, [datas[i] for i in ins], [datas[o] for o in outs], reqs)
                    except MXNetError as err:
                        raise MXNetError(f"{name}: {err}") from None
        engine.push(run, reads, writes, self.ctx, 0, self.name, self.light)

    def tape(self, datas, inputs, var):
        """Record this trace's tape nodes as the run did, over the buffers `datas` (slot -> buffer; a slot
        missing is hollow) and the NDArrays `inputs` (key -> NDArray); the other arrays take the engine var
        `var`. Returns the array of each tape value."""
        def data(slot):
            spec = self.specs[slot]
            if spec[0] == "view":
                base = data(spec[1])
                return None if base is None else base.reshape(spec[2])
            return datas.get(slot)
        arrays = []
        for slot, shape, dtype in self.tape_values:
            if self.specs[slot][0] == "in":
                arrays.append(inputs[self.specs[slot][1]])
                continue
            buffer = data(slot)
            arrays.append(NDArray(buffer if buffer is not None else hollow_buffer(shape, dtype), self.ctx, var=var))
        for op, attrs, ins, outs in self.nodes:
            autograd._record(op, attrs, [arrays[v] for v in ins], [arrays[v] for v in outs])
        return arrays


class Signature:
    """The traces of one graph for one input signature: the forward, and (for a recorded forward) the backward
    giving the gradients of the graph's inputs. Each is None until tried and False when untraceable."""
    __slots__ = ("name", "ctx", "forward", "heads", "backward", "grads", "saved", "backward_mode")

    def __init__(self, name, ctx):
        self.name, self.ctx = name, ctx
        self.forward = self.backward = self.backward_mode = None
        self.heads = self.grads = self.saved = ()

    def capture_forward(self, run, inputs):
        """run() the forward op by op (it returns the head NDArrays) while tracing it over `inputs`
        (key -> NDArray). Returns (heads, traced): traced is (Trace, head slots, recorder), or None when the run
        cannot be traced."""
        heads, recorder = capture(run, {k: a._data for k, a in inputs.items()}, self.ctx)
        if recorder.error is None:
            slots = tuple(recorder.slots.get(_buffer(h._data)) for h in heads)
            if all(s is not None and recorder.specs[s][0] == "new" for s in slots):
                return heads, (Trace(recorder, self.name, heads), slots, recorder)
        return heads, None

    def keep_forward(self, traced):
        """Replay the forward of `traced` (capture_forward's) from now on; None: never trace it again."""
        self.forward, self.heads = traced[:2] if traced is not None else (False, ())

    def run_forward(self, inputs):
        """The traced forward on `inputs` (key -> NDArray) as one engine op; returns (head NDArrays, buffers)."""
        trace = self.forward
        datas = trace.buffers({k: inputs[k]._data for _, k in trace.inputs})
        made = {}
        for s in self.heads:
            if s not in made:
                made[s] = NDArray(datas[s], self.ctx)
        writes = [inputs[k]._var for k in trace.written_inputs] + [h._var for h in made.values()]
        read = [inputs[k] for k in trace.read_inputs]
        # Inference keeps results derived from weights (Winograd transforms) by version; training changes them.
        stamps = None if autograd.is_recording() else buffer_versions.snapshot(read)
        trace.push(datas, *engine.var_sets([a._var for a in read], writes), stamps)
        return [made[s] for s in self.heads], datas

    def capture_backward(self, run, ograds, traced, targets=None, mode=None):
        """run() the backward op by op (it returns one gradient NDArray or None per graph input) while tracing
        it over the head gradients `ograds`, the buffers of the forward `traced` (capture_forward's) and the
        arrays `targets` (key -> NDArray) it may write gradients into. When both trace, later recorded calls
        replay both; `mode` is kept as backward_mode (what else the traced backward depended on)."""
        recorder = traced[2]
        inputs = {("g", k): g._data for k, g in enumerate(ograds)}
        inputs.update({("f", s): data for s, (spec, data) in enumerate(zip(recorder.specs, recorder.held))
                       if spec[0] in ("in", "new")})
        inputs.update({("w", k): a._data for k, a in (targets or {}).items()})
        grads, bwd = capture(run, inputs, self.ctx)
        self.backward = False
        if bwd.error is not None:
            return grads
        slots = tuple(None if g is None else bwd.slots.get(_buffer(g._data)) for g in grads)
        trace = Trace(bwd, f"{self.name}_backward")
        trace.skip_unread(slots)
        forward = traced[0]
        if all(g is None or (s is not None and bwd.specs[s][0] == "new") for g, s in zip(grads, slots)) and \
                all(k[0] == "w" or k[0] == "f" and forward.specs[k[1]][0] == "in" for k in trace.written_inputs):
            self.forward, self.heads = traced[:2]
            self.backward, self.grads, self.backward_mode = trace, slots, mode
            self.saved = tuple({k[1] for _, k in trace.inputs if k[0] == "f" and forward.specs[k[1]][0] == "new"}
                               | set(self.heads))
        return grads

    def run_backward(self, saved, inputs, ograds, after, targets=None):
        """The traced backward as one engine op: `saved` (slot -> buffer) and `inputs` (key -> NDArray) are
        the forward's, `ograds` the head gradients, `targets` what capture_backward was given; it runs after
        every var in `after` (the forward's heads). Returns one gradient NDArray (or None) per graph input."""
        trace, forward = self.backward, self.forward
        given, reads, writes = {}, list(after), []
        for _, key in trace.inputs:
            kind, k = key
            if kind == "f" and forward.specs[k][0] == "new":
                given[key] = saved[k]
                continue
            array = ograds[k] if kind == "g" else targets[k] if kind == "w" else inputs[forward.specs[k][1]]
            given[key] = array._data
            (writes if key in trace.written_inputs else reads).append(array._var)
        datas = trace.buffers(given)
        made = {}
        for s in self.grads:
            if s is not None and s not in made:
                made[s] = NDArray(datas[s], self.ctx)
        trace.push(datas, *engine.var_sets(reads, writes + [g._var for g in made.values()]))
        return [None if s is None else made[s] for s in self.grads]

    def rebuild_tape(self, saved, inputs, var):
        """Record the traced forward's tape nodes over a replayed call's saved buffers and `inputs` (key ->
        NDArray, as the run bound them), as the op-by-op run would have; returns the heads. Buffers no gradient
        reads were not kept: their arrays are hollow, as in that run. The arrays take the engine var `var`
        (one the replayed forward writes), so what reads them waits for it."""
        arrays = self.forward.tape(saved, inputs, var)
        return [arrays[v] if v is not None else NDArray(saved[s], self.ctx, var=var)  # a head off the tape
                for v, s in zip(self.forward.tape_heads, self.heads)]
