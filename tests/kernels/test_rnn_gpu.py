"""The fused RNN operator's CUDA kernels (simulator when no GPU) against its CPU kernels, which tests/ops/test_rnn.py
checks against a float64 NumPy reference: one tiny case per cell and feature (directions, layers, LSTM projection
and clipping, valid lengths, dropout between layers in training), outputs, final states and every gradient."""
import numpy as np
import pytest

import mxcy as mx
from tests.ops.test_rnn import GATES, _param_size

pytestmark = pytest.mark.cuda

CASES = [
    dict(mode="lstm", num_layers=2, bidirectional=True, projection_size=2, lstm_state_clip_min=-0.3,
         lstm_state_clip_max=0.4, use_sequence_length=True),
    dict(mode="lstm", num_layers=1, bidirectional=False),
    dict(mode="gru", num_layers=2, bidirectional=True, use_sequence_length=True),
    dict(mode="rnn_tanh", num_layers=2, bidirectional=False, p=0.5),
    dict(mode="rnn_relu", num_layers=1, bidirectional=True, use_sequence_length=True),
]
STEPS, BATCH, WIDTH, HIDDEN = 3, 2, 2, 3


def _arrays(case):
    rng = np.random.default_rng(len(case) * 7 + GATES[case["mode"]])
    dirs = 2 if case["bidirectional"] else 1
    out = case.get("projection_size") or HIDDEN
    states = case["num_layers"] * dirs
    arrays = [rng.standard_normal((STEPS, BATCH, WIDTH)),
              rng.uniform(-0.7, 0.7, _param_size(case["mode"], case["num_layers"], dirs, WIDTH, HIDDEN,
                                                 case.get("projection_size"))),
              rng.standard_normal((states, BATCH, out))]
    if case["mode"] == "lstm":
        arrays.append(rng.standard_normal((states, BATCH, HIDDEN)))
    arrays = [a.astype(np.float32) for a in arrays]
    if case.get("use_sequence_length"):
        arrays.append(np.array([STEPS, 1], np.float32))
    return arrays


def _run(ctx, case, arrays):
    mx.random.seed(3, ctx=ctx)
    inputs = [mx.nd.array(a, ctx=ctx) for a in arrays]
    n_diff = len(arrays) - case.get("use_sequence_length", False)
    for a in inputs[:n_diff]:
        a.attach_grad()
    with mx.autograd.record():
        outs = mx.nd.RNN(*inputs, state_size=HIDDEN, state_outputs=True, **case)
    heads = [mx.nd.array(np.linspace(-1, 1, o.size).reshape(o.shape), ctx=ctx) for o in outs]
    mx.autograd.backward(list(outs), heads)
    return [o.asnumpy() for o in outs] + [a.grad.asnumpy() for a in inputs[:n_diff]]


@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
def test_gpu_kernels_match_cpu_kernels(case):
    arrays = _arrays(case)
    gpu, cpu = _run(mx.gpu(0), case, arrays), _run(mx.cpu(), case, arrays)
    assert len(gpu) == len(cpu)
    for i, (g, c) in enumerate(zip(gpu, cpu)):
        np.testing.assert_allclose(g, c, rtol=1e-4, atol=1e-5, err_msg=f"result {i}")
