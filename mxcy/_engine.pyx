# cython: language_level=3, boundscheck=False, wraparound=False
"""mxcy's dependency engine: MXNet ThreadedEngine semantics over C++ worker threads (Var, Engine).

Bookkeeping lives in _engine_core.h and runs without the GIL; the GIL is taken only to run ops.
"""
import atexit
import os

from cpython.exc cimport PyErr_CheckSignals
from cpython.ref cimport PyObject, Py_INCREF, Py_XDECREF
from libcpp cimport bool as cbool
from libcpp.vector cimport vector

from mxcy.base import MXNetError
from mxcy.error import compatible

cdef extern from "_engine_core.h" namespace "mxcy":
    cppclass Queue:
        pass
    cppclass VarState:
        unsigned long long mark_r
        unsigned long long mark_w
    cppclass Op:
        PyObject* fn
        PyObject* name
        PyObject* reads
        PyObject* writes
        vector[VarState*] rv
        vector[VarState*] wv
        Queue* q
        int priority
        cbool light
    ctypedef void (*RunBatch)(void*, Queue*, Op*)

cdef extern from "_engine_core.h" namespace "mxcy" nogil:
    int in_op()
    void enter_op()
    void leave_op()
    cppclass Core:
        Core(RunBatch, void*, int)
        Queue* cpu_queue()
        Queue* gpu_queue(int) except +
        void start() except +
        Op* alloc_op() except +
        void free_op(Op*)
        void push(Op*) except +
        cbool claim(Op*)
        cbool only_light_pending()
        cbool wait_progress(int)
        Op* complete(Op*, Queue*, cbool)
        Op* steal(Queue*, VarState*)
        cbool var_idle(VarState*)
        cbool all_idle()
        cbool wait_var(VarState*, int)
        cbool wait_all(int)
        void stop_join()
        void reset_after_fork()

# Ops a worker runs back to back before giving the GIL up: amortizes the GIL handoff, which
# otherwise waits out the 5 ms switch interval while the pushing thread holds the GIL.
cdef enum:
    BATCH = 256
    # Blocking waits wake this often (ms) to let Ctrl-C through.
    SIGNAL_POLL_MS = 100

# Push-time duplicate detection stamps vars with a tag unique to each push; global so that
# a var seen by two engines cannot collide.
cdef unsigned long long _tag = 0

# Threaded engines not yet shut down. Holding them strongly means an engine is never freed
# while its workers run (a worker could otherwise drop the last reference and join itself).
_live = set()


cdef class _ExcRef:
    # Shared by every var an op's failure reached: clearing it on one rethrow clears it for
    # all of them, as MXNet's shared exception_ptr does.
    cdef object exc


cdef class Var:
    """An engine variable: the tag that orders every read and write of one buffer.

    `version` counts the ops pushed that write it: an op pushed while it is v runs after exactly those writes, so
    two ops pushed at the same version see the same contents (MXNet's NDArray version, which its oneDNN weight
    caches go by). `external` marks memory that something other than the engine may write (DLPack exports for
    writing, foreign DLPack imports): its version says nothing."""
    cdef VarState st
    cdef _ExcRef exc
    cdef public unsigned long long version
    cdef public bint external


cdef class _Bulk:
    """Gathered fns that run as one engine op, in push order."""
    cdef list fns
    cdef list names
    cdef Py_ssize_t failed

    def __call__(self):
        cdef Py_ssize_t i
        for i in range(len(self.fns)):
            self.failed = i
            self.fns[i]()


cdef str _op_name(fn, name):
    if name is not None:
        return str(name)
    try:
        return str(getattr(fn, "__name__", None) or "<op>")
    except Exception:
        return "<op>"


cdef object _wrap(fn, name, e):
    # Must not raise: a worker that failed here would never complete the op.
    cdef _Bulk b
    if type(fn) is _Bulk:
        b = <_Bulk>fn
        fn, name = b.fns[b.failed], b.names[b.failed]
    try:
        detail = str(e)
    except Exception:
        detail = "<unprintable exception>"
    # a built-in error type stays catchable as itself (IndexError for an out-of-range index, ...)
    err = compatible(e)(f"{_op_name(fn, name)}: {type(e).__name__}: {detail}")
    err.__cause__ = e
    return err


cdef _ExcRef _poison_of(tuple vars_):
    cdef _ExcRef slot
    for v in vars_:
        slot = (<Var>v).exc
        if slot is not None and slot.exc is not None:
            return slot
    return None


