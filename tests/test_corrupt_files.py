"""Corrupt files get a clear error: every loader, given real MXNet-written files that hypothesis truncates,
flips bits in and splices garbage into, either loads them or raises MXNetError (naming the file when it
was given a path) within a time bound, never another exception, a crash or a hang. Loads run in a
worker process (tests/corrupt_file_worker.py), so a crash or hang fails the test instead of pytest.

A new loader (checkpoints, RecordIO, idx files, ...) is one row of LOADERS."""
import glob
import json
import os
import select
import subprocess
import sys
import threading
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

HERE = os.path.dirname(os.path.abspath(__file__))
# A load this slow is taken as a hang (normal loads of these small files take milliseconds).
TIME_BOUND_S = 30


@dataclass(frozen=True)
class Loader:
    name: str          # as users call it
    call: str          # "module:function" the worker calls
    passes: str        # what it is given: the file's "path", its "bytes", or its "text" (bytes as Latin-1)
    fixtures: tuple    # MXNet-written files it reads


NDARRAY_FILES = tuple(sorted(glob.glob(os.path.join(HERE, "ndarray", "fixtures", "*.params"))))
SYMBOL_FILES = tuple(sorted(glob.glob(os.path.join(HERE, "symbol", "fixtures", "*-symbol.json"))))

LOADERS = [
    Loader("mx.nd.load", "mxcy.ndarray:load", "path", NDARRAY_FILES),
    Loader("mx.nd.load_frombuffer", "mxcy.ndarray:load_frombuffer", "bytes", NDARRAY_FILES),
    Loader("mx.sym.load", "mxcy.symbol:load", "path", SYMBOL_FILES),
    Loader("mx.sym.load_json", "mxcy.symbol:load_json", "text", SYMBOL_FILES),
]


class Worker:
    """The loading process; restarted after a crash or a hang."""

    def __init__(self, time_bound_s=TIME_BOUND_S):
        self.proc = None
        self.time_bound_s = time_bound_s

    def load(self, loader, path):
        """The worker's reply, or {"outcome": "crash" | "hang", ...} when it gave none."""
        if self.proc is None or self.proc.poll() is not None:
            self.proc = subprocess.Popen([sys.executable, os.path.join(HERE, "corrupt_file_worker.py")],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        request = {"call": loader.call, "pass": loader.passes, "path": path}
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], self.time_bound_s)
        line = self.proc.stdout.readline() if ready else None
        if line:
            return json.loads(line)
        self.close()
        return {"outcome": "hang" if line is None else "crash", "message": f"exit status {self.proc.returncode}"}

    def close(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
        if self.proc is not None:
            self.proc.wait()


@pytest.fixture(scope="module")
def worker():
    w = Worker()
    yield w
    w.close()


def _corrupt(data, edits):
    """`data` after each edit in turn; positions are taken modulo the current length."""
    for kind, pos, arg in edits:
        pos %= len(data) + 1
        if kind == "truncate":
            data = data[:pos]
        elif kind == "flip" and pos < len(data):
            data = data[:pos] + bytes([data[pos] ^ (1 << arg)]) + data[pos + 1:]
        elif kind == "splice":
            cut, garbage = arg
            data = data[:pos] + garbage + data[pos + cut:]
    return data


positions = st.integers(0, 2 ** 20)
edits = st.lists(st.one_of(
    st.tuples(st.just("truncate"), positions, st.none()),
    st.tuples(st.just("flip"), positions, st.integers(0, 7)),
    st.tuples(st.just("splice"), positions, st.tuples(st.integers(0, 16), st.binary(min_size=1, max_size=24))),
), min_size=1, max_size=4)


def _check(loader, path, reply):
    assert reply["outcome"] in ("ok", "MXNetError"), \
        f"{loader.name}({os.path.basename(path)}): {reply['outcome']}: {reply['message']}\n{reply.get('traceback', '')}"
    if reply["outcome"] == "MXNetError" and loader.passes == "path":
        assert path in reply["message"], f"{loader.name}: the error does not name the file: {reply['message']}"


@pytest.mark.parametrize("loader", LOADERS, ids=[ld.name for ld in LOADERS])
def test_uncorrupted_fixtures_load(worker, loader):
    assert loader.fixtures
    for path in loader.fixtures:
        assert worker.load(loader, path) == {"outcome": "ok"}, path


@pytest.mark.parametrize("loader", LOADERS, ids=[ld.name for ld in LOADERS])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), edit_list=edits)
def test_corrupted_fixtures_load_or_raise_mxnet_error(worker, tmp_path, loader, data, edit_list):
    source = data.draw(st.sampled_from(loader.fixtures))
    with open(source, "rb") as f:
        corrupted = _corrupt(f.read(), edit_list)
    path = str(tmp_path / os.path.basename(source))
    with open(path, "wb") as f:
        f.write(corrupted)
    _check(loader, path, worker.load(loader, path))


def test_a_hang_or_crash_is_reported_not_waited_for(tmp_path):
    fifo = str(tmp_path / "fifo")
    os.mkfifo(fifo)  # opening it for reading blocks until a writer comes: none will
    w = Worker(time_bound_s=2)
    try:
        assert w.load(LOADERS[0], fifo)["outcome"] == "hang"
        assert w.load(LOADERS[0], NDARRAY_FILES[0]) == {"outcome": "ok"}  # a fresh worker took over
        w.time_bound_s = 60
        threading.Timer(1.0, w.proc.kill).start()  # the worker dies while stuck on the fifo
        assert w.load(LOADERS[0], fifo)["outcome"] == "crash"
    finally:
        w.close()


@pytest.mark.parametrize("loader", [ld for ld in LOADERS if ld.passes == "path"], ids=lambda ld: ld.name)
def test_missing_and_non_utf8_files_name_the_file(worker, tmp_path, loader):
    missing = str(tmp_path / "missing")
    reply = worker.load(loader, missing)
    assert reply["outcome"] == "MXNetError" and missing in reply["message"]
    with open(loader.fixtures[0], "rb") as f:
        data = f.read()
    path = str(tmp_path / "bad")
    with open(path, "wb") as f:
        f.write(data[:20] + b"\xff\xfe" + data[20:])
    reply = worker.load(loader, path)
    assert reply["outcome"] == "MXNetError" and path in reply["message"], reply
