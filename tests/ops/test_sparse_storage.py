"""cast_storage, _sparse_retain, _square_sum and contrib round_ste / sign_ste on dense arrays (their meaning in
a graph): OpSpecs against NumPy float64 references, the straight-through gradients, symbols and errors."""
import numpy as np
import pytest

import mxcy as mx
from tests.ops.opspec import OpSpec, spec_tests

STE = "straight-through estimator: the gradient is the head gradient by definition, not d round/dx (0 almost " \
      "everywhere); test_straight_through_gradient checks it"


def _dense(rng):
    return rng.uniform(-3, 3, tuple(int(d) for d in rng.integers(1, 4, size=int(rng.integers(1, 4)))))


def _round_half_away(x):
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def _retain_make(rng):
    data = rng.uniform(-2, 2, (int(rng.integers(1, 5)), int(rng.integers(1, 4))))
    keep = rng.choice(data.shape[0], int(rng.integers(1, data.shape[0] + 1)), replace=False)  # (0,) is "unknown"
    return [data, np.sort(keep).astype(np.float64)], {}


def _retain_ref(data, indices):
    out = np.zeros_like(data)
    out[indices.astype(int)] = data[indices.astype(int)]
    return out


def _square_sum_make(rng):
    x = rng.uniform(-2, 2, (int(rng.integers(1, 4)), int(rng.integers(1, 4)), 2))
    return [x], {"axis": int(rng.integers(0, 3)), "keepdims": bool(rng.integers(0, 2))}


SPECS = [
    OpSpec("cast_storage", lambda rng: ([_dense(rng)], {"stype": "default"}), lambda x, stype: x),
    OpSpec("_contrib_round_ste", lambda rng: ([_dense(rng)], {}), _round_half_away, grad=False, why=STE),
    OpSpec("_contrib_sign_ste", lambda rng: ([_dense(rng)], {}), np.sign, grad=False, why=STE),
    OpSpec("_sparse_retain", _retain_make, _retain_ref, grad_inputs=(0,)),
    OpSpec("_contrib_getnnz", lambda rng: ([rng.integers(-1, 2, (3, 4)).astype(np.float64)],
                                           {"axis": [None, 0, 1][int(rng.integers(0, 3))]}),
           lambda x, axis: np.atleast_1d(np.count_nonzero(x, axis=axis)), grad=False,
           why="a count: MXNet registers no gradient"),
    OpSpec("_square_sum", _square_sum_make,
           lambda x, axis, keepdims: np.sum(x * x, axis=axis, keepdims=keepdims)),
    # divisors kept away from 0 for the numerical gradient
    OpSpec("_scatter_elemwise_div", lambda rng: ([x := _dense(rng), rng.uniform(0.5, 2, x.shape)
                                                  * rng.choice([-1, 1], x.shape)], {}), np.divide),
    OpSpec("_scatter_plus_scalar", lambda rng: ([_dense(rng)], {"scalar": float(rng.uniform(-3, 3))}),
           lambda x, scalar: x + scalar),
    OpSpec("_scatter_minus_scalar", lambda rng: ([_dense(rng)], {"scalar": float(rng.uniform(-3, 3))}),
           lambda x, scalar: x - scalar),
]
test_forward, test_gradient, test_req_add = spec_tests(SPECS)


@pytest.mark.parametrize("fn", [mx.nd.contrib.round_ste, mx.nd.contrib.sign_ste])
def test_straight_through_gradient(fn):
    x = mx.nd.array([[-1.6, 0.4], [2.5, -0.2]])
    x.attach_grad()
    head = mx.nd.array([[1.0, 2.0], [3.0, 4.0]])
    with mx.autograd.record():
        y = fn(x)
    y.backward(head)
    np.testing.assert_array_equal(x.grad.asnumpy(), head.asnumpy())


def test_symbols_of_the_sparse_namespace_run_densely():
    data, idx = mx.sym.var("data"), mx.sym.var("idx")
    out = mx.sym.sparse.retain(mx.sym.sparse.cast_storage(data, stype="row_sparse"), idx)
    x = np.arange(6, dtype=np.float32).reshape(3, 2)
    got = out.eval(data=mx.nd.array(x), idx=mx.nd.array([0, 2]))[0].asnumpy()
    np.testing.assert_array_equal(got, x * [[1], [0], [1]])


def test_retain_rejects_indices_out_of_range():
    with pytest.raises(mx.MXNetError, match="_sparse_retain"):
        mx.nd._internal._sparse_retain(mx.nd.ones((2, 2)), mx.nd.array([3])).asnumpy()
