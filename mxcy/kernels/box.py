"""Bounding-box kernels of MXNet 1.9.1's contrib detection ops, CPU and CUDA: IoU, non-maximum suppression and
the scatter of its gradient, bipartite matching, and box encode/decode. Boxes are 4 numbers, `corner`
(xmin, ymin, xmax, ymax) or `center` (x, y, width, height); arrays arrive C-contiguous and flattened to
(batch, rows, width) by the op."""
import math

import numba
import numpy as np
from numba import cuda

from .common import REQ_NULL, REQ_WRITE, assign, parallel_kernel
from .launch import dual, grid_1d

_JIT = dict(nogil=True, cache=True, error_model="numpy")


def _edges(a, ai, center):
    """(x0, y0, x1, y1) of the box at a[ai:ai + 4]."""
    if center:
        return a[ai] - a[ai + 2] / 2, a[ai + 1] - a[ai + 3] / 2, a[ai] + a[ai + 2] / 2, a[ai + 1] + a[ai + 3] / 2
    return a[ai], a[ai + 1], a[ai + 2], a[ai + 3]


def _iou_of_edges(ax0, ay0, ax1, ay1, bx0, by0, bx1, by1):
    """IoU of two boxes given by their edges: 0 when they do not overlap; a box with a negative side has area 0."""
    w, h = min(ax1, bx1) - max(ax0, bx0), min(ay1, by1) - max(ay0, by0)
    if w <= 0 or h <= 0:
        return 0.0
    area_a = 0.0 if ax1 < ax0 or ay1 < ay0 else (ax1 - ax0) * (ay1 - ay0)
    area_b = 0.0 if bx1 < bx0 or by1 < by0 else (bx1 - bx0) * (by1 - by0)
    return w * h / (area_a + area_b - w * h)


def _iou_with(edges, iou_of_edges):
    """The IoU helper on one device's compilations of `_edges` and `_iou_of_edges`."""
    def iou(a, ai, b, bi, center):
        """IoU of the boxes at a[ai:ai + 4] and b[bi:bi + 4]."""
        ax0, ay0, ax1, ay1 = edges(a, ai, center)
        bx0, by0, bx1, by1 = edges(b, bi, center)
        return iou_of_edges(ax0, ay0, ax1, ay1, bx0, by0, bx1, by1)
    return iou


_edges_cpu, _edges_dev = dual(_edges)
_iou_of_edges_cpu, _iou_of_edges_dev = dual(_iou_of_edges)
_iou_cpu = numba.njit(inline="always", nogil=True)(_iou_with(_edges_cpu, _iou_of_edges_cpu))
_iou_dev = cuda.jit(device=True, inline="always")(_iou_with(_edges_dev, _iou_of_edges_dev))


