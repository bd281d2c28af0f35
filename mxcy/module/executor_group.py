"""DataParallelExecutorGroup: one Executor per context, each bound to its slice of the batch (split along the
layout's 'N' axis by the work loads); loads batches into them, merges their outputs, gathers parameters."""
import logging
from collections import OrderedDict

from .. import context as ctx
from .. import ndarray as nd
from ..base import FLAG_TO_DTYPE
from ..io import DataDesc

__all__ = ["DataParallelExecutorGroup"]


def _split_input_slice(batch_size, work_load_list):
    """Slices of [0, batch_size) in proportion to the work loads (the last takes the rounding remainder)."""
    total = sum(work_load_list)
    counts = [round(w * batch_size / total) for w in work_load_list]
    counts[-1] += max(0, batch_size - sum(counts))
    slices, end = [], 0
    for count in counts:
        begin = int(min(end, batch_size))
        end = int(min(begin + count, batch_size))
        if begin >= end:
            raise ValueError("Too many slices. Some splits are empty.")
        slices.append(slice(begin, end))
    return slices


def _load_general(sources, targets, major_axis):
    """Copy each source array into its targets: a list of arrays (pre-sliced sources), or (slice, array) pairs
    receiving that slice along the batch axis (the whole array when the axis is -1)."""
    for src, dsts, axis in zip(sources, targets, major_axis):
        if isinstance(dsts, nd.NDArray):
            src.copyto(dsts)
        elif isinstance(src, (list, tuple)):
            for s, d in zip(src, dsts):
                s.copyto(d)
        else:
            for part, dst in dsts:
                if axis < 0 or (part.start == 0 and src.shape[axis] == part.stop):
                    src.copyto(dst)
                elif axis == 0:
                    src[part.start:part.stop].copyto(dst)
                else:
                    nd.slice_axis(src, axis=axis, begin=part.start, end=part.stop).copyto(dst)


def _load_batch(batch, targets, major_axis, field):
    """Load `field` ('data' or 'label') of a DataBatch, or of a list of pre-sliced DataBatches (one per device)."""
    if isinstance(batch, list):
        sources = [[getattr(b, field)[i] for b in batch] for i in range(len(targets))]
        _load_general(sources, [[dst for _, dst in t] for t in targets], major_axis)
    else:
        _load_general(getattr(batch, field), targets, major_axis)


def _merge_multi_context(outputs, major_axis):
    """Per output, the devices' arrays joined along the batch axis (the first device's when the axis is -1)."""
    merged = []
    for arrays, axis in zip(outputs, major_axis):
        if axis >= 0 and len(arrays) > 1:
            merged.append(nd.concat(*[a.as_in_context(arrays[0].context) for a in arrays], dim=axis))
        else:
            merged.append(arrays[0])
    return merged


def _prepare_group2ctxs(group2ctxs, ctx_len):
    """group2ctxs as one {group: context} dict (or None) per device."""
    if group2ctxs is None:
        return [None] * ctx_len
    if isinstance(group2ctxs, list):
        if len(group2ctxs) != ctx_len:
            raise ValueError(f"length of group2ctxs should be {ctx_len}")
        return group2ctxs
    if isinstance(group2ctxs, dict):
        per_device = [{} for _ in range(ctx_len)]
        for group, where in group2ctxs.items():
            if isinstance(where, ctx.Context):
                where = [where] * ctx_len
            elif len(where) == 1:
                where = list(where) * ctx_len
            elif len(where) != ctx_len:
                raise ValueError(f"length of group2ctxs[{group}] should be {ctx_len} or 1")
            for i in range(ctx_len):
                per_device[i][group] = where[i]
        return per_device
    raise ValueError("group2ctxs should be list of dict of str to context, or dict of str to context or list of "
                     "context")


