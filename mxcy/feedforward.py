"""mx.model.FeedForward: MXNet's deprecated pre-Module training API (fit/predict/score on NumPy arrays or
DataIters, save/load/create), kept for old scripts and run here on mx.mod.Module."""
import logging

import numpy as np

from . import io
from . import metric
from . import ndarray as nd
from .callback import LogValidationMetricsCallback
from .context import Context, cpu
from .initializer import Uniform
from .model import BatchEndParam, load_checkpoint, save_checkpoint
from .module import Module

__all__ = ["FeedForward"]


class FeedForward:
    """A symbol with its parameters and a training recipe: `num_epoch` epochs (of `epoch_size` batches when
    given) of `optimizer` (kwargs are its parameters) from `initializer`; NumPy inputs are batched by
    numpy_batch_size. Deprecated in MXNet 1.x in favour of mx.mod.Module, which does the work here."""

    def __init__(self, symbol, ctx=None, num_epoch=None, epoch_size=None, optimizer="sgd", initializer=Uniform(0.01),
                 numpy_batch_size=128, arg_params=None, aux_params=None, allow_extra_params=False, begin_epoch=0,
                 **kwargs):
        logging.warning("\033[91mmxnet.model.FeedForward has been deprecated. Please use mxnet.mod.Module "
                        "instead.\033[0m")
        if isinstance(symbol, str):  # a callable symbol generator is not supported by MXNet 1.x either
            raise TypeError("FeedForward: symbol must be a Symbol")
        self.symbol = symbol
        self.ctx = [cpu()] if ctx is None else ([ctx] if isinstance(ctx, Context) else list(ctx))
        self.num_epoch = num_epoch
        self.epoch_size = epoch_size
        self.optimizer = optimizer
        self.initializer = initializer
        self.numpy_batch_size = numpy_batch_size
        self.arg_params = arg_params
        self.aux_params = aux_params
        self.allow_extra_params = allow_extra_params
        self.begin_epoch = begin_epoch
        self.kwargs = kwargs.copy()
        self._pred_module = None

    # --- inputs -------------------------------------------------------------------------------------
    def _init_iter(self, X, y, is_train):
        """A DataIter over X (and y): X itself when it is one, else an NDArrayIter over the arrays."""
        if isinstance(X, (np.ndarray, nd.NDArray)):
            if y is None:
                if is_train:
                    raise ValueError("y must be specified when X is numpy.ndarray")
                y = np.zeros(X.shape[0])
            if not isinstance(y, (np.ndarray, nd.NDArray)):
                raise TypeError("y must be ndarray when X is numpy.ndarray")
            if X.shape[0] != y.shape[0]:
                raise ValueError(f"The numbers of data points and labels not equal ({X.shape[0]} vs {y.shape[0]})")
            if y.ndim == 2 and y.shape[1] == 1:
                y = y.reshape(-1)
            if y.ndim != 1:
                raise ValueError("Label must be 1D or 2D (with 2nd dimension being 1)")
            batch_size = min(X.shape[0], self.numpy_batch_size)
            if is_train:
                return io.NDArrayIter(X, y, batch_size, shuffle=True, last_batch_handle="roll_over")
            return io.NDArrayIter(X, y, batch_size, shuffle=False)
        if not isinstance(X, io.DataIter):
            raise TypeError("X must be DataIter, NDArray or numpy.ndarray")
        return X

    def _init_eval_iter(self, eval_data):
        if eval_data is None or isinstance(eval_data, io.DataIter):
            return eval_data
        if isinstance(eval_data, (tuple, list)) and len(eval_data) == 2:
            if isinstance(eval_data[0], io.DataIter) and eval_data[1] is None:
                return eval_data[0]
            data = eval_data[0].asnumpy() if isinstance(eval_data[0], nd.NDArray) else eval_data[0]
            label = eval_data[1].asnumpy() if isinstance(eval_data[1], nd.NDArray) else eval_data[1]
            return self._init_iter(data, label, is_train=True)
        raise TypeError("Eval data is NONE or a (data, label) pair or a DataIter")

    def _module(self, data, logger=logging, work_load_list=None):
        label_names = [d[0] for d in data.provide_label] if data.provide_label else None
        return Module(self.symbol, data_names=[d[0] for d in data.provide_data], label_names=label_names,
                      logger=logger, context=self.ctx, work_load_list=work_load_list)

    # --- training and inference ---------------------------------------------------------------------------
    def fit(self, X, y=None, eval_data=None, eval_metric="acc", epoch_end_callback=None, batch_end_callback=None,
            kvstore="local", logger=None, work_load_list=None, monitor=None,
            eval_end_callback=LogValidationMetricsCallback(), eval_batch_end_callback=None):
        """Train from begin_epoch to num_epoch on X (and y); arg_params/aux_params hold the result."""
        data = self._init_iter(X, y, is_train=True)
        eval_data = self._init_eval_iter(eval_data)
        if self.epoch_size is not None:
            data = io.ResizeIter(data, self.epoch_size)
        mod = self._module(data, logger or logging, work_load_list)
        mod.fit(data, eval_data=eval_data, eval_metric=eval_metric, epoch_end_callback=epoch_end_callback,
                batch_end_callback=batch_end_callback, kvstore=kvstore, optimizer=self.optimizer,
                optimizer_params=self.kwargs, eval_end_callback=eval_end_callback,
                eval_batch_end_callback=eval_batch_end_callback, initializer=self.initializer,
                arg_params=self.arg_params, aux_params=self.aux_params, allow_missing=True,
                begin_epoch=self.begin_epoch, num_epoch=self.num_epoch, monitor=monitor)
        self.arg_params, self.aux_params = mod.get_params()
        self._pred_module = None

    def _predictor(self, data):
        """An inference Module for data's shapes holding the current parameters."""
        mod = self._pred_module
        if mod is None or mod.data_shapes != data.provide_data:
            mod = self._module(data)
            mod.bind(data.provide_data, None, for_training=False)
            mod.init_params(arg_params=self.arg_params, aux_params=self.aux_params,
                            allow_extra=self.allow_extra_params)
            self._pred_module = mod
        return mod

    def predict(self, X, num_batch=None, return_data=False, reset=True):
        """The outputs on X as NumPy arrays (one array for one output), padding removed; with return_data
        also the data and labels seen, as (outputs, data, label)."""
        data = self._init_iter(X, None, is_train=False)
        if reset:
            data.reset()
        mod = self._predictor(data)
        outputs, datas, labels = [], [], []
        for outs, _, batch in mod.iter_predict(data, num_batch=num_batch, reset=False):
            outputs.append([o.asnumpy() for o in outs])
            if return_data:
                real = batch.data[0].shape[0] - batch.pad
                datas.append([d.asnumpy()[:real] for d in batch.data])
                labels.append([lbl.asnumpy()[:real] for lbl in batch.label])
        merged = [np.concatenate(parts) for parts in zip(*outputs)]
        result = merged[0] if len(merged) == 1 else merged
        if not return_data:
            return result
        data_out = [np.concatenate(parts) for parts in zip(*datas)]
        label_out = [np.concatenate(parts) for parts in zip(*labels)]
        return (result, data_out[0] if len(data_out) == 1 else data_out,
                label_out[0] if len(label_out) == 1 else label_out)

    def score(self, X, eval_metric="acc", num_batch=None, batch_end_callback=None, reset=True):
        """eval_metric's value (the first, for a composite) over X."""
        data = self._init_iter(X, None, is_train=False)
        if not isinstance(eval_metric, metric.EvalMetric):
            eval_metric = metric.create(eval_metric)
        if reset:
            data.reset()
        eval_metric.reset()
        for outputs, nbatch, batch in self._predictor(data).iter_predict(data, num_batch=num_batch, reset=False):
            real = batch.data[0].shape[0] - batch.pad
            eval_metric.update([label[:real] for label in batch.label], outputs)
            if batch_end_callback is not None:
                params = BatchEndParam(epoch=0, nbatch=nbatch, eval_metric=eval_metric, locals=locals())
                for callback in batch_end_callback if isinstance(batch_end_callback, list) else [batch_end_callback]:
                    callback(params)
        return eval_metric.get()[1]

    # --- files -------------------------------------------------------------------------------------------
    def save(self, prefix, epoch=None, remove_amp_cast=True):
        """mx.model.save_checkpoint of the symbol and parameters (epoch defaults to num_epoch)."""
        if epoch is None:
            epoch = self.num_epoch
        if epoch is None:
            raise AssertionError("FeedForward.save: give epoch (num_epoch is not set)")
        save_checkpoint(prefix, epoch, self.symbol, self.arg_params, self.aux_params,
                        remove_amp_cast=remove_amp_cast)

    @staticmethod
    def load(prefix, epoch, ctx=None, **kwargs):
        """A FeedForward from mx.model.load_checkpoint(prefix, epoch), resuming at that epoch."""
        symbol, arg_params, aux_params = load_checkpoint(prefix, epoch)
        return FeedForward(symbol, ctx=ctx, arg_params=arg_params, aux_params=aux_params, begin_epoch=epoch,
                           **kwargs)

    @staticmethod
    def create(symbol, X, y=None, ctx=None, num_epoch=None, epoch_size=None, optimizer="sgd",
               initializer=Uniform(0.01), eval_data=None, eval_metric="acc", epoch_end_callback=None,
               batch_end_callback=None, kvstore="local", logger=None, work_load_list=None,
               eval_end_callback=LogValidationMetricsCallback(), eval_batch_end_callback=None, **kwargs):
        """A FeedForward built and fitted in one call."""
        model = FeedForward(symbol, ctx=ctx, num_epoch=num_epoch, epoch_size=epoch_size, optimizer=optimizer,
                            initializer=initializer, **kwargs)
        model.fit(X, y, eval_data=eval_data, eval_metric=eval_metric, epoch_end_callback=epoch_end_callback,
                  batch_end_callback=batch_end_callback, kvstore=kvstore, logger=logger,
                  work_load_list=work_load_list, eval_end_callback=eval_end_callback,
                  eval_batch_end_callback=eval_batch_end_callback)
        return model
