"""mx.kv: local/device stores (init, push, pull, pushpull, broadcast, row_sparse_pull, updaters, optimizers,
2-bit compression, states files), TestStore and create(), against hand-computed values."""
import numpy as np
import pytest

import mxcy as mx
from mxcy.base import MXNetError

SHAPE = (3, 2)
CTXS = [mx.cpu(i) for i in range(3)]


def full(value, ctx=None, shape=SHAPE, stype="default"):
    return (mx.nd.ones(shape, ctx or mx.cpu()) * value).tostype(stype)


@pytest.mark.parametrize("key,keys", [(3, [5, 7]), ("a", ["b", "c"])])
@pytest.mark.parametrize("stype", ["default", "row_sparse"])
def test_push_sums_devices_and_replaces(key, keys, stype):
    kv = mx.kv.create("local")
    kv.init(key, mx.nd.zeros(SHAPE))
    kv.init(keys, [mx.nd.zeros(SHAPE)] * 2)
    kv.push(key, [full(i + 1, c, stype=stype) for i, c in enumerate(CTXS)])  # 1 + 2 + 3
    outs = [mx.nd.empty(SHAPE, c) for c in CTXS]
    kv.pull(key, out=outs)
    for o in outs:
        np.testing.assert_array_equal(o.asnumpy(), np.full(SHAPE, 6.0))
    kv.push(key, full(2.0, stype=stype))  # no updater: the store takes the new sum, it does not accumulate
    kv.pull(key, out=outs[0])
    np.testing.assert_array_equal(outs[0].asnumpy(), np.full(SHAPE, 2.0))
    kv.push(keys, [[full(1.0, c) for c in CTXS], full(5.0)])
    got = [mx.nd.empty(SHAPE), mx.nd.empty(SHAPE)]
    kv.pull(keys, out=got)
    np.testing.assert_array_equal(got[0].asnumpy(), np.full(SHAPE, 3.0))
    np.testing.assert_array_equal(got[1].asnumpy(), np.full(SHAPE, 5.0))


def test_init_copies_and_pull_is_a_copy():
    kv = mx.kv.create()
    value = full(4.0)
    kv.init(9, value)
    value[:] = 0  # the store holds its own copy
    out = mx.nd.zeros(SHAPE)
    kv.pull(9, out=out)
    out[:] = 1
    again = mx.nd.zeros(SHAPE)
    kv.pull(9, out=again)
    np.testing.assert_array_equal(again.asnumpy(), np.full(SHAPE, 4.0))


def test_updater_receives_sum_and_updates_in_place():
    seen = []

    def updater(key, merged, stored):
        seen.append((key, merged.asnumpy().copy()))
        stored[:] = stored * 2 + merged

    kv = mx.kv.create("device")
    kv.init("w", full(1.0))
    kv._set_updater(updater)
    kv.push("w", [full(1.0, c) for c in CTXS])
    kv.push("w", full(0.5))
    out = mx.nd.empty(SHAPE)
    kv.pull("w", out=out)
    np.testing.assert_array_equal(out.asnumpy(), np.full(SHAPE, (1 * 2 + 3) * 2 + 0.5))
    assert [k for k, _ in seen] == ["w", "w"]
    np.testing.assert_array_equal(seen[0][1], np.full(SHAPE, 3.0))


def test_set_optimizer_sgd_on_store():
    # sgd: w -= lr * (rescale_grad * sum(g) + wd * w)
    kv = mx.kv.create("local")
    w0 = np.arange(6, dtype=np.float32).reshape(SHAPE)
    kv.init(0, mx.nd.array(w0))
    kv.set_optimizer(mx.optimizer.SGD(learning_rate=0.1, wd=0.01, rescale_grad=0.5))
    g = np.linspace(-1, 1, 6, dtype=np.float32).reshape(SHAPE)
    kv.push(0, [mx.nd.array(g, c) for c in CTXS[:2]])
    out = mx.nd.empty(SHAPE)
    kv.pull(0, out=out)
    expected = w0 - 0.1 * (0.5 * (2 * g.astype(np.float64)) + 0.01 * w0)
    np.testing.assert_allclose(out.asnumpy(), expected, rtol=1e-6)


