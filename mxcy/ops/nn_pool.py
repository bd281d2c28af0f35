"""Spatial resampling operators: Pooling, UpSampling, BilinearResize2D (mx.nd.contrib) and the legacy Crop,
with the hidden backward ops their gradients call. Channel-first data (NCW, NCHW, NCDHW) only."""
import numpy as np

from . import registry
from ._gpu_layout import view_computes
from ._nn_common import check_float, fill, float_type, kernel, kernel_compute, kernels, scratch
from .partial_shape import batch_free
from .registry import OpDef, Param, first_type
from ..kernels.common import REQ_ADD, REQ_NULL, REQ_WRITE


# --- shared -------------------------------------------------------------------------------------

def _ones(like, shape):
    """Ones of `like`'s type on its device, filled there (no copy from the host)."""
    ones = scratch(like, like.dtype, shape)
    fill(ones, 1, REQ_WRITE)
    return ones


# --- Pooling ------------------------------------------------------------------------------------

_LAYOUTS = {1: "NCW", 2: "NCHW", 3: "NCDHW"}
_POOL_PARAMS = (
    Param("kernel", "shape", (), "pooling window: (x,), (y, x) or (d, y, x); ignored by global pooling"),
    Param("pool_type", "str", "max", "pooling to apply", choices=("max", "avg", "sum", "lp")),
    Param("global_pool", "bool", False, "pool each whole feature map into one value, ignoring kernel, "
          "stride and pad"),
    Param("cudnn_off", "bool", False, "accepted for compatibility; mxcy never uses cuDNN"),
    Param("pooling_convention", "str", "valid", "output size: valid floor((x+2p-k)/s)+1, full "
          "ceil((x+2p-k)/s)+1, same ceil(x/s) (1-D only)", choices=("valid", "full", "same")),
    Param("stride", "shape", (), "stride per spatial dimension; defaults to 1"),
    Param("pad", "shape", (), "zero padding per spatial dimension; defaults to 0"),
    Param("p_value", "int", None, "p of Lp pooling (1, 2 or 3), required for pool_type='lp'"),
    Param("count_include_pad", "bool", None, "avg pooling divides by the padded window size (None or "
          "True) or by the number of input elements in it (False)"),
    Param("layout", "str", None, "data layout; only the channel-first NCW, NCHW, NCDHW (the default)",
          choices=(None, "NCW", "NCHW", "NCDHW", "NWC", "NHWC", "NDHWC")),
)


def _pool_geom(attrs, shape):
    """(kernel, stride, pad, output spatial size) as 3-tuples for data of `shape`, after MXNet's checks."""
    P = kernels("pool")
    nd = len(shape) - 2
    if not 1 <= nd <= 3:
        raise ValueError(f"data must be 3-D (N, C, W), 4-D (N, C, H, W) or 5-D (N, C, D, H, W), got "
                         f"shape {shape}")
    layout = attrs["layout"]
    if layout is not None and layout != _LAYOUTS[nd]:
        why = "channel-last layouts are not supported" if layout.endswith("C") else \
            f"it is not the layout of {nd}-D pooling"
        raise ValueError(f"layout {layout} cannot pool data of shape {shape}: {why}; use {_LAYOUTS[nd]}")
    kernel, stride, pad = attrs["kernel"], attrs["stride"], attrs["pad"]
    for name, value in (("kernel", kernel), ("stride", stride)):
        if any(v < 1 for v in value):
            raise ValueError(f"{name} {value} must be positive in every dimension")
    convention = attrs["pooling_convention"]
    if convention == "same" and nd != 1:
        raise ValueError(f"pooling_convention 'same' supports only 1-D pooling (3-D data), got data of "
                         f"shape {shape}")
    if attrs["pool_type"] == "lp" and attrs["p_value"] not in (1, 2, 3):
        raise ValueError(f"pool_type 'lp' needs p_value 1, 2 or 3, got {attrs['p_value']}")
    spatial = shape[2:]
    if attrs["global_pool"]:
        return P.pool_geometry(spatial, (), (), (), P.VALID, global_pool=True)
    if not kernel:
        raise ValueError("kernel is required unless global_pool=True")
    if len(kernel) != nd:
        raise ValueError(f"kernel {kernel} has {len(kernel)} dimensions but data of shape {shape} has {nd} "
                         "spatial dimensions")
    stride, pad = stride or (1,) * nd, pad or (0,) * nd
    for name, value in (("stride", stride), ("pad", pad)):
        if len(value) < nd:
            raise ValueError(f"{name} {value} must have {nd} entries, one per dimension of kernel {kernel}")
    # MXNet 1.9.1 reads the leading entries and ignores the rest (its test_valid_max_pooling_pad_type_same)
    stride, pad = tuple(stride[:nd]), tuple(pad[:nd])
    if convention == "same" and any(pad):
        raise ValueError(f"pooling_convention 'same' takes no pad, got pad {pad}")
    for k, p, n in zip(kernel, pad, spatial):
        if not 0 <= p < k:
            # MXNet's CPU (oneDNN) check: with pad >= kernel a window could lie wholly in the padding
            raise ValueError(f"pad {pad} must be non-negative and smaller than kernel {kernel}")
        if k > n + 2 * p:
            raise ValueError(f"kernel {kernel} exceeds the input {spatial} padded by {pad}")
    return P.pool_geometry(spatial, kernel, stride, pad, P.CONVENTIONS[convention])


