"""Executor.debug_str's memory line: outputs, plus the values the backward reads when a gradient flows (MXNet
1.9.1's test_zero_prop: stop_gradient saves as much as grad_req='null')."""
import re

import mxcy as mx
from mxcy.memory_plan import allocated_bytes, gradient_flows


def _chain(n):
    data = mx.sym.var("data")
    for _ in range(n):
        data = data * data
    return data


def _mb(exe):
    return int(re.search(r"Total (\d+) MB allocated", exe.debug_str()).group(1))


def test_memory_line_follows_where_gradients_flow():
    shape = (4, 256, 256)  # 1 MB of float32
    sym = _chain(3)
    full = _mb(sym.simple_bind(mx.cpu(), data=shape))
    frozen = _mb(sym.simple_bind(mx.cpu(), data=shape, grad_req="null"))
    stopped = _mb(mx.sym.stop_gradient(sym).simple_bind(mx.cpu(), data=shape))
    # output 1 MB; the backward reads data and the two intermediate squares (data is bound, not counted)
    assert (full, frozen, stopped) == (3, 1, 1)


def test_gradient_flows():
    x, idx = mx.sym.var("x"), mx.sym.var("idx")
    assert gradient_flows(x * 2, {"x": "write"}) and not gradient_flows(x * 2, {"x": "null"})
    assert not gradient_flows(mx.sym.BlockGrad(x * 2), {"x": "write"})
    assert gradient_flows(mx.sym.BlockGrad(x) + x, {"x": "add"})
    assert not gradient_flows(x == idx, {"x": "write", "idx": "write"})
    assert allocated_bytes(mx.sym.dot(x, idx), {"x": (2, 3)}, {"x": "float32"}, {"x": "write"}) is None  # idx unknown
