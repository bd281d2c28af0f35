"""Spatial-transformer and region ops of MXNet 1.9.1 on the kernels in kernels/spatial.py: GridGenerator,
BilinearSampler, SpatialTransformer (the two chained), ROIPooling and Correlation, and _contrib_ROIAlign on
kernels/roi_align.py, each with a hidden backward op."""
from . import registry
from ._nn_common import float_type, kernel, kernel_compute, scratch
from .registry import OpDef, Param

# Kernels write every output; typed_call accumulates (req add) and drops (req null) through temporaries.
_WRITES_ONLY = (False,) * 2
_CUDNN_OFF = Param("cudnn_off", "bool", None, "accepted for compatibility; mxcy never uses cuDNN")


def _shape(s):
    return None if s is None else tuple(s)


def _positive_target(attrs):
    H, W = (tuple(attrs["target_shape"]) + (0, 0))[:2]
    if len(attrs["target_shape"]) != 2 or H <= 0 or W <= 0:
        raise ValueError(f"target_shape {tuple(attrs['target_shape'])} must be two positive sizes (H, W)")
    return H, W


def _check_theta(loc, name):
    if len(loc) != 2 or loc[1] != 6:
        raise ValueError(f"{name} of shape {loc} must be (batch, 6): an affine matrix per image")


# --- GridGenerator -------------------------------------------------------------------------------------------------

def _grid_infer(attrs, shapes):
    data = _shape(shapes[0])
    if attrs["transform_type"] == "affine":
        H, W = _positive_target(attrs)
        if data is None:
            return shapes, [None]
        _check_theta(data, "data")
        return shapes, [(data[0], 2, H, W)]
    if data is None:
        return shapes, [None]
    if len(data) != 4 or data[1] != 2:
        raise ValueError(f"data of shape {data} must be an optical flow (batch, 2, h, w) for transform_type='warp'")
    return shapes, [data]


def _grid_backward_infer(attrs, shapes):
    ograd = _shape(shapes[0])
    if ograd is None:
        return shapes, [None]
    if len(ograd) != 4 or ograd[1] != 2:
        raise ValueError(f"head gradient of shape {ograd} must be (batch, 2, h, w)")
    if attrs["transform_type"] == "affine":
        if ograd[2:] != _positive_target(attrs):
            raise ValueError(f"head gradient of shape {ograd} does not match target_shape "
                             f"{tuple(attrs['target_shape'])}")
        return shapes, [(ograd[0], 6)]
    return shapes, [ograd]


def _grid_geometry(attrs, grid_shape):
    return grid_shape[2], grid_shape[3], attrs["transform_type"] == "warp"


def _grid_forward(device, attrs, inputs, outputs, reqs):
    H, W, warp = _grid_geometry(attrs, outputs[0].shape)
    kernel("spatial", "grid", device)(inputs[0], outputs[0], H, W, warp, False)


def _grid_backward(device, attrs, inputs, outputs, reqs):
    H, W, warp = _grid_geometry(attrs, inputs[0].shape)
    kernel("spatial", "grid", device)(inputs[0], outputs[0], H, W, warp, True)


_GRID_PARAMS = (
    Param("transform_type", "str", doc="'affine': data is a (batch, 6) affine matrix per image; 'warp': data is an "
          "optical flow (batch, 2, h, w)", choices=("affine", "warp")),
    Param("target_shape", "shape", (0, 0), "the grid's (H, W); required for 'affine', ignored for 'warp'"),
)

registry.register(OpDef(
    "GridGenerator", params=_GRID_PARAMS, arguments=("data",), infer_shape=_grid_infer, infer_type=float_type,
    compute=kernel_compute(_grid_forward, _WRITES_ONLY), output_names=("output",), grad_reads=((), ()),
    gradient=lambda F, attrs, inputs, outputs, ograds: [F._backward_GridGenerator(ograds[0], **attrs)],
    doc="A sampling grid (batch, 2, H, W) of normalised (x, y) source positions in [-1, 1] for BilinearSampler. "
        "'affine': theta (batch, 6) = rows (a, b, tx), (c, d, ty) map each target pixel's normalised (x, y, 1); "
        "'warp': the pixel grid plus an optical flow (batch, 2, h, w) in pixels, normalised. As MXNet 1.9.1."))

