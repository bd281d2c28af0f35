"""mx.io.ImageDetRecordIter: batches and padded labels equal to MXNet 1.9.1's for a .rec file it wrote
(fixtures/make_image_record_fixtures.py), and on files written here: random pad/crop/mirror keep each box on
its object, the crop samplers' constraints, image lists, and bad labels."""
import json
import os

import numpy as np
import pytest

import mxcy as mx
from mxcy import _imagecodec, recordio
from mxcy.base import MXNetError
from mxcy.io.image_det_aug import DetLabel

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
REF = np.load(os.path.join(FIXTURES, "image_record_mxnet.npz"))
DET_CONFIGS = json.loads(str(REF["det_configs"]))


@pytest.mark.parametrize("config", sorted(DET_CONFIGS))
def test_batches_equal_mxnet(config):
    it = mx.io.ImageDetRecordIter(path_imgrec=os.path.join(FIXTURES, "image_det_mxnet.rec"), batch_size=2,
                                  preprocess_threads=2, **DET_CONFIGS[config])
    for epoch in range(2 if config == "force" else 1):
        batches = list(it)
        prefix = f"det/{config}/{epoch}/"
        assert len(batches) == sum(1 for key in REF.files if key.startswith(prefix) and key.endswith("/pad"))
        for number, batch in enumerate(batches):
            key = f"{prefix}{number}/"
            np.testing.assert_array_equal(batch.data[0].asnumpy(), REF[key + "data"])
            np.testing.assert_array_equal(batch.label[0].asnumpy(), REF[key + "label"])
            assert batch.pad == int(REF[key + "pad"])
        it.reset()


# --- files written here --------------------------------------------------------------------------------------
BOX = (0.25, 0.375, 0.625, 0.75)  # left, top, right, bottom of the white box drawn in every image


def _box_images(count, size=(32, 32)):
    images = []
    for _ in range(count):
        img = np.zeros(size + (3,), np.uint8)
        h, w = size
        img[int(BOX[1] * h):int(BOX[3] * h), int(BOX[0] * w):int(BOX[2] * w)] = 255
        images.append(img)
    return images


def _write(path, images, labels):
    writer = recordio.MXRecordIO(str(path), "w")
    for number, (img, label) in enumerate(zip(images, labels)):
        writer.write(recordio.pack(recordio.IRHeader(0, label, number, 0), _imagecodec.encode(img, ".png", 3, True)))
    writer.close()
    return str(path)


def _box_of_white(img):
    """(left, top, right, bottom) of the bright pixels as fractions of the image."""
    rows, cols = np.nonzero(img.mean(axis=0) > 127)
    h, w = img.shape[1:]
    return cols.min() / w, rows.min() / h, (cols.max() + 1) / w, (rows.max() + 1) / h


def test_random_pad_crop_and_mirror_move_the_box_with_the_object(tmp_path):
    path = _write(tmp_path / "b.rec", _box_images(16, (128, 128)), [[2, 5, 1, *BOX]] * 16)
    it = mx.io.ImageDetRecordIter(path_imgrec=path, data_shape=(3, 64, 64), batch_size=16, rand_mirror_prob=0.5,
                                  rand_pad_prob=0.5, max_pad_scale=2.0, rand_crop_prob=0.7, min_crop_scales=0.5,
                                  min_crop_object_coverages=0.99, fill_value=0, seed=4, inter_method=0)
    batch = it.next()
    boxes = set()
    for data, label in zip(batch.data[0].asnumpy(), batch.label[0].asnumpy()):
        assert label[:4].tolist() == [3, 64, 64, 7] and label[4:7].tolist() == [2, 5, 1]
        expected = label[7:11]
        # MXNet cuts crops and pads at whole source pixels (crops are at least 64 of them) and the output
        # has 64 pixels: the drawn box may be off by a pixel of each
        np.testing.assert_allclose(_box_of_white(data), expected, atol=2 / 64)
        boxes.add(tuple(np.round(expected, 3)))
    assert len(boxes) > 4  # the augmentation did move the boxes


