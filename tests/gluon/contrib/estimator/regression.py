"""A tiny regression problem for the estimator tests: y = 2x, a bias-free Dense(1) starting at
w = 1, L2 loss, plain SGD, and a float64 reference of what training must do to it."""
import numpy as np

import mxcy as mx
from mxcy import gluon

X = np.array([[1.], [2.], [3.], [4.]], dtype=np.float32)
Y = 2 * X
BATCH_SIZE = 2  # two batches an epoch: x = (1, 2), then x = (3, 4)


def loader(x=X, y=Y):
    return gluon.data.DataLoader(gluon.data.ArrayDataset(mx.nd.array(x), mx.nd.array(y)),
                                 batch_size=BATCH_SIZE)


def make_net(hybridize=False, ctx=None):
    net = gluon.nn.HybridSequential()
    net.add(gluon.nn.Dense(1, in_units=1, use_bias=False))
    net.initialize(mx.init.One(), ctx=ctx)
    if hybridize:
        net.hybridize()
    return net


def make_estimator(lr=0.1, hybridize=False, **kwargs):
    net = make_net(hybridize, kwargs.get('context'))
    trainer = gluon.Trainer(net.collect_params(), 'sgd', {'learning_rate': lr})
    return mx.gluon.contrib.estimator.Estimator(net, gluon.loss.L2Loss(), trainer=trainer, **kwargs)


def weight(net):
    return float(net[0].weight.data().asnumpy().item())


def sgd_reference(n_batches, lr=0.1, w=1.0):
    """(w after n_batches SGD steps, the L2 losses of each sample in the order seen).

    Per batch: loss_i = (w x_i - y_i)^2 / 2; d(sum loss)/dw = sum (w x_i - y_i) x_i, and the
    Trainer divides by the batch size before the step.
    """
    xs, ys = X[:, 0].astype(np.float64), Y[:, 0].astype(np.float64)
    losses = []
    for b in range(n_batches):
        start = (b * BATCH_SIZE) % len(xs)
        x, y = xs[start:start + BATCH_SIZE], ys[start:start + BATCH_SIZE]
        losses.extend((w * x - y) ** 2 / 2)
        w -= lr * np.sum((w * x - y) * x) / BATCH_SIZE
    return w, losses