registry.register(OpDef(
    "_backward_GridGenerator", params=_GRID_PARAMS, arguments=("ograd",), infer_shape=_grid_backward_infer,
    infer_type=float_type, compute=kernel_compute(_grid_backward, _WRITES_ONLY),
    doc="GridGenerator's gradient wrt its data from the head gradient (a linear map)."))


# --- BilinearSampler -------------------------------------------------------------------------------------------------

def _sampler_infer(attrs, shapes):
    data, grid = _shape(shapes[0]), _shape(shapes[1])
    if data is not None and len(data) != 4:
        raise ValueError(f"data of shape {data} must be 4-D (batch, channel, height, width)")
    if grid is not None and (len(grid) != 4 or grid[1] != 2 or grid[2] <= 0 or grid[3] <= 0):
        raise ValueError(f"grid of shape {grid} must be (batch, 2, h, w) with h, w > 0")
    if data is None or grid is None:
        return shapes, [None]
    if data[0] != grid[0]:
        raise ValueError(f"data {data} and grid {grid} must have the same batch size")
    return shapes, [data[:2] + grid[2:]]


def _sampler_backward_infer(attrs, shapes):
    ograd = _shape(shapes[0])
    ins, (out,) = _sampler_infer(attrs, shapes[1:])
    if out is not None and ograd is not None and ograd != out:
        raise ValueError(f"head gradient of shape {ograd} is not the output shape {out}")
    return [out if ograd is None else ograd] + list(ins), list(ins)


def _sampler_forward(device, attrs, inputs, outputs, reqs):
    kernel("spatial", "sampler_fwd", device)(inputs[0], inputs[1], outputs[0])


def _sampler_backward(device, attrs, inputs, outputs, reqs):
    kernel("spatial", "sampler_bwd", device)(*inputs, *outputs)


registry.register(OpDef(
    "BilinearSampler", params=(_CUDNN_OFF,), arguments=("data", "grid"), infer_shape=_sampler_infer,
    infer_type=float_type, compute=kernel_compute(_sampler_forward, _WRITES_ONLY), output_names=("output",),
    gradient=lambda F, attrs, inputs, outputs, ograds: list(F._backward_BilinearSampler(ograds[0], *inputs,
                                                                                       **attrs)),
    grad_reads=((0, 1), ()),
    doc="Samples data (batch, C, H, W) bilinearly at grid (batch, 2, h, w), normalised (x, y) in [-1, 1] (-1: the "
        "first pixel's centre, 1: the last's); pixels outside the image read 0. Output (batch, C, h, w), as "
        "MXNet 1.9.1."))

registry.register(OpDef(
    "_backward_BilinearSampler", params=(_CUDNN_OFF,), arguments=("ograd", "data", "grid"), num_outputs=2,
    infer_shape=_sampler_backward_infer, infer_type=float_type,
    compute=kernel_compute(_sampler_backward, _WRITES_ONLY),
    doc="BilinearSampler's gradients wrt data and grid from the head gradient, data and grid."))


# --- SpatialTransformer ----------------------------------------------------------------------------------------------

def _transformer_infer(attrs, shapes):
    H, W = _positive_target(attrs)
    data, loc = _shape(shapes[0]), _shape(shapes[1])
    if loc is not None:
        _check_theta(loc, "loc")
    if data is not None and len(data) != 4:
        raise ValueError(f"data of shape {data} must be 4-D (batch, channel, height, width)")
    if data is None:
        return shapes, [None]
    shapes = [data, (data[0], 6) if loc is None else loc]
    if shapes[1][0] != data[0]:
        raise ValueError(f"data {data} and loc {loc} must have the same batch size")
    return shapes, [data[:2] + (H, W)]


