"""contrib.ROIAlign on a Mask R-CNN-sized case: a 1 x 256 x 64 x 64 feature map (stride 16 of a 1024 image), 512
random rois, 7 x 7 bins, sample_ratio 2; forward, and forward + backward. Run with mxcy or MXNet 1.9.1 (same data
from a fixed seed; the checksums printed must agree):

    python bench/roi_align.py [mxcy|mxnet]
"""
import sys

import numpy as np

from timing import best_of, report

SCALE = 1 / 16


def inputs():
    rng = np.random.RandomState(0)
    data = rng.standard_normal((1, 256, 64, 64))
    lo = rng.uniform(0, 900, (512, 2))
    rois = np.concatenate([np.zeros((512, 1)), lo, lo + rng.uniform(16, 300, (512, 2))], axis=1)
    return data, rois


def run(lib):
    mx = __import__(lib)
    data, rois = (mx.nd.array(a, dtype="float32") for a in inputs())
    data.attach_grad()
    head = mx.nd.ones((512, 256, 7, 7))
    kwargs = {"pooled_size": (7, 7), "spatial_scale": SCALE, "sample_ratio": 2}

    def forward():
        return mx.nd.contrib.ROIAlign(data, rois, **kwargs).wait_to_read()

    def forward_backward():
        with mx.autograd.record():
            out = mx.nd.contrib.ROIAlign(data, rois, **kwargs)
        out.backward(head)
        data.grad.wait_to_read()

    for name, fn in (("forward", forward), ("forward + backward", forward_backward)):
        report(lib, name, best_of(fn))
    out = mx.nd.contrib.ROIAlign(data, rois, **kwargs).asnumpy()
    print(f"{lib:6s} checksums: output {out.sum():.4f}, data gradient {data.grad.asnumpy().sum():.4f}")


if __name__ == "__main__":
    run(sys.argv[1] if len(sys.argv) > 1 else "mxcy")
