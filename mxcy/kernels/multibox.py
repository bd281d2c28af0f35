"""Kernels of MXNet 1.9.1's SSD ops: MultiBoxPrior (anchor boxes on a feature map; CPU and CUDA), MultiBoxTarget
(the training targets of anchors matched to ground-truth boxes; CPU) and MultiBoxDetection (decoded, suppressed
detections; CPU). Boxes are corner boxes (xmin, ymin, xmax, ymax)."""
import math

import numba
import numpy as np
from numba import cuda

from .common import REQ_ADD, REQ_NULL, assign, parallel_kernel
from .launch import dual, grid_1d

_JIT = dict(nogil=True, cache=True, error_model="numpy")


def _prior_coordinate(sizes, ratios, height, width, r, c, a, k, step_y, step_x, offset_y, offset_x, clip):
    """Coordinate k of anchor a at cell (r, c) of a (height, width) map: centred at ((c + offset_x) * step_x,
    (r + offset_y) * step_y); anchors 0..len(sizes)-1 take each size with ratios[0], the next ones sizes[0] with
    each further ratio; a box of size s and ratio q is s * height / width * sqrt(q) wide and s / sqrt(q) high,
    clipped to [0, 1] when `clip`."""
    n_size = sizes.shape[0]
    size = sizes[a] if a < n_size else sizes[0]
    root = math.sqrt(ratios[0] if a < n_size else ratios[a - n_size + 1])
    if k % 2 == 0:
        centre, half = (c + offset_x) * step_x, size * height / width * root / 2
    else:
        centre, half = (r + offset_y) * step_y, size / root / 2
    v = centre - half if k < 2 else centre + half
    return min(max(v, 0.0), 1.0) if clip else v


_prior_coordinate_cpu, _prior_coordinate_dev = dual(_prior_coordinate)


@parallel_kernel(**_JIT)
def prior_cpu(out, sizes, ratios, step_y, step_x, offset_y, offset_x, clip, req):
    """Anchors of a (H, W) map into out (H, W, len(sizes) + len(ratios) - 1, 4), as `_prior_coordinate`."""
    if req == REQ_NULL:
        return
    height, width, n_anchor = out.shape[0], out.shape[1], out.shape[2]
    for r in numba.prange(height):
        for c in range(width):
            for a in range(n_anchor):
                for k in range(4):
                    v = _prior_coordinate_cpu(sizes, ratios, height, width, r, c, a, k, step_y, step_x, offset_y,
                                              offset_x, clip)
                    out[r, c, a, k] = assign(out[r, c, a, k], v, req)


