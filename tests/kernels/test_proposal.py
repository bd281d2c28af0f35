"""The threaded build of the Proposal / MultiProposal CPU kernel (the ops' tests reach the serial one) against MXNet
1.9.1's numbers in tests/ops/fixtures/detection_reference.json."""
import json
import os

import numpy as np
import pytest

from mxcy.kernels import proposal
from mxcy.ops.contrib_proposal import base_anchors

FIXTURE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "ops", "fixtures",
                       "detection_reference.json")


def _cases():
    with open(FIXTURE) as f:
        return [c for c in json.load(f)["cases"] if c["op"] in ("Proposal", "MultiProposal")]


@pytest.mark.parametrize("case", _cases(), ids=lambda c: f"{c['op']}-{c['kwargs']}")
def test_threaded_build_matches_mxnet(case):
    scores, deltas, info = (np.array(a, np.float32) for a in case["inputs"])
    kw = {"rpn_pre_nms_top_n": 6000, "rpn_post_nms_top_n": 300, "threshold": 0.7, "rpn_min_size": 16,
          "feature_stride": 16, "iou_loss": False, **case["kwargs"]}
    rows = len(scores) * kw["rpn_post_nms_top_n"]
    out, score = np.full((rows, 5), np.nan, np.float32), np.full((rows, 1), np.nan, np.float32)
    proposal.proposals_cpu(scores, deltas, info, base_anchors(kw["feature_stride"], kw["scales"], kw["ratios"]),
                           out, score, kw["feature_stride"], kw["iou_loss"], kw["rpn_min_size"], kw["threshold"],
                           kw["rpn_pre_nms_top_n"], kw["rpn_post_nms_top_n"], case["op"] == "Proposal")
    np.testing.assert_allclose(out, case["outputs"][0], rtol=1e-5, atol=1e-4)
    if len(case["outputs"]) > 1:
        np.testing.assert_allclose(score, case["outputs"][1], rtol=1e-5, atol=1e-6)
