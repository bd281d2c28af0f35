"""gluon.utils: batch splitting over contexts, global-norm clipping, file helpers, hook handles."""
import hashlib
import sys
import types
import warnings

import numpy as np
import pytest

import mxcy as mx
from mxcy.gluon import utils


@pytest.mark.parametrize("size, num_slice, axis", [(12, 4, 0), (33, 4, 1), (33, 15, 1), (5, 5, 0)])
def test_split_data_follows_numpys_array_split(size, num_slice, axis):
    shape = (size, 3) if axis == 0 else (2, size)
    x = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    parts = utils.split_data(mx.nd.array(x), num_slice, axis, even_split=False)
    expected = np.array_split(x, num_slice, axis=axis)  # MXNet 1.9.1 gives the extras to the first slices
    assert [p.shape for p in parts] == [e.shape for e in expected]
    for p, e in zip(parts, expected):
        np.testing.assert_array_equal(p.asnumpy(), e)


def test_split_data_even_split_error():
    with pytest.raises(ValueError, match="cannot be evenly split into 4 slices"):
        utils.split_data(mx.nd.ones((2, 33)), 4, 1)


def test_split_and_load_places_slices():
    ctxs = [mx.cpu(0), mx.cpu(1), mx.cpu(2)]
    parts = utils.split_and_load(np.arange(6).reshape(6, 1), ctxs)
    assert [p.context for p in parts] == ctxs
    np.testing.assert_array_equal(np.concatenate([p.asnumpy() for p in parts]), np.arange(6).reshape(6, 1))


@pytest.mark.parametrize("stype", ["default", "row_sparse"])
def test_clip_global_norm(stype):
    a, b = mx.nd.ones((3, 3)).tostype(stype), mx.nd.ones((4, 4)).tostype(stype)
    norm = utils.clip_global_norm([a, b], 1.0)
    assert norm == pytest.approx(5.0)  # sqrt(9 + 16)
    np.testing.assert_allclose(a.asnumpy(), np.full((3, 3), 0.2), rtol=1e-6)
    np.testing.assert_allclose(b.asnumpy(), np.full((4, 4), 0.2), rtol=1e-6)
    small = mx.nd.array([0.3, 0.4]).tostype(stype)
    assert utils.clip_global_norm([small], 1.0) == pytest.approx(0.5)
    np.testing.assert_allclose(small.asnumpy(), [0.3, 0.4], rtol=1e-6)  # under the limit: unchanged
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        utils.clip_global_norm([mx.nd.array([1.0, np.nan]).tostype(stype)], 1.0)
    assert len(caught) == 1 and "nan or inf" in str(caught[0].message)


def test_check_sha1_and_existing_file_is_kept(tmp_path, monkeypatch):
    path = tmp_path / "f.bin"
    path.write_bytes(b"mxcy")
    digest = hashlib.sha1(b"mxcy").hexdigest()
    assert utils.check_sha1(str(path), digest) and utils.check_sha1(str(path), digest[:8])
    assert not utils.check_sha1(str(path), "0" * 40)
    monkeypatch.setitem(sys.modules, "requests", None)  # an import of requests would fail
    assert utils.download("http://example.invalid/f.bin", path=str(tmp_path), sha1_hash=digest) == str(path)
    with pytest.raises(mx.MXNetError, match=r"needs the `requests` package.*missing.bin"):
        utils.download("http://example.invalid/missing.bin", path=str(tmp_path))


class _Response:
    def __init__(self, status_code, content):
        self.status_code, self._content = status_code, content

    def iter_content(self, chunk_size):
        return [self._content[i:i + chunk_size] for i in range(0, len(self._content), chunk_size)]


def _fake_requests(monkeypatch, *outcomes):
    """A `requests` module whose get() returns or raises the given outcomes in turn; returns the call log."""
    calls = []

    def get(url, **kwargs):
        calls.append((url, kwargs))
        outcome = outcomes[min(len(calls), len(outcomes)) - 1]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome
    monkeypatch.setitem(sys.modules, "requests", types.SimpleNamespace(get=get))
    return calls


def test_download_writes_the_file_once_with_a_timeout(tmp_path, monkeypatch):
    calls = _fake_requests(monkeypatch, ConnectionError("down"), _Response(200, b"x" * 100_000))
    fname = utils.download("https://host/data/a.bin", path=str(tmp_path), retries=2)
    assert fname == str(tmp_path / "a.bin") and (tmp_path / "a.bin").read_bytes() == b"x" * 100_000
    assert len(calls) == 2 and all(kw["timeout"] and kw["stream"] and kw["verify"] for _, kw in calls)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin"]  # no temporary file left


@pytest.mark.parametrize("outcome, match, leaves_file", [
    (ConnectionError("no route"), r"cannot fetch https://host/b.bin \(ConnectionError\('no route'\)\).*b.bin", False),
    (_Response(404, b""), r"HTTP status 404", False),
    (_Response(200, b"wrong"), r"content hash does not match", True),  # MXNet keeps the mismatching file too
], ids=["network", "status", "sha1"])
def test_download_failures_name_url_and_path_after_the_retries(tmp_path, monkeypatch, outcome, match, leaves_file):
    calls = _fake_requests(monkeypatch, outcome)
    with pytest.raises(mx.MXNetError, match=match):
        utils.download("https://host/b.bin", path=str(tmp_path), retries=1, sha1_hash="0" * 40)
    assert len(calls) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == (["b.bin"] if leaves_file else [])


def test_download_unverified_warns(tmp_path, monkeypatch):
    _fake_requests(monkeypatch, _Response(200, b"ok"))
    with pytest.warns(UserWarning, match="Unverified HTTPS request"):
        utils.download("https://host/c.bin", path=str(tmp_path / "c.bin"), verify_ssl=False)


def test_hook_handle_detaches_as_context_manager():
    hooks = {}
    with utils.HookHandle() as handle:
        handle.attach(hooks, print)
        assert list(hooks.values()) == [print]
    assert hooks == {}


def test_shape_is_known():
    assert utils.shape_is_known((2, 3)) and utils.shape_is_known(())
    assert not utils.shape_is_known((2, 0)) and not utils.shape_is_known(None)
