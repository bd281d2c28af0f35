"""mx.io.ImageRecordIter and its dtype variants: batches equal to those MXNet 1.9.1 printed for a .rec file it
wrote (fixtures/make_image_record_fixtures.py), and on .rec files written here: crops, mirrors, normalisation
against NumPy formulas, random augmentation that is reproducible and independent of the thread count,
shuffling, parts, label sources, mean images, and corrupt files."""
import json
import os
import threading
import weakref

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import mxcy as mx
from mxcy import _imagecodec, recordio
from mxcy.base import MXNetError

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
REF = np.load(os.path.join(FIXTURES, "image_record_mxnet.npz"))
REF_CONFIGS = json.loads(str(REF["configs"]))


def _fixture_args(config):
    args = {"path_imgrec": os.path.join(FIXTURES, "image_record_mxnet.rec"), "batch_size": 3,
            "preprocess_threads": 2, **REF_CONFIGS[config]}
    if "path_imgidx" in args:
        args["path_imgidx"] = os.path.join(FIXTURES, "image_record_mxnet.idx")
    if "label_width" not in args:  # the records hold 2 labels; MXNet read the first from the .lst file
        args["path_imglist"] = os.path.join(FIXTURES, "image_record_mxnet.lst")
    return args


@pytest.mark.parametrize("config", sorted(REF_CONFIGS))
def test_batches_equal_mxnet(config):
    it = mx.io.ImageRecordIter(**_fixture_args(config))
    epochs = 2 if config == "centre_crop" else 1
    for epoch in range(epochs):
        batches = list(it)
        expected = sum(1 for key in REF.files if key.startswith(f"{config}/{epoch}/") and key.endswith("/pad"))
        assert len(batches) == expected
        for number, batch in enumerate(batches):
            key = f"{config}/{epoch}/{number}/"
            assert batch.data[0].dtype == REF[key + "data"].dtype
            np.testing.assert_array_equal(batch.data[0].asnumpy(), REF[key + "data"])
            np.testing.assert_array_equal(batch.label[0].asnumpy(), REF[key + "label"])
            assert batch.pad == int(REF[key + "pad"])
        it.reset()


# --- files written here --------------------------------------------------------------------------------------
def _images(count, size=(10, 12), seed=0):
    rng = np.random.RandomState(seed)
    return [rng.randint(0, 256, size + (3,)).astype(np.uint8) for _ in range(count)]


def _write_rec(path, images, labels=None, fmt=".png", idx=None):
    writer = recordio.MXIndexedRecordIO(idx, path, "w") if idx else recordio.MXRecordIO(path, "w")
    for number, img in enumerate(images):
        label = float(number) if labels is None else labels[number]
        record = recordio.pack(recordio.IRHeader(0, label, number + 100, 0),
                               _imagecodec.encode(img, fmt, 3 if fmt == ".png" else 95, is_rgb=True))
        if idx:
            writer.write_idx(number, record)
        else:
            writer.write(record)
    writer.close()
    return str(path)


@pytest.fixture
def rec(tmp_path):
    images = _images(5)
    return _write_rec(tmp_path / "a.rec", images), images


def _chw(img):
    return img.transpose(2, 0, 1).astype(np.float32)


def test_centre_crop_mirror_and_normalisation_follow_the_formula(rec):
    path, images = rec
    mean, std, scale = np.array([120.5, 100, 80], np.float32), np.array([50, 60, 70], np.float32), 0.25
    it = mx.io.ImageRecordIter(path_imgrec=path, data_shape=(3, 6, 8), batch_size=5, mirror=True, mean_r=mean[0],
                               mean_g=mean[1], mean_b=mean[2], std_r=std[0], std_g=std[1], std_b=std[2], scale=scale)
    batch = it.next()
    for slot, img in enumerate(images):
        crop = img[2:8, 2:10].astype(np.float64)[:, ::-1]  # 10x12 -> the centre 6x8, mirrored
        expected = ((crop - mean) * (scale / std.astype(np.float64))).transpose(2, 0, 1)
        np.testing.assert_allclose(batch.data[0].asnumpy()[slot], expected, rtol=1e-6, atol=1e-5)
    assert batch.label[0].asnumpy().tolist() == [0, 1, 2, 3, 4]
    assert batch.index.tolist() == [100, 101, 102, 103, 104]  # the records' ids


