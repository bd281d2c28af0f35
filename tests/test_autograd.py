"""autograd semantics: grad_req, retain_graph, higher order, grad(), Function, modes, errors."""
import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import mxcy as mx

values = hnp.arrays(np.float64, hnp.array_shapes(max_dims=2, max_side=4), elements=st.floats(-2, 2))


@given(values)
def test_first_derivative(x_np):
    x = mx.nd.array(x_np, dtype="float64")
    x.attach_grad()
    with mx.autograd.record():
        y = x * mx.nd.exp(x) + x ** 3
    y.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), np.exp(x_np) * (1 + x_np) + 3 * x_np ** 2, rtol=1e-10)


@given(values)
def test_second_derivative_with_create_graph(x_np):
    x = mx.nd.array(x_np, dtype="float64")
    x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.sin(x) * x
        dy = mx.autograd.grad(y, [x], create_graph=True)[0]
    dy.backward()
    np.testing.assert_allclose(dy.asnumpy(), np.cos(x_np) * x_np + np.sin(x_np), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(x.grad.asnumpy(), 2 * np.cos(x_np) - x_np * np.sin(x_np), rtol=1e-9, atol=1e-12)


def test_grad_req_add_accumulates_and_write_overwrites():
    x = mx.nd.array([1.0, 2.0])
    x.attach_grad(grad_req="add")
    for _ in range(3):
        with mx.autograd.record():
            y = x * x
        y.backward()
    assert x.grad.asnumpy().tolist() == [6.0, 12.0]
    x.attach_grad(grad_req="write")
    for _ in range(2):
        with mx.autograd.record():
            y = x * 3
        y.backward()
    assert x.grad.asnumpy().tolist() == [3.0, 3.0]


def test_grad_req_null_leaves_no_gradient():
    x = mx.nd.array([1.0])
    x.attach_grad(grad_req="null")
    w = mx.nd.array([2.0])
    w.attach_grad()
    with mx.autograd.record():
        y = x * w
    y.backward()
    assert x.grad is None and w.grad.asnumpy().tolist() == [1.0]


def test_backward_twice_needs_retain_graph():
    x = mx.nd.array([1.0, 2.0])
    x.attach_grad()
    with mx.autograd.record():
        y = x * x
    y.backward(retain_graph=True)
    y.backward()
    with pytest.raises(mx.MXNetError, match="retain_graph"):
        y.backward()


def test_head_gradients_and_multiple_heads():
    x = mx.nd.array([1.0, 2.0])
    x.attach_grad()
    with mx.autograd.record():
        a, b = x * 2, x * x
    mx.autograd.backward([a, b], [mx.nd.array([1.0, 10.0]), mx.nd.array([1.0, 1.0])])
    assert x.grad.asnumpy().tolist() == [4.0, 24.0]
    with pytest.raises(mx.MXNetError, match="head gradient of shape"):
        with mx.autograd.record():
            c = x * 2
        c.backward(mx.nd.ones((3,)))


def test_unrecorded_ops_do_not_enter_the_graph():
    x = mx.nd.array([3.0])
    x.attach_grad()
    y = x * 2
    assert y._node is None
    with pytest.raises(mx.MXNetError, match="not computed inside autograd.record"):
        y.backward()
    with mx.autograd.record():
        z = mx.nd.array([5.0]) * mx.nd.array([2.0])
    assert z._node is None


def test_grad_of_variable_not_in_graph():
    x, w = mx.nd.array([1.0]), mx.nd.array([1.0])
    x.attach_grad()
    w.attach_grad()
    with mx.autograd.record():
        y = x * 2
    with pytest.raises(mx.MXNetError, match="not part of the graph"):
        mx.autograd.grad(y, [w])


def test_inplace_write_to_recorded_array_is_refused():
    x = mx.nd.array([1.0])
    x.attach_grad()
    with mx.autograd.record():
        y = x * 2
        with pytest.raises(mx.MXNetError, match="Inplace operations"):
            y += 1


def test_modes():
    assert not mx.autograd.is_recording() and not mx.autograd.is_training()
    with mx.autograd.record():
        assert mx.autograd.is_recording() and mx.autograd.is_training()
        with mx.autograd.pause():
            assert not mx.autograd.is_recording() and not mx.autograd.is_training()
        with mx.autograd.predict_mode():
            assert not mx.autograd.is_training()
    with mx.autograd.record(train_mode=False):
        assert not mx.autograd.is_training()
    with mx.autograd.train_mode():
        assert mx.autograd.is_training()
    assert mx.autograd.set_recording(True) is False
    assert mx.autograd.set_recording(False) is True
    assert mx.autograd.set_training(True) is False
    mx.autograd.set_training(False)


def test_custom_function():
    class Sigmoid(mx.autograd.Function):
        def forward(self, x):
            y = 1 / (1 + mx.nd.exp(-x))
            self.save_for_backward(y)
            return y

        def backward(self, dy):
            y, = self.saved_tensors
            return dy * y * (1 - y)

    x = mx.nd.array([0.5, -1.0], dtype="float64")
    x.attach_grad()
    with mx.autograd.record():
        y = Sigmoid()(x) * 3
    y.backward()
    s = 1 / (1 + np.exp(-np.array([0.5, -1.0])))
    np.testing.assert_allclose(x.grad.asnumpy(), 3 * s * (1 - s), rtol=1e-12)


def test_mark_variables():
    x = mx.nd.array([2.0])
    g = mx.nd.zeros((1,))
    mx.autograd.mark_variables([x], [g])
    with mx.autograd.record():
        y = x * x * x
    y.backward()
    assert g.asnumpy().tolist() == [12.0]


def test_custom_operator_forward_backward_and_kwargs():
    @mx.operator.register("scaled_square")
    class ScaledSquareProp(mx.operator.CustomOpProp):
        def __init__(self, scale):
            super().__init__(need_top_grad=True)
            self.scale = float(scale)  # MXNet passes keyword arguments as strings

        def create_operator(self, ctx, shapes, dtypes):
            scale = self.scale

            class ScaledSquare(mx.operator.CustomOp):
                def forward(self, is_train, req, in_data, out_data, aux):
                    self.assign(out_data[0], req[0], in_data[0] * in_data[0] * scale)

                def backward(self, req, out_grad, in_data, out_data, in_grad, aux):
                    self.assign(in_grad[0], req[0], out_grad[0] * in_data[0] * (2 * scale))
            return ScaledSquare()

    x = mx.nd.array([1.0, -2.0, 3.0])
    x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.Custom(x, op_type="scaled_square", scale=1.5)
    assert y.asnumpy().tolist() == [1.5, 6.0, 13.5]
    y.backward(mx.nd.array([1.0, 1.0, 2.0]))
    assert x.grad.asnumpy().tolist() == [3.0, -6.0, 18.0]
    # MXNet lists its operator registry there (Custom ops all run as the one "Custom" operator)
    assert {"Activation", "Custom"} <= set(mx.operator.get_all_registered_operators())
    with pytest.raises(mx.MXNetError, match="not registered"):
        mx.nd.Custom(x, op_type="nope")


def test_get_symbol_rebuilds_the_recorded_computation():
    a = mx.nd.array([0.5, -1.0, 2.0])
    a.attach_grad()
    with mx.autograd.record():
        y = mx.nd.sum(mx.nd.exp(a * 2) + a, axis=0)
    sym = mx.autograd.get_symbol(y)
    assert sym.list_arguments() == ["var0"]
    x = np.array([0.1, 0.2, -0.3])
    np.testing.assert_allclose(sym.eval(var0=mx.nd.array(x))[0].asnumpy(), np.sum(np.exp(2 * x) + x),
                               rtol=1e-6)
    with pytest.raises(mx.MXNetError, match="not computed under"):
        mx.autograd.get_symbol(a)


def test_backward_without_retain_graph_frees_saved_arrays_at_once():
    import gc
    import weakref
    a = mx.nd.array([0.5, -1.0])
    a.attach_grad()
    gc.disable()  # the tape is a reference cycle: backward must break it itself
    try:
        with mx.autograd.record():
            mid = mx.nd.exp(a)
            y = mx.nd.sum(mid * mid)
        saved = weakref.ref(mid)
        del mid
        y.backward()
        del y
        assert saved() is None
    finally:
        gc.enable()
    np.testing.assert_allclose(a.grad.asnumpy(), 2 * np.exp(2 * np.array([0.5, -1.0])), rtol=1e-6)


def test_star_import_hands_out_ndarray_symbol_and_array_as_mxnets():
    names = {}
    exec("from mxcy.autograd import *", names)
    assert names["NDArray"] is mx.nd.NDArray and names["Symbol"] is mx.sym.Symbol and names["array"] is mx.nd.array
    with pytest.raises(AttributeError):
        mx.autograd.no_such_name


def test_arrays_of_a_freed_graph_are_constants_in_a_new_recording():
    # MXNet's test_cached: `bias = bias + 1` again after a backward freed the graph that made `bias`
    w = mx.nd.array([1.0, 2.0])
    w.attach_grad()
    with mx.autograd.record():
        y = w * 3
        y.sum().backward()
    with mx.autograd.record():
        z = (y * w).sum()  # y is a constant now: dz/dw = y
    z.backward()
    assert w.grad.asnumpy().tolist() == [3.0, 6.0]
    with pytest.raises(mx.MXNetError, match="freed"):
        y2 = w * 2
        with mx.autograd.record():
            y2 = w * 2
            h = y2.sum()
        h.backward()
        h.backward()  # twice without retain_graph


@pytest.mark.parametrize("stype", ["default", "row_sparse", "csr"])
def test_attach_grad_on_sparse_arrays_and_grad_stype(stype):
    x = mx.nd.zeros((4, 5)).tostype(stype)
    x.attach_grad()
    assert x.grad.stype == stype  # MXNet's default: the array's own storage
    with mx.autograd.record():
        y = x * 2
    y.backward(out_grad=mx.nd.ones_like(y).tostype(stype))
    assert (x.grad.asnumpy() == 2).all()
    for grad_stype in ["default", "row_sparse", "csr"]:
        z = mx.nd.zeros((1, 1), stype=stype)
        z.attach_grad(stype=grad_stype)
        assert z.grad.stype == grad_stype and z.detach().stype == stype


@pytest.mark.parametrize("stypes", [("default", "row_sparse"), ("csr", "default"), ("row_sparse", "csr")])
def test_gradients_flow_through_the_dense_fallback_of_mixed_storage(stypes):
    rng = np.random.default_rng(0)
    a, b = rng.uniform(size=(4, 5)).astype(np.float32), rng.uniform(size=(4, 5)).astype(np.float32)
    x, y = mx.nd.array(a).tostype(stypes[0]), mx.nd.array(b).tostype(stypes[1])
    x.attach_grad(), y.attach_grad()
    with mx.autograd.record():
        z = x + x * y  # mixed storage falls back to dense; the conversion stays on the tape
    z.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), 1 + b, rtol=1e-6)
    np.testing.assert_allclose(y.grad.asnumpy(), a, rtol=1e-6)


