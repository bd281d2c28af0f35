"""npx's operators: MXNet 1.9.1's npx names for legacy operators (relu, softmax, convolution, ...), the same
registered ops and parameters, taking and giving mx.np arrays; npx.reshape's shape codes, nonzero,
constraint_check."""
import numpy as _onp

from .. import ndarray as nd
from ..base import MXNetError
from ..error import MXNetValueError
from ..numpy._op import _view, nonzero
from ..numpy.multiarray import np_function

# npx name -> the mx.nd function (in mx.nd or mx.nd.contrib) it runs.
_ALIASES = {
    "activation": "Activation", "batch_dot": "batch_dot", "batch_flatten": "Flatten", "batch_norm": "BatchNorm",
    "cast": "Cast", "convolution": "Convolution", "deconvolution": "Deconvolution", "dropout": "Dropout",
    "embedding": "Embedding", "erf": "erf", "erfinv": "erfinv", "fully_connected": "FullyConnected",
    "gamma": "gamma", "gammaln": "gammaln", "gather_nd": "gather_nd", "layer_norm": "LayerNorm",
    "leaky_relu": "LeakyReLU", "log_softmax": "log_softmax", "one_hot": "one_hot", "pick": "pick",
    "pooling": "Pooling", "relu": "relu", "reshape_like": "reshape_like", "rnn": "RNN",
    "roi_pooling": "ROIPooling", "sequence_mask": "SequenceMask", "shape_array": "shape_array",
    "sigmoid": "sigmoid", "slice": "slice", "smooth_l1": "smooth_l1", "softmax": "softmax", "topk": "topk",
    "arange_like": "contrib.arange_like", "multibox_detection": "contrib.MultiBoxDetection",
    "multibox_prior": "contrib.MultiBoxPrior", "multibox_target": "contrib.MultiBoxTarget",
}

__all__ = sorted([*_ALIASES, "reshape", "nonzero", "constraint_check"])


def np_alias(npx_name, legacy_path):
    """The mx.nd function at `legacy_path` (below mx.nd) as npx function `npx_name`: the same parameters, mx.np
    arrays in and out."""
    legacy = nd
    for part in legacy_path.split("."):
        legacy = getattr(legacy, part)
    func = np_function(legacy)
    func.__name__ = func.__qualname__ = npx_name
    func.__doc__ = f"npx.{npx_name}: the {legacy_path} operator on mx.np arrays (its parameters).\n\n" + \
        (legacy.__doc__ or "")
    return func


globals().update({name: np_alias(name, path) for name, path in _ALIASES.items()})


def _resolve_codes(source, codes):
    """The shape npx.reshape's `codes` give an array of shape `source`, left to right: -1 inferred, -2 copy a
    dimension, -3 drop a dimension of size one, -4 copy the rest, -5 merge two, -6 split one into the next two
    codes (one of which may be -1)."""
    shape, unknown, at, i = [], None, 0, 0

    def take():
        nonlocal at
        if at >= len(source):
            raise ValueError("not enough input dimensions for the codes")
        at += 1
        return source[at - 1]
    while i < len(codes):
        code = codes[i]
        if code == -1 or code >= 0:
            if code == -1:
                if unknown is not None:
                    raise ValueError("only one dimension can be inferred (-1)")
                unknown = len(shape)
            shape.append(code)
            at += 1
        elif code == -2:
            shape.append(take())
        elif code == -3:
            if take() != 1:
                raise ValueError("-3 may only skip a dimension of size 1")
        elif code == -4:
            shape.extend(source[at:])
            at = len(source)
        elif code == -5:
            shape.append(take() * take())
        elif code == -6:
            if i + 2 >= len(codes):
                raise ValueError("-6 must be followed by the two dimensions to split into")
            whole, (first, second) = take(), codes[i + 1:i + 3]
            if first == second == -1:
                raise ValueError("split dimensions cannot both be -1")
            first, second = (whole // second, second) if first == -1 else \
                (first, whole // first) if second == -1 else (first, second)
            if first * second != whole:
                raise ValueError(f"split dimensions {first}, {second} do not divide dimension {whole}")
            shape.extend((first, second))
            i += 2
        else:
            raise ValueError(f"dimension codes must be at least -6, got {code}")
        i += 1
    if unknown is not None:
        known = int(_onp.prod([d for k, d in enumerate(shape) if k != unknown], dtype=_onp.int64))
        total = int(_onp.prod(source, dtype=_onp.int64))
        if known == 0 or total % known:
            raise ValueError("the inferred dimension is not a whole number")
        shape[unknown] = total // known
    return tuple(shape)


@np_function
def reshape(a, newshape, reverse=False, order="C"):
    """`a` in the shape `newshape` spells with MXNet's codes (-1 .. -6, see _resolve_codes); `reverse` reads
    the codes and the input's dimensions from the right."""
    if order != "C":
        raise NotImplementedError(f"npx.reshape: only C order is supported, got {order!r}")
    codes = (int(newshape),) if isinstance(newshape, (int, _onp.integer)) else tuple(int(c) for c in newshape)
    try:
        shape = _resolve_codes(a.shape[::-1], codes[::-1])[::-1] if reverse else _resolve_codes(a.shape, codes)
        if int(_onp.prod(shape, dtype=_onp.int64)) != a.size:
            raise ValueError(f"the size {a.size} does not fit")
    except ValueError as err:
        raise MXNetError(f"npx.reshape: cannot reshape array of shape {a.shape} into {list(codes)}"
                         f"{' (reverse)' if reverse else ''}: {err}") from None
    return _view(a, shape)


@np_function
def constraint_check(x, msg):
    """A true 0-d boolean array when every element of `x` is true; otherwise a ValueError carrying `msg`."""
    if not bool(_onp.all(x.asnumpy())):
        raise MXNetValueError(msg)
    return nd.ones((), ctx=x.context, dtype=_onp.bool_)