def _windows(img, h, w):
    return [_chw(img[y:y + h, x:x + w]) for y in range(img.shape[0] - h + 1) for x in range(img.shape[1] - w + 1)]


def test_rand_crop_and_rand_mirror_take_windows_of_the_image(tmp_path):
    images = _images(12)
    path = _write_rec(tmp_path / "r.rec", images)
    it = mx.io.ImageRecordIter(path_imgrec=path, data_shape=(3, 7, 7), batch_size=12, rand_crop=True,
                               rand_mirror=True, seed=3)
    data = it.next().data[0].asnumpy()
    mirrored, places = 0, set()
    for img, out in zip(images, data):
        plain = [i for i, win in enumerate(_windows(img, 7, 7)) if np.array_equal(win, out)]
        flipped = [i for i, win in enumerate(_windows(img[:, ::-1], 7, 7)) if np.array_equal(win, out)]
        assert plain or flipped
        mirrored += bool(flipped)
        places.add((plain or flipped)[0])
    assert 0 < mirrored < 12 and len(places) > 3


def _epoch(it):
    return [(b.data[0].asnumpy(), b.label[0].asnumpy().tolist(), b.pad) for b in it]


def _same(a, b):
    return all(np.array_equal(x[0], y[0]) and x[1:] == y[1:] for x, y in zip(a, b)) and len(a) == len(b)


RANDOM_AUG = {"data_shape": (3, 6, 6), "batch_size": 4, "rand_crop": True, "rand_mirror": True, "brightness": 0.3,
              "max_rotate_angle": 20, "pca_noise": 0.1, "random_h": 10, "max_random_contrast": 0.2}


def test_random_augmentation_does_not_depend_on_the_thread_count(tmp_path):
    path = _write_rec(tmp_path / "r.rec", _images(9))
    one = _epoch(mx.io.ImageRecordIter(path_imgrec=path, preprocess_threads=1, **RANDOM_AUG))
    four = _epoch(mx.io.ImageRecordIter(path_imgrec=path, preprocess_threads=4, prefetch_buffer=1, **RANDOM_AUG))
    assert _same(one, four)


def test_seed_aug_repeats_the_augmentation_every_epoch(tmp_path):
    path = _write_rec(tmp_path / "r.rec", _images(8))
    fixed = mx.io.ImageRecordIter(path_imgrec=path, seed_aug=5, **RANDOM_AUG)
    first = _epoch(fixed)
    fixed.reset()
    assert _same(first, _epoch(fixed))
    varying = mx.io.ImageRecordIter(path_imgrec=path, **RANDOM_AUG)
    first = _epoch(varying)
    varying.reset()
    assert not _same(first, _epoch(varying))


def test_shuffle_permutes_every_epoch_reproducibly(tmp_path):
    path = _write_rec(tmp_path / "s.rec", _images(12, size=(4, 4)))
    args = {"path_imgrec": path, "data_shape": (3, 4, 4), "batch_size": 4, "shuffle": True, "seed": 11}
    it = mx.io.ImageRecordIter(**args)
    first = [label for _, labels, _ in _epoch(it) for label in labels]
    it.reset()
    second = [label for _, labels, _ in _epoch(it) for label in labels]
    assert sorted(first) == sorted(second) == list(range(12))
    assert first != second and first != list(range(12))
    assert [label for _, labels, _ in _epoch(mx.io.ImageRecordIter(**args)) for label in labels] == first


def test_round_batch_false_pads_with_zeros(rec):
    """MXNet 1.9.1 reports pad 0 here and leaves the tail unwritten; mxcy reports the padding."""
    path, _ = rec
    batches = _epoch(mx.io.ImageRecordIter(path_imgrec=path, data_shape=(3, 4, 4), batch_size=3, round_batch=False))
    assert [pad for *_, pad in batches] == [0, 1]
    assert batches[1][1] == [3, 4, 0] and batches[1][0][1].any() and not batches[1][0][2].any()


def test_dropped_batches_buffers_are_reused_and_held_batches_keep_their_values(tmp_path):
    path = _write_rec(tmp_path / "h.rec", _images(12, size=(4, 4)))
    args = {"path_imgrec": path, "data_shape": (3, 4, 4), "batch_size": 2, "prefetch_buffer": 1}
    expected = [data for data, _, _ in _epoch(mx.io.ImageRecordIter(**args))]
    it = mx.io.ImageRecordIter(**args)
    held, buffers = [], []  # weak references to every distinct data array handed out
    for epoch in range(3):
        it.reset()
        for k, batch in enumerate(it):
            data = batch.data[0]._data
            if not any(ref() is data for ref in buffers):
                buffers.append(weakref.ref(data))
            if epoch == 1 and k % 2:
                held.append((k, batch.data[0]))
            del data
    assert len(buffers) < 9  # 18 batches: the dropped ones' arrays came back
    for k, data in held:  # not overwritten by the batches after them
        np.testing.assert_array_equal(data.asnumpy(), expected[k])