def _transformer_forward(device, attrs, inputs, outputs, reqs):
    data, loc = inputs
    H, W = attrs["target_shape"]
    grid = scratch(data, data.dtype, (data.shape[0], 2, H, W))
    kernel("spatial", "grid", device)(loc, grid, H, W, False, False)
    kernel("spatial", "sampler_fwd", device)(data, grid, outputs[0])


def _transformer_gradient(F, attrs, inputs, outputs, ograds):
    data, loc = inputs
    grid_attrs = {"transform_type": "affine", "target_shape": attrs["target_shape"]}
    grid = F.GridGenerator(loc, **grid_attrs)
    ddata, dgrid = F._backward_BilinearSampler(ograds[0], data, grid)
    return [ddata, F._backward_GridGenerator(dgrid, **grid_attrs)]


registry.register(OpDef(
    "SpatialTransformer", arguments=("data", "loc"), infer_shape=_transformer_infer, infer_type=float_type,
    params=(Param("target_shape", "shape", (0, 0), "the output's (H, W)"),
            Param("transform_type", "str", doc="the transformation; only 'affine', as in MXNet 1.9.1",
                  choices=("affine",)),
            Param("sampler_type", "str", doc="the sampler; only 'bilinear', as in MXNet 1.9.1", choices=("bilinear",)),
            _CUDNN_OFF),
    compute=kernel_compute(_transformer_forward, _WRITES_ONLY), output_names=("output",),
    gradient=_transformer_gradient, grad_reads=((0, 1), ()),
    doc="Spatial transformer network layer (Jaderberg et al., 2015): BilinearSampler(data, GridGenerator(loc, "
        "'affine', target_shape)), with loc (batch, 6) an affine matrix per image. Output (batch, C, H, W)."))


# --- ROIPooling ------------------------------------------------------------------------------------------------------

def _roi_check_params(attrs):
    pooled, scale = tuple(attrs["pooled_size"]), attrs["spatial_scale"]
    if len(pooled) != 2 or min(pooled) <= 0:
        raise ValueError(f"pooled_size {pooled} must be two positive sizes (h, w)")
    if not 0.0 <= scale <= 1.0:
        raise ValueError(f"spatial_scale {scale} must lie in [0, 1]")
    return pooled


def _roi_infer(attrs, shapes):
    pooled = _roi_check_params(attrs)
    data, rois = _shape(shapes[0]), _shape(shapes[1])
    if data is not None and len(data) != 4:
        raise ValueError(f"data of shape {data} must be 4-D (batch, channel, height, width)")
    if rois is not None and (len(rois) != 2 or rois[1] != 5):
        raise ValueError(f"rois of shape {rois} must be (num_rois, 5): (batch index, x1, y1, x2, y2) per row")
    if data is None or rois is None:
        return shapes, [None]
    return shapes, [(rois[0], data[1]) + pooled]


def _data_grad_infer(forward_infer):
    """Shape rule of a region op's backward, (ograd, data, rois) -> data's gradient, from the forward's rule."""
    def infer(attrs, shapes):
        ograd = _shape(shapes[0])
        ins, (out,) = forward_infer(attrs, shapes[1:])
        if out is not None and ograd is not None and ograd != out:
            raise ValueError(f"head gradient of shape {ograd} is not the output shape {out}")
        return [out if ograd is None else ograd] + list(ins), [ins[0]]
    return infer


def _register_region_op(name, params, infer, forward, backward, doc, backward_doc):
    """A region op (data, rois) -> output and its hidden backward _backward_<name without _contrib_>
    (ograd, data, rois) -> data's gradient; rois get a zero gradient, as in MXNet 1.9.1."""
    backward_name = "_backward_" + name.replace("_contrib_", "")

    def gradient(F, attrs, inputs, outputs, ograds):
        return [getattr(F, backward_name)(ograds[0], *inputs, **attrs), F.zeros_like(inputs[1])]

    registry.register(OpDef(
        name, params=params, arguments=("data", "rois"), infer_shape=infer, infer_type=float_type,
        compute=kernel_compute(forward, _WRITES_ONLY), output_names=("output",), grad_reads=((0, 1), ()),
        gradient=gradient, doc=doc))
    registry.register(OpDef(
        backward_name, params=params, arguments=("ograd", "data", "rois"), infer_shape=_data_grad_infer(infer),
        infer_type=float_type, compute=kernel_compute(backward, (False,)), doc=backward_doc))


