"""npx's operator aliases (the legacy operators on mx.np arrays, results as mx.np arrays), save/load of mx.np
arrays and constraint_check."""
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


def test_save_and_load_keep_0d_arrays(tmp_path):
    path = str(tmp_path / "arrays")
    npx.save(path, {"scalar": np.array(2.5), "empty": np.zeros((0, 2)), "x": np.arange(3)})
    loaded = npx.load(path)
    assert loaded["scalar"].shape == () and loaded["scalar"].item() == 2.5 and type(loaded["x"]) is np.ndarray
    assert loaded["empty"].shape == (0, 2) and loaded["x"].asnumpy().tolist() == [0.0, 1.0, 2.0]
    npx.save(path, [np.ones((2,))])
    assert [type(a) for a in npx.load(path)] == [np.ndarray]


def test_constraint_check():
    assert npx.constraint_check(np.array([1.0, 2.0]) > 0, "positive").item() is True
    with pytest.raises(ValueError, match="must be positive"):
        npx.constraint_check(np.array([1.0, -2.0]) > 0, "must be positive")
