"""PythonModule and PythonLossModule: modules whose computation is written in Python rather than as a Symbol
(MXNet 1.9.1's python/mxnet/module/python_module.py), typically the last stage of a SequentialModule."""
import logging

from .. import ndarray as nd
from ..initializer import Uniform
from .base_module import BaseModule

__all__ = ["PythonModule", "PythonLossModule"]


class PythonModule(BaseModule):
    """A module without parameters: binding checks the data/label names and asks the subclass for its output
    shapes (`_compute_output_shapes`); parameters, optimizer and update are no-ops. Subclasses provide
    forward, backward, get_outputs and get_input_grads."""

    def __init__(self, data_names, label_names, output_names, logger=logging):
        super().__init__(logger=logger)
        self._data_names = list(data_names) if isinstance(data_names, tuple) else data_names
        self._label_names = list(label_names) if isinstance(label_names, tuple) else label_names
        self._output_names = output_names
        self._data_shapes = None
        self._label_shapes = None
        self._output_shapes = None

    @property
    def data_names(self):
        return self._data_names

    @property
    def output_names(self):
        return self._output_names

    @property
    def data_shapes(self):
        return self._data_shapes

    @property
    def label_shapes(self):
        return self._label_shapes

    @property
    def output_shapes(self):
        return self._output_shapes

    def get_params(self):
        return {}, {}

    def init_params(self, initializer=Uniform(0.01), arg_params=None, aux_params=None, allow_missing=False,
                    force_init=False, allow_extra=False):
        """There are no parameters: nothing to fill."""
        self.params_initialized = True

    def init_optimizer(self, kvstore="local", optimizer="sgd", optimizer_params=(("learning_rate", 0.01),),
                       force_init=False):
        """There are no parameters: nothing to optimize."""
        self.optimizer_initialized = True

    def update(self):
        """There are no parameters: nothing to update."""

    def update_metric(self, eval_metric, labels, pre_sliced=False):
        """Update eval_metric with labels and the last outputs (nothing when bound without labels)."""
        if self._label_shapes is None:
            return
        if pre_sliced:
            raise RuntimeError("PythonModule does not support presliced labels")
        eval_metric.update(labels, self.get_outputs())

    def bind(self, data_shapes, label_shapes=None, for_training=True, inputs_need_grad=False, force_rebind=False,
             shared_module=None, grad_req="write"):
        """Record the input shapes, which must name data_names (and label_names) in order, and compute the
        output shapes. Only grad_req='write' is supported."""
        if self.binded and not force_rebind:
            self.logger.warning("Already bound, ignoring bind()")
            return
        if grad_req != "write":
            raise AssertionError(f"{type(self).__name__}: Python module only support write gradient, "
                                 f"got grad_req={grad_req!r}")
        _check_names(type(self).__name__, "data", self._data_names, data_shapes)
        if label_shapes is not None:
            if self._label_names is None:
                raise AssertionError(f"{type(self).__name__}: label_shapes given to a module without "
                                     "label_names")
            _check_names(type(self).__name__, "label", self._label_names, label_shapes)
        self.for_training = for_training
        self.inputs_need_grad = inputs_need_grad
        self._data_shapes = data_shapes
        self._label_shapes = label_shapes
        self._output_shapes = self._compute_output_shapes()
        self.binded = True

    def _compute_output_shapes(self):
        """[(output name, shape)] from self._data_shapes and self._label_shapes: subclasses say."""
        raise NotImplementedError()


def _check_names(module, kind, names, shapes):
    given = [d[0] for d in shapes]
    if given != list(names):
        raise AssertionError(f"{module}: {kind} shapes name {given}, the module expects {list(names)} (in order)")


class PythonLossModule(PythonModule):
    """A loss stage: forward passes its one input (the scores) through as the output `<name>_output`;
    backward computes the gradient of the loss with respect to the scores as grad_func(scores, labels)
    (a NumPy array or an NDArray), or through `_backward_impl` in a subclass."""

    def __init__(self, name="pyloss", data_names=("data",), label_names=("softmax_label",), logger=logging,
                 grad_func=None):
        super().__init__(data_names, label_names, [name + "_output"], logger=logger)
        if len(data_names) != 1 or len(label_names) != 1:
            raise AssertionError(f"PythonLossModule: one data and one label name, got {list(data_names)} and "
                                 f"{list(label_names)}")
        if grad_func is not None and not callable(grad_func):
            raise AssertionError(f"PythonLossModule: grad_func must be callable, got {grad_func!r}")
        self._name = name
        self._scores = None
        self._labels = None
        self._scores_grad = None
        self._grad_func = grad_func

    def _compute_output_shapes(self):
        return [(self._name + "_output", self._data_shapes[0][1])]

    def forward(self, data_batch, is_train=None):
        """Keep the scores (and, when training, the labels) for get_outputs and backward."""
        self._scores = data_batch.data[0]
        if is_train is None:
            is_train = self.for_training
        if is_train:
            self._labels = data_batch.label[0]

    def get_outputs(self, merge_multi_context=True):
        _single_context(merge_multi_context)
        return [self._scores]

    def backward(self, out_grads=None):
        if out_grads is not None:
            raise AssertionError("PythonLossModule: for a loss module, out_grads should be None")
        if not self.for_training:
            raise AssertionError("PythonLossModule: bind with for_training=True before backward")
        self._backward_impl()

    def _backward_impl(self):
        """self._scores_grad = grad_func(self._scores, self._labels) as an NDArray."""
        if self._grad_func is None:
            raise NotImplementedError("PythonLossModule: give grad_func or override _backward_impl")
        grad = self._grad_func(self._scores, self._labels)
        self._scores_grad = grad if isinstance(grad, nd.NDArray) else nd.array(grad)

    def get_input_grads(self, merge_multi_context=True):
        _single_context(merge_multi_context)
        return [self._scores_grad]

    def install_monitor(self, mon):
        raise NotImplementedError("PythonLossModule runs no executor to monitor")


def _single_context(merge_multi_context):
    if merge_multi_context is not True:
        raise AssertionError("PythonLossModule computes on one context: merge_multi_context must be True")
