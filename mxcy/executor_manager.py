"""DataParallelExecutorManager: the executors FeedForward-era code trains with, one per context over slices of
each batch (MXNet 1.9.1's python/mxnet/executor_manager.py), on the Module API's DataParallelExecutorGroup."""
import logging

from .base import MXNetError
from .module.executor_group import DataParallelExecutorGroup

__all__ = ["DataParallelExecutorManager"]


class DataParallelExecutorManager:
    """`symbol` bound for training on every context of `ctx` (split by work_load_list) for train_data's shapes;
    param_names are the arguments that are parameters (arg_names is the symbol's list_arguments, as MXNet's
    callers pass it, and is checked against it). sym_gen (bucketing) is not supported: use mx.mod.BucketingModule."""

    def __init__(self, symbol, ctx, train_data, arg_names, param_names, aux_names, work_load_list=None, logger=None,
                 sym_gen=None):
        if sym_gen is not None:
            raise MXNetError("DataParallelExecutorManager: sym_gen (bucketing) is not supported by mxcy; use "
                             "mx.mod.BucketingModule")
        if list(arg_names) != symbol.list_arguments() or list(aux_names) != symbol.list_auxiliary_states():
            raise MXNetError(f"DataParallelExecutorManager: arg_names {list(arg_names)} / aux_names {list(aux_names)} "
                             f"are not the symbol's {symbol.list_arguments()} / {symbol.list_auxiliary_states()}")
        self.logger = logger or logging
        self.ctx = list(ctx)
        self.param_names = list(param_names)
        self.arg_names = list(arg_names)
        self.aux_names = list(aux_names)
        work_load_list = [1] * len(self.ctx) if work_load_list is None else list(work_load_list)
        if len(work_load_list) != len(self.ctx):
            raise MXNetError(f"DataParallelExecutorManager: {len(work_load_list)} work loads for {len(self.ctx)} "
                             "contexts")
        self.execgrp = DataParallelExecutorGroup(symbol, self.ctx, work_load_list, train_data.provide_data,
                                                 train_data.provide_label, self.param_names, True, False,
                                                 logger=self.logger)
        self._batch = None

    def install_monitor(self, monitor):
        self.execgrp.install_monitor(monitor)

    def set_params(self, arg_params, aux_params):
        """Copy these parameters into every executor."""
        self.execgrp.set_params(arg_params, aux_params)

    def copy_to(self, arg_params, aux_params):
        """Write the parameters, averaged over the devices, into the given dicts' arrays."""
        self.execgrp.get_params(arg_params, aux_params)

    @property
    def param_arrays(self):
        return self.execgrp.param_arrays

    @property
    def grad_arrays(self):
        return self.execgrp.grad_arrays

    @property
    def aux_arrays(self):
        return self.execgrp.aux_arrays

    def load_data_batch(self, data_batch):
        """The batch the next forward runs on."""
        self._batch = data_batch

    def forward(self, is_train=False):
        if self._batch is None:
            raise MXNetError("DataParallelExecutorManager: call load_data_batch before forward")
        self.execgrp.forward(self._batch, is_train=is_train)

    def backward(self):
        self.execgrp.backward()

    def update_metric(self, metric, labels, pre_sliced=False):
        self.execgrp.update_metric(metric, labels, pre_sliced)