@parallel_kernel(**_JIT)
def iou_cpu(lhs, rhs, out, center, req):
    """out[i, j] = IoU of lhs box i and rhs box j: lhs (L*4,), rhs (R*4,), out (L, R)."""
    if req == REQ_NULL:
        return
    for i in numba.prange(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = assign(out[i, j], _iou_cpu(lhs, 4 * i, rhs, 4 * j, center), req)


@numba.njit(**_JIT)
def _suppresses(edges, classes, overlap_thresh, r, p):
    """Whether kept candidate r suppresses candidate p: same class and IoU above the threshold."""
    return classes[p] == classes[r] and _iou_of_edges_cpu(
        edges[r, 0], edges[r, 1], edges[r, 2], edges[r, 3], edges[p, 0], edges[p, 1], edges[p, 2], edges[p, 3]) \
        > overlap_thresh


@numba.njit(**_JIT)
def _greedy_all_pairs(edges, classes, overlap_thresh, kept):
    """Greedy suppression of the candidates (rows of edges, in score order; kept starts all True): each kept one
    suppresses every later one it overlaps. Quadratic: for a negative threshold (boxes apart suppress each other)
    and non-finite coordinates."""
    k = edges.shape[0]
    for r in range(k):
        if kept[r]:
            for p in range(r + 1, k):
                if kept[p] and _suppresses(edges, classes, overlap_thresh, r, p):
                    kept[p] = False


@numba.njit(**_JIT)
def _cell_span(lo, hi, origin, cell, cells):
    """First and last grid cell that the interval [lo, hi] touches along one axis."""
    return min(int((lo - origin) / cell), cells - 1), min(int((hi - origin) / cell), cells - 1)


@numba.njit(**_JIT)
def _greedy_on_grid(edges, classes, overlap_thresh, kept):
    """The same suppression as _greedy_all_pairs for a threshold >= 0 and finite edges, where only boxes that
    intersect can suppress: each candidate, in score order, is tested against the kept boxes filed in the cells of
    a uniform grid (cells about the mean box side) that it touches, and is filed there itself if it stays. Near
    linear in the number of boxes when they are small against the image; every box is in every cell it touches,
    so no intersecting pair is missed."""
    k = edges.shape[0]
    x_lo, y_lo, x_hi, y_hi, sides = np.inf, np.inf, -np.inf, -np.inf, 0.0
    for r in range(k):
        x_lo, y_lo = min(x_lo, edges[r, 0]), min(y_lo, edges[r, 1])
        x_hi, y_hi = max(x_hi, edges[r, 2]), max(y_hi, edges[r, 3])
        sides += abs(edges[r, 2] - edges[r, 0]) + abs(edges[r, 3] - edges[r, 1])
    if k == 0:
        return
    side = sides / (2 * k)
    nx = max(1, min(512, int((x_hi - x_lo) / side) if side > 0 else 1))
    ny = max(1, min(512, int((y_hi - y_lo) / side) if side > 0 else 1))
    cell_x, cell_y = max((x_hi - x_lo) / nx, 1e-300), max((y_hi - y_lo) / ny, 1e-300)
    head = np.full(nx * ny, -1, np.int64)  # per cell, its last filing; filings chain back through `chain`
    chain, filed = np.empty(4 * k, np.int64), np.empty(4 * k, np.int64)
    n_filed = 0
    seen = np.full(k, -1, np.int64)  # the candidate that last tested box r (a box spans several cells)
    for p in range(k):
        x0, y0, x1, y1 = edges[p, 0], edges[p, 1], edges[p, 2], edges[p, 3]
        if x1 < x0 or y1 < y0:  # an inverted box intersects nothing: never suppressed, never suppresses
            continue
        cx0, cx1 = _cell_span(x0, x1, x_lo, cell_x, nx)
        cy0, cy1 = _cell_span(y0, y1, y_lo, cell_y, ny)
        for cy in range(cy0, cy1 + 1):
            for cx in range(cx0, cx1 + 1):
                f = head[cy * nx + cx]
                while f >= 0 and kept[p]:
                    r = filed[f]
                    if seen[r] != p:
                        seen[r] = p
                        if _suppresses(edges, classes, overlap_thresh, r, p):
                            kept[p] = False
                    f = chain[f]
        if kept[p]:
            cells = (cx1 - cx0 + 1) * (cy1 - cy0 + 1)
            if n_filed + cells > filed.size:
                grown = max(2 * filed.size, n_filed + cells)
                chain, filed = _grown(chain, grown), _grown(filed, grown)
            for cy in range(cy0, cy1 + 1):
                for cx in range(cx0, cx1 + 1):
                    chain[n_filed], filed[n_filed] = head[cy * nx + cx], p
                    head[cy * nx + cx] = n_filed
                    n_filed += 1


@numba.njit(**_JIT)
def _grown(a, size):
    """a copied into a new array of `size` elements."""
    out = np.empty(size, a.dtype)
    out[:a.size] = a
    return out


@parallel_kernel(**_JIT)
def nms_cpu(data, out, record, topk, valid_thresh, overlap_thresh, coord_start, score_index, id_index,
            background_id, force_suppress, center):
    """Greedy NMS per batch of data (B, N, W): the boxes whose score is above valid_thresh (and whose class is
    not background_id when id_index >= 0), in descending score order (ties keep input order), limited to the
    first topk (topk < 1: data passes through unchanged); each box suppresses the later ones of its class (any
    class when force_suppress) whose IoU with it exceeds overlap_thresh. Kept rows are packed to the top of out
    (rest -1) and record holds, per output row, the flat index b * N + n of the input row it came from (-1 for
    none)."""
    n_batch, n, width = data.shape
    for b in numba.prange(n_batch):
        if topk < 1:  # MXNet passes everything through unsorted
            out[b] = data[b]
            record[b] = b * n + np.arange(n)
            continue
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
        # the candidates' edges and classes in score order, contiguous: the quadratic loop below reads only these
        k = order.size
        edges = np.empty((k, 4))
        classes = np.empty(k, np.int64)
        for r in range(k):
            edges[r, 0], edges[r, 1], edges[r, 2], edges[r, 3] = _edges_cpu(data[b, order[r]], coord_start, center)
            classes[r] = -1 if force_suppress or id_index < 0 else int(data[b, order[r], id_index])
        kept = np.ones(k, np.bool_)
        if overlap_thresh >= 0 and np.all(np.isfinite(edges)):
            _greedy_on_grid(edges, classes, overlap_thresh, kept)
        else:
            _greedy_all_pairs(edges, classes, overlap_thresh, kept)
        row = 0
        for r in range(k):
            if kept[r]:
                for c in range(width):
                    out[b, row, c] = data[b, order[r], c]
                record[b, row] = b * n + order[r]
                row += 1
        for r in range(row, n):
            for c in range(width):
                out[b, r, c] = -1
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


def _target(samples, matches, anchors, refs, means, stds, b, n, k):
    """Coordinate k of anchor n's regression target in batch b (0 for a sample <= 0.5): the centre shift of its
    matched reference box over the anchor's size, then the log size ratio, normalised by means and stds; NaN for
    a match outside refs (the CPU op refuses those first)."""
    if not samples[b, n] > 0.5:
        return 0.0
    m = int(matches[b, n])
    if m < 0 or m >= refs.shape[1]:
        return math.nan
    axis = k % 2
    a_size = anchors[b, n, axis + 2] - anchors[b, n, axis]
    r_size = refs[b, m, axis + 2] - refs[b, m, axis]
    if k < 2:
        shift = refs[b, m, axis] + r_size * 0.5 - anchors[b, n, axis] - a_size * 0.5
        return (shift / a_size - means[k]) / stds[k]
    return (math.log(r_size / a_size) - means[k]) / stds[k]


def _decoded(data, anchors, stds, clip, center, b, n, k):
    """Coordinate k (xmin, ymin, xmax, ymax) of the box decoded from data[b, n] against anchor n: centre anchor
    centre + offset * std * anchor size, size anchor size * exp(offset * std), the log-size offset first capped at
    clip when clip > 0."""
    axis = k % 2
    pos, size = anchors[n, axis], anchors[n, axis + 2]
    if not center:
        size = size - pos
        pos = pos + size * 0.5
    mid = data[b, n, axis] * stds[axis] * size + pos
    log_size = data[b, n, axis + 2] * stds[axis + 2]
    if clip > 0:
        log_size = min(log_size, clip)
    half = math.exp(log_size) * size * 0.5
    return mid - half if k < 2 else mid + half


_target_cpu, _target_dev = dual(_target)
_decoded_cpu, _decoded_dev = dual(_decoded)


@parallel_kernel(**_JIT)
def box_encode_cpu(samples, matches, anchors, refs, means, stds, targets, masks, target_req, mask_req):
    """SSD-style regression targets (B, N, 4) of corner anchors (B, N, 4) towards corner refs (B, M, 4) (see
    _target), and masks: 1 where samples > 0.5, else 0."""
    for b in numba.prange(anchors.shape[0]):
        for n in range(anchors.shape[1]):
            for k in range(4):
                if target_req != REQ_NULL:
                    targets[b, n, k] = assign(targets[b, n, k],
                                              _target_cpu(samples, matches, anchors, refs, means, stds, b, n, k),
                                              target_req)
                if mask_req != REQ_NULL:
                    masks[b, n, k] = assign(masks[b, n, k], 1.0 if samples[b, n] > 0.5 else 0.0, mask_req)


@parallel_kernel(**_JIT)
def box_decode_cpu(data, anchors, stds, clip, center, out, req):
    """Corner boxes out (B, N, 4) from offsets data (B, N, 4) relative to anchors (N, 4) (see _decoded)."""
    if req == REQ_NULL:
        return
    for b in numba.prange(data.shape[0]):
        for n in range(data.shape[1]):
            for k in range(4):
                out[b, n, k] = assign(out[b, n, k], _decoded_cpu(data, anchors, stds, clip, center, b, n, k), req)


# --- CUDA ------------------------------------------------------------------------------------------
# Same contracts as the CPU kernels above, on device arrays. The sorts of NMS and matching are rank counts (one
# thread per element counts the elements ahead of it: a stable order without a device sort), NMS's suppression
# runs one block per batch (the reference boxes in order, the later boxes split among the block's threads), and
# matching's greedy pass one thread per batch.

def _iou_kernel(lhs, rhs, out, center, req):
    e = cuda.grid(1)
    while e < out.size:
        i, j = e // out.shape[1], e % out.shape[1]
        out[i, j] = assign(out[i, j], _iou_dev(lhs, 4 * i, rhs, 4 * j, center), req)
        e += cuda.gridsize(1)


def iou_gpu(lhs, rhs, out, center, req, stream=0):
    if out.size and req != REQ_NULL:
        blocks, threads = grid_1d(out.size)
        _iou_kernel[blocks, threads, stream](lhs, rhs, out, center, req)


def _nms_rank_kernel(data, order, topk, valid_thresh, score_index, id_index, background_id):
    """order[b, rank] = i for each valid box i of batch b, rank = its place in descending score order
    (ties: input order); pass-through (topk < 1) writes order[b, i] = i."""
    n = data.shape[1]
    e = cuda.grid(1)
    while e < data.shape[0] * n:
        b, i = e // n, e % n
        if topk < 1:
            order[b, i] = i
        elif data[b, i, score_index] > valid_thresh and (id_index < 0 or data[b, i, id_index] != background_id):
            s, rank = data[b, i, score_index], 0
            for j in range(n):
                t = data[b, j, score_index]
                if t > valid_thresh and (id_index < 0 or data[b, j, id_index] != background_id) and \
                        (t > s or (t == s and j < i)):
                    rank += 1
            order[b, rank] = i
        e += cuda.gridsize(1)


def _nms_suppress_kernel(data, order, kept, out, record, topk, overlap_thresh, valid_thresh, coord_start,
                         score_index, id_index, background_id, force_suppress, center):
    """One block per batch: count the valid boxes, suppress among the first topk in order, pack the kept rows."""
    b, t, nt = cuda.blockIdx.x, cuda.threadIdx.x, cuda.blockDim.x
    n, width = data.shape[1], data.shape[2]
    if topk < 1:
        for e in range(t, n * width, nt):
            out[b, e // width, e % width] = data[b, e // width, e % width]
        for i in range(t, n, nt):
            record[b, i] = b * n + i
        return
    count = 0
    for i in range(n):
        if data[b, i, score_index] > valid_thresh and (id_index < 0 or data[b, i, id_index] != background_id):
            count += 1
    k = min(count, topk)
    for p in range(t, n, nt):
        kept[b, p] = 1 if p < k else 0
    cuda.syncthreads()
    for r in range(k):
        if kept[b, r]:
            ref = data[b, order[b, r]]
            for p in range(r + 1 + t, k, nt):
                box = data[b, order[b, p]]
                if kept[b, p] and (force_suppress or id_index < 0 or int(ref[id_index]) == int(box[id_index])) \
                        and _iou_dev(ref, coord_start, box, coord_start, center) > overlap_thresh:
                    kept[b, p] = 0
        cuda.syncthreads()
    if t == 0:
        row = 0
        for r in range(k):
            if kept[b, r]:
                for c in range(width):
                    out[b, row, c] = data[b, order[b, r], c]
                record[b, row] = b * n + order[b, r]
                row += 1
        for r in range(row, n):
            for c in range(width):
                out[b, r, c] = -1
            record[b, r] = -1


def nms_gpu(data, out, record, topk, valid_thresh, overlap_thresh, coord_start, score_index, id_index,
            background_id, force_suppress, center, stream=0):
    n_batch, n = data.shape[:2]
    if not data.size:
        return
    order = cuda.device_array((n_batch, n), np.int64, stream=stream)
    kept = cuda.device_array((n_batch, n), np.int8, stream=stream)
    blocks, threads = grid_1d(n_batch * n)
    _nms_rank_kernel[blocks, threads, stream](data, order, topk, valid_thresh, score_index, id_index,
                                                         background_id)
    _nms_suppress_kernel[n_batch, min(256, n), stream](
        data, order, kept, out, record, topk, overlap_thresh, valid_thresh, coord_start, score_index, id_index,
        background_id, force_suppress, center)


def _convert_boxes_kernel(out, coord_start, to_center):
    e = cuda.grid(1)
    while e < out.shape[0] * out.shape[1]:
        box = out[e // out.shape[1], e % out.shape[1]]
        p, q, r, s = box[coord_start], box[coord_start + 1], box[coord_start + 2], box[coord_start + 3]
        if p >= 0:
            if to_center:
                box[coord_start], box[coord_start + 1] = (p + r) / 2, (q + s) / 2
                box[coord_start + 2], box[coord_start + 3] = r - p, s - q
            else:
                box[coord_start], box[coord_start + 1] = p - r / 2, q - s / 2
                box[coord_start + 2], box[coord_start + 3] = p + r / 2, q + s / 2
        e += cuda.gridsize(1)


def convert_boxes_gpu(out, coord_start, to_center, stream=0):
    if out.size:
        blocks, threads = grid_1d(out.shape[0] * out.shape[1])
        _convert_boxes_kernel[blocks, threads, stream](out, coord_start, to_center)


def _zero_kernel(a):
    e = cuda.grid(1)
    while e < a.size:
        a[e // a.shape[1], e % a.shape[1]] = 0
        e += cuda.gridsize(1)


def _nms_scatter_kernel(ograd, record, grad, req):
    e = cuda.grid(1)
    while e < ograd.size:
        i, k = e // ograd.shape[1], e % ograd.shape[1]
        src = int(record[i])
        if src >= 0:
            grad[src, k] = assign(grad[src, k], ograd[i, k], req)
        e += cuda.gridsize(1)


def nms_scatter_gpu(ograd, record, grad, req, stream=0):
    if grad.size and req != REQ_NULL:
        blocks, threads = grid_1d(grad.size)
        if req == REQ_WRITE:
            _zero_kernel[blocks, threads, stream](grad)
        _nms_scatter_kernel[blocks, threads, stream](ograd, record, grad, req)


def _matching_rank_kernel(scores, order, is_ascend):
    """order[b, rank] = j: the flat index j of batch b's scores in (descending, or ascending) score order."""
    m = scores.shape[1]
    e = cuda.grid(1)
    while e < scores.size:
        b, j = e // m, e % m
        s, rank = scores[b, j], 0
        for i in range(m):
            t = scores[b, i]
            if (t < s if is_ascend else t > s) or (t == s and i < j):
                rank += 1
        order[b, rank] = j
        e += cuda.gridsize(1)


def _matching_kernel(scores, order, rows, cols, row_marker, col_marker, threshold, is_ascend, topk, row_req,
                     col_req):
    """One thread per batch: the greedy pass of bipartite_matching_cpu over the ranked scores."""
    b = cuda.grid(1)
    if b >= scores.shape[0]:
        return
    n_row, n_col = rows.shape[1], cols.shape[1]
    for r in range(n_row):
        rows[b, r] = -1
    for c in range(n_col):
        cols[b, c] = -1
    count = 0
    for k in range(scores.shape[1]):
        j = order[b, k]
        r, c = j // n_col, j % n_col
        if rows[b, r] != -1 or cols[b, c] != -1:
            continue
        if not ((not is_ascend and scores[b, j] > threshold) or (is_ascend and scores[b, j] < threshold)):
            break
        rows[b, r], cols[b, c] = c, r
        count += 1
        if 0 < topk < count:
            break
    if row_req != REQ_NULL:
        for r in range(n_row):
            row_marker[b, r] = assign(row_marker[b, r], rows[b, r], row_req)
    if col_req != REQ_NULL:
        for c in range(n_col):
            col_marker[b, c] = assign(col_marker[b, c], cols[b, c], col_req)


def bipartite_matching_gpu(scores, row_marker, col_marker, threshold, is_ascend, topk, row_req, col_req,
                           stream=0):
    n_batch, n_row, n_col = scores.shape
    if not scores.size:
        return
    flat = scores.reshape(n_batch, n_row * n_col)
    order = cuda.device_array(flat.shape, np.int64, stream=stream)
    rows = cuda.device_array((n_batch, n_row), np.int64, stream=stream)
    cols = cuda.device_array((n_batch, n_col), np.int64, stream=stream)
    blocks, threads = grid_1d(flat.size)
    _matching_rank_kernel[blocks, threads, stream](flat, order, is_ascend)
    blocks, threads = grid_1d(n_batch)
    _matching_kernel[blocks, threads, stream](flat, order, rows, cols, row_marker, col_marker, threshold,
                                                        is_ascend, topk, row_req, col_req)


def _box_encode_kernel(samples, matches, anchors, refs, means, stds, targets, masks, target_req, mask_req):
    e = cuda.grid(1)
    while e < targets.size:
        b, n, k = e // (targets.shape[1] * 4), (e // 4) % targets.shape[1], e % 4
        if target_req != REQ_NULL:
            targets[b, n, k] = assign(targets[b, n, k],
                                      _target_dev(samples, matches, anchors, refs, means, stds, b, n, k), target_req)
        if mask_req != REQ_NULL:
            masks[b, n, k] = assign(masks[b, n, k], 1.0 if samples[b, n] > 0.5 else 0.0, mask_req)
        e += cuda.gridsize(1)


def box_encode_gpu(samples, matches, anchors, refs, means, stds, targets, masks, target_req, mask_req, stream=0):
    if targets.size:
        blocks, threads = grid_1d(targets.size)
        _box_encode_kernel[blocks, threads, stream](samples, matches, anchors, refs, means, stds, targets, masks,
                                                    target_req, mask_req)


def _box_decode_kernel(data, anchors, stds, clip, center, out, req):
    e = cuda.grid(1)
    while e < out.size:
        b, n, k = e // (out.shape[1] * 4), (e // 4) % out.shape[1], e % 4
        out[b, n, k] = assign(out[b, n, k], _decoded_dev(data, anchors, stds, clip, center, b, n, k), req)
        e += cuda.gridsize(1)


def box_decode_gpu(data, anchors, stds, clip, center, out, req, stream=0):
    if out.size and req != REQ_NULL:
        blocks, threads = grid_1d(out.size)
        _box_decode_kernel[blocks, threads, stream](data, anchors, stds, clip, center, out, req)


_iou_kernel = cuda.jit(_iou_kernel)
_nms_rank_kernel = cuda.jit(_nms_rank_kernel)
_nms_suppress_kernel = cuda.jit(_nms_suppress_kernel)
_convert_boxes_kernel = cuda.jit(_convert_boxes_kernel)
_zero_kernel = cuda.jit(_zero_kernel)
_nms_scatter_kernel = cuda.jit(_nms_scatter_kernel)
_matching_rank_kernel = cuda.jit(_matching_rank_kernel)
_matching_kernel = cuda.jit(_matching_kernel)
_box_encode_kernel = cuda.jit(_box_encode_kernel)
_box_decode_kernel = cuda.jit(_box_decode_kernel)
