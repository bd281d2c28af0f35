"""Kernels of MXNet 1.9.1's SSD ops, CPU and CUDA: MultiBoxPrior (anchor boxes on a feature map), MultiBoxTarget (the
training targets of anchors matched to ground-truth boxes) and MultiBoxDetection (decoded, suppressed detections).
The per-batch greedy passes are helpers compiled for both (launch.dual): a CPU thread or one CUDA thread per batch
runs them; sorts are NumPy's on the CPU and rank counts (one thread per element) on CUDA. Boxes are corner boxes
(xmin, ymin, xmax, ymax)."""
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


def _overlap(anchors, j, label, k):
    """IoU of anchor j and the box in label[k, 1:5] as MXNet's MultiBoxTarget takes it: the areas are the raw
    products of the sides (no clamping of degenerate boxes) and a zero union gives 0."""
    w = max(0.0, min(anchors[j, 2], label[k, 3]) - max(anchors[j, 0], label[k, 1]))
    h = max(0.0, min(anchors[j, 3], label[k, 4]) - max(anchors[j, 1], label[k, 2]))
    inter = w * h
    union = ((anchors[j, 2] - anchors[j, 0]) * (anchors[j, 3] - anchors[j, 1])
             + (label[k, 3] - label[k, 1]) * (label[k, 4] - label[k, 2]) - inter)
    return 0.0 if union == 0 else inter / union


# --- MultiBoxTarget ----------------------------------------------------------------------------------------------
# Per batch: match (greedy pairs, then the overlap threshold), then negatives: every other anchor, or with mining the
# hardest candidates (a stable ascending order of their background probability: np.argsort on the CPU, a rank count
# on CUDA), then one row of targets per anchor. flag: -1 don't care, 0 negative, 1 positive.

def _match_with(overlap):
    """The matching on one device's compilation of `_overlap` (as box.py's IoU)."""
    def match_boxes(anchors, label, n_gt, iou, flag, match, best, gt_done, overlap_threshold):
        """Greedily the best (anchor, gt) IoU pair above 1e-6 until every gt has an anchor, then (when
        overlap_threshold > 0) every other anchor whose best IoU exceeds the threshold; flag, match and best (each
        anchor's best IoU, -1 without gts) are written. iou (A, >= n_gt) and gt_done (>= n_gt) are workspace. Returns
        the number of positives."""
        n_anchor = flag.shape[0]
        for j in range(n_anchor):
            flag[j], match[j], best[j] = -1, -1, -1.0
            for k in range(n_gt):
                iou[j, k] = overlap(anchors, j, label, k)
        for k in range(n_gt):
            gt_done[k] = 0
        n_positive = 0
        for _ in range(n_gt):
            best_j, best_k, top = -1, -1, 1e-6
            for j in range(n_anchor):
                if flag[j] != 1:
                    for k in range(n_gt):
                        if gt_done[k] == 0 and iou[j, k] > top:
                            best_j, best_k, top = j, k, iou[j, k]
            if best_j < 0:
                break
            flag[best_j], match[best_j], gt_done[best_k] = 1, best_k, 1
            n_positive += 1
        for j in range(n_anchor):
            if flag[j] == 1:
                continue
            for k in range(n_gt):
                if iou[j, k] > best[j]:
                    best[j], match[j] = iou[j, k], k
            if n_gt > 0 and overlap_threshold > 0 and best[j] > overlap_threshold:
                flag[j] = 1
                n_positive += 1
        return n_positive
    return match_boxes


def _candidates(cls_preds, b, flag, best, background, mining_thresh):
    """background[j] = the softmax probability of class 0 at anchor j for the mining candidates (neither positive
    nor negative, best IoU below mining_thresh), -1 for the others. Returns the number of candidates."""
    n_class, n_cand = cls_preds.shape[1], 0
    for j in range(flag.shape[0]):
        background[j] = -1.0
        if flag[j] == -1 and best[j] < mining_thresh:
            top_score = cls_preds[b, 0, j]
            for c in range(1, n_class):
                top_score = max(top_score, cls_preds[b, c, j])
            total = 0.0
            for c in range(n_class):
                total += math.exp(cls_preds[b, c, j] - top_score)
            background[j] = math.exp(cls_preds[b, 0, j] - top_score) / total
            n_cand += 1
    return n_cand


