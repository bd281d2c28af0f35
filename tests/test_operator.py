"""mx.operator's registry queries and CustomOpProp defaults, against what MXNet 1.9.1 prints."""
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
