"""The MultiBox kernels' threaded builds (see conftest.py) and MultiBoxPrior's CUDA kernel (the simulator without
a GPU), run through the ops on the cases MXNet 1.9.1 printed (tests/ops/fixtures/multibox_reference.json) and on
random OpSpec inputs against the NumPy references; the ops' tests cover the serial builds."""
import numpy as np
import pytest

import mxcy as mx
from tests.ops import test_contrib_multibox as ops_tests


@pytest.mark.parametrize("case", ops_tests._cases(), ids=lambda c: f"{c['op']}-{c['kwargs']}")
def test_threaded_builds_give_mxnet_values(case):
    ops_tests.test_mxnet_values(case)


@pytest.mark.parametrize("spec", ops_tests.SPECS, ids=lambda s: s.name)
def test_threaded_builds_match_the_references(spec):
    for seed in range(5):
        arrays, attrs = spec.make(np.random.default_rng(seed))
        outs = getattr(mx.nd.contrib, spec.name.replace("_contrib_", ""))(*[mx.nd.array(a) for a in arrays], **attrs)
        wants = spec.reference(*[a.astype(np.float32).astype(np.float64) for a in arrays], **attrs)
        outs, wants = (outs if isinstance(outs, list) else [outs]), (wants if isinstance(wants, tuple) else [wants])
        for got, want in zip(outs, wants):
            np.testing.assert_allclose(got.asnumpy(), want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("case", [c for c in ops_tests._cases() if c["op"] == "MultiBoxPrior"],
                         ids=lambda c: str(c["kwargs"]))
def test_gpu_prior_gives_mxnet_values(case):
    out = mx.nd.contrib.MultiBoxPrior(mx.nd.array(np.array(case["inputs"][0], np.float32), ctx=mx.gpu(0)),
                                      **case["kwargs"])
    assert out.context == mx.gpu(0)
    np.testing.assert_allclose(out.asnumpy(), case["outputs"][0], rtol=1e-5, atol=1e-6)
