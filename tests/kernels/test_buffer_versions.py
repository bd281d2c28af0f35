"""Engine versions of the buffers a graph replay reads (buffer_versions), and their use by the kept Winograd filter
transforms: reused without reading the weight while its version stands, made again after any engine write of it
(set_data, in-place arithmetic, an optimizer step) and compared bitwise where memory is written outside the engine
(DLPack exports for writing)."""
import threading

import numpy as np
import pytest

import mxcy as mx
from mxcy.kernels import buffer_versions
from mxcy.kernels import conv_cpu, winograd_filters
from mxcy.ndarray import dlpack


def test_snapshot_and_stamp():
    a, b = mx.nd.zeros((2, 3)), mx.nd.ones(4)
    b._var.external = True
    stamps = buffer_versions.snapshot([a, b])
    assert stamps == {id(a._data): (a._var, a._var.version)}  # the external one is left out
    assert buffer_versions.stamp(a._data) is None  # no op running
    with buffer_versions.reading(stamps):
        assert buffer_versions.stamp(a._data) == (a._var, a._var.version)
        assert buffer_versions.stamp(a._data.reshape(3, 2)) is None  # another object: unknown
        assert buffer_versions.stamp(b._data) is None
        with buffer_versions.reading(None):
            assert buffer_versions.stamp(a._data) is None
        assert buffer_versions.stamp(a._data) is not None
        seen = []
        other = threading.Thread(target=lambda: seen.append(buffer_versions.stamp(a._data)))
        other.start()
        other.join()
        assert seen == [None]  # per thread
    assert buffer_versions.stamp(a._data) is None


def test_version_moves_with_writes():
    a = mx.nd.zeros(3)
    v = a._var.version
    (a + 1).wait_to_read()
    assert a._var.version == v  # read
    a += 1
    a[1:2] = 5  # a view shares the var
    a.wait_to_read()
    assert a._var.version == v + 2


def test_dlpack_write_export_is_external():
    a, b = mx.nd.zeros(3), mx.nd.zeros(3)
    mx.nd.to_dlpack_for_read(a)
    assert not a._var.external
    mx.nd.to_dlpack_for_write(b)
    assert b._var.external


@pytest.fixture
def compared(monkeypatch):
    """The bitwise comparisons winograd_filters makes (a list, one entry each)."""
    calls = []
    real = winograd_filters._same_bits
    monkeypatch.setattr(winograd_filters, "_same_bits", lambda a, b: calls.append(1) or real(a, b))
    winograd_filters.clear()
    yield calls
    winograd_filters.clear()


def test_kept_by_stamp(compared):
    w = np.random.default_rng(0).standard_normal((4, 3, 3, 3)).astype(np.float32)
    var = mx.nd.zeros(1)._var
    with buffer_versions.reading({id(w): (var, 7)}):
        U = winograd_filters.transformed(w, False, True)
        assert winograd_filters.transformed(w, False, True) is U and compared == []  # same version: not read
    with buffer_versions.reading({id(w): (var, 8)}):
        assert winograd_filters.transformed(w, False, True) is U and compared == [1]  # compared, then stamped
        assert winograd_filters.transformed(w, False, True) is U and compared == [1]
    assert winograd_filters.transformed(w, False, True) is U and compared == [1, 1]  # no stamp: compared
    other = mx.nd.zeros(1)._var
    w[0, 0, 0, 0] += 1  # (what only an external writer could do at an unchanged version)
    with buffer_versions.reading({id(w): (other, 8)}):  # another var: compared, the change seen
        V = winograd_filters.transformed(w, False, True)
    assert compared == [1, 1, 1]
    made = np.empty_like(V)
    winograd_filters._wg.filter_transform(w, made, False)
    np.testing.assert_array_equal(V, made)


def reference(x, w):
    """3x3 convolution, pad 1, in float64."""
    x, w = x.astype(np.float64), w.astype(np.float64)
    H, W = x.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    return sum(np.einsum("nchw,oc->nohw", xp[:, :, i:i + H, j:j + W], w[:, :, i, j])
               for i in range(3) for j in range(3))


@pytest.mark.parametrize("tiles", ["4x4", "2x2"])
def test_replays_follow_weight_writes(compared, tiles):
    # A hybridized inference graph replays with its kept transforms, unread, until the weight is written.
    C, H = (16, 28) if tiles == "4x4" else (16, 14)  # 49 tiles of 4 x 4 / 16 of 4 x 4, 49 of 2 x 2
    net = mx.gluon.nn.Conv2D(C, 3, padding=1, use_bias=False, in_channels=C)
    net.initialize(mx.init.Normal(1.0))
    net.hybridize(static_alloc=True, static_shape=True)
    x = mx.nd.array(np.random.default_rng(1).standard_normal((1, C, H, H)))
    assert conv_cpu._winograd(x.asnumpy(), net.weight.data().asnumpy(), np.empty((1, C, H, H), np.float32),
                              (1, 1), (1, 1), 1) == (4 if tiles == "4x4" else 2)

    def check():  # Winograd's float32 error: ~1e-5 of the largest output (tests/kernels/test_winograd.py)
        ref = reference(x.asnumpy(), net.weight.data().asnumpy())
        np.testing.assert_allclose(net(x).asnumpy(), ref, rtol=0, atol=5e-5 * np.abs(ref).max())
    for _ in range(4):
        check()
    calls = len(compared)
    check()
    check()
    assert len(compared) == calls  # replays at an unchanged version read nothing

    net.weight.set_data(net.weight.data() * -0.5)
    check()
    net.weight.data()[:] += 1
    check()
    trainer = mx.gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1})
    with mx.autograd.record():
        loss = net(x).sum()
    loss.backward()
    trainer.step(1)
    check()
    check()
    calls = len(compared)
    # Memory handed out for writing: versions say nothing, the weight is compared at every call.
    view = dlpack._consume(mx.nd.to_dlpack_for_write(net.weight.data()))  # as another framework takes it
    view[0, 0, 1, 1] += 3
    check()
    assert len(compared) > calls

