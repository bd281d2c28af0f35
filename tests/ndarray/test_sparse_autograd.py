"""Gradients through sparse arrays (ndarray/sparse.py's recorded fallback and sparse results): row_sparse
weights get row_sparse gradients, a Trainer step on them is MXNet's lazy update, and a CSR input runs through
a hybridized graph's dot; values against NumPy float64 references."""
import numpy as np
from hypothesis import given, settings, strategies as st

import mxcy as mx
from mxcy.gluon.contrib.nn import SparseEmbedding

SEEDS = st.integers(0, 2 ** 32 - 1)


def _embedding_grad(rows, index, head):
    grad = np.zeros((rows, head.shape[-1]))
    np.add.at(grad, index.astype(int), head)
    return grad


@settings(max_examples=5, deadline=None)
@given(seed=SEEDS)
def test_embeddings_get_row_sparse_gradients(seed):
    rng = np.random.default_rng(seed)
    index = rng.integers(0, 8, size=5).astype(np.float32)
    head = rng.uniform(-1, 1, (5, 3)).astype(np.float32)
    for layer in (SparseEmbedding(8, 3), mx.gluon.nn.Embedding(8, 3, sparse_grad=True)):
        layer.initialize()
        mx.gluon.Trainer(layer.collect_params(), "sgd")  # a row_sparse weight is read through its Trainer
        with mx.autograd.record():
            y = layer(mx.nd.array(index))
        y.backward(mx.nd.array(head))
        grad = layer.weight.grad()
        assert grad.stype == "row_sparse"
        grad.check_format()
        np.testing.assert_allclose(grad.asnumpy(), _embedding_grad(8, index, head), rtol=1e-6, atol=1e-7)


def test_trainer_step_on_a_row_sparse_gradient_updates_only_its_rows():
    layer = SparseEmbedding(6, 2)
    layer.initialize(mx.init.Uniform(1))
    trainer = mx.gluon.Trainer(layer.collect_params(), "sgd", {"learning_rate": 0.5, "wd": 0.1})
    every_row = mx.nd.arange(6)
    before = layer.weight.row_sparse_data(every_row).asnumpy().astype(np.float64)
    index = np.array([4, 1, 4], np.float32)
    with mx.autograd.record():
        y = layer(mx.nd.array(index))
    y.backward()
    trainer.step(1)
    after = layer.weight.row_sparse_data(every_row).asnumpy()
    grad = _embedding_grad(6, index, np.ones((3, 2)))
    want = before.copy()
    for r in (1, 4):  # lazy: weight decay too touches only the rows with a gradient
        want[r] = before[r] - 0.5 * (grad[r] + 0.1 * before[r])
    np.testing.assert_allclose(after, want, rtol=1e-5, atol=1e-6)


def test_row_sparse_grad_req_add_accumulates():
    layer = mx.gluon.nn.Embedding(5, 2, sparse_grad=True)
    layer.initialize()
    layer.weight.grad_req = "add"
    for index in ([0, 3], [3, 3]):
        with mx.autograd.record():
            y = layer(mx.nd.array(index))
        y.backward()
    grad = layer.weight.grad()
    assert grad.stype == "row_sparse"
    np.testing.assert_allclose(grad.asnumpy(), _embedding_grad(5, np.array([0, 3, 3, 3.0]), np.ones((4, 2))))


class _Linear(mx.gluon.HybridBlock):
    def __init__(self, units):
        super().__init__()
        with self.name_scope():
            self.w = self.params.get("w", shape=(units, units))

    def hybrid_forward(self, F, x, w):
        return F.dot(x, w)


class _Masked(mx.gluon.HybridBlock):
    def __init__(self, units):
        super().__init__()
        with self.name_scope():
            self.net = _Linear(units)

    def hybrid_forward(self, F, x):
        return self.net(x) * x


@settings(max_examples=5, deadline=None)
@given(seed=SEEDS, hybridize=st.booleans())
def test_csr_input_through_dot_gives_the_dense_weight_gradient(seed, hybridize):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (3, 3)) * (rng.uniform(size=(3, 3)) < 0.5)
    block = _Masked(3)
    block.initialize()
    if hybridize:
        block.hybridize()
    csr = mx.nd.array(x).tostype("csr")
    with mx.autograd.record():
        z = block(csr) + block(csr)
    assert z.stype == ("csr" if hybridize else "default")  # elemwise_mul(dense, csr) in a graph; * falls back
    w = block.net.w.data().asnumpy().astype(np.float64)
    np.testing.assert_allclose(z.asnumpy(), 2 * (x @ w) * x, rtol=1e-5, atol=1e-6)
    z.backward()
    # d/dW of sum((X W) * X) is X^T X; twice for the two calls
    np.testing.assert_allclose(block.net.w.grad().asnumpy(), 2 * x.T @ x, rtol=1e-5, atol=1e-6)


def test_executor_with_a_sparse_bound_argument():
    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, (4, 3)) * (rng.uniform(size=(4, 3)) < 0.5)
    w = rng.uniform(-1, 1, (3, 2))
    head = rng.uniform(-1, 1, (4, 2))
    sym = mx.sym.sparse.dot(mx.sym.var("x", stype="csr"), mx.sym.var("w"))
    w_grad = mx.nd.zeros((3, 2))
    exe = sym.bind(mx.cpu(), {"x": mx.nd.array(x).tostype("csr"), "w": mx.nd.array(w)},
                   args_grad={"w": w_grad}, grad_req={"x": "null", "w": "write"})
    out = exe.forward(is_train=True)[0]
    np.testing.assert_allclose(out.asnumpy(), x @ w, rtol=1e-5, atol=1e-6)
    exe.backward(mx.nd.array(head))
    np.testing.assert_allclose(w_grad.asnumpy(), x.T @ head, rtol=1e-5, atol=1e-6)


def test_dot_of_csr_gives_a_row_sparse_weight_gradient_and_a_lazy_step():
    class SparseLinear(mx.gluon.HybridBlock):
        def __init__(self):
            super().__init__()
            with self.name_scope():
                self.w = self.params.get("w", shape=(5, 2), grad_stype="row_sparse")

        def hybrid_forward(self, F, x, w):
            return F.sparse.dot(x, w)

    x = np.zeros((3, 5))
    x[0, 1], x[2, 3], x[2, 1] = 1.0, -2.0, 0.5  # only columns 1 and 3 occur, so only w's rows 1 and 3 move
    block = SparseLinear()
    block.initialize(mx.init.Uniform(1))
    trainer = mx.gluon.Trainer(block.collect_params(), "sgd", {"learning_rate": 0.1, "wd": 0.5})
    before = block.w.data().asnumpy().astype(np.float64)
    head = np.arange(6, dtype=np.float64).reshape(3, 2) + 1
    with mx.autograd.record():
        y = block(mx.nd.array(x).tostype("csr"))
    y.backward(mx.nd.array(head))
    grad = block.w.grad()
    assert grad.stype == "row_sparse"
    np.testing.assert_array_equal(grad.indices.asnumpy(), [1, 3])
    np.testing.assert_allclose(grad.asnumpy(), x.T @ head, rtol=1e-6)
    trainer.step(1)
    want = before.copy()
    want[[1, 3]] -= 0.1 * ((x.T @ head)[[1, 3]] + 0.5 * before[[1, 3]])
    np.testing.assert_allclose(block.w.data().asnumpy(), want, rtol=1e-5, atol=1e-6)
