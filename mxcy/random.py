"""Random seeding: mx.random.seed and the per-context counter-based streams random ops draw from.

Each random op takes its key at push time, in program order, so results do not depend on which
engine worker runs it: the same seed gives the same numbers on the threaded and naive engines.
"""
import itertools
import threading

from .context import Context  # noqa: F401 - MXNet's mx.random hands it out

__all__ = ["seed", "next_key", "uniform", "normal", "randn", "poisson", "exponential", "gamma",
           "multinomial", "negative_binomial", "generalized_negative_binomial", "shuffle",
           "randint"]
_SAMPLERS = frozenset(__all__[2:])


def __getattr__(name):
    # mx.random.uniform is mx.nd.random.uniform; imported lazily because ops.invoke imports us.
    if name in _SAMPLERS:
        from .ndarray import random as nd_random
        return getattr(nd_random, name)
    raise AttributeError(f"module 'mxcy.random' has no attribute {name!r}")

_lock = threading.Lock()
_streams = {}
_DEFAULT_SEED = 0


def seed(seed_state, ctx="all"):
    """Seed the random streams of `ctx` (a Context), or of every context with ctx='all'."""
    seed_state = int(seed_state)
    with _lock:
        if ctx == "all":
            global _DEFAULT_SEED
            _DEFAULT_SEED = seed_state
            _streams.clear()
        else:
            _streams[(ctx.device_type, ctx.device_id)] = (seed_state, itertools.count())


def next_key(ctx):
    """(seed, counter) for the next random op on `ctx`: the key of a Philox stream."""
    key = (ctx.device_type, ctx.device_id)
    with _lock:
        stream = _streams.get(key)
        if stream is None:
            # cpu(i) and gpu(i) share a seed: the same calls draw the same numbers on either.
            stream = _streams[key] = (_DEFAULT_SEED + 7919 * ctx.device_id, itertools.count())
        return stream[0], next(stream[1])
