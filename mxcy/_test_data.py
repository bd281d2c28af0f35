"""The data-set helpers of mx.test_utils (download, get_mnist*, get_cifar10, get_*_data,
download_model, DummyIter), re-exported by mxcy.test_utils under MXNet's names.

mxcy never downloads: each helper uses files already in place (where MXNet would have downloaded
them) and otherwise raises an MXNetError naming the missing files and where to put them.
"""
import bz2
import gzip
import os
import struct
import zipfile

import numpy as np

from .base import MXNetError

_MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                "t10k-labels-idx1-ubyte")
_CIFAR_FILES = ("cifar/train.rec", "cifar/test.rec", "cifar/train.lst", "cifar/test.lst")


def _missing(what, paths, url=None):
    source = f" (MXNet downloads it from {url})" if url else ""
    return MXNetError(f"{what}: {', '.join(paths)} not found{source}; mxcy does not download data: place the "
                      "file(s) there")


def download(url, fname=None, dirname=None, overwrite=False, retries=5):
    """The local path MXNet would download `url` to (fname, default the URL's last part, in
    dirname); the file must already be there (the directory is created as MXNet does)."""
    assert retries >= 0, "Number of retries should be at least 0"
    fname = fname or url.split("/")[-1]
    if dirname is None:
        dirname = os.path.dirname(fname)
    else:
        fname = os.path.join(dirname, fname)
    if dirname:
        os.makedirs(dirname, exist_ok=True)
    if os.path.exists(fname) and not overwrite:
        return fname
    raise _missing("download", [fname], url)


def download_model(model_name, dst_dir="./", meta_info=None):
    """(dst_dir/model_name, 0) once dst_dir holds <model_name>-symbol.json and -0000.params;
    (None, 0) for a name not in `meta_info` when one is given."""
    if meta_info is not None and model_name not in dict(meta_info):
        return None, 0
    prefix = os.path.join(dst_dir, model_name)
    missing = [p for p in (prefix + "-symbol.json", prefix + "-0000.params") if not os.path.exists(p)]
    if missing:
        raise _missing("download_model", missing)
    return prefix, 0


def _read_idx(path):
    """The bytes of an idx file, or of its .gz."""
    for candidate in (path, path + ".gz"):
        if os.path.exists(candidate):
            opener = gzip.open if candidate.endswith(".gz") else open
            with opener(candidate, "rb") as f:
                return f.read()
    raise _missing("get_mnist", [path, path + ".gz"])


def get_mnist(path=None):
    """MNIST as {'train_data', 'train_label', 'test_data', 'test_label'}: images float32 in [0, 1]
    of shape (N, 1, 28, 28), labels int8, from the four idx files (optionally .gz) in `path`
    (default: the current directory, where MXNet downloads them, then ./data)."""
    folders = [path] if path is not None else [".", "data"]
    folder = next((d for d in folders if any(os.path.exists(os.path.join(d, n + ext))
                                              for n in _MNIST_FILES for ext in ("", ".gz"))), folders[0])

    def images(name):
        raw = _read_idx(os.path.join(folder, name))
        _, count, rows, cols = struct.unpack(">IIII", raw[:16])
        pixels = np.frombuffer(raw, np.uint8, offset=16).reshape(count, 1, rows, cols)
        return pixels.astype(np.float32) / 255

    def labels(name):
        raw = _read_idx(os.path.join(folder, name))
        return np.frombuffer(raw, np.int8, offset=8)

    return {"train_data": images(_MNIST_FILES[0]), "train_label": labels(_MNIST_FILES[1]),
            "test_data": images(_MNIST_FILES[2]), "test_label": labels(_MNIST_FILES[3])}


def get_mnist_pkl():
    """Checks that data/mnist.pkl.gz is in place."""
    if not os.path.exists("data/mnist.pkl.gz"):
        raise _missing("get_mnist_pkl", ["data/mnist.pkl.gz"])