def _negatives(flag, n_gt, n_positive, n_cand, mining_ratio):
    """How many of the candidates become negatives (mining), or -1 after making every non-positive anchor
    negative (no mining, with gts); n_cand < the result means too few candidates."""
    if n_gt == 0:
        return 0
    if mining_ratio > 0:
        return min(int(n_positive * mining_ratio), flag.shape[0] - n_positive)
    for j in range(flag.shape[0]):
        if flag[j] != 1:
            flag[j] = 0
    return -1


def _target_row(anchors, label, flag, match, j, variances, ignore_label, loc_target, loc_mask, cls_target, b,
                reqs):
    """Anchor j's targets: positives get class + 1, mask 1 and the encoded box offsets over `variances`; negatives
    class 0; the rest ignore_label."""
    cls = ignore_label
    o0 = o1 = o2 = o3 = 0.0
    if flag[j] == 0:
        cls = 0.0
    elif flag[j] == 1:
        g = match[j]
        cls = label[g, 0] + 1
        aw, ah = anchors[j, 2] - anchors[j, 0], anchors[j, 3] - anchors[j, 1]
        gw, gh = label[g, 3] - label[g, 1], label[g, 4] - label[g, 2]
        o0 = ((label[g, 1] + label[g, 3]) * 0.5 - (anchors[j, 0] + anchors[j, 2]) * 0.5) / aw / variances[0]
        o1 = ((label[g, 2] + label[g, 4]) * 0.5 - (anchors[j, 1] + anchors[j, 3]) * 0.5) / ah / variances[1]
        o2 = math.log(gw / aw) / variances[2]
        o3 = math.log(gh / ah) / variances[3]
    mask = 1.0 if flag[j] == 1 else 0.0
    if reqs[0] != REQ_NULL:
        loc_target[b, j, 0] = assign(loc_target[b, j, 0], o0, reqs[0])
        loc_target[b, j, 1] = assign(loc_target[b, j, 1], o1, reqs[0])
        loc_target[b, j, 2] = assign(loc_target[b, j, 2], o2, reqs[0])
        loc_target[b, j, 3] = assign(loc_target[b, j, 3], o3, reqs[0])
    if reqs[1] != REQ_NULL:
        for k in range(4):
            loc_mask[b, j, k] = assign(loc_mask[b, j, k], mask, reqs[1])
    if reqs[2] != REQ_NULL:
        cls_target[b, j] = assign(cls_target[b, j], cls, reqs[2])


_overlap_cpu, _overlap_dev = dual(_overlap)
_match_cpu = numba.njit(inline="always", nogil=True)(_match_with(_overlap_cpu))
_match_dev = cuda.jit(device=True, inline="always")(_match_with(_overlap_dev))
_candidates_cpu, _candidates_dev = dual(_candidates)
_negatives_cpu, _negatives_dev = dual(_negatives)
_target_row_cpu, _target_row_dev = dual(_target_row)


@parallel_kernel(**_JIT)
def target_cpu(anchors, labels, n_valid, cls_preds, loc_target, loc_mask, cls_target, overlap_threshold,
               ignore_label, mining_ratio, mining_thresh, variances, short, reqs):
    """SSD targets per batch. anchors (A, 4); labels (B, L, width) whose first n_valid[b] rows are (class, box);
    cls_preds (B, classes, A); outputs loc_target, loc_mask (B, A, 4) and cls_target (B, A). Matching, mining and
    targets as the helpers above: mining takes the int(positives * mining_ratio) candidates whose background
    probability is lowest (stable order); `short[b]` is set to 1 when there are fewer candidates than that (an error
    MXNet raises)."""
    n_batch, n_anchor = cls_target.shape
    n_label = labels.shape[1]
    for b in numba.prange(n_batch):
        label, n_gt = labels[b], n_valid[b]
        flag, match = np.empty(n_anchor, np.int64), np.empty(n_anchor, np.int64)
        best, background = np.empty(n_anchor), np.empty(n_anchor)
        n_positive = _match_cpu(anchors, label, n_gt, np.empty((n_anchor, n_label)), flag, match, best,
                                np.empty(n_label, np.int8), overlap_threshold)
        n_cand = _candidates_cpu(cls_preds, b, flag, best, background, mining_thresh) if mining_ratio > 0 else 0
        n_negative = _negatives_cpu(flag, n_gt, n_positive, n_cand, mining_ratio)
        if n_negative > 0:
            if n_cand < n_negative:
                short[b] = 1
                n_negative = n_cand
            candidates = np.flatnonzero(background >= 0)
            order = np.argsort(background[candidates], kind="mergesort")
            for i in range(n_negative):
                flag[candidates[order[i]]] = 0
        for j in range(n_anchor):
            _target_row_cpu(anchors, label, flag, match, j, variances, ignore_label, loc_target, loc_mask,
                            cls_target, b, reqs)


