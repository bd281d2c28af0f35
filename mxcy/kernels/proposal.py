"""Region-proposal kernels of MXNet 1.9.1's contrib Proposal / MultiProposal (Faster R-CNN's RPN), CPU and CUDA: decode
every anchor of every feature-map cell into a clipped box scored by its foreground probability, sort the boxes of
each image by score, greedy NMS over the best rpn_pre_nms_top_n, and write rpn_post_nms_top_n rows per image."""
import math

import numba
import numpy as np
from numba import cuda

from .common import parallel_kernel
from .launch import dual, grid_1d, pow2_threads

_JIT = dict(nogil=True, cache=True, error_model="numpy")

# props (B, count, 5) float32 rows (x1, y1, x2, y2, score) for count = H * W * A anchors, index (h * W + w) * A + a,
# as MXNet lays them out; its float32 workspace is why props is float32 whatever the arithmetic. A box outside the
# image's valid cells (im_info's height / stride rows, width / stride columns) or smaller than
# rpn_min_size * im_info's scale gets score -1 (the small one also grows by that size), so it sorts last but still
# takes part, as in MXNet.


def _decode(b, index, scores, deltas, im_info, anchors, props, stride, iou_loss, min_size):
    """props[b, index] from base anchor a = index % A shifted to its cell, with the deltas of that cell."""
    A, H, W = anchors.shape[0], scores.shape[2], scores.shape[3]
    a, w, h = index % A, index // A % W, index // (A * W)
    x1, y1 = anchors[a, 0] + w * stride, anchors[a, 1] + h * stride
    x2, y2 = anchors[a, 2] + w * stride, anchors[a, 3] + h * stride
    d0, d1, d2, d3 = deltas[b, 4 * a, h, w], deltas[b, 4 * a + 1, h, w], deltas[b, 4 * a + 2, h, w], \
        deltas[b, 4 * a + 3, h, w]
    if iou_loss:  # the deltas move the corners
        x1, y1, x2, y2 = x1 + d0, y1 + d1, x2 + d2, y2 + d3
    else:  # the deltas shift the centre and scale the size (pixel-inclusive widths)
        width, height = x2 - x1 + 1.0, y2 - y1 + 1.0
        cx, cy = x1 + 0.5 * (width - 1.0) + d0 * width, y1 + 0.5 * (height - 1.0) + d1 * height
        width, height = math.exp(d2) * width, math.exp(d3) * height
        x1, y1 = cx - 0.5 * (width - 1.0), cy - 0.5 * (height - 1.0)
        x2, y2 = cx + 0.5 * (width - 1.0), cy + 0.5 * (height - 1.0)
    im_h, im_w = 1.0 * im_info[b, 0], 1.0 * im_info[b, 1]
    props[b, index, 0] = max(min(x1, im_w - 1.0), 0.0)
    props[b, index, 1] = max(min(y1, im_h - 1.0), 0.0)
    props[b, index, 2] = max(min(x2, im_w - 1.0), 0.0)
    props[b, index, 3] = max(min(y2, im_h - 1.0), 0.0)
    score = 1.0 * scores[b, A + a, h, w]
    if h >= int(im_info[b, 0] / stride) or w >= int(im_info[b, 1] / stride):
        score = -1.0
    size = min_size * im_info[b, 2]
    if props[b, index, 2] - props[b, index, 0] + 1.0 < size or props[b, index, 3] - props[b, index, 1] + 1.0 < size:
        props[b, index, 0] -= size / 2
        props[b, index, 1] -= size / 2
        props[b, index, 2] += size / 2
        props[b, index, 3] += size / 2
        score = -1.0
    props[b, index, 4] = score


def _overlap(ranked, b, i, j):
    """IoU of boxes i and j of image b with pixel-inclusive sides, as MXNet's NMS computes it."""
    x1, y1 = max(ranked[b, i, 0], ranked[b, j, 0]), max(ranked[b, i, 1], ranked[b, j, 1])
    x2, y2 = min(ranked[b, i, 2], ranked[b, j, 2]), min(ranked[b, i, 3], ranked[b, j, 3])
    inter = max(0.0, x2 - x1 + 1.0) * max(0.0, y2 - y1 + 1.0)
    area_i = (ranked[b, i, 2] - ranked[b, i, 0] + 1.0) * (ranked[b, i, 3] - ranked[b, i, 1] + 1.0)
    area_j = (ranked[b, j, 2] - ranked[b, j, 0] + 1.0) * (ranked[b, j, 3] - ranked[b, j, 1] + 1.0)
    return inter / (area_i + area_j - inter)


