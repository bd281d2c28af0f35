"""mx.test_utils' Symbol helpers: they pass on correct symbols and fail, naming the array, on wrong ones."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import mxcy as mx
from mxcy import test_utils as tu


def _net():
    a, b = mx.sym.var("a"), mx.sym.var("b")
    return mx.sym.sum(mx.sym.tanh(a) * b, axis=0)


@given(st.integers(1, 4), st.integers(1, 3), st.integers(0, 2**31))
def test_numeric_gradient_of_a_correct_symbol_passes(m, n, seed):
    rng = np.random.default_rng(seed)
    loc = {"a": rng.standard_normal((m, n)), "b": rng.standard_normal((m, n))}
    tu.check_numeric_gradient(_net(), loc, dtype=np.float64)
    tu.check_numeric_gradient(_net(), [loc["a"], loc["b"]], grad_nodes={"a": "add", "b": "null"},
                              dtype=np.float64)


def test_numeric_gradient_catches_a_wrong_gradient():
    class Wrong(mx.operator.CustomOp):
        def forward(self, is_train, req, in_data, out_data, aux):
            self.assign(out_data[0], req[0], in_data[0] * in_data[0])

        def backward(self, req, out_grad, in_data, out_data, in_grad, aux):
            self.assign(in_grad[0], req[0], 3 * in_data[0] * out_grad[0])  # should be 2x

    @mx.operator.register("wrong_square")
    class WrongProp(mx.operator.CustomOpProp):
        def list_arguments(self):
            return ["data"]

        def infer_shape(self, in_shape):
            return in_shape, [in_shape[0]], []

        def create_operator(self, ctx, shapes, dtypes):
            return Wrong()

    sym = mx.sym.Custom(mx.sym.var("x"), op_type="wrong_square")
    with pytest.raises(AssertionError, match="NUMERICAL_x"):
        tu.check_numeric_gradient(sym, {"x": np.array([0.5, -1.5, 2.0])}, dtype=np.float64)


def test_symbolic_forward_and_backward_against_formulas():
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    head = rng.standard_normal(2)
    outs = tu.check_symbolic_forward(_net(), {"a": a, "b": b}, [np.sum(np.tanh(a) * b, axis=0)])
    assert outs[0].shape == (2,)
    expected = {"a": (1 - np.tanh(a) ** 2) * b * head, "b": np.tanh(a) * head}
    tu.check_symbolic_backward(_net(), [a, b], [head], expected)
    # float64: "add" starts from random gradients, and float32 (p + g) - p loses g's digits when |p| >> |g|.
    tu.check_symbolic_backward(_net(), [a, b], [head], expected, grad_req="add", dtype=np.float64)
    with pytest.raises(AssertionError, match="BACKWARD_b"):
        tu.check_symbolic_backward(_net(), [a, b], [head], {"a": expected["a"], "b": expected["b"] + 1})
    with pytest.raises(AssertionError, match="FORWARD_"):
        tu.check_symbolic_forward(_net(), [a, b], [np.zeros(2) + 5])


def test_simple_forward_and_consistency_across_dtypes():
    out = tu.simple_forward(_net(), a=np.ones((2, 2)), b=np.full((2, 2), 2.0))
    np.testing.assert_allclose(out, 2 * 2 * np.tanh(1.0), rtol=1e-6)
    ctx_list = [{"ctx": mx.cpu(), "a": (3, 2), "b": (3, 2), "type_dict": {"a": t, "b": t}}
                for t in (np.float64, np.float32)]
    net = _net()
    params = {}  # filled with the random inputs drawn (as MXNet's does)
    gt = tu.check_consistency(net, ctx_list, arg_params=params)
    assert set(gt) == set(net.list_outputs()) | {"a", "b"} and gt["a"].dtype == np.float64
    # a float32 run of a different network is caught against the float64 reference
    wrong = [_net(), _net() * 1.01]
    with pytest.raises(AssertionError):
        tu.check_consistency(wrong, ctx_list)
    tu.check_consistency(net, ctx_list, arg_params=params, ground_truth=gt)


def test_check_speed_times_runs():
    assert tu.check_speed(_net(), ctx=mx.cpu(), N=2, a=(2, 2), b=(2, 2)) > 0
    assert tu.check_speed(_net(), {"a": np.ones((2, 2)), "b": np.ones((2, 2))}, N=2, typ="forward") > 0
    with pytest.raises(mx.MXNetError, match="typ"):
        tu.check_speed(_net(), N=1, typ="backward", a=(2, 2), b=(2, 2))



def test_symbolic_checks_keep_sparse_arrays_and_return_ndarrays():
    """As MXNet 1.9.1's: sparse NDArrays are bound as given, the outputs and gradients come back as the executor's
    NDArrays (in the storage types the graph gives), and grad_stypes asks for sparse gradient arrays."""
    a, b = mx.sym.var("a", stype="row_sparse"), mx.sym.var("b", stype="row_sparse")
    x = mx.nd.array([[0, 0], [1, 2], [0, 0]]).tostype("row_sparse")
    y = mx.nd.array([[3, 0], [0, 0], [0, 0]]).tostype("row_sparse")
    total = x.asnumpy() + y.asnumpy()
    outs = tu.check_symbolic_forward(mx.sym.sparse.elemwise_add(a, b), {"a": x, "b": y}, [total])
    assert outs[0].stype == "row_sparse"
    np.testing.assert_array_equal(outs[0].asnumpy(), total)
    head = np.ones((3, 2), np.float32)
    grads = tu.check_symbolic_backward(mx.sym.sparse.elemwise_add(a, b), {"a": x, "b": y}, [head], [head, head],
                                       grad_stypes={"a": "row_sparse", "b": "default"})
    assert grads["a"].stype == "row_sparse" and grads["b"].stype == "default"
    np.testing.assert_array_equal(grads["a"].asnumpy(), head)


def test_numeric_gradient_binds_sparse_arrays_without_changing_them():
    x = mx.nd.array([[0, 0], [1, 2], [0, 3]]).tostype("row_sparse")
    before = x.asnumpy().copy()
    tu.check_numeric_gradient(mx.sym.square(mx.sym.var("data", stype="row_sparse")), [x])
    np.testing.assert_array_equal(x.asnumpy(), before)
    bn = mx.sym.BatchNorm(mx.sym.var("data", stype="row_sparse"), fix_gamma=True)  # refused on sparse, as MXNet
    with pytest.raises(mx.MXNetError, match="fix_gamma=True is not supported for sparse"):
        tu.check_numeric_gradient(bn, [x, np.ones(2), np.ones(2)], [np.zeros(2), np.ones(2)])


def test_random_projection_is_mxnets_range():
    proj = tu.random_projection((50, 40))
    assert proj.shape == (50, 40) and proj.min() >= 0.1 and proj.max() < 1.1


def test_numeric_gradient_float32_uses_mxnets_step_and_tolerances():
    """MXNet 1.9.1's test_fully_connected: float32 FullyConnected over 325 inputs passes with the dtype's step
    (2**-9) and tolerances (rtol 1e-4, atol 1e-3), where float32 rounding of the outputs exceeds rtol 1e-2,
    atol 1e-4; a wrong gradient still fails (above)."""
    rng = np.random.default_rng(3)
    fc = mx.sym.FullyConnected(mx.sym.var("data"), mx.sym.var("weight"), mx.sym.var("bias"), num_hidden=10)
    loc = {"data": rng.uniform(-0.5, 0.5, (5, 325)), "weight": rng.uniform(-0.5, 0.5, (10, 325)),
           "bias": rng.uniform(-0.5, 0.5, (10,))}
    np.random.seed(0)
    tu.check_numeric_gradient(fc, loc, grad_nodes=["data", "bias"])


def test_symbolic_backward_asnumpy_binds_gradients_in_the_expected_types():
    """MXNet 1.9.1's dtype='asnumpy': head gradients in their own dtype, gradient arrays in the expected values'."""
    x = np.array([1.0, -2.0], dtype=np.float16)
    grads = tu.check_symbolic_backward(mx.sym.square(mx.sym.var("x")), {"x": x}, [np.ones(2, dtype=np.float16)],
                                       [2 * x.astype(np.float64)], dtype="asnumpy")
    assert grads["x"].dtype == np.float64
