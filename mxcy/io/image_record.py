"""ImageRecordIter and its dtype variants (MXNet 1.9.1's C++ ImageRecordIter, ImageRecordUInt8Iter,
ImageRecordInt8Iter and the _v1 versions): batches of images from MXNet RecordIO files made by im2rec or
mx.recordio.

Records are read in the calling thread; decoding (Pillow, as mx.image), the default augmenter and packing into
the batch run in `preprocess_threads` worker threads, up to `prefetch_buffer` batches ahead. A record that
cannot be read or decoded is an MXNetError naming the file and the record."""
import logging
import os
import sys
import weakref
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .. import _imagecodec, recordio
from .. import ndarray as nd
from ..base import MXNetError
from ..context import cpu
from ..kernels import image_pack
from .image_aug import AUG_PARAMS, DefaultAugmenter
from .native import MXDataIter, _csv_files, _InstanceBatcher, _params

__all__ = ["ImageRecordIter", "ImageRecordUInt8Iter", "ImageRecordInt8Iter", "ImageRecordIter_v1",
           "ImageRecordUInt8Iter_v1"]

_PARAMS = {
    "path_imglist": (str, ""), "path_imgrec": (str, ""), "path_imgidx": (str, ""), "aug_seq": (str, "aug_default"),
    "label_width": (int, 1), "data_shape": ("shape", None), "preprocess_threads": (int, 4), "verbose": (bool, True),
    "num_parts": (int, 1), "part_index": (int, 0), "device_id": (int, 0), "shuffle_chunk_size": (int, 0),
    "shuffle_chunk_seed": (int, 0), "seed_aug": (int, "None"), "shuffle": (bool, False), "seed": (int, 0),
    "batch_size": (int, None), "round_batch": (bool, True), "prefetch_buffer": (int, 4), "ctx": (str, "gpu"),
    "dtype": (str, "None"), "mirror": (bool, False), "rand_mirror": (bool, False), "mean_img": (str, ""),
    "mean_r": (float, 0.0), "mean_g": (float, 0.0), "mean_b": (float, 0.0), "mean_a": (float, 0.0),
    "std_r": (float, 1.0), "std_g": (float, 1.0), "std_b": (float, 1.0), "std_a": (float, 1.0),
    "scale": (float, 1.0), "max_random_contrast": (float, 0.0), "max_random_illumination": (float, 0.0),
    "rotate_list": (str, ""), **AUG_PARAMS}
_DTYPES = {"None": np.float32, "float32": np.float32, "uint8": np.uint8, "int8": np.int8}
_DECODE_FLAG = {1: 0, 3: 1, 4: -1}


