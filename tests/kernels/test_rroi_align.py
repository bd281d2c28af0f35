"""The threaded build of the RROIAlign CPU kernel (the op's tests reach the serial one) against MXNet 1.9.1's numbers
in tests/ops/fixtures/detection_reference.json."""
import json
import os

import numpy as np
import pytest

from mxcy.kernels import rroi_align

FIXTURE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "ops", "fixtures",
                       "detection_reference.json")


def _cases():
    with open(FIXTURE) as f:
        return [c for c in json.load(f)["cases"] if c["op"] == "RROIAlign"]


@pytest.mark.parametrize("case", _cases(), ids=lambda c: str(c["kwargs"]))
def test_threaded_build_matches_mxnet(case):
    data, rois = (np.array(a, np.float32) for a in case["inputs"])
    kw = case["kwargs"]
    want = np.array(case["outputs"][0], np.float32)
    out = np.full(want.shape, np.nan, np.float32)
    rroi_align.fwd_cpu(data, rois, out, kw["pooled_size"], kw["spatial_scale"], kw.get("sampling_ratio", -1))
    np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-6)
