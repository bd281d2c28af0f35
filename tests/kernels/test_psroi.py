"""The threaded builds of the PSROIPooling / DeformablePSROIPooling CPU kernels (the ops' tests reach the serial ones)
against MXNet 1.9.1's numbers in tests/ops/fixtures/detection_reference.json: forward, and the backward for its ramp
head gradient."""
import json
import os

import numpy as np
import pytest

from mxcy.kernels import psroi

FIXTURE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "ops", "fixtures",
                       "detection_reference.json")


def _cases(op):
    with open(FIXTURE) as f:
        return [c for c in json.load(f)["cases"] if c["op"] == op]


def _inputs(case):
    return [np.array(a, np.float32) for a in case["inputs"]]


@pytest.mark.parametrize("case", _cases("PSROIPooling"), ids=lambda c: str(c["kwargs"]))
def test_ps_threaded_builds_match_mxnet(case):
    data, rois = _inputs(case)
    kw = case["kwargs"]
    params = (kw["output_dim"], kw["pooled_size"], kw.get("group_size") or kw["pooled_size"], kw["spatial_scale"])
    want = np.array(case["outputs"][0], np.float32)
    out = np.full(want.shape, np.nan, np.float32)
    psroi.ps_fwd_cpu(data, rois, out, *params)
    np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-6)
    grad = np.full(data.shape, np.nan, np.float32)
    psroi.ps_bwd_cpu(np.array(case["head"], np.float32), rois, grad, *params)
    np.testing.assert_allclose(grad, case["grads"][0], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", _cases("DeformablePSROIPooling"), ids=lambda c: str(c["kwargs"]))
def test_deformable_threaded_builds_match_mxnet(case):
    data, rois, *rest = _inputs(case)
    kw = case["kwargs"]
    trans = rest[0] if rest else np.zeros(1, np.float32)
    params = (kw["output_dim"], kw["group_size"], kw["pooled_size"], kw.get("part_size") or kw["pooled_size"],
              kw.get("sample_per_part", 1), kw["spatial_scale"], kw.get("trans_std", 0.0), kw.get("no_trans", False))
    want = np.array(case["outputs"][0], np.float32)
    out, count = np.full(want.shape, np.nan, np.float32), np.full(want.shape, np.nan, np.float32)
    psroi.deformable_fwd_cpu(data, rois, trans, out, count, *params)
    np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-6)
    assert ((count >= 0) & (count <= kw.get("sample_per_part", 1) ** 2)).all()
    grads = [np.full(data.shape, np.nan, np.float32), np.full(trans.shape, np.nan, np.float32)]
    psroi.deformable_bwd_cpu(np.array(case["head"], np.float32), data, rois, trans, *grads, *params)
    np.testing.assert_allclose(grads[0], case["grads"][0], rtol=1e-5, atol=1e-6)
    if rest:
        np.testing.assert_allclose(grads[1], case["grads"][2], rtol=1e-5, atol=1e-6)
