"""MXNet NDArray files: MXNet 1.9.1 fixtures both ways, round trips, corrupt input, atomic save."""
import importlib.util
import os
import struct
import time

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
_spec = importlib.util.spec_from_file_location("make_fixtures",
                                               os.path.join(FIXTURES, "make_fixtures.py"))
make_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_fixtures)
ser = make_fixtures.import_serialization()
MXNetError = ser.MXNetError
CASES = make_fixtures.cases()
MXNET_WRITTEN = sorted(n for n, case in CASES.items() if case[3] == "mxnet")


def fixture_path(name):
    return os.path.join(FIXTURES, name + ".params")


def fixture_bytes(name):
    with open(fixture_path(name), "rb") as f:
        return f.read()


def records(entries):
    """make_fixtures' array descriptions as StoredArray records."""
    return [ser.StoredArray(e[0], e[-1], e[1], e[2:-1]) if isinstance(e, tuple) else e
            for e in entries]


def assert_same_array(got, want):
    assert got.dtype == want.dtype and got.shape == want.shape
    assert got.tobytes() == np.ascontiguousarray(want).tobytes()


def assert_same_record(rec, want):
    want = records([want])[0] if isinstance(want, tuple) else ser.StoredArray.dense(want)
    assert (rec.stype, rec.shape, len(rec.aux)) == (want.stype, want.shape, len(want.aux))
    for got_part, want_part in zip((rec.data, *rec.aux), (want.data, *want.aux)):
        assert_same_array(got_part, want_part)


# --- MXNet-written fixtures -------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(CASES))
def test_fixture_loads_expected_values(name):
    arrays, names, _, _ = CASES[name]
    got, got_names = ser.load(fixture_path(name))
    assert got_names == (names or [])
    assert len(got) == len(arrays)
    for rec, want in zip(got, arrays):
        assert_same_record(rec, want)


@pytest.mark.parametrize("name", MXNET_WRITTEN)
def test_dumps_is_byte_identical_to_mxnet(name):
    arrays, names, np_shape, _ = CASES[name]
    assert ser.dumps(records(arrays), names, np_shape=np_shape) == fixture_bytes(name)


def test_loaded_arrays_are_native_and_writeable():
    for rec in ser.load(fixture_path("list_dense"))[0]:
        assert rec.data.flags.writeable and rec.data.dtype.isnative


def test_sparse_fixture_todense():
    (rsp, csr, rsp_empty, csr_empty), _ = ser.load(fixture_path("sparse"))
    expected_rsp = np.zeros((5, 3), np.float32)
    expected_rsp[[1, 3]] = np.arange(6).reshape(2, 3) + 1
    np.testing.assert_array_equal(rsp.todense(), expected_rsp)
    np.testing.assert_array_equal(csr.todense(), [[1.5, 0, 2.5, 0], [0, 0, 0, 0], [0, 3.5, 0, 0]])
    assert not rsp_empty.todense().any() and rsp_empty.todense().shape == (4, 2)
    assert not csr_empty.todense().any() and csr_empty.todense().shape == (3, 4)


def test_legacy_fixtures_resave_in_current_layout():
    arrays, names = ser.load(fixture_path("legacy_v1"))
    assert ser.dumps(arrays, names)[24:28] == struct.pack("<I", ser.V2_MAGIC)
    again, again_names = ser.loads(ser.dumps(arrays, names))
    assert again_names == names
    for rec, want in zip(again, arrays):
        assert_same_record(rec, want.data)


# --- round trips ------------------------------------------------------------------------------

PLAIN_DTYPES = [np.float32, np.float64, np.float16, np.uint8, np.int8, np.int32, np.int64, np.bool_]
NAME = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"), max_size=8)


@st.composite
def dense_arrays(draw, min_dims):
    shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=4, min_side=0, max_side=4))
    if draw(st.booleans()):
        return draw(hnp.arrays(np.uint16, shape)).view(ser.BFLOAT16)
    return draw(hnp.arrays(draw(st.sampled_from(PLAIN_DTYPES)), shape))


@st.composite
def sparse_arrays(draw):
    rows, cols = draw(st.integers(1, 5)), draw(st.integers(0, 4))
    dtype = draw(st.sampled_from(PLAIN_DTYPES))
    mask = draw(hnp.arrays(np.bool_, (rows, cols)))
    if draw(st.booleans()):
        stored = np.flatnonzero(mask.any(axis=1)) if cols else np.arange(0)
        data = draw(hnp.arrays(dtype, (len(stored), cols)))
        return ser.StoredArray("row_sparse", (rows, cols), data, (stored.astype(np.int64),))
    r, c = np.nonzero(mask)
    indptr = np.concatenate([[0], np.cumsum(np.bincount(r, minlength=rows))]).astype(np.int64)
    data = draw(hnp.arrays(dtype, (len(c),)))
    return ser.StoredArray("csr", (rows, cols), data, (indptr, c.astype(np.int64)))