def _pool_outputs(attrs):
    """MXNet 1.9.1's oneDNN builds (the pip packages) give max pooling over a 1-3-D kernel a second, hidden
    'workspace' output; graphs they save count it, so Pooling here has it too (left unwritten: nothing
    reads it) to keep their JSON identical on a round trip."""
    return 2 if attrs["pool_type"] == "max" and 1 <= len(attrs["kernel"]) <= 3 else 1


def _pool_infer(attrs, shapes):
    n = _pool_outputs(attrs)
    if shapes[0] is None:
        return shapes, [None] * n
    out = _pool_geom(attrs, shapes[0])[3]
    return shapes, [tuple(shapes[0][:2]) + out[3 - (len(shapes[0]) - 2):]] * n


def _planes(a, spatial3):
    """The (N*C, D, H, W) view of a C-contiguous (N, C, *spatial) array the pooling kernels take."""
    return a.reshape((a.shape[0] * a.shape[1],) + tuple(spatial3))


def _pool_args(attrs, x_shape):
    """(input planes shape, output planes shape, kernel arguments after the arrays, before req)."""
    P = kernels("pool")
    k, s, p, out3 = _pool_geom(attrs, x_shape)
    in3 = (1,) * (5 - len(x_shape)) + tuple(x_shape[2:])
    cip = attrs["count_include_pad"] is not False
    return in3, out3, (k, s, p, P.POOL_TYPES[attrs["pool_type"]], cip, attrs["p_value"] or 1)


def _pool_forward(device, attrs, inputs, outputs, reqs):
    x = inputs[0]
    in3, out3, args = _pool_args(attrs, x.shape)
    kernel("pool", "pool_fwd", device)(_planes(x, in3), _planes(outputs[0], out3), *args, reqs[0])


def _pool_backward(device, attrs, inputs, outputs, reqs):
    dy, x, y = inputs
    in3, out3, args = _pool_args(attrs, x.shape)
    kernel("pool", "pool_bwd", device)(_planes(dy, out3), _planes(x, in3), _planes(y, out3), _planes(outputs[0], in3),
                                       *args, reqs[0])


def _pool_back_infer(attrs, shapes):
    dy, x, y = shapes
    if x is None:
        return shapes, [None]
    expected = _pool_infer(attrs, [x])[1][0]  # the visible output
    for name, shape in (("head gradient", dy), ("output", y)):
        if shape is not None and tuple(shape) != expected:
            raise ValueError(f"{name} of shape {shape} is not Pooling's output {expected} for data {x}")
    return shapes, [x]


registry.register(OpDef(
    "Pooling", params=_POOL_PARAMS, infer_shape=batch_free(_pool_infer), partial_shapes=True,
    infer_type=float_type,
    compute=kernel_compute(_pool_forward), num_outputs=_pool_outputs, visible_outputs=1,
    output_names=lambda attrs: ("output", "workspace")[:_pool_outputs(attrs)],
    gradient=lambda F, attrs, inputs, outputs, ograds: [
        F._backward_Pooling(ograds[0], inputs[0], outputs[0], **attrs)],
    doc="Performs max, average, sum or Lp pooling over 1-3 spatial dimensions of channel-first data."))
