"""Storage-type inference over a graph (symbol/infer_storage.py) and what the Executor does with it: output and
gradient arrays in the storage types MXNet 1.9.1 gives, and its gradient values on row_sparse inputs (printed by
MXNet 1.9.1 for sqrt, square and abs with a row_sparse head gradient)."""
import numpy as np
import pytest

import mxcy as mx
from mxcy.symbol.infer_storage import infer_storage, variable_stypes

NAN, INF = float("nan"), float("inf")
MXNET_GRADS = {"sqrt": [[NAN, NAN, NAN], [0.25, INF, 0.5], [0, 0, 0]],
               "square": [[0, 0, 0], [8, 0, 54], [0, 0, 0]],
               "abs": [[0, 0, 0], [1, 0, 3], [0, 0, 0]]}


@pytest.mark.parametrize("name", sorted(MXNET_GRADS))
@pytest.mark.parametrize("grad_stype", ["row_sparse", "default"])
def test_unary_gradients_on_row_sparse_input_as_mxnet(name, grad_stype):
    x = mx.nd.array([[0, 0, 0], [4, 0, 9], [1, 1, 1]]).tostype("row_sparse")
    head = mx.nd.array([[0, 0, 0], [1, 2, 3], [0, 0, 0]]).tostype("row_sparse")
    grad = mx.nd.sparse.zeros(grad_stype, (3, 3))
    exe = getattr(mx.sym, name)(mx.sym.var("data", stype="row_sparse")).bind(mx.cpu(), {"data": x},
                                                                             args_grad={"data": grad})
    assert exe.outputs[0].stype == "row_sparse"
    exe.forward(is_train=True)
    exe.backward([head])
    assert grad.stype == grad_stype
    np.testing.assert_allclose(grad.asnumpy(), MXNET_GRADS[name], rtol=1e-6)


def test_inference_walks_the_graph():
    a, b = mx.sym.var("a", stype="csr"), mx.sym.var("b")
    out = mx.sym.Group([mx.sym.sparse.elemwise_mul(a, b), mx.sym.dot(a, b, transpose_a=True),
                        mx.sym.sparse.cast_storage(mx.sym.relu(b), stype="row_sparse")])
    stypes = variable_stypes(out)
    assert stypes == {"a": "csr", "b": "default"}
    outs, grads, sparse_inside = infer_storage(out, stypes)
    assert outs == ["csr", "row_sparse", "row_sparse"] and sparse_inside
    assert grads == {"a": "default", "b": "default"}
    assert infer_storage(mx.sym.relu(b), {"b": "default"})[2] is False


def test_unknown_stype_is_an_error():
    with pytest.raises(mx.MXNetError, match="stype_dict: unknown storage type 'sparse'"):
        variable_stypes(mx.sym.var("a"), {"a": "sparse"})
