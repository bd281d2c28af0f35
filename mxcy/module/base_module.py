"""BaseModule: the training and inference loops every module shares (fit, score, predict, iter_predict),
parameter files, and the checks of data/label names against a symbol."""
import logging
import time
import warnings

import numpy as np

from .. import metric, progress
from .. import ndarray as nd
from ..context import cpu
from ..initializer import Uniform
from ..io import DataBatch, DataDesc, DataIter
from ..model import BatchEndParam, _split_params

__all__ = ["BaseModule"]


def _as_list(obj):
    return obj if isinstance(obj, list) else [obj]


def _check_input_names(symbol, names, typename, throw):
    """Every name must be an argument of `symbol`: a ValueError (or, for labels, a warning) naming the
    candidates otherwise."""
    args = symbol.list_arguments()
    for name in names:
        if name in args:
            continue
        candidates = [a for a in args if not a.endswith(("_weight", "_bias", "_gamma", "_beta"))]
        msg = (f"You created Module with Module(..., {typename}_names={names}) but input with name '{name}' is "
               "not found in symbol.list_arguments(). Did you mean one of:\n\t" + "\n\t".join(candidates))
        if throw:
            raise ValueError(msg)
        warnings.warn(msg)


def _check_names_match(data_names, data_shapes, name, throw):
    """The names of the given shapes must be exactly data_names (in any order)."""
    actual = [d[0] for d in data_shapes]
    if sorted(data_names) != sorted(actual):
        msg = f"Data provided by {name}_shapes don't match names specified by {name}_names ({data_shapes} vs. " \
              f"{data_names})"
        if throw:
            raise ValueError(msg)
        warnings.warn(msg)


def _bounded(total, num_batch):
    """A pass's batch count when at most num_batch are taken."""
    if num_batch is None:
        return total
    return num_batch if total is None else min(total, num_batch)


def _parse_data_desc(data_names, label_names, data_shapes, label_shapes):
    """data_shapes/label_shapes as DataDescs, checked against the module's names; a shape that is not a
    tuple of ints is a TypeError."""
    def descs(shapes):
        out = [d if isinstance(d, DataDesc) else DataDesc(*d) for d in shapes]
        for d in out:
            if not isinstance(d.shape, (tuple, list)) or not all(isinstance(s, (int, np.integer)) for s in d.shape):
                raise TypeError(f"shape of '{d.name}' must be a tuple of ints, got {d.shape!r}")
        return out

    data_shapes = descs(data_shapes)
    _check_names_match(data_names, data_shapes, "data", True)
    if label_shapes is not None:
        label_shapes = descs(label_shapes)
        _check_names_match(label_names, label_shapes, "label", False)
    else:
        _check_names_match(label_names, [], "label", False)
    return data_shapes, label_shapes