def _target_match_kernel(anchors, labels, n_valid, cls_preds, iou, flag, match, best, gt_done, background,
                         n_negative, short, overlap_threshold, mining_ratio, mining_thresh):
    """One thread per batch: matching, the mining candidates and the number of negatives (-1: all made already)."""
    b = cuda.grid(1)
    if b < flag.shape[0]:
        n_gt = n_valid[b]
        n_positive = _match_dev(anchors, labels[b], n_gt, iou[b], flag[b], match[b], best[b], gt_done[b],
                                overlap_threshold)
        n_cand = 0
        if mining_ratio > 0:
            n_cand = _candidates_dev(cls_preds, b, flag[b], best[b], background[b], mining_thresh)
        n = _negatives_dev(flag[b], n_gt, n_positive, n_cand, mining_ratio)
        if n > 0 and n_cand < n:
            short[b] = 1
        n_negative[b] = min(n, n_cand) if n > 0 else n


def _target_rows_kernel(anchors, labels, flag, match, background, n_negative, variances, ignore_label, loc_target,
                        loc_mask, cls_target, reqs):
    """One thread per (batch, anchor): a candidate whose place in the stable ascending order of the background
    probabilities is below the batch's number of negatives becomes negative; then the anchor's targets."""
    n_anchor = flag.shape[1]
    e = cuda.grid(1)
    while e < flag.size:
        b, j = e // n_anchor, e % n_anchor
        bg = background[b, j]
        if n_negative[b] > 0 and bg >= 0:
            rank = 0
            for i in range(n_anchor):
                other = background[b, i]
                if other >= 0 and (other < bg or (other == bg and i < j)):
                    rank += 1
            if rank < n_negative[b]:
                flag[b, j] = 0
        _target_row_dev(anchors, labels[b], flag[b], match[b], j, variances, ignore_label, loc_target, loc_mask,
                        cls_target, b, reqs)
        e += cuda.gridsize(1)


_target_match = cuda.jit(_target_match_kernel)
_target_rows = cuda.jit(_target_rows_kernel)


def target_gpu(anchors, labels, n_valid, cls_preds, loc_target, loc_mask, cls_target, overlap_threshold,
               ignore_label, mining_ratio, mining_thresh, variances, short, reqs, stream=0):
    """CUDA twin of target_cpu on device arrays (n_valid, variances and short too); per-batch workspace on the
    device."""
    n_batch, n_anchor = cls_target.shape
    if not n_batch or not n_anchor:
        return
    n_label = labels.shape[1]
    iou = cuda.device_array((n_batch, n_anchor, max(1, n_label)), np.float64, stream=stream)
    flag, match = (cuda.device_array((n_batch, n_anchor), np.int64, stream=stream) for _ in range(2))
    best, background = (cuda.device_array((n_batch, n_anchor), np.float64, stream=stream) for _ in range(2))
    gt_done = cuda.device_array((n_batch, max(1, n_label)), np.int8, stream=stream)
    n_negative = cuda.device_array(n_batch, np.int64, stream=stream)
    blocks, threads = grid_1d(n_batch, 64)
    _target_match[blocks, threads, stream](anchors, labels, n_valid, cls_preds, iou, flag, match, best, gt_done,
                                           background, n_negative, short, overlap_threshold, mining_ratio,
                                           mining_thresh)
    blocks, threads = grid_1d(n_batch * n_anchor)
    _target_rows[blocks, threads, stream](anchors, labels, flag, match, background, n_negative, variances,
                                          ignore_label, loc_target, loc_mask, cls_target, reqs)


# --- MultiBoxDetection -------------------------------------------------------------------------------------------
# Per batch: each anchor's best non-background class and decoded box, packed in anchor order into rows (A, 6) = (class,
# score, xmin, ymin, xmax, ymax) (-1 past them); with NMS the packed rows are ranked by score (stable: np.argsort on
# the CPU, a rank count on CUDA) and suppressed in that order.

