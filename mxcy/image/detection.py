"""mx.image.detection: augmenters that transform an image together with its boxes, CreateDetAugmenter, and
ImageDetIter (MXNet 1.9.1's object-detection input pipeline).

A label is a NumPy (objects, width >= 5) array of rows [class id, xmin, ymin, xmax, ymax, ...] with
coordinates as fractions of the image size. Crop and pad proposals draw from Python's `random` in MXNet's
order, so `random.seed` gives MXNet's boxes. Images are cropped, padded and resized by mx.image's functions
(on the host).
"""
import logging
import math
import random
import warnings

import numpy as np

from .. import ndarray as nd
from ..base import MXNetError, numeric_types
from ..gluon._errors import AssertionMXNetError
from .augmenter import Augmenter, ForceResizeAug, RecordsArguments, ResizeAug, cast_and_colour_augmenters
from .image import copyMakeBorder, fixed_crop
from .image_iter import ImageIter

__all__ = ["DetAugmenter", "DetBorrowAug", "DetRandomSelectAug", "DetHorizontalFlipAug", "DetRandomCropAug",
           "DetRandomPadAug", "CreateMultiRandCropAugmenter", "CreateDetAugmenter", "ImageDetIter"]

# ImageNet statistics draw_next undoes when mean/std is True
_IMAGENET_MEAN = np.array([123.68, 116.28, 103.53])
_IMAGENET_STD = np.array([58.395, 57.12, 57.375])


class DetAugmenter(RecordsArguments):
    """Base class of the detection augmenters: a callable (image, label) -> (image, label)."""

    def __call__(self, src, label):
        raise NotImplementedError("Must override implementation.")


class DetBorrowAug(DetAugmenter):
    """Applies a plain image Augmenter that leaves the boxes where they are (colour, cast, resize)."""

    def __init__(self, augmenter):
        if not isinstance(augmenter, Augmenter):
            raise TypeError(f"DetBorrowAug: borrowing from invalid Augmenter {type(augmenter).__name__}")
        super().__init__(augmenter=augmenter.dumps())
        self.augmenter = augmenter

    def dumps(self):
        return [self.__class__.__name__.lower(), self.augmenter.dumps()]

    def __call__(self, src, label):
        return self.augmenter(src), label


class DetRandomSelectAug(DetAugmenter):
    """Applies one augmenter of `aug_list` picked at random, or with probability `skip_prob` none."""

    def __init__(self, aug_list, skip_prob=0):
        super().__init__(skip_prob=skip_prob)
        if not isinstance(aug_list, (list, tuple)):
            aug_list = [aug_list]
        for aug in aug_list:
            if not isinstance(aug, DetAugmenter):
                raise ValueError(f"DetRandomSelectAug: only DetAugmenters allowed, got {type(aug).__name__}")
        self.aug_list = aug_list
        self.skip_prob = skip_prob if aug_list else 1

    def dumps(self):
        return [self.__class__.__name__.lower(), [aug.dumps() for aug in self.aug_list]]

    def __call__(self, src, label):
        if random.random() < self.skip_prob:
            return src, label
        random.shuffle(self.aug_list)  # MXNet picks by shuffling the list in place
        return self.aug_list[0](src, label)


class DetHorizontalFlipAug(DetAugmenter):
    """With probability `p`, flips the image left-right and mirrors the boxes (label changed in place)."""

    def __init__(self, p):
        super().__init__(p=p)
        self.p = p

    def __call__(self, src, label):
        if random.random() < self.p:
            src = nd.flip(src, axis=1)
            label[:, 1], label[:, 3] = 1.0 - label[:, 3], 1.0 - label[:, 1]
        return src, label


def _pair(value, name, what):
    if isinstance(value, (tuple, list)):
        return value
    if not isinstance(value, numeric_types):
        raise AssertionMXNetError(f"{what}: {name} must be a number or a pair, got {value!r}")
    logging.info("Using fixed %s: %s in %s", name, value, what)
    return (value, value)


