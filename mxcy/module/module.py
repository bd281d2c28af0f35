"""Module: a Symbol bound on one or several contexts (data parallel), with parameters, an optimizer and
checkpoints in MXNet's files; the Module API's workhorse."""
import logging
import warnings

from .. import context as ctx
from .. import ndarray as nd
from .. import optimizer as opt
from ..fileio import atomic_write
from ..initializer import InitDesc, Uniform
from ..io import DataDesc
from ..symbol.symbol import STORAGE_TYPE_ID
from ..model import _create_kvstore, _initialize_kvstore, _update_params, _update_params_on_kvstore, load_checkpoint
from ..optimizer.updater import set_states_from_file
from .base_module import BaseModule, _check_input_names, _parse_data_desc
from .executor_group import DataParallelExecutorGroup

__all__ = ["Module"]

_STYPE_NAMES = {v: k for k, v in STORAGE_TYPE_ID.items()}


class Module(BaseModule):
    """`symbol` with its inputs split into data_names, label_names and state_names; every other argument is a
    parameter (fixed_param_names are not updated). A list of contexts splits each batch over them (in the
    proportions of work_load_list); gradients are summed through a KVStore ('local' by default)."""

    def __init__(self, symbol, data_names=("data",), label_names=("softmax_label",), logger=logging,
                 context=ctx.cpu(), work_load_list=None, fixed_param_names=None, state_names=None, group2ctxs=None,
                 compression_params=None):
        super().__init__(logger=logger)
        self._context = [context] if isinstance(context, ctx.Context) else list(context)
        self._work_load_list = [1] * len(self._context) if work_load_list is None else list(work_load_list)
        if len(self._work_load_list) != len(self._context):
            raise ValueError(f"work_load_list has {len(self._work_load_list)} entries for "
                             f"{len(self._context)} contexts")
        self._group2ctxs = group2ctxs
        self._symbol = symbol
        data_names = list(data_names or [])
        label_names = list(label_names or [])
        state_names = list(state_names or [])
        fixed_param_names = list(fixed_param_names or [])
        _check_input_names(symbol, data_names, "data", True)
        _check_input_names(symbol, label_names, "label", False)
        _check_input_names(symbol, state_names, "state", True)
        _check_input_names(symbol, fixed_param_names, "fixed_param", True)
        inputs = data_names + label_names + state_names
        self._param_names = [a for a in symbol.list_arguments() if a not in inputs]
        self._fixed_param_names = fixed_param_names
        self._aux_names = symbol.list_auxiliary_states()
        self._data_names = data_names
        self._label_names = label_names
        self._state_names = state_names
        self._output_names = symbol.list_outputs()
        self._arg_params = None
        self._aux_params = None
        self._params_dirty = False
        self._compression_params = compression_params
        self._optimizer = None
        self._kvstore = None
        self._update_on_kvstore = None
        self._updater = None
        self._preload_opt_states = None
        self._grad_req = None
        self._exec_group = None
        self._data_shapes = None
        self._label_shapes = None

    # --- checkpoints --------------------------------------------------------------------------------
    @staticmethod
    def load(prefix, epoch, load_optimizer_states=False, **kwargs):
        """A Module from `prefix-symbol.json` and `prefix-%04d.params` (optimizer states from
        `prefix-%04d.states` at init_optimizer); kwargs go to Module()."""
        symbol, args, auxs = load_checkpoint(prefix, epoch)
        mod = Module(symbol=symbol, **kwargs)
        mod._arg_params = args
        mod._aux_params = auxs
        mod.params_initialized = True
        if load_optimizer_states:
            mod._preload_opt_states = "%s-%04d.states" % (prefix, epoch)
        return mod

    def save_checkpoint(self, prefix, epoch, save_optimizer_states=False, remove_amp_cast=True):
        """Write `prefix-symbol.json`, `prefix-%04d.params` and optionally `prefix-%04d.states`."""
        self._symbol.save(f"{prefix}-symbol.json", remove_amp_cast=remove_amp_cast)
        param_name = "%s-%04d.params" % (prefix, epoch)
        self.save_params(param_name)
        logging.info('Saved checkpoint to "%s"', param_name)
        if save_optimizer_states:
            state_name = "%s-%04d.states" % (prefix, epoch)
            self.save_optimizer_states(state_name)
            logging.info('Saved optimizer state to "%s"', state_name)

    # --- shapes and names ---------------------------------------------------------------------------
    def _reset_bind(self):
        self.binded = False
        self._exec_group = None
        self._data_shapes = None
        self._label_shapes = None

    @property
    def data_names(self):
        return self._data_names

    @property
    def label_names(self):
        return self._label_names

    @property
    def output_names(self):
        return self._output_names

    def _check_bound(self):
        if not self.binded:
            raise AssertionError("call bind first")

    @property
    def data_shapes(self):
        self._check_bound()
        return self._data_shapes

    @property
    def label_shapes(self):
        self._check_bound()
        return self._label_shapes

    @property
    def output_shapes(self):
        self._check_bound()
        return self._exec_group.get_output_shapes()

    # --- parameters ---------------------------------------------------------------------------------
    def get_params(self):
        """(arg_params, aux_params) on the CPU, averaged over the devices."""
        if not self.params_initialized:
            raise AssertionError("call init_params first")
        if self._params_dirty:
            self._sync_params_from_devices()
        return self._arg_params, self._aux_params

    def init_params(self, initializer=Uniform(0.01), arg_params=None, aux_params=None, allow_missing=False,
                    force_init=False, allow_extra=False):
        """Fill the parameters from arg_params/aux_params, the rest (allow_missing) with `initializer`."""
        if self.params_initialized and not force_init:
            warnings.warn("Parameters already initialized and force_init=False. init_params call ignored.",
                          stacklevel=2)
            return
        if not self.binded:
            raise AssertionError("call bind before initializing the parameters")

        def fill(desc, arr, given):
            if given is None:
                initializer(desc, arr)
            elif desc in given:
                if given[desc] is not arr:
                    given[desc].copyto(arr)
            elif not allow_missing:
                raise RuntimeError(f"{desc} is not presented")
            elif initializer is not None:
                initializer(desc, arr)

        attrs = self._symbol.attr_dict()
        for params, given in ((self._arg_params, arg_params), (self._aux_params, aux_params)):
            for name, arr in sorted(params.items()):
                if arr.stype == "default":
                    fill(InitDesc(name, attrs.get(name, None)), arr, given)
                    continue
                dense = nd.zeros(arr.shape, dtype=arr.dtype)  # initializers write dense arrays
                fill(InitDesc(name, attrs.get(name, None)), dense, given)
                params[name] = dense.tostype(arr.stype)
        self.params_initialized = True
        self._params_dirty = False
        self._exec_group.set_params(self._arg_params, self._aux_params, allow_extra=allow_extra)

    def set_params(self, arg_params, aux_params, allow_missing=False, force_init=True, allow_extra=False):
        if not allow_missing:
            self.init_params(initializer=None, arg_params=arg_params, aux_params=aux_params,
                             allow_missing=allow_missing, force_init=force_init, allow_extra=allow_extra)
            return
        if self.params_initialized and not force_init:
            warnings.warn("Parameters already initialized and force_init=False. set_params call ignored.",
                          stacklevel=2)
            return
        self._exec_group.set_params(arg_params, aux_params, allow_extra=allow_extra)
        self._params_dirty = True
        self.params_initialized = True

    def _sync_params_from_devices(self):
        self._exec_group.get_params(self._arg_params, self._aux_params)
        if self._kvstore and self._update_on_kvstore:
            for name, value in sorted(self._arg_params.items()):
                if value.stype == "row_sparse":
                    self._kvstore.row_sparse_pull(name, value, row_ids=nd.arange(0, value.shape[0], dtype="int64"))
        self._params_dirty = False

    # --- binding ------------------------------------------------------------------------------------
    def bind(self, data_shapes, label_shapes=None, for_training=True, inputs_need_grad=False, force_rebind=False,
             shared_module=None, grad_req="write"):
        """Bind executors for these input shapes (DataDescs or (name, shape) pairs)."""
        if force_rebind:
            self._reset_bind()
        if self.binded:
            self.logger.warning("Already bound, ignoring bind()")
            return
        if not for_training and inputs_need_grad:
            raise AssertionError("inputs_need_grad needs for_training=True")
        self.for_training = for_training
        self.inputs_need_grad = inputs_need_grad
        self._grad_req = grad_req
        self._data_shapes, self._label_shapes = _parse_data_desc(self.data_names, self.label_names, data_shapes,
                                                                 label_shapes)
        shared_group = None
        if shared_module is not None:
            if not (isinstance(shared_module, Module) and shared_module.binded and shared_module.params_initialized):
                raise AssertionError("shared_module must be a bound Module with initialized parameters")
            shared_group = shared_module._exec_group
            if len(shared_group.execs) < len(self._context):
                raise AssertionError("shared_module has fewer executors than this module's contexts")
        self._exec_group = DataParallelExecutorGroup(
            self._symbol, self._context, self._work_load_list, self._data_shapes, self._label_shapes,
            self._param_names, for_training, inputs_need_grad, shared_group, logger=self.logger,
            fixed_param_names=self._fixed_param_names, grad_req=grad_req, group2ctxs=self._group2ctxs,
            state_names=self._state_names)
        self._total_exec_bytes = self._exec_group._total_exec_bytes
        if shared_module is not None:
            self.params_initialized = True
            self._arg_params = shared_module._arg_params
            self._aux_params = shared_module._aux_params
        elif self.params_initialized:
            self._exec_group.set_params(self._arg_params, self._aux_params)
        else:
            # the CPU copies take the storage type the symbol declares (stype= of the variable), as MXNet's do
            stypes = {name: _STYPE_NAMES[int(attrs["__storage_type__"])]
                      for name, attrs in self._symbol.attr_dict().items() if "__storage_type__" in attrs}
            self._arg_params = {name: nd.zeros(arrays[0].shape, dtype=arrays[0].dtype,
                                               stype=stypes.get(name, "default"))
                                for name, arrays in zip(self._param_names, self._exec_group.param_arrays)}
            self._aux_params = {name: nd.zeros(arrays[0].shape, dtype=arrays[0].dtype)
                                for name, arrays in zip(self._aux_names, self._exec_group.aux_arrays)}
        if shared_module is not None and shared_module.optimizer_initialized:
            self.borrow_optimizer(shared_module)
        self.binded = True

    def reshape(self, data_shapes, label_shapes=None):
        """Re-bind for new input shapes, keeping the parameters."""
        self._check_bound()
        self._data_shapes, self._label_shapes = _parse_data_desc(self.data_names, self.label_names, data_shapes,
                                                                 label_shapes)
        self._exec_group.reshape(self._data_shapes, self._label_shapes)

    # --- optimizer ----------------------------------------------------------------------------------
    def init_optimizer(self, kvstore="local", optimizer="sgd", optimizer_params=(("learning_rate", 0.01),),
                       force_init=False):
        """Create the optimizer (rescale_grad = 1/batch_size unless given) and the KVStore or local Updater."""
        if self._optimizer_already_initialized(force_init):
            return
        if self._params_dirty:
            self._sync_params_from_devices()
        kvstore, update_on_kvstore = _create_kvstore(kvstore, len(self._context), self._arg_params)
        batch_size = self._exec_group.batch_size
        if kvstore and "dist" in kvstore.type and "_sync" in kvstore.type:
            batch_size *= kvstore.num_workers
        rescale_grad = 1.0 / batch_size
        names = self._exec_group.param_names
        if update_on_kvstore:
            idx2name = dict(enumerate(names))
        else:
            n = len(self._context)
            idx2name = {i * n + k: name for k in range(n) for i, name in enumerate(names)}
        if isinstance(optimizer, str):
            optimizer_params = dict(optimizer_params)
            optimizer_params.setdefault("rescale_grad", rescale_grad)
            optimizer = opt.create(optimizer, sym=self.symbol, param_idx2name=idx2name, **optimizer_params)
        else:
            if not isinstance(optimizer, opt.Optimizer):
                raise AssertionError("optimizer must be a name or an mx.optimizer.Optimizer")
            if optimizer.rescale_grad != rescale_grad:
                warnings.warn("Optimizer created manually outside Module but rescale_grad is not normalized to "
                              f"1.0/batch_size/num_workers ({optimizer.rescale_grad} vs. {rescale_grad}). Is this "
                              "intended?", stacklevel=2)
            if not optimizer.idx2name:
                optimizer.idx2name = idx2name.copy()
        self._optimizer = optimizer
        self._kvstore = kvstore
        self._update_on_kvstore = update_on_kvstore
        self._updater = None
        if kvstore:
            if self._compression_params:
                kvstore.set_gradient_compression(self._compression_params)
            if update_on_kvstore:
                kvstore.set_optimizer(self._optimizer)
            _initialize_kvstore(kvstore=kvstore, param_arrays=self._exec_group.param_arrays,
                                arg_params=self._arg_params, param_names=self._param_names,
                                update_on_kvstore=update_on_kvstore)
        if not update_on_kvstore:
            self._updater = opt.get_updater(optimizer)
        self.optimizer_initialized = True
        if self._preload_opt_states is not None:
            self.load_optimizer_states(self._preload_opt_states)
            self._preload_opt_states = None

    def borrow_optimizer(self, shared_module):
        """Use shared_module's optimizer, store and updater (bucketing)."""
        if not shared_module.optimizer_initialized:
            raise AssertionError("shared_module has no optimizer")
        self._optimizer = shared_module._optimizer
        self._kvstore = shared_module._kvstore
        self._update_on_kvstore = shared_module._update_on_kvstore
        self._updater = shared_module._updater
        self.optimizer_initialized = True

    def save_optimizer_states(self, fname):
        """Write the optimizer states (mx.optimizer's code-free format, not MXNet's pickle) to fname."""
        if not self.optimizer_initialized:
            raise AssertionError("call init_optimizer first")
        if self._update_on_kvstore:
            self._kvstore.save_optimizer_states(fname)
        else:
            atomic_write(fname, self._updater.get_states(), "optimizer states")

    def load_optimizer_states(self, fname):
        if not self.optimizer_initialized:
            raise AssertionError("call init_optimizer first")
        if self._update_on_kvstore:
            self._kvstore.load_optimizer_states(fname)
        else:
            set_states_from_file([self._updater], fname, "Module.load_optimizer_states")

    # --- computing ----------------------------------------------------------------------------------
    def forward(self, data_batch, is_train=None):
        """Run a DataBatch (or a list of per-device batches) forward; a batch of another shape re-binds first."""
        self._require(params=True)
        current = tuple(d.shape for d in self._data_shapes)
        if isinstance(data_batch, list):
            incoming = []
            for i in range(len(data_batch[0].data)):
                shape = data_batch[0].data[i].shape
                if any(b.data[i].shape != shape for b in data_batch):
                    raise AssertionError("All data batches in a list need to have the same shape")
                incoming.append((len(data_batch) * shape[0],) + shape[1:])
            incoming = tuple(incoming)
        else:
            incoming = tuple(d.shape for d in data_batch.data)
        if current != incoming:
            self.reshape(*self._descs_for(data_batch, incoming))
        self._exec_group.forward(data_batch, is_train)

    def _descs_for(self, data_batch, data_shapes):
        """(data descs, label descs) for a batch whose shapes differ from the bound ones."""
        if getattr(data_batch, "provide_data", None):
            data_descs = data_batch.provide_data
        else:
            data_descs = [DataDesc(d.name, s, d.dtype, d.layout) for d, s in zip(self._data_shapes, data_shapes)]
        if getattr(data_batch, "provide_label", None):
            label_descs = data_batch.provide_label
        elif getattr(data_batch, "label", None):
            label_descs = [DataDesc(d.name, lbl.shape, d.dtype, d.layout)
                           for d, lbl in zip(self._label_shapes, data_batch.label)]
        else:
            label_descs = None
        return data_descs, label_descs

    def backward(self, out_grads=None):
        self._require(params=True)
        self._exec_group.backward(out_grads=out_grads)

    def update(self):
        """Apply the optimizer to the gradients of the last backward."""
        self._require(params=True)
        if not self.optimizer_initialized:
            raise AssertionError("call init_optimizer first")
        self._params_dirty = True
        group = self._exec_group
        if self._update_on_kvstore:
            _update_params_on_kvstore(group.param_arrays, group.grad_arrays, self._kvstore, group.param_names)
        else:
            _update_params(group.param_arrays, group.grad_arrays, updater=self._updater,
                           num_device=len(self._context), kvstore=self._kvstore, param_names=group.param_names)

    def get_outputs(self, merge_multi_context=True):
        self._require(params=True)
        return self._exec_group.get_outputs(merge_multi_context=merge_multi_context)

    def get_input_grads(self, merge_multi_context=True):
        self._require(params=True)
        if not self.inputs_need_grad:
            raise AssertionError("bind with inputs_need_grad=True to get input gradients")
        return self._exec_group.get_input_grads(merge_multi_context=merge_multi_context)

    def get_states(self, merge_multi_context=True):
        self._require(params=True)
        return self._exec_group.get_states(merge_multi_context=merge_multi_context)

    def set_states(self, states=None, value=None):
        self._require(params=True)
        self._exec_group.set_states(states, value)

    def update_metric(self, eval_metric, labels, pre_sliced=False):
        self._exec_group.update_metric(eval_metric, labels, pre_sliced)

    def install_monitor(self, mon):
        self._check_bound()
        self._exec_group.install_monitor(mon)

    def prepare(self, data_batch, sparse_row_id_fn=None):
        """Pull the rows of row-sparse parameters that sparse_row_id_fn(data_batch) names from the KVStore."""
        self._check_bound()
        if sparse_row_id_fn is None:
            return
        if not self._kvstore or not self._update_on_kvstore:
            warnings.warn(UserWarning("Parameters are not updated in the KVStore. No need to call "
                                      "sparse_row_id_fn."))
            return
        row_ids = sparse_row_id_fn(data_batch)
        if not isinstance(row_ids, dict):
            raise AssertionError("Expected dict output from sparse_row_id_fn")
        for name, row_id in row_ids.items():
            index = self._exec_group.param_names.index(name)
            values = self._exec_group.param_arrays[index]
            if values[0].stype != "row_sparse":
                warnings.warn(UserWarning(f"{name}.stype is not 'row_sparse'. No need to perform row_sparse_pull."))
            else:
                self._kvstore.row_sparse_pull(name, values, row_ids=row_id, priority=-index)