def test_get_symbol_gives_auxiliary_states_their_own_variables():
    x = mx.nd.array(np.arange(12.0).reshape(3, 4))
    x.attach_grad()
    gamma, beta, mean, var = mx.nd.ones(4), mx.nd.zeros(4), mx.nd.zeros(4), mx.nd.ones(4)
    with mx.autograd.record():
        y = mx.nd.BatchNorm(x, gamma, beta, mean, var, axis=1) * 2
    sym = mx.autograd.get_symbol(y)
    assert sym.list_arguments() == ["var0", "var1", "var2"]
    assert sym.list_auxiliary_states() == ["batchnorm0_moving_mean", "batchnorm0_moving_var"]


def _layer(op):
    """(inputs, call) of a small application of an op that declares a gradient_op."""
    rng = np.random.default_rng(0)
    if op == "FullyConnected":
        arrays = [rng.standard_normal((3, 5)), rng.standard_normal((4, 5)), rng.standard_normal(4)]
        return arrays, lambda d, w, b: mx.nd.FullyConnected(d, w, b, num_hidden=4)
    if op == "Convolution":
        arrays = [rng.standard_normal((2, 3, 5, 5)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)]
        return arrays, lambda d, w, b: mx.nd.Convolution(d, w, b, kernel=(3, 3), num_filter=4)
    params = rng.standard_normal(4 * 3 * (2 + 3) + 2 * 4 * 3)  # an LSTM of 3 units on 2 inputs, biases
    arrays = [rng.standard_normal((4, 2, 2)), params, np.zeros((1, 2, 3)), np.zeros((1, 2, 3))]
    return arrays, lambda d, p, h, c: mx.nd.RNN(d, p, h, c, state_size=3, num_layers=1, mode="lstm")


