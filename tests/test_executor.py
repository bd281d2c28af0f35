"""Executor: bind / simple_bind / forward / backward / reshape on graphs of registered ops; gradients must
equal mx.autograd's on the same computation written with mx.nd."""
import warnings

import numpy as np
import pytest
from hypothesis import given, strategies as st

import mxcy as mx


def _graph(F, a, b):
    """One computation, written once for Symbol and for NDArray."""
    h = F.tanh(F.dot(a, b)) * 2 + 1
    return F.sum(F.exp(-h) * h, axis=1)


@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4), st.integers(0, 2**31))
def test_gradients_match_autograd(m, k, n, seed):
    rng = np.random.default_rng(seed)
    a_np, b_np = rng.standard_normal((m, k)), rng.standard_normal((k, n))
    head = rng.standard_normal((m,))
    sym = _graph(mx.sym, mx.sym.var("a"), mx.sym.var("b"))
    exe = sym.simple_bind(mx.cpu(), a=(m, k), b=(k, n), type_dict={"a": "float64", "b": "float64"})
    out = exe.forward(is_train=True, a=mx.nd.array(a_np, dtype="float64"), b=mx.nd.array(b_np, dtype="float64"))
    exe.backward(mx.nd.array(head, dtype="float64"))

    a, b = mx.nd.array(a_np, dtype="float64"), mx.nd.array(b_np, dtype="float64")
    a.attach_grad()
    b.attach_grad()
    with mx.autograd.record():
        ref = _graph(mx.nd, a, b)
    ref.backward(mx.nd.array(head, dtype="float64"))
    np.testing.assert_allclose(out[0].asnumpy(), ref.asnumpy(), rtol=1e-12)
    np.testing.assert_allclose(exe.grad_dict["a"].asnumpy(), a.grad.asnumpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(exe.grad_dict["b"].asnumpy(), b.grad.asnumpy(), rtol=1e-10, atol=1e-12)


def _bound(grad_req="write"):
    x = mx.sym.var("x")
    sym = mx.sym.square(x) * 3
    xv = mx.nd.array([1.0, -2.0, 0.5])
    grad = mx.nd.zeros((3,))
    return sym.bind(mx.cpu(), {"x": xv}, args_grad={"x": grad}, grad_req=grad_req), xv, grad


def test_bind_forward_values_and_persistent_outputs():
    exe, xv, _ = _bound()
    out = exe.outputs[0]
    exe.forward()
    np.testing.assert_allclose(out.asnumpy(), [3.0, 12.0, 0.75])
    exe.forward(x=mx.nd.array([2.0, 0.0, 1.0]))
    np.testing.assert_allclose(out.asnumpy(), [12.0, 0.0, 3.0])
    assert exe.output_dict == {"_mulscalar0_output": out} or list(exe.output_dict.values()) == [out]
    assert exe.arg_dict["x"] is xv


def test_grad_req_write_add_null():
    exe, xv, grad = _bound("write")
    for _ in range(2):
        exe.forward(is_train=True)
        exe.backward(mx.nd.ones((3,)))
    np.testing.assert_allclose(grad.asnumpy(), 6 * xv.asnumpy())
    exe, xv, grad = _bound("add")
    for _ in range(2):
        exe.forward(is_train=True)
        exe.backward(mx.nd.ones((3,)))
    np.testing.assert_allclose(grad.asnumpy(), 12 * xv.asnumpy())
    exe, _, grad = _bound("null")
    assert exe.grad_dict == {}
    exe.forward(is_train=True)
    exe.backward(mx.nd.ones((3,)))  # every grad_req 'null': nothing to do, as MXNet 1.9.1
    assert xv.grad is None


def test_backward_twice_after_one_forward_and_the_user_array_stays_unmarked():
    exe, xv, grad = _bound("add")
    exe.forward(is_train=True)
    exe.backward(mx.nd.ones((3,)))
    exe.backward(mx.nd.ones((3,)))
    np.testing.assert_allclose(grad.asnumpy(), 12 * xv.asnumpy())
    assert xv.grad is None


def test_backward_errors():
    exe, _, _ = _bound()
    exe.forward(is_train=True)
    with pytest.raises(mx.MXNetError, match="not a loss"):
        exe.backward()
    with pytest.raises(mx.MXNetError, match="has shape"):
        exe.backward(mx.nd.ones((4,)))


def test_bind_errors():
    x = mx.sym.var("x")
    sym = x * 2
    with pytest.raises(mx.MXNetError, match="missing 'x'"):
        sym.bind(mx.cpu(), {})
    # Keys that are not arguments are ignored, as MXNet 1.9.1 does.
    exe = sym.bind(mx.cpu(), {"x": mx.nd.ones((2,)), "y": mx.nd.ones((2,))}, args_grad={"z": mx.nd.ones((3,))})
    assert exe.forward()[0].asnumpy().tolist() == [2.0, 2.0]
    with pytest.raises(mx.MXNetError, match="grad_req"):
        sym.bind(mx.cpu(), {"x": mx.nd.ones((2,))}, args_grad={"x": mx.nd.ones((2,))}, grad_req="bad")
    with pytest.raises(mx.MXNetError, match="gradient array"):
        sym.bind(mx.cpu(), {"x": mx.nd.ones((2,))}, args_grad={"x": mx.nd.ones((3,))})
    with pytest.raises(mx.MXNetError, match="cannot infer"):
        mx.sym.dot(x, mx.sym.var("w")).simple_bind(mx.cpu(), x=(2, 3))
    exe = sym.simple_bind(mx.cpu(), x=(2,))
    with pytest.raises(mx.MXNetError, match="not an argument"):
        exe.forward(y=mx.nd.ones((2,)))


def test_reshape_and_copy_params():
    a, w = mx.sym.var("a"), mx.sym.var("w")
    sym = mx.sym.dot(a, w)
    exe = sym.simple_bind(mx.cpu(), a=(2, 3), w=(3, 4))
    exe.copy_params_from({"w": mx.nd.ones((3, 4))})
    with pytest.raises(mx.MXNetError, match="not an argument"):
        exe.copy_params_from({"zz": mx.nd.ones((1,))})
    exe.copy_params_from({"zz": mx.nd.ones((1,))}, allow_extra_params=True)
    bigger = exe.reshape(allow_up_sizing=True, a=(5, 3))
    assert bigger.arg_dict["w"] is exe.arg_dict["w"]
    assert bigger.arg_dict["a"].shape == (5, 3)
    bigger.forward(a=mx.nd.ones((5, 3)))
    np.testing.assert_allclose(bigger.outputs[0].asnumpy(), np.full((5, 4), 3.0))
    with pytest.raises(mx.MXNetError, match="allow_up_sizing"):
        exe.reshape(a=(5, 3))


def test_backward_without_forward_runs_the_forward_as_mxnet():
    # MXNet 1.9.1's test_repeat calls backward() on a freshly bound executor
    a, b = mx.sym.var("a"), mx.sym.var("b")
    grad = mx.nd.zeros(3)
    exe = (a * b).bind(mx.cpu(), {"a": mx.nd.array([1, 2, 3]), "b": mx.nd.array([4, 5, 6])}, args_grad={"a": grad})
    exe.backward(mx.nd.ones(3))
    assert grad.asnumpy().tolist() == [4.0, 5.0, 6.0]


def test_smaller_reshape_shares_memory_as_mxnet():
    # MXNet 1.9.1's test_executor.test_reshape: a smaller executor views the leading elements of the arrays
    exe = mx.sym.FullyConnected(mx.sym.var("x"), num_hidden=4).simple_bind(mx.cpu(), x=(5, 4), grad_req="null")
    exe.arg_arrays[0][:] = 1
    exe.arg_arrays[1][:] = mx.nd.ones((4, 4))
    exe.arg_arrays[2][:] = 0
    smaller = exe.reshape(x=(3, 4))
    smaller.forward(is_train=False)
    assert (smaller.outputs[0].asnumpy() == 4).all() and (exe.outputs[0].asnumpy()[:3] == 4).all()
    smaller.arg_arrays[0][:] = 2
    assert (exe.arg_arrays[0].asnumpy()[:3] == 2).all() and (exe.arg_arrays[0].asnumpy()[3:] == 1).all()
    larger = exe.reshape(allow_up_sizing=True, x=(6, 4))
    larger.arg_arrays[0][:] = 0  # a larger array is new memory
    assert (exe.arg_arrays[0].asnumpy()[3:] == 1).all() and larger.arg_arrays[1] is exe.arg_arrays[1]


def test_simple_bind_shares_through_shared_exec_and_shared_buffer_as_mxnet_does():
    a, w = mx.sym.var("a"), mx.sym.var("w")
    sym = mx.sym.BatchNorm(mx.sym.dot(a, w), name="bn")
    exe = sym.simple_bind(mx.cpu(), a=(2, 3), w=(3, 4))
    # MXNet shares only on its bucketing path, with a buffer; without one nothing is shared.
    alone = sym.simple_bind(mx.cpu(), a=(7, 3), w=(3, 4), shared_arg_names=["w"], shared_exec=exe)
    assert alone.arg_dict["w"] is not exe.arg_dict["w"] and alone.aux_dict["bn_moving_mean"] is not exe.aux_dict["bn_moving_mean"]
    buffer = {}
    big = sym.simple_bind(mx.cpu(), a=(7, 3), w=(3, 4), shared_arg_names=["w"], shared_exec=exe, shared_buffer=buffer)
    assert big.arg_dict["w"] is exe.arg_dict["w"] and big.grad_dict["w"] is exe.grad_dict["w"]
    assert big.aux_dict["bn_moving_var"] is exe.aux_dict["bn_moving_var"]
    assert sorted(buffer) == ["a", "bn_beta", "bn_gamma", "grad of a", "grad of bn_beta", "grad of bn_gamma"]
    assert buffer["a"] is big.arg_dict["a"] and buffer["grad of a"] is big.grad_dict["a"]
    # A smaller bucket views the first items of the buffer's arrays (MXNet: 2.0 below).
    big.arg_dict["a"][:] = 2
    small = sym.simple_bind(mx.cpu(), a=(4, 3), w=(3, 4), shared_arg_names=["w"], shared_exec=exe, shared_buffer=buffer)
    assert small.arg_dict["a"].shape == (4, 3) and buffer["a"].shape == (7, 3)
    np.testing.assert_array_equal(small.arg_dict["a"].asnumpy(), np.full((4, 3), 2.0))
    small.arg_dict["a"][:] = 3
    np.testing.assert_array_equal(big.arg_dict["a"].asnumpy()[:4], np.full((4, 3), 3.0))
    np.testing.assert_array_equal(big.arg_dict["a"].asnumpy()[4:], np.full((3, 3), 2.0))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bigger = sym.simple_bind(mx.cpu(), a=(9, 3), w=(3, 4), shared_buffer=buffer)
    assert [str(w.message).split(", fewer")[0] for w in caught] == [
        "simple_bind: shared_buffer['a'] holds (7, 3)", "simple_bind: shared_buffer['grad of a'] holds (7, 3)"]
    assert buffer["a"] is bigger.arg_dict["a"] and bigger.arg_dict["a"].asnumpy().sum() == 0
    with pytest.raises(mx.MXNetError, match="shared_exec's 'w' is \\(3, 4\\) float32, this executor needs \\(3, 5\\)"):
        sym.simple_bind(mx.cpu(), a=(7, 3), w=(3, 5), shared_arg_names=["w"], shared_exec=exe, shared_buffer={})
    with pytest.raises(mx.MXNetError, match=r"shared_buffer\['a'\] has dtype float32, the argument needs float64"):
        sym.simple_bind(mx.cpu(), a=(4, 3), w=(3, 4), type_dict={"a": "float64", "w": "float64"}, shared_buffer=buffer)
    with pytest.raises(mx.MXNetError, match="shared_buffer must be a dict"):
        sym.simple_bind(mx.cpu(), a=(4, 3), w=(3, 4), shared_buffer=[])
    with pytest.raises(mx.MXNetError, match="shared_exec must be an Executor"):
        sym.bind(mx.cpu(), exe.arg_dict, aux_states=exe.aux_dict, shared_exec=buffer)


def test_bind_warns_about_group2ctx_it_cannot_honour():
    sym = mx.sym.dot(mx.sym.var("a"), mx.sym.var("w"))
    args = {"a": mx.nd.ones((2, 3)), "w": mx.nd.ones((3, 4))}
    with pytest.warns(UserWarning, match=r"group2ctx: mxcy runs the whole graph on cpu\(0\); .*'dev1': gpu\(0\)"):
        sym.bind(mx.cpu(), args, group2ctx={"dev1": mx.gpu(0), "dev0": mx.cpu(0)})
    with pytest.warns(UserWarning, match="group2ctx"):
        exe = sym.simple_bind(mx.cpu(), a=(2, 3), w=(3, 4), group2ctx={"dev1": mx.gpu(1)})
    assert all(a.context == mx.cpu() for a in exe.arg_arrays)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # what the executor does honour passes quietly
        sym.bind(mx.cpu(), args, group2ctx={"dev0": mx.cpu(0)}, shared_exec=exe)
        sym.simple_bind(mx.cpu(), a=(2, 3), w=(3, 4), stype_dict={"a": "default"}, group2ctx={})


def test_shared_exec_lends_its_sparse_arrays_too():
    """Module's executor groups share parameters through shared_exec: a row_sparse weight (and its row_sparse
    gradient) is shared like a dense one, as in MXNet."""
    sym = mx.sym.contrib.SparseEmbedding(mx.sym.var("data"), mx.sym.var("w", stype="row_sparse"), input_dim=5,
                                         output_dim=2)
    exe = sym.simple_bind(mx.cpu(), data=(3,))
    other = sym.simple_bind(mx.cpu(), data=(4,), shared_arg_names=["w"], shared_exec=exe, shared_buffer={})
    assert other.arg_dict["w"] is exe.arg_dict["w"] and other.grad_dict["w"] is exe.grad_dict["w"]
    assert other.arg_dict["w"].stype == other.grad_dict["w"].stype == "row_sparse"


@pytest.mark.parametrize("transpose_a, want", [(False, ("csr", "default", "row_sparse", "default")),
                                               (True, ("csr", "default", "default", "row_sparse"))])
def test_simple_bind_gives_arrays_mxnets_storage_types(transpose_a, want):
    """MXNet 1.9.1 printed (a, grad of a, grad of w, output) storage types for dot(a: csr, w)."""
    sym = mx.sym.dot(mx.sym.var("a"), mx.sym.var("w"), transpose_a=transpose_a)
    exe = sym.simple_bind(mx.cpu(), a=(3, 2) if transpose_a else (2, 3), w=(3, 4), stype_dict={"a": "csr"})
    got = (exe.arg_dict["a"].stype, exe.grad_dict["a"].stype, exe.grad_dict["w"].stype, exe.outputs[0].stype)
    assert got == want
    a = np.array([[0, 1, 0], [2, 0, 0]], np.float32)
    a = a.T if transpose_a else a
    exe.arg_dict["a"][:] = mx.nd.array(a).tostype("csr")
    exe.arg_dict["w"][:] = np.arange(12, dtype=np.float32).reshape(3, 4)
    head = np.ones(exe.outputs[0].shape, np.float32)
    exe.forward(is_train=True)
    exe.backward([mx.nd.array(head)])
    op_a = a.T if transpose_a else a
    np.testing.assert_allclose(exe.outputs[0].asnumpy(), op_a @ np.arange(12).reshape(3, 4))
    np.testing.assert_allclose(exe.grad_dict["w"].asnumpy(), op_a.T @ head)


def test_group2ctx_places_arrays_on_cpu_contexts():
    with mx.AttrScope(ctx_group="stage1"):
        net = mx.sym.FullyConnected(mx.sym.var("data"), num_hidden=3, name="fc1")
    with mx.AttrScope(ctx_group="stage2"):
        net = mx.sym.BatchNorm(mx.sym.FullyConnected(net, num_hidden=2, name="fc2"), name="bn")
        net = mx.sym.SoftmaxOutput(net, name="softmax")
    placed = net.simple_bind(mx.cpu(0), group2ctx={"stage1": mx.cpu(1), "stage2": mx.cpu(2)}, data=(4, 5))
    plain = net.simple_bind(mx.cpu(0), data=(4, 5))
    stage1 = {"data", "fc1_weight", "fc1_bias"}
    for name, array in placed.arg_dict.items():
        assert array.context == (mx.cpu(1) if name in stage1 else mx.cpu(2)), name
        assert placed.grad_dict[name].context == array.context
    assert all(a.context == mx.cpu(2) for a in placed.aux_arrays)  # placed by the operator that reads them
    rng = np.random.RandomState(0)
    for name in plain.arg_dict:
        value = rng.rand(*plain.arg_dict[name].shape)
        plain.arg_dict[name][:] = value
        placed.arg_dict[name][:] = value
    for exe in (plain, placed):
        exe.forward(is_train=True)
        exe.backward()
    np.testing.assert_allclose(placed.outputs[0].asnumpy(), plain.outputs[0].asnumpy(), rtol=1e-6)
    for name in plain.grad_dict:
        np.testing.assert_allclose(placed.grad_dict[name].asnumpy(), plain.grad_dict[name].asnumpy(), rtol=1e-6)


def test_eval_and_group_outputs():
    a = mx.sym.var("a")
    outs = mx.sym.Group([a + 1, a * a]).eval(a=mx.nd.array([1.0, 2.0]))
    np.testing.assert_allclose(outs[0].asnumpy(), [2.0, 3.0])
    np.testing.assert_allclose(outs[1].asnumpy(), [1.0, 4.0])


def test_reshape_refuses_silent_changes_of_unspecified_arguments():
    sym = mx.sym.FullyConnected(mx.sym.var("data"), num_hidden=4, name="fc")
    exe = sym.simple_bind(mx.cpu(), data=(2, 3))
    with pytest.raises(mx.MXNetError, match="partial_shaping"):
        exe.reshape(allow_up_sizing=True, data=(2, 5))
    wider = exe.reshape(partial_shaping=True, allow_up_sizing=True, data=(2, 5))
    assert wider.arg_dict["fc_weight"].shape == (4, 5)
    assert wider.arg_dict["fc_bias"] is exe.arg_dict["fc_bias"]


def test_loss_outputs_need_no_head_gradient():
    x, w = mx.sym.var("data"), mx.sym.var("w")
    net = mx.sym.SoftmaxOutput(mx.sym.dot(x, w), name="softmax")
    exe = net.simple_bind(mx.cpu(), data=(4, 3), w=(3, 5))
    rng = np.random.default_rng(0)
    data, weight, label = rng.standard_normal((4, 3)), rng.standard_normal((3, 5)), np.array([0, 1, 2, 3])
    exe.forward(is_train=True, data=mx.nd.array(data), w=mx.nd.array(weight), softmax_label=mx.nd.array(label))
    exe.backward()
    logits = data @ weight
    prob = np.exp(logits - logits.max(1, keepdims=True))
    prob /= prob.sum(1, keepdims=True)
    np.testing.assert_allclose(exe.grad_dict["w"].asnumpy(), data.T @ (prob - np.eye(5)[label]), rtol=1e-5,
                               atol=1e-6)


def test_a_new_forward_frees_the_last_steps_saved_arrays():
    import gc
    import weakref
    x = mx.sym.var("x")
    sym = mx.sym.sum(mx.sym.exp(mx.sym.tanh(x) * 2))
    exe = sym.simple_bind(mx.cpu(), x=(3,))
    gc.disable()  # the saved graph is a reference cycle: it must go without the cycle collector
    try:
        exe.forward(is_train=True)
        saved = weakref.ref(exe._heads[0]._node[0].inputs[0])  # exp's output, kept for the gradient
        assert saved() is not None
        exe.forward(is_train=True)
        assert saved() is None
    finally:
        gc.enable()


def test_inplace_outputs_wait_for_every_earlier_reader():
    """relu writes over `a`'s buffer (its last reader); the earlier, slower dot reading `a` must not see that."""
    x, w = mx.sym.var("x"), mx.sym.var("w")
    a = x - 1
    sym = mx.sym.Group([mx.sym.dot(a, w), mx.sym.Activation(a, act_type="relu") * 1])
    rng = np.random.default_rng(0)
    xv, wv = rng.standard_normal((300, 300)), rng.standard_normal((300, 300))
    exe = sym.bind(mx.cpu(), {"x": mx.nd.array(xv, dtype="float64"), "w": mx.nd.array(wv, dtype="float64")},
                   grad_req="null")
    for _ in range(5):
        outs = exe.forward()
        np.testing.assert_allclose(outs[0].asnumpy(), (xv - 1) @ wv, rtol=1e-10)
        np.testing.assert_allclose(outs[1].asnumpy(), np.maximum(xv - 1, 0))


def test_inplace_write_reuses_the_dying_buffer(monkeypatch):
    import mxcy.graph_plan as graph_plan
    calls = []
    real = graph_plan.invoke

    def spy(op, inputs, attrs, out=None, ctx=None):
        calls.append((op.name, out is not None and out._data is inputs[0]._data))
        return real(op, inputs, attrs, out=out, ctx=ctx)

    monkeypatch.setattr(graph_plan, "invoke", spy)
    x = mx.sym.var("x")
    sym = mx.sym.Activation(x + 1, act_type="relu") * 2
    exe = sym.simple_bind(mx.cpu(), x=(4,))
    exe.forward(is_train=True, x=mx.nd.array([-2.0, -0.5, 0.5, 2.0]))
    exe.backward(mx.nd.ones((4,)))
    assert calls == [("_plus_scalar", False), ("Activation", True), ("_mul_scalar", False)]
    np.testing.assert_allclose(exe.outputs[0].asnumpy(), [0.0, 1.0, 3.0, 6.0])
    np.testing.assert_allclose(exe.grad_dict["x"].asnumpy(), [0.0, 2.0, 2.0, 2.0])


def test_backward_after_an_inference_forward_differentiates_it_as_mxnet():
    # MXNet 1.9.1's test_executor.py binds, runs forward() (is_train=False) and then backward().
    a, b = mx.sym.var("a"), mx.sym.var("b")
    av, bv = np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0])
    grads = {"a": mx.nd.zeros(3), "b": mx.nd.zeros(3)}
    exe = (a * b).bind(mx.cpu(), {"a": mx.nd.array(av), "b": mx.nd.array(bv)}, args_grad=grads)
    np.testing.assert_allclose(exe.forward()[0].asnumpy(), av * bv)
    exe.backward(mx.nd.ones(3))
    np.testing.assert_allclose(grads["a"].asnumpy(), bv)
    np.testing.assert_allclose(grads["b"].asnumpy(), av)
    frozen = (a * b).bind(mx.cpu(), {"a": mx.nd.array(av), "b": mx.nd.array(bv)})  # every grad_req 'null'
    frozen.forward()
    frozen.backward(mx.nd.ones(3))  # no gradient asked for: nothing to do, as MXNet 1.9.1


