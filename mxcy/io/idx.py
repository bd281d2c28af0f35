"""MNIST's idx-ubyte files (gzipped when the name ends in .gz), read once for mx.io.MNISTIter and gluon's
MNIST/FashionMNIST datasets."""
import gzip
import math
import zlib

import numpy as np

from ..base import MXNetError

__all__ = ["read_mnist"]

_MAGIC = {"image": 2051, "label": 2049}
_DIMS = {"image": 3, "label": 1}


def read_mnist(image_path, label_path, caller):
    """(images (count, rows, cols), labels (count,)) as uint8 arrays; a file that cannot be read, has another
    magic number or is shorter than its header says, or counts that differ, is an MXNetError naming `caller`
    and the file."""
    images, labels = _read(image_path, "image", caller), _read(label_path, "label", caller)
    if len(images) != len(labels):
        raise MXNetError(f"{caller}: {image_path} holds {len(images)} images but {label_path} holds "
                         f"{len(labels)} labels")
    return images, labels


def _read(path, kind, caller):
    opener = gzip.open if str(path).endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError, zlib.error) as err:
        raise MXNetError(f"{caller}: cannot read the {kind} file {path}: {err}") from None
    header = 4 * (1 + _DIMS[kind])
    if len(raw) < header:
        raise MXNetError(f"{caller}: {path} is truncated: {len(raw)} bytes, shorter than the idx header")
    magic, *shape = (int(v) for v in np.frombuffer(raw[:header], ">u4"))
    if magic != _MAGIC[kind]:
        raise MXNetError(f"{caller}: {path} is not an idx {kind} file: magic number {magic}, expected "
                         f"{_MAGIC[kind]}")
    size = math.prod(shape)  # Python ints: a corrupt header cannot overflow it
    if len(raw) - header < size:
        raise MXNetError(f"{caller}: {path} is truncated: the header promises {shape[0]} {kind}s ({size} bytes), "
                         f"the file holds {len(raw) - header}")
    return np.frombuffer(raw, np.uint8, size, header).reshape(shape)
