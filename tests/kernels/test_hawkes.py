"""hawkesll's kernels, the CPU's threaded builds and the CUDA twins (in the simulator), against the definition in
tests/ops/test_contrib_misc.py: the log likelihood and final state, and the gradients of lda, alpha and beta against
float64 central differences of the summed, head-weighted log likelihood, under write and add requests."""
import numpy as np
import pytest
from numba import cuda

from mxcy.kernels import hawkes
from mxcy.kernels.common import REQ_ADD, REQ_WRITE
from tests.ops.test_contrib_misc import _hawkes, _make_hawkes


def _numeric(inputs, head, i, eps=1e-6):
    grad = np.zeros_like(inputs[i])
    for j in range(grad.size):
        moved = [a.copy() for a in inputs]
        moved[i].reshape(-1)[j] += eps
        up = (_hawkes(*moved)[0] * head).sum()
        moved[i].reshape(-1)[j] -= 2 * eps
        grad.reshape(-1)[j] = (up - (_hawkes(*moved)[0] * head).sum()) / (2 * eps)
    return grad


@pytest.mark.parametrize("device", ["cpu", pytest.param("gpu", marks=pytest.mark.cuda)])
@pytest.mark.parametrize("req", [REQ_WRITE, REQ_ADD])
def test_kernels_match_the_definition(req, device):
    rng = np.random.default_rng(req)
    inputs, _ = _make_hawkes(rng)
    ll, state = _hawkes(*inputs)
    head = rng.standard_normal(ll.shape)
    wants = [ll, state] + [_numeric(inputs, head, i) for i in range(3)]
    priors = [rng.standard_normal(w.shape) for w in wants]
    outs = [p.copy() for p in priors]
    if device == "cpu":
        hawkes.forward_cpu(inputs, outs[0], outs[1], (req, req))
        hawkes.backward_cpu(inputs, head, *outs[2:], (req, req, req))
    else:
        outs = [cuda.to_device(o) for o in outs]
        ins = [cuda.to_device(a) for a in inputs]
        hawkes.forward_gpu(ins, outs[0], outs[1], (req, req))
        hawkes.backward_gpu(ins, cuda.to_device(head), *outs[2:], (req, req, req))
        outs = [o.copy_to_host() for o in outs]
    for k, (got, want, prior) in enumerate(zip(outs, wants, priors)):
        np.testing.assert_allclose(got, want + (prior if req == REQ_ADD else 0), rtol=1e-5, atol=1e-6,
                                   err_msg=f"output {k}")
