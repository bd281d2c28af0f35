"""mx.image.ImageIter: batches of augmented images read from a RecordIO file (.rec, optionally with its .idx)
or from image files named by a .lst file or a Python list, as MXNet 1.9.1's ImageIter.

Decoding (Pillow) and augmentation (the mx.image augmenters) run in the calling thread, image by image.
"""
import logging
import os
import random

import numpy as np

from .. import io
from .. import ndarray as nd
from .. import recordio
from ..base import numeric_types
from ..gluon._errors import AssertionMXNetError, ValueMXNetError
from .augmenter import CreateAugmenter
from .image import imdecode

_LABEL_DTYPES = ("int32", "float32", "int64", "float64")
_LAST_BATCH = ("pad", "discard", "roll_over")


def _read_lst(path, dtype):
    """A .lst file: `index<TAB>label...<TAB>relative path` per line -> ({index: (label NDArray, path)}, keys)."""
    images, keys = {}, []
    with open(path) as fin:
        for number, line in enumerate(fin, 1):
            fields = line.strip().split("\t")
            if fields == [""]:
                continue
            if len(fields) < 2:
                raise ValueMXNetError(f"ImageIter: line {number} of {path} needs an index, labels and a path "
                                      f"separated by tabs, got {line.strip()!r}")
            key = int(fields[0])
            images[key] = (nd.array(fields[1:-1], dtype=dtype), fields[-1])
            keys.append(key)
    return images, keys


def _from_list(imglist, dtype):
    """[label(s)..., path] items -> ({'1': (label NDArray, path), ...}, keys) with keys counting from 1."""
    images, keys = {}, []
    for number, item in enumerate(imglist, 1):
        if len(item) > 2:
            label = item[:-1]
        elif isinstance(item[0], numeric_types):
            label = [item[0]]
        else:
            label = item[0]
        images[str(number)] = (nd.array(label, dtype=dtype), item[-1])
        keys.append(str(number))
    return images, keys


def _label_row(label):
    """A label for one row of the label batch: a one-element label as a number (MXNet broadcasts a (1,) array
    into a scalar slot), else as given."""
    values = label.asnumpy() if isinstance(label, nd.NDArray) else np.asarray(label)
    return values.reshape(-1)[0].item() if values.size == 1 else values


