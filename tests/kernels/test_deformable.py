"""The deformable convolution drivers on raw arrays, CPU (threaded builds, see conftest.py) and CUDA (the simulator
without a GPU), against the numbers MXNet 1.9.1 printed (tests/ops/fixtures/deformable_reference.json): outputs of
both variants and every gradient of DeformableConvolution. The ops' OpSpecs cover the serial builds."""
import json
import os

import numpy as np
import pytest
from numba import cuda

from mxcy.kernels import deformable

FIXTURE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "ops", "fixtures",
                       "deformable_reference.json")
with open(FIXTURE) as _f:
    CASES = json.load(_f)["cases"]

DEVICES = [False, pytest.param(True, marks=pytest.mark.cuda)]


def _arguments(case):
    """({input name: float64 array}, the drivers' geometry arguments)."""
    arrays = {n: np.array(x) for n, x in zip(case["names"], case["inputs"])}
    kw = case["kwargs"]
    geometry = (tuple(kw["kernel"]), tuple(kw.get("stride", (1, 1))), tuple(kw.get("pad", (0, 0))),
                tuple(kw.get("dilate", (1, 1))), kw.get("num_group", 1), kw.get("num_deformable_group", 1),
                int(case["op"].startswith("Modulated")))
    return arrays, geometry


def _run(on_gpu, fn, arrays, geometry):
    """fn(*arrays, *geometry) on the host or on device copies; the arrays (None stays None) come back as NumPy."""
    if not on_gpu:
        fn(*arrays, *geometry)
        return arrays
    device = [None if a is None else cuda.to_device(a) for a in arrays]
    fn(*device, *geometry)
    return [None if d is None else d.copy_to_host() for d in device]


@pytest.mark.parametrize("on_gpu", DEVICES)
@pytest.mark.parametrize("case", CASES[1::2] if os.environ.get("NUMBA_ENABLE_CUDASIM") else CASES,
                         ids=lambda c: f"{c['op']}-{len(c['names'])}")
def test_drivers_match_mxnet(case, on_gpu):
    arrays, geometry = _arguments(case)
    x, off, w, b = arrays["data"], arrays["offset"], arrays["weight"], arrays.get("bias")
    mask = arrays.get("mask")
    device = "gpu" if on_gpu else "cpu"
    out = np.empty(np.array(case["output"]).shape)
    out = _run(on_gpu, getattr(deformable, f"deformable_fwd_{device}"), [x, off, mask, w, b, out], geometry)[5]
    np.testing.assert_allclose(out, case["output"], rtol=1e-10, atol=1e-10)
    if "grads" not in case:
        return
    grads = [np.empty_like(x), np.empty_like(off), None, np.empty_like(w), None if b is None else np.empty_like(b)]
    got = _run(on_gpu, getattr(deformable, f"deformable_bwd_{device}"),
               [np.array(case["head"]), x, off, mask, w] + grads, geometry)[5:]
    for name, want in zip(case["names"], case["grads"]):
        index = {"data": 0, "offset": 1, "weight": 3, "bias": 4}[name]
        np.testing.assert_allclose(got[index], want, rtol=1e-10, atol=1e-10, err_msg=name)