def _part_records(paths, num_parts, part_index):
    """(file, byte offset) of every record in dmlc-core's byte-range part `part_index` of the files: the
    bytes are cut into `num_parts` steps (rounded up to 4 bytes) and a record belongs to the step it starts in."""
    sizes = [os.path.getsize(path) for path in paths]
    step = -(-sum(sizes) // num_parts)
    step = max(4, -(-step // 4) * 4)
    picked, base = [], 0
    for path, size in zip(paths, sizes):
        picked.extend((path, offset) for offset in _record_offsets(path, size)
                      if min((base + offset) // step, num_parts - 1) == part_index)
        base += size
    return picked


def _record_offsets(path, size):
    """Byte offsets of the records of a RecordIO file, read from their headers (the payloads are skipped)."""
    offsets, pos = [], 0
    with open(path, "rb") as f:
        while pos < size:
            head = f.read(8)
            magic, lrec = (int(v) for v in np.frombuffer(head, "<u4")) if len(head) == 8 else (None, 0)
            if magic != recordio._MAGIC:
                raise MXNetError(f"ImageRecordIter: corrupt RecordIO file {path}: no record header at byte {pos} "
                                 f"(record {len(offsets)})")
            if lrec >> 29 in (0, 1):
                offsets.append(pos)
            pos += 8 + (((lrec & recordio._LENGTH_MASK) + 3) & ~3)
            f.seek(pos)
        if pos > size:
            raise MXNetError(f"ImageRecordIter: corrupt RecordIO file {path}: the last record (record "
                             f"{len(offsets) - 1}) is truncated")
    return offsets


def _indexed_part(rec, idx, num_parts, part_index):
    """(file, offset) of the records listed in the index file, in file order, cut into equal counts."""
    reader = recordio.MXIndexedRecordIO(idx, rec, "r")
    offsets = sorted(reader.idx.values())
    reader.close()
    step = -(-len(offsets) // num_parts)
    return [(rec, offset) for offset in offsets[step * part_index:step * (part_index + 1)]]


def read_label_list(path, label_width, iterator):
    """{image index: float32 labels} from an im2rec .lst file: per line an index, labels and a path separated
    by white space; `label_width` labels, or with -1 (detection lists) every field between index and path."""
    labels = {}
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except OSError as err:
        raise MXNetError(f"{iterator}: cannot read path_imglist {path}: {err.strerror}") from None
    for number, line in enumerate(lines, 1):
        fields = line.split()
        if not fields:
            continue
        values = fields[1:1 + label_width] if label_width > 0 else fields[1:-1]
        if not values or (label_width > 0 and len(fields) < label_width + 2):
            raise MXNetError(f"{iterator}: {path} line {number}: bad image list format (needs an index, "
                             f"{label_width if label_width > 0 else 'some'} labels and a path)")
        try:
            labels[int(float(fields[0]))] = np.array([float(v) for v in values], np.float32)
        except ValueError:
            raise MXNetError(f"{iterator}: {path} line {number}: bad image list format (not numbers)") from None
    return labels


class _RecordBatches:
    """The batch source behind ImageRecordIter (see MXDataIter): plans each batch's records with
    _InstanceBatcher's round_batch rules, reads them, and has the worker pool decode them into the batch."""

    def __init__(self, p, name):
        self.p, self.name = p, name
        self.dtype = _DTYPES[p["dtype"]]
        self.channels = p["data_shape"][0]
        self._make_parts()
        self.records = self._locate_records()
        self._readers = {}
        self.label_columns = self._label_columns()
        self._start()
        self._pool = ThreadPoolExecutor(max(1, p["preprocess_threads"]), thread_name_prefix="ImageRecordIter")
        weakref.finalize(self, self._pool.shutdown, wait=False, cancel_futures=True)
        self._planned = []  # [(batcher state before planning, jobs, data, label, index, pad)]
        self._data_buffers = []  # every batch's data array, reused once nothing else refers to it
        self.data = self.label = self.index = None
        self.pad = 0
        self._prepare_normalisation()

    def _make_parts(self):
        """The augmenter, and the labels of path_imglist if given."""
        p = self.p
        self.augment = DefaultAugmenter(p, self.name)
        self.imglist = read_label_list(p["path_imglist"], p["label_width"], self.name) if p["path_imglist"] else None

    def _label_columns(self):
        """How many label values each image has in a batch."""
        return self.p["label_width"]

    def _start(self):
        """Stand before the first batch of the first epoch."""
        count = len(self.records)
        self._order = _InstanceBatcher(np.arange(count), np.arange(count), self.p["batch_size"],
                                       self.p["round_batch"], self.name)
        self._epoch = 0
        self._shuffle()

    def _locate_records(self):
        p = self.p
        if not p["path_imgrec"]:
            raise MXNetError(f"{self.name}: path_imgrec is required")
        if not 0 <= p["part_index"] < p["num_parts"]:
            raise MXNetError(f"{self.name}: part_index {p['part_index']} must be in [0, num_parts={p['num_parts']})")
        if p.get("path_imgidx"):  # ImageDetRecordIter has no index files
            records = _indexed_part(p["path_imgrec"], p["path_imgidx"], p["num_parts"], p["part_index"])
        else:
            paths = _csv_files(p["path_imgrec"])
            for path in paths:
                if not os.path.isfile(path):
                    raise MXNetError(f"{self.name}: cannot open RecordIO file {path}")
            records = _part_records(paths, p["num_parts"], p["part_index"])
        if not records:
            raise MXNetError(f"{self.name}: {p['path_imgrec']} part {p['part_index']} holds no records")
        if p["verbose"]:
            logging.info("%s: %s, %d records, use %d threads for decoding..", self.name, p["path_imgrec"],
                         len(records), p["preprocess_threads"])
        return records

    def _prepare_normalisation(self):
        """Per-channel multipliers and biases, and the mean as a (C, H, W) image (MXNet's mean_img or the
        per-channel means), in float32."""
        p = self.p
        c, h, w = p["data_shape"]
        if c not in _DECODE_FLAG:
            raise MXNetError(f"{self.name}: data_shape {p['data_shape']} must have 1, 3 or 4 channels")
        stds = np.array([p["std_r"], p["std_g"], p["std_b"], p["std_a"]], np.float32)[:c]
        means = np.array([p["mean_r"], p["mean_g"], p["mean_b"], p["mean_a"]], np.float32)[:c]
        self.inv_std = np.float32(1) / stds
        if self.dtype is np.int8:
            means = np.round(means)
        self.mean = np.ascontiguousarray(np.broadcast_to(means[:, None, None], (c, h, w)))
        if p["mean_img"] and self.dtype is not np.uint8:
            self.mean = self._mean_image()

    def _mean_image(self):
        """MXNet's mean image file (an NDArray file holding one (C, H, W) array); when the file does not exist,
        the mean of this data's normalised images, saved there first."""
        p = self.p
        if os.path.exists(p["mean_img"]):
            loaded = nd.load(p["mean_img"])
            arrays = list(loaded.values()) if isinstance(loaded, dict) else loaded
            if len(arrays) != 1 or arrays[0].shape != p["data_shape"]:
                raise MXNetError(f"{self.name}: mean_img {p['mean_img']} must hold one array of shape "
                                 f"{p['data_shape']}")
            mean = arrays[0].asnumpy().astype(np.float32)
            return np.round(mean) if self.dtype is np.int8 else mean
        total, count = np.zeros(p["data_shape"], np.float64), 0
        while self.advance():
            total += self.data.asnumpy()[:p["batch_size"] - self.pad].sum(axis=0)
            count += p["batch_size"] - self.pad
        mean = (total / count).astype(np.float32)
        nd.save(p["mean_img"], {"mean_img": nd.array(mean)})
        self._drop_planned()
        self._start()
        return mean

    def _shuffle(self):
        if self.p["shuffle"]:
            rng = np.random.default_rng([self.p["seed"], self._epoch])
            self._order.examples = rng.permutation(len(self.records))

    # --- planning and running batches -----------------------------------------------------------------------
    def _read(self, number):
        path, offset = self.records[number]
        reader = self._readers.get(path)
        if reader is None:
            reader = self._readers[path] = recordio.MXRecordIO(path, "r")
        reader._file.seek(offset)
        try:
            return reader._read_record(f"record {number}")
        except MXNetError as err:
            raise MXNetError(f"{self.name}: {err}") from None

    def _plan(self):
        """Pick the next batch's records, read them and queue their decoding; False at the end of the epoch."""
        state = (self._order._pos, self._order._overflow)
        if not self._order.advance():
            return False
        p, (c, h, w) = self.p, self.p["data_shape"]
        size, pad = p["batch_size"], self._order.pad
        filled = size if p["round_batch"] else size - pad
        numbers = self._order.data[:filled].copy()
        data = self._data_buffer((size, c, h, w))
        data[filled:] = 0
        label = np.zeros((size, self.label_columns), np.float32)
        index = np.zeros(size, np.uint64)
        jobs = [self._pool.submit(self._decode, number, self._read(number), data[slot], label[slot], index, slot)
                for slot, number in enumerate(numbers)]
        self._planned.append((state, jobs, data, label, index, pad))
        return True

    def _data_buffer(self, shape):
        """A batch's data array: an earlier batch's once that batch has been dropped everywhere (the NDArray
        handed out holds the array, and so does any view of it: then nothing refers to it but this list).
        A fresh array of this size costs a page fault per 4 kB (~0.3-1 ms an image, more than the packing)."""
        for buffer in self._data_buffers:
            # referenced by the list, this loop variable and getrefcount's argument only
            if sys.getrefcount(buffer) == 3 and buffer.shape == shape:
                return buffer
        buffer = np.empty(shape, self.dtype)
        self._data_buffers = self._data_buffers[-(self.p["prefetch_buffer"] + 3):] + [buffer]
        return buffer

    def _decode(self, number, record, data_out, label_out, index, slot):
        p = self.p
        path = self.records[number][0]
        try:
            header, payload = recordio.unpack(record)
            img = _imagecodec.decode(payload, _DECODE_FLAG[self.channels], to_rgb=True, what="image")
            if img.ndim == 2:
                img = img[:, :, None]
            if img.shape[2] != self.channels:
                raise MXNetError(f"expected {self.channels} channels, got {img.shape[2]}")
            seed = [p["seed_aug"], number] if p.get("seed_aug", "None") != "None" else [p["seed"], self._epoch, number]
            self._transform(header, img, np.random.default_rng(seed), data_out, label_out)
            index[slot] = header.id
        except Exception as err:  # every failure names the file and the record
            raise MXNetError(f"{self.name}: {path}: record {number} (at byte {self.records[number][1]}): "
                             f"{err}") from err

    def _transform(self, header, img, rng, data_out, label_out):
        """Labels, augmentation and packing of one decoded record into its batch slot."""
        label_out[:] = self._labels(header)
        img = self.augment(img, rng)
        if img.shape[:2] != data_out.shape[1:]:
            raise MXNetError(f"the augmented image is {img.shape[1]}x{img.shape[0]}, data_shape needs "
                             f"{data_out.shape[2]}x{data_out.shape[1]}")
        self._pack(img, rng, data_out)

    def _labels(self, header):
        """A record's labels: from path_imglist, else the record's label array, else its one number."""
        width = self.p["label_width"]
        if self.imglist is not None:
            if header.id not in self.imglist:
                raise MXNetError(f"image index {header.id} is not in path_imglist {self.p['path_imglist']}")
            return self.imglist[header.id]
        if header.flag > 0:
            if width > 0 and header.flag != width:
                raise MXNetError(f"the record provides {header.flag}-dimensional label but label_width is "
                                 f"set to {width}")
            return header.label
        return self._scalar_label(header)

    def _scalar_label(self, header):
        if self.p["label_width"] != 1:
            raise MXNetError("label_width must be 1 unless an imglist is provided or the rec file is packed "
                             "with multi dimensional label")
        return header.label

    def _pack(self, img, rng, out):
        p = self.p
        mirror = bool(p["mirror"] or (p["rand_mirror"] and rng.random() < 0.5))
        if self.dtype is np.uint8:
            image_pack.pack_uint8(img, mirror, out)
        elif self.dtype is np.int8:
            image_pack.pack_int8(img, self.mean, mirror, out)
        else:
            contrast = (rng.random() * p["max_random_contrast"] * 2 - p["max_random_contrast"] + 1) * p["scale"]
            illumination = (rng.random() * p["max_random_illumination"] * 2 - p["max_random_illumination"]) \
                * p["scale"]
            mult = (np.float32(contrast) * self.inv_std).astype(np.float32)
            bias = (np.float32(illumination) * self.inv_std).astype(np.float32)
            rows = img.reshape(img.shape[0], -1)  # a view, also of a crop (its rows are contiguous)
            image_pack.pack_float(rows, self.mean, mult, bias, mirror, out)

    def _drop_planned(self):
        """Forget the batches planned ahead, putting the planner back where the first of them started."""
        if self._planned:
            self._order._pos, self._order._overflow = self._planned[0][0]
        for _, jobs, *_ in self._planned:
            for job in jobs:
                job.cancel()
        for _, jobs, *_ in self._planned:
            for job in jobs:
                if not job.cancelled():
                    job.exception()
        self._planned = []

    # --- the MXDataIter source interface -----------------------------------------------------------------
    def reset(self):
        self._drop_planned()
        self._order.reset()
        self._epoch += 1
        self._shuffle()

    def advance(self):
        if not self._planned and not self._plan():
            return False
        _, jobs, data, label, index, pad = self._planned.pop(0)
        try:
            for job in jobs:
                job.result()
        except MXNetError:
            self._drop_planned()
            raise
        while len(self._planned) < max(1, self.p["prefetch_buffer"]) and self._plan():
            pass
        self.data = _wrap(data)
        self.label = _wrap(np.ascontiguousarray(label[:, 0]) if self.label_columns == 1 else label)
        self.index, self.pad = index, pad
        return True


def _wrap(values):
    """A CPU NDArray over `values` (a batch's own new buffer, so no copy)."""
    return nd.NDArray(values, cpu(0))


def _record_iter(name, dtype=None):
    def create(*args, **kwargs):
        p = _params(name, args, kwargs, _PARAMS)
        if dtype is not None:
            p["dtype"] = dtype
        if p["dtype"] not in _DTYPES:
            raise MXNetError(f"{name}: unknown dtype {p['dtype']} (float32, uint8 or int8)")
        if len(p["data_shape"]) != 3:
            raise MXNetError(f"{name}: data_shape must be (channels, height, width), got {p['data_shape']}")
        if p["aug_seq"] != "aug_default":
            raise MXNetError(f"{name}: aug_seq {p['aug_seq']!r} is not supported; only 'aug_default'")
        if p["batch_size"] < 1 or p["label_width"] < 1:
            raise MXNetError(f"{name}: batch_size and label_width must be at least 1")
        p["rotate_list"] = [int(v) for v in p["rotate_list"].split(",") if v.strip()]
        return MXDataIter(_RecordBatches(p, name), **kwargs)

    create.__name__ = create.__qualname__ = name
    create.__doc__ = _DOC.format(name=name, dtype=dtype or "float32 (or dtype='uint8'/'int8')")
    return create


_DOC = """Batches of images from the MXNet RecordIO file (or folder of files) `path_imgrec`, with MXNet 1.9.1's
    {name} arguments: data (batch_size,) + data_shape in {dtype}, labels (batch_size,) or
    (batch_size, label_width) from the records or path_imglist.

    Each record is decoded (Pillow, OpenCV's conventions), augmented by aug_default (resize, rotate/shear/scale,
    pad, crops, colour jitter, mirror), normalised ((pixel - mean) * scale / std) and packed in
    `preprocess_threads` worker threads, `prefetch_buffer` batches ahead. Differences from MXNet: random
    draws come from NumPy generators seeded by (seed, epoch, record) or (seed_aug, record), so results do not
    depend on the thread count but are not MXNet's; shuffle permutes the whole part each epoch (no chunks);
    round_batch=False reports the padding (MXNet reports 0) and fills it with zeros; getindex gives the
    records' ids. ctx, device_id and shuffle_chunk_* are accepted and have no effect."""


ImageRecordIter = _record_iter("ImageRecordIter")
ImageRecordUInt8Iter = _record_iter("ImageRecordUInt8Iter", "uint8")
ImageRecordInt8Iter = _record_iter("ImageRecordInt8Iter", "int8")
ImageRecordIter_v1 = _record_iter("ImageRecordIter_v1")
ImageRecordUInt8Iter_v1 = _record_iter("ImageRecordUInt8Iter_v1", "uint8")
