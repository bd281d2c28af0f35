"""graph_trace: a CachedOp's or Executor's traced run replayed as one engine op must give exactly what the
op-by-op run gives (outputs, gradients, running statistics, random draws), match NumPy's math, and step aside
(op by op) where hooks, monitors, the profiler or Python-run ops need each operator."""
import json

import numpy as np
import pytest

import mxcy as mx
from mxcy import engine, graph_trace, profiler
from mxcy.kernels.common import REQ_NULL

nn = mx.gluon.nn


@pytest.fixture
def op_by_op(monkeypatch):
    """Within the test, every graph runs op by op (no trace is captured or replayed)."""
    def off():
        monkeypatch.setattr(graph_trace, "plain_run", lambda: False)
    return off


@pytest.fixture
def pushes(monkeypatch):
    """Counts engine pushes while the test runs."""
    count = [0]
    real = engine.push

    def counting(*args, **kwargs):
        count[0] += 1
        return real(*args, **kwargs)
    monkeypatch.setattr(engine, "push", counting)
    return count


def _dense_net(*widths):
    """Hybridized Dense layers of these widths, ReLU between them, weights drawn from N(0, 0.5)."""
    net = nn.HybridSequential()
    with net.name_scope():
        net.add(*[nn.Dense(w, activation="relu") for w in widths[:-1]], nn.Dense(widths[-1]))
    net.initialize(mx.init.Normal(0.5))
    net.hybridize()
    return net


def _assert_same(traced, plain):
    """Step by step, the arrays of a traced run equal those of the op-by-op run to the last bit."""
    for got, want in zip(traced, plain, strict=True):
        for a, b in zip(got, want, strict=True):
            np.testing.assert_array_equal(a, b)


def _net():
    mx.random.seed(3)
    net = nn.HybridSequential()
    with net.name_scope():
        net.add(nn.Dense(6, activation="relu"), nn.Dropout(0.4), nn.BatchNorm(), nn.Dense(4, activation="tanh"),
                nn.Dense(3))
    net.initialize(mx.init.Xavier())
    net.hybridize(static_alloc=True)
    return net


def _train(net, steps):
    """Outputs, gradients and parameters (moving statistics included) after each recorded step, and the
    outputs of a predict-mode call in between."""
    rng = np.random.default_rng(0)
    seen = []
    for step in range(steps):
        x = mx.nd.array(rng.standard_normal((5, 7)).astype(np.float32))
        mx.random.seed(10 + step)
        with mx.autograd.record():
            out = net(x)
            loss = (out * out).sum()
        loss.backward()
        params = net.collect_params().values()
        seen.append([out.asnumpy(), net(x).asnumpy()] + [p.grad().asnumpy() for p in params if p.grad_req != "null"]
                    + [p.data().asnumpy() for p in params])
        for p in params:
            if p.grad_req != "null":
                p.data()[:] -= 0.1 * p.grad()
    return seen


def test_replayed_cached_op_equals_the_op_by_op_run(op_by_op):
    net = _net()
    traced = _train(net, 4)
    sigs = list(net._cached_op._traces.values())
    assert any(s.backward for s in sigs) and all(s.forward for s in sigs)
    op_by_op()
    _assert_same(traced, _train(_net(), 4))


def test_replayed_mlp_matches_numpy():
    net = _dense_net(5, 2)
    rng = np.random.default_rng(1)
    for _ in range(3):  # the first call traces, the later ones replay
        x_np = rng.standard_normal((4, 3))
        with mx.autograd.record():
            out = net(mx.nd.array(x_np))
        head = rng.standard_normal((4, 2))
        out.backward(mx.nd.array(head))
        w1, b1, w2, b2 = (p.data().asnumpy().astype(np.float64) for p in net.collect_params().values())
        pre = x_np @ w1.T + b1
        hidden = np.maximum(pre, 0)
        np.testing.assert_allclose(out.asnumpy(), hidden @ w2.T + b2, rtol=1e-5, atol=1e-6)
        d_hidden = (head @ w2) * (pre > 0)
        grads = [p.grad().asnumpy() for p in net.collect_params().values()]
        for got, want in zip(grads, (d_hidden.T @ x_np, d_hidden.sum(0), head.T @ hidden, head.sum(0))):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_a_replayed_call_is_one_engine_op_each_way(pushes):
    net = nn.HybridSequential()
    with net.name_scope():
        for _ in range(5):
            net.add(nn.Dense(4, activation="relu"))
    net.initialize()
    net.hybridize()
    x = mx.nd.ones((1, 4))
    for _ in range(2):
        with mx.autograd.record():
            y = net(x)
        y.backward(mx.nd.ones((1, 4)))
    ograd = mx.nd.ones((1, 4))
    pushes[0] = 0
    with mx.autograd.record():
        y = net(x)
    assert pushes[0] == 1  # ten operators, one push
    pushes[0] = 0
    y.backward(ograd)
    assert pushes[0] == 2  # the graph's backward, then autograd's writes of the ten .grad arrays


