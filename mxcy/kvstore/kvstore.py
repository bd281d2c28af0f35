"""KVStore: MXNet 1.9.1's single-process store ('local', 'device' and the other local types).

Values pushed for one key (one per device) are summed on the stored value's context; without an updater
the sum replaces the stored value, with one (set_optimizer or _set_updater) `updater(key, sum, stored)`
updates it in place. Pulls copy the stored value out. All copies and sums are engine operations.
"""
import logging

from .. import optimizer as opt
from ..base import MXNetError
from ..fileio import atomic_write
from ..ndarray import NDArray
from ..ndarray import sparse as _sparse
from ..optimizer.updater import set_states_from_file
from .base import KVStoreBase
from .compression import GradientCompression

__all__ = ["KVStore"]


def _key_kind(key):
    if isinstance(key, str):
        return "str"
    if isinstance(key, int) and not isinstance(key, bool):
        return "int"
    raise AssertionError(f"unexpected type for keys: {type(key)}")


def _pairs(key, value, what):
    """[(key, array)] as MXNet flattens (key, value): a key with one array or a list of arrays (one per
    device), or a list of keys with one such value each."""
    if isinstance(key, (list, tuple)):
        if not isinstance(value, (list, tuple)) or len(key) != len(value):
            raise AssertionError(f"kvstore {what}: {len(key)} keys need a list of as many values, got "
                                 f"{type(value).__name__}" + (f" of {len(value)}" if isinstance(value, (list, tuple))
                                                              else ""))
        pairs = [p for k, v in zip(key, value) for p in _pairs(k, v, what)]
        if len({_key_kind(k) for k, _ in pairs}) > 1:
            raise AssertionError("inconsistent types of keys detected.")
        return pairs
    _key_kind(key)
    values = [value] if isinstance(value, NDArray) else list(value)
    for v in values:
        if not isinstance(v, NDArray):
            raise AssertionError(f"kvstore {what}: key {key!r}: values must be NDArrays, got {type(v).__name__}")
    return [(key, v) for v in values]


def _grouped(pairs):
    """{key: [arrays]} in the order keys first appear."""
    groups = {}
    for k, v in pairs:
        groups.setdefault(k, []).append(v)
    return groups


def _assign(dst, src):
    """dst[:] = src across storage types and contexts (an engine copy)."""
    if dst.stype != "default":
        dst[:] = src
    elif src.stype != "default":
        _sparse.cast_storage(src, "default").copyto(dst)
    else:
        src.copyto(dst)


