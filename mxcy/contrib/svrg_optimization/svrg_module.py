"""SVRGModule: a Module trained with stochastic variance-reduced gradients (Johnson & Zhang, 2013). Every
`update_freq` epochs it snapshots the weights into an auxiliary Module and averages the gradient over the whole
training set there; each step then uses grad(w, batch) - grad(snapshot, batch) + full average."""
import logging

from ... import ndarray as nd
from ...context import cpu
from ...model import _create_kvstore
from ...module import Module
from ...optimizer import create
from .svrg_optimizer import _SVRGOptimizer

__all__ = ["SVRGModule"]


class SVRGModule(Module):
    """Module's arguments plus `update_freq` (a positive int: full gradients are recomputed at the epochs
    that are multiples of it). `_mod_aux` is the snapshot Module; `_param_dict[k][name]` the full-gradient
    average of parameter `name` on context k.

    Differs from MXNet 1.9.1 deliberately: each update_full_grads starts its average from zero (MXNet adds the
    new average to the previous one), and init_optimizer leaves the devices' weights alone (MXNet pulls the
    zero '<name>_full' keys into them when the KVStore updates)."""

    def __init__(self, symbol, data_names=("data",), label_names=("softmax_label",), logger=logging,
                 context=cpu(), work_load_list=None, fixed_param_names=None, state_names=None, group2ctxs=None,
                 compression_params=None, update_freq=None):
        super().__init__(symbol, data_names=data_names, label_names=label_names, logger=logger, context=context,
                         work_load_list=work_load_list, fixed_param_names=fixed_param_names,
                         state_names=state_names, group2ctxs=group2ctxs, compression_params=compression_params)
        if not isinstance(update_freq, int) or isinstance(update_freq, bool):
            raise TypeError("update_freq in SVRGModule must be an integer to represent the frequency for "
                            f"calculating full gradients, got {update_freq!r}")
        if update_freq <= 0:
            raise ValueError("update_freq in SVRGModule must be a positive integer to represent the frequency for "
                             f"calculating full gradients, got {update_freq}")
        self.update_freq = update_freq
        self._mod_aux = Module(symbol, data_names, label_names, logger, context, work_load_list, fixed_param_names,
                               state_names, group2ctxs, compression_params)
        self._param_dict = None
        self._ctx_len = len(self._context)

    # --- both modules ------------------------------------------------------------------------------
    def _reset_bind(self):
        super()._reset_bind()
        self._mod_aux._reset_bind()

    def reshape(self, data_shapes, label_shapes=None):
        super().reshape(data_shapes, label_shapes=label_shapes)
        self._mod_aux.reshape(data_shapes, label_shapes=label_shapes)

    def bind(self, data_shapes, label_shapes=None, for_training=True, inputs_need_grad=False, force_rebind=False,
             shared_module=None, grad_req="write"):
        """Bind this module, and for training the snapshot module too."""
        super().bind(data_shapes, label_shapes, for_training, inputs_need_grad, force_rebind, shared_module,
                     grad_req)
        if for_training:
            self._mod_aux.bind(data_shapes, label_shapes, for_training, inputs_need_grad, force_rebind,
                               shared_module, grad_req)

    def forward(self, data_batch, is_train=None):
        """Forward here; with is_train=True also through the snapshot (whose gradients update() needs)."""
        super().forward(data_batch, is_train)
        if is_train:
            self._mod_aux.forward(data_batch, is_train)

    def backward(self, out_grads=None):
        super().backward(out_grads)
        if self._mod_aux.binded:
            self._mod_aux.backward(out_grads)

    def prepare(self, data_batch, sparse_row_id_fn=None):
        super().prepare(data_batch, sparse_row_id_fn=sparse_row_id_fn)
        self._mod_aux.prepare(data_batch, sparse_row_id_fn=sparse_row_id_fn)

    # --- optimizer ---------------------------------------------------------------------------------
    def init_optimizer(self, kvstore="local", optimizer="sgd", optimizer_params=(("learning_rate", 0.01),),
                       force_init=False):
        """Install an _SVRGOptimizer around `optimizer`; with a KVStore, also a '<name>_full' key per
        parameter in which the devices' full gradients are summed."""
        self._param_dict = [{name: nd.zeros(value.shape, ctx=context) for name, value in self.get_params()[0].items()}
                            for context in self._context]
        svrg = self._create_optimizer(_SVRGOptimizer.__name__, default_opt=optimizer, kvstore=kvstore,
                                      optimizer_params=optimizer_params)
        super().init_optimizer(kvstore=kvstore, optimizer=svrg, optimizer_params=optimizer_params,
                               force_init=force_init)
        if self._kvstore:
            for name in self._exec_group.param_names:
                self._kvstore.init(name + "_full", nd.zeros(self._arg_params[name].shape))

    def _create_optimizer(self, optimizer, default_opt, kvstore, optimizer_params):
        """The _SVRGOptimizer Module.init_optimizer would build (rescale_grad, index names), its index names
        extended with the '<name>_full' keys."""
        batch_size = self._exec_group.batch_size
        kv_store, update_on_kvstore = _create_kvstore(kvstore, self._ctx_len, self._arg_params)
        if kv_store and "dist" in kv_store.type and "_sync" in kv_store.type:
            batch_size *= kv_store.num_workers
        names = self._exec_group.param_names
        if update_on_kvstore:
            idx2name = dict(enumerate(names))
        else:
            idx2name = {i * self._ctx_len + k: n for k in range(self._ctx_len) for i, n in enumerate(names)}
        for name in self._param_dict[0]:
            idx2name[max(idx2name, default=-1) + 1] = name + "_full"
        params = dict(optimizer_params)
        params.setdefault("rescale_grad", 1.0 / batch_size)
        params["default_optimizer"] = default_opt
        params["param_idx2name"] = idx2name
        return create(optimizer, **params)

    # --- SVRG --------------------------------------------------------------------------------------
    def update(self):
        """Replace each gradient by the SVRG one, then let the optimizer apply it."""
        self._update_svrg_gradients()
        super().update()

    def update_full_grads(self, train_data):
        """Snapshot the current weights into the auxiliary module and average its gradients over every batch of
        train_data (the last batch's padding counted as a fraction of a batch); with a KVStore, the devices'
        averages are then summed there and each device gets their mean."""
        param_names = self._exec_group.param_names
        arg, aux = self.get_params()
        self._mod_aux.set_params(arg_params=arg, aux_params=aux)
        train_data.reset()
        totals = [{name: nd.zeros(value.shape, ctx=value.context) for name, value in per_ctx.items()}
                  for per_ctx in self._param_dict]
        nbatch = padding = 0
        for batch in train_data:
            self._mod_aux.forward(batch, is_train=True)
            self._mod_aux.backward()
            nbatch += 1
            for k in range(self._ctx_len):
                for index, name in enumerate(param_names):
                    grad = self._mod_aux._exec_group.grad_arrays[index][k]
                    if grad is not None:
                        totals[k][name] += grad
            padding = batch.pad
        true_num_batch = nbatch - padding / train_data.batch_size
        for name in param_names:
            averages = [totals[k][name] / true_num_batch for k in range(self._ctx_len)]
            for k in range(self._ctx_len):
                self._param_dict[k][name] = averages[k]
            if self._kvstore:
                self._accumulate_kvstore(name, averages)

    def _accumulate_kvstore(self, key, value):
        """Sum the per-device (and per-worker) full gradients `value` in the KVStore key '<key>_full', pull the
        sum back into `value` and give each device its mean."""
        self._kvstore.push(key + "_full", value)
        self._kvstore._barrier()
        self._kvstore.pull(key + "_full", value)
        self._allocate_gradients(key, value)

    def _allocate_gradients(self, key, value):
        for k in range(self._ctx_len):
            self._param_dict[k][key] = value[k] / self._ctx_len

    def _svrg_grads_update_rule(self, g_curr_batch_curr_weight, g_curr_batch_special_weight,
                                g_special_weight_all_batch):
        """grad(w, batch) - grad(snapshot, batch) + full average, written into the first list's arrays."""
        for index, grad in enumerate(g_curr_batch_curr_weight):
            grad -= g_curr_batch_special_weight[index]
            grad += g_special_weight_all_batch[index]
        return g_curr_batch_curr_weight

    def _update_svrg_gradients(self):
        if self._param_dict is None:
            raise AssertionError("SVRGModule: call init_optimizer before update")
        group, snapshot = self._exec_group, self._mod_aux._exec_group
        for k in range(self._ctx_len):
            trained = [i for i, grads in enumerate(group.grad_arrays) if grads[k] is not None]
            self._svrg_grads_update_rule([group.grad_arrays[i][k] for i in trained],
                                         [snapshot.grad_arrays[i][k] for i in trained],
                                         [self._param_dict[k][group.param_names[i]] for i in trained])

    def _begin_epoch(self, epoch, train_data):
        """fit recomputes the full gradients at the epochs that are multiples of update_freq."""
        if epoch % self.update_freq == 0:
            self.update_full_grads(train_data)
            train_data.reset()