def test_create_graph_through_a_replayed_call(op_by_op):
    def run():
        net = nn.HybridLambda(lambda F, x: F.tanh(x) * x * x)
        net.hybridize()
        x = mx.nd.array([0.5, -1.0, 2.0])
        x.attach_grad()
        for _ in range(2):  # trace the forward and backward, then replay
            with mx.autograd.record():
                y = net(x)
            y.backward()
        with mx.autograd.record():
            y = net(x)
            step = type(y._node[0].op).__name__
            (dx,) = mx.autograd.grad(y, [x], create_graph=True)  # the replayed call's tape is rebuilt
            penalty = (dx * dx).sum()
        penalty.backward()
        return dx.asnumpy(), x.grad.asnumpy(), step
    dx, ddx, step = run()
    assert step == "_TracedStep"
    x = np.array([0.5, -1.0, 2.0])
    t = np.tanh(x)
    want = (1 - t ** 2) * x ** 2 + 2 * t * x
    np.testing.assert_allclose(dx, want, rtol=1e-5)
    second = -2 * t * (1 - t ** 2) * x ** 2 + 4 * (1 - t ** 2) * x + 2 * t  # d(want)/dx
    np.testing.assert_allclose(ddx, 2 * want * second, rtol=1e-5)
    op_by_op()
    plain_dx, plain_ddx, step = run()
    assert step == "_GraphStep"
    _assert_same([(dx, ddx)], [(plain_dx, plain_ddx)])


def test_each_recorded_call_keeps_its_own_buffers():
    net = _dense_net(3, 2)
    x1, x2 = mx.nd.array([[1.0, -2.0, 0.5]]), mx.nd.array([[-0.3, 0.7, 2.0]])
    for _ in range(2):
        with mx.autograd.record():
            net(x1).backward()
    expected = {}
    for name, x in (("x1", x1), ("x2", x2)):
        with mx.autograd.record():
            net(x).backward()
        expected[name] = [p.grad().asnumpy() for p in net.collect_params().values()]
    with mx.autograd.record():
        y1 = net(x1)
        y2 = net(x2)  # replayed into new buffers: y1's saved values stay
    y1.backward()
    for got, want in zip([p.grad().asnumpy() for p in net.collect_params().values()], expected["x1"]):
        np.testing.assert_array_equal(got, want)
    y2.backward()
    with pytest.raises(mx.MXNetError, match="freed"):
        y2.backward()


def test_random_ops_draw_fresh_numbers_on_every_replay():
    net = nn.HybridSequential()
    net.add(nn.Dropout(0.5))
    net.hybridize()
    x = mx.nd.ones((64,))
    with mx.autograd.train_mode():
        draws = [net(x).asnumpy() for _ in range(4)]
    assert all(not np.array_equal(draws[0], d) for d in draws[1:])
    assert all(set(np.unique(d)) <= {0.0, 2.0} for d in draws)


