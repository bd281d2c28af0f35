"""mx.optimizer.Optimizer: the base class (learning rate, schedules, per-parameter lr/wd multipliers, update
counts, multi-precision wrapping) and the registry behind `register` and `create`."""
import warnings

import numpy as np

from .. import ndarray as nd
from ..util import is_np_array

__all__ = ["Optimizer", "register", "create"]


class Optimizer:
    """Base class of the optimizers; subclasses implement `create_state` and `update`.

    The learning rate is `lr_scheduler(num_update)` when a scheduler is given, else `learning_rate`
    (0.01 by default). Per-parameter multipliers come, in this order, from `param_dict[index].lr_mult`,
    `set_lr_mult({index or name: mult})` and the `__lr_mult__` attributes of `sym`'s arguments (likewise wd).
    """
    opt_registry = {}
    decayed_suffixes = ("_weight", "_gamma")  # named parameters that weight decay applies to

    def __init__(self, rescale_grad=1., param_idx2name=None, wd=0., clip_gradient=None, learning_rate=None,
                 lr_scheduler=None, sym=None, begin_num_update=0, multi_precision=False, param_dict=None):
        self.rescale_grad = rescale_grad
        self.lr_scheduler = lr_scheduler
        if lr_scheduler is None and learning_rate is None:
            learning_rate = 0.01
        self.lr = learning_rate
        if lr_scheduler is not None and learning_rate is not None and lr_scheduler.base_lr != learning_rate:
            print(UserWarning("learning rate from ``lr_scheduler`` has been overwritten by "
                              "``learning_rate`` in optimizer."))
            lr_scheduler.base_lr = learning_rate
        self.wd = wd
        self.lr_mult, self.wd_mult = {}, {}
        self.begin_num_update = self.num_update = begin_num_update
        self._all_index_update_counts = {0: {}}
        self._index_update_count = self._all_index_update_counts[0]
        self.clip_gradient = clip_gradient
        self.multi_precision = multi_precision
        self.aggregate_num = 0
        if param_idx2name is None:
            param_idx2name = {}
        if not isinstance(param_idx2name, dict):
            raise AssertionError("param_idx2name should be a dict of param indexes to names.")
        self.idx2name = param_idx2name.copy()
        self.sym_info = (sym.attr_dict(), sym.list_arguments()) if sym is not None else ()
        self.param_dict = param_dict if param_dict else {}
        self.allow_np_array = is_np_array()
        self.set_lr_mult({})
        self.set_wd_mult({})

    @staticmethod
    def register(klass):
        """Register optimizer class `klass` under its lower-cased name (for `create`); returns it."""
        if not isinstance(klass, type) or not issubclass(klass, Optimizer):
            raise TypeError(f"can only register subclasses of Optimizer, got {klass!r}")
        name = klass.__name__.lower()
        if name in Optimizer.opt_registry:
            old = Optimizer.opt_registry[name]
            warnings.warn(f"WARNING: New optimizer {klass.__module__}.{klass.__name__} is overriding existing "
                          f"optimizer {old.__module__}.{old.__name__}", stacklevel=2)
        Optimizer.opt_registry[name] = klass
        return klass

    @staticmethod
    def create_optimizer(name, **kwargs):
        """An instance of the optimizer registered as `name` (case-insensitive)."""
        klass = Optimizer.opt_registry.get(str(name).lower())
        if klass is None:
            raise ValueError(f"Cannot find optimizer {name}; registered optimizers: "
                             + ", ".join(sorted(Optimizer.opt_registry)))
        return klass(**kwargs)

    @property
    def learning_rate(self):
        if self.lr_scheduler is not None:
            return self.lr_scheduler(self.num_update)
        return self.lr

    def create_state(self, index, weight):
        """The state `update` keeps for `weight` (None when the rule has none)."""

    def create_state_multi_precision(self, index, weight):
        """create_state, plus a float32 master copy of a float16 weight when multi_precision is set:
        (master, state of the master)."""
        if self.multi_precision and weight.dtype == np.float16:
            master = weight.astype(np.float32)
            return (master, self.create_state(index, master))
        if weight.dtype == np.float16:
            warnings.warn("Accumulating with float16 in optimizer can lead to poor accuracy or slow convergence. "
                          "Consider using multi_precision=True option of the optimizer", stacklevel=2)
        return self.create_state(index, weight)

    def update(self, index, weight, grad, state):
        """Update `weight` in place from `grad` and `state`."""
        raise NotImplementedError()

    def update_multi_precision(self, index, weight, grad, state):
        """update, on the float32 master of a float16 weight when multi_precision is set (the weight then
        receives the master's value)."""
        if self.multi_precision and weight.dtype == np.float16:
            master, inner = state
            self.update(index, master, grad.astype(np.float32), inner)
            if weight.stype == "default":
                nd.cast(master, dtype=weight.dtype, out=weight)
            else:
                weight[:] = master.astype(weight.dtype)
        else:
            self.update(index, weight, grad, state)

    def set_learning_rate(self, lr):
        if self.lr_scheduler is not None:
            raise UserWarning("LRScheduler of the optimizer has already been defined. Note that "
                              "set_learning_rate can mutate the value of the learning rate of the optimizer "
                              "only when the LRScheduler of the optimizer is undefined.")
        self.lr = lr

    def set_lr_scale(self, args_lrscale):
        """Removed in MXNet; use set_lr_mult."""
        raise DeprecationWarning

    def _sym_mults(self, attr_key):
        mults = {}
        if self.sym_info:
            attrs, names = self.sym_info
            for name in names:
                if attr_key in attrs.get(name, {}):
                    mults[name] = float(attrs[name][attr_key])
        return mults

    def set_lr_mult(self, args_lr_mult):
        """Learning-rate multipliers {parameter name or index: mult}, over those of sym's __lr_mult__."""
        self.lr_mult = self._sym_mults("__lr_mult__")
        self.lr_mult.update(args_lr_mult)

    def set_wd_mult(self, args_wd_mult):
        """Weight-decay multipliers {parameter name or index: mult}, over sym's __wd_mult__; named parameters
        not ending in one of decayed_suffixes (biases, BatchNorm's beta) get 0."""
        self.wd_mult = {n: 0.0 for n in self.idx2name.values() if not n.endswith(self.decayed_suffixes)}
        self.wd_mult.update(self._sym_mults("__wd_mult__"))
        self.wd_mult.update(args_wd_mult)

    def _set_current_context(self, device_id):
        """Update counts are kept per device, as each device updates its own copy."""
        self._index_update_count = self._all_index_update_counts.setdefault(device_id, {})

    def _update_count(self, index):
        for idx in index if isinstance(index, (list, tuple)) else [index]:
            count = self._index_update_count.get(idx, self.begin_num_update) + 1
            self._index_update_count[idx] = count
            self.num_update = max(count, self.num_update)

    def _multiplied(self, base, indices, mults, attr):
        values = []
        for index in indices:
            if index in self.param_dict:
                mult = getattr(self.param_dict[index], attr)
            elif index in mults:
                mult = mults[index]
            elif index in self.idx2name:
                mult = mults.get(self.idx2name[index], 1.0)
            else:
                mult = 1.0
            values.append(base * mult)
        return values

    def _get_lrs(self, indices):
        return self._multiplied(self.learning_rate, indices, self.lr_mult, "lr_mult")

    def _get_lr(self, index):
        return self._get_lrs([index])[0]

    def _get_wds(self, indices):
        return self._multiplied(self.wd, indices, self.wd_mult, "wd_mult")

    def _get_wd(self, index):
        return self._get_wds([index])[0]

    def _clip_kwargs(self, key="clip_gradient"):
        """The op argument for clip_gradient: none when clipping is off (None or 0, as MXNet tests it)."""
        return {key: self.clip_gradient} if self.clip_gradient else {}

    def __getstate__(self):
        state = self.__dict__.copy()
        del state["param_dict"]  # the Trainer sets it again
        return state

    def __setstate__(self, state):
        self.__dict__ = state
        self.param_dict = {}


register = Optimizer.register
create = Optimizer.create_optimizer
