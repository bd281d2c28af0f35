"""im2col / col2im of whole (N, C, *spatial) arrays (CPU): drivers over the convolution kernels' per-image
_im2col/_col2im (conv_cpu.py), whose column rows are channel * kernel volume + tap, as MXNet's im2col op."""
import numpy as np

from .common import REQ_ADD, REQ_NULL
from .conv_cpu import _col2im, _im2col
from .conv_common import as_5d, geometry_3d


def _geometry(image, kernel, stride, pad, dilate, out_spatial):
    """(image as (N, C, D*H*W) flat rows, isz, osz, ksz, s, p, d) in the kernels' 3-d form."""
    s, p, d = geometry_3d(stride, pad, dilate)
    lead = (1,) * (3 - len(kernel))
    isz = as_5d(image).shape[2:]
    return image.reshape(image.shape[0], image.shape[1], -1), isz, lead + tuple(out_spatial), \
        lead + tuple(int(k) for k in kernel), s, p, d


def im2col_cpu(x, col, req, kernel, stride, pad, dilate, out_spatial):
    """col[n] (C * prod(kernel), prod(out_spatial)) = the sliding windows of x[n]; x (N, C, *spatial)."""
    if req == REQ_NULL:
        return
    xr, isz, osz, ksz, s, p, d = _geometry(x, kernel, stride, pad, dilate, out_spatial)
    target = np.empty_like(col) if req == REQ_ADD else col
    rows = osz[0] * osz[1]
    for n in range(x.shape[0]):
        _im2col(xr[n].reshape(-1), 0, target[n], 0, rows, isz, osz, ksz, s, p, d)
    if req == REQ_ADD:
        col += target


def col2im_cpu(col, x, req, kernel, stride, pad, dilate, out_spatial):
    """x[n] = the sum of col[n]'s windows placed back where im2col took them (the transpose of im2col)."""
    if req == REQ_NULL:
        return
    if req != REQ_ADD:
        x[...] = 0
    xr, isz, osz, ksz, s, p, d = _geometry(x, kernel, stride, pad, dilate, out_spatial)
    rows = osz[0] * osz[1]
    for n in range(x.shape[0]):
        _col2im(np.ascontiguousarray(col[n]), xr[n].reshape(-1), 0, 0, rows, isz, osz, ksz, s, p, d)
