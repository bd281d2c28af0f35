"""Tests of mxcy's dependency engine: threaded runs must match the naive engine, op for op.

No timing assertions: concurrency is checked with barriers that break if ops were serialized.
"""
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mxcy import engine as mx_engine
from mxcy._engine import Engine, Var
from mxcy.base import MXNetError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class FakeGPU:
    """Stands in for a gpu Context: only device_type/device_id matter to the engine."""
    device_type = "gpu"

    def __init__(self, device_id=0):
        self.device_id = device_id


@pytest.fixture(params=["naive", "threaded"])
def eng(request):
    e = Engine(naive=request.param == "naive", cpu_workers=2)
    yield e
    e.shutdown()


@pytest.fixture
def threaded():
    e = Engine(cpu_workers=2)
    yield e
    e.shutdown()


# ---------------------------------------------------------------- random programs

OP = st.tuples(
    st.sets(st.integers(0, 5), max_size=3),   # reads
    st.sets(st.integers(0, 5), max_size=3),   # writes (a var also read counts as written)
    st.integers(1, 7),                        # multiplier
    st.booleans(),                            # sleep a little
    st.booleans(),                            # run on the fake GPU
    st.integers(-2, 2),                       # priority
    st.booleans(),                            # light: may run in the pushing thread
)


def run_program(e, nvars, ops, bulk_size=1):
    """Runs `ops` on `e`; returns the final buffers and each var's log of writing op indices."""
    bufs = [np.full(2, i + 1, dtype=np.int64) for i in range(nvars)]
    logs = [[] for _ in range(nvars)]
    var = [e.new_var() for _ in range(nvars)]
    prev = e.set_bulk_size(bulk_size)
    for k, (reads, writes, mult, nap, gpu, prio, light) in enumerate(ops):
        reads = [r for r in reads if r < nvars]
        writes = [w for w in writes if w < nvars]

        def fn(k=k, reads=reads, writes=writes, mult=mult, nap=nap):
            total = sum(int(bufs[r][0]) for r in reads)
            if nap:
                time.sleep(0.0005)
            for w in writes:
                bufs[w][:] = (bufs[w] * mult + total + k) % 1000003
                logs[w].append(k)

        e.push(fn, tuple(var[r] for r in reads), [var[w] for w in writes],
               FakeGPU() if gpu else None, prio, None, light)
    e.set_bulk_size(prev)
    e.wait_all()
    return [b.tolist() for b in bufs], logs


@settings(max_examples=40, deadline=None)
@given(nvars=st.integers(1, 6), ops=st.lists(OP, max_size=25),
       bulk=st.sampled_from([1, 1, 3]))
def test_random_programs_match_naive(nvars, ops, bulk):
    naive = Engine(naive=True)
    ref_bufs, ref_logs = run_program(naive, nvars, ops)
    for k, (_, writes, *_rest) in enumerate(ops):
        for w in writes:
            if w < nvars:
                assert k in ref_logs[w]
    for workers in (2, 4):
        e = Engine(cpu_workers=workers)
        try:
            bufs, logs = run_program(e, nvars, ops, bulk)
        finally:
            e.shutdown()
        assert bufs == ref_bufs
        assert logs == ref_logs
        assert all(log == sorted(log) for log in logs)


@settings(max_examples=30, deadline=None)
@given(ops=st.lists(st.tuples(st.sets(st.integers(0, 3), max_size=2), st.sets(st.integers(0, 3), max_size=2)),
                    max_size=15),
       naive=st.booleans(), bulk=st.sampled_from([1, 3]))
def test_version_counts_pushed_writes(ops, naive, bulk):
    # Every push listing a var among its writes adds one to its version, at the push; reads add nothing.
    e = Engine(naive=naive, cpu_workers=2)
    try:
        var = [e.new_var() for _ in range(4)]
        assert [v.version for v in var] == [0] * 4 and not any(v.external for v in var)
        prev = e.set_bulk_size(bulk)
        expected = [0] * 4
        for reads, writes in ops:
            e.push(lambda: time.sleep(0.0002), tuple(var[r] for r in reads - writes), [var[w] for w in writes])
            for w in writes:
                expected[w] += 1
            assert [v.version for v in var] == expected  # counted at the push, before the op runs
        e.set_bulk_size(prev)
        e.wait_all()
        assert [v.version for v in var] == expected
    finally:
        e.shutdown()


