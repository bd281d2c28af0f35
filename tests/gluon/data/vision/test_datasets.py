"""Vision datasets read small files the tests write in the exact standard formats."""
import gzip
import io
import os
import struct
import tarfile

import numpy as np
import pytest
from PIL import Image

import mxcy as mx
from mxcy.base import MXNetError
from mxcy.gluon.data import DataLoader, vision

RNG = np.random.default_rng(0)


def _idx_bytes(magic, array):
    return struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


def _write_mnist(root, prefix, images, labels, gz=True):
    for stem, payload in ((f"{prefix}-images-idx3-ubyte", _idx_bytes(2051, images)),
                          (f"{prefix}-labels-idx1-ubyte", _idx_bytes(2049, labels))):
        opener = gzip.open if gz else open
        with opener(os.path.join(root, stem + (".gz" if gz else "")), "wb") as f:
            f.write(payload)


@pytest.mark.parametrize("cls, gz", [(vision.MNIST, True), (vision.FashionMNIST, False)])
def test_mnist_formats(tmp_path, cls, gz):
    images = RNG.integers(0, 256, (5, 28, 28), dtype=np.uint8)
    labels = np.array([3, 1, 4, 1, 5], np.uint8)
    _write_mnist(str(tmp_path), "t10k", images, labels, gz)
    ds = cls(root=str(tmp_path), train=False)
    assert len(ds) == 5
    img, label = ds[2]
    assert img.shape == (28, 28, 1) and img.dtype == np.uint8 and isinstance(img, mx.nd.NDArray)
    np.testing.assert_array_equal(img.asnumpy()[:, :, 0], images[2])
    assert label == 4 and label.dtype == np.int32
    scaled = cls(root=str(tmp_path), train=False, transform=lambda d, l: (d.astype("float32") / 255, l))
    np.testing.assert_allclose(scaled[0][0].asnumpy()[:, :, 0], images[0] / 255, rtol=1e-6)


def test_mnist_missing_and_corrupt_files(tmp_path):
    with pytest.raises(MXNetError, match="train-images-idx3-ubyte.gz.*not found in .*put the files"):
        vision.MNIST(root=str(tmp_path))
    _write_mnist(str(tmp_path), "train", np.zeros((2, 28, 28), np.uint8), np.zeros(3, np.uint8))
    with pytest.raises(MXNetError, match="2 images but .* 3 labels"):
        vision.MNIST(root=str(tmp_path))
    with gzip.open(str(tmp_path / "train-labels-idx1-ubyte.gz"), "wb") as f:
        f.write(struct.pack(">II", 2049, 5) + b"\0\0")
    with pytest.raises(MXNetError, match="MNIST: .*labels-idx1-ubyte.gz is truncated: the header promises 5 labels"):
        vision.MNIST(root=str(tmp_path))


def _cifar_rows(n, label_bytes):
    labels = RNG.integers(0, 100, (n, label_bytes), dtype=np.uint8)
    pixels = RNG.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)
    return np.concatenate([labels, pixels.reshape(n, -1)], axis=1).tobytes(), labels, pixels


def test_cifar10_batches(tmp_path):
    expected = []
    for i in range(1, 6):
        raw, labels, pixels = _cifar_rows(2, 1)
        (tmp_path / f"data_batch_{i}.bin").write_bytes(raw)
        expected.append((labels, pixels))
    ds = vision.CIFAR10(root=str(tmp_path))
    assert len(ds) == 10
    img, label = ds[7]  # batch 4, row 1
    np.testing.assert_array_equal(img.asnumpy(), expected[3][1][1].transpose(1, 2, 0))
    assert label == expected[3][0][1, 0] and label.dtype == np.int32
    with pytest.raises(MXNetError, match="test_batch.bin"):
        vision.CIFAR10(root=str(tmp_path), train=False)


@pytest.mark.parametrize("fine", [False, True])
def test_cifar100_from_archive(tmp_path, fine):
    raw, labels, pixels = _cifar_rows(3, 2)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("cifar-100-binary/test.bin")
        info.size = len(raw)
        tar.addfile(info, io.BytesIO(raw))
    (tmp_path / "cifar-100-binary.tar.gz").write_bytes(buf.getvalue())
    ds = vision.CIFAR100(root=str(tmp_path), fine_label=fine, train=False)
    img, label = ds[1]
    np.testing.assert_array_equal(img.asnumpy(), pixels[1].transpose(1, 2, 0))
    assert label == labels[1, int(fine)]


def _png(array):
    out = io.BytesIO()
    Image.fromarray(array).save(out, format="PNG")
    return out.getvalue()


def test_image_record_dataset_with_workers(tmp_path):
    rec = str(tmp_path / "img.rec")
    writer = mx.recordio.MXIndexedRecordIO(str(tmp_path / "img.idx"), rec, "w")
    images = [RNG.integers(0, 256, (4, 6, 3), dtype=np.uint8) for _ in range(3)]
    for i, img in enumerate(images):
        writer.write_idx(i, mx.recordio.pack((0, float(i), i, 0), _png(img)))
    writer.close()
    ds = vision.ImageRecordDataset(rec)
    img, label = ds[1]
    np.testing.assert_array_equal(img.asnumpy(), images[1])  # RGB, HWC, as mx.image.imdecode
    assert label == 1.0
    gray, _ = vision.ImageRecordDataset(rec, flag=0)[0]
    assert gray.shape == (4, 6, 1)
    for i, (x, y) in enumerate(DataLoader(ds, 1, num_workers=2)):
        np.testing.assert_array_equal(x.asnumpy()[0], images[i])
        assert y.asscalar() == i


def test_image_folder_and_list(tmp_path):
    images = {}
    for cls in ["cat", "ant"]:
        (tmp_path / cls).mkdir()
        for name in ["b.png", "a.png"]:
            images[(cls, name)] = RNG.integers(0, 256, (3, 2, 3), dtype=np.uint8)
            (tmp_path / cls / name).write_bytes(_png(images[(cls, name)]))
    (tmp_path / "cat" / "notes.txt").write_text("x")
    (tmp_path / "stray.png").write_bytes(b"")
    with pytest.warns(UserWarning, match="Ignoring"):
        ds = vision.ImageFolderDataset(str(tmp_path))
    assert ds.synsets == ["ant", "cat"]
    assert [(os.path.relpath(p, tmp_path), l) for p, l in ds.items] == [
        ("ant/a.png", 0), ("ant/b.png", 0), ("cat/a.png", 1), ("cat/b.png", 1)]
    img, label = ds[2]
    np.testing.assert_array_equal(img.asnumpy(), images[("cat", "a.png")])
    assert label == 1
    (tmp_path / "list.lst").write_text("0\t2.0\tcat/b.png\n1\t1.0\t3.5\tant/a.png\n")
    listed = vision.ImageListDataset(str(tmp_path), "list.lst")
    img, label = listed[0]
    np.testing.assert_array_equal(img.asnumpy(), images[("cat", "b.png")])
    assert label == 2.0
    np.testing.assert_array_equal(listed[1][1], np.float32([1.0, 3.5]))
    from_list = vision.ImageListDataset(str(tmp_path), [[4, "ant/b.png"]])
    assert from_list[0][1] == 4.0
