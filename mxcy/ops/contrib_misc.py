"""contrib operators of MXNet 1.9.1 with no larger family: gradientmultiplier and the exposed backward ops
(backward_gradientmultiplier, backward_quadratic, backward_index_copy), the interleaved attention matmuls
GluonNLP uses (interleaved_matmul_selfatt_qk / _valatt, interleaved_matmul_encdec_qk / _valatt), index_array,
AdaptiveAvgPooling2D, count_sketch, fft / ifft, hawkesll (+ its exposed backward_hawkesll), and the candidate
sampler behind contrib.rand_zipfian's users, _sample_unique_zipfian.

index_array, AdaptiveAvgPooling2D, count_sketch and hawkesll run on Numba kernels (kernels/index_array.py,
adaptive_pool.py, count_sketch.py, hawkes.py; CPU and CUDA; hawkesll's marks checked on the host); the attention
matmuls on NumPy's BLAS on the CPU and on kernels/attention_gpu.py's tiled GEMMs on a GPU; gradientmultiplier and the
gradientmultiplier and quadratic backward ops on NumPy on the CPU and the element-wise CUDA kernels on a GPU; fft
and ifft on NumPy's FFT on the CPU (MXNet 1.9.1 has them on the GPU only, on cuFFT) and on direct sums on a GPU
(kernels/fft_gpu.py); backward_index_copy on index_copy's CPU compute and, on a GPU, on its row kernels
(ops/_misc_gpu.py). CPU only: _sample_unique_zipfian (NumPy's Philox keyed by the op call, the image ops' generator;
MXNet has no GPU kernel for it either).
"""
import math

import numpy as np

from . import _gpu, _misc_gpu, registry
from ._helpers import results_compute
from ._nn_common import fill, float_type, host, kernel, kernel_compute, kernels, on_device_of, scratch, widening
from .registry import OpDef, Param
from ..kernels.common import REQ_ADD, REQ_NULL, REQ_WRITE

__all__ = []


def _register(name, compute, infer_shape, gradient=None, gpu=None, **kw):
    """An op computed by NumPy on the CPU (compute(attrs, *inputs) -> results) and by `gpu`, when given, on a GPU."""
    computes = {"cpu": results_compute(compute)}
    if gpu is not None:
        computes["gpu"] = gpu
    registry.register(OpDef(name, compute=computes, infer_shape=infer_shape, gradient=gradient, **kw))


def _same_shape(attrs, shapes):
    return shapes, [tuple(shapes[0])]


# --- gradientmultiplier --------------------------------------------------------------------------

def _times_scalar_grad(F, attrs, inputs, outputs, ograds):
    return [F._contrib_backward_gradientmultiplier(ograds[0], scalar=attrs["scalar"])]


_SCALAR_PARAMS = (Param("scalar", "float", 1.0, "the factor lambda the gradient is multiplied by"),
                  Param("is_int", "bool", True, "whether the scalar is an integer (MXNet's numpy flag; unused)"))
_register("_contrib_gradientmultiplier", lambda attrs, x: x, _same_shape, _times_scalar_grad, params=_SCALAR_PARAMS,
          gpu=_gpu.copy, elementwise=True, grad_reads=((), ()),
          doc="Identity in the forward pass; the backward pass multiplies the gradient by `scalar`.")
_register("_contrib_backward_gradientmultiplier", lambda attrs, x: x * attrs["scalar"], _same_shape,
          _times_scalar_grad, params=_SCALAR_PARAMS, gpu=_gpu.scalar("mul", False), elementwise=True,
          grad_reads=((), ()),
          doc="data times `scalar`: the gradient of contrib.gradientmultiplier.")


# --- backward ops MXNet exposes in mx.nd.contrib --------------------------------------------------

def _backward_quadratic(attrs, ograd, data):
    """The forward op's own gradient rule, evaluated on NumPy arrays (it is arithmetic only)."""
    return registry.get("_contrib_quadratic").gradient(np, attrs, [data], [None], [ograd])[0]


def _backward_quadratic_gpu(attrs, inputs, outputs, reqs):
    """ograd * (2 a data + b) on the element-wise CUDA kernels."""
    ograd, data = inputs
    k = kernels("elemwise_gpu")
    slope = scratch(data, data.dtype)
    k.scalar_gpu("mul", data, 2 * attrs["a"], slope, False, REQ_WRITE)
    k.scalar_gpu("add", slope, attrs["b"], slope, False, REQ_WRITE)
    k.binary_gpu("mul", ograd, slope, outputs[0], reqs[0])


