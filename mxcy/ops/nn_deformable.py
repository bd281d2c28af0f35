"""MXNet's contrib deformable convolutions on the kernels in kernels/deformable.py: `_contrib_DeformableConvolution`
(v1: inputs data, offset, weight, bias) and `_contrib_ModulatedDeformableConvolution` (v2: data, offset, mask,
weight, bias), 2-D NCHW as in MXNet 1.9.1, each with a hidden backward op returning every input gradient."""
from . import registry
from ._nn_common import fill_shapes, float_type, kernel, kernel_compute
from .nn_conv import _conv_infer, _spd
from .registry import OpDef, Param


def _variant(modulated):
    """(data inputs before the weight, name) of v1 or v2."""
    return (("data", "offset", "mask") if modulated else ("data", "offset")), \
        ("ModulatedDeformableConvolution" if modulated else "DeformableConvolution")


def _arguments(modulated):
    leading = _variant(modulated)[0]
    return lambda attrs: list(leading) + (["weight"] if attrs["no_bias"] else ["weight", "bias"])


def _geometry(attrs):
    """(kernel, stride, pad, dilate) after checking the parameters alone; only 2-D kernels, as in MXNet 1.9.1."""
    if len(attrs["kernel"]) != 2:
        raise ValueError(f"kernel {attrs['kernel']} must have 2 dimensions (h, w): MXNet 1.9.1 implements only the "
                         "2-D deformable convolution")
    geometry = _spd(attrs)
    if attrs["num_deformable_group"] < 1:
        raise ValueError(f"num_deformable_group must be positive, got {attrs['num_deformable_group']}")
    return geometry


def _infer(modulated):
    def infer(attrs, shapes):
        _geometry(attrs)
        data = shapes[0]
        if data is None:
            return shapes, [None]
        data = tuple(data)
        # Convolution's rule checks data against the window and groups, and gives the output, weight and bias.
        conv_shapes, (out,) = _conv_infer(attrs, [data, None, None])
        N, C = data[:2]
        O, DG = attrs["num_filter"], attrs["num_deformable_group"]
        if C % DG:
            raise ValueError(f"the {C} channels of data {data} are not divisible by num_deformable_group {DG}")
        if modulated:
            if O % DG:
                raise ValueError(f"num_filter {O} is not divisible by num_deformable_group {DG}")
            step = attrs["im2col_step"]
            if N > step and N % step:
                raise ValueError(f"the batch {N} of data {data} is larger than im2col_step {step} and not "
                                 "divisible by it")
        K = attrs["kernel"][0] * attrs["kernel"][1]
        expected = [(N, 2 * K * DG) + out[2:]] + ([(N, K * DG) + out[2:]] if modulated else [])
        names = _variant(modulated)[0][1:] + ("weight", "bias")
        shapes = fill_shapes(shapes, names, expected + list(conv_shapes[1:]),
                             f"data {data} with kernel={attrs['kernel']}, stride={attrs['stride']}, "
                             f"pad={attrs['pad']}, dilate={attrs['dilate']}, num_filter={O}, "
                             f"num_group={attrs['num_group']}, num_deformable_group={DG}")
        return shapes, [out]
    return infer


def _backward_infer(modulated, forward_infer):
    """Inputs (ograd, data, offset[, mask], weight): the forward rule checks them; the head gradient must have the
    output's shape; the outputs are the gradients of every forward input."""
    def infer(attrs, shapes):
        ograd, inputs = shapes[0], list(shapes[1:])
        ins, outs = forward_infer(attrs, inputs + ([] if attrs["no_bias"] else [None]))
        if outs[0] is not None and ograd is not None and tuple(ograd) != tuple(outs[0]):
            raise ValueError(f"head gradient of shape {tuple(ograd)} is not the output shape {outs[0]}")
        return [outs[0] if ograd is None else ograd] + list(ins[:len(inputs)]), list(ins)
    return infer


def _kernel_args(attrs, modulated):
    kernel_, stride, pad, dilate = _geometry(attrs)
    return kernel_, stride, pad, dilate, attrs["num_group"], attrs["num_deformable_group"], int(modulated)