@pytest.mark.parametrize("op", ["FullyConnected", "Convolution", "RNN"])
def test_gradients_no_input_needs_are_skipped(op, monkeypatch):
    # The data of a first layer needs no gradient: its backward op gets REQ_NULL for it (MXNet's kNullOp), and the
    # weights' gradients are those of a run where the data has one.
    from mxcy.kernels.common import REQ_NULL
    from mxcy.ops import registry
    back = registry.get(op).gradient_op
    compute = registry.get(back).compute
    seen = []
    real = compute["cpu"]
    monkeypatch.setitem(compute, "cpu", lambda attrs, ins, outs, reqs: seen.append(reqs) or real(attrs, ins, outs, reqs))
    arrays, call = _layer(op)
    grads = []
    for data_grad in (True, False):
        inputs = [mx.nd.array(a, dtype=np.float64) for a in arrays]
        for k, x in enumerate(inputs):
            if k == 1 or (k == 0 and data_grad):
                x.attach_grad()
        with mx.autograd.record():
            y = call(*inputs)
        y.backward()
        grads.append(inputs[1].grad.asnumpy())
    assert seen[0][0] != REQ_NULL and seen[1][0] == REQ_NULL
    assert all(r != REQ_NULL for r in seen[1][1:2])
    np.testing.assert_array_equal(grads[0], grads[1])
