"""DataLoader workers: batches built in worker processes (or threads), handed back in order.

Processes start through multiprocessing's 'forkserver' method with mxcy preloaded in the server:
each worker is a cheap fork of a process that never ran a Numba OpenMP kernel (GNU OpenMP is not
fork-safe, see mxcy/kernels/__init__.py). Batch k goes to worker k % num_workers; a worker's
tasks come through its own queue and its results go back on its own pipe, so the main process can
wait on one worker's pipe and its process sentinel at once: a worker that dies is reported at
once, a silent one after `timeout` seconds, never a hang. Arrays come back through shared memory
(_shm); a segment the main process has finished with goes back to its worker with the next task, to
carry a later batch. Workers are daemon processes, stopped when their pool is collected or at exit. Each runs on
one thread: its ops at push time and its kernels' serial builds.
"""
import collections
import concurrent.futures
import itertools
import multiprocessing
import multiprocessing.connection
import pickle
import queue
import signal
import traceback
import weakref

from ... import engine
from ...base import MXNetError
from ...kernels import common
from . import _shm

_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(["mxcy"])
# How often an idle worker checks that its parent is still alive.
_PARENT_CHECK_S = 1.0


class BatchError(Exception):
    """A failure while building one batch, with where it happened and the original traceback."""

    def __init__(self, where, error, trace):
        super().__init__(where)
        self.where, self.error, self.trace = where, error, trace

    def __reduce__(self):
        return BatchError, (self.where, self.error, self.trace)


def build_batch(dataset, batchify_fn, indices):
    """`batchify_fn([dataset[i] for i in indices])`; a failure becomes a BatchError naming the
    sample index (or the batchify step)."""
    samples = []
    where = None
    try:
        for idx in indices:
            where = f"loading sample {idx}"
            samples.append(dataset[idx])
        where = f"batchifying samples {list(indices)}"
        return batchify_fn(samples)
    except Exception as err:
        raise BatchError(where, err, traceback.format_exc()) from err


def raise_batch_error(batch_error, worker):
    """Raise a worker's BatchError in the caller: the original type where it can carry the message
    (an MXNetError otherwise), with the worker's traceback in the message."""
    err = batch_error.error
    message = (f"DataLoader {worker} failed while {batch_error.where}: {type(err).__name__}: {err}\n"
               f"Worker traceback:\n{batch_error.trace}")
    try:
        new = type(err)(message) if err is not None else None
    except Exception:
        new = None
    if not isinstance(new, Exception):
        new = MXNetError(message)
    raise new from err


def _worker_main(dataset, batchify_fn, tasks, results):
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
    # The workers share the cores: each runs on one thread, its ops at push time (no engine threads) and its kernels'
    # serial builds (no Numba thread pool), as PyTorch's workers run one thread each.
    engine.get_engine().shutdown()
    common.serial_only()
    try:
        _serve(dataset, batchify_fn, tasks, results)
    finally:
        _shm.release_all()


def _serve(dataset, batchify_fn, tasks, results):
    # the process that started this worker (its OS parent is the fork server, so getppid() cannot tell)
    parent = multiprocessing.parent_process()
    while True:
        try:
            task = tasks.get(timeout=_PARENT_CHECK_S)
        except queue.Empty:
            if parent is not None and not parent.is_alive():
                return
            continue
        if task is None:
            return
        key, indices, returned = task
        _shm.recycle(returned)
        try:
            reply = (key, True, _shm.dumps(build_batch(dataset, batchify_fn, indices)))
        except BatchError as err:
            try:
                error = pickle.loads(pickle.dumps(err.error))
            except Exception:
                error = None
            reply = (key, False, BatchError(err.where, error, err.trace))
        except Exception as err:  # the batch itself could not be pickled
            reply = (key, False, BatchError("sending the batch to the main process", None,
                                            traceback.format_exc()))
            del err
        _shm.discard_unsent()
        try:
            results.send(reply)
        except (BrokenPipeError, EOFError):
            return


class _Returns:
    """Segments of one worker that the main process has finished with, sent back with its next task;
    once the pool is closed they are unlinked instead."""

    def __init__(self):
        self.names = collections.deque()
        self.closed = False

    def give_back(self, name):  # may run in any thread, whenever a batch is collected
        if self.closed:
            _shm.unlink(name)
        else:
            self.names.append(name)

    def take(self):
        names = []
        while self.names:
            names.append(self.names.popleft())
        return names

    def close(self):
        self.closed = True
        for name in self.take():
            _shm.unlink(name)


