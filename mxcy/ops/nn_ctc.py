"""CTCLoss (ctc_loss, contrib.CTCLoss, contrib.ctc_loss): connectionist temporal classification loss on the
kernels of kernels/ctc.py. The gradient is computed by the forward pass into a hidden output, as MXNet's is."""

import numpy as np

from . import registry
from ._nn_common import check_float, host, kernel, kernel_compute, on_device_of
from .registry import OpDef, Param


def _arguments(attrs):
    return (("data", "label") + (("data_lengths",) if attrs["use_data_lengths"] else ())
            + (("label_lengths",) if attrs["use_label_lengths"] else ()))


def _infer_shape(attrs, shapes):
    data, label = shapes[0], shapes[1]
    if data is None:
        return shapes, [None, None]
    data = tuple(data)
    if len(data) != 3:
        raise ValueError(f"data must be 3-D (sequence_length, batch_size, alphabet_size), got shape {data}")
    steps, batch, _ = data
    if label is not None:
        label = tuple(label)
        if len(label) != 2 or label[0] != batch:
            raise ValueError(f"label of shape {label} does not match data of shape {data}: expected "
                             f"({batch}, label_sequence_length)")
        if label[1] > steps:
            raise ValueError(f"label_sequence_length {label[1]} (label shape {label}) exceeds the sequence length "
                             f"{steps} of data {data}")
    shapes = list(shapes)
    for i, name in enumerate(_arguments(attrs)[2:], start=2):
        if shapes[i] is None:
            shapes[i] = (batch,)
        elif tuple(shapes[i]) != (batch,):
            raise ValueError(f"{name} of shape {tuple(shapes[i])} does not match data of shape {data}: expected "
                             f"({batch},)")
    return shapes, [(batch,), data]


def _infer_type(attrs, types):
    data = types[0]
    check_float(data)
    if data is None:
        return types, [None, None]
    return [data] + [data if t is None else t for t in types[1:]], [data, data]


def _on_host(a):
    return a if host(a) else a.copy_to_host()


def _as_ints(values, name):
    """values truncated to int64 as MXNet converts them; NaN or infinite values are errors."""
    if values.dtype.kind == "f":
        if not np.isfinite(values).all():
            raise ValueError(f"{name} must be finite, got {values.tolist()}")
        values = np.trunc(values)
    return values.astype(np.int64)


def _lengths(given, name, limit, shape_text):
    """given (N,) lengths as int64, each in [0, limit]."""
    lengths = _as_ints(given, name)
    bad = np.flatnonzero((lengths < 0) | (lengths > limit))
    if bad.size:
        raise ValueError(f"{name} must lie in [0, {limit}] for {shape_text}; got {lengths.tolist()}")
    return lengths


def _labels(attrs, label, given_lengths, classes):
    """(labels (N, L) int64, label lengths (N,) int64): lengths given, or up to each row's first padding value
    (0 with blank_label 'first', -1 with 'last'). Every label in use must be a class; one equal to the blank is
    accepted and aligned as MXNet 1.9.1 aligns it (see kernels/ctc.py)."""
    labels = _as_ints(label, "label")
    width = labels.shape[1]
    if given_lengths is not None:
        lengths = _lengths(given_lengths, "label_lengths", width, f"label of shape {label.shape}")
    else:
        padding = labels == (0 if attrs["blank_label"] == "first" else -1)
        lengths = np.where(padding.any(axis=1), padding.argmax(axis=1), width).astype(np.int64)
    used = np.arange(width) < lengths[:, None]
    bad = np.argwhere(used & ((labels < 0) | (labels >= classes)))
    if bad.size:
        n, i = bad[0]
        raise ValueError(f"label[{n}, {i}] = {labels[n, i]} is not a class: alphabet_size {classes} takes labels in "
                         f"[0, {classes - 1}]")
    return labels, lengths


def _forward(device, attrs, inputs, outputs, reqs):
    # Labels and lengths are validated and packed on the host (MXNet copies them to the host too).
    data = inputs[0]
    steps, batch, classes = data.shape
    if classes == 0 and batch:
        raise ValueError(f"data of shape {tuple(data.shape)} has no classes (alphabet_size 0)")
    extra = iter(inputs[2:])
    data_lengths = _on_host(next(extra)) if attrs["use_data_lengths"] else None
    label_lengths = _on_host(next(extra)) if attrs["use_label_lengths"] else None
    labels, label_len = _labels(attrs, _on_host(inputs[1]), label_lengths, classes)
    data_len = (np.full(batch, steps, np.int64) if data_lengths is None else
                _lengths(data_lengths, "data_lengths", steps, f"data of shape {tuple(data.shape)}"))
    blank = 0 if attrs["blank_label"] == "first" else classes - 1
    kernel("ctc", "ctc", device)(data, *(on_device_of(data, a) for a in (labels, label_len, data_len)), blank,
                                 *outputs, *reqs)


def _gradient(F, attrs, inputs, outputs, ograds):
    # The forward pass saved d(cost)/d(data) per sequence; the head gradient scales each sequence's share.
    grad = F.broadcast_mul(outputs[1], F.Reshape(ograds[0], shape=(1, -1, 1)))
    return [grad] + [None] * (len(inputs) - 1)


registry.register(OpDef(
    "CTCLoss", aliases=("ctc_loss", "_contrib_CTCLoss", "_contrib_ctc_loss"),
    params=(Param("use_data_lengths", "bool", False, "take data_lengths (N,): the steps of each sequence"),
            Param("use_label_lengths", "bool", False, "take label_lengths (N,) instead of ending labels at the "
                  "first padding value (0 with blank_label 'first', -1 with 'last')"),
            Param("blank_label", "str", "first", "the blank class: 0 ('first') or alphabet_size - 1 ('last')",
                  choices=("first", "last"))),
    arguments=_arguments, infer_shape=_infer_shape, infer_type=_infer_type, compute=kernel_compute(_forward),
    gradient=_gradient, grad_reads=((), (1,)), num_outputs=2, visible_outputs=1,
    doc="Connectionist temporal classification loss: data (sequence_length, batch_size, alphabet_size) "
        "unnormalised activations, label (batch_size, label_sequence_length) class indices padded at the end; "
        "out (batch_size,) the negative log-likelihood of each label sequence. A sequence no alignment fits "
        "costs 0 with a zero gradient, as in MXNet. Labels equal to the blank are aligned as MXNet aligns them; "
        "the gradient is then MXNet's, which is not the derivative of the cost."))
