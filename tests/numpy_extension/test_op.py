"""npx's operator aliases (the legacy operators on mx.np arrays, results as mx.np arrays), npx.reshape's codes,
constraint_check."""
import numpy as onp
import pytest

import mxcy as mx
from mxcy import np, npx
from mxcy.numpy_extension._op import _ALIASES


def test_every_alias_runs_the_legacy_function():
    for name, path in _ALIASES.items():
        legacy = mx.nd
        for part in path.split("."):
            legacy = getattr(legacy, part)
        assert getattr(npx, name).__wrapped__ is legacy, name


@pytest.mark.parametrize("call, reference", [
    (lambda m, x: m.relu(x), lambda x: onp.maximum(x, 0)),
    (lambda m, x: m.sigmoid(x), lambda x: 1 / (1 + onp.exp(-x))),
    (lambda m, x: m.softmax(x, axis=-1), lambda x: onp.exp(x) / onp.exp(x).sum(-1, keepdims=True)),
    (lambda m, x: m.log_softmax(x), lambda x: x - onp.log(onp.exp(x).sum(-1, keepdims=True))),
    (lambda m, x: m.activation(x, act_type="tanh"), onp.tanh),
    (lambda m, x: m.batch_flatten(x), lambda x: x.reshape(x.shape[0], -1)),
    (lambda m, x: m.cast(x, dtype="float64"), lambda x: x),
    (lambda m, x: m.topk(x, k=1, ret_typ="value"), lambda x: onp.sort(x, -1)[..., -1:][..., ::-1]),
])
def test_aliases_compute_the_legacy_ops_on_np_arrays(call, reference):
    x = onp.random.default_rng(0).uniform(-2, 2, (2, 3)).astype(onp.float32)
    result = call(npx, np.array(x))
    assert type(result) is np.ndarray
    onp.testing.assert_allclose(result.asnumpy(), reference(x.astype(onp.float64)), rtol=1e-5, atol=1e-6)


def test_fully_connected_and_one_hot_on_np_arrays():
    x, w, b = np.ones((2, 3)), np.ones((4, 3)), np.zeros((4,))
    out = npx.fully_connected(x, w, b, num_hidden=4)
    assert type(out) is np.ndarray and out.asnumpy().tolist() == [[3.0] * 4] * 2
    assert npx.one_hot(np.array([0.0, 2.0]), depth=3).asnumpy().tolist() == [[1, 0, 0], [0, 0, 1]]


def test_switches_and_contexts_are_the_utils():
    assert npx.set_np is mx.util.set_np and npx.is_np_array is mx.util.is_np_array and npx.cpu is mx.cpu
    assert mx.nd.np is mx.np and mx.nd.npx is mx.npx  # MXNet's mx.nd.np is the imperative mx.np
    npx.set_np()
    try:
        assert npx.is_np_array() and npx.is_np_shape()
    finally:
        npx.reset_np()
    assert not npx.is_np_array() and not npx.is_np_shape()


def test_constraint_check():
    assert npx.constraint_check(np.array([1.0, 2.0]) > 0, "positive").item() is True
    with pytest.raises(ValueError, match="must be positive"):
        npx.constraint_check(np.array([1.0, -2.0]) > 0, "must be positive")


# the shapes MXNet 1.9.1's documentation gives for these
@pytest.mark.parametrize("shape, codes, reverse, expected", [
    ((2, 3, 8), (-2, -2, 2, -1), False, (2, 3, 2, 4)),
    ((8, 3, 3, 3, 4, 4), (-6, 2, -1, -4), False, (2, 4, 3, 3, 3, 4, 4)),
    ((8, 3, 3, 3, 4, 4), (-5, -4), False, (24, 3, 3, 4, 4)),
    ((8, 1, 1, 1, 3), (-2, -3, -3, -3, -2), False, (8, 3)),
    ((8, 3, 3, 3, 3, 8), (-4, -5), True, (8, 3, 3, 3, 24)),
    ((8, 3, 2, 4, 8), (-4, -1, 2, -6), True, (8, 3, 2, 4, 4, 2)),
    ((2, 6), (-1,), False, (12,)),
    ((2, 6), 12, False, (12,)),
])
def test_reshape_codes(shape, codes, reverse, expected):
    x = onp.arange(int(onp.prod(shape)), dtype=onp.float32).reshape(shape)
    result = npx.reshape(np.array(x), codes, reverse=reverse)
    assert type(result) is np.ndarray and result.shape == expected
    onp.testing.assert_array_equal(result.asnumpy(), x.reshape(expected))


@pytest.mark.parametrize("codes, match", [((-1, -1), "only one"), ((-3, -1), "size 1"), ((5,), "does not fit"),
                                          ((-6, -1, -1), "both be -1"), ((-7,), "at least -6"),
                                          ((-2, -2, -2), "not enough")])
def test_reshape_code_errors(codes, match):
    with pytest.raises(mx.MXNetError, match=match):
        npx.reshape(np.ones((2, 6)), codes)