class DataParallelExecutorGroup:
    """Executors of `symbol`, one per context, sharing nothing but the split of each batch."""

    def __init__(self, symbol, contexts, workload, data_shapes, label_shapes, param_names, for_training,
                 inputs_need_grad, shared_group=None, logger=logging, fixed_param_names=None, grad_req="write",
                 state_names=None, group2ctxs=None):
        self.param_names = param_names
        self.arg_names = symbol.list_arguments()
        self.aux_names = symbol.list_auxiliary_states()
        self.symbol = symbol
        self.contexts = contexts
        self.workload = workload
        self.group2ctxs = _prepare_group2ctxs(group2ctxs, len(contexts))
        self.for_training = for_training
        self.inputs_need_grad = inputs_need_grad
        self.logger = logger
        self._total_exec_bytes = 0
        self.fixed_param_names = list(fixed_param_names or [])
        self.state_names = list(state_names or [])
        data_shapes = [d if isinstance(d, DataDesc) else DataDesc(*d) for d in data_shapes]
        if label_shapes is not None:
            label_shapes = [d if isinstance(d, DataDesc) else DataDesc(*d) for d in label_shapes]
        self.grad_req = self._grad_reqs("null" if not for_training else grad_req, [d.name for d in data_shapes])
        self.shared_data_arrays = shared_group.shared_data_arrays if shared_group is not None \
            else [{} for _ in contexts]
        self.batch_size = None
        self.slices = None
        self.execs = []
        self._default_execs = None
        self.data_arrays = self.label_arrays = self.param_arrays = self.state_arrays = None
        self.grad_arrays = self.aux_arrays = self.input_grad_arrays = None
        self.data_shapes = self.label_shapes = self.data_names = self.label_names = None
        self.data_layouts = self.label_layouts = None
        self.output_names = symbol.list_outputs()
        self.num_outputs = len(self.output_names)
        self.output_layouts = [DataDesc.get_batch_axis(symbol[i].attr("__layout__")) for i in range(self.num_outputs)]
        self.bind_exec(data_shapes, label_shapes, shared_group)

    def _grad_reqs(self, grad_req, data_names):
        """{argument: req}: parameters get grad_req (fixed ones 'null'), data only with inputs_need_grad, labels
        and states 'null'; a list gives one per argument, a dict overrides those defaults ('write')."""
        if isinstance(grad_req, (list, tuple)):
            if len(grad_req) != len(self.arg_names):
                raise ValueError(f"grad_req has {len(grad_req)} entries for {len(self.arg_names)} arguments")
            return dict(zip(self.arg_names, grad_req))
        if not isinstance(grad_req, (str, dict)):
            raise ValueError("grad_req must be one of str, list, tuple, or dict.")
        default = grad_req if isinstance(grad_req, str) else "write"
        reqs = {}
        for name in self.arg_names:
            if name in self.param_names:
                reqs[name] = "null" if name in self.fixed_param_names else default
            elif name in data_names:
                reqs[name] = default if self.inputs_need_grad else "null"
            else:
                reqs[name] = "null"
        if isinstance(grad_req, dict):
            reqs.update(grad_req)
        return reqs

    def decide_slices(self, data_shapes):
        """The batch axis of each input; fixes batch_size and the per-device slices from the first one."""
        major_axis = [DataDesc.get_batch_axis(d.layout) for d in data_shapes]
        for (name, shape), axis in zip(data_shapes, major_axis):
            if axis == -1:
                continue
            if self.batch_size is None:
                self.batch_size = shape[axis]
                self.slices = _split_input_slice(self.batch_size, self.workload)
            elif shape[axis] != self.batch_size:
                raise ValueError(f"all data must have the same batch size: batch_size = {self.batch_size}, but "
                                 f"{name} has shape {shape}")
        return major_axis

    def _collect_arrays(self):
        def pairs(descs):
            return [[(self.slices[i], e.arg_dict[name]) for i, e in enumerate(self.execs)] for name, _ in descs]

        def per_arg(arrays_of, names):
            return [[arrays_of(e)[i] for e in self.execs] for i, name in enumerate(self.arg_names) if name in names]

        self.data_arrays = pairs(self.data_shapes)
        self.label_arrays = pairs(self.label_shapes) if self.label_shapes is not None else None
        self.state_arrays = [[e.arg_dict[name] for e in self.execs] for name in self.state_names]
        self.param_arrays = per_arg(lambda e: e.arg_arrays, self.param_names)
        self.grad_arrays = per_arg(lambda e: e.grad_arrays, self.param_names) if self.for_training else None
        self.input_grad_arrays = [[e.grad_arrays[self.arg_names.index(name)] for e in self.execs]
                                  for name in self.data_names if name in self.arg_names] \
            if self.inputs_need_grad else None
        self.aux_arrays = [[e.aux_arrays[i] for e in self.execs] for i in range(len(self.aux_names))]

    def bind_exec(self, data_shapes, label_shapes, shared_group=None, reshape=False):
        """Bind (or with reshape, re-shape the first bound) executors for these input shapes."""
        if self.execs and not reshape:
            raise AssertionError("executors are already bound; use reshape")
        self.batch_size = None
        self.data_layouts = self.decide_slices(data_shapes)
        if label_shapes is not None:
            self.label_layouts = self.decide_slices(label_shapes)
        for i in range(len(self.contexts)):
            shapes_i = self._sliced_shape(data_shapes, i, self.data_layouts)
            if label_shapes is not None:
                shapes_i = shapes_i + self._sliced_shape(label_shapes, i, self.label_layouts)
            if reshape:
                self.execs[i] = self._default_execs[i].reshape(allow_up_sizing=True, **dict(shapes_i))
            else:
                self.execs.append(self._bind_ith_exec(i, shapes_i, shared_group))
        self.data_shapes, self.label_shapes = data_shapes, label_shapes
        self.data_names = [d.name for d in data_shapes]
        if label_shapes is not None:
            self.label_names = [d.name for d in label_shapes]
        self._collect_arrays()

    def reshape(self, data_shapes, label_shapes):
        if data_shapes == self.data_shapes and label_shapes == self.label_shapes:
            return
        if self._default_execs is None:
            self._default_execs = list(self.execs)
        self.bind_exec(data_shapes, label_shapes, reshape=True)

    def set_params(self, arg_params, aux_params, allow_extra=False):
        for e in self.execs:
            e.copy_params_from(arg_params, aux_params, allow_extra_params=allow_extra)

    def get_params(self, arg_params, aux_params):
        """Average each parameter's copies over the devices into arg_params/aux_params (on the CPU)."""
        for names, blocks, target in ((self.param_names, self.param_arrays, arg_params),
                                      (self.aux_names, self.aux_arrays, aux_params)):
            for name, copies in zip(names, blocks):
                total = copies[0].copyto(ctx.cpu())
                for c in copies[1:]:
                    total += c.copyto(ctx.cpu())
                (total / len(copies)).astype(target[name].dtype).copyto(target[name])

    def forward(self, data_batch, is_train=None):
        _load_batch(data_batch, self.data_arrays, self.data_layouts, "data")
        if is_train is None:
            is_train = self.for_training
        first = data_batch[0] if isinstance(data_batch, list) else data_batch
        if self.label_arrays is not None and first.label:
            _load_batch(data_batch, self.label_arrays, self.label_layouts, "label")
        for e in self.execs:
            e.forward(is_train=is_train)

    def get_output_shapes(self):
        shapes = []
        for name, out, axis in zip(self.output_names, self.execs[0].outputs, self.output_layouts):
            shape = list(out.shape)
            if axis >= 0:
                shape[axis] = self.batch_size
            shapes.append((name, tuple(shape)))
        return shapes

    def get_outputs(self, merge_multi_context=True, begin=0, end=None):
        end = self.num_outputs if end is None else end
        outputs = [[e.outputs[i] for e in self.execs] for i in range(begin, end)]
        return _merge_multi_context(outputs, self.output_layouts[begin:end]) if merge_multi_context else outputs

    def get_states(self, merge_multi_context=True):
        if merge_multi_context:
            raise AssertionError("merge_multi_context=True is not supported for get_states yet.")
        return self.state_arrays

    def set_states(self, states=None, value=None):
        if states is not None:
            if value is not None:
                raise AssertionError("Only one of states & value can be specified.")
            _load_general(states, self.state_arrays, (0,) * len(states))
            return
        if value is None:
            raise AssertionError("At least one of states & value must be specified.")
        for arrays in self.state_arrays:
            for a in arrays:
                a[:] = value

    def get_input_grads(self, merge_multi_context=True):
        if not self.inputs_need_grad:
            raise AssertionError("bind with inputs_need_grad=True to get input gradients")
        if merge_multi_context:
            return _merge_multi_context(self.input_grad_arrays, self.data_layouts)
        return self.input_grad_arrays

    def backward(self, out_grads=None):
        if not self.for_training:
            raise AssertionError("re-bind with for_training=True to run backward")
        if all(req == "null" for req in self.grad_req.values()):
            return  # nothing wants a gradient: MXNet's backward is a no-op then
        out_grads = [] if out_grads is None else out_grads
        for i, (e, part) in enumerate(zip(self.execs, self.slices)):
            mine = []
            for grad, axis in zip(out_grads, self.output_layouts):
                if axis >= 0:
                    grad = nd.slice_axis(grad, axis=axis, begin=part.start, end=part.stop)
                mine.append(grad.as_in_context(self.contexts[i]))
            e.backward(out_grads=mine)

    def update_metric(self, eval_metric, labels, pre_sliced):
        for i, (e, part) in enumerate(zip(self.execs, self.slices)):
            if pre_sliced:
                mine = labels[i]
            else:
                mine = []
                for label, axis in zip(labels, self.label_layouts):
                    if axis == 0 and part.start == 0 and part.stop == label.shape[0]:
                        mine.append(label)  # one device's whole batch: no view to make
                    elif axis == 0:
                        mine.append(label[part])
                    elif axis > 0:
                        mine.append(nd.slice_axis(label, axis=axis, begin=part.start, end=part.stop))
                    else:
                        mine.append(label)
            eval_metric.update_dict(OrderedDict(zip(self.label_names, mine)),
                                    OrderedDict(zip(self.output_names, e.outputs)))

    def _bind_ith_exec(self, i, shapes, shared_group):
        input_shapes = {d.name: d.shape for d in shapes}
        input_types = {d.name: d.dtype for d in shapes}
        attrs = self.symbol.attr_dict()
        for name in self.symbol.list_inputs():
            flag = attrs.get(name, {}).get("__dtype__")
            if name in input_types and flag is not None and flag != "-1":
                input_types[name] = FLAG_TO_DTYPE[int(flag)]
        return self.symbol.simple_bind(ctx=self.contexts[i], grad_req=self.grad_req, type_dict=input_types,
                                       shared_arg_names=self.param_names,
                                       shared_exec=None if shared_group is None else shared_group.execs[i],
                                       group2ctx=self.group2ctxs[i], shared_buffer=self.shared_data_arrays[i],
                                       **input_shapes)

    def _sliced_shape(self, shapes, i, major_axis):
        """The DataDescs of device i: the batch axis cut to its slice."""
        out = []
        for desc, axis in zip(shapes, major_axis):
            shape = list(desc.shape)
            if axis >= 0:
                shape[axis] = self.slices[i].stop - self.slices[i].start
            out.append(DataDesc(desc.name, tuple(shape), desc.dtype, desc.layout))
        return out

    def install_monitor(self, mon):
        for e in self.execs:
            mon.install(e)