@pytest.mark.parametrize("make", [mx.sym.BlockGrad, lambda x: x == x, mx.sym.sign, lambda x: mx.sym.argmax(x, axis=1),
                                  lambda x: mx.sym.argmin(x, axis=0), mx.sym.contrib.index_array])
def test_outputs_no_gradient_flows_through_need_no_head_gradient(make):
    # MXNet 1.9.1 asks for a head gradient only where the backward graph reads it (test_blockgrad, test_binary_logic)
    exe = make(mx.sym.var("x")).simple_bind(mx.cpu(), x=(2, 3))
    exe.forward(is_train=True, x=mx.nd.ones((2, 3)))
    exe.backward()
    assert (exe.grad_dict["x"].asnumpy() == 0).all()
    scaled = (make(mx.sym.var("x")) * 2).simple_bind(mx.cpu(), x=(2, 3))
    scaled.forward(is_train=True, x=mx.nd.ones((2, 3)))
    with pytest.raises(mx.MXNetError, match="head gradient is required"):
        scaled.backward()


@pytest.mark.parametrize("env, internals", [(None, 4), ("1", 4), ("0", 5)])
def test_bind_runs_the_common_expr_eliminated_graph_as_mxnet(monkeypatch, env, internals):
    """MXNET_ELIMINATE_COMMON_EXPR (default on) is read at bind: (a+b)+(a+b) runs one a+b (a, b, _plus, _plus),
    get_optimized_symbol() is that graph, and the outputs keep the user's names and values."""
    if env is None:
        monkeypatch.delenv("MXNET_ELIMINATE_COMMON_EXPR", raising=False)
    else:
        monkeypatch.setenv("MXNET_ELIMINATE_COMMON_EXPR", env)
    a, b = mx.sym.var("a"), mx.sym.var("b")
    sym = mx.sym.Group([(a + b) + (a + b), a * b, a * b])
    exe = sym.simple_bind(mx.cpu(), a=(2, 3), b=(2, 3), type_dict={"a": "float64", "b": "float64"})
    assert len(exe.get_optimized_symbol()[0].get_internals()) == internals
    assert list(exe.output_dict) == sym.list_outputs()
    a_np, b_np = np.arange(6.0).reshape(2, 3), np.full((2, 3), 0.5)
    outs = exe.forward(is_train=True, a=mx.nd.array(a_np, dtype="float64"), b=mx.nd.array(b_np, dtype="float64"))
    exe.backward([mx.nd.ones_like(o) for o in outs])
    np.testing.assert_allclose(outs[0].asnumpy(), 2 * (a_np + b_np))
    np.testing.assert_allclose(outs[1].asnumpy(), a_np * b_np)
    np.testing.assert_allclose(outs[2].asnumpy(), a_np * b_np)
    np.testing.assert_allclose(exe.grad_dict["a"].asnumpy(), 2 + 2 * b_np)
    np.testing.assert_allclose(exe.grad_dict["b"].asnumpy(), 2 + 2 * a_np)


