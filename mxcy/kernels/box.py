"""Bounding-box kernels of MXNet 1.9.1's contrib detection ops (CPU): IoU, non-maximum suppression and the
scatter of its gradient, bipartite matching, and box encode/decode. Boxes are 4 numbers, `corner`
(xmin, ymin, xmax, ymax) or `center` (x, y, width, height); arrays arrive C-contiguous and flattened to
(batch, rows, width) by the op."""
import math

import numba
import numpy as np

from .common import REQ_NULL, REQ_WRITE, assign, parallel_kernel

_JIT = dict(nogil=True, cache=True, error_model="numpy")


@numba.njit(inline="always", nogil=True)
def _overlap_1d(a, ai, b, bi, center):
    """Length of the overlap of box a's and box b's extents on one axis (a[ai] and a[ai + 2] are its two
    numbers: min and max for corner boxes, centre and size for center boxes); 0 when apart."""
    if center:
        a_lo, a_hi = a[ai] - a[ai + 2] / 2, a[ai] + a[ai + 2] / 2
        b_lo, b_hi = b[bi] - b[bi + 2] / 2, b[bi] + b[bi + 2] / 2
    else:
        a_lo, a_hi, b_lo, b_hi = a[ai], a[ai + 2], b[bi], b[bi + 2]
    w = min(a_hi, b_hi) - max(a_lo, b_lo)
    return w if w > 0 else 0.0


@numba.njit(inline="always", nogil=True)
def _area(a, ai, center):
    """Area of the box at a[ai:ai + 4]; 0 for a box with a negative side."""
    w = a[ai + 2] if center else a[ai + 2] - a[ai]
    h = a[ai + 3] if center else a[ai + 3] - a[ai + 1]
    return 0.0 if w < 0 or h < 0 else w * h


@parallel_kernel(**_JIT)
def iou_cpu(lhs, rhs, out, center, req):
    """out[i, j] = IoU of lhs box i and rhs box j: lhs (L*4,), rhs (R*4,), out (L, R)."""
    if req == REQ_NULL:
        return
    for i in numba.prange(out.shape[0]):
        for j in range(out.shape[1]):
            inter = _overlap_1d(lhs, 4 * i, rhs, 4 * j, center) * _overlap_1d(lhs, 4 * i + 1, rhs, 4 * j + 1, center)
            value = 0.0
            if inter > 0:
                value = inter / (_area(lhs, 4 * i, center) + _area(rhs, 4 * j, center) - inter)
            out[i, j] = assign(out[i, j], value, req)


@parallel_kernel(**_JIT)
def nms_cpu(data, out, record, topk, valid_thresh, overlap_thresh, coord_start, score_index, id_index,
            background_id, force_suppress, center):
    """Greedy NMS per batch of data (B, N, W): the boxes whose score is above valid_thresh (and whose class is
    not background_id when id_index >= 0), in descending score order (ties keep input order), limited to the
    first topk; each box suppresses the later ones of its class (any class when force_suppress) whose IoU
    with it exceeds overlap_thresh. Kept rows are packed to the top of out (rest -1) and record holds, per
    output row, the flat index b * N + n of the input row it came from (-1 for none)."""
    n_batch, n, width = data.shape
    for b in numba.prange(n_batch):
        scores = np.empty(n, data.dtype)
        valid = np.empty(n, np.int64)
        count = 0
        for i in range(n):
            s = data[b, i, score_index]
            if s > valid_thresh and (id_index < 0 or data[b, i, id_index] != background_id):
                valid[count] = i
                scores[count] = -s
                count += 1
        order = valid[:count][np.argsort(scores[:count], kind="mergesort")][:topk]
        kept = np.ones(order.size, np.bool_)
        for r in range(order.size):
            if not kept[r]:
                continue
            ref = data[b, order[r]]
            ref_area = _area(ref, coord_start, center)
            for p in range(r + 1, order.size):
                if not kept[p]:
                    continue
                box = data[b, order[p]]
                if not force_suppress and id_index >= 0 and int(ref[id_index]) != int(box[id_index]):
                    continue
                inter = _overlap_1d(ref, coord_start, box, coord_start, center) * \
                    _overlap_1d(ref, coord_start + 1, box, coord_start + 1, center)
                # 0 / 0 (two empty boxes) is NaN, which suppresses nothing, as in MXNet.
                if inter / (ref_area + _area(box, coord_start, center) - inter) > overlap_thresh:
                    kept[p] = False
        row = 0
        for r in range(order.size):
            if kept[r]:
                for k in range(width):
                    out[b, row, k] = data[b, order[r], k]
                record[b, row] = b * n + order[r]
                row += 1
        for r in range(row, n):
            for k in range(width):
                out[b, r, k] = -1
            record[b, r] = -1


@numba.njit(**_JIT)
def convert_boxes_cpu(out, coord_start, to_center):
    """Re-encode the boxes of out (B, N, W) in place: corner -> center when to_center, else center -> corner.
    As in MXNet, a row whose first coordinate is negative (the -1 filler rows) is left alone."""
    for b in range(out.shape[0]):
        for i in range(out.shape[1]):
            box = out[b, i, coord_start:coord_start + 4]
            p, q, r, s = box[0], box[1], box[2], box[3]
            if p < 0:
                continue
            if to_center:
                box[0], box[1], box[2], box[3] = (p + r) / 2, (q + s) / 2, r - p, s - q
            else:
                box[0], box[1], box[2], box[3] = p - r / 2, q - s / 2, p + r / 2, q + s / 2


