"""mx.sym.contrib.foreach / while_loop / cond: the `_foreach` / `_while_loop` / `_cond` nodes in the Executor and
in hybridized Gluon blocks (CachedOp) against NumPy references and float64 numerical gradients, agreement with
the imperative versions, shape/type inference, MXNet 1.9.1's JSON (files MXNet wrote, byte for byte, and the
numbers it computes with them: fixtures/make_control_flow.py), and bad input."""
import json
import os
from collections import defaultdict

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import mxcy as mx
from mxcy import gluon
from tests.ndarray.test_control_flow import CASES, draw, imperative, numeric_gradient
from tests.symbol.fixtures import make_control_flow

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")


def _symbol(name):
    case = CASES[name][0]
    n_inputs = {"foreach": 3, "while_loop": 3, "nested": 3, "cond": 2}[name]
    names = [f"x{k}" for k in range(n_inputs)]
    return mx.sym.Group(case(mx.sym, *[mx.sym.var(n) for n in names])), names


def executor_run(name, arrays, heads):
    sym, names = _symbol(name)
    wrt = CASES[name][3]
    args = {n: mx.nd.array(a, dtype="float64") for n, a in zip(names, arrays)}
    grads = {names[k]: mx.nd.zeros(arrays[k].shape, dtype="float64") for k in wrt}
    exe = sym.bind(mx.cpu(), args=args, args_grad=grads)
    outs = exe.forward(is_train=True)
    exe.backward([mx.nd.array(h, dtype="float64") for h in heads])
    return [o.asnumpy() for o in outs], [grads[names[k]].asnumpy() for k in wrt]


class _Case(gluon.HybridBlock):
    def __init__(self, case):
        super().__init__()
        self.case = case

    def hybrid_forward(self, F, *args):
        return self.case(F, *args)


def hybridized_run(name, arrays, heads, **flags):
    block = _Case(CASES[name][0])
    block.hybridize(**flags)
    return imperative(name, arrays, heads, call=block)


@pytest.mark.parametrize("name", sorted(CASES))
@settings(max_examples=3, deadline=None)
@given(seed=st.integers(0, 2 ** 16))
def test_executor_and_cached_op_match_numpy_numeric_gradients_and_mx_nd(name, seed):
    _, ref, _, wrt = CASES[name]
    arrays, heads = draw(name, seed)
    numeric = numeric_gradient(ref, arrays, heads, wrt)
    imp_outs, imp_grads = imperative(name, arrays, heads)
    for run in (executor_run, hybridized_run, lambda *a: hybridized_run(*a, inline_limit=0)):
        outs, grads = run(name, arrays, heads)
        for got, want, imp in zip(outs, ref(*arrays), imp_outs):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(got, imp, rtol=1e-12, atol=1e-12)
        for got, want, imp in zip(grads, numeric, imp_grads):
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)
            np.testing.assert_allclose(got, imp, rtol=1e-12, atol=1e-12)


def _mxnet_cases(monkeypatch):
    """The fixture script's graphs built by mxcy with fresh name counters, in its order (as MXNet ran it)."""
    monkeypatch.setattr(mx.AttrScope, "_subgraph_names", defaultdict(int))
    with mx.name.NameManager():
        return {name: build(mx) for name, build in make_control_flow.CASES.items()}


def test_json_is_mxnet_byte_for_byte_and_mxnet_files_compute_mxnets_numbers(monkeypatch):
    expected = np.load(os.path.join(FIXTURES, "control_flow-expected.npz"))
    built = _mxnet_cases(monkeypatch)
    for name, (sym, shapes) in built.items():
        path = os.path.join(FIXTURES, f"control_flow-{name}-symbol.json")
        with open(path, encoding="utf-8") as f:
            text = f.read()
        assert sym.tojson() == text, name
        loaded = mx.sym.load(path)
        assert loaded.tojson() == text, name
        for salt in (0, 1):
            outs, grads = make_control_flow.run(mx, loaded, make_control_flow.inputs(name, loaded, shapes, salt))
            for j, out in enumerate(outs):
                want = expected[f"{name}/{salt}/out{j}"]
                rows = 3 if name == "while_loop" and j == 0 else None  # MXNet leaves the padding rows unset
                np.testing.assert_allclose(out[:rows], want[:rows], rtol=1e-5, atol=1e-6, err_msg=f"{name} out{j}")
            if name == "nested":
                # MXNet 1.9.1's Executor gets this graph's gradient wrong: its own mx.nd.contrib.foreach and
                # float64 central differences agree with each other and with mxcy ("nested" in CASES).
                continue
            for key, grad in grads.items():
                np.testing.assert_allclose(grad, expected[f"{name}/{salt}/grad_{key}"], rtol=1e-4, atol=1e-5,
                                           err_msg=f"{name} grad {key}")


