"""npx.random: MXNet 1.9.1's extra samplers over mx.np.random (bernoulli by probability or log-odds; uniform_n and
normal_n, whose batch_shape is put in front of the parameters' broadcast shape) and seed."""
import numpy as _onp

from .. import random as _random
from ..error import MXNetValueError
from ..ndarray.ndarray import NDArray
from ..numpy import random as _np_random
from ..numpy._op import _shape_tuple
from ..numpy._op import exp as _exp
from ..numpy.multiarray import binary, cast, into, np_function

__all__ = ["seed", "bernoulli", "uniform_n", "normal_n"]


def seed(seed, ctx="all"):  # noqa: A002 - MXNet's argument name
    """Seed the random number generators of `ctx` ('all': every device), as mx.random.seed."""
    _random.seed(seed, ctx)


@np_function
def bernoulli(prob=None, logit=None, size=None, dtype=None, ctx=None, out=None):
    """1 with probability `prob` (or sigmoid(`logit`)), else 0; float32 unless `dtype` says."""
    if (prob is None) == (logit is None):
        raise MXNetValueError(f"Either `prob` or `logit` must be specified, but not both. Received prob={prob}, "
                              f"logit={logit}")
    if logit is not None:
        prob = binary("divide", 1.0, binary("add", _exp(binary("multiply", logit, -1.0)), 1.0)) \
            if isinstance(logit, NDArray) else 1.0 / (1.0 + _onp.exp(-logit))
    draws = _np_random.uniform(size=size if size is not None or not isinstance(prob, NDArray) else prob.shape,
                               ctx=prob.context if isinstance(prob, NDArray) else ctx)
    return into(cast(binary("lesser", draws, prob), dtype or _onp.float32), out)


def _n_shape(batch_shape, *params):
    batch = () if batch_shape is None else _shape_tuple(batch_shape)
    return batch + _onp.broadcast_shapes(*(p.shape if isinstance(p, NDArray) else () for p in params))


def uniform_n(low=0.0, high=1.0, batch_shape=None, dtype=None, ctx=None):
    """Samples from U[low, high) of shape batch_shape + the parameters' broadcast shape."""
    return _np_random.uniform(low, high, _n_shape(batch_shape, low, high), dtype, ctx)


def normal_n(loc=0.0, scale=1.0, batch_shape=None, dtype=None, ctx=None):
    """Samples from N(loc, scale^2) of shape batch_shape + the parameters' broadcast shape."""
    return _np_random.normal(loc, scale, _n_shape(batch_shape, loc, scale), dtype, ctx)
