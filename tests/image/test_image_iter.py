"""mx.image.ImageIter against every batch MXNet 1.9.1 gives over the same files (fixtures/), shuffling,
partitions, augmenter lists and errors."""
import os
import random

import numpy as np
import pytest

import mxcy as mx

import image_iter_files  # noqa: E402  (tests/image/conftest.py puts fixtures/ on the path)

REF = np.load(os.path.join(os.path.dirname(__file__), "fixtures", "image_iter_reference.npz"))


@pytest.mark.parametrize("case", ["lst_pad", "lst_discard", "lst_rollover", "rec", "rec_idx_part1", "list"])
def test_batches_equal_mxnet(iter_files, case):
    kwargs = image_iter_files.cases(*iter_files)[case]
    _assert_arrays_equal(image_iter_files.epoch_arrays(mx.image.ImageIter(2, (3, 5, 4), **kwargs), case), case)


def _assert_arrays_equal(got, prefix):
    assert sorted(got) == sorted(k for k in REF.files if k.rsplit("_", 3)[0] == prefix)
    for key, value in got.items():
        np.testing.assert_allclose(value, REF[key], rtol=1e-5, atol=1e-4 if key.endswith("data") else 0)


def test_shuffle_visits_every_image_once_per_epoch(iter_files):
    lst, _, _, root = iter_files
    random.seed(0)
    it = mx.image.ImageIter(1, (3, 4, 4), path_imglist=lst, path_root=root, label_width=2, shuffle=True,
                            resize=5)
    epochs = []
    for _ in range(3):
        epochs.append([tuple(batch.label[0].asnumpy()[0]) for batch in it])
        it.reset()
    assert all(sorted(e) == sorted(map(tuple, image_iter_files.LABELS)) for e in epochs)
    assert len({tuple(e) for e in epochs}) > 1


def test_aug_list_replaces_create_augmenter(iter_files):
    lst, _, _, root = iter_files
    it = mx.image.ImageIter(5, (3, 3, 3), path_imglist=lst, path_root=root, label_width=2,
                            aug_list=[mx.image.ForceResizeAug((3, 3), 0), mx.image.CastAug()])
    batch = next(it)
    want = [mx.image.imresize(mx.nd.array(img, dtype=np.uint8), 3, 3, 0).asnumpy().transpose(2, 0, 1)
            for img in image_iter_files.images()]
    np.testing.assert_array_equal(batch.data[0].asnumpy(), np.stack(want))
    assert it.provide_data == [("data", (5, 3, 3, 3))] and it.provide_label == [("softmax_label", (5, 2))]


def test_broken_image_names_its_file(tmp_path):
    (tmp_path / "bad.png").write_bytes(b"not an image")
    it = mx.image.ImageIter(1, (3, 4, 4), imglist=[[0, "bad.png"]], path_root=str(tmp_path))
    with pytest.raises(RuntimeError, match="Broken image filename: bad.png"):
        next(it)


@pytest.mark.parametrize("kwargs, error", [
    ({}, AssertionError),
    ({"imglist": [[0, "a.png"]], "dtype": "int8"}, AssertionError),
    ({"imglist": [[0, "a.png"]], "last_batch_handle": "keep"}, ValueError),
    ({"imglist": [[0, "a.png"]], "data_shape": (1, 4, 4)}, ValueError),
], ids=["no-source", "label-dtype", "last-batch", "channels"])
def test_bad_arguments(kwargs, error):
    kwargs = {"data_shape": (3, 4, 4), **kwargs}
    with pytest.raises(error):
        mx.image.ImageIter(1, **kwargs)
