"""The threaded builds of the ROIAlign CPU kernels (the ops' tests reach the serial ones) against MXNet 1.9.1's
numbers in tests/ops/fixtures/roi_align_reference.json: forward, and the backward for its ramp head gradient."""
import json
import os

import numpy as np
import pytest

from mxcy.kernels import roi_align

FIXTURE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "ops", "fixtures",
                       "roi_align_reference.json")


def _cases():
    with open(FIXTURE) as f:
        return json.load(f)["cases"]


def _array(entry):
    return np.array(entry["values"], np.float32).reshape(entry["shape"])


@pytest.mark.parametrize("case", _cases(), ids=lambda c: str(sorted(c["attrs"].items())))
def test_threaded_builds_match_mxnet(case):
    data, rois = (_array(a) for a in case["inputs"])
    attrs = case["attrs"]
    params = (attrs["pooled_size"], attrs["spatial_scale"], attrs.get("sample_ratio", -1), attrs.get("aligned", False),
              attrs.get("position_sensitive", False))
    want = _array(case["output"])
    out = np.full(want.shape, np.nan, np.float32)
    roi_align.fwd_cpu(data, rois, out, *params)
    np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-5)
    head = np.linspace(-1, 1, out.size).reshape(out.shape).astype(np.float32)
    grad = np.full(data.shape, np.nan, np.float32)
    roi_align.bwd_cpu(head, rois, grad, *params)
    np.testing.assert_allclose(grad, _array(case["grads"][0]), rtol=1e-4, atol=1e-5)
