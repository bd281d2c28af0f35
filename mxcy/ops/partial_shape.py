"""Partial shapes, as MXNet 1.x's graph inference keeps them: a tuple with UNKNOWN (-1) for each unknown
dimension, or None when even the rank is unknown; and ElemwiseShape, the rule of ops whose inputs and outputs
all share one shape. Users write an unknown dimension as 0 (symbol/infer.py converts both ways)."""

__all__ = ["UNKNOWN", "is_known", "merge", "same_shape", "from_user", "to_user"]

UNKNOWN = -1


def is_known(shape):
    """Every dimension of `shape` is known."""
    return shape is not None and all(d >= 0 for d in shape)


def merge(a, b, what="shapes"):
    """The one shape both partial shapes describe; a ValueError naming `what` when they contradict each other."""
    if a is None or b is None:
        other = b if a is None else a
        return None if other is None else tuple(int(d) for d in other)
    a, b = tuple(int(d) for d in a), tuple(int(d) for d in b)
    if len(a) != len(b) or any(x >= 0 and y >= 0 and x != y for x, y in zip(a, b)):
        raise ValueError(f"{what} {to_user(a)} and {to_user(b)} disagree")
    return tuple(x if x >= 0 else y for x, y in zip(a, b))


def same_shape(attrs, in_shapes, out_shapes=None):
    """MXNet's ElemwiseShape: every input and output has one shape, so what one knows the others learn."""
    common = None
    for shape in list(in_shapes) + list(out_shapes or ()):
        common = merge(common, shape, "input and output shapes")
    return [common] * len(in_shapes), [common] * (len(out_shapes) if out_shapes else 1)


def from_user(shape):
    """MXNet 1.x's user-facing partial shape (0 = unknown dim, () = unknown rank) as a partial shape."""
    shape = tuple(int(d) for d in shape)
    return tuple(UNKNOWN if d == 0 else d for d in shape) if shape else None


def to_user(shape):
    """A partial shape as MXNet 1.x shows it to users (the inverse of from_user)."""
    return () if shape is None else tuple(max(int(d), 0) for d in shape)
