"""The MultiBox kernels' threaded builds (see conftest.py) and CUDA kernels (the simulator without a GPU), run through
the ops on the cases MXNet 1.9.1 printed (tests/ops/fixtures/multibox_reference.json) and on random OpSpec inputs
against the NumPy references; the ops' tests cover the serial builds."""
import numpy as np
import pytest

import mxcy as mx
from tests.ops import test_contrib_multibox as ops_tests


DEVICES = [mx.cpu(), pytest.param(mx.gpu(0), marks=pytest.mark.cuda)]


@pytest.mark.parametrize("ctx", DEVICES, ids=str)
@pytest.mark.parametrize("case", ops_tests._cases(), ids=lambda c: f"{c['op']}-{c['kwargs']}")
def test_kernels_give_mxnet_values(case, ctx):
    outs = getattr(mx.nd.contrib, case["op"])(*[mx.nd.array(np.array(a, np.float32), ctx=ctx) for a in case["inputs"]],
                                              **case["kwargs"])
    outs = outs if isinstance(outs, (list, tuple)) else [outs]
    assert len(outs) == len(case["outputs"])
    for got, want in zip(outs, case["outputs"]):
        assert got.context == ctx
        np.testing.assert_allclose(got.asnumpy(), want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("ctx", DEVICES, ids=str)
@pytest.mark.parametrize("spec", ops_tests.SPECS, ids=lambda s: s.name)
def test_kernels_match_the_references(spec, ctx):
    for seed in range(5):
        arrays, attrs = spec.make(np.random.default_rng(seed))
        outs = getattr(mx.nd.contrib, spec.name.replace("_contrib_", ""))(*[mx.nd.array(a, ctx=ctx) for a in arrays],
                                                                          **attrs)
        wants = spec.reference(*[a.astype(np.float32).astype(np.float64) for a in arrays], **attrs)
        outs, wants = (outs if isinstance(outs, list) else [outs]), (wants if isinstance(wants, tuple) else [wants])
        for got, want in zip(outs, wants):
            np.testing.assert_allclose(got.asnumpy(), want, rtol=1e-4, atol=1e-5)
