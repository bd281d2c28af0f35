"""mx.optimizer.Updater / get_updater: per-index optimizer states, and their serialisation.

States are written in a documented, code-free format instead of MXNet's pickles: a NumPy .npz archive
(written and read with allow_pickle=False) holding the arrays as "a0", "a1", ... and "__meta__", the UTF-8 JSON
of {"format": "mxcy-optimizer-states", "version": 1, "states": <tree>, "optimizer": <tree or null>}. A tree is
null, a bool, number or string, {"t": [trees]} (tuple), {"l": [trees]} (list), {"d": [[key tree, tree], ...]}
(dict), {"a": i} (array a<i>, loaded on the CPU and moved to the weight's context at its next update) or
{"o": registered class name, "s": tree of its attributes} (an optimizer or learning-rate scheduler). Loading
builds only NDArrays and registered optimizer/scheduler classes; MXNet's pickled states are refused with an
error saying so, since unpickling can run code from the file.
"""
import io
import json
import zipfile

import numpy as np

from .. import lr_scheduler as _lr_scheduler
from .. import ndarray as nd
from ..base import MXNetError
from ..fileio import read_bytes
from ..ndarray import NDArray
from .optimizer import Optimizer

__all__ = ["Updater", "get_updater"]

_FORMAT = "mxcy-optimizer-states"


class Updater:
    """Calls the optimizer's update for (index, grad, weight), creating each index's state on first use."""

    def __init__(self, optimizer):
        self.optimizer = optimizer
        self.states = {}
        self.states_synced = {}
        self.aggregate_updates = optimizer.aggregate_num > 0

    def __call__(self, index, grad, weight):
        if not isinstance(index, (list, tuple)):
            indices, grads, weights = [index], [grad], [weight]
        else:
            indices, grads, weights = list(index), list(grad), list(weight)
        if weights:
            self.optimizer._set_current_context(weights[0].context.device_id)
        for i, idx in enumerate(indices):
            if isinstance(idx, bytes):
                indices[i] = idx = idx.decode()
            if idx not in self.states:
                self.states[idx] = self.optimizer.create_state_multi_precision(idx, weights[i])
                self.states_synced[idx] = True
            elif not self.states_synced[idx]:
                self.states[idx] = self.sync_state_context(self.states[idx], weights[i].context)
                self.states_synced[idx] = True
        if self.aggregate_updates:
            self._aggregated(indices, weights, grads)
        else:
            for i, w, g in zip(indices, weights, grads):
                self.optimizer.update_multi_precision(i, w, g, self.states[i])

    def _aggregated(self, indices, weights, grads):
        """Updates in groups of aggregate_num weights of one dtype, as MXNet batches them."""
        by_type = {}
        for item in zip(indices, weights, grads):
            by_type.setdefault(item[1].dtype, []).append(item)
        step = self.optimizer.aggregate_num
        for items in by_type.values():
            for start in range(0, len(items), step):
                idx, w, g = (list(x) for x in zip(*items[start:start + step]))
                self.optimizer.update_multi_precision(idx, w, g, [self.states[i] for i in idx])

    def sync_state_context(self, state, context):
        """`state` with its arrays moved to `context`."""
        if isinstance(state, NDArray):
            return state.as_in_context(context)
        if isinstance(state, (tuple, list)):
            return type(state)(self.sync_state_context(s, context) for s in state)
        return state

    def set_states(self, states):
        """Load what get_states wrote (the states, and the optimizer if it was dumped)."""
        loaded = loads_states(states)
        if loaded["optimizer"] is not None:
            self.optimizer = loaded["optimizer"]
            self.aggregate_updates = self.optimizer.aggregate_num > 0
        self.states = loaded["states"]
        self.states_synced = dict.fromkeys(self.states, False)

    def get_states(self, dump_optimizer=False):
        """The states (and with dump_optimizer the optimizer, schedules included) as bytes; see the module doc."""
        return dumps_states(self.states, self.optimizer if dump_optimizer else None)


def get_updater(optimizer):
    return Updater(optimizer)


def set_states_from_file(updaters, fname, who):
    """set_states of each of `updaters` from the states file `fname`: Trainer.load_states and the kvstore's
    load_optimizer_states. Its MXNetErrors name `who` and the file."""
    payload = read_bytes(fname, f"{who}: optimizer states file")
    try:
        for updater in updaters:
            updater.set_states(payload)
    except MXNetError as err:
        raise MXNetError(f"{who}: {fname!r}: {err}") from None