def _backward_quadratic_grad(F, attrs, inputs, outputs, ograds):
    ograd, data = inputs
    return [ograds[0] * (2 * attrs["a"] * data + attrs["b"]), ograds[0] * ograd * (2 * attrs["a"])]


def _pair_of_equal_shapes(attrs, shapes):
    ograd, data = (tuple(s) for s in shapes)
    if ograd != data:
        raise ValueError(f"ograd {ograd} and data {data} must have the same shape")
    return shapes, [data]


_register("_contrib_backward_quadratic", _backward_quadratic, _pair_of_equal_shapes, _backward_quadratic_grad,
          gpu=widening(_backward_quadratic_gpu), arguments=("ograd", "data"),
          params=tuple(Param(k, "float", 0.0, f"coefficient {k} of a x^2 + b x + c") for k in "abc"),
          doc="ograd * (2 a data + b): the gradient of contrib.quadratic.")


def _backward_index_copy_shape(attrs, shapes):
    ograd, old, index, new = shapes
    ins, outs = registry.get("_contrib_index_copy").infer_shape(attrs, [old, index, new])
    if tuple(ograd) != tuple(outs[0]):
        raise ValueError(f"ograd {tuple(ograd)} must have old_tensor's shape {tuple(outs[0])}")
    return [ograd] + list(ins), [tuple(old), tuple(index), tuple(new)]


def _backward_index_copy(attrs, ograd, old, index, new):
    """Gradients of (old_tensor, index_vector, new_tensor): the forward's copy with the copied rows zeroed,
    zeros (indices are not differentiable), and the copied rows."""
    forward = registry.get("_contrib_index_copy").compute["cpu"]
    grad_old = np.empty_like(ograd)
    forward(attrs, [ograd, index, np.zeros_like(new)], [grad_old], [1])
    return grad_old, np.zeros(index.shape, index.dtype), ograd[index.astype(np.int64)]


def _backward_index_copy_type(attrs, types):
    ograd, old, index, new = types
    return types, [ograd, index, ograd]


def _backward_index_copy_grad(F, attrs, inputs, outputs, ograds):
    _, _, index, new = inputs
    return [F._contrib_index_copy(ograds[0], index, F.zeros_like(new)) + F._contrib_index_copy(
        F.zeros_like(ograds[0]), index, ograds[2]), None, None, None]


_register("_contrib_backward_index_copy", _backward_index_copy, _backward_index_copy_shape, _backward_index_copy_grad,
          gpu=_misc_gpu.backward_index_copy,
          arguments=("ograd", "old_tensor", "index_vector", "new_tensor"), num_outputs=3,
          infer_type=_backward_index_copy_type,
          doc="Gradients of contrib.index_copy's three inputs from the head gradient ograd.")


# --- interleaved attention matmuls ---------------------------------------------------------------
# MXNet's layout: an input of shape (seq, batch, heads * parts * head_dim) is (seq, batch * heads, parts,
# head_dim), part 0/1/2 being queries/keys/values (selfatt) or keys/values (encdec's keys_values); products
# run over the batch * heads "attention batches" and outputs put batch * heads first.