class BaseModule:
    """What a module is: bound to shapes, holding parameters, optionally an optimizer; subclasses provide
    bind/init_params/init_optimizer/forward/backward/update/... and inherit the loops below."""

    def __init__(self, logger=logging):
        self.logger = logger
        self.binded = False
        self.for_training = False
        self.inputs_need_grad = False
        self.params_initialized = False
        self.optimizer_initialized = False
        self._symbol = None
        self._total_exec_bytes = 0
        self.metric_history = None  # fit's per-epoch metric values (mx.curves.MetricHistory)

    # --- loops --------------------------------------------------------------------------------------
    def forward_backward(self, data_batch):
        self.forward(data_batch, is_train=True)
        self.backward()

    def score(self, eval_data, eval_metric, num_batch=None, batch_end_callback=None, score_end_callback=None,
              reset=True, epoch=0, sparse_row_id_fn=None):
        """Run `eval_data` (up to num_batch batches) forward and return eval_metric's (name, value) pairs."""
        self._require(params=True)
        if reset:
            eval_data.reset()
        if not isinstance(eval_metric, metric.EvalMetric):
            eval_metric = metric.create(eval_metric)
        eval_metric.reset()
        done = 0
        live = progress.bar(f"Epoch[{epoch}] score", total=_bounded(progress.batches_in(eval_data), num_batch))
        for nbatch, batch in enumerate(eval_data):
            if num_batch is not None and nbatch == num_batch:
                break
            self.prepare(batch, sparse_row_id_fn=sparse_row_id_fn)
            self.forward(batch, is_train=False)
            self._update_metric_from(eval_metric, batch)
            live.update()
            if live.live:  # the metric is read only for a bar that shows it
                live.set_postfix(eval_metric.get_name_value())
            if batch_end_callback is not None:
                params = BatchEndParam(epoch=epoch, nbatch=nbatch, eval_metric=eval_metric, locals=locals())
                for callback in _as_list(batch_end_callback):
                    callback(params)
            done += 1
        live.close()
        if score_end_callback:
            params = BatchEndParam(epoch=epoch, nbatch=done, eval_metric=eval_metric, locals=locals())
            for callback in _as_list(score_end_callback):
                callback(params)
        return eval_metric.get_name_value()

    def _update_metric_from(self, eval_metric, batch):
        if isinstance(batch, list):
            self.update_metric(eval_metric, [b.label for b in batch], pre_sliced=True)
        else:
            self.update_metric(eval_metric, batch.label)

    def _optimizer_already_initialized(self, force_init):
        """init_optimizer's guard: parameters must be initialized; an optimizer already there is kept (with
        MXNet's warning) unless force_init."""
        self._require(params=True)
        if self.optimizer_initialized and not force_init:
            self.logger.warning("optimizer already initialized, ignoring...")
            return True
        return False

    def _require(self, bound=True, params=False, optimizer=False):
        """Raise MXNet's AssertionError, naming the module class, unless the steps asked for are done."""
        for wanted, done, step in ((bound, self.binded, "bind"), (params, self.params_initialized, "init_params"),
                                   (optimizer, self.optimizer_initialized, "init_optimizer")):
            if wanted and not done:
                raise AssertionError(f"{type(self).__name__}: call {step} first")

    def iter_predict(self, eval_data, num_batch=None, reset=True, sparse_row_id_fn=None):
        """Yield (outputs without the batch's padding, batch number, batch) for each batch of eval_data."""
        self._require(params=True)
        if reset:
            eval_data.reset()
        live = progress.bar("predict", total=_bounded(progress.batches_in(eval_data), num_batch))
        try:
            for nbatch, batch in enumerate(eval_data):
                if num_batch is not None and nbatch == num_batch:
                    break
                self.prepare(batch, sparse_row_id_fn=sparse_row_id_fn)
                self.forward(batch, is_train=False)
                live.update()
                yield [out[0:out.shape[0] - batch.pad] for out in self.get_outputs()], nbatch, batch
        finally:
            live.close()

    def predict(self, eval_data, num_batch=None, merge_batches=True, reset=True, always_output_list=False,
                sparse_row_id_fn=None):
        """The outputs over eval_data (a DataIter, or one NDArray/NumPy batch), padding removed; merged over
        batches into one array per output (a bare array for a single output unless always_output_list)."""
        self._require(params=True)
        if isinstance(eval_data, (nd.NDArray, np.ndarray)):
            if isinstance(eval_data, np.ndarray):
                eval_data = nd.array(eval_data)
            self.forward(DataBatch([eval_data]))
            return self.get_outputs()[0]
        if not isinstance(eval_data, DataIter):
            raise ValueError("eval_data must be of type NDArray or DataIter")
        per_batch = [[out.copy() for out in outputs] for outputs, _, _ in
                     self.iter_predict(eval_data, num_batch=num_batch, reset=reset, sparse_row_id_fn=sparse_row_id_fn)]
        if not per_batch or not merge_batches:
            return per_batch
        num_outputs = len(per_batch[0])
        if any(len(outs) != num_outputs for outs in per_batch):
            raise AssertionError("Cannot merge batches, as num of outputs is not the same in mini-batches. Maybe "
                                 "bucketing is used?")
        merged = [nd.concatenate([outs[i] for outs in per_batch]) for i in range(num_outputs)]
        return merged[0] if num_outputs == 1 and not always_output_list else merged

    def fit(self, train_data, eval_data=None, eval_metric="acc", epoch_end_callback=None, batch_end_callback=None,
            kvstore="local", optimizer="sgd", optimizer_params=(("learning_rate", 0.01),), eval_end_callback=None,
            eval_batch_end_callback=None, initializer=Uniform(0.01), arg_params=None, aux_params=None,
            allow_missing=False, force_rebind=False, force_init=False, begin_epoch=0, num_epoch=None,
            validation_metric=None, monitor=None, sparse_row_id_fn=None):
        """Train for epochs begin_epoch .. num_epoch-1, logging MXNet's 'Epoch[%d] Train-<metric>=%f',
        'Epoch[%d] Time cost=%.3f' and (with eval_data) 'Epoch[%d] Validation-<metric>=%f' lines."""
        if num_epoch is None:
            raise AssertionError("please specify number of epochs")
        self.bind(data_shapes=train_data.provide_data, label_shapes=train_data.provide_label, for_training=True,
                  force_rebind=force_rebind)
        if monitor is not None:
            self.install_monitor(monitor)
        self.init_params(initializer=initializer, arg_params=arg_params, aux_params=aux_params,
                         allow_missing=allow_missing, force_init=force_init)
        self.init_optimizer(kvstore=kvstore, optimizer=optimizer, optimizer_params=optimizer_params)
        if validation_metric is None:
            validation_metric = eval_metric
        if not isinstance(eval_metric, metric.EvalMetric):
            eval_metric = metric.create(eval_metric)
        from ..curves import MetricHistory  # mx.curves reaches into gluon, which imports this module
        if begin_epoch == 0 or self.metric_history is None:
            self.metric_history = MetricHistory()  # what mx.curves.plot_history draws
        for epoch in range(begin_epoch, num_epoch):
            tic = time.time()
            eval_metric.reset()
            self._begin_epoch(epoch, train_data)
            live = progress.bar(f"Epoch[{epoch}]", total=progress.batches_in(train_data))
            batches = iter(train_data)
            next_batch = next(batches)
            nbatch, last = 0, False
            while not last:
                data_batch = next_batch
                if monitor is not None:
                    monitor.tic()
                self.forward_backward(data_batch)
                self.update()
                self._update_metric_from(eval_metric, data_batch)
                live.update()
                if live.live:  # the metric is read only for a bar that shows it
                    live.set_postfix(eval_metric.get_name_value())
                try:
                    next_batch = next(batches)
                    self.prepare(next_batch, sparse_row_id_fn=sparse_row_id_fn)
                except StopIteration:
                    last = True
                if monitor is not None:
                    monitor.toc_print()
                if last:
                    train_values = eval_metric.get_global_name_value()
                if batch_end_callback is not None:
                    params = BatchEndParam(epoch=epoch, nbatch=nbatch, eval_metric=eval_metric, locals=locals())
                    for callback in _as_list(batch_end_callback):
                        callback(params)
                nbatch += 1
            live.close()
            for name, value in train_values:
                self.logger.info("Epoch[%d] Train-%s=%f", epoch, name, value)
                self.metric_history.record(epoch, "train", name, value)
            self.logger.info("Epoch[%d] Time cost=%.3f", epoch, time.time() - tic)
            arg_params_now, aux_params_now = self.get_params()
            self.set_params(arg_params_now, aux_params_now)
            if epoch_end_callback is not None:
                for callback in _as_list(epoch_end_callback):
                    callback(epoch, self.symbol, arg_params_now, aux_params_now)
            if eval_data is not None:
                results = self.score(eval_data, validation_metric, score_end_callback=eval_end_callback,
                                     batch_end_callback=eval_batch_end_callback, epoch=epoch)
                for name, value in results:
                    self.logger.info("Epoch[%d] Validation-%s=%f", epoch, name, value)
                    self.metric_history.record(epoch, "validation", name, value)
            train_data.reset()

    def _begin_epoch(self, epoch, train_data):
        """What a module does before fit's epoch `epoch` (SVRGModule computes its full gradients)."""

    # --- what subclasses provide --------------------------------------------------------------------
    @property
    def symbol(self):
        return self._symbol

    @property
    def data_names(self):
        raise NotImplementedError()

    @property
    def output_names(self):
        raise NotImplementedError()

    @property
    def data_shapes(self):
        raise NotImplementedError()

    @property
    def label_shapes(self):
        raise NotImplementedError()

    @property
    def output_shapes(self):
        raise NotImplementedError()

    def get_params(self):
        raise NotImplementedError()

    def init_params(self, initializer=Uniform(0.01), arg_params=None, aux_params=None, allow_missing=False,
                    force_init=False, allow_extra=False):
        raise NotImplementedError()

    def set_params(self, arg_params, aux_params, allow_missing=False, force_init=True, allow_extra=False):
        self.init_params(initializer=None, arg_params=arg_params, aux_params=aux_params,
                         allow_missing=allow_missing, force_init=force_init, allow_extra=allow_extra)

    def save_params(self, fname):
        """Write the parameters to `fname` in MXNet's .params format ('arg:'/'aux:' keys)."""
        arg_params, aux_params = self.get_params()
        arrays = {f"arg:{k}": v.as_in_context(cpu()) for k, v in arg_params.items()}
        arrays.update({f"aux:{k}": v.as_in_context(cpu()) for k, v in aux_params.items()})
        nd.save(fname, arrays)

    def load_params(self, fname):
        saved = nd.load(fname)
        if not isinstance(saved, dict):
            raise ValueError("Invalid param file " + fname)
        try:
            arg_params, aux_params = _split_params(saved, fname)
        except Exception as err:  # noqa: BLE001 - MXNet reports any key problem as an invalid file
            raise ValueError(f"Invalid param file {fname}: {err}") from None
        self.set_params(arg_params, aux_params)

    def get_states(self, merge_multi_context=True):
        self._require(params=True)
        if merge_multi_context:
            raise AssertionError("this module has no states to merge")
        return []

    def set_states(self, states=None, value=None):
        self._require(params=True)
        if states or value:
            raise AssertionError("this module has no states")

    def install_monitor(self, mon):
        raise NotImplementedError()

    def prepare(self, data_batch, sparse_row_id_fn=None):
        """Get ready for `data_batch` (bucket switching, row-sparse pulls); nothing to do here."""
        if sparse_row_id_fn is not None:
            warnings.warn(UserWarning("sparse_row_id_fn is not invoked for BaseModule."))

    def forward(self, data_batch, is_train=None):
        raise NotImplementedError()

    def backward(self, out_grads=None):
        raise NotImplementedError()

    def get_outputs(self, merge_multi_context=True):
        raise NotImplementedError()

    def get_input_grads(self, merge_multi_context=True):
        raise NotImplementedError()

    def update(self):
        raise NotImplementedError()

    def update_metric(self, eval_metric, labels, pre_sliced=False):
        raise NotImplementedError()

    def bind(self, data_shapes, label_shapes=None, for_training=True, inputs_need_grad=False, force_rebind=False,
             shared_module=None, grad_req="write"):
        raise NotImplementedError()

    def init_optimizer(self, kvstore="local", optimizer="sgd", optimizer_params=(("learning_rate", 0.01),),
                       force_init=False):
        raise NotImplementedError()