def test_node_layout_as_mxnet_writes_it():
    data, state, w = mx.sym.var("data"), mx.sym.var("s"), mx.sym.var("w")
    outs, states = mx.sym.contrib.foreach(lambda x, s: ([x * w + w * s[0]], [s[0]]), data, [state])
    doc = json.loads(mx.sym.Group(outs + states).tojson())
    node = doc["nodes"][-1]
    assert node["op"] == "_foreach" and node["attrs"] == {
        "in_data_locs": "[0]", "in_state_locs": "[2]", "num_args": "4", "num_out_data": "1",
        "num_outputs": "2", "remain_locs": "[1]"}
    (sub,) = node["subgraphs"]
    # w is used twice but cut once; the state, returned as it came, goes through identity (_copy)
    assert [n["name"] for n in sub["nodes"] if n["op"] == "null"] == ["data-0", "w", "s-0"]
    assert sub["nodes"][-1]["op"] == "_copy" and "attrs" not in sub
    assert mx.sym.Group(outs + states).list_arguments() == ["data", "s", "w"]


def test_infer_shape_and_type_through_subgraphs():
    data, h = mx.sym.var("data"), mx.sym.var("h")

    def step(x, states):
        out = mx.sym.FullyConnected(x, num_hidden=3, name="fc") + states[0]
        return out, [out]
    outs, states = mx.sym.contrib.foreach(step, data, [h])
    sym = mx.sym.Group([outs] + states)
    arg_shapes, out_shapes, _ = sym.infer_shape(data=(5, 2, 4))  # h and the weights come from the body
    assert dict(zip(sym.list_arguments(), arg_shapes)) == {
        "data": (5, 2, 4), "h": (2, 3), "fc_weight": (3, 4), "fc_bias": (3,)}
    assert out_shapes == [(5, 2, 3), (2, 3)]
    _, out_types, _ = sym.infer_type(data="float64")
    assert out_types == [np.float64, np.float64]
    i = mx.sym.var("i")
    outs, final = mx.sym.contrib.while_loop(lambda i: i < 4, lambda i: ([i * 2, mx.sym.cast(i, "int32")], [i + 1]),
                                            [i], max_iterations=7)
    _, out_shapes, _ = mx.sym.Group(outs + final).infer_shape(i=(1,))
    assert out_shapes == [(7, 1), (7, 1), (1,)]
    _, out_types, _ = mx.sym.Group(outs + final).infer_type(i="float32")
    assert out_types == [np.float32, np.int32, np.float32]


def test_while_loop_counter_output_needs_no_gradient_and_padding_is_zero():
    i, s = mx.sym.var("i"), mx.sym.var("s")
    outs, (i_end, s_end) = mx.sym.contrib.while_loop(lambda i, s: i < 2, lambda i, s: ([s], [i + 1, s * 3]),
                                                     [i, s], max_iterations=4)
    sym = mx.sym.Group([outs[0], i_end, s_end])
    grad = mx.nd.zeros((2,))
    exe = sym.bind(mx.cpu(), {"i": mx.nd.zeros((1,)), "s": mx.nd.array([1, 2])}, args_grad={"s": grad})
    rows, count, last = exe.forward(is_train=True)
    np.testing.assert_array_equal(rows.asnumpy(), [[1, 2], [3, 6], [0, 0], [0, 0]])
    assert count.asnumpy().tolist() == [2] and last.asnumpy().tolist() == [9, 18]
    exe.backward([mx.nd.ones((4, 2)), mx.nd.ones((1,)), mx.nd.ones((2,))])
    np.testing.assert_array_equal(grad.asnumpy(), [1 + 3 + 9] * 2)


def test_gluon_cell_in_foreach_initializes_deferred_parameters_and_matches_unroll():
    class Net(gluon.HybridBlock):
        def __init__(self):
            super().__init__()
            with self.name_scope():
                self.cell = gluon.rnn.RNNCell(3)

        def hybrid_forward(self, F, data, h):
            outs, _ = F.contrib.foreach(self.cell, data, [h])
            return outs
    data, h = mx.nd.random.uniform(shape=(4, 2, 5)), mx.nd.zeros((2, 3))
    net = Net()
    net.initialize()
    net.hybridize()
    got = net(data, h)
    assert net.cell.i2h_weight.shape == (3, 5)
    want, _ = net.cell.unroll(4, data, [h], layout="TNC", merge_outputs=True)
    np.testing.assert_allclose(got.asnumpy(), want.asnumpy(), rtol=1e-6, atol=1e-6)


def test_nested_loops_in_a_hybridized_block_match_the_imperative_block():
    class Net(gluon.HybridBlock):
        def hybrid_forward(self, F, data, s):
            def outer(x, states):
                ys, last = F.contrib.foreach(lambda y, st: (y * st[0], [st[0] + y]), x, states)
                count, _ = F.contrib.while_loop(lambda k: k < 2, lambda k: (k, k + 1), [F.zeros((1,))],
                                                max_iterations=3)
                return F.broadcast_add(ys, F.sum(count)), last
            return F.contrib.foreach(outer, data, [s])
    data, s = mx.nd.random.uniform(shape=(2, 3, 4)), mx.nd.random.uniform(shape=(4,))
    imp = Net()
    hyb = Net()
    hyb.hybridize()
    for a, b in zip(mx.base._as_list(imp(data, s)[0]), mx.base._as_list(hyb(data, s)[0])):
        np.testing.assert_allclose(a.asnumpy(), b.asnumpy(), rtol=1e-6)