@cuda.jit
def _prior_kernel(out, sizes, ratios, step_y, step_x, offset_y, offset_x, clip, req):
    """One thread per coordinate (grid-stride), as prior_cpu."""
    height, width, n_anchor = out.shape[0], out.shape[1], out.shape[2]
    e = cuda.grid(1)
    while e < height * width * n_anchor * 4:
        k, a = e % 4, (e // 4) % n_anchor
        c, r = (e // (4 * n_anchor)) % width, e // (4 * n_anchor * width)
        v = _prior_coordinate_dev(sizes, ratios, height, width, r, c, a, k, step_y, step_x, offset_y, offset_x,
                                  clip)
        if req == REQ_ADD:
            out[r, c, a, k] += v
        else:
            out[r, c, a, k] = v
        e += cuda.gridsize(1)


def prior_gpu(out, sizes, ratios, step_y, step_x, offset_y, offset_x, clip, req, stream=0):
    """prior_cpu's CUDA twin; sizes and ratios are device arrays."""
    if out.size and req != REQ_NULL:
        blocks, threads = grid_1d(out.size)
        _prior_kernel[blocks, threads, stream](out, sizes, ratios, step_y, step_x, offset_y, offset_x, clip, req)


@numba.njit(inline="always", nogil=True)
def _overlap(anchors, j, label, k):
    """IoU of anchor j and the box in label[k, 1:5] as MXNet's MultiBoxTarget takes it: the areas are the raw
    products of the sides (no clamping of degenerate boxes) and a zero union gives 0."""
    w = max(0.0, min(anchors[j, 2], label[k, 3]) - max(anchors[j, 0], label[k, 1]))
    h = max(0.0, min(anchors[j, 3], label[k, 4]) - max(anchors[j, 1], label[k, 2]))
    inter = w * h
    union = ((anchors[j, 2] - anchors[j, 0]) * (anchors[j, 3] - anchors[j, 1])
             + (label[k, 3] - label[k, 1]) * (label[k, 4] - label[k, 2]) - inter)
    return 0.0 if union == 0 else inter / union


@parallel_kernel(**_JIT)
def target_cpu(anchors, labels, n_valid, cls_preds, loc_target, loc_mask, cls_target, overlap_threshold,
               ignore_label, mining_ratio, mining_thresh, variances, short, reqs):
    """SSD targets per batch. anchors (A, 4); labels (B, L, width) whose first n_valid[b] rows are (class, box);
    cls_preds (B, classes, A); outputs loc_target, loc_mask (B, A, 4) and cls_target (B, A).
    Matching: greedily the best (anchor, gt) IoU pair above 1e-6 until every gt has an anchor, then (when
    overlap_threshold > 0) every other anchor whose best IoU exceeds the threshold. Negatives: every other
    anchor, or with mining_ratio > 0 the int(positives * mining_ratio) of those with best IoU below mining_thresh
    whose softmax probability of class 0 is lowest (stable order); `short[b]` is set to 1 when there are fewer
    such candidates than that (an error MXNet raises). Positives get class + 1, mask 1 and the encoded box
    offsets over `variances`; negatives class 0; the rest ignore_label."""
    n_batch, n_anchor = cls_target.shape
    n_class = cls_preds.shape[1]
    for b in numba.prange(n_batch):
        label = labels[b]
        n_gt = n_valid[b]
        flag = np.full(n_anchor, -1, np.int64)  # -1 don't care, 0 negative, 1 positive
        match = np.full(n_anchor, -1, np.int64)
        best = np.full(n_anchor, -1.0)
        if n_gt > 0:
            iou = np.empty((n_anchor, n_gt))
            for j in range(n_anchor):
                for k in range(n_gt):
                    iou[j, k] = _overlap(anchors, j, label, k)
            gt_done = np.zeros(n_gt, np.bool_)
            n_positive = 0
            for _ in range(n_gt):
                best_j, best_k, top = -1, -1, 1e-6
                for j in range(n_anchor):
                    if flag[j] == 1:
                        continue
                    for k in range(n_gt):
                        if not gt_done[k] and iou[j, k] > top:
                            best_j, best_k, top = j, k, iou[j, k]
                if best_j < 0:
                    break
                flag[best_j], match[best_j], gt_done[best_k] = 1, best_k, True
                n_positive += 1
            for j in range(n_anchor):
                if flag[j] == 1:
                    continue
                for k in range(n_gt):
                    if iou[j, k] > best[j]:
                        best[j], match[j] = iou[j, k], k
                if overlap_threshold > 0 and best[j] > overlap_threshold:
                    flag[j] = 1
                    n_positive += 1
            if mining_ratio > 0:
                n_negative = min(int(n_positive * mining_ratio), n_anchor - n_positive)
                if n_negative > 0:
                    candidates = np.empty(n_anchor, np.int64)
                    background = np.empty(n_anchor)
                    n_cand = 0
                    for j in range(n_anchor):
                        if flag[j] == -1 and best[j] < mining_thresh:
                            top_score = cls_preds[b, 0, j]
                            for c in range(1, n_class):
                                top_score = max(top_score, cls_preds[b, c, j])
                            total = 0.0
                            for c in range(n_class):
                                total += math.exp(cls_preds[b, c, j] - top_score)
                            candidates[n_cand] = j
                            background[n_cand] = math.exp(cls_preds[b, 0, j] - top_score) / total
                            n_cand += 1
                    if n_cand < n_negative:
                        short[b] = 1
                        n_negative = n_cand
                    order = np.argsort(background[:n_cand], kind="mergesort")
                    for i in range(n_negative):
                        flag[candidates[order[i]]] = 0
            else:
                for j in range(n_anchor):
                    if flag[j] != 1:
                        flag[j] = 0
        for j in range(n_anchor):
            cls = ignore_label
            offsets = (0.0, 0.0, 0.0, 0.0)
            if flag[j] == 0:
                cls = 0.0
            elif flag[j] == 1:
                g = match[j]
                cls = label[g, 0] + 1
                aw, ah = anchors[j, 2] - anchors[j, 0], anchors[j, 3] - anchors[j, 1]
                gw, gh = label[g, 3] - label[g, 1], label[g, 4] - label[g, 2]
                offsets = (((label[g, 1] + label[g, 3]) * 0.5 - (anchors[j, 0] + anchors[j, 2]) * 0.5) / aw
                           / variances[0],
                           ((label[g, 2] + label[g, 4]) * 0.5 - (anchors[j, 1] + anchors[j, 3]) * 0.5) / ah
                           / variances[1],
                           math.log(gw / aw) / variances[2], math.log(gh / ah) / variances[3])
            mask = 1.0 if flag[j] == 1 else 0.0
            for k in range(4):
                if reqs[0] != REQ_NULL:
                    loc_target[b, j, k] = assign(loc_target[b, j, k], offsets[k], reqs[0])
                if reqs[1] != REQ_NULL:
                    loc_mask[b, j, k] = assign(loc_mask[b, j, k], mask, reqs[1])
            if reqs[2] != REQ_NULL:
                cls_target[b, j] = assign(cls_target[b, j], cls, reqs[2])


@parallel_kernel(**_JIT)
def detection_cpu(cls_prob, loc_pred, anchors, out, threshold, clip, variances, nms_threshold, force_suppress,
                  nms_topk, req):
    """SSD detections per batch into out (B, A, 6) rows (class, score, xmin, ymin, xmax, ymax). Each anchor takes
    its best non-background class (classes 1..; class 0 is the background) and its box decoded from loc_pred
    (B, A * 4) over `variances` (clipped to [0, 1] when `clip`); anchors whose best score is below threshold are
    dropped, the others packed to the top in anchor order, the rest of out being -1. With 0 < nms_threshold <= 1
    the packed rows are then sorted by score (stable), only the nms_topk best (> 0) kept, and a row whose IoU with
    a better kept one of the same class (any class when force_suppress) reaches nms_threshold gets class -1. As in
    MXNet 1.9.1, rows past nms_topk keep their unsorted packed values with class -1."""
    if req == REQ_NULL:
        return
    n_batch, n_class, n_anchor = cls_prob.shape
    for b in numba.prange(n_batch):
        rows = np.full((n_anchor, 6), -1.0)
        n_valid = 0
        for i in range(n_anchor):
            score, cls = -1.0, 0
            for c in range(1, n_class):
                if cls_prob[b, c, i] > score:
                    score, cls = cls_prob[b, c, i], c
            if cls == 0 or score < threshold:
                continue
            aw, ah = anchors[i, 2] - anchors[i, 0], anchors[i, 3] - anchors[i, 1]
            cx = loc_pred[b, 4 * i] * variances[0] * aw + (anchors[i, 0] + anchors[i, 2]) / 2
            cy = loc_pred[b, 4 * i + 1] * variances[1] * ah + (anchors[i, 1] + anchors[i, 3]) / 2
            half_w = math.exp(loc_pred[b, 4 * i + 2] * variances[2]) * aw / 2
            half_h = math.exp(loc_pred[b, 4 * i + 3] * variances[3]) * ah / 2
            rows[n_valid, 0], rows[n_valid, 1] = cls - 1, score
            edges = (cx - half_w, cy - half_h, cx + half_w, cy + half_h)
            for k in range(4):
                rows[n_valid, 2 + k] = min(max(edges[k], 0.0), 1.0) if clip else edges[k]
            n_valid += 1
        if n_valid > 0 and 0 < nms_threshold <= 1:
            order = np.argsort(-rows[:n_valid, 1], kind="mergesort")
            n_keep = nms_topk if 0 < nms_topk < n_valid else n_valid
            ranked = rows[order[:n_keep]].copy()
            rows[n_keep:n_valid, 0] = -1.0
            rows[:n_keep] = ranked
            for i in range(n_keep):
                if rows[i, 0] < 0:
                    continue
                for j in range(i + 1, n_keep):
                    if rows[j, 0] < 0 or not (force_suppress or rows[i, 0] == rows[j, 0]):
                        continue
                    w = max(0.0, min(rows[i, 4], rows[j, 4]) - max(rows[i, 2], rows[j, 2]))
                    h = max(0.0, min(rows[i, 5], rows[j, 5]) - max(rows[i, 3], rows[j, 3]))
                    union = ((rows[i, 4] - rows[i, 2]) * (rows[i, 5] - rows[i, 3])
                             + (rows[j, 4] - rows[j, 2]) * (rows[j, 5] - rows[j, 3]) - w * h)
                    if union > 0 and w * h / union >= nms_threshold:
                        rows[j, 0] = -1.0
        for i in range(n_anchor):
            for k in range(6):
                out[b, i, k] = assign(out[b, i, k], rows[i, k], req)
