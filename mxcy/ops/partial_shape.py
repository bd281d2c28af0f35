"""Partial shapes, as MXNet 1.x's graph inference keeps them: a tuple with UNKNOWN (-1) for each unknown
dimension, or None when even the rank is unknown; and ElemwiseShape, the rule of ops whose inputs and outputs
all share one shape, and batch_free, the partial rule of ops that pass their data's batch through. Users write
an unknown dimension as 0 and an unknown rank as () (symbol/infer.py converts both ways); with NumPy shape
semantics on (mx.util.set_np_shape) they write -1 and None, as here, and 0 is a zero-size dimension."""

__all__ = ["UNKNOWN", "is_known", "merge", "same_shape", "batch_free", "from_user", "to_user"]

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


def from_user(shape, np_shape=False):
    """A user's shape as a partial shape: MXNet 1.x writes an unknown dimension as 0 and an unknown rank as ();
    with NumPy shape semantics (`np_shape`) they are -1 and None, and 0 is a size."""
    if shape is None:
        return None
    shape = tuple(int(d) for d in shape)
    if np_shape:
        return tuple(UNKNOWN if d < 0 else d for d in shape)
    return tuple(UNKNOWN if d == 0 else d for d in shape) if shape else None


def to_user(shape, np_shape=False):
    """A partial shape as users see it (the inverse of from_user)."""
    if np_shape:
        return None if shape is None else tuple(int(d) for d in shape)
    return () if shape is None else tuple(max(int(d), 0) for d in shape)


def batch_free(rule):
    """A partial-shape rule made from the complete-shape `rule` of an op that only passes its data's batch (axis
    0) through, as BatchNorm and Pooling do. With the data known but for axis 0, `rule` runs on stand-in batches
    1 and 2, and the dimensions that differ between the two answers carry the batch: they stay unknown (nothing is
    learned when another input's batch contradicts a stand-in). Inputs other than the data reach `rule` complete
    or as None, as rules without partial_shapes see them; the outputs' shapes are not used (as in MXNet, a known
    output does not give these ops' data its batch)."""
    def partial(attrs, in_shapes, out_shapes=None):
        data, rest = in_shapes[0], [s if is_known(s) else None for s in in_shapes[1:]]
        if data is None or is_known(data):
            return rule(attrs, [data] + rest)
        if not is_known(data[1:]):
            return in_shapes, [None] * (len(out_shapes) if out_shapes else 1)
        try:
            ins1, outs1 = rule(attrs, [(1,) + tuple(data[1:])] + rest)
            ins2, outs2 = rule(attrs, [(2,) + tuple(data[1:])] + rest)
        except ValueError:  # another input's batch disagrees with a stand-in: wait for the data's own
            return in_shapes, [None] * (len(out_shapes) if out_shapes else 1)
        unknown = [None if a is None else tuple(x if x == y else UNKNOWN for x, y in zip(a, b))
                   for a, b in zip(list(ins1) + list(outs1), list(ins2) + list(outs2))]
        return unknown[:len(ins1)], unknown[len(ins1):]
    return partial