@given(st.data(), st.booleans())
def test_round_trip(data, np_shape):
    element = dense_arrays(0 if np_shape else 1)
    if not np_shape:
        element = st.one_of(element, sparse_arrays())
    arrays = data.draw(st.lists(element, max_size=4))
    names = data.draw(st.none() | st.lists(NAME, min_size=len(arrays), max_size=len(arrays)))
    got, got_names = ser.loads(ser.dumps(arrays, names, np_shape=np_shape))
    assert got_names == (names or [])
    for rec, want in zip(got, arrays, strict=True):
        want = want if isinstance(want, ser.StoredArray) else ser.StoredArray.dense(want)
        assert (rec.stype, rec.shape) == (want.stype, want.shape)
        for got_part, want_part in zip((rec.data, *rec.aux), (want.data, *want.aux), strict=True):
            assert_same_array(got_part, want_part)


def test_big_endian_input_saves_little_endian():
    values = np.arange(5, dtype=">i4")
    (rec,), _ = ser.loads(ser.dumps([values]))
    assert rec.data.dtype == np.int32 and rec.data.tolist() == values.tolist()


@pytest.mark.parametrize("arrays, names, np_shape, match", [
    ([np.float32(1.0)], None, False, "0-d arrays"),
    ([ser.StoredArray("csr", (1, 1), np.ones(1), ([0, 1], [0]))], None, True, "sparse"),
    ([np.zeros(2, np.complex64)], None, False, "complex64"),
    ([np.zeros(2, np.uint16)], None, False, "uint16"),
    ([np.array([None, 1], dtype=object)], None, False, "object"),
    ([np.zeros(2)], ["a", "b"], False, "2 names for 1 arrays"),
    ([np.zeros(2)], ["a\0b"], False, "NUL"),
    ([np.zeros(2)], ["\ud800"], False, "UTF-8"),
    ([ser.StoredArray("row_sparse", (2, 1), np.ones((1, 1)), ([5],))], None, False, "range"),
    ([ser.StoredArray("csr", (2, 2), np.ones(1), ([0, 1, 0], [1]))], None, False, "indptr"),
    ([ser.StoredArray("blocked", (1,), np.ones(1))], None, False, "storage type"),
])
def test_dumps_rejects_unrepresentable(arrays, names, np_shape, match):
    with pytest.raises(MXNetError, match=match):
        ser.dumps(arrays, names, np_shape=np_shape)


# --- corrupt and hostile input ----------------------------------------------------------------

def one_array_file(body, names=b"\0" * 8):
    return struct.pack("<QQQ", ser.LIST_MAGIC, 0, 1) + body + names


def v2_dense(shape, flag=0, ctx=(1, 0), payload=b"", magic=ser.V2_MAGIC, stype=0):
    return (struct.pack(f"<Iii{len(shape)}q", magic, stype, len(shape), *shape)
            + struct.pack("<iii", *ctx, flag) + payload)


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_truncation_raises(name):
    buf = fixture_bytes(name)
    for cut in range(len(buf)):
        with pytest.raises(MXNetError, match=f"{name}.*offset"):
            ser.loads(buf[:cut], source=name)


def test_random_byte_flips_load_or_raise():
    rng = np.random.default_rng(0)
    blobs = [fixture_bytes(n) for n in sorted(CASES)]
    for trial in range(3000):
        buf = bytearray(blobs[trial % len(blobs)])
        for pos in rng.integers(0, len(buf), rng.integers(1, 4)):
            buf[pos] = rng.integers(256) if trial % 2 else buf[pos] ^ (1 << rng.integers(8))
        start = time.perf_counter()
        try:
            ser.loads(bytes(buf))
        except MXNetError:
            pass
        assert time.perf_counter() - start < 1.0