class KVStore(KVStoreBase):
    """A store on this process. `handle` is the store type ('local', 'device', 'local_allreduce_cpu', ...);
    types containing 'device' accept 2-bit gradient compression, as in MXNet."""

    def __init__(self, handle):
        if not isinstance(handle, str):
            raise MXNetError(f"KVStore: handle must be the store type name, got {type(handle).__name__}; "
                             "use mx.kv.create(name)")
        self._type = handle.lower()
        self._store = {}
        self._key_kind = None
        self._updater = None
        self._compression = None
        self._warned_sparse_pull = set()

    # --- keys ---------------------------------------------------------------------------------------
    def _check_kind(self, pairs):
        for k, _ in pairs[:1]:
            kind = _key_kind(k)
            if self._key_kind is None:
                self._key_kind = kind
            elif kind != self._key_kind:
                raise MXNetError(f"kvstore: mixed key types are not allowed: this store holds {self._key_kind} "
                                 f"keys, got {kind} key {k!r}")

    def _stored(self, key, what):
        try:
            return self._store[key]
        except KeyError:
            raise MXNetError(f"kvstore {what}: key {key!r} has not been initialized; call init first") from None

    @staticmethod
    def _check_shape(key, array, stored, what):
        if tuple(array.shape) != tuple(stored.shape):
            raise MXNetError(f"kvstore {what}: key {key!r}: array of shape {tuple(array.shape)} does not match "
                             f"the stored shape {tuple(stored.shape)}")

    # --- operations ---------------------------------------------------------------------------------
    def init(self, key, value):
        """Store a copy of each value under its key (once per key)."""
        pairs = _pairs(key, value, "init")
        self._check_kind(pairs)
        for k, v in pairs:
            if k in self._store:
                raise MXNetError(f"kvstore init: duplicate init of key {k!r}. Please double check if you "
                                 "called kv.init or kv.broadcast with this key multiple times")
            self._store[k] = v.copyto(v.context)

    def push(self, key, value, priority=0):
        """Sum the values of each key over devices; store the sum, or apply the updater to it."""
        pairs = _pairs(key, value, "push")
        self._check_kind(pairs)
        for k, values in _grouped(pairs).items():
            stored = self._stored(k, "push")
            for v in values:
                self._check_shape(k, v, stored, "push")
                if v.stype not in ("default", "row_sparse"):
                    raise MXNetError(f"kvstore push: key {k!r}: unexpected storage type {v.stype}; push "
                                     "takes default or row_sparse arrays")
            merged = self._reduce(k, values, stored.context)
            if self._updater is not None:
                self._updater(k, merged, stored)
            else:
                self._store[k] = merged

    def _reduce(self, key, values, ctx):
        """The sum of `values` on `ctx`, a new array (2-bit quantized per source when compression is on)."""
        if self._compression is not None:
            values = [self._compression.quantized(key, i, v) for i, v in enumerate(values)]
        if all(v.stype == "row_sparse" for v in values):
            total = values[0].copyto(ctx)
            for v in values[1:]:
                total = _sparse.elemwise_add(total, v.copyto(ctx))
            return total
        dense = [(v if v.stype == "default" else _sparse.cast_storage(v, "default")).as_in_context(ctx)
                 for v in values]
        total = dense[0].copy()
        for d in dense[1:]:
            total += d
        return total

    def pull(self, key, out=None, priority=0, ignore_sparse=True):
        """Copy each key's stored value into its output arrays; row_sparse outputs are skipped (with a
        warning) unless ignore_sparse is False."""
        if out is None:
            raise AssertionError("kvstore pull: out is required")
        pairs = _pairs(key, out, "pull")
        self._check_kind(pairs)
        for k, outs in _grouped(pairs).items():
            stored = self._stored(k, "pull")
            for o in outs:
                if o.stype != "default" and ignore_sparse:
                    if k not in self._warned_sparse_pull:
                        logging.info("Warning: non-default weights detected during kvstore pull. This call has "
                                     "been ignored. Please make sure to use kv.row_sparse_pull() or "
                                     "module.prepare() with row_ids.")
                        self._warned_sparse_pull.add(k)
                    continue
                self._check_shape(k, o, stored, "pull")
                _assign(o, stored)

    def pushpull(self, key, value, out=None, priority=0):
        """push, then pull into `out` (into `value` when out is None)."""
        self.push(key, value, priority)
        self.pull(key, value if out is None else out, priority)

    def broadcast(self, key, value, out, priority=0):
        """init the keys with `value`, then pull them into `out`."""
        self.init(key, value)
        self.pull(key, out, priority)

    def row_sparse_pull(self, key, out=None, priority=0, row_ids=None):
        """Copy the rows `row_ids` (any order, repeats allowed) of each row_sparse stored value into the
        row_sparse outputs; other rows of the outputs become zero. One row_ids array serves every output."""
        if out is None or row_ids is None:
            raise AssertionError("kvstore row_sparse_pull: out and row_ids are required")
        if isinstance(row_ids, NDArray):
            row_ids = [row_ids]
        if not isinstance(row_ids, list):
            raise AssertionError("row_ids should be NDArray or list of NDArray")
        first_out = [out[0]] if len(row_ids) == 1 and isinstance(out, list) else out
        pairs = _pairs(key, first_out, "row_sparse_pull")
        id_pairs = _pairs(key, row_ids, "row_sparse_pull")
        if len(pairs) != len(id_pairs):
            raise AssertionError("the number of row_ids doesn't match the number of values")
        self._check_kind(pairs)
        for (k, o), (_, ids) in zip(pairs, id_pairs):
            stored = self._stored(k, "row_sparse_pull")
            if o.stype != "row_sparse":
                raise MXNetError(f"kvstore row_sparse_pull: key {k!r}: expected row_sparse storage type for "
                                 f"the output, got {o.stype}")
            if ids.stype != "default":
                raise MXNetError(f"kvstore row_sparse_pull: key {k!r}: expected default storage type for "
                                 f"row_ids, got {ids.stype}")
            if stored.stype != "row_sparse":
                raise MXNetError(f"kvstore row_sparse_pull: key {k!r} holds a {stored.stype} array; "
                                 "row_sparse_pull expects a row_sparse stored value")
            self._check_shape(k, o, stored, "row_sparse_pull")
            _assign(o, _sparse.retain(stored, ids))
        if first_out is not out:
            for o in out[1:]:
                _assign(o, out[0])

    # --- updates on the store --------------------------------------------------------------------------
    def set_optimizer(self, optimizer):
        """Update stored values with `optimizer` at each push (an mx.optimizer Updater)."""
        self._set_updater(opt.get_updater(optimizer))

    def _set_updater(self, updater):
        """Call updater(key, summed pushed value, stored value) at each push; it updates the stored value."""
        self._updater = updater

    def set_gradient_compression(self, compression_params):
        """2-bit compression of pushed values ({'type': '2bit', 'threshold': t}); 'device' stores only."""
        if "device" not in self._type and "dist" not in self._type:
            raise MXNetError("Gradient compression is not supported for this type of kvstore "
                             f"('{self._type}'); use a 'device' store")
        self._compression = GradientCompression(compression_params)

    def save_optimizer_states(self, fname, dump_optimizer=False):
        """Write the updater's states (and with dump_optimizer the optimizer) to `fname`, in mx.optimizer's
        code-free states format."""
        if self._updater is None:
            raise AssertionError("Cannot save states for distributed training")
        atomic_write(fname, self._updater.get_states(dump_optimizer), "optimizer states")

    def load_optimizer_states(self, fname):
        """Read what save_optimizer_states wrote."""
        if self._updater is None:
            raise AssertionError("Cannot load states for distributed training")
        set_states_from_file([self._updater], fname, "kvstore load_optimizer_states")

    def is_capable(self, capability):
        if capability.lower() == KVStoreBase.OPTIMIZER:
            return True
        raise ValueError(f"Unknown capability: {capability}")

    @property
    def type(self):
        return self._type

    @property
    def rank(self):
        return 0

    @property
    def num_workers(self):
        return 1

    def _barrier(self):
        """All workers wait here; with one worker there is nothing to wait for (as MXNet's local store)."""