def _roi_forward(device, attrs, inputs, outputs, reqs):
    kernel("spatial", "roi_fwd", device)(*inputs, outputs[0], attrs["pooled_size"], attrs["spatial_scale"])


def _roi_backward(device, attrs, inputs, outputs, reqs):
    kernel("spatial", "roi_bwd", device)(*inputs, outputs[0], attrs["pooled_size"], attrs["spatial_scale"])


_ROI_PARAMS = (
    Param("pooled_size", "shape", doc="the output's (h, w): bins per region"),
    Param("spatial_scale", "float", doc="feature-map size over image size (the reciprocal of the network's stride), "
          "in [0, 1]; roi coordinates are multiplied by it"),
)

_register_region_op(
    "ROIPooling", _ROI_PARAMS, _roi_infer, _roi_forward, _roi_backward,
    doc="Region-of-interest max pooling (Fast R-CNN): each row (batch index, x1, y1, x2, y2) of rois, scaled by "
        "spatial_scale and rounded, is cut into pooled_size bins whose maxima form the output (num_rois, C, h, w). "
        "Empty bins and rows with a batch index outside the data give 0; rois get a zero gradient. As MXNet 1.9.1.",
    backward_doc="ROIPooling's gradient wrt data: each bin's head gradient added at its maximum (recomputed from "
                 "data).")


# --- ROIAlign --------------------------------------------------------------------------------------------------------