def test_pushpull_and_broadcast():
    kv = mx.kv.create("device")
    outs = [mx.nd.empty(SHAPE, c) for c in CTXS]
    kv.broadcast("k", full(7.0), out=outs)
    for o in outs:
        np.testing.assert_array_equal(o.asnumpy(), np.full(SHAPE, 7.0))
    vals = [full(i, c) for i, c in enumerate(CTXS)]
    kv.pushpull("k", vals)  # in place: every value becomes the sum 0 + 1 + 2
    for v in vals:
        np.testing.assert_array_equal(v.asnumpy(), np.full(SHAPE, 3.0))
    kv.pushpull("k", [full(1.0, c) for c in CTXS], out=outs)
    for o in outs:
        np.testing.assert_array_equal(o.asnumpy(), np.full(SHAPE, 3.0))
    with pytest.raises(MXNetError, match="duplicate init"):
        kv.broadcast("k", full(1.0), out=outs[0])


def test_row_sparse_pull_rows():
    kv = mx.kv.create()
    dense = np.arange(8, dtype=np.float32).reshape(4, 2) + 1
    kv.init("e", mx.nd.array(dense).tostype("row_sparse"))
    outs = [mx.nd.zeros((4, 2), c, stype="row_sparse") for c in CTXS[:2]]
    kv.row_sparse_pull("e", out=outs, row_ids=mx.nd.array([3, 1, 3]))  # one row_ids for every output
    expected = dense * np.array([[0], [1], [0], [1]])
    for o in outs:
        assert o.stype == "row_sparse"
        np.testing.assert_array_equal(o.asnumpy(), expected)
    outs2 = [mx.nd.zeros((4, 2), stype="row_sparse") for _ in range(2)]
    kv.row_sparse_pull("e", out=outs2, row_ids=[mx.nd.array([0]), mx.nd.array([2])])
    np.testing.assert_array_equal(outs2[0].asnumpy(), dense * np.array([[1], [0], [0], [0]]))
    np.testing.assert_array_equal(outs2[1].asnumpy(), dense * np.array([[0], [0], [1], [0]]))
    full_out = mx.nd.zeros((4, 2), stype="row_sparse")
    kv.pull("e", out=full_out, ignore_sparse=False)
    np.testing.assert_array_equal(full_out.asnumpy(), dense)
    skipped = (mx.nd.ones((4, 2)) * 9).tostype("row_sparse")
    kv.pull("e", out=skipped)  # ignore_sparse: left as it was
    np.testing.assert_array_equal(skipped.asnumpy(), np.full((4, 2), 9.0))


def test_two_bit_compression_keeps_residual():
    kv = mx.kv.create("device")
    kv.set_gradient_compression({"type": "2bit", "threshold": 0.5})
    kv.init(1, mx.nd.zeros((4,)))
    g = mx.nd.array([0.3, -0.7, 1.2, 0.0])
    out = mx.nd.empty((4,))
    # residual r += g; sent = +t if r >= t, -t if r <= -t, else 0; r -= sent
    kv.push(1, g)
    kv.pull(1, out=out)
    np.testing.assert_array_equal(out.asnumpy(), [0.0, -0.5, 0.5, 0.0])  # residual [0.3, -0.2, 0.7, 0]
    kv.push(1, g)
    kv.pull(1, out=out)
    np.testing.assert_array_equal(out.asnumpy(), [0.5, -0.5, 0.5, 0.0])  # residual [0.1, -0.4, 1.4, 0]
    two = mx.kv.create("device")
    two.set_gradient_compression({"type": "2bit", "threshold": 1.0})
    two.init(1, mx.nd.zeros((4,)))
    two.push(1, [g, g * 2])  # each source quantized with its own residual: [0,0,1,0] + [0,-1,1,0]
    two.pull(1, out=out)
    np.testing.assert_array_equal(out.asnumpy(), [0.0, -1.0, 2.0, 0.0])


@pytest.mark.parametrize("params,match", [
    ({"type": "1bit"}, "unknown type"), ({"type": "2bit", "threshold": 0}, "greater than 0"),
    ({"threshold": 0.5}, "'type' is missing")])
def test_compression_bad_params(params, match):
    with pytest.raises(MXNetError, match=match):
        mx.kv.create("device").set_gradient_compression(params)


def test_compression_needs_device_store():
    with pytest.raises(MXNetError, match="not supported for this type"):
        mx.kv.create("local").set_gradient_compression({"type": "2bit"})


