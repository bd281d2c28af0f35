"""MXNet 1.9.1's contrib region ops for R-FCN-style detectors: PSROIPooling and DeformablePSROIPooling on
kernels/psroi.py (CPU and CUDA, each with a hidden backward op), and RROIAlign on kernels/rroi_align.py (CPU only and
not differentiable, as in MXNet 1.9.1)."""
from . import registry
from ..base import MXNetError
from ._nn_common import float_type, kernel, kernel_compute, scratch, widening
from .nn_spatial import _register_region_op
from .registry import OpDef, Param

_SCALE = Param("spatial_scale", "float", doc="feature-map size over image size (the reciprocal of the network's "
               "stride), in [0, 1]; roi coordinates are multiplied by it")


def _shape(s):
    return None if s is None else tuple(s)


def _check_scale(attrs, *names):
    for name in names:
        if not 0.0 <= attrs[name] <= 1.0:
            raise ValueError(f"{name} {attrs[name]} must lie in [0, 1]")


def _check_positive(attrs, *names):
    for name in names:
        if attrs[name] <= 0:
            raise ValueError(f"{name} must be positive, got {attrs[name]}")


def _region_inputs(shapes, roi_width, channels_needed):
    """(data, rois) shapes checked: data 4-D with at least `channels_needed` channels, rois (R, roi_width)."""
    data, rois = _shape(shapes[0]), _shape(shapes[1])
    if data is not None and (len(data) != 4 or data[1] < channels_needed):
        raise ValueError(f"data of shape {data} must be 4-D (batch, channel, height, width)" +
                         (f" with at least {channels_needed} channels (output_dim * group_size ** 2)"
                          if channels_needed else ""))
    if rois is not None and (len(rois) != 2 or rois[1] != roi_width):
        fields = "(batch index, x1, y1, x2, y2)" if roi_width == 5 else \
            "(batch index, centre x, centre y, width, height, angle)"
        raise ValueError(f"rois of shape {rois} must be (num_rois, {roi_width}): {fields} per row")
    return data, rois


# --- PSROIPooling -------------------------------------------------------------------------------------------------

def _ps_group(attrs):
    return attrs["group_size"] or attrs["pooled_size"]  # MXNet's 0: the pooled size


def _ps_infer(attrs, shapes):
    _check_scale(attrs, "spatial_scale")
    _check_positive(attrs, "output_dim", "pooled_size")
    D, P, G = attrs["output_dim"], attrs["pooled_size"], _ps_group(attrs)
    if G <= 0:
        raise ValueError(f"group_size must be positive (or 0: pooled_size), got {attrs['group_size']}")
    data, rois = _region_inputs(shapes, 5, D * G * G)
    if data is None or rois is None:
        return shapes, [None]
    return shapes, [(rois[0], D, P, P)]


def _ps_params(attrs):
    return attrs["output_dim"], attrs["pooled_size"], _ps_group(attrs), attrs["spatial_scale"]


def _ps_forward(device, attrs, inputs, outputs, reqs):
    kernel("psroi", "ps_fwd", device)(*inputs, outputs[0], *_ps_params(attrs))


def _ps_backward(device, attrs, inputs, outputs, reqs):
    ograd, _, rois = inputs  # data is an input for its shape only
    kernel("psroi", "ps_bwd", device)(ograd, rois, outputs[0], *_ps_params(attrs))


_register_region_op(
    "_contrib_PSROIPooling",
    (_SCALE, Param("output_dim", "int", doc="output channels"), Param("pooled_size", "int", doc="bins per side"),
     Param("group_size", "int", 0, "side of the grid of position-sensitive channel groups (0: pooled_size)")),
    _ps_infer, _ps_forward, _ps_backward,
    doc="Position-sensitive region-of-interest average pooling (R-FCN): each row (batch index, x1, y1, x2, y2) of "
        "rois, rounded and scaled by spatial_scale, is cut into pooled_size x pooled_size bins; bin (ph, pw) of "
        "output channel c is the mean of the whole pixels it covers in input channel (c * group_size + gh) * "
        "group_size + gw, (gh, gw) its cell of a group_size grid. Output (num_rois, output_dim, pooled_size, "
        "pooled_size); empty bins and rows with a batch index outside the data give 0; rois get a zero gradient. "
        "As MXNet 1.9.1.",
    backward_doc="PSROIPooling's gradient wrt data: each bin's head gradient spread evenly over its pixels.")
