"""Graphs written by MXNet 1.9.1 run here with MXNet's numbers: the same parameters (a formula shared
with fixtures/make_fixtures.py) give the outputs, gradients and updated BatchNorm statistics that MXNet
computed (stored in fixtures/<model>-expected.npz), on the CPU and on gpu(0)."""
import os

import numpy as np
import pytest

import mxcy as mx
from tests.symbol.fixtures.make_fixtures import bind
from tests.symbol.test_json import FIXTURES, META


def _expected(model):
    with np.load(os.path.join(FIXTURES, f"{model}-expected.npz")) as data:
        return dict(data)


def _executor(model, train, ctx=None):
    sym = mx.sym.load(os.path.join(FIXTURES, f"{model}-symbol.json"))
    return bind(mx, sym, {k: tuple(v) for k, v in META[model]["shapes"].items()}, train, ctx)



@pytest.mark.parametrize("ctx,model", [(mx.cpu(), m) for m in ("mlp", "lenet_bn", "misc", "resnet18_v1")]
                         + [pytest.param(mx.gpu(0), "misc", marks=pytest.mark.cuda)], ids=str)
def test_inference_matches_mxnet(ctx, model):
    expected = _expected(model)
    outs = _executor(model, train=False, ctx=ctx).forward(is_train=False)
    for i, out in enumerate(outs):
        np.testing.assert_allclose(out.asnumpy(), expected[f"out{i}"], rtol=2e-4, atol=2e-5,
                                   err_msg=f"{model} output {i}")


@pytest.mark.parametrize("ctx,model", [(mx.cpu(), "mlp"), (mx.cpu(), "lenet_bn"),
                                       pytest.param(mx.gpu(0), "mlp", marks=pytest.mark.cuda),
                                       pytest.param(mx.gpu(0), "lenet_bn",
                                                    marks=[pytest.mark.cuda, pytest.mark.sim_slow])], ids=str)
def test_training_step_matches_mxnet(ctx, model):
    expected = _expected(model)
    exe = _executor(model, train=True, ctx=ctx)
    outs = exe.forward(is_train=True)
    exe.backward()
    for i, out in enumerate(outs):
        np.testing.assert_allclose(out.asnumpy(), expected[f"train:out{i}"], rtol=2e-4, atol=2e-5)
    for name, grad in exe.grad_dict.items():
        if name == "softmax_label":
            continue
        np.testing.assert_allclose(grad.asnumpy(), expected[f"train:grad:{name}"], rtol=1e-3, atol=1e-5,
                                   err_msg=f"{model} gradient of {name}")
    for name, aux in exe.aux_dict.items():
        np.testing.assert_allclose(aux.asnumpy(), expected[f"train:aux:{name}"], rtol=1e-4, atol=1e-6,
                                   err_msg=f"{model} aux state {name}")