def test_optimizer_states_round_trip(tmp_path):
    def run(kv):
        kv.push(0, full(1.0))

    kv = mx.kv.create()
    kv.init(0, full(1.0))
    kv.set_optimizer(mx.optimizer.SGD(learning_rate=0.1, momentum=0.9))
    run(kv)
    fname = str(tmp_path / "kv.states")
    kv.save_optimizer_states(fname, dump_optimizer=True)
    w = mx.nd.empty(SHAPE)
    kv.pull(0, out=w)
    other = mx.kv.create()  # a fresh store with kv's weight and another optimizer, replaced by the file's
    other.init(0, w)
    other.set_optimizer(mx.optimizer.SGD(learning_rate=0.5))
    other.load_optimizer_states(fname)
    assert other._updater.optimizer.lr == 0.1 and other._updater.optimizer.momentum == 0.9
    run(kv)
    run(other)
    a, b = mx.nd.empty(SHAPE), mx.nd.empty(SHAPE)
    kv.pull(0, out=a)
    other.pull(0, out=b)
    # momentum carried over: mom = 0.9 * (-0.1) - 0.1 = -0.19; w = 1 - 0.1 - 0.19
    np.testing.assert_allclose(b.asnumpy(), np.full(SHAPE, 0.71), rtol=1e-6)
    np.testing.assert_array_equal(a.asnumpy(), b.asnumpy())
    with open(fname, "wb") as f:
        f.write(b"\x80\x04garbage")
    with pytest.raises(MXNetError, match="pickled"):
        other.load_optimizer_states(fname)
    with pytest.raises(AssertionError):
        mx.kv.create().save_optimizer_states(fname)


def test_errors():
    kv = mx.kv.create()
    kv.init(3, mx.nd.zeros(SHAPE))
    with pytest.raises(MXNetError, match=r"shape \(2, 2\) does not match the stored shape \(3, 2\)"):
        kv.push(3, mx.nd.zeros((2, 2)))
    with pytest.raises(MXNetError, match="does not match the stored shape"):
        kv.pull(3, out=mx.nd.zeros((6,)))
    with pytest.raises(MXNetError, match="has not been initialized"):
        kv.push(4, mx.nd.zeros(SHAPE))
    with pytest.raises(MXNetError, match="mixed key types"):
        kv.init("a", mx.nd.zeros(SHAPE))
    with pytest.raises(MXNetError, match="duplicate init"):
        kv.init(3, mx.nd.zeros(SHAPE))
    with pytest.raises(MXNetError, match="expected row_sparse storage type"):
        kv.row_sparse_pull(3, out=mx.nd.zeros(SHAPE), row_ids=mx.nd.array([1]))
    with pytest.raises(MXNetError, match="row_sparse_pull expects a row_sparse stored value"):
        kv.row_sparse_pull(3, out=mx.nd.zeros(SHAPE, stype="row_sparse"), row_ids=mx.nd.array([1]))
    with pytest.raises(AssertionError, match="unexpected type for keys"):
        kv.push(3.5, mx.nd.zeros(SHAPE))
    with pytest.raises(AssertionError, match="inconsistent types of keys"):
        kv.push([3, "a"], [mx.nd.zeros(SHAPE)] * 2)
    with pytest.raises(ValueError, match="Unknown capability"):
        kv.is_capable("sparsity")


@pytest.mark.parametrize("name", ["dist_sync", "dist_async", "dist_device_sync", "horovod", "nccl"])
def test_distributed_types_not_available(name):
    with pytest.raises(MXNetError, match="not available in mxcy yet"):
        mx.kv.create(name)


def test_create_types_and_properties():
    kv = mx.kv.create("Local_AllReduce_CPU")
    assert (kv.type, kv.rank, kv.num_workers) == ("local_allreduce_cpu", 0, 1)
    assert kv.is_capable("optimizer") and isinstance(kv, mx.kvstore.KVStoreBase)
    assert mx.kv.create("device").type == "device"
    with pytest.raises(TypeError):
        mx.kv.create(3)


def test_test_store_and_register():
    kv = mx.kv.create("teststore")
    assert kv.type == "teststore" and not kv.is_capable("optimizer")
    outs = [mx.nd.empty((2,)), mx.nd.empty((2,))]
    kv.pushpull(0, [mx.nd.ones((2,)), mx.nd.ones((2,)) * 2], out=outs)
    for o in outs:
        np.testing.assert_array_equal(o.asnumpy(), [3.0, 3.0])
    with pytest.raises(NotImplementedError):
        kv.set_optimizer(mx.optimizer.SGD())

    class MyStore(mx.kvstore.KVStoreBase):
        pass
    try:
        mx.kvstore.KVStoreBase.register(MyStore)
        assert type(mx.kv.create("MyStore")) is MyStore
    finally:
        del mx.kvstore.KVStoreBase.kv_registry["mystore"]
