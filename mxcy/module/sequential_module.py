"""SequentialModule: modules chained so that each one's outputs are the next one's data, trained as one."""
import copy
import logging

from ..initializer import Uniform
from .base_module import BaseModule

__all__ = ["SequentialModule"]


def _shape_pairs(shapes):
    """(name, shape) pairs from DataDescs or pairs."""
    return [(desc[0], tuple(desc[1])) for desc in shapes]


class SequentialModule(BaseModule):
    """Modules run in the order added; `add(module, take_labels=True)` gives a module the labels (it
    then also updates the metrics), `auto_wiring=True` renames the previous outputs to its data names.
    Backward passes each module's input gradients to the one before it."""

    META_TAKE_LABELS = 'take_labels'
    META_AUTO_WIRING = 'auto_wiring'

    def __init__(self, logger=logging):
        super().__init__(logger=logger)
        self._modules = []
        self._metas = []
        self._label_shapes = None
        self._meta_keys = {self.META_TAKE_LABELS, self.META_AUTO_WIRING}

    def add(self, module, **kwargs):
        """Append `module` (kwargs: take_labels, auto_wiring); returns self so calls chain."""
        unknown = set(kwargs) - self._meta_keys
        if unknown:
            raise AssertionError(f'SequentialModule.add: unknown meta {sorted(unknown)}, a typo?')
        self._modules.append(module)
        self._metas.append(kwargs)
        self.binded = self.params_initialized = self.optimizer_initialized = False
        return self

    def _takes_labels(self, i):
        return bool(self._metas[i].get(self.META_TAKE_LABELS, False))

    @property
    def data_names(self):
        return self._modules[0].data_names if self._modules else []

    @property
    def output_names(self):
        return self._modules[-1].output_names if self._modules else []

    @property
    def data_shapes(self):
        self._require()
        return self._modules[0].data_shapes

    @property
    def label_shapes(self):
        self._require()
        return self._label_shapes

    @property
    def output_shapes(self):
        self._require()
        return self._modules[-1].output_shapes

    def get_params(self):
        self._require(params=True)
        arg_params, aux_params = {}, {}
        for module in self._modules:
            args, auxs = module.get_params()
            arg_params.update(args)
            aux_params.update(auxs)
        return arg_params, aux_params

    def init_params(self, initializer=Uniform(0.01), arg_params=None, aux_params=None, allow_missing=False,
                    force_init=False, allow_extra=False):
        """Initialise every module; two modules may not have a parameter of the same name."""
        if self.params_initialized and not force_init:
            return
        self._require()
        for module in self._modules:
            module.init_params(initializer=initializer, arg_params=arg_params, aux_params=aux_params,
                               allow_missing=allow_missing, force_init=force_init, allow_extra=allow_extra)
        owners = ({}, {})
        for i, module in enumerate(self._modules):
            for known, names in zip(owners, module.get_params()):
                for name in names:
                    if name in known:
                        raise AssertionError(f'Duplicated parameter names: name "{name}" in layer {i} '
                                             f'({type(module).__name__}) is already used in layer {known[name]}')
                    known[name] = i
        self.params_initialized = True

    def bind(self, data_shapes, label_shapes=None, for_training=True, inputs_need_grad=False, force_rebind=False,
             shared_module=None, grad_req="write"):
        """Bind each module to the previous one's output shapes; every module after the first needs
        input gradients when training."""
        if self.binded and not force_rebind:
            self.logger.warning("Already bound, ignoring bind()")
            return
        if inputs_need_grad and not for_training:
            raise AssertionError("SequentialModule: inputs_need_grad needs for_training=True")
        if shared_module is not None:
            raise AssertionError("SequentialModule: shared_module is not supported")
        if not self._modules:
            raise AssertionError("Attempting to bind an empty SequentialModule")
        self.for_training = for_training
        self.inputs_need_grad = inputs_need_grad
        shapes = data_shapes
        for i, module in enumerate(self._modules):
            if self._metas[i].get(self.META_AUTO_WIRING, False):
                if len(module.data_names) != len(shapes):
                    raise AssertionError(f"SequentialModule: layer {i} takes {len(module.data_names)} data "
                                         f"inputs but gets {len(shapes)}")
                shapes = [(name, shape) for name, (_, shape) in zip(module.data_names, _shape_pairs(shapes))]
            module.bind(data_shapes=shapes, label_shapes=label_shapes if self._takes_labels(i) else None,
                        for_training=for_training, inputs_need_grad=bool(inputs_need_grad or (for_training and i > 0)),
                        force_rebind=force_rebind, shared_module=None, grad_req=grad_req)
            shapes = module.output_shapes
        self._label_shapes = label_shapes if any(map(self._takes_labels, range(len(self._modules)))) else None
        self.binded = True

    def init_optimizer(self, kvstore="local", optimizer="sgd", optimizer_params=(("learning_rate", 0.01),),
                       force_init=False):
        if self._optimizer_already_initialized(force_init):
            return
        for module in self._modules:
            module.init_optimizer(kvstore=kvstore, optimizer=optimizer, optimizer_params=optimizer_params,
                                  force_init=force_init)
        self.optimizer_initialized = True

    def forward(self, data_batch, is_train=None):
        self._require(params=True)
        data_batch = copy.copy(data_batch)
        for i, module in enumerate(self._modules):
            module.forward(data_batch, is_train=is_train)
            if i + 1 == len(self._modules):
                break
            data_batch.data = module.get_outputs()
            if getattr(data_batch, 'provide_data', None) is not None:
                names = [name for name, _ in _shape_pairs(module.output_shapes)]
                data_batch.provide_data = [(name, x.shape) for name, x in zip(names, data_batch.data)]

    def backward(self, out_grads=None):
        self._require(params=True)
        for i in reversed(range(len(self._modules))):
            self._modules[i].backward(out_grads=out_grads)
            if i > 0:
                out_grads = self._modules[i].get_input_grads()

    def update(self):
        self._require(params=True, optimizer=True)
        for module in self._modules:
            module.update()

    def get_outputs(self, merge_multi_context=True):
        self._require(params=True)
        return self._modules[-1].get_outputs(merge_multi_context=merge_multi_context)

    def get_input_grads(self, merge_multi_context=True):
        self._require(params=True)
        if not self.inputs_need_grad:
            raise AssertionError("SequentialModule: bind with inputs_need_grad=True to get input gradients")
        return self._modules[0].get_input_grads(merge_multi_context=merge_multi_context)

    def update_metric(self, eval_metric, labels, pre_sliced=False):
        self._require(params=True)
        for i, module in enumerate(self._modules):
            if self._takes_labels(i):
                module.update_metric(eval_metric, labels, pre_sliced)

    def install_monitor(self, mon):
        self._require()
        for module in self._modules:
            module.install_monitor(mon)
