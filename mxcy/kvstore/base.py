"""KVStoreBase (the interface and registry of key-value stores), MXNet's TestStore, and create()."""
import warnings

from ..base import MXNetError

__all__ = ["create", "KVStoreBase"]

# Store types that need several processes; they arrive with the distributed issue.
_DISTRIBUTED = ("dist", "horovod", "nccl")


class KVStoreBase:
    """The interface of a key-value store for data-parallel training; `register` makes a subclass
    available to `create` under its lower-cased class name."""

    OPTIMIZER = "optimizer"
    kv_registry = {}

    def broadcast(self, key, value, out, priority=0):
        """Store `value` under `key` and write it into `out`."""
        raise NotImplementedError()

    def pushpull(self, key, value, out=None, priority=0):
        """Sum `value` (over its copies) and write the result into `out` (into `value` when out is None)."""
        raise NotImplementedError()

    def set_optimizer(self, optimizer):
        """Run `optimizer` on the store at each push."""
        raise NotImplementedError()

    def is_capable(self, capability):
        """Whether the store supports `capability` (KVStoreBase.OPTIMIZER: updates on the store)."""
        raise NotImplementedError()

    def save_optimizer_states(self, fname, dump_optimizer=False):
        raise NotImplementedError()

    def load_optimizer_states(self, fname):
        raise NotImplementedError()

    @property
    def type(self):
        raise NotImplementedError()

    @property
    def rank(self):
        raise NotImplementedError()

    @property
    def num_workers(self):
        raise NotImplementedError()

    @staticmethod
    def register(klass):
        """Register KVStoreBase subclass `klass` for create(); returns it."""
        if not isinstance(klass, type):
            raise AssertionError(f"KVStoreBase.register takes a class, got {klass!r}")
        name = klass.__name__.lower()
        if name in KVStoreBase.kv_registry:
            old = KVStoreBase.kv_registry[name]
            warnings.warn(f"WARNING: New kvstore {klass.__module__}.{klass.__name__} is overriding existing "
                          f"kvstore {old.__module__}.{old.__name__}", stacklevel=2)
        KVStoreBase.kv_registry[name] = klass
        return klass


def _as_list(x):
    return x if isinstance(x, list) else [x]


@KVStoreBase.register
class TestStore(KVStoreBase):
    """MXNet's store for testing custom stores: one worker, no optimizer, values summed on the first
    value's context."""

    def broadcast(self, key, value, out, priority=0):
        for o in _as_list(out):
            o[:] = value

    def pushpull(self, key, value, out=None, priority=0):
        if isinstance(value, list):
            ctx = value[0].context
            total = value[0].as_in_context(ctx).copy()
            for v in value[1:]:
                total += v.as_in_context(ctx)
            for o in value if out is None else _as_list(out):
                o[:] = total
        elif out is not None:
            for o in _as_list(out):
                o[:] = value

    @staticmethod
    def is_capable(capability):
        if capability.lower() == KVStoreBase.OPTIMIZER:
            return False
        raise ValueError(f"Unknown capability: {capability}")

    @property
    def type(self):
        return "teststore"

    @property
    def rank(self):
        return 0

    @property
    def num_workers(self):
        return 1


def create(name="local"):
    """A new store: a registered KVStoreBase subclass by (lower-cased) class name, or the built-in
    single-process KVStore for 'local', 'device' and the other local types ('local_allreduce_cpu', ...).
    Types containing 'dist', 'nccl' or 'horovod' are not available yet and raise MXNetError."""
    if not isinstance(name, str):
        raise TypeError("name must be a string")
    name = name.lower()
    if name in KVStoreBase.kv_registry:
        return KVStoreBase.kv_registry[name]()
    check_available(name)
    from .kvstore import KVStore
    return KVStore(name)


def check_available(name):
    """MXNetError for a store type name that needs several processes (not available yet)."""
    if any(kind in name.lower() for kind in _DISTRIBUTED) and name.lower() not in KVStoreBase.kv_registry:
        raise MXNetError(f"kvstore type '{name}' is not available in mxcy yet: distributed and multi-process "
                         "stores (dist_sync, dist_async, dist_device_sync, horovod, nccl) come with the "
                         "distributed-training work; use 'local' or 'device' on one machine")