# ---------------------------------------------------------------- light ops

def test_light_op_on_free_vars_runs_in_the_pushing_thread(threaded):
    ran = []
    threaded.push(lambda: ran.append(threading.get_ident()), (threaded.new_var(),), (threaded.new_var(),),
                  light=True)
    assert ran == [threading.get_ident()]  # done when push returns


def test_light_op_behind_a_heavy_op_waits_for_it(threaded):
    a, b = threaded.new_var(), threaded.new_var()
    gate, order = threading.Event(), []

    def heavy():
        gate.wait(5)
        order.append("heavy")
    threaded.push(heavy, (), (a,))
    threaded.push(lambda: order.append("light"), (a,), (b,), light=True)
    assert order == []  # queued behind the heavy write: push did not wait for it
    gate.set()
    threaded.wait_for_var(b)
    assert order == ["heavy", "light"]


def test_light_op_error_is_raised_where_the_user_waits(threaded):
    v = threaded.new_var()
    threaded.push(lambda: 1 / 0, (), (v,), name="bad_light", light=True)  # stored, not raised here
    with pytest.raises(MXNetError, match="bad_light: ZeroDivisionError"):
        threaded.wait_for_var(v)


def test_light_op_pushed_inside_an_op_on_its_vars_runs_after_it(threaded):
    v, w = threaded.new_var(), threaded.new_var()
    order = []

    def outer():
        # v is held by this op: the light op must queue, not wait (that would deadlock)
        threaded.push(lambda: order.append("inner"), (v,), (w,), light=True)
        order.append("outer")
    threaded.push(outer, (), (v,))
    threaded.wait_all()
    assert order == ["outer", "inner"]


# ---------------------------------------------------------------- ordering and concurrency

def test_concurrent_reads_run_together(threaded):
    a, out1, out2 = threaded.new_var(), threaded.new_var(), threaded.new_var()
    barrier, done = threading.Barrier(2), threading.Event()
    seen = []
    threaded.push(lambda: seen.append("write"), (), (a,))
    # Each reader waits for the other: serialized readers break the barrier (timeout) and fail.
    for out in (out1, out2):
        threaded.push(lambda: seen.append(barrier.wait(timeout=10)), (a,), (out,))
    threaded.push(lambda: (seen.append("write2"), done.set()), (), (a,))
    # Waiting on an Event, not the engine: a waiting thread may run ops itself.
    assert done.wait(20)
    threaded.wait_all()
    assert seen[0] == "write" and seen[-1] == "write2" and sorted(seen[1:3]) == [0, 1]


@pytest.mark.parametrize("workers", [2, 4])
def test_independent_writes_run_on_all_workers(workers):
    e = Engine(cpu_workers=workers)
    try:
        for _ in range(5):
            # The ops and this thread meet, so each op must be on its own worker at once.
            barrier = threading.Barrier(workers + 1)
            for _ in range(workers):
                e.push(lambda: barrier.wait(timeout=10), (), (e.new_var(),))
            barrier.wait(timeout=10)
            e.wait_all()
    finally:
        e.shutdown()