def _box_areas(boxes):
    """Areas of (n, 4) [xmin, ymin, xmax, ymax] boxes, 0 for empty ones."""
    return np.maximum(0, boxes[:, 3] - boxes[:, 1]) * np.maximum(0, boxes[:, 2] - boxes[:, 0])


def _intersect(boxes, xmin, ymin, xmax, ymax):
    """The boxes clipped to the window; boxes that miss it become all zeros."""
    out = boxes.copy()
    out[:, 0] = np.maximum(boxes[:, 0], xmin)
    out[:, 1] = np.maximum(boxes[:, 1], ymin)
    out[:, 2] = np.minimum(boxes[:, 2], xmax)
    out[:, 3] = np.minimum(boxes[:, 3], ymax)
    out[(out[:, 0] >= out[:, 2]) | (out[:, 1] >= out[:, 3])] = 0
    return out


def _usable_ranges(what, area_range, area_floor, aspect_ratio_range):
    """Whether the ranges can give proposals (the largest area above `area_floor`, both ranges ordered, the
    ratios positive); otherwise warn: MXNet disables such an augmenter rather than raising."""
    if area_range[1] <= area_floor or area_range[0] > area_range[1]:
        warnings.warn(f"Skip {what} due to invalid area_range: {area_range}")
        return False
    if aspect_ratio_range[0] <= 0 or aspect_ratio_range[0] > aspect_ratio_range[1]:
        warnings.warn(f"Skip {what} due to invalid aspect_ratio_range: {aspect_ratio_range}")
        return False
    return True


def _proposals(aug, height, width):
    """The draws a crop or pad proposal starts from, one per attempt (none when `aug` is disabled): an aspect
    ratio from aug.aspect_ratio_range, the heights of boxes of that ratio with the smallest and largest areas
    of aug.area_range, and those areas."""
    if not aug.enabled or height <= 0 or width <= 0:
        return
    min_area = aug.area_range[0] * height * width
    max_area = aug.area_range[1] * height * width
    for _ in range(aug.max_attempts):
        ratio = random.uniform(*aug.aspect_ratio_range)
        if ratio > 0:
            yield (ratio, int(round(math.sqrt(min_area / ratio))), int(round(math.sqrt(max_area / ratio))),
                   min_area, max_area)


