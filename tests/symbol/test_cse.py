"""Common subexpression elimination: the node counts MXNet 1.9.1's test_eliminate_common_expr expects, and the
same values and gradients as the graph it came from."""
import numpy as np
import pytest

import mxcy as mx
from mxcy.symbol.cse import eliminate_common_expr

a, b, c = mx.sym.var("a"), mx.sym.var("b"), mx.sym.var("c")
d = a + 1
# (symbol, internals saved): MXNet 1.9.1's cases
CASES = [
    ((a + 1) + (a + 2), 0),
    ((a + b) + (a + b), 1),
    (((a + b) + c) + ((a + b) + c), 2),
    (mx.sym.Group([a * d, a * d]), 0),  # a*d merged, then a copy keeps the two outputs apart
    (mx.sym.Group([a * d + b, a * d + b]), 1),
    (mx.sym.Dropout(a) + mx.sym.Dropout(a), 0),  # random draws are never merged
]


@pytest.mark.parametrize("sym, saved", CASES)
def test_savings_and_values(sym, saved):
    optimized = eliminate_common_expr(sym)
    assert len(sym.get_internals()) - len(optimized.get_internals()) == saved
    assert optimized.list_arguments() == sym.list_arguments() and len(optimized.list_outputs()) == len(sym.list_outputs())
    if "dropout" in sym.tojson():
        return
    rng = np.random.default_rng(0)
    data = {n: mx.nd.array(rng.uniform(size=(3, 4)), dtype="float64") for n in sym.list_arguments()}
    results = []
    for s in (sym, optimized):
        exe = s.simple_bind(mx.cpu(), type_dict={n: "float64" for n in data}, **{n: (3, 4) for n in data})
        outs = exe.forward(is_train=True, **data)
        exe.backward([mx.nd.ones_like(o) for o in outs])
        results.append(([o.asnumpy() for o in outs], [g.asnumpy() for g in exe.grad_arrays]))
    for x, y in zip(results[0][0] + results[0][1], results[1][0] + results[1][1]):
        np.testing.assert_allclose(x, y, rtol=1e-12)


def test_nodes_with_state_are_kept_apart():
    bn = mx.sym.BatchNorm(a, name="bn")
    twice = mx.sym.Group([bn, mx.sym.BatchNorm(a, name="bn")])
    assert len(eliminate_common_expr(twice).get_internals()) == len(twice.get_internals())


class _Counting(mx.operator.CustomOp):
    def forward(self, is_train, req, in_data, out_data, aux):
        self.assign(out_data[0], req[0], in_data[0] + 1)

    def backward(self, req, out_grad, in_data, out_data, in_grad, aux):
        self.assign(in_grad[0], req[0], out_grad[0])


@mx.operator.register("cse_plus_one")
class _CountingProp(mx.operator.CustomOpProp):
    def create_operator(self, ctx, shapes, dtypes):
        return _Counting()


@pytest.mark.parametrize("make", [
    lambda: mx.sym.Custom(a, op_type="cse_plus_one") + mx.sym.Custom(a, op_type="cse_plus_one"),
    lambda: mx.sym.zeros((2,)) + mx.sym.zeros((2,)),  # MXNet merges only nodes that have inputs
])
def test_custom_ops_and_nodes_without_inputs_are_kept_apart_as_mxnet(make):
    sym = make()
    assert len(eliminate_common_expr(sym).get_internals()) == len(sym.get_internals())