def test_reset_mid_epoch_drops_the_prefetched_batches(tmp_path):
    path = _write_rec(tmp_path / "m.rec", _images(7, size=(4, 4)))
    it = mx.io.ImageRecordIter(path_imgrec=path, data_shape=(3, 4, 4), batch_size=2, prefetch_buffer=3)
    assert it.next().label[0].asnumpy().tolist() == [0, 1]
    it.reset()
    assert [labels for _, labels, _ in _epoch(it)] == [[0, 1], [2, 3], [4, 5], [6, 0]]


@pytest.mark.parametrize("create, dtype", [
    (mx.io.ImageRecordUInt8Iter, np.uint8), (mx.io.ImageRecordInt8Iter, np.int8),
    (mx.io.ImageRecordUInt8Iter_v1, np.uint8), (mx.io.ImageRecordIter_v1, np.float32)])
def test_dtype_variants(rec, create, dtype):
    path, images = rec
    batch = create(path_imgrec=path, data_shape=(3, 10, 12), batch_size=5, mean_r=10.6).next()
    assert batch.data[0].dtype == dtype and create.__name__.startswith("ImageRecord")
    expected = np.stack([_chw(img) for img in images])
    if dtype == np.int8:  # pixel - round(mean), saturated
        expected[:, 0] -= 11
        expected = np.clip(expected, -128, 127)
    elif dtype == np.float32:
        expected[:, 0] -= np.float32(10.6)
    np.testing.assert_array_equal(batch.data[0].asnumpy(), expected.astype(dtype))


def test_jpeg_records_decode_as_mx_image(tmp_path):
    images = _images(3, size=(20, 24))
    path = _write_rec(tmp_path / "j.rec", images, fmt=".jpg")
    data = mx.io.ImageRecordIter(path_imgrec=path, data_shape=(3, 20, 24), batch_size=3).next().data[0].asnumpy()
    reader = recordio.MXRecordIO(path, "r")
    for out in data:
        _, payload = recordio.unpack(reader.read())
        np.testing.assert_array_equal(out, _chw(mx.image.imdecode(payload).asnumpy()))


def test_parts_and_index_file(tmp_path):
    images = _images(6, size=(4, 4))
    path = _write_rec(tmp_path / "p.rec", images, idx=str(tmp_path / "p.idx"))
    labels = []
    for part in range(3):
        for extra in ({}, {"path_imgidx": str(tmp_path / "p.idx")}):
            it = mx.io.ImageRecordIter(path_imgrec=path, data_shape=(3, 4, 4), batch_size=1, num_parts=3,
                                       part_index=part, **extra)
            labels.append([int(label) for _, batch, _ in _epoch(it) for label in batch])
    # equal-size records: byte parts and index parts agree, two records each
    assert labels == [[0, 1], [0, 1], [2, 3], [2, 3], [4, 5], [4, 5]]


def test_directory_of_rec_files(tmp_path):
    folder = tmp_path / "recs"
    folder.mkdir()
    _write_rec(folder / "a.rec", _images(2, size=(4, 4)))
    _write_rec(folder / "b.rec", _images(2, size=(4, 4)), labels=[7.0, 8.0])
    it = mx.io.ImageRecordIter(path_imgrec=str(folder), data_shape=(3, 4, 4), batch_size=4)
    assert it.next().label[0].asnumpy().tolist() == [0, 1, 7, 8]


