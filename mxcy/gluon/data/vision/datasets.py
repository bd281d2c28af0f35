"""Vision datasets read from local files in their standard formats: MNIST/FashionMNIST (idx-ubyte,
gzipped or not), CIFAR-10/100 (binary batches), image RecordIO files, image folders and lists.

Nothing is downloaded (mxcy runs offline): a missing file is an MXNetError naming the files
expected and the folder to put them in. The files' sizes and headers are checked instead of
MXNet's sha1 sums, so smaller files in the same format (tests) load too.
"""
import os
import tarfile
import warnings

import numpy as np

from .... import _imagecodec, base, ndarray as nd, recordio
from ....base import MXNetError
from ...utils import check_sha1, download  # noqa: F401 - MXNet's module hands these out
from ....io.idx import read_mnist
from .. import dataset

__all__ = ["MNIST", "FashionMNIST", "CIFAR10", "CIFAR100", "ImageRecordDataset",
           "ImageFolderDataset", "ImageListDataset"]


def _imdecode(buf, flag, what):
    """Encoded image bytes -> HWC uint8 NDArray, RGB for flag 1 and (H, W, 1) for flag 0, as
    mx.image.imdecode gives."""
    img = _imagecodec.decode(buf, flag, to_rgb=True, what=what)
    if img.ndim == 2:
        img = img[:, :, None]
    return nd.array(img, dtype=np.uint8)


def _imread(path, flag):
    with open(path, "rb") as f:
        return _imdecode(f.read(), flag, path)


def _missing(dataset_name, root, names, source):
    return MXNetError(f"{dataset_name}: file(s) {', '.join(names)} not found in {root}. mxcy does not "
                      f"download datasets; put the files from {source} there (or pass root=).")


class _LocalDataset(dataset.Dataset):
    """Samples `(data[i], label[i])`, passed through `transform(data, label)` when given."""

    def __init__(self, root, transform):
        self._root = os.path.expanduser(root)
        self._transform = transform
        self._data, self._label = self._get_data()

    def __getitem__(self, idx):
        if self._transform is not None:
            return self._transform(self._data[idx], self._label[idx])
        return self._data[idx], self._label[idx]

    def __len__(self):
        return len(self._label)


