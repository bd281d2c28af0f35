"""GraphPlan.run: a graph's ops are pushed ahead of the engine only so far (the memory their outputs hold stays
bounded), with the results of an unthrottled run."""
import numpy as np

import mxcy as mx
from mxcy import autograd
from mxcy.graph_plan import GraphPlan
from mxcy.ndarray import NDArray


def test_a_long_chain_waits_for_the_op_max_in_flight_back(monkeypatch):
    x = mx.sym.var("x")
    y = x
    for _ in range(12):
        y = mx.sym.relu(y * 1.5 - 0.25)
    plan = GraphPlan(y)
    n_ops = sum(node.op is not None for node in plan.order)
    waited = []
    real = NDArray.wait_to_read
    monkeypatch.setattr(NDArray, "wait_to_read", lambda self: waited.append(self) or real(self))
    data = np.linspace(-1, 1, 7)
    out = plan.run({"x": mx.nd.array(data)}, mx.cpu(), False)[0]
    assert len(waited) == n_ops - autograd.MAX_IN_FLIGHT
    want = data
    for _ in range(12):
        want = np.maximum(want * 1.5 - 0.25, 0)
    np.testing.assert_allclose(out.asnumpy(), want, rtol=1e-6)
