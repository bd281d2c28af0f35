"""gluon.contrib.nn: Identity, SyncBatchNorm, PixelShuffle1D/2D/3D (the shared layer checks: NumPy float64
references, numerical gradients, hybridized = imperative, MXNet 1.9.1's names/reprs/outputs), Concurrent and
SparseEmbedding."""
import numpy as np
import pytest

import mxcy as mx
from mxcy.gluon import nn
from mxcy.gluon.contrib import nn as cnn
from tests.gluon.nn.checks import layer_tests
from tests.ops.test_nn_norm import _bn_ref


def _pixel_shuffle(factors):
    """out[n, c, d1*f1 + i1, ...] = x[n, c*prod(f) + flat(i1, ...), d1, ...], element by element."""
    def ref(x, p):
        n_sp = len(factors)
        c = x.shape[1] // int(np.prod(factors))
        out = np.zeros((x.shape[0], c) + tuple(d * f for d, f in zip(x.shape[2:], factors)))
        for idx in np.ndindex(*x.shape):
            ch, sp = divmod(idx[1], int(np.prod(factors)))
            offsets = np.unravel_index(sp, factors)
            pos = tuple(d * f + o for d, f, o in zip(idx[2:], factors, offsets))
            out[(idx[0], ch) + pos] = x[idx]
        assert len(pos) == n_sp
        return out
    return ref


REFERENCES = {
    "identity": lambda x, p: x,
    "syncbatchnorm": lambda x, p: _bn_ref(True)(x, p["gamma"], p["beta"], p["running_mean"], p["running_var"],
                                               eps=1e-5, fix_gamma=False)[0],
    "pixelshuffle1d": _pixel_shuffle((2,)),
    "pixelshuffle2d": _pixel_shuffle((2, 3)),
    "pixelshuffle3d": _pixel_shuffle((1, 2, 2)),
}

test_reference, test_gradient, test_hybrid, test_matches_mxnet = layer_tests(REFERENCES, train={"syncbatchnorm"})


def test_concurrent_concatenates_children_outputs():
    x = mx.nd.array([[1.0, -2.0]])
    for cls in (cnn.Concurrent, cnn.HybridConcurrent):
        block = cls(axis=0)
        block.add(nn.Activation("relu"), cnn.Identity())
        block.initialize()
        np.testing.assert_array_equal(block(x).asnumpy(), [[1.0, 0.0], [1.0, -2.0]])
        assert len(block) == 2


def test_pixel_shuffle_shapes_and_bad_factors():
    assert cnn.PixelShuffle3D((2, 3, 4))(mx.nd.zeros((1, 48, 3, 5, 7))).shape == (1, 2, 6, 15, 28)
    with pytest.raises(ValueError, match="PixelShuffle2D: factor must be an int or 2 ints"):
        cnn.PixelShuffle2D((2, 3, 4))
    with pytest.raises(mx.MXNetError, match=r"\(1, 5, 2\)"):
        cnn.PixelShuffle1D(2)(mx.nd.zeros((1, 5, 2))).wait_to_read()


def test_sync_batch_norm_one_device_only():
    with pytest.warns(UserWarning, match="num_devices"):
        layer = cnn.SyncBatchNorm()
    assert layer._kwargs["ndev"] == max(mx.context.num_gpus(), 1)
    two = cnn.SyncBatchNorm(num_devices=2, in_channels=2)
    two.initialize()
    with pytest.raises(mx.MXNetError, match=r"_contrib_SyncBatchNorm.*ndev=2.*not supported"):
        two(mx.nd.ones((2, 2)))


def test_sparse_embedding_pulls_rows_and_gives_row_sparse_gradients():
    layer = cnn.SparseEmbedding(6, 2)
    layer.initialize()
    weight = np.arange(12.0).reshape(6, 2)
    layer.weight.set_data(mx.nd.array(weight).tostype("row_sparse"))
    mx.gluon.Trainer(layer.collect_params(), "sgd")  # as in MXNet, rows are pulled through the Trainer
    x = mx.nd.array([[1, 4], [4, 0]])
    with mx.autograd.record():
        y = layer(x)
    y.backward()
    np.testing.assert_array_equal(y.asnumpy(), weight[[[1, 4], [4, 0]]])
    grad = layer.weight.grad()
    assert grad.stype == "row_sparse"
    expected = np.zeros((6, 2))
    expected[[0, 1, 4]] = [[1, 1], [1, 1], [2, 2]]
    np.testing.assert_array_equal(grad.asnumpy(), expected)
