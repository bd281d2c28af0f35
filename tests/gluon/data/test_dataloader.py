"""DataLoader: batchify rules, worker processes/threads give num_workers=0's batches in order,
errors, timeouts and dead workers end promptly, workers and shared memory are cleaned up."""
import gc
import os
import signal
import threading
import time

import numpy as np
import pytest

import mxcy as mx
from mxcy import gluon
from mxcy.base import MXNetError
from mxcy.gluon.data import DataLoader, default_batchify_fn, default_mp_batchify_fn

data = gluon.data


class _Samples(data.Dataset):
    """Sample i: (NDArray filled with i, a NumPy row, a float, a nested tuple)."""

    def __len__(self):
        return 11

    def __getitem__(self, i):
        return (mx.nd.full((2, 300), i), np.arange(3, dtype=np.int64) + i, i * 0.5,
                (np.float32(i), np.full((600,), i, np.float16)))


class _Failing(data.Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == 5:
            raise ValueError("sample five is bad")
        return np.float32(i)


class _Sleeping(data.Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        time.sleep(2)  # a thread cannot be stopped: keep it short so the test run ends soon after
        return i


class _Dying(data.Dataset):
    def __len__(self):
        return 6

    def __getitem__(self, i):
        if i == 3:
            os.kill(os.getpid(), signal.SIGKILL)
        return i


class _Pid(data.Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        return os.getpid()


class _ThreadProbe(data.Dataset):
    """Runs an op large enough for a threaded kernel, then reports the process's OS threads and kernel setting."""
    def __len__(self):
        return 4

    def __getitem__(self, i):
        (mx.nd.ones((600, 600)) * 2).asnumpy()
        from mxcy.kernels import common
        return np.array([len(os.listdir("/proc/self/task")), common.PARALLEL_MIN_ELEMENTS >= 1 << 62], np.int64)


def _flatten(batch):
    if isinstance(batch, (list, tuple)):
        return [x for b in batch for x in _flatten(b)]
    return [batch.asnumpy() if isinstance(batch, mx.nd.NDArray) else np.asarray(batch)]


def _epoch(loader):
    return [_flatten(b) for b in loader]


def _assert_same(expected, got):
    assert len(expected) == len(got)
    for e_batch, g_batch in zip(expected, got):
        assert len(e_batch) == len(g_batch)
        for e, g in zip(e_batch, g_batch):
            assert e.dtype == g.dtype
            np.testing.assert_array_equal(e, g)


def test_default_batchify_fn_stacks_as_mxnet():
    batch = default_batchify_fn([(mx.nd.ones((2,)) * i, i, (np.int32(i), [i, i])) for i in range(3)])
    assert isinstance(batch, list) and len(batch) == 3
    np.testing.assert_array_equal(batch[0].asnumpy(), [[0, 0], [1, 1], [2, 2]])
    assert batch[1].dtype == np.int64 and batch[1].asnumpy().tolist() == [0, 1, 2]
    assert batch[2][0].dtype == np.int32
    np.testing.assert_array_equal(batch[2][1].asnumpy(), [[0, 0], [1, 1], [2, 2]])
    floats = default_batchify_fn([0.5, 1.5])
    assert floats.dtype == np.float64 and floats.context == mx.cpu()
    shared = default_mp_batchify_fn([np.zeros(3, np.uint8), np.ones(3, np.uint8)])
    assert shared.dtype == np.uint8 and shared.context == mx.Context("cpu_shared", 0)


@pytest.mark.parametrize("last_batch", ["keep", "discard", "rollover"])
def test_two_workers_give_the_batches_of_zero_workers(last_batch):
    reference = DataLoader(_Samples(), 3, last_batch=last_batch)
    expected = [_epoch(reference) for _ in range(2)]  # rollover carries over between epochs
    loader = DataLoader(_Samples(), 3, last_batch=last_batch, num_workers=2)
    got = [_epoch(loader) for _ in range(2)]
    for e, g in zip(expected, got):
        _assert_same(e, g)
    assert len(loader) == len(got[1])


def test_shuffled_workers_and_threads_follow_the_sampler():
    np.random.seed(7)
    expected = _epoch(DataLoader(_Samples(), 4, shuffle=True))
    np.random.seed(7)
    _assert_same(expected, _epoch(DataLoader(_Samples(), 4, shuffle=True, num_workers=2, prefetch=0)))
    np.random.seed(7)
    _assert_same(expected, _epoch(DataLoader(_Samples(), 4, shuffle=True, num_workers=2,
                                             thread_pool=True)))


def _worker_segments(pid):
    return {n for n in os.listdir("/dev/shm") if n.startswith(f"mxcy_{pid}_")}


def test_workers_reuse_segments_the_main_process_dropped():
    """Dropped batches' segments carry later batches; a batch still held keeps its values."""
    loader = DataLoader(mx.nd.arange(24 * 300).reshape((24, 300)), 2, num_workers=1, prefetch=1)
    it = enumerate(loader)
    held, seen = [], set()
    for k, batch in it:
        worker = loader._pool._workers[0][0].pid
        if k % 4 == 0:
            held.append((k, batch))
        del batch
        gc.collect()
        seen |= _worker_segments(worker)
    # 12 batches of 2400 bytes: 3 held, the others take turns in a few segments
    assert 3 < len(seen) <= 3 + 3
    for k, batch in held:
        np.testing.assert_array_equal(batch.asnumpy(), np.arange(600 * k, 600 * (k + 1)).reshape(2, 300))
    del loader, it
    gc.collect()
    deadline = time.monotonic() + 10
    while _worker_segments(worker):  # a stopping worker unlinks its segments; held views stay valid
        assert time.monotonic() < deadline, "the worker's segments outlived it"
        time.sleep(0.05)
    np.testing.assert_array_equal(held[-1][1].asnumpy()[0], np.arange(600 * 8, 600 * 8 + 300))


_KEPT = []  # in a worker process: every batch _keeping_batchify made


def _keeping_batchify(samples):
    """default_mp_batchify_fn that keeps its batches and checks that they still hold their values."""
    for first, batch in _KEPT:
        if batch.asnumpy()[0, 0] != first:
            raise AssertionError("a batch the worker kept was overwritten")
    batch = default_mp_batchify_fn(samples)
    _KEPT.append((batch.asnumpy()[0, 0], batch))
    return batch


def test_segments_a_worker_still_holds_are_not_reused():
    loader = DataLoader(mx.nd.arange(24 * 300).reshape((24, 300)), 2, num_workers=1, prefetch=1,
                        batchify_fn=_keeping_batchify)
    firsts = [batch.asnumpy()[0, 0] for batch in loader]
    assert firsts == [600.0 * k for k in range(12)]


def test_batches_from_workers_are_cpu_shared_and_mix_with_cpu():
    x, *_ = next(iter(DataLoader(_Samples(), 2, num_workers=1)))
    assert x.context == mx.Context("cpu_shared", 0)
    np.testing.assert_array_equal((x + mx.nd.ones((2, 2, 300))).asnumpy()[1], np.full((2, 300), 2.0))
    assert not [n for n in os.listdir("/dev/shm") if n.startswith(f"mxcy_")
                and _segment_owner_alive(n)]


def _segment_owner_alive(name):
    return os.path.exists(f"/proc/{name.split('_')[1]}")


def test_pin_memory_and_argument_errors():
    ds = data.ArrayDataset(np.arange(6, dtype=np.float32))
    for x in DataLoader(ds, 4, pin_memory=True):
        assert x.context == mx.cpu_pinned(0)
    with pytest.raises(ValueError, match="batch_size must be specified"):
        DataLoader(ds)
    with pytest.raises(ValueError, match="must not be specified"):
        DataLoader(ds, 2, batch_sampler=data.BatchSampler(data.SequentialSampler(6), 2))
    with pytest.raises(ValueError, match="shuffle must not be specified"):
        DataLoader(ds, 2, shuffle=True, sampler=data.SequentialSampler(6))


@pytest.mark.parametrize("thread_pool", [False, True])
def test_worker_error_names_the_sample_and_carries_its_traceback(thread_pool):
    loader = DataLoader(_Failing(), 2, num_workers=2, thread_pool=thread_pool)
    with pytest.raises(ValueError, match="sample five is bad") as err:
        list(loader)
    message = str(err.value)
    assert "loading sample 5" in message and "in __getitem__" in message


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads through /proc")
def test_worker_processes_run_on_one_thread():
    # no engine worker threads (ops run at push time) and serial kernel builds (no Numba pool): 2 workers on 2 cores
    # then never wait behind their own threads (~6% more images/s in bench/data_pipeline.py)
    for batch in DataLoader(_ThreadProbe(), batch_size=2, num_workers=2):
        np.testing.assert_array_equal(batch.asnumpy(), [[1, 1], [1, 1]])
    assert len(os.listdir("/proc/self/task")) > 1  # this process keeps its engine's threads


@pytest.mark.parametrize("thread_pool", [False, True])
def test_slow_worker_times_out(thread_pool):
    loader = DataLoader(_Sleeping(), 2, num_workers=1, timeout=0.5, thread_pool=thread_pool)
    with pytest.raises(MXNetError, match=r"no batch within timeout=0.5s"):
        next(iter(loader))


def test_killed_worker_is_an_error_not_a_hang():
    loader = DataLoader(_Dying(), 1, num_workers=2, timeout=60)
    with pytest.raises(MXNetError, match="exited unexpectedly with exit code -9"):
        list(loader)


def test_unpicklable_dataset_is_a_clear_error():
    ds = data.SimpleDataset([1, 2, 3]).transform(lambda x: x)
    with pytest.raises(MXNetError, match="thread_pool=True"):
        next(iter(DataLoader(ds, 1, num_workers=1)))
    assert [b.asnumpy().tolist() for b in DataLoader(ds, 2, num_workers=1, thread_pool=True)] == \
        [[1, 2], [3]]


def test_record_file_dataset_in_workers(tmp_path):
    rec = str(tmp_path / "w.rec")
    writer = mx.recordio.MXIndexedRecordIO(str(tmp_path / "w.idx"), rec, "w")
    for i in range(5):
        writer.write_idx(i, mx.recordio.pack((0, float(i), i, 0), b"x" * i))
    writer.close()
    ds = data.RecordFileDataset(rec).transform(mx.recordio.unpack)
    labels = [y.asnumpy().tolist() for _, y in DataLoader(ds, 2, num_workers=2,
                                                          batchify_fn=_header_labels)]
    assert labels == [[0, 1], [2, 3], [4]]


def _header_labels(samples):
    return None, mx.nd.array([h.label for h, _ in samples])


def test_prefetch_bounds_work_ahead():
    seen = []
    lock = threading.Lock()

    class Recording(data.Dataset):
        def __len__(self):
            return 20

        def __getitem__(self, i):
            with lock:
                seen.append(i)
            return i

    it = iter(DataLoader(Recording(), 1, num_workers=2, thread_pool=True, prefetch=2))
    assert next(it).asscalar() == 0
    time.sleep(0.2)
    # prefetch batches submitted up front, one more at each next(): 3 in all so far
    assert sorted(seen) == [0, 1, 2]


def test_workers_stop_with_their_loader():
    loader = DataLoader(_Pid(), 1, num_workers=2)
    pids = {int(b.asscalar()) for b in loader}
    assert len(pids) == 2 and os.getpid() not in pids
    del loader
    gc.collect()
    deadline = time.monotonic() + 10
    while any(os.path.exists(f"/proc/{p}") and _running(p) for p in pids):
        assert time.monotonic() < deadline, "DataLoader workers outlived their loader"
        time.sleep(0.05)


def _running(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_iterator_keeps_workers_after_loader_is_dropped():
    it = iter(DataLoader(mx.nd.arange(5), batch_size=2, num_workers=1))
    gc.collect()
    assert next(it).asnumpy().tolist() == [[0], [1]]  # an NDArray's samples have shape (1,)
    assert [b.asnumpy().tolist() for b in it] == [[[2], [3]], [[4]]]


def test_auto_reload_prefetches_next_epoch():
    loader = DataLoader(data.ArrayDataset(np.arange(4)), 2, num_workers=1, auto_reload=True)
    for _ in range(2):
        assert [b.asnumpy().tolist() for b in loader] == [[0, 1], [2, 3]]


def test_idle_worker_waits_longer_than_its_parent_check():
    """A worker idle past its parent-liveness check keeps serving (its OS parent is the fork server)."""
    from mxcy.gluon.data import _workers
    it = iter(DataLoader(mx.nd.arange(3), batch_size=1, num_workers=1, prefetch=0))
    assert next(it).asnumpy().tolist() == [[0]]
    time.sleep(2.5 * _workers._PARENT_CHECK_S)
    assert [b.asnumpy().tolist() for b in it] == [[[1]], [[2]]]


_ORPHAN_SCRIPT = """
import os, sys
import mxcy as mx
from mxcy.gluon.data import DataLoader
loader = DataLoader(mx.gluon.data.SimpleDataset(list(range(8))), 1, num_workers=2, prefetch=0)
it = iter(loader)
next(it)
print(" ".join(str(p.pid) for p, *_ in loader._pool._workers), flush=True)
os._exit(0)  # no cleanup: the workers must notice on their own
"""


def test_workers_exit_when_their_process_dies():
    import subprocess
    import sys
    out = subprocess.run([sys.executable, "-c", _ORPHAN_SCRIPT], capture_output=True, text=True, timeout=120,
                         env=dict(os.environ, MXNET_ENGINE_TYPE="NaiveEngine"))
    pids = [int(p) for p in out.stdout.split()]
    assert len(pids) == 2, out.stderr
    deadline = time.monotonic() + 15
    while any(_running(p) for p in pids):
        assert time.monotonic() < deadline, "DataLoader workers outlived their process"
        time.sleep(0.1)
