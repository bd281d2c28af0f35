"""ImageDetRecordIter (MXNet 1.9.1's C++ iterator for detection RecordIO files): ImageRecordIter's reading,
threads and batching with the detection augmenter, labels padded to one width, and MXNet's detection
normalisation ((pixel - mean) / std * scale, where a mean or std of 0 means none)."""
import os

import numpy as np

from .. import recordio
from ..base import MXNetError
from ..kernels import image_pack
from .image_det_aug import DET_AUG_PARAMS, DefaultDetAugmenter
from .image_record import _RecordBatches, read_label_list
from .native import MXDataIter, _params

__all__ = ["ImageDetRecordIter"]

_PARAMS = {
    "path_imglist": (str, ""), "path_imgrec": (str, "./data/imgrec.rec"), "aug_seq": (str, "det_aug_default"),
    "label_width": (int, -1), "data_shape": ("shape", None), "preprocess_threads": (int, 4), "verbose": (bool, True),
    "num_parts": (int, 1), "part_index": (int, 0), "shuffle_chunk_size": (int, 0), "shuffle_chunk_seed": (int, 0),
    "label_pad_width": (int, 0), "label_pad_value": (float, -1.0), "shuffle": (bool, False), "seed": (int, 0),
    "batch_size": (int, None), "round_batch": (bool, True), "prefetch_buffer": (int, 4), "ctx": (str, "gpu"),
    "dtype": (str, "None"), "mean_img": (str, ""), "mean_r": (float, 0.0), "mean_g": (float, 0.0),
    "mean_b": (float, 0.0), "mean_a": (float, 0.0), "std_r": (float, 0.0), "std_g": (float, 0.0),
    "std_b": (float, 0.0), "std_a": (float, 0.0), "scale": (float, 1.0), **DET_AUG_PARAMS}


class _DetRecordBatches(_RecordBatches):
    """ImageRecordIter's batch source with detection labels, augmenter and normalisation."""

    def _make_parts(self):
        p = self.p
        self.augment = DefaultDetAugmenter(p, self.name)
        self.imglist = read_label_list(p["path_imglist"], p["label_width"], self.name) if p["path_imglist"] else None

    def _label_columns(self):
        """label_pad_width + 4: MXNet's rows [channels, height, width, label length, label..., padding]."""
        p = self.p
        widest = max(len(v) for v in self.imglist.values()) if self.imglist else max(
            len(self._labels(recordio.unpack(self._read(number))[0])) for number in range(len(self.records)))
        if widest > p["label_pad_width"]:
            if p["label_pad_width"] > 0:
                raise MXNetError(f"{self.name}: label_pad_width {p['label_pad_width']} is smaller than the widest "
                                 f"label ({widest} values)")
            p["label_pad_width"] = widest
        return p["label_pad_width"] + 4

    def _scalar_label(self, header):
        raise MXNetError("not enough label packed in img_list or rec file")

    def _prepare_normalisation(self):
        p = self.p
        c, h, w = p["data_shape"]
        channels = ("r", "g", "b", "a")[:c] if c != 1 else ("r",)
        means = np.array([p[f"mean_{k}"] for k in channels], np.float32)
        stds = np.array([p[f"std_{k}"] for k in channels], np.float32)
        self.std = np.where(stds > 0, stds, np.float32(1)).astype(np.float32)
        self.mean = np.zeros((c, h, w), np.float32)
        if means.any():
            self.mean[:] = means[:, None, None]
        elif p["mean_img"] and os.path.exists(p["mean_img"]):
            self.mean = self._mean_image()

    def _transform(self, header, img, rng, data_out, label_out):
        img, label = self.augment(img, self._labels(header), rng)
        rows, cols = img.shape[:2]
        if rows > data_out.shape[1] or cols > data_out.shape[2] or label.size > self.p["label_pad_width"]:
            raise MXNetError(f"the augmented image ({rows}x{cols}) or label ({label.size} values) does not fit "
                             f"data_shape {self.p['data_shape']} / label_pad_width {self.p['label_pad_width']}")
        canvas = np.zeros((data_out.shape[1], data_out.shape[2], img.shape[2]), np.uint8)
        canvas[:rows, :cols] = img
        image_pack.pack_float_divide(canvas, self.mean, self.std, np.float32(self.p["scale"]), data_out)
        label_out[:] = self.p["label_pad_value"]
        label_out[:4] = (img.shape[2], rows, cols, label.size)
        label_out[4:4 + label.size] = label


def ImageDetRecordIter(*args, **kwargs):
    """Batches of images and padded detection labels from a RecordIO file `path_imgrec` (MXNet 1.9.1's
    ImageDetRecordIter arguments; the augmentation runs in `preprocess_threads` worker threads). Each label
    row is [channels, height, width, label length, label..., label_pad_value...], width label_pad_width + 4
    (label_pad_width defaults to the widest label of the file). As in ImageRecordIter, random draws come from
    NumPy generators seeded by (seed, epoch, record), not MXNet's per-thread engines, and shuffle permutes
    the whole part each epoch."""
    name = "ImageDetRecordIter"
    p = _params(name, args, kwargs, _PARAMS)
    if len(p["data_shape"]) != 3:
        raise MXNetError(f"{name}: data_shape must be (channels, height, width), got {p['data_shape']}")
    if p["aug_seq"] != "det_aug_default":
        raise MXNetError(f"{name}: aug_seq {p['aug_seq']!r} is not supported; only 'det_aug_default'")
    if p["dtype"] not in ("None", "float32"):
        raise MXNetError(f"{name}: dtype {p['dtype']} is not supported; detection batches are float32")
    if p["batch_size"] < 1:
        raise MXNetError(f"{name}: batch_size must be at least 1")
    return MXDataIter(_DetRecordBatches(p, name), **kwargs)