def _extracted(what, files, archive):
    """Make sure data/<files> exist, extracting data/<archive> when they do not."""
    wanted = [os.path.join("data", f) for f in files]
    if all(os.path.exists(p) for p in wanted):
        return
    zip_path = os.path.join("data", archive)
    if not os.path.exists(zip_path):
        raise _missing(what, wanted + [zip_path])
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall("data")


def get_mnist_ubyte():
    """Makes sure the four MNIST idx files are in ./data (extracting data/mnist.zip if needed)."""
    _extracted("get_mnist_ubyte", _MNIST_FILES, "mnist.zip")


def get_cifar10():
    """Makes sure data/cifar/{train,test}.{rec,lst} exist (extracting data/cifar10.zip if needed)."""
    _extracted("get_cifar10", _CIFAR_FILES, "cifar10.zip")


def get_mnist_iterator(batch_size, input_shape, num_parts=1, part_index=0):
    """(train, validation) mx.io.MNISTIter over ./data's MNIST files."""
    get_mnist_ubyte()
    import mxcy
    if not hasattr(mxcy, "io") or not hasattr(mxcy.io, "MNISTIter"):
        raise MXNetError("get_mnist_iterator: mx.io.MNISTIter is not available in this mxcy yet")
    flat = len(input_shape) != 3
    common = dict(input_shape=input_shape, batch_size=batch_size, flat=flat, num_parts=num_parts,
                  part_index=part_index)
    train = mxcy.io.MNISTIter(image="data/train-images-idx3-ubyte", label="data/train-labels-idx1-ubyte",
                              shuffle=True, **common)
    val = mxcy.io.MNISTIter(image="data/t10k-images-idx3-ubyte", label="data/t10k-labels-idx1-ubyte", **common)
    return train, val


def get_zip_data(data_dir, url, data_origin_name):
    """Nothing to do once data_dir/data_origin_name exists (MXNet downloads and extracts it otherwise)."""
    origin = os.path.join(data_dir, data_origin_name)
    if not os.path.exists(origin):
        raise _missing("get_zip_data", [origin], url)


def get_bz2_data(data_dir, data_name, url, data_origin_name):
    """Make sure data_dir/data_name exists, decompressing data_dir/data_origin_name (a .bz2, removed
    afterwards as MXNet does) when it does not."""
    target = os.path.join(data_dir, data_name)
    if os.path.exists(target):
        return
    origin = os.path.join(data_dir, data_origin_name)
    if not os.path.exists(origin):
        raise _missing("get_bz2_data", [target, origin], url)
    with bz2.BZ2File(origin, "rb") as src, open(target, "wb") as dst:
        for chunk in iter(lambda: src.read(1 << 20), b""):
            dst.write(chunk)
    os.remove(origin)


def get_im2rec_path(home_env="MXNET_HOME"):
    """Path of MXNet's tools/im2rec.py under $home_env (or the package folder, or two folders up);
    IOError where there is none (mxcy ships no tools/)."""
    import mxcy
    root = os.environ.get(home_env, os.path.dirname(mxcy.__file__))
    for candidate in (os.path.join(root, "tools", "im2rec.py"), os.path.join(root, "..", "..", "tools", "im2rec.py")):
        if os.path.isfile(candidate):
            return candidate
    raise IOError("Could not find path to tools/im2rec.py")


try:
    from .io import DataIter as _DataIter
except ImportError:  # mx.io is not in mxcy yet: DummyIter is then an iterator of its own
    class _DataIter:
        """The iterator protocol of mx.io.DataIter that DummyIter needs (next() <-> __next__)."""
        def __init__(self, batch_size=0):
            self.batch_size = batch_size

        def __iter__(self):
            return self

        def __next__(self):
            return self.next()


class DummyIter(_DataIter):
    """An endless iterator returning the first batch of `real_iter` again and again (for speed tests)."""
    def __init__(self, real_iter):
        super().__init__()
        self.real_iter = real_iter
        self.provide_data = real_iter.provide_data
        self.provide_label = real_iter.provide_label
        self.batch_size = real_iter.batch_size
        self.the_batch = next(real_iter)

    def __iter__(self):
        return self

    def next(self):
        """The first batch of the real iterator (never StopIteration)."""
        return self.the_batch