def _decode_rows(cls_prob, loc_pred, anchors, b, rows, threshold, clip, variances):
    """Batch b's detections packed into rows (the rest -1): an anchor takes its best class of 1.. (class 0 is the
    background) and its box decoded from loc_pred (B, A * 4) over `variances` (clipped to [0, 1] when `clip`); one
    whose score is below threshold is dropped. Returns the number of rows."""
    n_class, n_anchor = cls_prob.shape[1], cls_prob.shape[2]
    for i in range(n_anchor):
        for k in range(6):
            rows[i, k] = -1.0
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
        rows[n_valid, 2], rows[n_valid, 3] = cx - half_w, cy - half_h
        rows[n_valid, 4], rows[n_valid, 5] = cx + half_w, cy + half_h
        if clip:
            for k in range(2, 6):
                rows[n_valid, k] = min(max(rows[n_valid, k], 0.0), 1.0)
        n_valid += 1
    return n_valid


def _suppresses(rows, i, j, nms_threshold, force_suppress):
    """Whether kept row i suppresses row j: j still kept, of i's class (any with force_suppress), IoU reaching the
    threshold."""
    if rows[j, 0] < 0 or not (force_suppress or rows[i, 0] == rows[j, 0]):
        return False
    w = max(0.0, min(rows[i, 4], rows[j, 4]) - max(rows[i, 2], rows[j, 2]))
    h = max(0.0, min(rows[i, 5], rows[j, 5]) - max(rows[i, 3], rows[j, 3]))
    union = ((rows[i, 4] - rows[i, 2]) * (rows[i, 5] - rows[i, 3])
             + (rows[j, 4] - rows[j, 2]) * (rows[j, 5] - rows[j, 3]) - w * h)
    return union > 0 and w * h / union >= nms_threshold


def _n_keep(n_valid, nms_topk):
    return nms_topk if 0 < nms_topk < n_valid else n_valid


def _detection_value(rows, ranked, i, k, n_valid, n_keep, nms):
    """Coordinate k of output row i: the packed row, or with NMS a ranked row below n_keep; as in MXNet 1.9.1,
    packed rows past nms_topk keep their unsorted values with class -1."""
    if not nms:
        return rows[i, k]
    if i < n_keep:
        return ranked[i, k]
    if i < n_valid and k == 0:
        return -1.0
    return rows[i, k]


_decode_rows_cpu, _decode_rows_dev = dual(_decode_rows)
_suppresses_cpu, _suppresses_dev = dual(_suppresses)
_detection_value_cpu, _detection_value_dev = dual(_detection_value)
_n_keep_dev = cuda.jit(device=True, inline="always")(_n_keep)
_n_keep = numba.njit(inline="always", nogil=True)(_n_keep)


@parallel_kernel(**_JIT)
def detection_cpu(cls_prob, loc_pred, anchors, out, threshold, clip, variances, nms_threshold, force_suppress,
                  nms_topk, req):
    """SSD detections per batch into out (B, A, 6): the decoded rows, and with 0 < nms_threshold <= 1 only the
    nms_topk best (> 0) ranked by score, a row suppressed by a better kept one getting class -1."""
    if req == REQ_NULL:
        return
    n_batch, n_anchor = cls_prob.shape[0], cls_prob.shape[2]
    for b in numba.prange(n_batch):
        rows = np.empty((n_anchor, 6))
        n_valid = _decode_rows_cpu(cls_prob, loc_pred, anchors, b, rows, threshold, clip, variances)
        n_keep = 0
        ranked = rows
        nms = 0 < nms_threshold <= 1
        if n_valid > 0 and nms:
            n_keep = _n_keep(n_valid, nms_topk)
            ranked = rows[np.argsort(-rows[:n_valid, 1], kind="mergesort")[:n_keep]]
            for i in range(n_keep):
                if ranked[i, 0] >= 0:
                    for j in range(i + 1, n_keep):
                        if _suppresses_cpu(ranked, i, j, nms_threshold, force_suppress):
                            ranked[j, 0] = -1.0
        for i in range(n_anchor):
            for k in range(6):
                out[b, i, k] = assign(out[b, i, k], _detection_value_cpu(rows, ranked, i, k, n_valid, n_keep,
                                                                                nms), req)


def _detection_decode_kernel(cls_prob, loc_pred, anchors, rows, n_valid, threshold, clip, variances):
    """One thread per batch: its packed rows and their number."""
    b = cuda.grid(1)
    if b < rows.shape[0]:
        n_valid[b] = _decode_rows_dev(cls_prob, loc_pred, anchors, b, rows[b], threshold, clip, variances)


