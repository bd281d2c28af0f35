"""im2col and col2im: the sliding windows of (N, C, *spatial) images as columns (N, C * prod(kernel), L) and back,
on kernels/im2col.py (CPU: the convolution kernels' im2col/col2im; CUDA: one thread per column or image element)."""
import math

from . import registry
from ._nn_common import kernel, kernel_compute, float_type
from .registry import OpDef, Param

__all__ = []

_WINDOW = (Param("kernel", "shape", doc="sliding kernel size: (w,), (h, w) or (d, h, w)"),
           Param("stride", "shape", (), "stride per spatial dimension; defaults to 1"),
           Param("dilate", "shape", (), "dilation per spatial dimension; defaults to 1"),
           Param("pad", "shape", (), "zero padding per spatial dimension; defaults to 0"))


def _window(attrs):
    """(kernel, stride, dilate, pad) with the defaults filled in, each as long as kernel."""
    k = tuple(attrs["kernel"])
    if not 1 <= len(k) <= 3 or min(k) < 1:
        raise ValueError(f"kernel must have 1-3 positive sizes, got {k}")
    out = [k]
    for name, default in (("stride", 1), ("dilate", 1), ("pad", 0)):
        value = tuple(attrs[name]) or (default,) * len(k)
        if len(value) != len(k) or min(value) < (0 if name == "pad" else 1):
            raise ValueError(f"{name} {value} must have one {'non-negative' if name == 'pad' else 'positive'} "
                             f"value per kernel dimension {k}")
        out.append(value)
    return out


def _out_spatial(attrs, spatial):
    k, s, d, p = _window(attrs)
    if len(spatial) != len(k):
        raise ValueError(f"kernel {k} needs {len(k)} spatial dimensions, the image has {tuple(spatial)}")
    out = tuple((n + 2 * pp - (dd * (kk - 1) + 1)) // ss + 1 for n, kk, ss, dd, pp in zip(spatial, k, s, d, p))
    if min(out) < 1:
        raise ValueError(f"the dilated kernel {k} (dilate {d}) exceeds the padded image {tuple(spatial)} (pad {p})")
    return out


def _col_shape(attrs, image):
    return (image[0], image[1] * math.prod(attrs["kernel"]), math.prod(_out_spatial(attrs, image[2:])))


def _im2col_infer(attrs, shapes):
    data = shapes[0]
    if data is None:
        return shapes, [None]
    if len(data) < 3:
        raise ValueError(f"data must be (N, C, *spatial), got shape {tuple(data)}")
    return shapes, [_col_shape(attrs, tuple(data))]


def _col2im_image(attrs, col):
    size = tuple(attrs["output_size"])
    if len(size) != len(attrs["kernel"]):
        raise ValueError(f"output_size {size} must have one size per kernel dimension {tuple(attrs['kernel'])}")
    kvol = math.prod(attrs["kernel"])
    if len(col) != 3 or col[1] % kvol:
        raise ValueError(f"data must be (N, C * {kvol}, L) for kernel {tuple(attrs['kernel'])}, got shape {tuple(col)}")
    image = (col[0], col[1] // kvol) + size
    if _col_shape(attrs, image)[2] != col[2]:
        raise ValueError(f"data of shape {tuple(col)} has {col[2]} columns, but output_size {size} gives "
                         f"{_col_shape(attrs, image)[2]}")
    return image


def _col2im_infer(attrs, shapes):
    col = shapes[0]
    return shapes, [None if col is None else _col2im_image(attrs, tuple(col))]


def _run(which):
    def body(device, attrs, inputs, outputs, reqs):
        image = inputs[0] if which == "im2col" else outputs[0]
        k, s, d, p = _window(attrs)
        kernel("im2col", which, device)(inputs[0], outputs[0], reqs[0], k, s, p, d,
                                        _out_spatial(attrs, image.shape[2:]))
    return kernel_compute(body, (True,))


def _keys(attrs):
    return {k: attrs[k] for k in ("kernel", "stride", "dilate", "pad")}


registry.register(OpDef(
    "im2col", params=_WINDOW, infer_shape=_im2col_infer, infer_type=float_type, compute=_run("im2col"),
    gradient=lambda F, attrs, inputs, outputs, ograds: [
        F.col2im(ograds[0], output_size=inputs[0].shape[2:], **_keys(attrs))],
    grad_reads=((), ()),
    doc="The sliding windows of each image as columns: data (N, C, *spatial) -> (N, C * prod(kernel), L), row "
        "c * prod(kernel) + tap, column the window's position among the L output positions."))
registry.register(OpDef(
    "col2im", params=(Param("output_size", "shape", doc="spatial size of the image: (w,), (h, w) or (d, h, w)"),)
    + _WINDOW, infer_shape=_col2im_infer, infer_type=float_type, compute=_run("col2im"),
    gradient=lambda F, attrs, inputs, outputs, ograds: [F.im2col(ograds[0], **_keys(attrs))],
    grad_reads=((), ()),
    doc="The transpose of im2col: columns (N, C * prod(kernel), L) summed back into images "
        "(N, C, *output_size), overlapping windows adding up."))
