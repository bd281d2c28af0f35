"""Reshape with MXNet's special shape codes, and Cast: the two ops NDArray methods rely on directly."""
import math

import numpy as np

from . import _gpu, registry
from ._helpers import store
from .partial_shape import UNKNOWN, is_known, merge, same_shape, to_user
from .registry import OpDef, Param

__all__ = ["infer_reshape"]


def infer_reshape(src, target, reverse=False):
    """The output shape of reshaping `src` to `target` written with MXNet's codes.

    0 copies a dimension, -1 is inferred, -2 copies all remaining dimensions, -3 merges two
    consecutive dimensions, -4 splits one dimension into the next two values (one may be -1).
    With `reverse`, codes are matched from the right. A partial `src` (ops/partial_shape.py) gives a partial
    result: the dimensions copied from unknown ones and the -1 code stay unknown.
    """
    src, target = tuple(src), tuple(target)
    if reverse:
        out = tuple(_codes(src[::-1], _reverse_split(target))[::-1])
    else:
        out = tuple(_codes(src, target))
    return _fill(src, out, target) if is_known(src) else out


def _reverse_split(target):
    """Reverse the codes, keeping each -4's two values in their original left-to-right order."""
    parts, i = [], 0
    while i < len(target):
        if target[i] == -4:
            parts.append((-4, target[i + 2], target[i + 1]))
            i += 3
        else:
            parts.append((target[i],))
            i += 1
    return tuple(v for part in reversed(parts) for v in part)


def _codes(src, target):
    out, i, j = [], 0, 0
    while j < len(target):
        code = target[j]
        if code > 0 or (code == -1):
            out.append(code)
            i += 1
        elif code == 0:
            if i >= len(src):
                raise ValueError(f"code 0 at position {j} has no input dimension to copy")
            out.append(src[i])
            i += 1
        elif code == -2:
            out.extend(src[i:])
            i = len(src)
        elif code == -3:
            if i + 1 >= len(src):
                raise ValueError(f"code -3 at position {j} needs two input dimensions")
            out.append(src[i] * src[i + 1] if src[i] >= 0 and src[i + 1] >= 0 else UNKNOWN)
            i += 2
        elif code == -4:
            if j + 2 >= len(target) or i >= len(src):
                raise ValueError("code -4 must be followed by two values and have an input dimension")
            d, a, b = src[i], target[j + 1], target[j + 2]
            if d >= 0:  # of an unknown dimension, a -1 part stays unknown
                if a == -1:
                    a = d // b if b else 0
                if b == -1:
                    b = d // a if a else 0
                if a * b != d:
                    raise ValueError(f"code -4 cannot split dimension {d} into {target[j + 1]} x {target[j + 2]}")
            out.extend((a, b))
            i += 1
            j += 2
        else:
            raise ValueError(f"invalid shape code {code}")
        j += 1
    return out


def _fill(src, out, target):
    size = math.prod(src)
    if out.count(-1) > 1:
        raise ValueError(f"more than one -1 in target shape {target}")
    if -1 in out:
        known = math.prod(d for d in out if d != -1)
        if known == 0 or size % known:
            raise ValueError(f"cannot infer -1 reshaping {src} to {target}")
        out = tuple(size // known if d == -1 else d for d in out)
    if math.prod(out) != size:
        raise ValueError(f"cannot reshape array of shape {src} into shape {target}")
    return out


def _reshape_infer(attrs, shapes, out_shapes=None):
    """On partial shapes: forward through the codes, and a known output gives back the input's one unknown
    dimension (MXNet's ReverseReshapeInferShape), as gluon's RNN layers need for weights of unknown input size."""
    src = shapes[0]
    if src is None:
        return shapes, [None]
    src = tuple(src)
    out = merge(infer_reshape(src, attrs["shape"], attrs["reverse"]), out_shapes[0] if out_shapes else None,
                "reshaped and output shapes")
    if src.count(UNKNOWN) == 1 and is_known(out):
        size, rest = math.prod(out), math.prod(d for d in src if d >= 0)
        if rest == 0 or size % rest:
            raise ValueError(f"cannot reshape {to_user(src)} into {out}: no size of the unknown dimension fits")
        src = tuple(size // rest if d < 0 else d for d in src)
    return [src], [out]


def _reshape_compute(attrs, inputs, outputs, reqs):
    store(outputs[0], inputs[0].reshape(outputs[0].shape), reqs[0])


registry.register(OpDef(
    "Reshape", aliases=("reshape",),
    params=(Param("shape", "shape", (), "target shape with MXNet's codes 0, -1, -2, -3, -4"),
            Param("reverse", "bool", False, "match special codes from right to left")),
    infer_shape=_reshape_infer, partial_shapes=True, compute={"cpu": _reshape_compute, "gpu": _gpu.copy},
    gradient=lambda F, attrs, inputs, outputs, ograds: [F.reshape_like(ograds[0], inputs[0])],
    grad_reads=((), ()), doc="Reshapes the input array, keeping its values in C order."))


def _cast_type(attrs, types):
    return types, np.dtype(attrs["dtype"])


def _cast_compute(attrs, inputs, outputs, reqs):
    store(outputs[0], inputs[0], reqs[0])


registry.register(OpDef(
    "Cast", aliases=("cast",), params=(Param("dtype", "dtype", "float32", "output type"),),
    infer_shape=same_shape, partial_shapes=True, infer_type=_cast_type,
    compute={"cpu": _cast_compute, "gpu": _gpu.copy},
    gradient=lambda F, attrs, inputs, outputs, ograds: [
        F.Cast(ograds[0], dtype=np.dtype(inputs[0].dtype).name)],
    doc="Casts all elements of the input to a new type."))