@numba.njit(**_JIT)
def nms_scatter_cpu(ograd, record, grad, req):
    """The gradient of NMS: grad's row record[i] (a flat row index, -1 for none) gets ograd's row i; rows no
    output came from get 0. ograd and grad are (rows, W), record (rows,)."""
    if req == REQ_NULL:
        return
    if req == REQ_WRITE:
        grad[:] = 0
    for i in range(record.size):
        src = int(record[i])
        if src >= 0:
            for k in range(grad.shape[1]):
                grad[src, k] = assign(grad[src, k], ograd[i, k], req)


@parallel_kernel(**_JIT)
def bipartite_matching_cpu(scores, row_marker, col_marker, threshold, is_ascend, topk, row_req, col_req):
    """Greedy matching per batch of scores (B, R, C): pairs in score order (descending, or ascending when
    is_ascend; ties keep row-major order) are matched while both ends are free; the first free pair whose
    score fails the threshold ends the batch, and so does exceeding topk (> 0) matches, after that match is
    made (MXNet 1.9.1 keeps topk + 1 matches). row_marker (B, R) / col_marker (B, C) get the partner or -1."""
    n_batch, n_row, n_col = scores.shape
    for b in numba.prange(n_batch):
        flat = scores[b].ravel()
        order = np.argsort(flat if is_ascend else -flat, kind="mergesort")
        rows = np.full(n_row, -1, np.int64)
        cols = np.full(n_col, -1, np.int64)
        count = 0
        for j in order:
            r, c = j // n_col, j % n_col
            if rows[r] != -1 or cols[c] != -1:
                continue
            if not ((not is_ascend and flat[j] > threshold) or (is_ascend and flat[j] < threshold)):
                break
            rows[r], cols[c] = c, r
            count += 1
            if 0 < topk < count:
                break
        if row_req != REQ_NULL:
            for r in range(n_row):
                row_marker[b, r] = assign(row_marker[b, r], rows[r], row_req)
        if col_req != REQ_NULL:
            for c in range(n_col):
                col_marker[b, c] = assign(col_marker[b, c], cols[c], col_req)


@parallel_kernel(**_JIT)
def box_encode_cpu(samples, matches, anchors, refs, means, stds, targets, masks, target_req, mask_req):
    """SSD-style regression targets: for anchor n of batch b with samples[b, n] > 0.5, the offsets of its
    matched reference box refs[b, matches[b, n]] from it (centre shift over anchor size, log size ratio),
    normalised by means and stds; 0 elsewhere. masks is 1 where a target is valid. Boxes are corner boxes."""
    for b in numba.prange(anchors.shape[0]):
        for n in range(anchors.shape[1]):
            valid = samples[b, n] > 0.5
            value = np.zeros(4)
            if valid:
                m = int(matches[b, n])
                aw, ah = anchors[b, n, 2] - anchors[b, n, 0], anchors[b, n, 3] - anchors[b, n, 1]
                rw, rh = refs[b, m, 2] - refs[b, m, 0], refs[b, m, 3] - refs[b, m, 1]
                value[0] = ((refs[b, m, 0] + rw * 0.5 - anchors[b, n, 0] - aw * 0.5) / aw - means[0]) / stds[0]
                value[1] = ((refs[b, m, 1] + rh * 0.5 - anchors[b, n, 1] - ah * 0.5) / ah - means[1]) / stds[1]
                value[2] = (math.log(rw / aw) - means[2]) / stds[2]
                value[3] = (math.log(rh / ah) - means[3]) / stds[3]
            for k in range(4):
                if target_req != REQ_NULL:
                    targets[b, n, k] = assign(targets[b, n, k], value[k], target_req)
                if mask_req != REQ_NULL:
                    masks[b, n, k] = assign(masks[b, n, k], 1.0 if valid else 0.0, mask_req)


@parallel_kernel(**_JIT)
def box_decode_cpu(data, anchors, stds, clip, center, out, req):
    """Boxes (corner) from offsets data (B, N, 4) relative to anchors (N, 4) (corner or center): centre
    anchor + offset * std * anchor size, size anchor size * exp(offset * std), the log-size offsets first
    capped at clip when clip > 0."""
    if req == REQ_NULL:
        return
    for b in numba.prange(data.shape[0]):
        for n in range(data.shape[1]):
            ax, ay, aw, ah = anchors[n, 0], anchors[n, 1], anchors[n, 2], anchors[n, 3]
            if not center:
                aw, ah = aw - ax, ah - ay
                ax, ay = ax + aw * 0.5, ay + ah * 0.5
            ox = data[b, n, 0] * stds[0] * aw + ax
            oy = data[b, n, 1] * stds[1] * ah + ay
            dw, dh = data[b, n, 2] * stds[2], data[b, n, 3] * stds[3]
            if clip > 0:
                dw, dh = min(dw, clip), min(dh, clip)
            hw, hh = math.exp(dw) * aw * 0.5, math.exp(dh) * ah * 0.5
            out[b, n, 0] = assign(out[b, n, 0], ox - hw, req)
            out[b, n, 1] = assign(out[b, n, 1], oy - hh, req)
            out[b, n, 2] = assign(out[b, n, 2], ox + hw, req)
            out[b, n, 3] = assign(out[b, n, 3], oy + hh, req)