registry.register(OpDef(
    "_backward_Pooling", params=_POOL_PARAMS, arguments=("ograd", "data", "output"),
    infer_shape=_pool_back_infer, infer_type=float_type,
    compute=kernel_compute(_pool_backward),
    doc="Pooling's data gradient from the head gradient, the data and Pooling's output (max pooling "
        "routes each window's gradient to its first maximum)."))


# --- UpSampling ---------------------------------------------------------------------------------

_UP_PARAMS = (
    Param("scale", "int", doc="upsampling factor of height and width"),
    Param("num_filter", "int", 0, "bilinear only: the number of channels of data"),
    Param("sample_type", "str", doc="nearest (pixel repetition) or bilinear (a depthwise "
          "deconvolution with the weight input)", choices=("nearest", "bilinear")),
    Param("multi_input_mode", "str", "concat", "nearest with several inputs: concatenate them on the "
          "channel axis or sum them", choices=("concat", "sum")),
    Param("num_args", "int", doc="number of inputs (nearest); bilinear always takes data and weight"),
    Param("workspace", "int", 512, "accepted for compatibility (MB of deconvolution workspace)"),
)


def _up_args(attrs):
    if attrs["sample_type"] == "bilinear":
        return ["data", "weight"]
    return [f"arg{i}" for i in range(attrs["num_args"])]