def _serialisable_classes():
    classes = dict(Optimizer.opt_registry)
    classes.update({c.__name__.lower(): c for c in _lr_scheduler.LRScheduler.__subclasses__()})
    classes["lrscheduler"] = _lr_scheduler.LRScheduler
    return classes


def dumps_states(states, optimizer=None):
    arrays = []

    def tree(value):
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, (np.integer, np.floating, np.bool_)):
            return value.item()
        if isinstance(value, NDArray):
            arrays.append(value.asnumpy())
            return {"a": len(arrays) - 1}
        if isinstance(value, tuple):
            return {"t": [tree(v) for v in value]}
        if isinstance(value, list):
            return {"l": [tree(v) for v in value]}
        if isinstance(value, dict):
            return {"d": [[tree(k), tree(v)] for k, v in value.items()]}
        name = type(value).__name__.lower()
        if isinstance(value, (Optimizer, _lr_scheduler.LRScheduler)) and \
                _serialisable_classes().get(name) is type(value):
            attrs = value.__getstate__() if isinstance(value, Optimizer) else dict(value.__dict__)
            return {"o": name, "s": tree(attrs)}
        raise MXNetError(f"optimizer states: cannot save a value of type {type(value).__name__} "
                         "(states hold NDArrays, numbers, strings, tuples, lists, dicts and registered "
                         "optimizers and schedulers)")

    meta = {"format": _FORMAT, "version": 1, "states": tree(states),
            "optimizer": tree(optimizer) if optimizer is not None else None}
    buf = io.BytesIO()
    np.savez(buf, __meta__=np.frombuffer(json.dumps(meta).encode(), np.uint8),
             **{f"a{i}": a for i, a in enumerate(arrays)})
    return buf.getvalue()


def loads_states(payload):
    """{"states": ..., "optimizer": Optimizer or None} from dumps_states' bytes; MXNetError for anything else."""
    if isinstance(payload, str):
        payload = payload.encode("latin-1")
    if payload[:1] == b"\x80":
        raise MXNetError("optimizer states: this looks like MXNet's pickled states, which mxcy does not load "
                         "because unpickling can execute code from the file; save the states again with mxcy")
    try:
        with np.load(io.BytesIO(payload), allow_pickle=False) as archive:
            meta = json.loads(bytes(archive["__meta__"]).decode())
            arrays = {k: archive[k] for k in archive.files if k != "__meta__"}
        if meta.get("format") != _FORMAT or meta.get("version") != 1:
            raise ValueError(f"unknown format {meta.get('format')!r} version {meta.get('version')!r}")
        classes = _serialisable_classes()

        def build(t):
            if not isinstance(t, dict):
                if isinstance(t, list):
                    raise ValueError("bare list in the states tree")
                return t
            if "a" in t:
                return nd.array(arrays[f"a{int(t['a'])}"], dtype=arrays[f"a{int(t['a'])}"].dtype)
            if "t" in t:
                return tuple(build(v) for v in t["t"])
            if "l" in t:
                return [build(v) for v in t["l"]]
            if "d" in t:
                return {build(k): build(v) for k, v in t["d"]}
            if "o" in t:
                klass = classes.get(t["o"])
                if klass is None:
                    raise ValueError(f"unknown optimizer or scheduler class {t['o']!r}")
                obj = klass.__new__(klass)
                state = build(t["s"])
                if isinstance(obj, Optimizer):
                    obj.__setstate__(state)
                else:
                    obj.__dict__.update(state)
                return obj
            raise ValueError(f"unknown node {sorted(t)}")

        states, optimizer = build(meta["states"]), build(meta["optimizer"])
    except MXNetError:
        raise
    # zipfile raises RuntimeError for a member flagged encrypted, NotImplementedError for an unknown compression
    except (ValueError, KeyError, TypeError, OSError, EOFError, zipfile.BadZipFile, UnicodeDecodeError, RuntimeError,
            NotImplementedError) as err:
        raise MXNetError(f"optimizer states: the data is corrupt or not mxcy optimizer states: {err}") from None
    if not isinstance(states, dict) or not (optimizer is None or isinstance(optimizer, Optimizer)):
        raise MXNetError("optimizer states: the data does not hold a states dict")
    return {"states": states, "optimizer": optimizer}
