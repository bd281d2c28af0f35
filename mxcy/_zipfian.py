"""contrib.rand_zipfian for mx.nd and mx.sym: candidate classes drawn from the approximately log-uniform (Zipfian)
distribution P(c) = log((c + 2) / (c + 1)) / log(range_max + 1), composed of registered ops as in MXNet 1.9.1, so
the draws come from mx.random's generator (seeded by mx.random.seed)."""
import math

from .base import MXNetError

__all__ = ["nd_rand_zipfian", "sym_rand_zipfian"]


def _sample(F, true_classes, num_sampled, range_max, **ctx):
    if int(range_max) != range_max or range_max < 1 or int(num_sampled) != num_sampled or num_sampled < 1:
        raise MXNetError(f"rand_zipfian: num_sampled ({num_sampled}) and range_max ({range_max}) must be positive "
                         "integers")
    log_range = math.log(range_max + 1)
    draws = F.random.uniform(0, log_range, shape=(num_sampled,), dtype="float64", **ctx)
    # exp(u) - 1 for u uniform on [0, log(range_max + 1)) falls in [c, c + 1) with probability P(c); the modulo only
    # guards the float edge, as in MXNet.
    sampled = (draws.exp() - 1).astype("int64") % range_max

    def expected_count(classes):
        c = classes.astype("float64")
        return ((c + 2.0) / (c + 1.0)).log() / log_range * num_sampled

    return sampled, expected_count(true_classes), expected_count(sampled)


def nd_rand_zipfian(true_classes, num_sampled, range_max, ctx=None):
    """(sampled classes (int64, num_sampled), expected count of each true class, expected count of each sample),
    all computed on `ctx` (default: the current context)."""
    from . import ndarray
    from .context import current_context
    ctx = current_context() if ctx is None else ctx
    return _sample(ndarray, true_classes.as_in_context(ctx), num_sampled, range_max, ctx=ctx)


def sym_rand_zipfian(true_classes, num_sampled, range_max):
    """The Symbols of nd_rand_zipfian's three results."""
    from . import symbol
    if not isinstance(true_classes, symbol.Symbol):
        raise MXNetError(f"rand_zipfian: true_classes must be a Symbol, got {type(true_classes).__name__}")
    return _sample(symbol, true_classes, num_sampled, range_max)