class ProcessPool:
    """`num_workers` processes building batches of `dataset`; batches are keyed by the caller."""

    def __init__(self, num_workers, dataset, batchify_fn):
        self._num_workers = num_workers
        self._ready = {}       # key -> (ok, payload, its worker's _Returns) received but not yet asked for
        self._owner = {}       # key -> worker index
        self._forgotten = set()
        self._next_worker = itertools.cycle(range(num_workers))
        self._workers = []
        try:
            for _ in range(num_workers):
                self._workers.append(self._start(dataset, batchify_fn))
        except (pickle.PicklingError, AttributeError, TypeError) as err:
            _shutdown(self._workers)
            raise MXNetError(
                "DataLoader with num_workers > 0 sends the dataset and batchify_fn to worker "
                f"processes by pickle, which failed: {err}. Use module-level functions instead of "
                "lambdas/closures, or thread_pool=True.") from err
        self._finalizer = weakref.finalize(self, _shutdown, self._workers)

    @staticmethod
    def _start(dataset, batchify_fn):
        tasks = _CONTEXT.Queue()
        reader, writer = _CONTEXT.Pipe(duplex=False)
        proc = _CONTEXT.Process(target=_worker_main, daemon=True, name="mxcy-DataLoader-worker",
                                args=(dataset, batchify_fn, tasks, writer))
        proc.start()
        writer.close()
        return proc, tasks, reader, _Returns()

    def submit(self, key, indices):
        worker = next(self._next_worker)
        self._owner[key] = worker
        _, tasks, _, returns = self._workers[worker]
        tasks.put((key, list(indices), returns.take()))

    def get(self, key, timeout):
        """The batch for `key`, waiting at most `timeout` seconds for its worker."""
        worker = self._owner.pop(key)
        proc, _, reader, returns = self._workers[worker]
        name = f"worker {worker} (pid {proc.pid})"
        while key not in self._ready:
            ready = multiprocessing.connection.wait([reader, proc.sentinel], timeout)
            if reader in ready:
                try:
                    self._receive(reader, returns)
                    continue
                except EOFError:
                    pass
            elif not ready:
                self.close()
                raise MXNetError(f"DataLoader {name} produced no batch within timeout={timeout}s "
                                 "(a slow dataset/transform: raise timeout)")
            proc.join(1)
            self.close()
            raise MXNetError(f"DataLoader {name} exited unexpectedly with exit code "
                             f"{proc.exitcode} (killed, or crashed in native code)")
        ok, payload, _ = self._ready.pop(key)
        if not ok:
            self.close()
            raise_batch_error(payload, name)
        return _shm.loads(payload, returns.give_back)

    def _receive(self, reader, returns):
        key, ok, payload = reader.recv()
        if key[0] in self._forgotten:
            if ok:
                _shm.loads(payload, returns.give_back)  # the arrays are dropped: back to the worker
        else:
            self._ready[key] = (ok, payload, returns)

    def forget(self, iteration):
        """Drop the results of an abandoned iteration (keys `(iteration, k)`) as they arrive."""
        self._forgotten.add(iteration)
        for key in [k for k in self._ready if k[0] == iteration]:
            ok, payload, returns = self._ready.pop(key)
            if ok:
                _shm.loads(payload, returns.give_back)

    @property
    def alive(self):
        return self._finalizer.alive

    def close(self):
        """Stop the workers (also done when the pool is collected, and at exit)."""
        self._finalizer()


def _shutdown(workers):
    for _, tasks, _, _ in workers:
        try:
            tasks.put(None)
        except (OSError, ValueError):
            pass
    for proc, tasks, reader, returns in workers:
        proc.join(timeout=1.0)
        if proc.is_alive():
            proc.kill()
            proc.join(timeout=1.0)
        # A worker that stopped unlinked its segments; a killed one left them: unlink those we know of.
        returns.close()
        try:
            while reader.poll():  # results nobody asked for
                _, ok, payload = reader.recv()
                if ok:
                    _shm.loads(payload)
        except (EOFError, OSError):  # FileNotFoundError: the worker unlinked it on its way out
            pass
        reader.close()
        tasks.cancel_join_thread()
        tasks.close()
    workers.clear()


class ThreadPool:
    """The ProcessPool interface on threads of this process (no pickling, no shared memory)."""

    def __init__(self, num_workers, dataset, batchify_fn):
        self._dataset, self._batchify_fn = dataset, batchify_fn
        self._executor = concurrent.futures.ThreadPoolExecutor(num_workers,
                                                               thread_name_prefix="mxcy-DataLoader")
        self._futures = {}
        weakref.finalize(self, self._executor.shutdown, wait=False, cancel_futures=True)

    alive = True

    def submit(self, key, indices):
        self._futures[key] = self._executor.submit(build_batch, self._dataset, self._batchify_fn,
                                                   list(indices))

    def get(self, key, timeout):
        try:
            return self._futures.pop(key).result(timeout)
        except concurrent.futures.TimeoutError:
            raise MXNetError(f"DataLoader worker thread produced no batch within timeout={timeout}s "
                             "(a slow dataset/transform: raise timeout)") from None
        except BatchError as err:
            raise_batch_error(err, "worker thread")

    def forget(self, iteration):
        for key in [k for k in self._futures if k[0] == iteration]:
            self._futures.pop(key).cancel()