def test_pushes_from_many_threads(eng):
    shared = eng.new_var()
    counts = {"shared": 0}

    def pusher(k):
        own = eng.new_var()
        counts[k] = 0
        for _ in range(200):
            eng.push(lambda: counts.__setitem__("shared", counts["shared"] + 1), (), (shared,))
            eng.push(lambda: counts.__setitem__(k, counts[k] + 1), (shared,), (own,))
        eng.wait_for_var(own)
    threads = [threading.Thread(target=pusher, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    eng.wait_all()
    assert counts == {"shared": 800, 0: 200, 1: 200, 2: 200, 3: 200}


def test_writes_are_ordered_and_wait_for_var_waits(eng):
    a = eng.new_var()
    log = []
    for i in range(50):
        eng.push(lambda i=i: (time.sleep(0.001) if i % 10 == 0 else None, log.append(i)), (), (a,))
    eng.wait_for_var(a)
    assert log == list(range(50))


def test_read_waits_for_write_and_write_waits_for_reads(threaded):
    a, b = threaded.new_var(), threaded.new_var()
    log = []
    threaded.push(lambda: (time.sleep(0.02), log.append("w1")), (), (a,))
    threaded.push(lambda: (time.sleep(0.01), log.append("r1")), (a,), (b,))
    threaded.push(lambda: log.append("r2"), (a,), ())
    threaded.push(lambda: log.append("w2"), (), (a,))
    threaded.wait_all()
    assert log[0] == "w1" and log[3] == "w2" and sorted(log[1:3]) == ["r1", "r2"]


def test_priority_orders_ready_ops():
    e = Engine(cpu_workers=1)
    try:
        started, release = threading.Event(), threading.Event()
        log = []
        e.push(lambda: (started.set(), release.wait(10)), (), (e.new_var(),))
        assert started.wait(10)
        done = threading.Event()
        for p in (0, 5, -3, 2):
            e.push(lambda p=p: log.append(p), (), (e.new_var(),), None, p)
        e.push(done.set, (), (e.new_var(),), None, -10)
        release.set()
        # Not wait_all: a waiting thread may run ready ops itself, a second consumer.
        assert done.wait(10)
        e.wait_all()
        assert log == [5, 2, 0, -3]
    finally:
        e.shutdown()


def test_gpu_ops_run_on_their_own_thread_in_order(eng):
    a = eng.new_var()
    log, threads = [], {}
    for i in range(20):
        gpu = i % 3 == 0

        def fn(i=i, gpu=gpu):
            threads.setdefault(gpu, set()).add(threading.get_ident())
            log.append(i)
        eng.push(fn, (a,) if i % 2 else (), (a,), FakeGPU(0) if gpu else None)
    eng.wait_for_var(a)
    assert log == list(range(20))
    if not eng.naive:
        assert len(threads[True]) == 1 and not threads[True] & threads[False]
        assert threading.get_ident() not in threads[True]


def test_gpu_and_cpu_ops_on_independent_vars_overlap(threaded):
    barrier = threading.Barrier(2)
    threaded.push(lambda: barrier.wait(timeout=10), (), (threaded.new_var(),), FakeGPU(1))
    threaded.push(lambda: barrier.wait(timeout=10), (), (threaded.new_var(),))
    threaded.wait_all()


# ---------------------------------------------------------------- errors

def test_error_poisons_outputs_and_dependents_only(eng):
    a, b, c, d = (eng.new_var() for _ in range(4))
    ran = []
    eng.push(lambda: ran.append("a"), (), (a,))

    def failing():
        raise ValueError("bad value 42")
    eng.push(failing, (a,), (b,), name="my_failing_op")
    eng.push(lambda: ran.append("c"), (b,), (c,))
    eng.push(lambda: ran.append("d"), (a,), (d,))
    eng.wait_for_var(a)
    eng.wait_for_var(d)
    with pytest.raises(MXNetError, match=r"^my_failing_op: ValueError: bad value 42") as info:
        eng.wait_for_var(c)
    assert isinstance(info.value.__cause__, ValueError)
    assert sorted(ran) == ["a", "d"]
    # As in MXNet every var the failure reached shares one record, cleared by the first rethrow.
    eng.wait_for_var(b)
    eng.wait_all()
    eng.push(lambda: ran.append("again"), (b,), (c,))
    eng.wait_for_var(c)
    assert ran[-1] == "again"


def test_wait_all_reports_an_error_once(eng):
    a, b = eng.new_var(), eng.new_var()

    def first():
        raise KeyError("first")

    def second():
        raise RuntimeError("second")
    eng.push(first, (), (a,))
    eng.push(second, (), (b,))
    # The first failure in time: push order for naive, either one when they ran concurrently.
    with pytest.raises(MXNetError, match=r"^first: KeyError" if eng.naive else None) as info:
        eng.wait_all()
    name = {KeyError: "first", RuntimeError: "second"}[type(info.value.__cause__)]
    assert str(info.value).startswith(name + ": ")
    eng.wait_all()
    eng.wait_for_var(a)
    eng.wait_for_var(b)


def test_an_error_raised_by_wait_for_var_clears_every_pending_one(eng):
    # MXNet 1.9.1 (checked): after one error reaches the user, waitall and the other failed arrays read cleanly
    a, b, c = eng.new_var(), eng.new_var(), eng.new_var()
    eng.push(lambda: 1 / 0, (), (a,), name="divide")
    eng.push(lambda: [][1], (), (b,), name="indexer")
    eng.push(lambda: None, (a,), (c,))  # inherits a's error
    deadline = time.monotonic() + 10
    while eng.pending_errors < 2 and time.monotonic() < deadline:  # both have failed
        time.sleep(0.001)
    with pytest.raises(MXNetError, match="^divide: ZeroDivisionError"):
        eng.wait_for_var(a)
    assert eng.pending_errors == 0
    eng.wait_for_var(c)  # the same error, already raised once
    eng.wait_for_var(b)  # another op's error, cleared with it
    ran = []
    eng.push(lambda: ran.append(1), (a, b, c), ())
    eng.wait_all()
    assert ran == [1]


def test_writing_a_poisoned_var_keeps_the_error(eng):
    a = eng.new_var()
    ran = []
    eng.push(lambda: 1 / 0, (), (a,), name="divide")
    eng.push(lambda: ran.append(1), (), (a,))
    with pytest.raises(MXNetError, match="^divide: ZeroDivisionError"):
        eng.wait_for_var(a)
    assert ran == []


def test_bulk_error_poisons_all_its_writes_and_skips_the_rest(threaded):
    a, b, c = threaded.new_var(), threaded.new_var(), threaded.new_var()
    ran = []
    with_size = threaded.set_bulk_size(8)
    threaded.push(lambda: ran.append(1), (), (a,))
    threaded.push(lambda: [][1], (), (b,), name="indexer")
    threaded.push(lambda: ran.append(3), (), (c,))
    threaded.set_bulk_size(with_size)
    with pytest.raises(MXNetError, match="^indexer: IndexError"):
        threaded.wait_for_var(a)
    assert ran == [1]
    threaded.wait_all()


def test_keyboard_interrupt_reaches_the_thread_that_ran_the_op(eng):
    a, b = eng.new_var(), eng.new_var()

    def interrupted():
        raise KeyboardInterrupt
    ran = []
    if eng.naive:
        with pytest.raises(KeyboardInterrupt):
            eng.push(interrupted, (), (a,))
    else:
        eng.push(interrupted, (), (a,), FakeGPU())  # a worker: stored like any failure
    eng.push(lambda: ran.append(1), (a,), (b,))
    with pytest.raises(MXNetError, match="^interrupted: KeyboardInterrupt"):
        eng.wait_for_var(b)
    assert ran == []


def test_push_rejects_duplicates_and_non_vars(eng):
    a, b = eng.new_var(), eng.new_var()
    with pytest.raises(MXNetError, match="dup_op"):
        eng.push(lambda: None, (), (a, b, a), name="dup_op")
    with pytest.raises(MXNetError, match="dup_read"):
        eng.push(lambda: None, (a, a), (), name="dup_read")
    with pytest.raises(TypeError):
        eng.push(lambda: None, (object(),), ())
    ran = []
    eng.push(lambda: ran.append(1), (a, b), (a,))  # read and written counts as written
    eng.wait_all()
    assert ran == [1]


def test_wait_inside_an_op_raises(eng):
    a = eng.new_var()
    caught = []

    def waiter():
        for wait in (lambda: eng.wait_for_var(a), eng.wait_all):
            try:
                wait()
            except MXNetError as err:
                caught.append(str(err))
    eng.push(waiter, (), (eng.new_var(),))
    eng.wait_all()
    assert len(caught) == 2 and all("deadlock" in m for m in caught)


def test_ops_can_push_ops(eng):
    a = eng.new_var()
    log = []
    eng.push(lambda: (log.append(1), eng.push(lambda: log.append(2), (), (a,))), (), (a,))
    eng.wait_all()
    assert log == [1, 2]


# ---------------------------------------------------------------- bulking and the module API

def test_bulk_matches_unbulked(threaded):
    a, b = threaded.new_var(), threaded.new_var()
    vals = [0, 0]

    def add(i):
        vals[0] += i

    def mul():
        vals[1] = vals[1] * 3 + vals[0]
    prev = threaded.set_bulk_size(4)
    assert threaded.bulk_size == 4
    for i in range(10):
        threaded.push(lambda i=i: add(i), (), (a,))
        threaded.push(mul, (a,), (b,))
    threaded.push(lambda: None, (b,), (), FakeGPU())  # device change flushes
    threaded.wait_for_var(b)
    assert threaded.set_bulk_size(prev) == 4
    expect = [0, 0]
    for i in range(10):
        expect[0] += i
        expect[1] = expect[1] * 3 + expect[0]
    assert vals == expect


def test_module_api():
    assert isinstance(mx_engine.new_var(), Var)
    assert mx_engine.is_naive() in (True, False)
    old = mx_engine.set_bulk_size(5)
    assert mx_engine.set_bulk_size(old) == 5
    out = []
    v = mx_engine.new_var()
    with mx_engine.bulk(3):
        assert mx_engine.get_engine().bulk_size == 3
        for i in range(7):
            mx_engine.push(lambda i=i: out.append(i), (), (v,))
    assert mx_engine.get_engine().bulk_size == old
    mx_engine.wait_for_var(v)
    assert out == list(range(7))


def test_shutdown_is_idempotent_and_later_pushes_still_run():
    e = Engine(cpu_workers=2)
    a = e.new_var()
    log = []
    e.push(lambda: (time.sleep(0.05), log.append(1)), (), (a,))
    e.shutdown()
    assert log == [1]
    e.shutdown()
    e.push(lambda: log.append(2), (), (a,))
    e.wait_for_var(a)
    assert log == [1, 2]


# ---------------------------------------------------------------- process exit and fork

EXIT_SCRIPT = """
import sys, time
import numpy as np
from mxcy import engine
from mxcy._engine import Engine
v, w = engine.new_var(), engine.new_var()
x = np.zeros(4)
def slow(i):
    time.sleep(0.1)
    x[:] += i
    print("ran", i, flush=True)
for i in range(3):
    engine.push(lambda i=i: slow(i), (), (v,))
engine.push(lambda: 1 / 0, (v,), (w,))
class G:
    device_type, device_id = "gpu", 0
extra = Engine(cpu_workers=2)  # never shut down by hand
extra.push(lambda: (time.sleep(0.1), print("extra", flush=True)), (), (extra.new_var(),), G())
if sys.argv[1] == "raise":
    raise RuntimeError("exiting by exception")
"""


@pytest.mark.parametrize("how, code", [("normal", 0), ("raise", 1)])
def test_interpreter_exit_with_pending_work(how, code):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-c", EXIT_SCRIPT, how], capture_output=True,
                          text=True, timeout=120, env=env, cwd=ROOT)
    assert proc.returncode == code, proc.stderr
    assert proc.stdout.count("ran") == 3 and "extra" in proc.stdout
    assert "Fatal" not in proc.stderr and "Segmentation" not in proc.stderr
    if how == "raise":
        assert "exiting by exception" in proc.stderr


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_engine_survives_fork(threaded):
    a = threaded.new_var()
    log = []
    threaded.push(lambda: (time.sleep(0.02), log.append("parent")), (), (a,))
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            threaded.push(lambda: log.append("child"), (a,), ())
            threaded.wait_all()
            code = 0 if log == ["parent", "child"] else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    threaded.push(lambda: log.append("after"), (), (a,))
    threaded.wait_for_var(a)
    assert log == ["parent", "after"]