def test_gradient_arrays_bound_in_another_type_receive_the_gradient_cast():
    """As MXNet 1.9.1 (check_symbolic_backward(dtype='asnumpy') binds float64 gradients for float16 data)."""
    x = mx.sym.var("x")
    grad = mx.nd.zeros((3,), dtype="float64")
    exe = (x * x).bind(mx.cpu(), {"x": mx.nd.array([1.0, 2.0, -3.0], dtype="float16")}, args_grad={"x": grad})
    exe.forward(is_train=True)
    exe.backward(mx.nd.ones((3,), dtype="float16"))
    assert grad.dtype == np.float64 and grad.asnumpy().tolist() == [2.0, 4.0, -6.0]


def test_zero_size_head_gradient_of_another_zero_size_shape_is_accepted():
    # MXNet 1.9.1's test_index_array passes out_grads of shape (0, 0, 2) for an output of shape (0, 0, 0, 0, 2);
    # no values are copied, so MXNet does not compare the shapes
    with mx.util.np_shape():
        net = mx.sym.contrib.index_array(mx.sym.var("data"), axes=(2, 1))
        ex = net.simple_bind(mx.cpu(), data=(0, 0, 0, 0))
        assert ex.forward(is_train=True)[0].shape == (0, 0, 0, 0, 2)
        ex.backward([mx.nd.array(np.ones((0, 0, 2)))])
        assert ex.grad_dict["data"].shape == (0, 0, 0, 0)
    ex = mx.sym.exp(mx.sym.var("x")).simple_bind(mx.cpu(), x=(2, 3))
    ex.forward(is_train=True)
    with pytest.raises(mx.MXNetError, match=r"out_grad of .* has shape \(3, 2\), the output has \(2, 3\)"):
        ex.backward([mx.nd.ones((3, 2))])


def test_nodes_without_inputs_take_their_shape_from_the_bound_graph():
    # MXNet 1.9.1 runs these at the shapes bind infers: [[1, 1], [1, 1]] and (2, 3) draws in [3, 4)
    with mx.name.NameManager():  # automatic names elsewhere keep their counts
        zeros, draws = mx.sym.zeros(()), mx.sym.random.uniform(low=3, high=4)
    exe = (zeros + mx.sym.var("X")).bind(mx.cpu(), {"X": mx.nd.ones((2, 2))})
    assert exe.forward()[0].asnumpy().tolist() == [[1.0, 1.0], [1.0, 1.0]]
    out = (draws + mx.sym.var("X")).bind(mx.cpu(), {"X": mx.nd.zeros((2, 3))}).forward()[0].asnumpy()
    assert out.shape == (2, 3) and out.min() >= 3 and out.max() < 4 and len(np.unique(out)) == 6
    with pytest.raises(mx.MXNetError):
        draws.bind(mx.cpu(), {})  # nothing gives the shape
