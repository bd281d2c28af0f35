"""box_nms on 10,000 detections (one image, 20 classes, random boxes of 1-10% of the side): per class, across
classes (force_suppress), and the usual detector setting topk=400. Run with mxcy or MXNet 1.9.1 (same data from
a fixed seed; the kept-box counts printed must agree):

    python bench/box_nms.py [mxcy|mxnet]
"""
import sys

import numpy as np

from timing import best_of, report

N_BOXES = 10_000
SETTINGS = (("per class, topk=400", {"id_index": 0, "topk": 400}), ("per class", {"id_index": 0}),
            ("force_suppress", {"id_index": 0, "force_suppress": True}))


def detections():
    rng = np.random.RandomState(0)
    lo, size = rng.uniform(0, 1, (1, N_BOXES, 2)), rng.uniform(0.01, 0.1, (1, N_BOXES, 2))
    return np.concatenate([rng.randint(0, 20, (1, N_BOXES, 1)), rng.uniform(0, 1, (1, N_BOXES, 1)), lo,
                           lo + size], axis=-1)


def run(lib):
    mx = __import__(lib)
    x = mx.nd.array(detections(), dtype="float32")
    for name, kwargs in SETTINGS:
        report(lib, name, best_of(lambda: mx.nd.contrib.box_nms(x, overlap_thresh=0.5, **kwargs).wait_to_read()))
        kept = mx.nd.contrib.box_nms(x, overlap_thresh=0.5, **kwargs)
        print(f"{lib:6s} {name}: kept {int((kept.asnumpy()[0, :, 0] >= 0).sum())}")


if __name__ == "__main__":
    run(sys.argv[1] if len(sys.argv) > 1 else "mxcy")
