"""mx.recordio: byte-identical files with MXNet 1.9.1's, index files, headers, images, corrupt files."""
import os
import pickle
import shutil
import struct

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import mxcy as mx
from mxcy.base import MXNetError
from tests.fixtures.make_recordio_fixtures import MAGIC, PACKED, records

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
REF_REC = os.path.join(FIXTURES, "recordio_mxnet.rec")
REF_IDX = os.path.join(FIXTURES, "recordio_mxnet.idx")


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def test_writes_mxnet_bytes(tmp_path):
    rec, idx = str(tmp_path / "a.rec"), str(tmp_path / "a.idx")
    writer = mx.recordio.MXIndexedRecordIO(idx, rec, "w")
    for i, record in enumerate(records(mx.recordio)):
        writer.write_idx(i, record)
    writer.close()
    assert _read(rec) == _read(REF_REC)
    assert _read(idx) == _read(REF_IDX)


def test_reads_mxnet_file_sequentially_and_by_key():
    expected = records(mx.recordio)
    reader = mx.recordio.MXRecordIO(REF_REC, "r")
    assert [reader.read() for _ in expected] == expected
    assert reader.read() is None
    reader.reset()
    assert reader.read() == expected[0]
    reader.close()
    indexed = mx.recordio.MXIndexedRecordIO(REF_IDX, REF_REC, "r")
    assert indexed.keys == list(range(len(expected)))
    for key in reversed(indexed.keys):
        assert indexed.read_idx(key) == expected[key]
    with pytest.raises(KeyError):
        indexed.read_idx(99)


def test_tell_counts_padded_bytes(tmp_path):
    writer = mx.recordio.MXIndexedRecordIO(str(tmp_path / "t.idx"), str(tmp_path / "t.rec"), "w")
    positions = []
    for payload in [b"", b"abc", b"abcd", b"x" + MAGIC + b"yyy"]:  # unaligned magic: one part
        positions.append(writer.tell())
        writer.write_idx(len(positions), payload)
    positions.append(writer.tell())
    # 8-byte part header + payload rounded up to 4 bytes
    assert positions == [0, 8, 8 + 12, 20 + 12, 32 + 16]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.binary(max_size=40) | st.lists(st.sampled_from([b"ab", MAGIC, b"c", b"wxyz"]),
                                                   max_size=6).map(b"".join), max_size=8))
def test_round_trip(tmp_path_factory, payloads):
    path = str(tmp_path_factory.mktemp("rt") / "r.rec")
    writer = mx.recordio.MXRecordIO(path, "w")
    for p in payloads:
        writer.write(p)
    writer.close()
    reader = mx.recordio.MXRecordIO(path, "r")
    assert [reader.read() for _ in payloads] == payloads
    assert reader.read() is None


def test_pack_unpack_headers():
    for (flag, label, id_, id2), payload in PACKED:
        header, rest = mx.recordio.unpack(mx.recordio.pack(mx.recordio.IRHeader(flag, label, id_, id2),
                                                           payload))
        assert rest == payload and (header.id, header.id2) == (id_, id2)
        if np.isscalar(label):
            assert header.flag == 0 and header.label == label
        else:
            assert header.flag == len(label)
            np.testing.assert_array_equal(header.label, np.asarray(label, np.float32))
    # 24-byte header 'IfQQ', float32 labels after it (MXNet's layout)
    packed = mx.recordio.pack((0, [1.5, 2.0], 3, 4), b"z")
    assert packed == struct.pack("<IfQQ", 2, 0.0, 3, 4) + np.float32([1.5, 2.0]).tobytes() + b"z"
    with pytest.raises(MXNetError, match="announces 5 labels"):
        mx.recordio.unpack(struct.pack("<IfQQ", 5, 0.0, 0, 0) + b"abcd")


def test_pack_img_round_trip():
    rng = np.random.default_rng(0)
    bgr = rng.integers(0, 256, (6, 5, 3), dtype=np.uint8)
    header, img = mx.recordio.unpack_img(mx.recordio.pack_img((0, 2.0, 1, 0), bgr, img_fmt=".png"))
    assert header.label == 2.0
    np.testing.assert_array_equal(img, bgr)  # PNG is lossless, channels stay BGR
    _, gray = mx.recordio.unpack_img(mx.recordio.pack_img((0, 0, 0, 0), bgr, img_fmt=".png"), 0)
    b, g, r = (bgr[..., i].astype(np.float64) for i in range(3))
    np.testing.assert_allclose(gray, 0.299 * r + 0.587 * g + 0.114 * b, atol=1.0)
    flat = np.full((8, 8, 3), (10, 120, 250), np.uint8)
    _, jpg = mx.recordio.unpack_img(mx.recordio.pack_img((0, 0, 0, 0), flat, quality=95), 1)
    assert jpg.shape == (8, 8, 3) and np.abs(jpg.astype(int) - flat).max() <= 3


def _corrupt(tmp_path, mutate):
    path = str(tmp_path / "bad.rec")
    shutil.copyfile(REF_REC, path)
    data = bytearray(_read(path))
    mutate(data)
    with open(path, "wb") as f:
        f.write(data)
    return path


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.__setitem__(slice(8, 12), b"\0\0\0\0"), r"record 1 \(at byte 8\): expected magic"),
    (lambda d: d.__delitem__(slice(len(d) - 5, None)), "ends inside the record"),
    (lambda d: d.__setitem__(slice(12, 16), struct.pack("<I", 3 << 29 | 1)), "unexpected part flag 3"),
])
def test_corrupt_record_names_file_and_record(tmp_path, mutate, message):
    path = _corrupt(tmp_path, mutate)
    reader = mx.recordio.MXRecordIO(path, "r")
    with pytest.raises(MXNetError, match=message) as err:
        for _ in range(100):
            reader.read()
    assert path in str(err.value)


def test_corrupt_index_and_missing_files(tmp_path):
    idx = tmp_path / "bad.idx"
    idx.write_text("0\t0\nnot-a-line\n")
    with pytest.raises(MXNetError, match="line 2"):
        mx.recordio.MXIndexedRecordIO(str(idx), REF_REC, "r")
    with pytest.raises(MXNetError, match="nope.rec"):
        mx.recordio.MXRecordIO(str(tmp_path / "nope.rec"), "r")
    with pytest.raises(ValueError, match="Invalid flag"):
        mx.recordio.MXRecordIO(str(tmp_path / "x.rec"), "a")


def test_write_is_atomic(tmp_path):
    path = str(tmp_path / "a.rec")
    shutil.copyfile(REF_REC, path)
    writer = mx.recordio.MXRecordIO(path, "w")
    writer.write(b"new")
    assert _read(path) == _read(REF_REC)  # the old file stays until close
    writer.close()
    assert mx.recordio.MXRecordIO(path, "r").read() == b"new"
    assert sorted(os.listdir(tmp_path)) == ["a.rec"]


def test_reader_pickles_and_reopens(tmp_path):
    reader = mx.recordio.MXIndexedRecordIO(REF_IDX, REF_REC, "r")
    reader.read_idx(3)
    clone = pickle.loads(pickle.dumps(reader))
    assert clone.read_idx(5) == records(mx.recordio)[5]
    writer = mx.recordio.MXRecordIO(str(tmp_path / "w.rec"), "w")
    with pytest.raises(MXNetError, match="cannot pickle RecordIO writer"):
        pickle.dumps(writer)
