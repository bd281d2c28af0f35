"""MXNet's deprecated NumpyOp / NDArrayOp run as Custom operators in a bound executor and under autograd."""
import numpy as np
import pytest

import mxcy as mx


def _softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _make_softmax_loss(base):
    """The softmax-with-label loss of MXNet's old numpy-ops example, written on `base`."""
    class SoftmaxLoss(base):
        def __init__(self):
            super().__init__(need_top_grad=False)

        def list_arguments(self):
            return ["data", "label"]

        def infer_shape(self, in_shape):
            return [in_shape[0], [in_shape[0][0]]], [in_shape[0]]

        def forward(self, in_data, out_data):
            x = in_data[0] if base is mx.operator.NumpyOp else in_data[0].asnumpy()
            out_data[0][:] = _softmax(x)

        def backward(self, out_grad, in_data, out_data, in_grad):
            label = in_data[1] if base is mx.operator.NumpyOp else in_data[1].asnumpy()
            grad = out_data[0] if base is mx.operator.NumpyOp else out_data[0].asnumpy()
            grad = grad.copy()
            grad[np.arange(len(label)), label.astype(int)] -= 1.0
            in_grad[0][:] = grad

    return SoftmaxLoss


@pytest.mark.parametrize("base", [mx.operator.NumpyOp, mx.operator.NDArrayOp])
def test_legacy_python_op_forward_backward(base):
    with pytest.warns(UserWarning, match="deprecated"):
        op = _make_softmax_loss(base)()
    out = op(mx.sym.var("data"), mx.sym.var("label"), name="softmax")
    assert out.list_arguments() == ["data", "label"]
    assert out.infer_shape(data=(3, 4), label=(3,))[1] == [(3, 4)]
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    label = np.array([0, 2, 1], np.float32)
    exe = out.simple_bind(mx.cpu(), data=(3, 4), label=(3,))
    exe.forward(is_train=True, data=x, label=label)
    exe.backward()  # need_top_grad=False: a loss, no head gradient needed
    expected = _softmax(x.astype(np.float64))
    np.testing.assert_allclose(exe.outputs[0].asnumpy(), expected, rtol=1e-5)
    expected[np.arange(3), label.astype(int)] -= 1.0
    np.testing.assert_allclose(exe.grad_dict["data"].asnumpy(), expected, rtol=1e-5, atol=1e-6)


def test_python_op_base_class():
    with pytest.warns(UserWarning, match="PythonOp has been deprecated"):
        op = mx.operator.PythonOp()
    assert op.need_top_grad() and op.list_arguments() == ["data"] and op.list_outputs() == ["output"]
    with pytest.raises(NotImplementedError):
        op(mx.sym.var("x"))