class ImageIter(io.DataIter):
    """Batches (batch_size, C, H, W) of augmented images with labels (batch_size,) or (batch_size, label_width).

    Sources: `path_imgrec` (.rec; with `path_imgidx` for shuffling and partitions), `path_imglist` (.lst with
    `path_root`), or `imglist` ([label, path] items). `aug_list` replaces the augmenters CreateAugmenter builds
    from the remaining keyword arguments. `last_batch_handle` is 'pad' (fill from the start, `pad` says how
    many), 'discard' or 'roll_over' (the remainder opens the next epoch).
    """

    def __init__(self, batch_size, data_shape, label_width=1, path_imgrec=None, path_imglist=None,
                 path_root=None, path_imgidx=None, shuffle=False, part_index=0, num_parts=1, aug_list=None,
                 imglist=None, data_name="data", label_name="softmax_label", dtype="float32",
                 last_batch_handle="pad", **kwargs):
        super().__init__(batch_size)
        if not (path_imgrec or path_imglist or isinstance(imglist, list)):
            raise AssertionMXNetError(f"{type(self).__name__}: give path_imgrec, path_imglist or imglist")
        if dtype not in _LABEL_DTYPES:
            raise AssertionMXNetError(f"{type(self).__name__}: label dtype {dtype} not supported "
                                      f"(one of {', '.join(_LABEL_DTYPES)})")
        if last_batch_handle not in _LAST_BATCH:
            raise ValueMXNetError(f"{type(self).__name__}: last_batch_handle must be one of "
                                  f"{', '.join(_LAST_BATCH)}, got {last_batch_handle!r}")
        self.imgrec, self.imgidx = None, None
        if path_imgrec:
            logging.info("%s: loading recordio %s...", type(self).__name__, path_imgrec)
            if path_imgidx:
                self.imgrec = recordio.MXIndexedRecordIO(path_imgidx, path_imgrec, "r")
                self.imgidx = list(self.imgrec.keys)
            else:
                self.imgrec = recordio.MXRecordIO(path_imgrec, "r")
        keys = None
        if path_imglist:
            self.imglist, keys = _read_lst(path_imglist, dtype)
        elif isinstance(imglist, list):
            self.imglist, keys = _from_list(imglist, dtype)
        else:
            self.imglist = None
        self.path_root = path_root
        self.check_data_shape(data_shape)
        self.provide_data = [(data_name, (batch_size,) + tuple(data_shape))]
        label_shape = (batch_size, label_width) if label_width > 1 else (batch_size,)
        self.provide_label = [(label_name, label_shape)]
        self.data_shape = tuple(data_shape)
        self.label_width = label_width
        self.shuffle = shuffle
        if self.imgrec is None:
            self.seq = keys
        elif shuffle or num_parts > 1 or path_imgidx:
            if self.imgidx is None:
                raise AssertionMXNetError(f"{type(self).__name__}: shuffle and num_parts > 1 need path_imgidx "
                                          "with path_imgrec")
            self.seq = self.imgidx
        else:
            self.seq = None
        if num_parts > 1:
            if not 0 <= part_index < num_parts:
                raise AssertionMXNetError(f"{type(self).__name__}: part_index {part_index} is not below "
                                          f"num_parts {num_parts}")
            per_part = len(self.seq) // num_parts
            self.seq = self.seq[part_index * per_part:(part_index + 1) * per_part]
        self.auglist = CreateAugmenter(data_shape, **kwargs) if aug_list is None else aug_list
        self.cur = 0
        self._allow_read = True
        self.last_batch_handle = last_batch_handle
        self.num_image = len(self.seq) if self.seq is not None else None
        self._cache_data = self._cache_label = self._cache_idx = None
        self.reset()

    def reset(self):
        """Start a new epoch (reshuffling); with roll_over the kept remainder stays for the next batch."""
        if self.seq is not None and self.shuffle:
            random.shuffle(self.seq)
        if self.last_batch_handle != "roll_over" or self._cache_data is None:
            if self.imgrec is not None:
                self.imgrec.reset()
            self.cur = 0
            self._allow_read = True

    def hard_reset(self):
        """reset(), dropping any rolled-over remainder."""
        if self.seq is not None and self.shuffle:
            random.shuffle(self.seq)
        if self.imgrec is not None:
            self.imgrec.reset()
        self.cur = 0
        self._allow_read = True
        self._cache_data = self._cache_label = self._cache_idx = None

    def next_sample(self):
        """(label, encoded image bytes) of the next image; StopIteration at the end of the epoch."""
        if not self._allow_read:
            raise StopIteration
        if self.seq is None:
            record = self.imgrec.read()
            if record is None:
                if self.last_batch_handle != "discard":
                    self.imgrec.reset()
                raise StopIteration
            header, img = recordio.unpack(record)
            return header.label, img
        if self.cur >= self.num_image:
            if self.last_batch_handle != "discard":
                self.cur = 0
            raise StopIteration
        idx = self.seq[self.cur]
        self.cur += 1
        if self.imgrec is None:
            label, fname = self.imglist[idx]
            return label, self.read_image(fname)
        header, img = recordio.unpack(self.imgrec.read_idx(idx))
        return (header.label if self.imglist is None else self.imglist[idx][0]), img

    def _batchify(self, batch_data, batch_label, start=0):
        """Fill rows start.. of the batch; returns how many rows are filled (StopIteration if none)."""
        i = start
        try:
            while i < self.batch_size:
                label, encoded = self.next_sample()
                data = self.imdecode(encoded)
                try:
                    data, label = self._augmented_sample(data, label)
                except RuntimeError as err:
                    logging.debug("Invalid image, skipping: %s", err)
                    continue
                batch_data[i] = self.postprocess_data(data)
                self._store_label(batch_label, i, label)
                i += 1
        except StopIteration:
            if not i:
                raise
        return i

    def _augmented_sample(self, data, label):
        """(augmented image, label) of a decoded sample; RuntimeError skips the sample."""
        self.check_valid_image(data)
        return self.augmentation_transform(data), label

    def _store_label(self, batch_label, i, label):
        batch_label[i] = _label_row(label)

    def _new_label_batch(self):
        return nd.empty(self.provide_label[0][1])

    def next(self):
        """The next DataBatch; its `pad` counts the rows filled from the next epoch's start."""
        if self._cache_data is not None:
            batch_data, batch_label, filled = self._cache_data, self._cache_label, self._cache_idx
        else:
            batch_data = nd.zeros((self.batch_size,) + self.data_shape)
            batch_label = self._new_label_batch()
            filled = self._batchify(batch_data, batch_label)
        pad = self.batch_size - filled
        if pad:
            if self.last_batch_handle == "discard":
                raise StopIteration
            if self.last_batch_handle == "roll_over" and self._cache_data is None:
                self._cache_data, self._cache_label, self._cache_idx = batch_data, batch_label, filled
                raise StopIteration
            self._batchify(batch_data, batch_label, filled)
            if self.last_batch_handle == "pad":
                self._allow_read = False
            else:
                self._cache_data = self._cache_label = self._cache_idx = None
        return io.DataBatch([batch_data], [batch_label], pad=pad)

    def check_data_shape(self, data_shape):
        """data_shape must be (3, H, W)."""
        if len(data_shape) != 3:
            raise ValueError(f"data_shape should have length 3, with dimensions CxHxW, got {data_shape}")
        if data_shape[0] != 3:
            raise ValueError(f"This iterator expects inputs to have 3 channels, got data_shape {data_shape}")

    def check_valid_image(self, data):
        """RuntimeError for an image without pixels."""
        if len(data[0].shape) == 0:
            raise RuntimeError("Data shape is wrong")

    def imdecode(self, s):
        """Decode image bytes; a broken image is a RuntimeError naming its file or record index."""
        try:
            return imdecode(s)
        except Exception as err:
            raise RuntimeError(f"Broken image {self._locate()}, {err}") from err

    def _locate(self):
        position = (self.cur % self.num_image) - 1 if self.num_image else self.cur - 1
        idx = self.seq[position] if self.seq is not None else position
        if self.imglist is not None:
            return f"filename: {self.imglist[idx][1]}"
        return f"index: {idx}"

    def read_image(self, fname):
        """The bytes of image file `fname` under path_root."""
        with open(os.path.join(self.path_root or "", fname), "rb") as fin:
            return fin.read()

    def augmentation_transform(self, data):
        """Apply the augmenters in order."""
        for aug in self.auglist:
            data = aug(data)
        return data

    def postprocess_data(self, datum):
        """(H, W, C) -> (C, H, W) for the batch."""
        return nd.transpose(datum, axes=(2, 0, 1))
