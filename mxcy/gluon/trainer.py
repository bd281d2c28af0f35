"""gluon.Trainer: applies an Optimizer to a set of Parameters after each backward.

Gradients of a parameter held on several contexts are summed on the host side of the engine (a local
reduction: the first context's copy gathers the others) and every copy is updated by its context's Updater
with the summed gradient, which gives every copy the same value. KVStore objects are a later piece: 'device',
'local' and None all mean this local reduction, and distributed types raise."""
from .. import optimizer as opt
from ..base import MXNetError
from ..fileio import atomic_write
from .parameter import Parameter, ParameterDict

__all__ = ["Trainer"]

_LOCAL_KVSTORES = ("device", "local")


class Trainer:
    """Trainer(params, optimizer, optimizer_params=None, kvstore='device', compression_params=None,
    update_on_kvstore=None), with MXNet 1.9.1's arguments and step/update/allreduce_grads semantics."""

    def __init__(self, params, optimizer, optimizer_params=None, kvstore='device', compression_params=None,
                 update_on_kvstore=None):
        if isinstance(params, (dict, ParameterDict)):
            params = list(params.values())
        if not isinstance(params, (list, tuple)):
            raise ValueError(f"First argument must be a list or dict of Parameters, got {type(params)}.")
        self._params = []
        self._param2idx = {}
        for i, param in enumerate(params):
            if not isinstance(param, Parameter):
                raise ValueError(f"First argument must be a list or dict of Parameters, got list of "
                                 f"{type(param)}.")
            if param.name in self._param2idx:
                raise ValueError(f"Parameter '{param.name}' is given twice: each Parameter can be trained "
                                 "once per Trainer")
            self._param2idx[param.name] = i
            self._params.append(param)
            param._set_trainer(self)
        if compression_params is not None:
            raise MXNetError("Trainer: gradient compression needs a KVStore, which mxcy does not have yet; "
                             "pass compression_params=None")
        if kvstore is not None and not (isinstance(kvstore, str) and kvstore in _LOCAL_KVSTORES):
            raise MXNetError(f"Trainer: kvstore {kvstore!r} is not available in mxcy yet; use 'device', "
                             "'local' or None (gradients of several contexts are then summed locally)")
        self._compression_params = compression_params
        self._scale = 1.0
        self._contexts = self._check_contexts()
        self._init_optimizer(optimizer, optimizer_params or {})
        self._scale = self._optimizer.rescale_grad
        self._kvstore_params = {"kvstore": kvstore, "update_on_kvstore": update_on_kvstore}
        self._kvstore = None
        self._update_on_kvstore = False
        self._distributed = False
        self._kv_initialized = False
        self._params_to_init = []
        self._reset_kvstore()

    def _check_contexts(self):
        contexts = None
        for param in self._params:
            ctx = param.list_ctx()
            if contexts is not None and contexts != ctx:
                raise AssertionError(f"All Parameters must be initialized on the same set of contexts, but "
                                     f"Parameter {param.name} is initialized on {ctx} while previous Parameters "
                                     f"are initialized on {contexts}.")
            contexts = ctx
        return contexts

    def _init_optimizer(self, optimizer, optimizer_params):
        param_dict = dict(enumerate(self._params))
        if isinstance(optimizer, opt.Optimizer):
            if optimizer_params:
                raise AssertionError("optimizer_params must be None if optimizer is an instance of Optimizer "
                                     "instead of str")
            self._optimizer = optimizer
            optimizer.param_dict = param_dict
        else:
            self._optimizer = opt.create(optimizer, param_dict=param_dict, **optimizer_params)
        self._updaters = [opt.get_updater(self._optimizer) for _ in self._contexts]

    def _init_params(self):
        """Drop the parameters whose deferred initialization has happened from the pending list."""
        self._params_to_init = [p for p in self._params_to_init if p._data is None]

    def _reset_kvstore(self):
        """Forget the (local) store's initialisation; parameters are looked at again at the next step."""
        self._kv_initialized = False
        self._params_to_init = list(self._params)

    def _init_kvstore(self):
        """The local reduction needs no store: this only records that parameters were seen."""
        self._contexts = self._check_contexts()
        if len(self._updaters) != len(self._contexts):
            self._updaters = [opt.get_updater(self._optimizer) for _ in self._contexts]
        self._kv_initialized = True
        self._init_params()

    @property
    def learning_rate(self):
        if not isinstance(self._optimizer, opt.Optimizer):
            raise UserWarning("Optimizer has to be defined before its learning rate can be accessed.")
        return self._optimizer.learning_rate

    @property
    def optimizer(self):
        if not isinstance(self._optimizer, opt.Optimizer):
            raise UserWarning("Optimizer has not been initialized yet")
        return self._optimizer

    def set_learning_rate(self, lr):
        if not isinstance(self._optimizer, opt.Optimizer):
            raise UserWarning("Optimizer has to be defined before its learning rate is mutated.")
        self._optimizer.set_learning_rate(lr)

    def _row_sparse_pull(self, parameter, out, row_id, full_idx=False):
        """Rows `row_id` (every row when full_idx) of a row_sparse parameter into `out` (one array or a list),
        from the parameter's first copy (all copies hold the same value)."""
        from ..ndarray import sparse
        if not self._kv_initialized:
            self._init_kvstore()
        source = parameter._data[0]
        for target in out if isinstance(out, (list, tuple)) else [out]:
            rows = source if full_idx else sparse.retain(source, row_id.as_in_context(source.context))
            rows.copyto(target)

    def _check_and_rescale_grad(self, scale):
        self._optimizer.rescale_grad = scale

    def step(self, batch_size, ignore_stale_grad=False):
        """One optimisation step: gradients are scaled by 1/batch_size, summed over contexts, and applied."""
        rescale_grad = self._scale / batch_size
        self._check_and_rescale_grad(rescale_grad)
        if not self._kv_initialized:
            self._init_kvstore()
        if self._params_to_init:
            self._init_params()
        self._allreduce_grads()
        self._update(ignore_stale_grad)

    def allreduce_grads(self):
        """Sum each parameter's gradients over its contexts (for update() afterwards, e.g. after clipping)."""
        if not self._kv_initialized:
            self._init_kvstore()
        if self._params_to_init:
            self._init_params()
        self._allreduce_grads()

    def _allreduce_grads(self):
        if len(self._contexts) < 2:
            return
        for param in self._params:
            if param.grad_req == "null":
                continue
            grads = param.list_grad()
            total = grads[0].copy()
            for g in grads[1:]:
                total += g.as_in_context(total.context)
            for g in grads:
                total.copyto(g)

    def update(self, batch_size, ignore_stale_grad=False):
        """The update half of step() for gradients already reduced by allreduce_grads()."""
        if not self._kv_initialized:
            self._init_kvstore()
        if self._params_to_init:
            self._init_params()
        self._check_and_rescale_grad(self._scale / batch_size)
        self._update(ignore_stale_grad)

    def _update(self, ignore_stale_grad=False):
        updates = [[] for _ in self._updaters]
        for i, param in enumerate(self._params):
            if param.grad_req == "null":
                continue
            datas = param.list_data()
            if not ignore_stale_grad:
                for data in datas:
                    if not data._fresh_grad:
                        raise UserWarning(
                            f"Gradient of Parameter `{param.name}` on context {data.context} has not been "
                            "updated by backward since last `step`. This could mean a bug in your model that "
                            "made it only use a subset of the Parameters (Blocks) for this iteration. If you "
                            "are intentionally only using a subset, call step with ignore_stale_grad=True to "
                            "suppress this warning and skip updating of Parameters with stale gradient")
            for batch, data, grad in zip(updates, datas, param.list_grad()):
                if not ignore_stale_grad or data._fresh_grad:
                    batch.append((i, grad, data))
                    data._fresh_grad = False
        for updater, batch in zip(self._updaters, updates):
            if batch:
                indices, grads, datas = zip(*batch)
                updater(list(indices), list(grads), list(datas))

    def save_states(self, fname):
        """Write the optimizer and its states to `fname` (mxcy's code-free format, mx.optimizer.updater)."""
        if self._optimizer is None:
            raise AssertionError("no optimizer to save")
        if not self._kv_initialized:
            self._init_kvstore()
        if self._params_to_init:
            self._init_params()
        atomic_write(fname, self._updaters[0].get_states(dump_optimizer=True), "trainer states")

    def load_states(self, fname):
        """Read what save_states wrote; the optimizer (and its schedule) is restored too."""
        if not self._kv_initialized:
            self._init_kvstore()
        if self._params_to_init:
            self._init_params()
        try:
            with open(fname, "rb") as f:
                states = f.read()
        except OSError as err:
            raise MXNetError(f"Trainer.load_states: cannot read {fname!r}: {err}") from None
        for updater in self._updaters:
            updater.set_states(states)
            updater.optimizer = self._updaters[0].optimizer
        self._optimizer = self._updaters[0].optimizer
        self._optimizer.param_dict = dict(enumerate(self._params))