def test_label_sources(tmp_path, rec):
    path = _write_rec(tmp_path / "l.rec", _images(2, size=(4, 4)), labels=[[1, 2, 3], [4, 5, 6]])
    it = mx.io.ImageRecordIter(path_imgrec=path, data_shape=(3, 4, 4), batch_size=2, label_width=3)
    assert it.provide_label[0].shape == (2, 3)
    assert it.next().label[0].asnumpy().tolist() == [[1, 2, 3], [4, 5, 6]]
    with pytest.raises(MXNetError, match="3-dimensional label but label_width is set to 2"):
        mx.io.ImageRecordIter(path_imgrec=path, data_shape=(3, 4, 4), batch_size=2, label_width=2)
    with pytest.raises(MXNetError, match="label_width must be 1"):
        mx.io.ImageRecordIter(path_imgrec=rec[0], data_shape=(3, 4, 4), batch_size=2, label_width=2)
    lst = tmp_path / "l.lst"
    lst.write_text("100\t9\t8\ta.png\n101\t7\t6\tb.png\n")
    it = mx.io.ImageRecordIter(path_imgrec=path, data_shape=(3, 4, 4), batch_size=2, label_width=2,
                               path_imglist=str(lst))
    assert it.next().label[0].asnumpy().tolist() == [[9, 8], [7, 6]]


def test_mean_image_is_made_when_missing_then_used(rec, tmp_path):
    path, images = rec
    mean_file = str(tmp_path / "mean.nd")
    args = {"path_imgrec": path, "data_shape": (3, 10, 12), "batch_size": 2, "mean_img": mean_file}
    it = mx.io.ImageRecordIter(**args)
    mean = np.mean([_chw(img).astype(np.float64) for img in images], axis=0)
    saved = mx.nd.load(mean_file)["mean_img"].asnumpy()
    np.testing.assert_allclose(saved, mean, rtol=1e-6)
    first = it.next().data[0].asnumpy()
    np.testing.assert_allclose(first[0], _chw(images[0]) - saved, atol=1e-4)
    loaded = mx.io.ImageRecordIter(**args).next().data[0].asnumpy()  # now read from the file
    np.testing.assert_array_equal(loaded, first)


def test_provide_data_and_getters(rec):
    it = mx.io.ImageRecordIter(path_imgrec=rec[0], data_shape=(3, 4, 4), batch_size=2, data_name="img",
                               label_name="lab")
    assert it.provide_data[0].name == "img" and it.provide_data[0].shape == (2, 3, 4, 4)
    assert it.provide_label[0].name == "lab" and it.provide_label[0].shape == (2,)
    assert it.iter_next()
    assert it.getdata().shape == (2, 3, 4, 4) and it.getlabel().asnumpy().tolist() == [0, 1]
    assert it.getpad() == 0 and it.getindex().tolist() == [100, 101]


# --- bad input ------------------------------------------------------------------------------------------------
def _run_with_timeout(fn, seconds=60):
    """fn() in a thread; its exception, or an AssertionError when it hangs."""
    outcome = []

    def target():
        try:
            fn()
            outcome.append(None)
        except Exception as err:  # noqa: BLE001 - handed back to the test
            outcome.append(err)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert outcome, "the iterator hung"
    return outcome[0]


def test_corrupt_record_names_the_file_and_record_and_does_not_hang(tmp_path):
    images = _images(6, size=(4, 4))
    path = _write_rec(tmp_path / "c.rec", images)
    with open(path, "rb") as f:
        raw = bytearray(f.read())
    offset = raw.index(b"PNG", raw.index(b"PNG", raw.index(b"PNG") + 1) + 1)  # the third record's image
    raw[offset:offset + 20] = b"\x00" * 20
    with open(path, "wb") as f:
        f.write(bytes(raw))
    it = mx.io.ImageRecordIter(path_imgrec=path, data_shape=(3, 4, 4), batch_size=2, preprocess_threads=3)
    err = _run_with_timeout(lambda: list(it))
    assert isinstance(err, MXNetError) and "c.rec" in str(err) and "record 2" in str(err)
    it.reset()  # the workers survive: the next epoch fails the same way
    err = _run_with_timeout(lambda: list(it))
    assert isinstance(err, MXNetError) and "record 2" in str(err)


@pytest.mark.parametrize("damage, message", [
    (lambda raw: raw[:-9], "the last record .* is truncated"),
    (lambda raw: b"\x01" + raw[1:], "no record header at byte 0"),
])
def test_damaged_file_fails_at_construction(tmp_path, damage, message):
    path = _write_rec(tmp_path / "d.rec", _images(2, size=(4, 4)))
    with open(path, "rb") as f:
        raw = f.read()
    with open(path, "wb") as f:
        f.write(damage(raw))
    with pytest.raises(MXNetError, match=message):
        mx.io.ImageRecordIter(path_imgrec=path, data_shape=(3, 4, 4), batch_size=1)