def _detection_rank_kernel(rows, n_valid, ranked, nms_topk):
    """One thread per (batch, row): a packed row's place in descending score order (ties: packing order) and the
    row copied there in ranked, when that place is below n_keep."""
    n = rows.shape[1]
    e = cuda.grid(1)
    while e < rows.shape[0] * n:
        b, i = e // n, e % n
        if i < n_valid[b]:
            s, rank = rows[b, i, 1], 0
            for j in range(n_valid[b]):
                t = rows[b, j, 1]
                if t > s or (t == s and j < i):
                    rank += 1
            if rank < _n_keep_dev(n_valid[b], nms_topk):
                for k in range(6):
                    ranked[b, rank, k] = rows[b, i, k]
        e += cuda.gridsize(1)


def _detection_nms_kernel(rows, ranked, n_valid, out, nms_topk, nms_threshold, force_suppress, nms, req):
    """One block per batch: suppression among the ranked rows in order (each reference row against the later rows
    split among the block's threads), then the output rows."""
    b, t, nt = cuda.blockIdx.x, cuda.threadIdx.x, cuda.blockDim.x
    n_keep = _n_keep_dev(n_valid[b], nms_topk) if nms else 0
    for i in range(n_keep):
        if ranked[b, i, 0] >= 0:
            for j in range(i + 1 + t, n_keep, nt):
                if _suppresses_dev(ranked[b], i, j, nms_threshold, force_suppress):
                    ranked[b, j, 0] = -1.0
        cuda.syncthreads()
    for e in range(t, rows.shape[1] * 6, nt):
        i, k = e // 6, e % 6
        out[b, i, k] = assign(out[b, i, k], _detection_value_dev(rows[b], ranked[b], i, k, n_valid[b], n_keep,
                                                                              nms), req)


_detection_decode = cuda.jit(_detection_decode_kernel)
_detection_rank = cuda.jit(_detection_rank_kernel)
_detection_nms = cuda.jit(_detection_nms_kernel)


def detection_gpu(cls_prob, loc_pred, anchors, out, threshold, clip, variances, nms_threshold, force_suppress,
                  nms_topk, req, stream=0):
    """CUDA twin of detection_cpu on device arrays (variances too)."""
    n_batch, n_anchor = cls_prob.shape[0], cls_prob.shape[2]
    if req == REQ_NULL or not out.size:
        return
    rows, ranked = (cuda.device_array((n_batch, n_anchor, 6), np.float64, stream=stream) for _ in range(2))
    n_valid = cuda.device_array(n_batch, np.int64, stream=stream)
    blocks, threads = grid_1d(n_batch, 64)
    _detection_decode[blocks, threads, stream](cls_prob, loc_pred, anchors, rows, n_valid, threshold, clip,
                                               variances)
    nms = bool(0 < nms_threshold <= 1)
    if nms:
        blocks, threads = grid_1d(n_batch * n_anchor)
        _detection_rank[blocks, threads, stream](rows, n_valid, ranked, nms_topk)
    _detection_nms[n_batch, min(256, n_anchor * 6), stream](rows, ranked, n_valid, out, nms_topk, nms_threshold,
                                                             force_suppress, nms, req)


PTX_CHECKS = []
for _t in ("float32", "float64"):
    _a1, _a2, _a3 = f"{_t}[::1]", f"{_t}[:, ::1]", f"{_t}[:, :, ::1]"
    _f, _i, _w = "float64", "int64", "float64[:, :, ::1]"
    _i2, _reqs = "int64[:, ::1]", "UniTuple(int64, 3)"
    PTX_CHECKS += [
        (_prior_kernel.py_func, f"void({_t}[:, :, :, ::1], float64[::1], float64[::1], {_f}, {_f}, {_f}, {_f}, "
                                f"boolean, {_i})"),
        (_target_match_kernel, f"void({_a2}, {_a3}, int64[::1], {_a3}, {_w}, {_i2}, {_i2}, float64[:, ::1], "
                               f"int8[:, ::1], float64[:, ::1], int64[::1], int64[::1], {_f}, {_f}, {_f})"),
        (_target_rows_kernel, f"void({_a2}, {_a3}, {_i2}, {_i2}, float64[:, ::1], int64[::1], float64[::1], {_f}, "
                              f"{_a3}, {_a3}, {_a2}, {_reqs})"),
        (_detection_decode_kernel, f"void({_a3}, {_a2}, {_a2}, {_w}, int64[::1], {_f}, boolean, float64[::1])"),
        (_detection_rank_kernel, f"void({_w}, int64[::1], {_w}, {_i})"),
        (_detection_nms_kernel, f"void({_w}, {_w}, int64[::1], {_a3}, {_i}, {_f}, boolean, boolean, {_i})"),
    ]
