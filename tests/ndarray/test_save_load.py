"""mx.nd.save / mx.nd.load of dense and sparse NDArrays: round trips, lists vs dicts, atomic save,
and the files MXNet 1.9.1 wrote (tests/ndarray/fixtures)."""
import importlib.util
import os

import numpy as np
import pytest
from hypothesis import given, strategies as st

import mxcy as mx
from mxcy.ndarray import serialization, sparse

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
DTYPES = ["float32", "float64", "float16", "uint8", "int8", "int32", "int64", "bool"]


def _make_fixtures():
    path = os.path.join(FIXTURES, "make_fixtures.py")
    if not os.path.exists(path):
        return None
    spec = importlib.util.spec_from_file_location("make_fixtures", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MAKE_FIXTURES = _make_fixtures()
CASES = MAKE_FIXTURES.cases() if MAKE_FIXTURES else {}


def _values(rng, shape, dtype):
    if dtype == "bool":
        return rng.random(shape) < 0.5
    info = np.iinfo(dtype) if np.dtype(dtype).kind in "iu" else None
    if info is not None:
        return rng.integers(info.min, info.max, size=shape, dtype=dtype, endpoint=True)
    return (rng.standard_normal(shape) * 100).astype(dtype)


def _random_array(rng):
    dtype = DTYPES[rng.integers(len(DTYPES))]
    kind = rng.integers(3)
    shape = tuple(int(d) for d in rng.integers(1, 5, size=2 if kind else rng.integers(1, 4)))
    values = np.where(rng.random(shape) < 0.4, _values(rng, shape, dtype), 0).astype(dtype)
    if kind == 0 or dtype == "bool":
        return mx.nd.array(values, dtype=dtype)
    return mx.nd.sparse.csr_matrix(values) if kind == 1 else mx.nd.sparse.row_sparse_array(values)


def assert_same(got, want):
    assert type(got) is type(want) and got.stype == want.stype
    assert got.shape == want.shape and got.dtype == want.dtype
    assert got.asnumpy().tobytes() == want.asnumpy().tobytes()
    if isinstance(want, sparse.BaseSparseNDArray):
        for g, w in zip(got._parts(), want._parts()):
            assert g.dtype == w.dtype and np.array_equal(g.asnumpy(), w.asnumpy())


@given(seed=st.integers(0, 2 ** 32 - 1), count=st.integers(0, 5), as_dict=st.booleans())
def test_round_trip_of_lists_and_dicts(tmp_path_factory, seed, count, as_dict):
    rng = np.random.default_rng(seed)
    arrays = [_random_array(rng) for _ in range(count)]
    path = tmp_path_factory.mktemp("rt") / "arrays.params"
    if as_dict:
        data = {f"arg:w{i}_\u00e9": a for i, a in enumerate(arrays)}
        mx.nd.save(path, data)
        loaded = mx.nd.load(str(path))
        # An empty dict leaves no names in the file, so MXNet (and mxcy) load it as [].
        assert isinstance(loaded, dict if data else list) and list(loaded) == list(data)
        loaded = list(loaded.values()) if data else loaded
    else:
        mx.nd.save(str(path), arrays)
        loaded = mx.nd.load(path)
        assert isinstance(loaded, list)
    assert len(loaded) == len(arrays)
    for got, want in zip(loaded, arrays):
        assert_same(got, want)
        assert got.context == mx.cpu()
    with open(path, "rb") as f:
        again = mx.nd.load_frombuffer(f.read())
    assert len(again) == len(arrays)


@pytest.mark.parametrize("dtype", DTYPES)
def test_every_dtype_dense_and_sparse(tmp_path, dtype):
    rng = np.random.default_rng(1)
    values = np.where(rng.random((4, 3)) < 0.5, _values(rng, (4, 3), dtype), 0).astype(dtype)
    arrays = [mx.nd.array(values, dtype=dtype), mx.nd.sparse.csr_matrix(values),
              mx.nd.sparse.row_sparse_array(values), mx.nd.sparse.zeros("csr", (2, 5), dtype=dtype),
              mx.nd.sparse.zeros("row_sparse", (3, 2), dtype=dtype)]
    mx.nd.save(tmp_path / "x.params", arrays)
    for got, want in zip(mx.nd.load(tmp_path / "x.params"), arrays, strict=True):
        assert_same(got, want)


def test_single_array_saves_as_a_list_and_loaded_arrays_are_independent(tmp_path):
    x = mx.nd.array([[1, 2], [3, 4]])
    mx.nd.save(tmp_path / "one.params", x)
    (y,) = mx.nd.load(tmp_path / "one.params")
    y[:] = 0
    assert x.asnumpy().sum() == 10 and y.asnumpy().sum() == 0


def test_pending_writes_are_saved(tmp_path):
    x = mx.nd.zeros((100, 100))
    for _ in range(5):
        x += 1
    csr = mx.nd.sparse.csr_matrix(np.eye(3, dtype=np.float32)) * 4
    mx.nd.save(tmp_path / "p.params", {"x": x, "csr": csr})
    got = mx.nd.load(tmp_path / "p.params")
    assert np.all(got["x"].asnumpy() == 5) and np.array_equal(got["csr"].asnumpy(), 4 * np.eye(3))


@pytest.mark.parametrize("data,match", [
    ([mx.nd.zeros(2), np.zeros(2)], "NDArray"),
    ({1: mx.nd.zeros(2)}, "keys must be str"),
    ("not arrays", "NDArray, list or dict"),
])
def test_bad_save_arguments_raise(tmp_path, data, match):
    with pytest.raises(mx.MXNetError, match=match):
        mx.nd.save(tmp_path / "bad.params", data)
    assert not os.listdir(tmp_path)


def test_failed_save_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "model.params"
    old = {"w": mx.nd.arange(10), "e": mx.nd.sparse.row_sparse_array(np.eye(3, dtype=np.float32))}
    mx.nd.save(path, old)
    before = path.read_bytes()

    def fail(fd, data):
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as m:
        m.setattr(serialization.os, "write", fail)
        with pytest.raises(mx.MXNetError, match="No space"):
            mx.nd.save(path, {"w": mx.nd.ones(1000)})
    with pytest.raises(mx.MXNetError):
        mx.nd.save(path, [mx.nd.ones(3), "oops"])
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["model.params"]
    loaded = mx.nd.load(path)
    for key in old:
        assert_same(loaded[key], old[key])


def test_load_errors_are_mxnet_errors(tmp_path):
    with pytest.raises(mx.MXNetError, match="missing.params"):
        mx.nd.load(tmp_path / "missing.params")
    (tmp_path / "junk.params").write_bytes(b"not an NDArray file at all")
    with pytest.raises(mx.MXNetError, match="junk.params"):
        mx.nd.load(tmp_path / "junk.params")


def test_from_stored_checks_sparse_structure():
    bad = serialization.StoredArray("csr", (2, 3), np.ones(2, np.float32),
                                    (np.array([0, 2, 2]), np.array([2, 1])))
    with pytest.raises(mx.MXNetError, match="load: .*increasing"):
        sparse.from_stored(bad)
    assert sparse.from_stored(None) is None


# --- files written by MXNet 1.9.1 -----------------------------------------------------------

def _record(entry):
    """make_fixtures' description of one array as a StoredArray."""
    if isinstance(entry, tuple):
        return serialization.StoredArray(entry[0], entry[-1], entry[1], entry[2:-1])
    return serialization.StoredArray.dense(entry)


@pytest.mark.skipif(not CASES, reason="fixtures missing")
@pytest.mark.parametrize("name", sorted(CASES))
def test_mxnet_written_fixtures_load(name):
    arrays, names, np_shape, _ = CASES[name]
    with mx.util.np_shape(np_shape):
        loaded = mx.nd.load(os.path.join(FIXTURES, name + ".params"))
    if names:
        assert isinstance(loaded, dict) and list(loaded) == names
        loaded = list(loaded.values())
    else:
        assert isinstance(loaded, list)
    assert len(loaded) == len(arrays)
    for got, entry in zip(loaded, arrays):
        want = _record(entry)
        assert got.stype == want.stype and got.shape == want.shape
        assert type(got) is {"default": mx.nd.NDArray, "csr": sparse.CSRNDArray,
                             "row_sparse": sparse.RowSparseNDArray}[want.stype]
        dense = want.todense()
        values = got.asnumpy()
        assert values.dtype == dense.dtype and values.tobytes() == dense.tobytes()
        if want.stype != "default":
            got.check_format()
            rec = sparse.to_stored(got)
            for got_part, want_part in zip((rec.data, *rec.aux), (want.data, *want.aux),
                                           strict=True):
                assert got_part.dtype == want_part.dtype
                np.testing.assert_array_equal(got_part, want_part)


@pytest.mark.skipif(not CASES, reason="fixtures missing")
def test_np_shape_save_writes_mxnets_v3_bytes_and_load_needs_the_same_semantics(tmp_path):
    arrays, _, _, _ = CASES["np_shape"]
    fixture = os.path.join(FIXTURES, "np_shape.params")
    with mx.util.np_shape():
        mx.nd.save(tmp_path / "v3.params", [mx.nd.array(a, dtype=a.dtype) for a in arrays])
        assert [a.shape for a in mx.nd.load(fixture)] == [(), (0, 3), (2,)]
        with pytest.raises(mx.MXNetError, match="without NumPy shape semantics"):
            mx.nd.load(os.path.join(FIXTURES, "dict_dense.params"))
    with open(fixture, "rb") as want:
        assert (tmp_path / "v3.params").read_bytes() == want.read()
    with pytest.raises(mx.MXNetError, match=r"with NumPy shape semantics.*np_shape\(True\)"):
        mx.nd.load(fixture)
    try:  # on in every thread: legacy files load too (MXNet 1.9.1's GlobalOn)
        mx.util.set_np_shape(2)
        assert [a.shape for a in mx.nd.load(os.path.join(FIXTURES, "list_dense.params"))] and mx.nd.load(fixture)
    finally:
        mx.util.set_np_shape(False)


@pytest.mark.skipif(not CASES, reason="fixtures missing")
def test_sparse_fixture_resaves_identically(tmp_path):
    src = os.path.join(FIXTURES, "sparse.params")
    mx.nd.save(tmp_path / "again.params", mx.nd.load(src))
    with open(src, "rb") as f:
        assert (tmp_path / "again.params").read_bytes() == f.read()