@pytest.mark.parametrize("kwargs, message", [
    ({"path_imgrec": ""}, "path_imgrec is required"),
    ({"dtype": "float16"}, "unknown dtype float16"),
    ({"data_shape": (2, 4, 4)}, "1, 3 or 4 channels"),
    ({"data_shape": (4, 4)}, "channels, height, width"),
    ({"aug_seq": "det_aug_default"}, "aug_seq"),
    ({"data_shape": (3, 20, 20), "max_crop_size": 30, "min_crop_size": 30}, "smaller than max_crop_size"),
    ({"random_resized_crop": True, "rand_crop": True}, "conflicts"),
    ({"inter_method": 7}, "inter_method"),
    ({"rotate": 30, "inter_method": 0}, "inter_method 0"),
    ({"part_index": 1}, "part_index"),
    ({"path_imgrec": "/nonexistent.rec"}, "cannot open"),
])
def test_bad_arguments(rec, kwargs, message):
    args = {"path_imgrec": rec[0], "data_shape": (3, 4, 4), "batch_size": 2, **kwargs}
    with pytest.raises(MXNetError, match=message):
        mx.io.ImageRecordIter(**args)


def test_module_fit_learns_from_record_files(tmp_path):
    """Bright images are class 1, dark ones class 0: a linear Module fitted on the .rec file separates them."""
    rng = np.random.RandomState(0)
    labels = [float(i % 2) for i in range(16)]
    images = [(rng.randint(0, 100, (6, 6, 3)) + 150 * int(label)).astype(np.uint8) for label in labels]
    path = _write_rec(tmp_path / "fit.rec", images, labels)
    train = mx.io.ImageRecordIter(path_imgrec=path, data_shape=(3, 4, 4), batch_size=4, rand_crop=True,
                                  rand_mirror=True, shuffle=True, scale=1 / 255)
    net = mx.sym.SoftmaxOutput(mx.sym.FullyConnected(mx.sym.Flatten(mx.sym.Variable("data")), num_hidden=2),
                               name="softmax")
    mod = mx.mod.Module(net, context=mx.cpu())
    mx.random.seed(1)
    mod.fit(train, num_epoch=6, optimizer="sgd", optimizer_params={"learning_rate": 0.5},
            initializer=mx.init.Xavier())
    test = mx.io.ImageRecordIter(path_imgrec=path, data_shape=(3, 4, 4), batch_size=4, scale=1 / 255)
    assert mod.score(test, "acc")[0][1] == 1.0


@settings(max_examples=15, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3035), st.integers(0, 255)), min_size=1, max_size=6), st.booleans())
def test_damaged_mxnet_file_loads_or_raises_mxnet_error(tmp_path_factory, edits, truncate):
    """Bytes of MXNet's fixture overwritten (and the file maybe cut): every batch reads, or an MXNetError."""
    with open(os.path.join(FIXTURES, "image_record_mxnet.rec"), "rb") as f:
        raw = bytearray(f.read())
    for offset, value in edits:
        raw[offset] = value
    path = tmp_path_factory.mktemp("damaged") / "x.rec"
    path.write_bytes(bytes(raw[:edits[0][0]] if truncate else raw))

    def read_all():
        for _ in mx.io.ImageRecordIter(path_imgrec=str(path), data_shape=(3, 5, 5), batch_size=2, label_width=2,
                                       preprocess_threads=2):
            pass

    err = _run_with_timeout(read_all)
    assert err is None or isinstance(err, MXNetError), repr(err)


def test_four_channel_images_keep_their_alpha(tmp_path):
    rng = np.random.RandomState(3)
    images = [rng.randint(0, 256, (4, 5, 4)).astype(np.uint8) for _ in range(2)]
    path = _write_rec(tmp_path / "rgba.rec", images)
    data = mx.io.ImageRecordIter(path_imgrec=path, data_shape=(4, 4, 5), batch_size=2, mean_a=10,
                                 std_a=2).next().data[0].asnumpy()
    expected = np.stack([_chw(img) for img in images])
    expected[:, 3] = (expected[:, 3] - 10) / 2
    np.testing.assert_array_equal(data, expected)
    with pytest.raises(MXNetError, match="expected 4 channels, got 3"):
        mx.io.ImageRecordIter(path_imgrec=_write_rec(tmp_path / "rgb.rec", _images(2, (4, 5))),
                              data_shape=(4, 4, 5), batch_size=2)
