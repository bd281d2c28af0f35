"""gluon.utils: batch splitting over contexts, global-norm clipping, file helpers, hook handles."""
import hashlib
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


def test_check_sha1_and_offline_download(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"mxcy")
    digest = hashlib.sha1(b"mxcy").hexdigest()
    assert utils.check_sha1(str(path), digest) and utils.check_sha1(str(path), digest[:8])
    assert not utils.check_sha1(str(path), "0" * 40)
    assert utils.download("http://example.invalid/f.bin", path=str(tmp_path), sha1_hash=digest) == str(path)
    with pytest.raises(mx.MXNetError, match="does not use the network.*missing.bin"):
        utils.download("http://example.invalid/missing.bin", path=str(tmp_path))


def test_hook_handle_detaches_as_context_manager():
    hooks = {}
    with utils.HookHandle() as handle:
        handle.attach(hooks, print)
        assert list(hooks.values()) == [print]
    assert hooks == {}


def test_shape_is_known():
    assert utils.shape_is_known((2, 3)) and utils.shape_is_known(())
    assert not utils.shape_is_known((2, 0)) and not utils.shape_is_known(None)
