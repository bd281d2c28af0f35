"""npx's operators: MXNet 1.9.1's npx names for legacy operators (relu, softmax, convolution, ...), the same
registered ops and parameters, taking and giving mx.np arrays; plus save/load of mx.np arrays and nonzero."""
import numpy as _onp

from .. import ndarray as nd
from ..error import MXNetValueError
from ..numpy._op import nonzero
from ..numpy.multiarray import np_function, np_results
from ..util import _NumpyShapeWithin

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

__all__ = sorted([*_ALIASES, "save", "load", "nonzero", "constraint_check"])


def _alias(npx_name, legacy_path):
    legacy = nd
    for part in legacy_path.split("."):
        legacy = getattr(legacy, part)
    func = np_function(legacy)
    func.__name__ = func.__qualname__ = npx_name
    func.__doc__ = f"npx.{npx_name}: the {legacy_path} operator on mx.np arrays (its parameters).\n\n" + \
        (legacy.__doc__ or "")
    return func


globals().update({name: _alias(name, path) for name, path in _ALIASES.items()})


def save(file, arr):
    """Save an mx.np array, a list or a str-keyed dict of them to `file` (MXNet's format with NumPy shapes)."""
    with _NumpyShapeWithin():
        nd.save(file, arr)


def load(file):
    """The mx.np arrays (list or dict) that npx.save wrote to `file`."""
    with _NumpyShapeWithin():
        loaded = nd.load(file)
    if isinstance(loaded, dict):
        return {k: np_results(v) for k, v in loaded.items()}
    return np_results(loaded)


@np_function
def constraint_check(x, msg):
    """A true 0-d boolean array when every element of `x` is true; otherwise a ValueError carrying `msg`."""
    if not bool(_onp.all(x.asnumpy())):
        raise MXNetValueError(msg)
    return nd.ones((), ctx=x.context, dtype=_onp.bool_)