class DetRandomCropAug(DetAugmenter):
    """Crops a random window (area fraction in `area_range`, aspect ratio in `aspect_ratio_range`) in which
    every box it touches keeps more than `min_object_covered` of its area; boxes keeping no more than
    `min_eject_coverage` are dropped. After `max_attempts` failed proposals the sample is left alone."""

    def __init__(self, min_object_covered=0.1, aspect_ratio_range=(0.75, 1.33), area_range=(0.05, 1.0),
                 min_eject_coverage=0.3, max_attempts=50):
        aspect_ratio_range = _pair(aspect_ratio_range, "aspect ratio", "DetRandomCropAug")
        area_range = _pair(area_range, "area range", "DetRandomCropAug")
        super().__init__(min_object_covered=min_object_covered, aspect_ratio_range=aspect_ratio_range,
                         area_range=area_range, min_eject_coverage=min_eject_coverage, max_attempts=max_attempts)
        self.min_object_covered = min_object_covered
        self.min_eject_coverage = min_eject_coverage
        self.max_attempts = max_attempts
        self.aspect_ratio_range = aspect_ratio_range
        self.area_range = area_range
        self.enabled = _usable_ranges("DetRandomCropAug", area_range, 0, aspect_ratio_range)

    def __call__(self, src, label):
        crop = self._random_crop_proposal(label, src.shape[0], src.shape[1])
        if crop:
            x, y, w, h, label = crop
            src = fixed_crop(src, x, y, w, h, None)
        return src, label

    def _covers_objects(self, label, window, width, height):
        """Whether the pixel window (xmin, ymin, xmax, ymax) keeps more than min_object_covered of every box
        it touches (boxes of at most 2 pixels ignored) and touches at least one."""
        xmin, ymin, xmax, ymax = window
        if (xmax - xmin) * (ymax - ymin) < 2:
            return False
        areas = _box_areas(label[:, 1:])
        visible = np.flatnonzero(areas * width * height > 2)
        if visible.size < 1:
            return False
        kept = _box_areas(_intersect(label[visible, 1:], xmin / width, ymin / height, xmax / width,
                                     ymax / height)) / areas[visible]
        kept = kept[kept > 0]
        return kept.size > 0 and kept.min() > self.min_object_covered

    def _update_labels(self, label, crop_box, height, width):
        """Boxes in the crop's coordinates, clipped to it; None when every box is ejected."""
        x0, y0 = crop_box[0] / width, crop_box[1] / height
        w, h = crop_box[2] / width, crop_box[3] / height
        out = label.copy()
        out[:, (1, 3)] = (out[:, (1, 3)] - x0) / w
        out[:, (2, 4)] = (out[:, (2, 4)] - y0) / h
        out[:, 1:5] = np.clip(out[:, 1:5], 0, 1)
        coverage = _box_areas(out[:, 1:]) * w * h / _box_areas(label[:, 1:])
        valid = (out[:, 3] > out[:, 1]) & (out[:, 4] > out[:, 2]) & (coverage > self.min_eject_coverage)
        return out[valid] if valid.any() else None

    def _random_crop_proposal(self, label, height, width):
        """(x, y, w, h, new label) of an acceptable crop, or () after max_attempts proposals."""
        for ratio, h, max_h, min_area, max_area in _proposals(self, height, width):
            if round(max_h * ratio) > width:
                max_h = int((width + 0.4999999) / ratio)  # the widest crop whose width rounds into the image
            max_h = min(max_h, height)
            h = min(h, max_h)
            if h < max_h:
                h = random.randint(h, max_h)
            w = int(round(h * ratio))
            if w * h < min_area:
                h += 1
                w = int(round(h * ratio))
            if w * h > max_area:
                h -= 1
                w = int(round(h * ratio))
            if not (min_area <= w * h <= max_area and 0 <= w <= width and 0 <= h <= height):
                continue
            y = random.randint(0, max(0, height - h))
            x = random.randint(0, max(0, width - w))
            if self._covers_objects(label, (x, y, x + w, y + h), width, height):
                new_label = self._update_labels(label, (x, y, w, h), height, width)
                if new_label is not None:
                    return x, y, w, h, new_label
        return ()


class DetRandomPadAug(DetAugmenter):
    """Places the image at a random spot of a larger canvas (area `area_range` times the image's, aspect
    ratio in `aspect_ratio_range`) filled with `pad_val`, and moves the boxes with it."""

    def __init__(self, aspect_ratio_range=(0.75, 1.33), area_range=(1.0, 3.0), max_attempts=50,
                 pad_val=(128, 128, 128)):
        if not isinstance(pad_val, (list, tuple)) and not isinstance(pad_val, numeric_types):
            raise AssertionMXNetError(f"DetRandomPadAug: pad_val must be a number or a tuple, got {pad_val!r}")
        aspect_ratio_range = _pair(aspect_ratio_range, "aspect ratio", "DetRandomPadAug")
        area_range = _pair(area_range, "area range", "DetRandomPadAug")
        super().__init__(aspect_ratio_range=aspect_ratio_range, area_range=area_range, max_attempts=max_attempts,
                         pad_val=pad_val)
        self.pad_val = pad_val
        self.aspect_ratio_range = aspect_ratio_range
        self.area_range = area_range
        self.max_attempts = max_attempts
        self.enabled = _usable_ranges("DetRandomPadAug", area_range, 1.0, aspect_ratio_range)

    def __call__(self, src, label):
        height, width, _ = src.shape
        pad = self._random_pad_proposal(label, height, width)
        if pad:
            x, y, w, h, label = pad
            values = self.pad_val if isinstance(self.pad_val, (list, tuple)) else (self.pad_val,)
            src = copyMakeBorder(src, y, h - y - height, x, w - x - width, 0, values=values)
        return src, label

    def _update_labels(self, label, pad_box, height, width):
        out = label.copy()
        out[:, (1, 3)] = (out[:, (1, 3)] * width + pad_box[0]) / pad_box[2]
        out[:, (2, 4)] = (out[:, (2, 4)] * height + pad_box[1]) / pad_box[3]
        return out

    def _random_pad_proposal(self, label, height, width):
        """(x, y, w, h, new label) of a canvas at least 2 pixels larger each way, or () after max_attempts."""
        for ratio, h, max_h, _, _ in _proposals(self, height, width):
            if round(h * ratio) < width:
                h = int((width + 0.499999) / ratio)  # the narrowest canvas whose width rounds over the image
            h = min(max(h, height), max_h)
            if h < max_h:
                h = random.randint(h, max_h)
            w = int(round(h * ratio))
            if h - height < 2 or w - width < 2:
                continue  # marginal padding is not helpful
            y = random.randint(0, max(0, h - height))
            x = random.randint(0, max(0, w - width))
            return x, y, w, h, self._update_labels(label, (x, y, w, h), height, width)
        return ()


