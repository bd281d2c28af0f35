"""MXNet's deprecated Python operators (PythonOp, NumpyOp, NDArrayOp), run as Custom operators: each
instance registers a CustomOpProp that calls its forward/backward/infer_shape/list_* methods."""
import itertools
import warnings

import numpy as np

from .base import MXNetError

_instance_ids = itertools.count()


class PythonOp:
    """Base class of the deprecated Python operators; calling the instance builds its Symbol."""

    def __init__(self, need_top_grad=True):
        self.info_ = None
        self.need_top_grad_ = need_top_grad
        warnings.warn("PythonOp has been deprecated. Please use CustomOp", stacklevel=2)

    def __call__(self, *args, **kwargs):
        return self.get_symbol(*args, **kwargs)

    def get_symbol(self, *args, **kwargs):
        raise NotImplementedError("Must override this")

    def forward(self, in_data, out_data):
        out_data[0][:] = in_data[0]

    def backward(self, out_grad, in_data, out_data, in_grad):
        in_grad[0][:] = 1.0

    def infer_shape(self, in_shape):
        return in_shape, [in_shape[0]]

    def list_outputs(self):
        return ["output"]

    def list_arguments(self):
        return ["data"]

    def need_top_grad(self):
        return self.need_top_grad_


class _CustomBridge(PythonOp):
    """get_symbol for NumpyOp and NDArrayOp: a Custom node whose property and operator call this instance."""
    _on_numpy = False

    def get_symbol(self, *args, **kwargs):
        from . import operator, symbol
        if self.info_ is None:
            self.info_ = f"_{type(self).__name__}_{next(_instance_ids)}"
            operator.register(self.info_)(_bridge_prop(self, operator))
        return symbol.Custom(*args, op_type=self.info_, **kwargs)

    def declare_backward_dependency(self, out_grad, in_data, out_data):
        deps = list(out_grad) if self.need_top_grad() else []
        return deps + list(in_data) + list(out_data)


def _bridge_prop(legacy_op, operator):
    """A CustomOpProp class running `legacy_op` (NumpyOp: on NumPy copies written back; NDArrayOp: on NDArrays)."""
    def run(method, *groups):
        if not legacy_op._on_numpy:
            return method(*groups)
        copies = [[x.asnumpy() for x in group] for group in groups]
        method(*copies)
        for group, copy in zip(groups, copies):
            for dst, src in zip(group, copy):
                dst[:] = np.asarray(src, dtype=dst.dtype)
        return None

    class Op(operator.CustomOp):
        def forward(self, is_train, req, in_data, out_data, aux):
            run(legacy_op.forward, in_data, out_data)

        def backward(self, req, out_grad, in_data, out_data, in_grad, aux):
            run(legacy_op.backward, out_grad, in_data, out_data, in_grad)

    class Prop(operator.CustomOpProp):
        def __init__(self):
            super().__init__(need_top_grad=legacy_op.need_top_grad())

        def list_arguments(self):
            return legacy_op.list_arguments()

        def list_outputs(self):
            return legacy_op.list_outputs()

        def infer_shape(self, in_shape):
            shapes = legacy_op.infer_shape([list(s) for s in in_shape])
            if len(shapes) != 2:
                raise MXNetError(f"{type(legacy_op).__name__}.infer_shape must return (in_shapes, out_shapes)")
            return shapes[0], shapes[1], []

        def declare_backward_dependency(self, out_grad, in_data, out_data):
            return legacy_op.declare_backward_dependency(out_grad, in_data, out_data)

        def create_operator(self, ctx, in_shapes, in_dtypes):
            return Op()

    return Prop


class NumpyOp(_CustomBridge):
    """Deprecated: an operator whose forward and backward write NumPy arrays (run on copies written back)."""
    _on_numpy = True

    def __init__(self, need_top_grad=True):
        super().__init__(need_top_grad)
        warnings.warn("NumpyOp has been deprecated. Please use CustomOp", stacklevel=2)


class NDArrayOp(_CustomBridge):
    """Deprecated: an operator whose forward and backward write NDArrays."""

    def __init__(self, need_top_grad=True):
        super().__init__(need_top_grad)
        warnings.warn("NDArrayOp has been deprecated. Please use CustomOp", stacklevel=2)
