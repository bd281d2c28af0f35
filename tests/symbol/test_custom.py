"""mx.sym.Custom: Python operators inside symbol graphs, executed and differentiated like mx.nd.Custom."""
import numpy as np

import mxcy as mx


class _Scale(mx.operator.CustomOp):
    def __init__(self, factor):
        self.factor = factor

    def forward(self, is_train, req, in_data, out_data, aux):
        self.assign(out_data[0], req[0], in_data[0] * self.factor + in_data[1])

    def backward(self, req, out_grad, in_data, out_data, in_grad, aux):
        self.assign(in_grad[0], req[0], out_grad[0] * self.factor)
        self.assign(in_grad[1], req[1], out_grad[0])


@mx.operator.register("scale_add")
class _ScaleProp(mx.operator.CustomOpProp):
    def __init__(self, factor="1"):
        super().__init__()
        self.factor = float(factor)

    def list_arguments(self):
        return ["x", "y"]

    def infer_shape(self, in_shape):
        return [in_shape[0], in_shape[0]], [in_shape[0]], []

    def create_operator(self, ctx, shapes, dtypes):
        return _Scale(self.factor)


def test_custom_symbol_names_inputs_runs_and_differentiates():
    sym = mx.sym.Custom(mx.sym.var("x"), op_type="scale_add", factor=3, name="c")
    assert sym.list_arguments() == ["x", "c_y"]
    assert sym.list_attr() == {"op_type": "scale_add", "factor": "3"}
    assert sym.infer_shape(x=(2, 2)) == ([(2, 2), (2, 2)], [(2, 2)], [])
    loaded = mx.sym.load_json(sym.tojson())
    assert loaded.tojson() == sym.tojson()
    x, y = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[0.5, 0.5], [1.0, -1.0]])
    exe = loaded.bind(mx.cpu(), {"x": mx.nd.array(x), "c_y": mx.nd.array(y)},
                      args_grad={"x": mx.nd.zeros((2, 2)), "c_y": mx.nd.zeros((2, 2))})
    np.testing.assert_allclose(exe.forward(is_train=True)[0].asnumpy(), 3 * x + y)
    exe.backward(mx.nd.ones((2, 2)))
    np.testing.assert_allclose(exe.grad_dict["x"].asnumpy(), np.full((2, 2), 3.0))
    np.testing.assert_allclose(exe.grad_dict["c_y"].asnumpy(), np.ones((2, 2)))