def test_augmentation_does_not_depend_on_the_thread_count(tmp_path):
    path = _write(tmp_path / "t.rec", _box_images(6), [[2, 5, 1, *BOX]] * 6)
    args = {"path_imgrec": path, "data_shape": (3, 16, 16), "batch_size": 3, "rand_mirror_prob": 0.5,
            "rand_crop_prob": 1, "min_crop_scales": 0.3, "rand_pad_prob": 0.5, "max_pad_scale": 1.5,
            "random_hue_prob": 1, "max_random_hue": 20, "random_contrast_prob": 1, "max_random_contrast": 0.3}
    one, three = ([(b.data[0].asnumpy(), b.label[0].asnumpy())
                   for b in mx.io.ImageDetRecordIter(preprocess_threads=threads, **args)] for threads in (1, 3))
    assert all(np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) for a, b in zip(one, three))


def test_image_list_labels_of_any_width(tmp_path):
    path = _write(tmp_path / "l.rec", _box_images(2, (8, 8)), [[2, 5, 1, 0, 0, 1, 1]] * 2)
    lst = tmp_path / "l.lst"
    lst.write_text("0 2 5 3 0.1 0.1 0.5 0.5 a.png\n1 2 5 4 0 0 1 1 5 0.5 0.5 0.9 0.9 b.png\n")
    it = mx.io.ImageDetRecordIter(path_imgrec=path, path_imglist=str(lst), data_shape=(3, 8, 8), batch_size=2)
    label = it.next().label[0].asnumpy()
    assert label.shape == (2, 16)
    np.testing.assert_allclose(label[0], [3, 8, 8, 7, 2, 5, 3, 0.1, 0.1, 0.5, 0.5] + [-1] * 5, rtol=1e-6)
    np.testing.assert_allclose(label[1], [3, 8, 8, 12, 2, 5, 4, 0, 0, 1, 1, 5, 0.5, 0.5, 0.9, 0.9], rtol=1e-6)


def test_detlabel_crop_constraints_and_emit_modes():
    label = DetLabel([2, 5, 1, 0.0, 0.0, 0.4, 0.4, 2, 0.5, 0.5, 1.0, 1.0])
    sampler = {"min_crop_overlaps": 0.5, "max_crop_overlaps": 1, "min_crop_sample_coverages": 0,
               "max_crop_sample_coverages": 1, "min_crop_object_coverages": 0, "max_crop_object_coverages": 1}
    assert not label.try_crop((0.2, 0.2, 0.3, 0.3), sampler, "center", 0.3)  # IoU with each box < 0.5
    assert len(label.objects) == 2
    assert label.try_crop((0.5, 0.5, 0.5, 0.5), sampler, "center", 0.3)  # IoU 1 with the second box
    np.testing.assert_allclose(label.to_array(), [2, 5, 2, 0, 0, 1, 1])
    overlap = DetLabel([2, 5, 1, 0.0, 0.0, 0.4, 0.4, 2, 0.5, 0.5, 1.0, 1.0])
    free = dict(sampler, min_crop_overlaps=0)
    assert overlap.try_crop((0.3, 0.3, 0.7, 0.7), free, "overlap", 0.5)  # keeps the box that is 100% inside
    np.testing.assert_allclose(overlap.objects, [[2, 2 / 7, 2 / 7, 1, 1]], rtol=1e-6)


@pytest.mark.parametrize("labels, kwargs, message", [
    ([[2, 5, 1, 0, 0, 1, 1]] * 2, {"label_pad_width": 3}, "label_pad_width 3 is smaller"),
    ([5.0, 6.0], {}, "not enough label"),
    ([[2, 4, 1, 0, 0, 1, 1]] * 2, {}, "bad detection label"),
    ([[2, 5, 1, 0, 0, 1, 1]] * 2, {"label_width": 8}, "7-dimensional label but label_width is set to 8"),
    ([[2, 5, 1, 0, 0, 1, 1]] * 2, {"min_crop_scales": (0.1, 0.2), "num_crop_sampler": 3}, "2 values for 3"),
    ([[2, 5, 1, 0, 0, 1, 1]] * 2, {"resize_mode": "stretch"}, "resize_mode"),
    ([[2, 5, 1, 0, 0, 1, 1]] * 2, {"dtype": "uint8"}, "dtype uint8"),
])
def test_bad_labels_and_arguments(tmp_path, labels, kwargs, message):
    path = _write(tmp_path / "x.rec", _box_images(2, (8, 8)), labels)
    with pytest.raises(MXNetError, match=message):
        mx.io.ImageDetRecordIter(path_imgrec=path, data_shape=(3, 8, 8), batch_size=2, **kwargs)