ONE_FLOAT = v2_dense((1,), payload=b"\0" * 4)
HOSTILE = {
    "2**60 elements": (one_array_file(v2_dense((2 ** 30, 2 ** 30))), "truncated data of array 0"),
    "int64 overflow": (one_array_file(v2_dense((2 ** 62,) * 3)), "impossibly large shape"),
    "zero-size overflow": (one_array_file(v2_dense((0, 2 ** 62))), "impossibly large shape"),
    "2**60 arrays": (struct.pack("<QQQ", ser.LIST_MAGIC, 0, 2 ** 60), "array count"),
    "huge name": (one_array_file(ONE_FLOAT, struct.pack("<QQ", 1, 2 ** 62)), "truncated name 0"),
    "huge ndim": (one_array_file(struct.pack("<Iii", ser.V2_MAGIC, 0, 2 ** 31 - 1)),
                  "invalid ndim"),
    "negative dim": (one_array_file(v2_dense((2, -5))), r"invalid shape \(2, -5\)"),
    "unknown dim in V2": (one_array_file(v2_dense((2, -1))), "invalid shape"),
    "unknown ndim in V2": (one_array_file(struct.pack("<Iii", ser.V2_MAGIC, 0, -1)),
                           "invalid shape None"),
    "dtype flag": (one_array_file(v2_dense((1,), flag=9)), "unknown dtype flag 9"),
    "device type": (one_array_file(v2_dense((1,), ctx=(7, 0))), "unknown device type 7"),
    "storage type": (one_array_file(v2_dense((1,), stype=3)), "invalid storage type 3"),
    "sparse in V3": (one_array_file(v2_dense((1,), stype=2, magic=ser.V3_MAGIC)),
                     "invalid storage type 2"),
    "array magic": (one_array_file(struct.pack("<I", 0xDEADBEEF)), "unknown magic 0xdeadbeef"),
    "list magic": (struct.pack("<QQQ", 0x113, 0, 0), "not an MXNet NDArray file"),
    "trailing bytes": (struct.pack("<QQQQ", ser.LIST_MAGIC, 0, 0, 0) + b"x", "1 trailing bytes"),
    "name count": (one_array_file(ONE_FLOAT, struct.pack("<QQ", 2, 0)), "2 names for 1 arrays"),
    "name encoding": (one_array_file(ONE_FLOAT, struct.pack("<QQ", 1, 1) + b"\xff"),
                      "not valid UTF-8"),
    "sparse index": (one_array_file(struct.pack(  # row_sparse (4, 1) storing row 9
        "<Ii i2q i2q iii i iq 4x q", ser.V2_MAGIC, 1, 2, 1, 1, 2, 4, 1, 1, 0, 0, 6, 1, 1, 9)),
        "row index out of range"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_input_raises_quickly(case):
    buf, match = HOSTILE[case]
    start = time.perf_counter()
    with pytest.raises(MXNetError, match=f"evil.params: .*{match}.* at byte offset"):
        ser.loads(buf, source="evil.params")
    assert time.perf_counter() - start < 0.5


def test_uninitialised_arrays_load_as_none():
    v2_none = struct.pack("<Iii", ser.V2_MAGIC, 0, 0)
    v3_none = struct.pack("<Iii", ser.V3_MAGIC, 0, -1)
    v3_unknown_dim = struct.pack("<Iiiq", ser.V3_MAGIC, 0, 1, -1)
    v1_none = struct.pack("<Ii", ser.V1_MAGIC, -1)
    body = v2_none + v3_none + v3_unknown_dim + v1_none
    buf = struct.pack("<QQQ", ser.LIST_MAGIC, 0, 4) + body + b"\0" * 8
    assert ser.loads(buf) == ([None] * 4, [])


def test_bool_bytes_are_normalised():
    (rec,), _ = ser.loads(one_array_file(v2_dense((3,), flag=7, payload=b"\0\x01\x07")))
    assert rec.data.tolist() == [False, True, True]
    assert rec.data.view(np.uint8).tolist() == [0, 1, 1]


def test_load_missing_file_is_mxnet_error(tmp_path):
    with pytest.raises(MXNetError, match="missing.params"):
        ser.load(tmp_path / "missing.params")


# --- atomic save ------------------------------------------------------------------------------

def test_save_writes_loadable_file_with_umask_permissions(tmp_path):
    path = tmp_path / "w.params"
    ser.save(path, [np.arange(3)], ["x"])
    arrays, names = ser.load(path)
    assert names == ["x"] and arrays[0].data.tolist() == [0, 1, 2]
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask
    assert os.listdir(tmp_path) == ["w.params"]


def test_failed_save_keeps_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "w.params"
    ser.save(path, [np.arange(1000, dtype=np.float64)])
    before = path.read_bytes()
    real_write = os.write

    def write_half_then_fail(fd, data):
        real_write(fd, bytes(data[:len(data) // 2]))
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as m:
        m.setattr(ser.os, "write", write_half_then_fail)
        with pytest.raises(MXNetError, match="w.params: .*No space"):
            ser.save(path, [np.ones(2000)])
    with monkeypatch.context() as m:
        m.setattr(ser.os, "replace", lambda *a: (_ for _ in ()).throw(OSError("replace failed")))
        with pytest.raises(MXNetError, match="replace failed"):
            ser.save(path, [np.ones(2000)])
    with pytest.raises(MXNetError, match="complex128"):
        ser.save(path, [np.zeros(2, np.complex128)])
    with pytest.raises(MXNetError, match="cannot write"):
        ser.save(tmp_path / "no-such-dir" / "x.params", [np.zeros(2)])
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["w.params"]