for _name in ("_contrib_PSROIPooling", "_backward_PSROIPooling"):
    registry.get(_name).module = __name__  # registered by nn_spatial's helper, but of this family


# --- DeformablePSROIPooling ---------------------------------------------------------------------------------------

def _deformable_inputs(attrs):
    return ("data", "rois") if attrs["no_trans"] else ("data", "rois", "trans")


def _part(attrs):
    return attrs["part_size"] or attrs["pooled_size"]  # MXNet's 0: the pooled size


def _deformable_infer(attrs, shapes):
    _check_scale(attrs, "spatial_scale", "trans_std")
    _check_positive(attrs, "output_dim", "group_size", "pooled_size", "sample_per_part")
    D, G, P, part = attrs["output_dim"], attrs["group_size"], attrs["pooled_size"], _part(attrs)
    if part <= 0:
        raise ValueError(f"part_size must be positive (or 0: pooled_size), got {attrs['part_size']}")
    data, rois = _region_inputs(shapes, 5, D * G * G)
    if not attrs["no_trans"]:
        trans = _shape(shapes[2])
        if trans is not None and (len(trans) != 4 or trans[1] % 2 or not trans[1] or D % (trans[1] // 2)
                                  or trans[2:] != (part, part) or (rois is not None and trans[0] != rois[0])):
            raise ValueError(f"trans of shape {trans} must be (num_rois{'' if rois is None else f' = {rois[0]}'}, "
                             f"2 * classes, part_size, part_size = {part}) with output_dim {D} a multiple of classes")
    if data is None or rois is None:
        return shapes, [None, None]
    return shapes, [(rois[0], D, P, P)] * 2


def _deformable_params(attrs):
    return (attrs["output_dim"], attrs["group_size"], attrs["pooled_size"], _part(attrs), attrs["sample_per_part"],
            attrs["spatial_scale"], attrs["trans_std"], attrs["no_trans"])


def _trans_or_stand_in(inputs, attrs):
    """The trans input, or without one (no_trans) a 1-element array the kernels never read."""
    return inputs[2] if not attrs["no_trans"] else scratch(inputs[1], inputs[1].dtype, (1,))


def _deformable_forward(device, attrs, inputs, outputs, reqs):
    kernel("psroi", "deformable_fwd", device)(inputs[0], inputs[1], _trans_or_stand_in(inputs, attrs), *outputs,
                                              *_deformable_params(attrs))


def _deformable_backward(device, attrs, inputs, outputs, reqs):
    ograd, data, rois = inputs[:3]
    trans = _trans_or_stand_in(inputs[1:], attrs)
    dtrans = outputs[1] if len(outputs) > 1 else scratch(data, data.dtype, (1,))  # only zeroed when no_trans
    kernel("psroi", "deformable_bwd", device)(ograd, data, rois, trans, outputs[0], dtrans,
                                              *_deformable_params(attrs))


def _deformable_gradient(F, attrs, inputs, outputs, ograds):
    grads = F._backward_DeformablePSROIPooling(ograds[0], *inputs, **attrs)
    grads = grads if isinstance(grads, (list, tuple)) else [grads]
    return [grads[0], F.zeros_like(inputs[1])] + list(grads[1:])


def _deformable_backward_infer(attrs, shapes):
    ograd = _shape(shapes[0])
    ins, outs = _deformable_infer(attrs, shapes[1:])
    if outs[0] is not None and ograd is not None and ograd != outs[0]:
        raise ValueError(f"head gradient of shape {ograd} is not the output shape {outs[0]}")
    return [outs[0] if ograd is None else ograd] + list(ins), [ins[0]] + list(ins[2:])


_DEFORMABLE_PARAMS = (
    _SCALE, Param("output_dim", "int", doc="output channels"),
    Param("group_size", "int", doc="side of the grid of position-sensitive channel groups"),
    Param("pooled_size", "int", doc="bins per side"),
    Param("part_size", "int", 0, "side of trans's grid of offsets (0: pooled_size)"),
    Param("sample_per_part", "int", 1, "bilinear samples per bin side"),
    Param("trans_std", "float", 0.0, "scale of trans's offsets, in [0, 1]"),
    Param("no_trans", "bool", False, "take no trans input: plain position-sensitive pooling by bilinear samples"),
)
registry.register(OpDef(
    "_contrib_DeformablePSROIPooling", params=_DEFORMABLE_PARAMS, arguments=_deformable_inputs, num_outputs=2,
    visible_outputs=1, output_names=("output", "top_count"), infer_shape=_deformable_infer, infer_type=float_type,
    compute=kernel_compute(_deformable_forward, (False, False)), gradient=_deformable_gradient,
    grad_reads=lambda attrs: ((0, 1) if attrs["no_trans"] else (0, 1, 2), ()),
    doc="Deformable position-sensitive region pooling (Deformable ConvNets): as PSROIPooling with rois shifted by "
        "half a pixel, each bin the mean of sample_per_part ** 2 bilinear samples (those more than half a pixel "
        "outside the map skipped), every bin moved by trans (num_rois, 2 * classes, part_size, part_size) times "
        "trans_std times the roi's size (output channels split evenly into classes). Outputs (num_rois, "
        "output_dim, pooled_size, pooled_size) and the hidden per-bin sample count top_count. Rows with a batch "
        "index outside the data give 0; rois get a zero gradient. As MXNet 1.9.1."))
registry.register(OpDef(
    "_backward_DeformablePSROIPooling", params=_DEFORMABLE_PARAMS,
    arguments=lambda attrs: ("ograd",) + _deformable_inputs(attrs),
    num_outputs=lambda attrs: 1 if attrs["no_trans"] else 2, infer_shape=_deformable_backward_infer,
    infer_type=float_type, compute=kernel_compute(_deformable_backward, (False, False)),
    doc="DeformablePSROIPooling's gradients wrt data (bilinear weights of each bin's samples) and, with trans, wrt "
        "trans (the samples' slopes times trans_std and the roi's size)."))


# --- RROIAlign ----------------------------------------------------------------------------------------------------

def _rroi_infer(attrs, shapes):
    _check_scale(attrs, "spatial_scale")
    pooled = tuple(attrs["pooled_size"])
    if len(pooled) != 2 or min(pooled) <= 0:
        raise ValueError(f"pooled_size {pooled} must be two positive sizes (h, w)")
    data, rois = _region_inputs(shapes, 6, 0)
    if data is None or rois is None:
        return shapes, [None]
    return shapes, [(rois[0], data[1]) + pooled]


def _rroi_forward(attrs, inputs, outputs, reqs):
    kernel("rroi_align", "fwd", "cpu")(*inputs, outputs[0], attrs["pooled_size"], attrs["spatial_scale"],
                                       attrs["sampling_ratio"])


def _rroi_not_differentiable(F, attrs, inputs, outputs, ograds):
    """Recorded so that a backward through the op fails naming it, as MXNet 1.9.1's does."""
    raise MXNetError("_contrib_RROIAlign is not differentiable: MXNet 1.9.1 registers no gradient for it")


registry.register(OpDef(
    "_contrib_RROIAlign", gradient=_rroi_not_differentiable, grad_reads=((), ()), arguments=("data", "rois"), output_names=("output",), infer_shape=_rroi_infer,
    infer_type=float_type, compute={"cpu": widening(_rroi_forward, (False,))},
    params=(Param("pooled_size", "shape", doc="the output's (h, w): bins per region"), _SCALE,
            Param("sampling_ratio", "int", -1, "sampling points per bin side; not positive: ceil(bin side in "
                                               "pixels)")),
    doc="Rotated region-of-interest align (text detection): each row (batch index, centre x, centre y, width, "
        "height, angle in degrees) of rois, scaled by spatial_scale (sides at least 1), is cut into pooled_size "
        "bins, each the mean of bilinear samples on a regular grid rotated with the region; output (num_rois, C, h, "
        "w). Rows with a batch index outside the data give 0. Not differentiable and CPU only, as in MXNet 1.9.1 "
        "(which registers no gradient and no GPU kernel for it)."))
