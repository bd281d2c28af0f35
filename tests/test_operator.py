"""mx.operator's registry queries and CustomOpProp defaults, against what MXNet 1.9.1 prints."""
import numpy as np
import pytest

import mxcy as mx

# names and the inputs' types printed by MXNet 1.9.1's mx.operator.get_operator_arguments
MXNET_ARGUMENTS = {
    "Convolution": (["data", "weight", "bias", "kernel", "stride", "dilate", "pad", "num_filter", "num_group",
                     "workspace", "no_bias", "cudnn_tune", "cudnn_off", "layout"], 3, ["kernel", "num_filter"]),
    "add_n": (["args"], 1, []),
    "Activation": (["data", "act_type"], 1, ["act_type"]),
    "_contrib_box_nms": (["data", "overlap_thresh", "valid_thresh", "topk", "coord_start", "score_index",
                          "id_index", "background_id", "force_suppress", "in_format", "out_format"], 1, []),
}


@pytest.mark.parametrize("op_name", sorted(MXNET_ARGUMENTS))
def test_get_operator_arguments_matches_mxnet(op_name):
    names, n_inputs, required = MXNET_ARGUMENTS[op_name]
    got = mx.operator.get_operator_arguments(op_name)
    assert isinstance(got, mx.operator.OperatorArguments)
    assert got.narg == len(names) and got.names == names
    inputs = "NDArray-or-Symbol[]" if op_name == "add_n" else "NDArray-or-Symbol"
    assert got.types[:n_inputs] == [inputs] * n_inputs
    assert [n for n, t in zip(got.names, got.types) if t.endswith(", required")] == required


def test_get_operator_arguments_describes_choices_and_defaults():
    types = dict(zip(*mx.operator.get_operator_arguments("Activation")[1:]))
    assert types["act_type"] == "{'relu', 'sigmoid', 'softrelu', 'softsign', 'tanh'}, required"
    types = dict(zip(*mx.operator.get_operator_arguments("_contrib_box_nms")[1:]))
    assert types["overlap_thresh"] == "float, optional, default=0.5"


def test_get_operator_arguments_unknown_op():
    with pytest.raises(mx.MXNetError, match="no_such_op"):
        mx.operator.get_operator_arguments("no_such_op")


def test_infer_storage_type_backward_defaults():
    prop = mx.operator.CustomOpProp()
    got = prop.infer_storage_type_backward(["default"], ["default", "csr"], ["default"], ["undefined", "default"], [])
    assert got == (["default"], ["default", "default"], ["default"], ["default", "default"], [])
    with pytest.raises(mx.MXNetError, match=r"igrad_stype\[1\] is 'row_sparse'"):
        prop.infer_storage_type_backward(["default"], ["default"] * 2, ["default"], ["default", "row_sparse"], [])


def _raising_custom(name, error):
    """Register `name`: a CustomOp whose forward and backward raise `error` (as MXNet's test_custom_op_exc)."""
    class Raising(mx.operator.CustomOp):
        def forward(self, is_train, req, in_data, out_data, aux):
            raise error

        def backward(self, req, out_grad, in_data, out_data, in_grad, aux):
            raise error

    @mx.operator.register(name)
    class RaisingProp(mx.operator.CustomOpProp):
        def create_operator(self, ctx, shapes, dtypes):
            return Raising()


@pytest.mark.parametrize("error", [AssertionError(), ValueError("bad value"), KeyError("k")])
def test_custom_op_errors_surface_as_mxnet_errors(error):
    """MXNet 1.9.1 reports an exception of a custom operator's Python code as an MXNetError."""
    _raising_custom("raising_" + type(error).__name__, error)
    with pytest.raises(mx.MXNetError, match=rf"Custom\(raising_{type(error).__name__}\)\.forward: "
                                            rf"{type(error).__name__}") as info:
        mx.nd.Custom(mx.nd.zeros((2,)), op_type="raising_" + type(error).__name__).wait_to_read()
    assert info.value.__cause__ is error


