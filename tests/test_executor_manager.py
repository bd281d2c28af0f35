"""mx.model.DataParallelExecutorManager: gradients over one and two contexts equal an Executor's on the
whole batch; parameters in and out; MXNet's arguments checked."""
import numpy as np
import pytest

import mxcy as mx


def _net():
    net = mx.sym.FullyConnected(mx.sym.var("data"), num_hidden=3, name="fc")
    return mx.sym.SoftmaxOutput(net, name="softmax")


@pytest.mark.parametrize("contexts", [[mx.cpu()], [mx.cpu(0), mx.cpu(1)]], ids=["one", "two"])
def test_gradients_equal_one_executor(contexts):
    rng = np.random.RandomState(0)
    x, y = rng.randn(6, 4).astype(np.float32), np.array([0, 1, 2, 0, 1, 2], np.float32)
    params = {"fc_weight": mx.nd.array(rng.randn(3, 4)), "fc_bias": mx.nd.array(rng.randn(3))}
    data = mx.io.NDArrayIter(x, y, batch_size=6)
    net = _net()
    manager = mx.model.DataParallelExecutorManager(net, contexts, data, net.list_arguments(),
                                                   ["fc_weight", "fc_bias"], net.list_auxiliary_states())
    manager.set_params(params, {})
    manager.load_data_batch(next(iter(data)))
    manager.forward(is_train=True)
    manager.backward()
    exe = net.simple_bind(mx.cpu(), data=(6, 4), softmax_label=(6,))
    exe.copy_params_from(params)
    exe.forward(is_train=True, data=mx.nd.array(x), softmax_label=mx.nd.array(y))
    exe.backward()
    for name, grads in zip(["fc_weight", "fc_bias"], manager.grad_arrays):
        total = sum(g.asnumpy() for g in grads)  # each device holds its slice's gradient
        np.testing.assert_allclose(total, exe.grad_dict[name].asnumpy(), rtol=1e-5)
    metric = mx.metric.create("acc")
    manager.update_metric(metric, [mx.nd.array(y)])
    assert metric.get()[1] == pytest.approx(np.mean(exe.outputs[0].asnumpy().argmax(1) == y))
    out = {"fc_weight": mx.nd.zeros((3, 4)), "fc_bias": mx.nd.zeros(3)}
    manager.copy_to(out, {})
    np.testing.assert_allclose(out["fc_weight"].asnumpy(), params["fc_weight"].asnumpy(), rtol=1e-6)
    assert len(manager.param_arrays) == 2 and manager.aux_arrays == []


def test_arguments_are_checked():
    net = _net()
    data = mx.io.NDArrayIter(np.zeros((2, 4)), np.zeros(2), batch_size=2)
    with pytest.raises(mx.MXNetError, match="sym_gen"):
        mx.model.DataParallelExecutorManager(net, [mx.cpu()], data, net.list_arguments(), [], [],
                                             sym_gen=lambda key: net)
    with pytest.raises(mx.MXNetError, match="not the symbol's"):
        mx.model.DataParallelExecutorManager(net, [mx.cpu()], data, ["data"], [], [])
    manager = mx.model.DataParallelExecutorManager(net, [mx.cpu()], data, net.list_arguments(),
                                                   ["fc_weight", "fc_bias"], [])
    with pytest.raises(mx.MXNetError, match="load_data_batch"):
        manager.forward()