def test_op_hook_and_profiler_see_every_operator_after_tracing(tmp_path):
    net = _dense_net(2, 2)
    x = mx.nd.ones((1, 2))
    for _ in range(2):
        net(x).wait_to_read()  # traced, then replayed
    seen = []
    net.register_op_hook(lambda name, op, array: seen.append(op.decode()))
    net(x).wait_to_read()
    assert seen == ["FullyConnected", "Activation", "FullyConnected"]

    net = _dense_net(2, 2)
    for _ in range(2):
        net(x).wait_to_read()
    path = tmp_path / "profile.json"
    profiler.set_config(profile_all=True, filename=str(path))
    profiler.dump(True)
    profiler.set_state("run")
    try:
        net(x).wait_to_read()
    finally:
        profiler.set_state("stop")
    profiler.dump()
    profiler.set_config(filename="profile.json")
    names = [e["name"] for e in json.loads(path.read_text())["traceEvents"] if e.get("cat") == "operator"]
    assert names == ["FullyConnected", "Activation", "FullyConnected"]


def test_python_run_ops_keep_the_graph_op_by_op():
    class Double(mx.operator.CustomOp):
        def forward(self, is_train, req, in_data, out_data, aux):
            self.assign(out_data[0], req[0], in_data[0] * 2)

        def backward(self, req, out_grad, in_data, out_data, in_grad, aux):
            self.assign(in_grad[0], req[0], out_grad[0] * 2)

    @mx.operator.register("graph_trace_double")
    class DoubleProp(mx.operator.CustomOpProp):
        def list_arguments(self):
            return ["data"]

        def infer_shape(self, in_shape):
            return in_shape, [in_shape[0]], []

        def create_operator(self, ctx, shapes, dtypes):
            return Double()

    data = mx.sym.var("data")
    op = mx.nd.CachedOp(mx.sym.Custom(data + 1, op_type="graph_trace_double"))
    x = mx.nd.array([1.0, 2.0])
    x.attach_grad()
    for _ in range(3):
        with mx.autograd.record():
            y = op(x)
        y.backward()
        np.testing.assert_array_equal(y.asnumpy(), [4.0, 6.0])
        np.testing.assert_array_equal(x.grad.asnumpy(), [2.0, 2.0])
    assert all(s.forward is False or s.backward is False for s in op._traces.values())


def _module_graph():
    data = mx.sym.var("data")
    hidden = mx.sym.Activation(mx.sym.FullyConnected(data, num_hidden=4, name="fc1"), act_type="relu")
    hidden = mx.sym.Dropout(mx.sym.BatchNorm(hidden, name="bn"), p=0.3)
    return mx.sym.SoftmaxOutput(mx.sym.FullyConnected(hidden, num_hidden=3, name="fc2"), name="softmax")


@pytest.mark.parametrize("grad_req", ["write", "add"])
def test_replayed_executor_equals_the_op_by_op_run(op_by_op, grad_req):
    def run():
        mx.random.seed(5)
        exe = _module_graph().simple_bind(mx.cpu(), data=(6, 5), grad_req=grad_req)
        rng = np.random.default_rng(2)
        for name, array in exe.arg_dict.items():
            array[:] = rng.standard_normal(array.shape).astype(np.float32)
        exe.aux_dict["bn_moving_var"][:] = 1.0
        seen = []
        for step in range(4):
            exe.arg_dict["data"][:] = rng.standard_normal((6, 5)).astype(np.float32)
            exe.arg_dict["softmax_label"][:] = rng.integers(0, 3, 6).astype(np.float32)
            exe.forward(is_train=True)
            exe.backward()
            seen.append([exe.outputs[0].asnumpy()] + [g.asnumpy() for g in exe.grad_arrays if g is not None]
                        + [a.asnumpy() for a in exe.aux_arrays])
            seen.append([exe.forward(is_train=False)[0].asnumpy()])
        return exe, seen
    exe, traced = run()
    assert all(s.forward for s in exe._traces.values()) and any(s.backward for s in exe._traces.values())
    op_by_op()
    _assert_same(traced, run()[1])