cdef void _run_batch(void* owner, Queue* q, Op* op) noexcept:
    # Called by a worker thread holding the GIL; the engine is alive because _live holds it.
    cdef Engine eng = <Engine>owner
    cdef Op* nxt
    cdef int budget = BATCH
    while op != NULL:
        eng._execute(<object>op.fn, <object>op.name, <tuple><object>op.reads,
                     <tuple><object>op.writes)
        budget -= 1
        nxt = eng.core.complete(op, q, budget > 0)
        eng._release(op)
        op = nxt


cdef class Engine:
    """Dependency engine: `push` ops that read and write Vars; they run once their inputs are ready.

    naive=True runs every op at push time in the caller's thread (the reference semantics);
    otherwise CPU ops run on `cpu_workers` threads and GPU ops on one thread per device id.
    """
    cdef Core* core
    cdef readonly bint naive
    cdef readonly int cpu_workers
    cdef bint _shut
    cdef bint _paused
    cdef list _errors
    cdef object _last_ctx
    cdef Queue* _last_q
    cdef int _bulk_size
    cdef list _bulk_fns
    cdef list _bulk_names
    cdef list _bulk_reads
    cdef list _bulk_writes
    cdef Queue* _bulk_q

    def __cinit__(self, naive=False, int cpu_workers=2):
        if cpu_workers < 1:
            raise ValueError(f"Engine: cpu_workers must be >= 1, got {cpu_workers}")
        self.naive = bool(naive)
        self.cpu_workers = cpu_workers
        self._errors = []
        self._bulk_size = 1
        self._bulk_fns, self._bulk_names, self._bulk_reads, self._bulk_writes = [], [], [], []
        if not self.naive:
            self.core = new Core(_run_batch, <void*>self, cpu_workers)
            _live.add(self)
            self.core.start()

    def __dealloc__(self):
        # Only reached after shutdown() (or for naive engines): no worker is left.
        del self.core

    @property
    def bulk_size(self):
        return self._bulk_size

    @property
    def pending_errors(self):
        """How many op failures are stored and not yet raised by a wait."""
        return len(self._errors)

    def new_var(self):
        """A fresh Var."""
        return Var.__new__(Var)

    def push(self, fn, reads, writes, ctx=None, int priority=0, name=None, bint light=False):
        """Schedule `fn()` after earlier writes of `reads` and earlier reads/writes of `writes`.

        `ctx` with device_type 'gpu' runs on that device's worker; higher `priority` runs first
        among ready ops; `name` labels errors. Contexts are assumed immutable (cached by identity).
        A `light` CPU op (microseconds of work) runs in the pushing thread, with the same error
        semantics, when its vars are free or only light ops are in flight (see _run_here).
        """
        cdef tuple r = reads if type(reads) is tuple else tuple(reads)
        cdef tuple w = writes if type(writes) is tuple else tuple(writes)
        cdef Queue* q
        for x in w:
            if type(x) is Var:  # anything else is refused by _scan
                (<Var>x).version += 1
        if self.core == NULL or self._shut:
            _scan(r, w, fn, name, NULL)
            self._execute(fn, name, r, w)
            return
        q = self._queue_of(ctx)
        if self._bulk_size > 1 and priority == 0:
            if self._bulk_fns and q != self._bulk_q:
                self._flush()
            _scan(r, w, fn, name, NULL)
            self._bulk_q = q
            self._bulk_fns.append(fn)
            self._bulk_names.append(name)
            self._bulk_reads.extend(r)
            self._bulk_writes.extend(w)
            if len(self._bulk_fns) >= self._bulk_size:
                self._flush()
            return
        if self._bulk_fns:
            self._flush()
        self._push_op(fn, name, r, w, q, priority, light and q == self.core.cpu_queue())

    def wait_for_var(self, Var var not None):
        """Block until every write of `var` pushed so far has finished; raise its stored error."""
        if in_op():
            raise MXNetError("wait_for_var called from inside an engine op: it would deadlock")
        if self._bulk_fns:
            self._flush()
        self._wait(&var.st)
        cdef _ExcRef slot = var.exc
        if slot is not None:
            var.exc = None
            err = slot.exc
            if err is not None:
                # As MXNet 1.9.1 (checked against it): one error raised to the user clears every pending one,
                # those of other vars included, so later waits and ops do not raise them.
                for slot in self._errors:
                    slot.exc = None
                self._errors = []
                raise err

    def wait_all(self):
        """Block until every pushed op has finished; raise the first error since the last wait_all.

        As in MXNet, every error recorded since then is cleared, so later waits do not raise it.
        """
        if in_op():
            raise MXNetError("wait_all called from inside an engine op: it would deadlock")
        if self._bulk_fns:
            self._flush()
        self._wait(NULL)
        if not self._errors:
            return
        errs, self._errors = self._errors, []
        first = None
        cdef _ExcRef slot
        for slot in errs:
            if slot.exc is not None:
                if first is None:
                    first = slot.exc
                slot.exc = None
        if first is not None:
            raise first

    def set_bulk_size(self, int size):
        """Gather up to `size` consecutive pushes into one op (<= 1: off); returns the old size.

        A bulk is flushed when full, on any wait, on a push to another device or with a nonzero
        priority (never bulked), and here. The naive engine runs every push at once regardless.
        """
        prev = self._bulk_size
        if self._bulk_fns:
            self._flush()
        self._bulk_size = size
        return prev

    def shutdown(self):
        """Finish pending work and join the workers; later pushes run synchronously. Idempotent."""
        if self.core == NULL or self._shut:
            return
        if in_op():
            raise MXNetError("shutdown called from inside an engine op: it would deadlock")
        if self._bulk_fns:
            self._flush()
        self._wait(NULL)
        # Holding the GIL from the idle check on, no push can slip in before the workers stop.
        self._shut = True
        with nogil:
            self.core.stop_join()
        _live.discard(self)

    def _pause(self):
        # Before fork(): threads must not exist while the process is copied (MXNet stops its
        # engine in pthread_atfork's prepare handler for the same reason).
        if self.core == NULL or self._shut or self._paused or in_op():
            return
        self._wait(NULL)
        self._paused = True
        with nogil:
            self.core.stop_join()

    def _resume(self, bint child):
        if self._paused:
            self._paused = False
            if child:
                self.core.reset_after_fork()
            self.core.start()
        elif child:
            # Forked from inside an op, so still running in the parent: the child cannot join
            # or reuse those threads; it leaks them and runs later pushes synchronously.
            self.core = NULL
            _live.discard(self)

    cdef _wait(self, VarState* v):
        # Until v (or, given NULL, everything) is done, run ready CPU ops here when allowed:
        # this thread holds the GIL already, a worker would first have to wake and take it.
        cdef bint done
        cdef Op* op
        cdef Queue* q
        if self.core == NULL:
            return
        q = self.core.cpu_queue()
        while not (self.core.var_idle(v) if v != NULL else self.core.all_idle()):
            op = self.core.steal(q, v) if not self._shut else NULL
            if op != NULL:
                self._run_stolen(op, q)
                continue
            with nogil:
                done = (self.core.wait_var(v, SIGNAL_POLL_MS) if v != NULL
                        else self.core.wait_all(SIGNAL_POLL_MS))
            if not done:
                PyErr_CheckSignals()

    cdef _run_stolen(self, Op* op, Queue* q):
        # A ready op taken off q's queue, run by this thread instead of a worker.
        try:
            self._execute(<object>op.fn, <object>op.name, <tuple><object>op.reads, <tuple><object>op.writes)
        finally:
            self.core.complete(op, q, False)
            self._release(op)

    cdef Queue* _queue_of(self, ctx) except NULL:
        cdef Queue* q
        if ctx is None:
            return self.core.cpu_queue()
        if ctx is self._last_ctx:
            return self._last_q
        if ctx.device_type == "gpu":
            q = self.core.gpu_queue(ctx.device_id)
        else:
            q = self.core.cpu_queue()
        self._last_ctx = ctx
        self._last_q = q
        return q

    cdef _push_op(self, fn, name, tuple r, tuple w, Queue* q, int priority, bint light=False):
        cdef Op* op = self.core.alloc_op()
        try:
            _scan(r, w, fn, name, op)
        except BaseException:
            self.core.free_op(op)
            raise
        op.light = light
        if light and self._run_here(op, fn, name, r, w, q):
            return
        op.q = q
        op.priority = priority
        Py_INCREF(fn)
        Py_INCREF(name)
        Py_INCREF(r)
        Py_INCREF(w)
        op.fn = <PyObject*>fn
        op.name = <PyObject*>name
        op.reads = <PyObject*>r
        op.writes = <PyObject*>w
        self.core.push(op)

    cdef bint _run_here(self, Op* op, fn, name, tuple r, tuple w, Queue* q) except -1:
        # A light op runs here once its vars are free. Handed to a worker it would wait for the GIL this
        # thread holds while it pushes on; so while only light ops are in flight, this thread first runs the
        # ready ones itself (or lets a worker that already took one finish it). Inside an op it never waits:
        # what it waits for could be queued behind the running op.
        cdef Op* other
        while not self.core.claim(op):
            if in_op() or not self.core.only_light_pending():
                return False
            other = self.core.steal(q, NULL)
            if other != NULL:
                self._run_stolen(other, q)
                continue
            with nogil:
                self.core.wait_progress(SIGNAL_POLL_MS)
            PyErr_CheckSignals()
        try:
            self._execute(fn, name, r, w)
        finally:
            self.core.complete(op, q, False)
            self.core.free_op(op)
        return True

    cdef _flush(self):
        fns, names = self._bulk_fns, self._bulk_names
        reads, writes = self._bulk_reads, self._bulk_writes
        self._bulk_fns, self._bulk_names, self._bulk_reads, self._bulk_writes = [], [], [], []
        if len(fns) == 1:
            self._push_op(fns[0], names[0], tuple(reads), tuple(writes), self._bulk_q, 0)
            return
        wd = dict.fromkeys(writes)
        rt = tuple([v for v in dict.fromkeys(reads) if v not in wd])
        cdef _Bulk b = _Bulk.__new__(_Bulk)
        b.fns, b.names = fns, names
        self._push_op(b, None, rt, tuple(wd), self._bulk_q, 0)

    cdef void _release(self, Op* op) noexcept:
        # Pool the op before dropping references: a destructor run by a DECREF may push.
        cdef PyObject* fn = op.fn
        cdef PyObject* name = op.name
        cdef PyObject* reads = op.reads
        cdef PyObject* writes = op.writes
        op.fn = op.name = op.reads = op.writes = NULL
        self.core.free_op(op)
        Py_XDECREF(fn)
        Py_XDECREF(name)
        Py_XDECREF(reads)
        Py_XDECREF(writes)

    cdef _execute(self, fn, name, tuple reads, tuple writes):
        # MXNet's rule (ThreadedEngine::OnStart/OnComplete): an op inheriting an error from any
        # var it reads or writes is skipped, and the error is stored on every var it writes.
        cdef _ExcRef slot = None
        interrupt = None
        if self._errors:  # otherwise no var can hold an uncleared error
            slot = _poison_of(reads)
            if slot is None:
                slot = _poison_of(writes)
        if slot is None:
            enter_op()
            try:
                fn()
            except BaseException as e:
                slot = _ExcRef.__new__(_ExcRef)
                slot.exc = _wrap(fn, name, e)
                self._errors.append(slot)
                if isinstance(e, KeyboardInterrupt):
                    interrupt = e
            finally:
                leave_op()
        if slot is not None:
            for v in writes:
                (<Var>v).exc = slot
        # Ctrl-C in an op run by the waiting or (naive) pushing thread reaches that thread
        # too, after the op's outputs are marked failed; workers never see it.
        if interrupt is not None and not in_op():
            raise interrupt