def CreateMultiRandCropAugmenter(min_object_covered=0.1, aspect_ratio_range=(0.75, 1.33),  # noqa: N802
                                 area_range=(0.05, 1.0), min_eject_coverage=0.3, max_attempts=50, skip_prob=0):
    """A DetRandomSelectAug over DetRandomCropAugs: each argument may be a list (one value per crop
    augmenter; single values are repeated)."""
    params = [p if isinstance(p, list) else [p]
              for p in (min_object_covered, aspect_ratio_range, area_range, min_eject_coverage, max_attempts)]
    count = max(len(p) for p in params)
    for p in params:
        if len(p) not in (1, count):
            raise AssertionMXNetError(f"CreateMultiRandCropAugmenter: list arguments must all have {count} "
                                      f"values (or 1), got {p}")
    params = [p * count if len(p) == 1 else p for p in params]
    crops = [DetRandomCropAug(min_object_covered=moc, aspect_ratio_range=arr, area_range=ar,
                              min_eject_coverage=mec, max_attempts=ma)
             for moc, arr, ar, mec, ma in zip(*params)]
    return DetRandomSelectAug(crops, skip_prob=skip_prob)


def CreateDetAugmenter(data_shape, resize=0, rand_crop=0, rand_pad=0, rand_gray=0, rand_mirror=False,  # noqa: N802
                       mean=None, std=None, brightness=0, contrast=0, saturation=0, pca_noise=0, hue=0,
                       inter_method=2, min_object_covered=0.1, aspect_ratio_range=(0.75, 1.33),
                       area_range=(0.05, 3.0), min_eject_coverage=0.3, max_attempts=50, pad_val=(127, 127, 127)):
    """The standard detection augmenter list for `data_shape` (C, H, W), in MXNet's order: resize, random
    crop (probability rand_crop), mirror, random pad (probability rand_pad), resize to the data shape,
    then CreateAugmenter's cast and colour augmenters."""
    augs = []
    if resize > 0:
        augs.append(DetBorrowAug(ResizeAug(resize, inter_method)))
    if rand_crop > 0:
        augs.append(CreateMultiRandCropAugmenter(min_object_covered, aspect_ratio_range, area_range,
                                                 min_eject_coverage, max_attempts, skip_prob=1 - rand_crop))
    if rand_mirror > 0:
        augs.append(DetHorizontalFlipAug(0.5))
    if rand_pad > 0:
        pad = DetRandomPadAug(aspect_ratio_range, (1.0, area_range[1]), max_attempts, pad_val)
        augs.append(DetRandomSelectAug([pad], 1 - rand_pad))
    augs.append(DetBorrowAug(ForceResizeAug((data_shape[2], data_shape[1]), inter_method)))
    colour = cast_and_colour_augmenters(brightness, contrast, saturation, hue, pca_noise, rand_gray, mean, std,
                                        "CreateDetAugmenter")
    return augs + [DetBorrowAug(aug) for aug in colour]


