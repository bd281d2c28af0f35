"""Dataset views (transform, filter, shard, take, sample), ArrayDataset, RecordFileDataset."""
import numpy as np
import pytest

import mxcy as mx
from mxcy import gluon

data = gluon.data


def _square(x):
    return x * x


def test_transform_and_transform_first():
    ds = data.SimpleDataset(list(range(5)))
    assert list(ds.transform(_square)) == [0, 1, 4, 9, 16]
    eager = ds.transform(_square, lazy=False)
    assert isinstance(eager, data.SimpleDataset) and list(eager) == [0, 1, 4, 9, 16]
    pairs = data.ArrayDataset(np.arange(3), np.array([10, 20, 30]))
    assert [tuple(p) for p in pairs.transform(lambda x, y: (y, x))] == [(10, 0), (20, 1), (30, 2)]
    assert [tuple(p) for p in pairs.transform_first(_square)] == [(0, 10), (1, 20), (4, 30)]
    assert data.SimpleDataset([3]).transform_first(_square)[0] == 9


def test_filter_take_sample():
    ds = data.SimpleDataset(list(range(20)))
    assert list(ds.filter(lambda x: x % 7 == 0)) == [0, 7, 14]
    assert list(ds.transform(lambda x: x + 1).filter(lambda x: x % 7 == 0)) == [7, 14]
    assert list(ds.take(3)) == [0, 1, 2] and len(ds.take(None)) == 20 and len(ds.take(99)) == 20
    assert list(ds.sample(data.SequentialSampler(3, start=4))) == [4, 5, 6]
    with pytest.raises(TypeError, match="Invalid sampler"):
        ds.sample([1, 2])


def test_shard_splits_like_mxnet():
    ds = data.SimpleDataset(list(range(10)))
    shards = [list(ds.shard(4, i)) for i in range(4)]
    assert shards == [[0, 1, 2], [3, 4, 5], [6, 7], [8, 9]]
    with pytest.raises(ValueError, match=r"index must be in \[0, 4\)"):
        ds.shard(4, 4)


def test_array_dataset():
    x, y = np.arange(12).reshape(4, 3), mx.nd.array([1, 2, 3, 4])
    ds = data.ArrayDataset(x, y)
    sample = ds[2]
    np.testing.assert_array_equal(sample[0], [6, 7, 8])
    assert sample[1] == 3 and isinstance(sample[1], np.float32)  # 1-D NDArrays are read as NumPy
    assert len(ds) == 4
    np.testing.assert_array_equal(data.ArrayDataset(x)[1], [3, 4, 5])
    with pytest.raises(ValueError, match="same length"):
        data.ArrayDataset(x, np.arange(3))


def test_record_file_dataset(tmp_path):
    rec, idx = str(tmp_path / "d.rec"), str(tmp_path / "d.idx")
    writer = mx.recordio.MXIndexedRecordIO(idx, rec, "w")
    for key in [5, 3, 9]:
        writer.write_idx(key, b"r%d" % key)
    writer.close()
    ds = data.RecordFileDataset(rec)
    assert len(ds) == 3 and [ds[i] for i in range(3)] == [b"r5", b"r3", b"r9"]