def _write_row(b, i, ranked, keep, n_kept, out, out_score, batch_column):
    """Output row i of image b: its i-th kept box, cycling through the kept boxes when there are fewer."""
    post = out.shape[0] // ranked.shape[0]
    k = keep[b, i % n_kept[b]]
    row = b * post + i
    out[row, 0] = batch_column
    for c in range(4):
        out[row, c + 1] = ranked[b, k, c]
    out_score[row, 0] = ranked[b, k, 4]


_decode_cpu, _decode_dev = dual(_decode)
_overlap_cpu, _overlap_dev = dual(_overlap)
_write_row_cpu, _write_row_dev = dual(_write_row)


@parallel_kernel(**_JIT)
def _proposals_cpu(scores, deltas, im_info, anchors, props, ranked, suppressed, keep, n_kept, out, out_score,
                   stride, iou_loss, min_size, threshold, pre, post, single_image):
    B, count = props.shape[0], props.shape[1]
    for b in numba.prange(B):
        for index in range(count):
            _decode_cpu(b, index, scores, deltas, im_info, anchors, props, stride, iou_loss, min_size)
        # a stable descending sort: ties keep the anchor order, as MXNet's std::stable_sort
        order = np.argsort(-props[b, :, 4], kind="mergesort")
        for i in range(pre):  # the best `pre` boxes side by side: NMS reads them over and over
            for c in range(5):
                ranked[b, i, c] = props[b, order[i], c]
        n = 0
        for i in range(pre):
            if n >= post:
                break
            if suppressed[b, i]:
                continue
            keep[b, n] = i
            n += 1
            for j in range(i + 1, pre):
                if not suppressed[b, j] and _overlap_cpu(ranked, b, i, j) > threshold:
                    suppressed[b, j] = 1
        n_kept[b] = n
        for i in range(out.shape[0] // B):
            _write_row_cpu(b, i, ranked, keep, n_kept, out, out_score, 0 if single_image else b)


def _decode_kernel(scores, deltas, im_info, anchors, props, stride, iou_loss, min_size):
    count = props.shape[1]
    e = cuda.grid(1)
    while e < props.shape[0] * count:
        _decode_dev(e // count, e % count, scores, deltas, im_info, anchors, props, stride, iou_loss, min_size)
        e += cuda.gridsize(1)


def _rank_kernel(props, ranked):
    """ranked[b, rank] = props[b, i] for rank = the boxes of image b scoring above box i or tying with it before
    it, when rank < ranked.shape[1]."""
    count = props.shape[1]
    e = cuda.grid(1)
    while e < props.shape[0] * count:
        b, i = e // count, e % count
        s, rank = props[b, i, 4], 0
        for j in range(count):
            t = props[b, j, 4]
            if t > s or (t == s and j < i):
                rank += 1
        if rank < ranked.shape[1]:
            for c in range(5):
                ranked[b, rank, c] = props[b, i, c]
        e += cuda.gridsize(1)


def _nms_kernel(ranked, suppressed, keep, n_kept, threshold, pre, post):
    """One block per image: the greedy pass in order, each kept box's suppressions spread over the threads."""
    b, t, nt = cuda.blockIdx.x, cuda.threadIdx.x, cuda.blockDim.x
    for j in range(t, pre, nt):
        suppressed[b, j] = 0
    cuda.syncthreads()
    n = 0
    for i in range(pre):
        if n >= post:
            break
        if suppressed[b, i]:
            continue
        if t == 0:
            keep[b, n] = i
        n += 1
        for j in range(i + 1 + t, pre, nt):
            if not suppressed[b, j] and _overlap_dev(ranked, b, i, j) > threshold:
                suppressed[b, j] = 1
        cuda.syncthreads()
    if t == 0:
        n_kept[b] = n


def _write_kernel(ranked, keep, n_kept, out, out_score, single_image):
    post = out.shape[0] // ranked.shape[0]
    e = cuda.grid(1)
    while e < out.shape[0]:
        b = e // post
        _write_row_dev(b, e % post, ranked, keep, n_kept, out, out_score, 0 if single_image else b)
        e += cuda.gridsize(1)


_decode_kernel = cuda.jit(_decode_kernel)
_rank_kernel = cuda.jit(_rank_kernel)
_nms_kernel = cuda.jit(_nms_kernel)
_write_kernel = cuda.jit(_write_kernel)


def _counts(scores, anchors, pre_nms_top_n, post_nms_top_n):
    """(anchors per image, boxes NMS looks at, boxes it may keep), as MXNet clamps them."""
    count = anchors.shape[0] * scores.shape[2] * scores.shape[3]
    pre = min(pre_nms_top_n if pre_nms_top_n > 0 else count, count)
    return count, pre, min(post_nms_top_n, pre)


def proposals_cpu(scores, deltas, im_info, anchors, out, out_score, stride, iou_loss, min_size, threshold,
                  pre_nms_top_n, post_nms_top_n, single_image):
    """out (B * rows, 5) rows (batch index, x1, y1, x2, y2) and out_score (B * rows, 1) from foreground/background
    scores (B, 2A, H, W), deltas (B, 4A, H, W), im_info (B, 3) (height, width, scale) and base anchors (A, 4);
    single_image writes batch index 0 (Proposal). float32 arrays."""
    count, pre, post = _counts(scores, anchors, pre_nms_top_n, post_nms_top_n)
    B = scores.shape[0]
    props, ranked = np.empty((B, count, 5), np.float32), np.empty((B, pre, 5), np.float32)
    keep, n_kept = np.empty((B, post), np.int64), np.empty(B, np.int64)
    _proposals_cpu(scores, deltas, im_info, anchors, props, ranked, np.zeros((B, pre), np.int8), keep, n_kept, out,
                   out_score, float(stride), bool(iou_loss), float(min_size), float(threshold), pre, post,
                   bool(single_image))


def proposals_gpu(scores, deltas, im_info, anchors, out, out_score, stride, iou_loss, min_size, threshold,
                  pre_nms_top_n, post_nms_top_n, single_image):
    """CUDA twin of proposals_cpu: decode and rank one thread per box, NMS one block per image."""
    count, pre, post = _counts(scores, anchors, pre_nms_top_n, post_nms_top_n)
    B = scores.shape[0]
    props, ranked = cuda.device_array((B, count, 5), np.float32), cuda.device_array((B, pre, 5), np.float32)
    suppressed = cuda.device_array((B, pre), np.int8)
    keep, n_kept = cuda.device_array((B, post), np.int64), cuda.device_array(B, np.int64)
    blocks, threads = grid_1d(B * count)
    _decode_kernel[blocks, threads](scores, deltas, im_info, anchors, props, float(stride), bool(iou_loss),
                                    float(min_size))
    _rank_kernel[blocks, threads](props, ranked)
    _nms_kernel[B, pow2_threads(pre)](ranked, suppressed, keep, n_kept, float(threshold), pre, post)
    blocks, threads = grid_1d(out.shape[0])
    _write_kernel[blocks, threads](ranked, keep, n_kept, out, out_score, bool(single_image))


_F4, _F3, _F2 = "float32[:, :, :, ::1]", "float32[:, :, ::1]", "float32[:, ::1]"
PTX_CHECKS = [(_decode_kernel.py_func, f"void({_F4}, {_F4}, {_F2}, {_F2}, {_F3}, float64, boolean, float64)"),
              (_rank_kernel.py_func, f"void({_F3}, {_F3})"),
              (_nms_kernel.py_func, f"void({_F3}, int8[:, ::1], int64[:, ::1], int64[::1], float64, int64, int64)"),
              (_write_kernel.py_func, f"void({_F3}, int64[:, ::1], int64[::1], {_F2}, {_F2}, boolean)")]