class MNIST(_LocalDataset):
    """MNIST handwritten digits: samples are ((28, 28, 1) uint8 NDArray, int32 label), read from
    `root`/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]."""

    _source = "http://yann.lecun.com/exdb/mnist/"

    def __init__(self, root=os.path.join(base.data_dir(), "datasets", "mnist"), train=True,
                 transform=None):
        self._train = train
        super().__init__(root, transform)

    def _find(self, stem):
        for name in (stem + ".gz", stem):
            path = os.path.join(self._root, name)
            if os.path.exists(path):
                return path
        return None

    def _get_data(self):
        prefix = "train" if self._train else "t10k"
        stems = (f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte")
        paths = [self._find(stem) for stem in stems]
        if None in paths:
            raise _missing(type(self).__name__, self._root, [s + ".gz" for s in stems], self._source)
        images, labels = read_mnist(paths[0], paths[1], type(self).__name__)
        return nd.array(images[..., None], dtype=np.uint8), labels.astype(np.int32)


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST, in MNIST's files and format."""

    _source = "https://github.com/zalandoresearch/fashion-mnist"

    def __init__(self, root=os.path.join(base.data_dir(), "datasets", "fashion-mnist"), train=True,
                 transform=None):
        super().__init__(root, train, transform)


class CIFAR10(_LocalDataset):
    """CIFAR-10: samples are ((32, 32, 3) uint8 NDArray, int32 label), read from the binary
    batches data_batch_1..5.bin / test_batch.bin in `root` (or in the folder of the official
    archive, or extracted from cifar-10-binary.tar.gz found in `root`)."""

    _archive = "cifar-10-binary.tar.gz"
    _folder = "cifar-10-batches-bin"
    _train_files = [f"data_batch_{i}.bin" for i in range(1, 6)]
    _test_files = ["test_batch.bin"]
    _label_bytes = 1

    def __init__(self, root=os.path.join(base.data_dir(), "datasets", "cifar10"), train=True,
                 transform=None):
        self._train = train
        super().__init__(root, transform)

    def _label_column(self):
        return 0

    def _locate(self, names):
        for folder in (self._root, os.path.join(self._root, self._folder)):
            if all(os.path.exists(os.path.join(folder, n)) for n in names):
                return folder
        return None

    def _get_data(self):
        names = self._train_files if self._train else self._test_files
        folder = self._locate(names)
        archive = os.path.join(self._root, self._archive)
        if folder is None and os.path.exists(archive):
            with tarfile.open(archive) as tar:
                tar.extractall(self._root, filter="data")
            folder = self._locate(names)
        if folder is None:
            raise _missing(type(self).__name__, self._root, names + [f"(or {self._archive})"],
                           "https://www.cs.toronto.edu/~kriz/cifar.html")
        data, label = zip(*(self._read_batch(os.path.join(folder, n)) for n in names))
        data = np.concatenate(data)
        return nd.array(data, dtype=np.uint8), np.concatenate(label)

    def _read_batch(self, path):
        row = 3072 + self._label_bytes
        with open(path, "rb") as fin:
            raw = fin.read()
        if len(raw) % row:
            raise MXNetError(f"{path}: {len(raw)} bytes is not a whole number of {row}-byte CIFAR records")
        rows = np.frombuffer(raw, dtype=np.uint8).reshape(-1, row)
        images = rows[:, self._label_bytes:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        return images, rows[:, self._label_column()].astype(np.int32)


class CIFAR100(CIFAR10):
    """CIFAR-100 from train.bin / test.bin: the coarse (20-class) label, or the fine (100-class)
    one with `fine_label=True`."""

    _archive = "cifar-100-binary.tar.gz"
    _folder = "cifar-100-binary"
    _train_files = ["train.bin"]
    _test_files = ["test.bin"]
    _label_bytes = 2

    def __init__(self, root=os.path.join(base.data_dir(), "datasets", "cifar100"), fine_label=False,
                 train=True, transform=None):
        self._fine_label = fine_label
        super().__init__(root, train, transform)

    def _label_column(self):
        return 1 if self._fine_label else 0


class ImageRecordDataset(dataset.RecordFileDataset):
    """Images packed in a RecordIO file (mx.recordio.pack / im2rec): samples are (HWC uint8 RGB
    NDArray, the header's label); `flag` 0 decodes to grayscale (H, W, 1)."""

    def __init__(self, filename, flag=1, transform=None):
        super().__init__(filename)
        self._flag = flag
        self._transform = transform

    def __getitem__(self, idx):
        header, img = recordio.unpack(super().__getitem__(idx))
        img = _imdecode(img, self._flag, f"record {idx} of {self.filename}")
        if self._transform is not None:
            return self._transform(img, header.label)
        return img, header.label


class _ImageFilesDataset(dataset.Dataset):
    """Samples are (decoded image file, label) from `self.items`, a list of (path, label)."""

    def __getitem__(self, idx):
        path, label = self.items[idx]
        img = _imread(path, self._flag)
        if self._transform is not None:
            return self._transform(img, label)
        return img, label

    def __len__(self):
        return len(self.items)


class ImageFolderDataset(_ImageFilesDataset):
    """Images in `root/<class name>/<file>.jpg|.jpeg|.png`: the label is the index of the class
    folder in sorted order; `synsets` lists the class names, `items` the (path, label) pairs."""

    _exts = (".jpg", ".jpeg", ".png")

    def __init__(self, root, flag=1, transform=None):
        self._root = os.path.expanduser(root)
        self._flag = flag
        self._transform = transform
        self.synsets = []
        self.items = []
        for folder in sorted(os.listdir(self._root)):
            path = os.path.join(self._root, folder)
            if not os.path.isdir(path):
                warnings.warn(f"Ignoring {path}, which is not a directory.", stacklevel=2)
                continue
            label = len(self.synsets)
            self.synsets.append(folder)
            for filename in sorted(os.listdir(path)):
                filename = os.path.join(path, filename)
                ext = os.path.splitext(filename)[1]
                if ext.lower() not in self._exts:
                    warnings.warn(f"Ignoring {filename} of type {ext}. Only support "
                                  f"{', '.join(self._exts)}")
                    continue
                self.items.append((filename, label))


class ImageListDataset(_ImageFilesDataset):
    """Images listed in a .lst file (`index<TAB>label[<TAB>label...]<TAB>path`, as im2rec writes)
    or in a Python list of `[label(s)..., path]` entries; paths are relative to `root`. One label
    is a float, several a float32 NumPy array (MXNet 2's ImageListDataset)."""

    def __init__(self, root=".", imglist=None, flag=1, transform=None):
        self._root = os.path.expanduser(root)
        self._flag = flag
        self._transform = transform
        self.items = []
        if isinstance(imglist, str):
            with open(os.path.join(self._root, imglist) if not os.path.isabs(imglist)
                      and not os.path.exists(imglist) else imglist) as fin:
                rows = []
                for number, line in enumerate(fin, 1):
                    fields = line.strip().split("\t")
                    if len(fields) < 3:
                        raise MXNetError(f"{imglist}, line {number}: expected "
                                         f"'index<TAB>label<TAB>path', got {line.strip()!r}")
                    rows.append(fields[1:])
        elif imglist is None:
            raise MXNetError("ImageListDataset: imglist (a .lst file or a list) is required")
        else:
            rows = [list(entry) for entry in imglist]
        for fields in rows:
            labels = np.array([float(x) for x in fields[:-1]], dtype=np.float32)
            label = float(labels[0]) if labels.size == 1 else labels
            self.items.append((os.path.join(self._root, fields[-1]), label))
