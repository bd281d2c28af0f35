"""mx.image.detection: each augmenter and ImageDetIter against MXNet 1.9.1's outputs under the same Python
random seed (fixtures/detection_reference.npz), label parsing, label shapes and errors."""
import os
import random

import numpy as np
import pytest

import mxcy as mx

import image_iter_files as files  # noqa: E402  (tests/image/conftest.py puts fixtures/ on the path)
from make_detection_fixtures import augmenters  # noqa: E402  (only builds augmenters; imports mxnet lazily)

REF = np.load(os.path.join(os.path.dirname(__file__), "fixtures", "detection_reference.npz"))


@pytest.mark.parametrize("name", ["flip", "crop", "pad", "multi_crop"])
@pytest.mark.parametrize("seed", range(4))
def test_augmenters_equal_mxnet_under_the_same_seed(name, seed):
    img = mx.nd.array(files.images()[2], dtype=np.uint8)
    random.seed(seed)
    got_img, got_label = augmenters(mx.image.det)[name](img, np.array(files.DET_OBJECTS[2], np.float32))
    np.testing.assert_array_equal(got_img.asnumpy(), REF[f"{name}_{seed}_img"])
    np.testing.assert_allclose(got_label, REF[f"{name}_{seed}_label"], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("case", list(files.DET_ITER_CASES))
def test_image_det_iter_equals_mxnet(det_files, case):
    lst, root = det_files
    random.seed(11)
    it = mx.image.ImageDetIter(2, (3, 6, 5), path_imglist=lst, path_root=root, **files.DET_ITER_CASES[case])
    assert it.provide_label == [("label", (2, 3, 5))]
    got = files.epoch_arrays(it, f"iter_{case}")
    assert sorted(got) == sorted(k for k in REF.files if k.rsplit("_", 3)[0] == f"iter_{case}")
    for key, value in got.items():
        np.testing.assert_allclose(value, REF[key], rtol=1e-5, atol=1e-4 if key.endswith("data") else 1e-7)


def test_labels_are_parsed_padded_and_synchronised(det_files):
    lst, root = det_files
    it = mx.image.ImageDetIter(5, (3, 4, 4), path_imglist=lst, path_root=root)
    labels = next(it).label[0].asnumpy()
    for row, objects in zip(labels, files.DET_OBJECTS):
        np.testing.assert_allclose(row[:len(objects)], objects, rtol=1e-6)
        assert (row[len(objects):] == -1).all()
    two = mx.image.ImageDetIter(1, (3, 4, 4), imglist=[files.det_label(files.DET_OBJECTS[0]) + ["img0.png"]],
                                path_root=root)
    assert two.label_shape == (2, 5)
    assert it.sync_label_shape(two) is two and two.label_shape == (3, 5)
    np.testing.assert_allclose(next(two).label[0].asnumpy()[0, 2], -1)
    with pytest.raises(ValueError, match="reduce label count"):
        it.reshape(label_shape=(2, 5))


def test_draw_next_yields_bgr_images_with_boxes(det_files):
    lst, root = det_files
    it = mx.image.ImageDetIter(1, (3, 20, 20), path_imglist=lst, path_root=root)
    first = next(it.draw_next(color=(255, 0, 0), thickness=1))
    assert first.shape == (20, 20, 3) and first.dtype == np.uint8
    # the first object's box, xmin = 0.1 * 20: its left edge drawn in red, which is BGR (0, 0, 255)
    assert (first[4:14, 2] == [0, 0, 255]).all()


@pytest.mark.parametrize("raw, match", [
    ([2, 5, 0, 0.1, 0.1], "Label shape is invalid"),
    ([2, 5, 0, 0.1, 0.1, 0.5, 0.5, 1], "inconsistent with annotation width"),
    ([2, 5, 0, 0.5, 0.1, 0.2, 0.5], "no valid label"),
])
def test_bad_labels_are_runtime_errors(det_files, raw, match):
    lst, root = det_files
    it = mx.image.ImageDetIter(1, (3, 4, 4), path_imglist=lst, path_root=root)
    with pytest.raises(RuntimeError, match=match):
        it._parse_label(np.array(raw, np.float32))


def test_borrow_and_select_check_their_augmenters():
    with pytest.raises(TypeError, match="DetBorrowAug"):
        mx.image.DetBorrowAug(mx.image.DetHorizontalFlipAug(0.5))
    with pytest.raises(ValueError, match="DetRandomSelectAug"):
        mx.image.DetRandomSelectAug([mx.image.CastAug()])
    augs = mx.image.CreateDetAugmenter((3, 8, 8), resize=10, rand_crop=0.5, rand_pad=0.5, rand_mirror=True,
                                       brightness=0.1, mean=True)
    assert [type(a).__name__ for a in augs] == ["DetBorrowAug", "DetRandomSelectAug", "DetHorizontalFlipAug",
                                                "DetRandomSelectAug", "DetBorrowAug", "DetBorrowAug",
                                                "DetBorrowAug", "DetBorrowAug"]


@pytest.mark.parametrize("make", [
    lambda: mx.image.DetRandomCropAug(area_range=(0.5, 0.2)),
    lambda: mx.image.DetRandomCropAug(aspect_ratio_range=(0, 1)),
    lambda: mx.image.DetRandomPadAug(area_range=(1.0, 1.0)),
    lambda: mx.image.DetRandomPadAug(aspect_ratio_range=(2, 1)),
], ids=["crop-area", "crop-ratio", "pad-area", "pad-ratio"])
def test_unusable_ranges_warn_and_leave_samples_alone(make):
    with pytest.warns(UserWarning, match="Skip DetRandom"):
        aug = make()
    img, label = mx.nd.ones((4, 4, 3)), np.array(files.DET_OBJECTS[0], np.float32)
    out_img, out_label = aug(img, label)
    assert out_img is img and out_label is label