def _bilinear_geom(scale):
    """MXNet's deconvolution for bilinear upsampling: (kernel, stride, pad), giving size x scale."""
    return 2 * scale - scale % 2, scale, -(-(scale - 1) // 2)


def _up_infer(attrs, shapes):
    scale = attrs["scale"]
    if scale < 1:
        raise ValueError(f"scale must be at least 1, got {scale}")
    names = _up_args(attrs)
    if len(shapes) != len(names):
        raise ValueError(f"{attrs['sample_type']} upsampling takes {len(names)} inputs ({', '.join(names)}), "
                         f"got {len(shapes)}")
    data = shapes[0]
    if data is None:
        return shapes, [None]
    if len(data) != 4:
        raise ValueError(f"input 0 must be 4-D (N, C, H, W), got shape {data}")
    oh, ow = data[2] * scale, data[3] * scale
    if attrs["sample_type"] == "bilinear":
        c = data[1]
        if attrs["num_filter"] != c:
            raise ValueError(f"bilinear upsampling needs num_filter equal to the {c} channels of data "
                             f"{data}, got num_filter={attrs['num_filter']}")
        k = _bilinear_geom(scale)[0]
        weight = (c, 1, k, k)
        if shapes[1] is not None and tuple(shapes[1]) != weight:
            raise ValueError(f"weight of shape {shapes[1]} does not fit data {data} at scale {scale}: "
                             f"expected {weight}")
        return [data, weight], [(data[0], c, oh, ow)]
    if any(s is None for s in shapes):
        return shapes, [None]
    channels = 0
    for i, s in enumerate(shapes):
        if len(s) != 4 or s[0] != data[0]:
            raise ValueError(f"input {i} of shape {s} must be 4-D with the batch size {data[0]} of input 0")
        if s[2] < 1 or s[3] < 1 or oh % s[2] or ow % s[3]:
            raise ValueError(f"input {i} of shape {s} does not divide the output size ({oh}, {ow}) "
                             f"(input 0 {data} times scale {scale})")
        if attrs["multi_input_mode"] == "sum":
            if s[1] != data[1]:
                raise ValueError(f"multi_input_mode 'sum' needs one channel count, got shapes {list(shapes)}")
            channels = s[1]
        else:
            channels += s[1]
    return shapes, [(data[0], channels, oh, ow)]


def _nearest_parts(attrs, xs, out_shape):
    """Per input: (its channel offset in the output, None when the inputs are summed or single, and its
    upsampling factors (fh, fw))."""
    concat = attrs["multi_input_mode"] == "concat" and len(xs) > 1
    lo = 0
    for x in xs:
        yield (lo if concat else None), (out_shape[2] // x.shape[2], out_shape[3] // x.shape[3])
        lo += x.shape[1]


def _image_pairs(x, big, lo):
    """(x, big) whole, or (x[n], big[n, lo:lo + C]) per image n when x is a channel slice of big: such
    slices are C-contiguous one image at a time, as the convolution kernels need."""
    if lo is None:
        return [(x, big)]
    c = x.shape[1]
    return [(x[n:n + 1], big[n:n + 1, lo:lo + c]) for n in range(x.shape[0])]


def _up_forward(device, attrs, inputs, outputs, reqs):
    # Both modes are depthwise deconvolutions: bilinear with its weight, nearest with a block of ones of
    # the input's factors as kernel and stride.
    out, req = outputs[0], reqs[0]
    if req == REQ_NULL:
        return
    deconv = kernel(f"conv_{device}", "conv_bwd_data", device)
    if attrs["sample_type"] == "bilinear":
        x, w = inputs
        _, s, p = _bilinear_geom(attrs["scale"])
        deconv(x, w, out, req, (s, s), (p, p), (1, 1), x.shape[1])
        return
    for i, (x, (lo, f)) in enumerate(zip(inputs, _nearest_parts(attrs, inputs, out.shape))):
        ones = _ones(x, (x.shape[1], 1) + f)
        r = req if lo is not None or i == 0 else REQ_ADD
        for xi, oi in _image_pairs(x, out, lo):
            deconv(xi, ones, oi, r, f, (0, 0), (1, 1), x.shape[1])


def _up_backward(device, attrs, inputs, outputs, reqs):
    conv = kernel(f"conv_{device}", "conv_fwd", device)
    deconv_weight = kernel(f"conv_{device}", "conv_bwd_weight", device)
    dy, xs = inputs[0], inputs[1:]
    if attrs["sample_type"] == "bilinear":
        x, w = xs
        _, s, p = _bilinear_geom(attrs["scale"])
        geom = ((s, s), (p, p), (1, 1), x.shape[1])
        conv(dy, w, None, outputs[0], reqs[0], *geom)
        deconv_weight(dy, x, outputs[1], reqs[1], *geom)
        return
    for x, dx, req, (lo, f) in zip(xs, outputs, reqs, _nearest_parts(attrs, xs, dy.shape)):
        ones = _ones(x, (x.shape[1], 1) + f)
        for dxi, dyi in _image_pairs(dx, dy, lo):
            conv(dyi, ones, None, dxi, req, f, (0, 0), (1, 1), x.shape[1])


def _up_back_infer(attrs, shapes):
    dy, xs = shapes[0], list(shapes[1:])
    xs, out = _up_infer(attrs, xs)
    if dy is not None and out[0] is not None and tuple(dy) != tuple(out[0]):
        raise ValueError(f"head gradient of shape {dy} is not UpSampling's output {out[0]}")
    return [dy] + list(xs), list(xs)


def _up_grad(F, attrs, inputs, outputs, ograds):
    grads = F._backward_UpSampling(ograds[0], *inputs, **attrs)
    return list(grads) if isinstance(grads, (list, tuple)) else [grads]


registry.register(OpDef(
    "UpSampling", params=_UP_PARAMS, arguments=_up_args, key_var_num_args="num_args",
    infer_shape=_up_infer, infer_type=float_type, output_names=("output",),
    compute=kernel_compute(_up_forward), gradient=_up_grad,
    input_var_attrs={"weight": {"__init__": '["bilinear", {}]'}},
    doc="Upsamples NCHW data by an integer scale: nearest (several inputs are brought to the first one's "
        "size x scale, then concatenated or summed) or bilinear (a depthwise deconvolution with weight)."))
registry.register(OpDef(
    "_backward_UpSampling", params=_UP_PARAMS, arguments=lambda attrs: ["ograd"] + _up_args(attrs),
    num_outputs=lambda attrs: len(_up_args(attrs)), infer_shape=_up_back_infer,
    infer_type=float_type,
    compute=kernel_compute(_up_backward),
    doc="UpSampling's input gradients from the head gradient and the inputs."))


# --- BilinearResize2D (contrib) -----------------------------------------------------------------

_RESIZE_PARAMS = (
    Param("height", "int", 1, "output height for mode 'size' without scale_height"),
    Param("width", "int", 1, "output width for mode 'size' without scale_height"),
    Param("scale_height", "float", None, "height factor (modes 'size' and 'odd_scale')"),
    Param("scale_width", "float", None, "width factor (modes 'size' and 'odd_scale')"),
    Param("mode", "str", "size", "how the output size is chosen: size, odd_scale, like (the second "
          "input's height and width), to_even_down, to_even_up, to_odd_down, to_odd_up",
          choices=("size", "odd_scale", "like", "to_even_down", "to_even_up", "to_odd_down", "to_odd_up")),
    Param("align_corners", "bool", True, "map corner pixel centres onto each other (else pixel areas)"),
)


def _resize_args(attrs):
    return ["data", "like"] if attrs["mode"] == "like" else ["data"]


def _scaled(n, factor):
    """int(n * factor) in float32, as MXNet's shape rule computes it."""
    return int(np.float32(n) * np.float32(factor))


def _resize_size(attrs, shape, like):
    """Output (height, width) for data of `shape` (MXNet 1.9.1's BilinearSampleOpInferShape)."""
    h, w = shape[2], shape[3]
    mode, sh, sw = attrs["mode"], attrs["scale_height"], attrs["scale_width"]
    if mode == "size":
        if sh is None:  # MXNet reads scale_width only when scale_height is given
            return attrs["height"], attrs["width"]
        if sw is None:
            raise ValueError("mode 'size' with scale_height needs scale_width too")
        return _scaled(h, sh), _scaled(w, sw)
    if mode == "odd_scale":
        if sh is None or sw is None:
            raise ValueError("mode 'odd_scale' needs scale_height and scale_width")
        return tuple(_scaled(n, f) if n % 2 == 0 else _scaled(n - 1, f) + 1 for n, f in ((h, sh), (w, sw)))
    if mode == "like":
        if len(like) != 4:
            raise ValueError(f"like must be 4-D (N, C, H, W), got shape {like}")
        return like[2], like[3]
    even, up = mode.startswith("to_even"), mode.endswith("up")
    return tuple(n if (n % 2 == 0) == even else n + 1 if up else n - 1 for n in (h, w))


def _resize_infer(attrs, shapes):
    names = _resize_args(attrs)
    if len(shapes) != len(names):
        raise ValueError(f"mode '{attrs['mode']}' takes inputs {names}, got {len(shapes)} arrays")
    data = shapes[0]
    if data is None or (attrs["mode"] == "like" and shapes[1] is None):
        return shapes, [None]
    if len(data) != 4:
        raise ValueError(f"data must be 4-D (N, C, H, W), got shape {data}")
    if min(attrs["height"], attrs["width"]) < 1:
        raise ValueError(f"height and width must be at least 1, got {attrs['height']}, {attrs['width']}")
    size = _resize_size(attrs, data, shapes[-1])
    if min(size) < 0:
        raise ValueError(f"mode '{attrs['mode']}' gives a negative output size {size} for data {data}")
    return shapes, [tuple(data[:2]) + tuple(size)]


def _image_planes(a):
    """The (N*C, H, W) view of NCHW `a`."""
    return a.reshape(a.shape[0] * a.shape[1], a.shape[2], a.shape[3])


def _resize_forward(device, attrs, inputs, outputs, reqs):
    kernel("resize", "resize_fwd", device)(_image_planes(inputs[0]), _image_planes(outputs[0]), attrs["align_corners"],
                                           reqs[0])


def _resize_backward(device, attrs, inputs, outputs, reqs):
    kernel("resize", "resize_bwd", device)(_image_planes(inputs[0]), _image_planes(outputs[0]), attrs["align_corners"],
                                           reqs[0])


def _resize_type(attrs, types):
    """Float data, whose type the output takes; `like` (mode='like') is read for its shape only, of any type."""
    check_float(types[0])
    return first_type(attrs, types)


def _resize_back_infer(attrs, shapes):
    dy, x = shapes
    if dy is not None and x is not None and (len(dy) != 4 or tuple(dy[:2]) != tuple(x[:2])):
        raise ValueError(f"head gradient of shape {dy} does not fit data {x}")
    return shapes, [x]


def _resize_grad(F, attrs, inputs, outputs, ograds):
    dx = F._backward_contrib_BilinearResize2D(ograds[0], inputs[0], **attrs)
    return [dx] + [F.zeros_like(like) for like in inputs[1:]]


registry.register(OpDef(
    "_contrib_BilinearResize2D", params=_RESIZE_PARAMS, arguments=_resize_args,
    signature_arguments=("data", "like"),
    infer_shape=_resize_infer, infer_type=_resize_type, output_names=("output",),
    compute=kernel_compute(_resize_forward), gradient=_resize_grad,
    doc="Resizes the height and width of NCHW data by bilinear interpolation."))
registry.register(OpDef(
    "_backward_contrib_BilinearResize2D", params=_RESIZE_PARAMS, arguments=("ograd", "data"),
    infer_shape=_resize_back_infer, infer_type=_resize_type,
    compute=kernel_compute(_resize_backward),
    doc="BilinearResize2D's data gradient: each head gradient scattered onto its four source pixels."))


# --- Crop (legacy) ------------------------------------------------------------------------------

def _crop_box(attrs, shapes):
    """(top, left, height, width) of the crop of data shapes[0] (MXNet's legacy Crop rules)."""
    if attrs["num_args"] not in (1, 2) or len(shapes) != attrs["num_args"]:
        raise ValueError(f"num_args must be 1 (data) or 2 (data, crop_like) and match the {len(shapes)} "
                         f"inputs, got num_args={attrs['num_args']}")
    data = shapes[0]
    if len(data) != 4:
        raise ValueError(f"data must be 4-D (N, C, H, W), got shape {data}")
    if len(shapes) == 2:
        if len(shapes[1]) != 4:
            raise ValueError(f"crop_like must be 4-D (N, C, H, W), got shape {shapes[1]}")
        h, w = shapes[1][2:]
    else:
        if len(attrs["h_w"]) != 2 or min(attrs["h_w"]) < 1:
            raise ValueError(f"h_w must be a positive (height, width) without crop_like, got {attrs['h_w']}")
        h, w = attrs["h_w"]
    if h > data[2] or w > data[3]:
        raise ValueError(f"crop size ({h}, {w}) exceeds the height and width of data {data}")
    if attrs["center_crop"]:
        return (data[2] - h) // 2, (data[3] - w) // 2, h, w
    offset = attrs["offset"]
    if len(offset) < 2 or min(offset[:2]) < 0 or offset[0] > data[2] - h or offset[1] > data[3] - w:
        raise ValueError(f"offset {offset} must be a non-negative (y, x) leaving the crop ({h}, {w}) "
                         f"inside data {data}")
    return offset[0], offset[1], h, w


def _crop_infer(attrs, shapes):
    if any(s is None for s in shapes):
        return shapes, [None]
    _, _, h, w = _crop_box(attrs, shapes)
    return shapes, [tuple(shapes[0][:2]) + (h, w)]


def _crop_view(attrs, data, *like):
    """The crop as a view of data (on the GPU, of a probe array of its shape: _gpu_layout.view_computes)."""
    y, x, h, w = _crop_box(attrs, [data.shape] + [a.shape for a in like])
    return data[:, :, y:y + h, x:x + w]


def _crop_grad(F, attrs, inputs, outputs, ograds):
    data = inputs[0].shape
    y, x, h, w = _crop_box(attrs, [a.shape for a in inputs])
    dx = F.Pad(ograds[0], mode="constant", constant_value=0,
               pad_width=(0, 0, 0, 0, y, data[2] - h - y, x, data[3] - w - x))
    return [dx] + [F.zeros_like(like) for like in inputs[1:]]


registry.register(OpDef(
    "Crop", arguments=lambda attrs: [f"arg{i}" for i in range(attrs["num_args"])],
    key_var_num_args="num_args", infer_shape=_crop_infer, infer_type=first_type,
    params=(Param("num_args", "int", doc="1 (data, cropped to h_w) or 2 (data, crop_like)"),
            Param("offset", "shape", (0, 0), "top-left corner (y, x) of the crop"),
            Param("h_w", "shape", (0, 0), "crop (height, width) when there is no crop_like"),
            Param("center_crop", "bool", False, "crop the centre, ignoring offset")),
    compute=view_computes(_crop_view), gradient=_crop_grad, output_names=("output",),
    doc="Crops the height and width of NCHW data to h_w or to crop_like's (deprecated; use slice)."))
