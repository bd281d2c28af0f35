"""box_nms on 10,000 detections (one image, 20 classes, random boxes of 1-10% of the side): per class, across
classes (force_suppress), and the usual detector setting topk=400. Run with mxcy or MXNet 1.9.1 (same data from
a fixed seed; the kept-box counts printed must agree):

    python bench/box_nms.py [mxcy|mxnet]
"""
import sys
import time

import numpy as np

N_BOXES = 10_000
SETTINGS = (("per class, topk=400", {"id_index": 0, "topk": 400}), ("per class", {"id_index": 0}),
            ("force_suppress", {"id_index": 0, "force_suppress": True}))


def detections():
    rng = np.random.RandomState(0)
    lo, size = rng.uniform(0, 1, (1, N_BOXES, 2)), rng.uniform(0.01, 0.1, (1, N_BOXES, 2))
    return np.concatenate([rng.randint(0, 20, (1, N_BOXES, 1)), rng.uniform(0, 1, (1, N_BOXES, 1)), lo,
                           lo + size], axis=-1)


def run(lib, repeat=5):
    mx = __import__(lib)
    x = mx.nd.array(detections(), dtype="float32")
    for name, kwargs in SETTINGS:
        kept = mx.nd.contrib.box_nms(x, overlap_thresh=0.5, **kwargs)  # warm-up (and compilation)
        best = float("inf")
        for _ in range(repeat):
            start = time.perf_counter()
            mx.nd.contrib.box_nms(x, overlap_thresh=0.5, **kwargs).wait_to_read()
            best = min(best, time.perf_counter() - start)
        print(f"{lib:6s} {name:22s} {best * 1e3:8.2f} ms  kept {int((kept.asnumpy()[0, :, 0] >= 0).sum())}")


if __name__ == "__main__":
    run(sys.argv[1] if len(sys.argv) > 1 else "mxcy")