def _align_infer(attrs, shapes):
    pooled = _roi_check_params(attrs)
    ins, (out,) = _roi_infer(attrs, shapes)
    if out is None or not attrs["position_sensitive"]:
        return ins, [out]
    bins = pooled[0] * pooled[1]
    if out[1] % bins:
        raise ValueError(f"data of shape {_shape(shapes[0])} must have a multiple of pooled_size {pooled}'s "
                         f"{bins} bins as channels when position_sensitive")
    return ins, [(out[0], out[1] // bins) + pooled]


def _align_params(attrs):
    return (attrs["pooled_size"], attrs["spatial_scale"], attrs["sample_ratio"], attrs["aligned"],
            attrs["position_sensitive"])


def _align_forward(device, attrs, inputs, outputs, reqs):
    kernel("roi_align", "fwd", device)(*inputs, outputs[0], *_align_params(attrs))


def _align_backward(device, attrs, inputs, outputs, reqs):
    ograd, _, rois = inputs  # data is an input for its shape only
    kernel("roi_align", "bwd", device)(ograd, rois, outputs[0], *_align_params(attrs))


_ALIGN_PARAMS = _ROI_PARAMS + (
    Param("sample_ratio", "int", -1, "sampling points per bin side; not positive: ceil(bin side in pixels)"),
    Param("position_sensitive", "bool", False, "R-FCN's position-sensitive pooling: bin (ph, pw) of output channel "
          "c reads input channel (c * h + ph) * w + pw, so data needs h * w times the output's channels"),
    Param("aligned", "bool", False, "Detectron2's continuous coordinates: shift the scaled roi by half a pixel "
          "and do not stretch regions smaller than a pixel"),
)

_register_region_op(
    "_contrib_ROIAlign", _ALIGN_PARAMS, _align_infer, _align_forward, _align_backward,
    doc="Region-of-interest align (Mask R-CNN): each row (batch index, x1, y1, x2, y2) of rois, scaled by "
        "spatial_scale without rounding, is cut into pooled_size bins, each the mean of bilinear samples on a "
        "regular grid inside it; output (num_rois, C, h, w). Rows with a batch index outside the data give 0 "
        "(all of the row, where MXNet 1.9.1 zeroes one element); rois get a zero gradient. As MXNet 1.9.1.",
    backward_doc="ROIAlign's gradient wrt data: each bin's head gradient spread over its samples' bilinear taps.")


# --- Correlation -----------------------------------------------------------------------------------------------------

_CORR_PARAMS = (
    Param("kernel_size", "int", 1, "side of the compared patches; odd"),
    Param("max_displacement", "int", 1, "largest displacement of data2's patch, in pixels"),
    Param("stride1", "int", 1, "stride of the patch centres in data1"),
    Param("stride2", "int", 1, "stride of the displacements in data2"),
    Param("pad_size", "int", 0, "zero padding on every side of both inputs"),
    Param("is_multiply", "bool", True, "compare by products (True) or absolute differences (False)"),
)


def _corr_params(attrs):
    return tuple(attrs[p.name] for p in _CORR_PARAMS)


def _corr_infer(attrs, shapes):
    k, md, s1, s2, pad, _ = _corr_params(attrs)
    if k < 1 or k % 2 == 0:
        raise ValueError(f"kernel_size {k} must be a positive odd number")
    if min(s1, s2) < 1 or min(md, pad) < 0:
        raise ValueError(f"stride1 {s1} and stride2 {s2} must be positive, max_displacement {md} and pad_size {pad} "
                         "not negative")
    one, two = _shape(shapes[0]), _shape(shapes[1])
    for name, s in (("data1", one), ("data2", two)):
        if s is not None and len(s) != 4:
            raise ValueError(f"{name} of shape {s} must be 4-D (batch, channel, height, width)")
    if one is None or two is None:
        known = one or two
        return ([known, known] if known else shapes), [None]
    if one != two:
        raise ValueError(f"data1 {one} and data2 {two} must have the same shape")
    border = md + (k - 1) // 2
    OH, OW = (-(-(size + 2 * pad - 2 * border) // s1) for size in one[2:])
    if OH < 1 or OW < 1:
        raise ValueError(f"the neighbourhood (max_displacement {md}) and kernel_size {k} do not fit in data {one} "
                         f"padded by {pad}")
    gw = 2 * (md // s2) + 1
    return shapes, [(one[0], gw * gw, OH, OW)]


def _corr_backward_infer(attrs, shapes):
    ograd = _shape(shapes[0])
    ins, (out,) = _corr_infer(attrs, shapes[1:])
    if out is not None and ograd is not None and ograd != out:
        raise ValueError(f"head gradient of shape {ograd} is not the output shape {out}")
    return [out if ograd is None else ograd] + list(ins), list(ins)


def _corr_forward(device, attrs, inputs, outputs, reqs):
    kernel("spatial", "corr_fwd", device)(*inputs, outputs[0], *_corr_params(attrs))


def _corr_backward(device, attrs, inputs, outputs, reqs):
    kernel("spatial", "corr_bwd", device)(*inputs, *outputs, *_corr_params(attrs))


registry.register(OpDef(
    "Correlation", params=_CORR_PARAMS, arguments=("data1", "data2"), infer_shape=_corr_infer,
    infer_type=float_type, compute=kernel_compute(_corr_forward, _WRITES_ONLY), output_names=("output",),
    grad_reads=((0, 1), ()),
    gradient=lambda F, attrs, inputs, outputs, ograds: list(F._backward_Correlation(ograds[0], *inputs, **attrs)),
    doc="FlowNet's correlation layer: output channel (dy, dx) of (batch, (2 * (max_displacement // stride2) + 1) ** "
        "2, h, w) is the mean over a kernel_size patch and the channels of data1 * data2 (is_multiply) or |data1 - "
        "data2|, data2's patch displaced by (dy, dx) * stride2; patches step by stride1 over the inputs padded by "
        "pad_size. As MXNet 1.9.1."))

registry.register(OpDef(
    "_backward_Correlation", params=_CORR_PARAMS, arguments=("ograd", "data1", "data2"), num_outputs=2,
    infer_shape=_corr_backward_infer, infer_type=float_type, compute=kernel_compute(_corr_backward, _WRITES_ONLY),
    doc="Correlation's gradients wrt data1 and data2 from the head gradient and both inputs."))