def test_bad_inputs_name_the_op():
    x, s = mx.sym.var("x"), mx.sym.var("s")
    outs, states = mx.sym.contrib.foreach(lambda d, st: (d, [mx.sym.concat(st[0], st[0], dim=0)]), x, [s])
    sym = mx.sym.Group([outs] + states)
    with pytest.raises(mx.MXNetError, match=r"_foreach.*loop state 0 enters the _foreach body with shape \(2,\)"):
        sym.bind(mx.cpu(), {"x": mx.nd.ones((3, 2)), "s": mx.nd.ones((2,))})

    class Grow(gluon.HybridBlock):
        def hybrid_forward(self, F, data, state):
            return F.contrib.foreach(lambda d, st: (d, [F.concat(st[0], st[0], dim=0)]), data, [state])[1]
    block = Grow()
    block.hybridize()
    with pytest.raises(mx.MXNetError, match=r"_foreach: loop state 0 enters the body as \(2,\)"):
        block(mx.nd.ones((3, 2)), mx.nd.ones((2,)))
    with pytest.raises(AssertionError, match="data arrays have to be used"):
        mx.sym.contrib.foreach(lambda d, st: (st[0] * 2, st), x, [s])
    with pytest.raises(AssertionError, match="different format"):
        mx.sym.contrib.foreach(lambda d, st: (d, st[0]), x, [s])
    with pytest.raises(ValueError, match="max_iterations"):
        mx.sym.contrib.while_loop(lambda i: i < 1, lambda i: (i, i), [x])
    with pytest.raises(ValueError, match="doesn't involve"):
        mx.sym.contrib.while_loop(lambda i, j: i < 1, lambda i, j: ([], [i + 1, s]), [x, s], max_iterations=2)
    with pytest.raises(ValueError, match="differs between then-branch and else-branch"):
        mx.sym.contrib.cond(x < 1, lambda: [x, x], lambda: x)
    cond = mx.sym.contrib.cond(x.sum() < 1, lambda: x, lambda: mx.sym.concat(x, x, dim=0))
    with pytest.raises(mx.MXNetError, match=r"_cond.*output 0 has shape \(2,\) in then_branch and \(4,\)"):
        cond.infer_shape(x=(2,))
    steps, _ = mx.sym.contrib.while_loop(lambda i: i, lambda i: (i, i + 1), [x], max_iterations=2)
    with pytest.raises(mx.MXNetError, match="_while_loop: cond must give one element, got shape"):
        steps[0].eval(x=mx.nd.ones((3,)))
    doc = json.loads(sym.tojson())
    del doc["nodes"][-1]["subgraphs"]
    with pytest.raises(mx.MXNetError, match=r"_foreach: expects 1 subgraphs \(fn\), got 0"):
        mx.sym.load_json(json.dumps(doc)).infer_shape(x=(3, 2), s=(2,))


def test_infer_shape_partial_keeps_an_unknown_loop_length():
    # MXNet 1.9.1 prints exactly these for this graph (0 is MXNet 1.x's unknown dimension).
    data = mx.sym.var("data", shape=(0, 3, 32, 32))
    outs, states = mx.sym.contrib.foreach(lambda d, st: (d + st[0], [st[0] * 2]), data, [mx.sym.var("state")])
    sym = mx.sym.Group([outs] + states)
    assert sym.infer_shape_partial() == ([(0, 3, 32, 32), (3, 32, 32)], [(0, 3, 32, 32), (3, 32, 32)], [])
    assert sym.infer_shape_partial(data=(4, 3, 32, 32)) == \
        ([(4, 3, 32, 32), (3, 32, 32)], [(4, 3, 32, 32), (3, 32, 32)], [])
    with pytest.warns(UserWarning, match="Cannot decide shape"):
        assert sym.infer_shape()[0] is None  # not partial: the unknown length stays unknown


@pytest.mark.cuda
@pytest.mark.parametrize("name", ["foreach", "while_loop", "cond"])
def test_loops_run_on_the_gpu(name):
    # The subgraphs' ops run on the inputs' device; only the loop itself and cond's test are on the host.
    _, ref, _, wrt = CASES[name]
    arrays, heads = draw(name, 3)
    block = _Case(CASES[name][0])
    block.hybridize()
    xs = [mx.nd.array(a, ctx=mx.gpu(0)) for a in arrays]
    for k in wrt:
        xs[k].attach_grad()
    with mx.autograd.record():
        outs = block(*xs)
    mx.autograd.backward(outs, [mx.nd.array(h, ctx=mx.gpu(0)) for h in heads])
    assert all(o.context == mx.gpu(0) for o in outs)
    for got, want in zip(outs, ref(*arrays)):
        np.testing.assert_allclose(got.asnumpy(), want, rtol=1e-5, atol=1e-5)
    for k, want in zip(wrt, numeric_gradient(ref, arrays, heads, wrt)):
        np.testing.assert_allclose(xs[k].grad.asnumpy(), want, rtol=1e-4, atol=1e-5)