def _forward(modulated):
    def forward(device, attrs, inputs, outputs, reqs):
        n = 3 if modulated else 2
        data, offset, mask = inputs[0], inputs[1], inputs[2] if modulated else None
        weight, bias = inputs[n], None if attrs["no_bias"] else inputs[n + 1]
        kernel("deformable", "deformable_fwd", device)(data, offset, mask, weight, bias, outputs[0],
                                                       *_kernel_args(attrs, modulated))
    return forward


def _backward(modulated):
    def backward(device, attrs, inputs, outputs, reqs):
        dy, data, offset = inputs[:3]
        mask, weight = (inputs[3], inputs[4]) if modulated else (None, inputs[3])
        grads = list(outputs)
        dx, doff = grads[:2]
        dmask = grads[2] if modulated else None
        dw = grads[3 if modulated else 2]
        db = None if attrs["no_bias"] else grads[-1]
        kernel("deformable", "deformable_bwd", device)(dy, data, offset, mask, weight, dx, doff, dmask, dw, db,
                                                       *_kernel_args(attrs, modulated))
    return backward


def _params(modulated):
    params = (
        Param("kernel", "shape", doc="convolution kernel size (h, w)"),
        Param("stride", "shape", (), "stride (h, w); defaults to 1"),
        Param("dilate", "shape", (), "dilation (h, w); defaults to 1"),
        Param("pad", "shape", (), "zero padding (h, w); defaults to 0"),
        Param("num_filter", "int", doc="number of output channels"),
        Param("num_group", "int", 1, "number of groups: input and output channels are split into this many "
              "independent convolutions"),
        Param("num_deformable_group", "int", 1, "number of channel groups with offsets of their own"),
        Param("workspace", "int", 1024, "accepted for compatibility (MB of temporary workspace)"),
        Param("no_bias", "bool", False, "leave out the bias input"),
    )
    if modulated:
        params += (Param("im2col_step", "int", 64, "accepted for compatibility (images per im2col in MXNet); a "
                         "batch larger than it must be divisible by it, as in MXNet"),)
    return params + (Param("layout", "str", None, "data layout; only NCHW (the default) is implemented",
                           choices=(None, "NCW", "NCHW", "NCDHW")),)


# Kernels write every gradient; typed_call accumulates (req add) and drops (req null) through temporaries.
_WRITES_ONLY = (False,) * 5


def _register(modulated, doc):
    leading, name = _variant(modulated)
    op_name, back = "_contrib_" + name, "_backward_" + name
    params, infer = _params(modulated), _infer(modulated)

    def gradient(F, attrs, inputs, outputs, ograds):
        return list(getattr(F, back)(ograds[0], *inputs[:len(leading) + 1], **attrs))

    registry.register(OpDef(
        op_name, params=params, arguments=_arguments(modulated), infer_shape=infer, infer_type=float_type,
        compute=kernel_compute(_forward(modulated), _WRITES_ONLY), gradient=gradient, output_names=("output",),
        grad_reads=(None, ()), doc=doc))
    registry.register(OpDef(
        back, params=params, arguments=("ograd",) + leading + ("weight",),
        infer_shape=_backward_infer(modulated, infer), infer_type=float_type,
        compute=kernel_compute(_backward(modulated), _WRITES_ONLY),
        num_outputs=lambda attrs: len(leading) + (1 if attrs["no_bias"] else 2),
        doc=f"{name}'s gradients wrt every input from the head gradient, data, offset{', mask' if modulated else ''} "
            "and weight."))


_register(False, "Deformable convolution v1 (Dai et al., 2017): a 2-D convolution whose taps sample the data "
                 "bilinearly at learned offsets. offset (N, 2*kh*kw*num_deformable_group, out_h, out_w) holds (dh, "
                 "dw) per tap; positions outside [0, H) x [0, W) read 0, as in MXNet 1.9.1.")
_register(True, "Modulated deformable convolution v2 (Zhu et al., 2018): DeformableConvolution whose samples are "
                "scaled by mask (N, kh*kw*num_deformable_group, out_h, out_w); taps outside the image read 0 "
                "(positions within one pixel of it still blend their inside taps), as in MXNet 1.9.1.")
