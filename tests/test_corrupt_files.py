"""Corrupt files get a clear error: every loader, given real MXNet-written files that hypothesis truncates,
flips bits in and splices garbage into, either loads them or raises MXNetError (naming the file when it
was given a path) within a time bound, never another exception, a crash or a hang. Loads run in a
worker process (tests/corrupt_file_worker.py), so a crash or hang fails the test instead of pytest.

A new loader is one row of LOADERS; loads that take more than one call are in tests/corrupt_file_loaders.py. A
file is corrupted in a folder of its own holding intact copies of the files it belongs with (those in its fixture
folder whose names start alike: an .idx with its .rec, a checkpoint's -symbol.json with its .params)."""
import glob
import json
import os
import re
import select
import shutil
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
    fixtures: tuple    # MXNet-written files it reads (where MXNet writes the format; see each fixture's script)
    refused: tuple = ()  # files it must refuse with an MXNetError (MXNet's pickled optimizer states)


def _files(*parts):
    return tuple(sorted(glob.glob(os.path.join(HERE, *parts))))


# np_shape.params is MXNet's V3 format, which nd.load reads under NumPy shape semantics only (as MXNet 1.9.1)
NP_SHAPE_FILES = _files("ndarray", "fixtures", "np_shape.params")
NDARRAY_FILES = tuple(f for f in _files("ndarray", "fixtures", "*.params") if f not in NP_SHAPE_FILES)
SYMBOL_FILES = _files("symbol", "fixtures", "*-symbol.json")
RECORDIO_FILES = _files("fixtures", "recordio_mxnet.*")
IMAGE_RECORD_FILES = tuple(os.path.join(HERE, "io", "fixtures", "image_record_mxnet." + ext) for ext in ("idx", "rec"))
CORRUPT = os.path.join(HERE, "fixtures", "corrupt")
MNIST_PLAIN = _files("fixtures", "corrupt", "mnist", "t10k-*")
MNIST_GZIP = _files("fixtures", "corrupt", "mnist", "train-*.gz")
CHECKPOINT_FILES = _files("module", "fixtures", "mlp-*[ns]")
IMAGES = (os.path.join(CORRUPT, "image.png"), os.path.join(CORRUPT, "image.jpg"))
PACKED_RECORDS = (os.path.join(CORRUPT, "image_record.bin"), os.path.join(CORRUPT, "packed_labels.bin"))
MXCY_STATES, MXNET_STATES = (os.path.join(CORRUPT, f"trainer_{who}.states") for who in ("mxcy", "mxnet"))

LOADERS = [
    Loader("mx.nd.load", "mxcy.ndarray:load", "path", NDARRAY_FILES),
    Loader("mx.nd.load_frombuffer", "mxcy.ndarray:load_frombuffer", "bytes", NDARRAY_FILES),
    Loader("mx.nd.load under np_shape", "corrupt_file_loaders:nd_load_np_shape", "path", NP_SHAPE_FILES),
    Loader("mx.sym.load", "mxcy.symbol:load", "path", SYMBOL_FILES),
    Loader("mx.sym.load_json", "mxcy.symbol:load_json", "text", SYMBOL_FILES),
    Loader("mx.recordio.MXRecordIO.read", "corrupt_file_loaders:recordio", "path",
           tuple(p for p in RECORDIO_FILES + IMAGE_RECORD_FILES if p.endswith(".rec"))),
    Loader("mx.recordio.MXIndexedRecordIO.read_idx", "corrupt_file_loaders:indexed_recordio", "path",
           RECORDIO_FILES + IMAGE_RECORD_FILES),
    Loader("mx.recordio.unpack", "mxcy.recordio:unpack", "bytes", PACKED_RECORDS),
    Loader("mx.recordio.unpack_img", "mxcy.recordio:unpack_img", "bytes", PACKED_RECORDS[:1]),
    Loader("gluon.data.vision.MNIST", "corrupt_file_loaders:mnist_dataset", "path", MNIST_PLAIN + MNIST_GZIP),
    Loader("mx.io.MNISTIter", "corrupt_file_loaders:mnist_iter", "path", MNIST_PLAIN),
    Loader("gluon.data.vision.CIFAR10", "corrupt_file_loaders:cifar10", "path",
           _files("fixtures", "corrupt", "cifar", "test_batch.bin")),
    Loader("mx.model.load_checkpoint", "corrupt_file_loaders:checkpoint", "path", CHECKPOINT_FILES),
    Loader("gluon.Block.load_parameters", "corrupt_file_loaders:gluon_parameters", "path",
           _files("gluon", "fixtures", "mlp.params") + _files("gluon", "fixtures", "mlp-legacy.params")),
    Loader("gluon.Trainer.load_states", "corrupt_file_loaders:trainer_states", "path", (MXCY_STATES,),
           refused=(MXNET_STATES,)),
    Loader("mx.mod.Module.load_optimizer_states", "corrupt_file_loaders:module_states", "path", (MXCY_STATES,),
           refused=(MXNET_STATES,)),
    Loader("gluon.Block.load", "corrupt_file_loaders:block_load", "path", _files("fixtures", "corrupt", "mlp_block-*")),
    Loader("mx.optimizer.Updater.set_states", "corrupt_file_loaders:updater_states", "bytes", (MXCY_STATES,),
           refused=(MXNET_STATES,)),
    Loader("mx.image.imread", "mxcy.image:imread", "path", IMAGES),
    Loader("mx.image.imdecode", "mxcy.image:imdecode", "bytes", IMAGES),
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
            # Starting (importing mxcy) is not part of a load: its time does not count against the bound.
            assert json.loads(self.proc.stdout.readline()) == {"outcome": "ready"}
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


def _group(path):
    """The files `path` belongs with, by the start of its name: recordio_mxnet.idx -> recordio_mxnet.*,
    mlp-symbol.json -> mlp-*, t10k-images-idx3-ubyte -> t10k-*."""
    folder, start = os.path.dirname(path), re.split(r"[-.]", os.path.basename(path))[0]
    return [os.path.join(folder, n) for n in os.listdir(folder)
            if re.split(r"[-.]", n)[0] == start and os.path.isfile(os.path.join(folder, n))]


def _corrupted_copy(source, edit_list, folder):
    """The path of `source` corrupted by edit_list, in `folder` with intact copies of its group."""
    for path in _group(source):
        shutil.copy(path, folder)
    with open(source, "rb") as f:
        corrupted = _corrupt(f.read(), edit_list)
    path = os.path.join(folder, os.path.basename(source))
    with open(path, "wb") as f:
        f.write(corrupted)
    return path


@pytest.mark.parametrize("loader", LOADERS, ids=[ld.name for ld in LOADERS])
def test_uncorrupted_fixtures_load(worker, loader):
    assert loader.fixtures
    for path in loader.fixtures:
        assert worker.load(loader, path) == {"outcome": "ok"}, path
    for path in loader.refused:
        reply = worker.load(loader, path)
        assert reply["outcome"] == "MXNetError", (path, reply)
        _check(loader, path, reply)


@pytest.mark.parametrize("loader", LOADERS, ids=[ld.name for ld in LOADERS])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), edit_list=edits)
def test_corrupted_fixtures_load_or_raise_mxnet_error(worker, tmp_path_factory, loader, data, edit_list):
    source = data.draw(st.sampled_from(loader.fixtures + loader.refused))
    path = _corrupted_copy(source, edit_list, str(tmp_path_factory.mktemp("corrupt")))
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


@pytest.mark.parametrize("loader", [ld for ld in LOADERS if ld.passes == "path" and ld.call.startswith("mxcy.")],
                         ids=lambda ld: ld.name)
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
