"""mx.contrib.autograd, MXNet's first autograd API: gradients against formulas, the scopes' states."""
import numpy as np
import pytest

import mxcy as mx
from mxcy.contrib import autograd as cag


def test_grad_and_loss_against_formulas():
    x, y = mx.nd.array([1.0, -2.0, 3.0]), mx.nd.array([0.5, 4.0, -1.0])
    grads, loss = cag.grad_and_loss(lambda a, b: (a * a * b).sum())(x, y)
    np.testing.assert_allclose(loss.asnumpy(), [np.sum([1 * 0.5, 4 * 4, 9 * -1])])
    np.testing.assert_allclose(grads[0].asnumpy(), 2 * x.asnumpy() * y.asnumpy())  # d/da a^2 b
    np.testing.assert_allclose(grads[1].asnumpy(), x.asnumpy() ** 2)
    only_b = cag.grad(lambda a, b: (a * a * b).sum(), argnum=1)(x, y)
    assert len(only_b) == 1
    np.testing.assert_allclose(only_b[0].asnumpy(), x.asnumpy() ** 2)
    with pytest.raises(AssertionError, match="NDArray"):
        cag.grad(lambda a: a)(np.ones(2))


def test_sections_and_manual_marking():
    assert not mx.autograd.is_recording()
    with cag.train_section():
        assert mx.autograd.is_recording() and mx.autograd.is_training()
        with cag.test_section():
            assert not mx.autograd.is_recording() and not mx.autograd.is_training()
        assert mx.autograd.is_recording()
    assert not mx.autograd.is_recording() and not mx.autograd.is_training()
    x, gx = mx.nd.array([2.0, 3.0]), mx.nd.zeros(2)
    cag.mark_variables([x], [gx])
    with cag.train_section():
        z = mx.nd.exp(x)
    cag.backward([z], [mx.nd.array([1.0, 2.0])])
    np.testing.assert_allclose(gx.asnumpy(), np.exp([2.0, 3.0]) * [1.0, 2.0], rtol=1e-6)
    with pytest.raises(AssertionError, match="list"):
        cag.backward(z)