def test_custom_op_mxnet_errors_pass_unchanged():
    error = mx.MXNetError("already an MXNetError")
    _raising_custom("raising_mxnet", error)
    with pytest.raises(mx.MXNetError) as info:
        mx.nd.Custom(mx.nd.zeros((2,)), op_type="raising_mxnet")
    assert info.value is error


class _SparseSquare(mx.operator.CustomOp):
    def forward(self, is_train, req, in_data, out_data, aux):
        x = in_data[0]
        self.assign(out_data[0], req[0], mx.nd.sparse.csr_matrix((x.data * x.data, x.indices, x.indptr),
                                                                 shape=x.shape))

    def backward(self, req, out_grad, in_data, out_data, in_grad, aux):
        self.assign(in_grad[0], req[0], 2 * mx.nd.sparse.elemwise_mul(in_data[0], out_grad[0]))


@mx.operator.register("sparse_square")
class _SparseSquareProp(mx.operator.CustomOpProp):
    def infer_storage_type(self, in_stype):
        return ["csr"], ["csr"], []

    def infer_storage_type_backward(self, ograd_stype, in_stype, out_stype, igrad_stype, aux_stype):
        return ["default"], ["csr"], ["csr"], ["csr"], []

    def create_operator(self, ctx, shapes, dtypes):
        return _SparseSquare()


def test_custom_op_arrays_take_the_storage_types_its_property_gives():
    """MXNet 1.9.1's test_custom_op: out_data and in_grad are CSR arrays when infer_storage_type(_backward) say so."""
    x_np = np.array([[0.0, 1.5, 0.0], [-2.0, 0.0, 3.0]])
    x = mx.nd.array(x_np).tostype("csr")
    x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.Custom(x, op_type="sparse_square")
    y.backward()
    assert y.stype == "csr" and x.grad.stype == "csr"
    np.testing.assert_allclose(y.asnumpy(), x_np ** 2)
    np.testing.assert_allclose(x.grad.asnumpy(), 2 * x_np)


class _CountCalls(mx.operator.CustomOp):
    def forward(self, is_train, req, in_data, out_data, aux):
        self.assign(out_data[0], req[0], in_data[0] * 2)
        aux[0][:] = aux[0] + 1

    def backward(self, req, out_grad, in_data, out_data, in_grad, aux):
        self.assign(in_grad[0], req[0], out_grad[0] * 2)


@mx.operator.register("test_operator_count_calls")
class _CountCallsProp(mx.operator.CustomOpProp):
    def __init__(self):
        super().__init__(need_top_grad=True)

    def list_arguments(self):
        return ["data"]

    def list_auxiliary_states(self):
        return ["calls"]

    def infer_shape(self, in_shape):
        return [in_shape[0]], [in_shape[0]], [(1,)]

    def create_operator(self, ctx, shapes, dtypes):
        return _CountCalls()


def test_custom_symbol_lists_the_propertys_auxiliary_states_as_mxnet():
    # MXNet 1.9.1 printed these lists and, after forward, backward, forward, the values below
    sym = mx.sym.Custom(mx.sym.var("x"), mx.sym.var("n"), op_type="test_operator_count_calls")
    assert (sym.list_inputs(), sym.list_arguments(), sym.list_auxiliary_states()) == (["x", "n"], ["x"], ["n"])
    exe = sym.bind(mx.cpu(), {"x": mx.nd.array([1.0, 2.0])}, args_grad={"x": mx.nd.zeros(2)},
                   aux_states={"n": mx.nd.zeros(1)})
    exe.forward(is_train=True)
    exe.backward(mx.nd.ones(2))
    exe.forward(is_train=True)
    assert exe.outputs[0].asnumpy().tolist() == [2.0, 4.0] and exe.grad_dict["x"].asnumpy().tolist() == [2.0, 2.0]
    assert exe.aux_dict["n"].asnumpy().tolist() == [2.0] and list(exe.grad_dict) == ["x"]