cdef int _scan(tuple r, tuple w, fn, name, Op* op) except -1:
    # Validates one op's vars (a var both read and written counts as written) and, given an
    # op, records their states.
    global _tag
    _tag += 1
    cdef unsigned long long tag = _tag
    cdef Var v
    for x in w:
        if type(x) is not Var and not isinstance(x, Var):
            raise TypeError(f"{_op_name(fn, name)}: writes must hold Vars, got {type(x).__name__}")
        v = <Var>x
        if v.st.mark_w == tag:
            raise MXNetError(f"{_op_name(fn, name)}: the same var appears twice in writes")
        v.st.mark_w = tag
        if op != NULL:
            op.wv.push_back(&v.st)
    for x in r:
        if type(x) is not Var and not isinstance(x, Var):
            raise TypeError(f"{_op_name(fn, name)}: reads must hold Vars, got {type(x).__name__}")
        v = <Var>x
        if v.st.mark_w == tag:
            continue
        if v.st.mark_r == tag:
            raise MXNetError(f"{_op_name(fn, name)}: the same var appears twice in reads")
        v.st.mark_r = tag
        if op != NULL:
            op.rv.push_back(&v.st)
    return 0


def _shutdown_all():
    for e in list(_live):
        e.shutdown()


def _before_fork():
    for e in list(_live):
        e._pause()


def _after_fork_parent():
    for e in list(_live):
        e._resume(False)


def _after_fork_child():
    for e in list(_live):
        e._resume(True)


# Workers must be joined before Python finalizes: a thread taking the GIL then would hang or die.
atexit.register(_shutdown_all)
os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_parent,
                    after_in_child=_after_fork_child)