def test_executor_backward_outside_the_trace_and_monitor():
    x = mx.sym.var("x")
    sym = mx.sym.sum(mx.sym.tanh(x) * 3)
    exe = sym.simple_bind(mx.cpu(), x=(2, 2))
    x_np = np.array([[0.1, -0.5], [1.0, 2.0]], dtype=np.float32)
    exe.arg_dict["x"][:] = x_np
    want = 3 * (1 - np.tanh(x_np) ** 2)
    for _ in range(2):
        exe.forward(is_train=True)
        exe.backward(mx.nd.ones((1,)))
    exe.forward(is_train=True)  # replayed
    exe.backward(mx.nd.ones((1,)), is_train=False)  # not what was traced: the tape is rebuilt
    np.testing.assert_allclose(exe.grad_dict["x"].asnumpy(), want, rtol=1e-6)
    names = []
    exe.set_monitor_callback(lambda name, array: names.append(name.decode()))
    exe.forward(is_train=True)
    exe.backward(mx.nd.ones((1,)))
    np.testing.assert_allclose(exe.grad_dict["x"].asnumpy(), want, rtol=1e-6)
    assert any(n.endswith("_output") for n in names) and any("backward" in n for n in names)


def test_a_graph_writing_more_than_the_limit_runs_op_by_op(pushes, monkeypatch):
    # large graphs: kernels dominate, and op by op the engine overlaps independent ops (ResNet-18: 1.4x faster)
    monkeypatch.setattr(graph_trace, "TRACE_MAX_ELEMENTS", 30)
    net = nn.HybridSequential()
    with net.name_scope():
        for _ in range(5):
            net.add(nn.Dense(4, activation="relu"))  # 10 computes of 4 elements each: over 30
    net.initialize()
    net.hybridize()
    x = mx.nd.ones((1, 4))
    counts, outs = [], []
    for _ in range(3):
        pushes[0] = 0
        outs.append(net(x).asnumpy())
        counts.append(pushes[0])
    assert counts[1] == counts[2] == 10  # one push per operator, never one replay (the first call also initializes)
    np.testing.assert_array_equal(outs[0], outs[2])


def test_replayed_backward_skips_gradients_nothing_needs(op_by_op):
    # data's gradient under grad_req 'null' is written by no one (MXNet's kNullOp): fc1's backward skips it
    reqs = {"data": "null", "softmax_label": "null", "fc1_weight": "write", "fc1_bias": "write",
            "bn_gamma": "write", "bn_beta": "write", "fc2_weight": "write", "fc2_bias": "write"}

    def run():
        mx.random.seed(5)
        exe = _module_graph().simple_bind(mx.cpu(), data=(6, 5), grad_req=reqs)
        rng = np.random.default_rng(4)
        for array in exe.arg_dict.values():
            array[:] = rng.standard_normal(array.shape).astype(np.float32)
        exe.aux_dict["bn_moving_var"][:] = 1.0
        seen = []
        for _ in range(3):
            exe.arg_dict["data"][:] = rng.standard_normal((6, 5)).astype(np.float32)
            exe.forward(is_train=True)
            exe.backward()
            seen.append([g.asnumpy() for g in exe.grad_arrays if g is not None])
        return exe, seen
    exe, traced = run()
    backward = [s.backward for s in exe._traces.values() if s.backward]
    assert backward
    skipped = [step for step in backward[0].steps if "FullyConnected" in step[5] and REQ_NULL in step[4]]
    assert len(skipped) == 1 and skipped[0][4][0] == REQ_NULL  # fc1's data gradient only
    op_by_op()
    _assert_same(traced, run()[1])


def test_a_heavy_replay_pins_the_blas_once(monkeypatch):
    # The kernels' own pins nest inside the replay's: the BLAS thread counts are set when the run starts and
    # restored when it ends, not around each of the three convolutions.
    from mxcy.kernels import blas_cpu
    if not blas_cpu.THREAD_COUNTS:
        pytest.skip("no BLAS thread count to pin")
    sets = []
    counted = tuple((get, lambda n, set_=set_: sets.append(n) or set_(n)) for get, set_ in blas_cpu.THREAD_COUNTS)
    monkeypatch.setattr(blas_cpu, "THREAD_COUNTS", counted)
    net = mx.gluon.nn.HybridSequential()
    for _ in range(3):
        net.add(mx.gluon.nn.Conv2D(16, 1, in_channels=16))
    net.initialize()
    net.hybridize()
    x = mx.nd.ones((1, 16, 64, 64))  # 64K elements a layer: not a light replay
    for _ in range(3):
        net(x).wait_to_read()
    sets.clear()
    net(x).wait_to_read()
    assert len(sets) == 2 * len(blas_cpu.THREAD_COUNTS) and sets[0] == 1
