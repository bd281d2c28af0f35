"""CUDA kernels of the image crop op and its gradient (_image_crop, _backward_image_crop; the CPU runs NumPy slices):
a box copy out of (N, H, W, C) images and its adjoint, zeros with the head gradient in the box. Both see the images as
(N, rows, W * C) so a box is a range of rows and a range of flat row positions."""
from numba import cuda

from .common import REQ_ADD, REQ_NULL
from .launch import grid_1d, store


def _crop_kernel(x, out, top, left, req):
    """out (N, h, span) (req)= x[:, top:top + h, left:left + span] of x (N, H, W * C)."""
    rows, span = out.shape[1], out.shape[2]
    k = cuda.grid(1)
    while k < out.size:
        n, i, q = k // span // rows, k // span % rows, k % span
        store(out, (n, i, q), x[n, top + i, left + q], req)
        k += cuda.gridsize(1)


def _uncrop_kernel(g, out, top, left, req):
    """out (N, H, W * C) (req)= zeros with g (N, h, span) at rows top.., flat positions left.."""
    rows, span = out.shape[1], out.shape[2]
    k = cuda.grid(1)
    while k < out.size:
        n, r, q = k // span // rows, k // span % rows, k % span
        i, j = r - top, q - left
        if 0 <= i < g.shape[1] and 0 <= j < g.shape[2]:
            store(out, (n, r, q), g[n, i, j], req)
        elif req != REQ_ADD:
            out[n, r, q] = 0
        k += cuda.gridsize(1)


crop_kernel, uncrop_kernel = cuda.jit(_crop_kernel), cuda.jit(_uncrop_kernel)


def _rows(a):
    """(N, H, W * C) view of a C-contiguous (..., H, W, C) device array."""
    height, width, channels = a.shape[a.ndim - 3:]
    return a.reshape((a.size // (height * width * channels), height, width * channels))


def _launch(kernel, out, *args):
    blocks, threads = grid_1d(out.size)
    kernel[blocks, threads](*args)


def crop_gpu(x, out, top, left, req):
    """out (..., h, w, C) (req)= the box of x (..., H, W, C) whose top-left pixel is (top, left); device arrays."""
    if req == REQ_NULL or out.size == 0:
        return
    out3 = _rows(out)
    _launch(crop_kernel, out3, _rows(x), out3, top, left * x.shape[x.ndim - 1], req)


def crop_backward_gpu(g, out, top, left, req):
    """out (..., H, W, C) (req)= zeros with g (..., h, w, C) in the box at (top, left); device arrays."""
    if req == REQ_NULL or out.size == 0:
        return
    out3 = _rows(out)
    _launch(uncrop_kernel, out3, _rows(g), out3, top, left * out.shape[out.ndim - 1], req)


PTX_CHECKS = []
for _t in ("uint8", "int32", "float32", "float64"):
    _a = f"{_t}[:, :, ::1]"
    PTX_CHECKS += [(_crop_kernel, f"void({_a}, {_a}, int64, int64, int64)"),
                   (_uncrop_kernel, f"void({_a}, {_a}, int64, int64, int64)")]