class ImageDetIter(ImageIter):
    """ImageIter for detection: labels are (batch_size, max objects, object width) arrays padded with -1.

    A raw label is [header width A, object width B, (A - 2 more header values), then B values per object:
    class id, xmin, ymin, xmax, ymax, ...]. The label shape is found by reading every label once; samples
    whose labels hold no valid box, or whose boxes the augmenters remove, are skipped.
    """

    def __init__(self, batch_size, data_shape, path_imgrec=None, path_imglist=None, path_root=None,
                 path_imgidx=None, shuffle=False, part_index=0, num_parts=1, aug_list=None, imglist=None,
                 data_name="data", label_name="label", last_batch_handle="pad", **kwargs):
        super().__init__(batch_size=batch_size, data_shape=data_shape, path_imgrec=path_imgrec,
                         path_imglist=path_imglist, path_root=path_root, path_imgidx=path_imgidx, shuffle=shuffle,
                         part_index=part_index, num_parts=num_parts, aug_list=[], imglist=imglist,
                         data_name=data_name, label_name=label_name, last_batch_handle=last_batch_handle)
        self.auglist = CreateDetAugmenter(data_shape, **kwargs) if aug_list is None else aug_list
        self.label_shape = self._estimate_label_shape()
        self.provide_label = [(label_name, (self.batch_size,) + self.label_shape)]

    def _check_valid_label(self, label):
        """RuntimeError unless the label is (objects, >= 5) with a box of a non-negative class."""
        if label.ndim != 2 or label.shape[1] < 5:
            raise RuntimeError(f"Label with shape (1+, 5+) required, {label} received.")
        valid = (label[:, 0] >= 0) & (label[:, 3] > label[:, 1]) & (label[:, 4] > label[:, 2])
        if not valid.any():
            raise RuntimeError("Invalid label occurs.")

    def _estimate_label_shape(self):
        """(most objects in one label, object width), over every label of the source."""
        most, width = 0, 0
        self.reset()
        try:
            while True:
                label = self._parse_label(self.next_sample()[0])
                most, width = max(most, label.shape[0]), label.shape[1]
        except StopIteration:
            pass
        self.reset()
        return most, width

    def _parse_label(self, label):
        """The valid object rows of a raw label (see the class docstring)."""
        raw = (label.asnumpy() if isinstance(label, nd.NDArray) else np.asarray(label)).ravel()
        if raw.size < 7:
            raise RuntimeError(f"Label shape is invalid: {raw.shape}")
        header_width, object_width = int(raw[0]), int(raw[1])
        if object_width <= 0 or (raw.size - header_width) % object_width != 0:
            raise RuntimeError(f"Label shape {raw.shape} inconsistent with annotation width {object_width}.")
        objects = raw[header_width:].reshape(-1, object_width)
        objects = objects[(objects[:, 3] > objects[:, 1]) & (objects[:, 4] > objects[:, 2])]
        if objects.shape[0] < 1:
            raise RuntimeError("Encounter sample with no valid label.")
        return objects

    def reshape(self, data_shape=None, label_shape=None):
        """Change the data shape (C, H, W) and/or the label shape (objects, width) of later batches."""
        if data_shape is not None:
            self.check_data_shape(data_shape)
            self.provide_data = [(self.provide_data[0][0], (self.batch_size,) + tuple(data_shape))]
            self.data_shape = tuple(data_shape)
        if label_shape is not None:
            self.check_label_shape(label_shape)
            self.provide_label = [(self.provide_label[0][0], (self.batch_size,) + tuple(label_shape))]
            self.label_shape = tuple(label_shape)

    def _augmented_sample(self, data, label):
        self.check_valid_image([data])
        data, label = self.augmentation_transform(data, self._parse_label(label))
        self._check_valid_label(label)
        return data, label

    def _store_label(self, batch_label, i, label):
        rows = np.full(self.provide_label[0][1][1:], -1, np.float32)
        if label.shape[0] > rows.shape[0] or label.shape[1] != rows.shape[1]:
            raise MXNetError(f"ImageDetIter: a sample has {label.shape[0]} objects of width {label.shape[1]}, "
                             f"the label shape is {rows.shape}; use reshape() or sync_label_shape()")
        rows[:label.shape[0]] = label
        batch_label[i] = rows

    def _new_label_batch(self):
        return nd.full(self.provide_label[0][1], -1)

    def augmentation_transform(self, data, label):
        """Apply the detection augmenters in order to (image, label)."""
        for aug in self.auglist:
            data, label = aug(data, label)
        return data, label

    def check_label_shape(self, label_shape):
        """label_shape must be (objects, width), not fewer objects and the same width as now."""
        if len(label_shape) != 2:
            raise ValueError(f"label_shape should have length 2, got {label_shape}")
        if label_shape[0] < self.label_shape[0]:
            raise ValueError(f"Attempts to reduce label count from {self.label_shape[0]} to {label_shape[0]}, "
                             "not allowed.")
        if label_shape[1] != self.provide_label[0][1][2]:
            raise ValueError(f"label_shape object width inconsistent: {self.provide_label[0][1][2]} vs "
                             f"{label_shape[1]}.")

    def draw_next(self, color=None, thickness=2, mean=None, std=None, clip=True, waitKey=None,  # noqa: N803
                  window_name="draw_next", id2labels=None):
        """Yield each augmented image as BGR uint8 (as OpenCV shows it) with its boxes drawn (through Pillow's
        ImageDraw); `mean`/`std` (True for ImageNet's) are undone first. With `waitKey`, also shows each
        image through OpenCV's imshow when cv2 is installed."""
        from PIL import Image, ImageDraw
        for label, encoded in self._samples():
            data = self.imdecode(encoded)
            try:
                self.check_valid_image([data])
                label = self._parse_label(label)
            except RuntimeError as err:
                logging.debug("Invalid image, skipping: %s", err)
                continue
            data, label = self.augmentation_transform(data, label)
            image = data.asnumpy().astype(np.float64)
            if std is not None:
                image *= _IMAGENET_STD if std is True else std
            if mean is not None:
                image += _IMAGENET_MEAN if mean is True else mean
            if clip:
                image = np.clip(image, 0, 255)
            canvas = Image.fromarray(image.astype(np.uint8))
            draw = ImageDraw.Draw(canvas)
            height, width = image.shape[:2]
            for row in label:
                if row[1] * width < 0:
                    continue
                box = [int(row[1] * width), int(row[2] * height), int(row[3] * width), int(row[4] * height)]
                box_color = tuple(int(c) for c in (color or np.random.rand(3) * 255))
                draw.rectangle(box, outline=box_color, width=thickness)
                if id2labels is not None and int(row[0]) in id2labels:
                    draw.text((box[0] + 5, box[1] + 5), str(id2labels[int(row[0])]), fill=(255, 255, 255))
            bgr = np.ascontiguousarray(np.asarray(canvas)[:, :, ::-1])
            if waitKey is not None:
                _show(window_name, bgr, waitKey)
            yield bgr

    def _samples(self):
        try:
            while True:
                yield self.next_sample()
        except StopIteration:
            return

    def sync_label_shape(self, it, verbose=False):
        """Give this iterator and `it` the same label shape (the larger object count); returns `it`."""
        if not isinstance(it, ImageDetIter):
            raise AssertionMXNetError("Synchronize with invalid iterator.")
        if self.label_shape[1] != it.label_shape[1]:
            raise AssertionMXNetError(f"object width mismatch: {self.label_shape[1]} vs {it.label_shape[1]}")
        most = max(self.label_shape[0], it.label_shape[0])
        if most > self.label_shape[0]:
            self.reshape(None, (most, self.label_shape[1]))
        if most > it.label_shape[0]:
            it.reshape(None, (most, it.label_shape[1]))
        if verbose and most > min(self.label_shape[0], it.label_shape[0]):
            logging.info("Resized label_shape to (%d, %d).", most, self.label_shape[1])
        return it


def _show(window_name, image, wait_key):
    try:
        import cv2
    except ImportError as err:
        warnings.warn(f"Unable to import cv2, skip showing the image: {err}")
        return
    cv2.imshow(window_name, image)
    cv2.waitKey(wait_key)