class _Part:
    """Which input a factor comes from, how many parts that input interleaves, and which part it is."""
    def __init__(self, arg, parts, index):
        self.arg, self.parts, self.index = arg, parts, index

    def head_dim(self, shape, heads, name="input"):
        width = shape[2]
        if heads < 1 or width % (heads * self.parts):
            raise ValueError(f"{name}'s last dimension {width} is not heads ({heads}) x {self.parts} x head_dim")
        return width // (heads * self.parts)

    def view(self, x, heads):
        seq, batch, _ = x.shape
        return x.reshape(seq, batch * heads, self.parts, self.head_dim(x.shape, heads))[:, :, self.index]

    def interleaved(self, x, heads):
        """(x as (seq, batch * heads, parts * head_dim), the part's column offset, head_dim): what the CUDA
        kernels read the part from, in place, on either device."""
        seq, batch, width = x.shape
        d = self.head_dim(x.shape, heads)
        return x.reshape(seq, batch * heads, width // heads), self.index * d, d

    def gradient(self, grad_part, shape, heads, into=None):
        """grad_part (seq, batch * heads, head_dim) placed in a gradient of the input's `shape`."""
        full = np.zeros(shape, grad_part.dtype) if into is None else into
        self.view(full, heads)[...] += grad_part
        return full


def _check_3d(names, shapes):
    for name, shape in zip(names, shapes):
        if len(shape) != 3:
            raise ValueError(f"{name} must be 3-D (seq_length, batch, embedding), got {tuple(shape)}")


def _scale(head_dim):
    return 1.0 / math.sqrt(head_dim)


def _qk_product(q, k, scale):
    """(seq_q, B, d), (seq_k, B, d) -> (B, seq_q, seq_k): scaled queries times keys."""
    return np.matmul(q.transpose(1, 0, 2) * scale, k.transpose(1, 2, 0))


def _qk_grads(g, q, k, scale):
    """Gradients of (q, k) for head gradient g (B, seq_q, seq_k), in the (seq, B, d) layout."""
    dq = np.matmul(g, k.transpose(1, 0, 2)) * scale
    dk = np.matmul(g.transpose(0, 2, 1), q.transpose(1, 0, 2)) * scale
    return dq.transpose(1, 0, 2), dk.transpose(1, 0, 2)


def _att_product(v, att):
    """(seq_k, B, d), (B, seq_q, seq_k) -> (seq_q, B, d): attention weights times values."""
    return np.matmul(att, v.transpose(1, 0, 2)).transpose(1, 0, 2)


def _att_grads(g, v, att):
    """Gradients of (v, att) for head gradient g (seq_q, B, d)."""
    gb = g.transpose(1, 0, 2)
    return np.matmul(att.transpose(0, 2, 1), gb).transpose(1, 0, 2), np.matmul(gb, v.transpose(1, 2, 0))


_HEADS = (Param("heads", "int", doc="number of attention heads"),)


def _register_qk(name, arguments, q_part, k_part):
    def shape_rule(attrs, shapes):
        _check_3d(arguments, shapes)
        q, k = tuple(shapes[q_part.arg]), tuple(shapes[k_part.arg])
        d_q = q_part.head_dim(q, attrs["heads"], arguments[q_part.arg])
        d_k = k_part.head_dim(k, attrs["heads"], arguments[k_part.arg])
        if d_q != d_k or q[1] != k[1]:
            raise ValueError(f"queries {q} and keys {k} need one batch size and head_dim for {attrs['heads']} heads")
        return shapes, [(q[1] * attrs["heads"], q[0], k[0])]

    def factors(attrs, inputs):
        q, k = q_part.view(inputs[q_part.arg], attrs["heads"]), k_part.view(inputs[k_part.arg], attrs["heads"])
        return q, k, _scale(q.shape[2])

    def forward(attrs, *inputs):
        return _qk_product(*factors(attrs, inputs))

    def backward(attrs, ograd, *inputs):
        q, k, scale = factors(attrs, inputs)
        dq, dk = _qk_grads(ograd, q, k, scale)
        grads = [None] * len(inputs)
        for part, d in ((q_part, dq), (k_part, dk)):
            grads[part.arg] = part.gradient(d, inputs[part.arg].shape, attrs["heads"], grads[part.arg])
        return tuple(grads)

    def forward_gpu(attrs, inputs, outputs, reqs):
        (q, q_off, d), (k, k_off, _) = (p.interleaved(inputs[p.arg], attrs["heads"]) for p in (q_part, k_part))
        _attention().scores_gpu(q, q_off, k, k_off, d, outputs[0], _scale(d), reqs[0])

    def backward_gpu(attrs, inputs, outputs, reqs):
        g, args = inputs[0], inputs[1:]
        (q, q_off, d), (k, k_off, _) = (p.interleaved(args[p.arg], attrs["heads"]) for p in (q_part, k_part))
        grads = _zeroed_gradients(outputs, reqs)
        if reqs[q_part.arg] != REQ_NULL:
            _attention().mix_gpu(g, k, k_off, d, q_part.interleaved(grads[q_part.arg], attrs["heads"])[0], q_off,
                                 _scale(d), REQ_ADD)
        if reqs[k_part.arg] != REQ_NULL:
            _attention().mix_t_gpu(g, q, q_off, d, k_part.interleaved(grads[k_part.arg], attrs["heads"])[0], k_off,
                                   _scale(d), REQ_ADD)

    _register_with_backward(name, arguments, shape_rule, forward, backward, forward_gpu, backward_gpu)


def _register_valatt(name, v_part):
    arguments = (("queries_keys_values" if v_part.parts == 3 else "keys_values"), "attention")

    def shape_rule(attrs, shapes):
        _check_3d(arguments, shapes)
        v, att = tuple(shapes[0]), tuple(shapes[1])
        d = v_part.head_dim(v, attrs["heads"], arguments[0])
        if att[0] != v[1] * attrs["heads"] or att[2] != v[0]:
            raise ValueError(f"attention {att} must be (batch * heads, seq_q, {v[0]}) = ({v[1] * attrs['heads']}, "
                             f"seq_q, {v[0]}) for {arguments[0]} {v} and {attrs['heads']} heads")
        return shapes, [(att[1], v[1], attrs["heads"] * d)]

    def forward(attrs, kv, att):
        out = _att_product(v_part.view(kv, attrs["heads"]), att)
        return out.reshape(att.shape[1], kv.shape[1], -1)

    def backward(attrs, ograd, kv, att):
        v = v_part.view(kv, attrs["heads"])
        dv, datt = _att_grads(ograd.reshape(att.shape[1], v.shape[1], -1), v, att)
        return v_part.gradient(dv, kv.shape, attrs["heads"]), datt

    def forward_gpu(attrs, inputs, outputs, reqs):
        (kv, att), out = inputs, outputs[0]
        v, v_off, d = v_part.interleaved(kv, attrs["heads"])
        _attention().mix_gpu(att, v, v_off, d, out.reshape(att.shape[1], att.shape[0], d), 0, 1.0, reqs[0])

    def backward_gpu(attrs, inputs, outputs, reqs):
        g, kv, att = inputs
        v, v_off, d = v_part.interleaved(kv, attrs["heads"])
        g = g.reshape(att.shape[1], att.shape[0], d)
        dkv = _zeroed_gradients(outputs[:1], reqs[:1])[0]
        if reqs[0] != REQ_NULL:
            _attention().mix_t_gpu(att, g, 0, d, v_part.interleaved(dkv, attrs["heads"])[0], v_off, 1.0, REQ_ADD)
        _attention().scores_gpu(g, 0, v, v_off, d, outputs[1], 1.0, reqs[1])

    _register_with_backward(name, arguments, shape_rule, forward, backward, forward_gpu, backward_gpu)


def _attention():
    return kernels("attention_gpu")


def _zeroed_gradients(outputs, reqs):
    """The gradient arrays, zeroed where they are written (not added to): the GPU backward adds each part's
    gradient into its columns, and a part without one (selfatt_qk's values) keeps zeros."""
    for out, req in zip(outputs, reqs):
        if req not in (REQ_NULL, REQ_ADD):
            fill(out, 0, REQ_WRITE)
    return outputs


def _register_with_backward(name, arguments, shape_rule, forward, backward, forward_gpu, backward_gpu):
    """The op and its hidden backward op (inputs: head gradient, then the op's inputs), which returns the
    gradient of every input at once. CPU: NumPy's batched matmuls; GPU: kernels/attention_gpu.py; float16 computes
    in float32 on both."""
    back = "_backward_" + name[len("_contrib_"):]  # MXNet's name: _backward_interleaved_matmul_...

    def gradient(F, attrs, inputs, outputs, ograds):
        grads = getattr(F, back)(ograds[0], *inputs, heads=attrs["heads"])
        return list(grads) if len(inputs) > 1 else [grads]

    def back_shape(attrs, shapes):
        ins, outs = shape_rule(attrs, shapes[1:])
        if tuple(shapes[0]) != tuple(outs[0]):
            raise ValueError(f"head gradient {tuple(shapes[0])} is not the output shape {outs[0]}")
        return shapes, [tuple(s) for s in shapes[1:]]

    registry.register(OpDef(
        name, compute=_widened(forward, forward_gpu), infer_shape=shape_rule, gradient=gradient, arguments=arguments,
        params=_HEADS, infer_type=float_type, grad_reads=(None, ()),
        doc=f"MXNet's contrib.{name[len('_contrib_'):]} attention product (float)."))
    registry.register(OpDef(
        back, compute=_widened(backward, backward_gpu), infer_shape=back_shape, arguments=("ograd",) + arguments,
        params=_HEADS, infer_type=float_type, num_outputs=len(arguments),
        doc=f"Gradients of every input of contrib.{name[len('_contrib_'):]}."))


def _widened(cpu_results, gpu_compute):
    """{"cpu", "gpu"} computes in float32 for float16 (`widening`): the CPU's results stored under their requests,
    the GPU's compute as it is."""
    return {"cpu": widening(results_compute(cpu_results)), "gpu": widening(gpu_compute)}


_register_qk("_contrib_interleaved_matmul_selfatt_qk", ("queries_keys_values",), _Part(0, 3, 0), _Part(0, 3, 1))
_register_qk("_contrib_interleaved_matmul_encdec_qk", ("queries", "keys_values"), _Part(0, 1, 0), _Part(1, 2, 0))
_register_valatt("_contrib_interleaved_matmul_selfatt_valatt", _Part(0, 3, 2))
_register_valatt("_contrib_interleaved_matmul_encdec_valatt", _Part(0, 2, 1))


# --- index_array ---------------------------------------------------------------------------------

def _index_axes(attrs, ndim):
    axes = tuple(range(ndim)) if attrs["axes"] is None else attrs["axes"]
    if any(not -ndim <= a < ndim for a in axes):
        raise ValueError(f"axes {axes} out of range for {ndim}-D data")
    return tuple(a % ndim for a in axes)


def _index_array_shape(attrs, shapes):
    shape = tuple(shapes[0])
    return shapes, [shape + (len(_index_axes(attrs, len(shape))),)]


def _index_array(device, attrs, inputs, outputs, reqs):
    """kernels/index_array.py on the data's shape, strides (in elements, C order) and the listed axes."""
    shape = np.array(inputs[0].shape, np.int64)
    strides = np.cumprod(np.concatenate([shape[1:], [1]])[::-1])[::-1].astype(np.int64)
    axes = np.array(_index_axes(attrs, len(shape)), np.int64)
    out = outputs[0]
    kernel("index_array", "index_array", device)(*(on_device_of(out, a) for a in (axes, strides, shape)), out,
                                                 reqs[0])


registry.register(OpDef(
    "_contrib_index_array", compute=kernel_compute(_index_array, n_aux=1), infer_shape=_index_array_shape,
    gradient=registry.zero_gradients, infer_type=lambda attrs, types: (types, np.dtype(np.int64)), grad_reads=((), ()),
    params=(Param("axes", "shape", None, "the axes whose indices to list (None: every axis; negative allowed)"),),
    doc="The (int64) index of every element along `axes`, in a new last dimension."))


# --- AdaptiveAvgPooling2D ------------------------------------------------------------------------

def _adaptive_out_size(attrs):
    size = attrs["output_size"] or (1,)
    if len(size) > 2 or any(s < 1 for s in size):
        raise ValueError(f"output_size {size} must be one or two positive sizes")
    return (size[0], size[-1])


def _adaptive_shape(attrs, shapes):
    data = tuple(shapes[0])
    if len(data) != 4:
        raise ValueError(f"data must be 4-D (batch, channel, height, width), got {data}")
    return shapes, [data[:2] + _adaptive_out_size(attrs)]


def _adaptive_pool(device, attrs, inputs, outputs, reqs):
    kernel("adaptive_pool", "fwd", device)(inputs[0], outputs[0], reqs[0])


def _adaptive_pool_backward(device, attrs, inputs, outputs, reqs):
    kernel("adaptive_pool", "bwd", device)(inputs[0], outputs[0], reqs[0])


def _adaptive_backward_shape(attrs, shapes):
    ins, outs = _adaptive_shape(attrs, shapes[1:])
    if tuple(shapes[0]) != outs[0]:
        raise ValueError(f"head gradient {tuple(shapes[0])} is not the output shape {outs[0]}")
    return shapes, [tuple(shapes[1])]


_OUTPUT_SIZE = (Param("output_size", "shape", (), "output (height, width), or one size for both; () gives 1 x 1"),)
registry.register(OpDef(
    "_contrib_AdaptiveAvgPooling2D", compute=kernel_compute(_adaptive_pool, (True,)), infer_shape=_adaptive_shape,
    gradient=lambda F, attrs, inputs, outputs, ograds: [F._backward_contrib_AdaptiveAvgPooling2D(
        ograds[0], inputs[0], **attrs)], params=_OUTPUT_SIZE, infer_type=float_type, grad_reads=((), ()),
    doc="Average pooling to a fixed output size: each output averages its adaptive bin of the input."))
registry.register(OpDef(
    "_backward_contrib_AdaptiveAvgPooling2D", compute=kernel_compute(_adaptive_pool_backward, (True,), n_aux=1),
    infer_shape=_adaptive_backward_shape,
    gradient=lambda F, attrs, inputs, outputs, ograds: [F._contrib_AdaptiveAvgPooling2D(ograds[0], **attrs), None],
    arguments=("ograd", "data"), params=_OUTPUT_SIZE, infer_type=float_type, grad_reads=((), ()),
    doc="Gradient of contrib.AdaptiveAvgPooling2D (data gives only the shape)."))


# --- count_sketch --------------------------------------------------------------------------------

def _count_sketch_shape(attrs, shapes):
    data, h, s = (tuple(x) for x in shapes)
    if len(data) not in (2, 4) or h != (1, data[-1]) or s != h:
        raise ValueError(f"needs data (N, d) or 4-D with last dimension d, and h, s of shape (1, d); got data {data}, "
                         f"h {h}, s {s}")
    if attrs["out_dim"] < 1:
        raise ValueError(f"out_dim {attrs['out_dim']} must be positive")
    return shapes, [data[:-1] + (attrs["out_dim"],)]


def _sketch_positions(attrs, h):
    positions = h.reshape(-1).astype(np.int64)
    if positions.size and (positions.min() < 0 or positions.max() >= attrs["out_dim"] or (positions != h.reshape(-1))
                           .any()):
        raise ValueError(f"h {h.tolist()} must hold integers in [0, out_dim={attrs['out_dim']})")
    return positions


def _count_sketch(device, attrs, inputs, outputs, reqs):
    """kernels/count_sketch.py, after h is checked on the host (it holds one position per input column)."""
    data, h, s = inputs
    positions = _sketch_positions(attrs, h if host(h) else h.copy_to_host())
    kernel("count_sketch", "sketch", device)(data, on_device_of(data, positions), s, outputs[0], reqs[0])


def _count_sketch_grad(F, attrs, inputs, outputs, ograds):
    _, h, s = inputs
    return [F.broadcast_mul(F.take(ograds[0], F.reshape(h, shape=(-1,)), axis=-1), F.reshape(s, shape=(-1,))),
            None, None]


registry.register(OpDef(
    "_contrib_count_sketch", compute=kernel_compute(_count_sketch), infer_shape=_count_sketch_shape,
    gradient=_count_sketch_grad, arguments=("data", "h", "s"), grad_reads=((1, 2), ()),
    params=(Param("out_dim", "int", doc="dimension of the sketch"),
            Param("processing_batch_size", "int", 32, "rows MXNet's GPU kernel handles at once (no effect "
                                                        "on the result)")),
    doc="Count sketch of the last dimension: out[..., h[j]] += data[..., j] * s[j]."))


# --- fft / ifft: complex numbers interleaved as (real, imaginary) pairs in the last dimension ----------------------

def _fft_shape(attrs, shapes):
    data = tuple(shapes[0])
    if len(data) < 1:
        raise ValueError("data must have at least one dimension")
    return shapes, [data[:-1] + (2 * data[-1],)]


def _ifft_shape(attrs, shapes):
    data = tuple(shapes[0])
    if len(data) < 1 or data[-1] % 2:
        raise ValueError(f"data {data} must end in an even number of (real, imaginary) values")
    return shapes, [data[:-1] + (data[-1] // 2,)]


def _fft(attrs, data):
    spectrum = np.fft.fft(data.astype(np.float64), axis=-1)
    return np.stack([spectrum.real, spectrum.imag], axis=-1).reshape(data.shape[:-1] + (-1,))


def _ifft(attrs, data):
    pairs = data.astype(np.float64).reshape(data.shape[:-1] + (-1, 2))
    # MXNet's ifft is cuFFT's unnormalised inverse: n times NumPy's.
    return (np.fft.ifft(pairs[..., 0] + 1j * pairs[..., 1], axis=-1) * pairs.shape[-2]).real


def _fft_gpu(name):
    """The GPU compute of fft or ifft: kernels/fft_gpu.py's direct sums (float16 in float32)."""
    def compute(attrs, inputs, outputs, reqs):
        getattr(kernels("fft_gpu"), f"{name}_gpu")(inputs[0], outputs[0], reqs[0])
    return widening(compute)


_COMPUTE_SIZE = (Param("compute_size", "int", 128, "transforms MXNet's GPU kernel runs at once (no effect on the "
                                                  "result)"),)
# Each is linear and the other's transpose: fft's gradient is ifft of the head gradient and the reverse.
_register("_contrib_fft", _fft, _fft_shape, lambda F, attrs, inputs, outputs, ograds: [F._contrib_ifft(ograds[0])],
          gpu=_fft_gpu("fft"), params=_COMPUTE_SIZE, infer_type=float_type, grad_reads=((), ()),
          doc="Unnormalised 1-D FFT of the last dimension of real data: (real, imaginary) pairs, twice as long.")
_register("_contrib_ifft", _ifft, _ifft_shape, lambda F, attrs, inputs, outputs, ograds: [F._contrib_fft(ograds[0])],
          gpu=_fft_gpu("ifft"), params=_COMPUTE_SIZE, infer_type=float_type, grad_reads=((), ()),
          doc="Real part of the unnormalised 1-D inverse FFT of (real, imaginary) pairs in the last dimension.")


# --- hawkesll ------------------------------------------------------------------------------------
# Per sample, the events (lags, marks) in order; each mark k is a Hawkes process with intensity
# lda_k + alpha_k beta_k s_k(t), s_k(t) = sum over earlier events of exp(-beta_k (t - t_i)) ("state"); the walk over
# them is kernels/hawkes.py.

_HAWKES_INPUTS = ("lda", "alpha", "beta", "state", "lags", "marks", "valid_length", "max_time")


def _hawkes_shape(attrs, shapes):
    lda, alpha, beta, state, lags, marks, valid_length, max_time = (tuple(s) for s in shapes)
    if len(lda) != 2 or len(lags) != 2:
        raise ValueError(f"lda {lda} must be (N, K) and lags {lags} (N, T)")
    (n, k), t = lda, lags[1]
    want = {"lda": (n, k), "alpha": (k,), "beta": (k,), "state": (n, k), "lags": (n, t), "marks": (n, t),
            "valid_length": (n,), "max_time": (n,)}
    for name, shape in zip(_HAWKES_INPUTS, shapes):
        if tuple(shape) != want[name]:
            raise ValueError(f"{name} has shape {tuple(shape)}, expected {want[name]} for lda {lda} and lags {lags}")
    return shapes, [(n,), (n, k)]


def _hawkes_type(attrs, types):
    floats = [t for i, t in enumerate(types) if i != 5]
    _, out = float_type(attrs, floats)
    if out is not None and types[5] is not None and np.dtype(types[5]).kind not in "iuf":
        raise ValueError(f"marks must hold integers, got {np.dtype(types[5]).name}")
    return types, [out, out]


def _check_events(lags, marks, valid_length, k):
    """Each sample's events checked on the host: valid_length an integer within the sequence, marks integers in
    [0, K) (the kernels trust them)."""
    marks, valid_length = (a if host(a) else a.copy_to_host() for a in (marks, valid_length))
    for row, count in zip(marks, valid_length):
        n = int(count)
        if n != count or not 0 <= n <= lags.shape[1]:
            raise ValueError(f"valid_length {count} must be an integer in [0, {lags.shape[1]}]")
        events = row[:n].astype(np.int64)
        if n and (events.min() < 0 or events.max() >= k or (events != row[:n]).any()):
            raise ValueError(f"marks {row[:n].tolist()} must be integers in [0, {k})")


def _hawkesll(device, attrs, inputs, outputs, reqs):
    """kernels/hawkes.py: one walk over each sample's events."""
    _check_events(inputs[4], inputs[5], inputs[6], inputs[0].shape[1])
    kernel("hawkes", "forward", device)(inputs, outputs[0], outputs[1], reqs)


def _backward_hawkesll(device, attrs, inputs, outputs, reqs):
    """Gradients of the log likelihood output only (MXNet's rule: the out_state head is ignored, and only lda,
    alpha and beta get gradients; the rest are zeros)."""
    ograd_ll, ins = inputs[0], inputs[2:]
    _check_events(ins[4], ins[5], ins[6], ins[0].shape[1])
    kernel("hawkes", "backward", device)(ins, ograd_ll, outputs[0], outputs[1], outputs[2], reqs[:3])
    for out, req in zip(outputs[3:], reqs[3:]):
        fill(out, 0, req)


def _backward_hawkes_shape(attrs, shapes):
    ins, outs = _hawkes_shape(attrs, shapes[2:])
    if tuple(shapes[0]) != outs[0] or tuple(shapes[1]) != outs[1]:
        raise ValueError(f"head gradients {tuple(shapes[0])}, {tuple(shapes[1])} are not the output shapes {outs}")
    return shapes, [tuple(s) for s in shapes[2:]]


def _hawkes_backward_type(attrs, types):
    _, (out, _) = _hawkes_type(attrs, types[2:])
    return types, [out, out, out, out, out, types[7], out, out]


def _hawkesll_grad(F, attrs, inputs, outputs, ograds):
    grads = F._contrib_backward_hawkesll(ograds[0], ograds[1], *inputs)
    return list(grads[:3]) + [None] * 5


registry.register(OpDef(
    "_contrib_hawkesll", compute=kernel_compute(_hawkesll), infer_shape=_hawkes_shape,
    infer_type=_hawkes_type, gradient=_hawkesll_grad, arguments=_HAWKES_INPUTS, num_outputs=2,
    output_names=("output", "out_state"),
    doc="Log likelihood of K univariate Hawkes processes per sample, and the processes' state at max_time."))
registry.register(OpDef(
    "_contrib_backward_hawkesll", compute=kernel_compute(_backward_hawkesll),
    infer_shape=_backward_hawkes_shape, infer_type=_hawkes_backward_type,
    arguments=("ograd", "ograd_state") + _HAWKES_INPUTS, num_outputs=8,
    doc="Gradients of contrib.hawkesll's inputs (lda, alpha, beta; the rest zero) from its head gradients."))


# --- _sample_unique_zipfian ----------------------------------------------------------------------

def _unique_zipfian_shape(attrs, shapes):
    shape = attrs["shape"]
    if len(shape) != 2 or shape[1] > attrs["range_max"] or attrs["range_max"] < 1:
        raise ValueError(f"shape {shape} must be (batch, num_sampled) with num_sampled <= range_max "
                         f"({attrs['range_max']})")
    return shapes, [shape, (shape[0],)]


def _unique_zipfian(attrs):
    """Per row, draw round(exp(u log(range_max))) - 1 for u uniform on [0, 1) until num_sampled distinct classes
    came up, in the order they first appear; num_tries counts every draw."""
    from .image import _rng  # the image ops' per-call generator; a top-level import would register image first
    (batch, wanted), log_range = attrs["shape"], math.log(attrs["range_max"])
    generator = _rng(attrs)
    samples, tries = np.zeros((batch, wanted), np.int64), np.zeros(batch, np.int64)
    for row in range(batch):
        seen = {}
        while len(seen) < wanted:
            for value in np.floor(np.exp(generator.random(2 * (wanted - len(seen)) + 8) * log_range) + 0.5) - 1:
                tries[row] += 1
                seen.setdefault(int(value), None)
                if len(seen) == wanted:
                    break
        samples[row] = list(seen)
    return samples, tries


registry.register(OpDef(
    "_sample_unique_zipfian", compute={"cpu": results_compute(_unique_zipfian)}, infer_shape=_unique_zipfian_shape,
    infer_type=lambda attrs, types: (types, [np.dtype(np.int64)] * 2), arguments=(), num_outputs=2, random=True,
    params=(Param("range_max", "int", doc="number of classes"),
            Param("shape", "shape", (), "(batch, num_sampled): distinct classes drawn per row")),
    doc="Distinct classes per row from the log-uniform (Zipfian) distribution over [0, range_max), and how many "
        "draws each row took."))
