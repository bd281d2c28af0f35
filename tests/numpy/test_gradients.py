"""Autograd through mx.np's composed functions against float64 central differences on drawn inputs: the functions
are compositions of registered operators, so this checks that the composition (views, casts, 0-d results) keeps
gradients flowing."""
import numpy as onp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mxcy as mx
from mxcy import np

# (function of mx.np arrays, input shapes)
CASES = [
    (lambda a: np.sum(a * a), [(2, 3)]),
    (lambda a: np.mean(np.exp(a), axis=1), [(2, 3)]),
    (lambda a: np.std(a, axis=0), [(4, 2)]),
    (lambda a: np.var(a, ddof=1), [(5,)]),
    (lambda a: np.prod(a, axis=-1), [(2, 3)]),
    (lambda a: np.max(a, axis=0), [(3, 2)]),
    (lambda a: a.reshape(-1)[1:4] * 2, [(2, 3)]),
    (lambda a, b: np.dot(a, b), [(2, 3), (3, 4)]),
    (lambda a, b: np.matmul(a, b), [(2, 2, 3), (3, 2)]),
    (lambda a, b: np.tensordot(a, b, axes=([0], [1])), [(3, 2), (2, 3)]),
    (lambda a, b: np.einsum("ij,kj->ik", a, b), [(2, 3), (4, 3)]),
    (lambda a, b: np.where(a > 0, a, b), [(2, 3), (2, 3)]),
    (lambda a: np.clip(a, -1.0, 1.0), [(2, 3)]),
    (lambda a: np.take(a, [2, 0], axis=1), [(2, 3)]),
    (lambda a, b: np.concatenate([a, b], axis=1), [(2, 1), (2, 3)]),
    (lambda a, b: np.stack([a, b]), [(3,), (3,)]),
    (lambda a: np.split(a, 3, axis=1)[1], [(2, 3)]),
    (lambda a: np.moveaxis(a, 0, -1), [(2, 3, 2)]),
    (lambda a: np.broadcast_to(a, (3, 2)), [(2,)]),
    (lambda a: np.expand_dims(np.squeeze(a), 0), [(1, 3)]),
    (lambda a: np.pad(a, 1, mode="reflect"), [(3, 3)]),
    (lambda a: np.roll(a, 1, axis=0), [(3, 2)]),
    (lambda a: np.diff(a, axis=1), [(2, 4)]),
    (lambda a: np.cumsum(a, axis=0), [(3, 2)]),
    (lambda a: np.tril(a), [(3, 3)]),
    (lambda a, b: np.hypot(a, b), [(2, 2), (2, 2)]),
    (lambda a, b: np.arctan2(a, b), [(3,), (3,)]),
    (lambda a: np.percentile(a, 40, axis=1), [(2, 5)]),
    (lambda a: np.linalg.norm(a), [(2, 3)]),
    (lambda a: np.linalg.det(a + 3 * np.eye(3, dtype="float64")), [(3, 3)]),
    (lambda a: np.linalg.inv(a + 3 * np.eye(2, dtype="float64")), [(2, 2)]),
    (lambda a, w: np.average(a, axis=1, weights=w + 2), [(2, 3), (3,)]),
]


def _numeric_gradient(func, values, index, eps=1e-6):
    """d sum(func(values)) / d values[index] by central differences in float64."""
    grad = onp.zeros_like(values[index])
    for position in onp.ndindex(grad.shape):
        shifted = [v.copy() for v in values]
        shifted[index][position] += eps
        up = func(*[np.array(v) for v in shifted]).asnumpy().sum()
        shifted[index][position] -= 2 * eps
        down = func(*[np.array(v) for v in shifted]).asnumpy().sum()
        grad[position] = (up - down) / (2 * eps)
    return grad


@pytest.mark.parametrize("func, shapes", CASES)
@settings(max_examples=3, deadline=None)
@given(seed=st.integers(0, 2 ** 16))
def test_gradients_match_central_differences(func, shapes, seed):
    rng = onp.random.default_rng(seed)
    # values away from the kinks of max, clip and where (|x| in [0.6, 1.5] with a random sign), all distinct
    values = [(rng.uniform(0.6, 1.5, s) * rng.choice([-1.0, 1.0], s)) for s in shapes]
    arrays = [np.array(v) for v in values]
    for a in arrays:
        a.attach_grad()
    with mx.autograd.record():
        out = func(*arrays)
    out.backward()
    for i, a in enumerate(arrays):
        onp.testing.assert_allclose(a.grad.asnumpy(), _numeric_gradient(func, values, i), rtol=1e-5, atol=1e-6)
