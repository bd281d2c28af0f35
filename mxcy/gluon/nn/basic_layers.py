"""Basic Gluon layers: Sequential containers, Dense, Dropout, Embedding, the normalizations (BatchNorm,
BatchNormReLU, InstanceNorm, LayerNorm, GroupNorm), Flatten and the Lambda wrappers. Each composes registered ops
through F (mx.nd or mx.sym)."""
import warnings

import numpy as np

from .activations import Activation
from ..block import Block, HybridBlock
from ... import ndarray, symbol

__all__ = ["Sequential", "HybridSequential", "Dense", "Dropout", "Embedding", "BatchNorm", "BatchNormReLU",
           "InstanceNorm", "LayerNorm", "GroupNorm", "Flatten", "Lambda", "HybridLambda"]


def _indent_tail(text, spaces):
    """`text` with every line after the first indented by `spaces` (a child's repr inside its parent's)."""
    return text.replace("\n", "\n" + " " * spaces)


def _kwargs_repr(block, kwargs, tail=""):
    """Name(k=v, ...) over `kwargs` in order, then `tail` (the norms' repr)."""
    content = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    return f"{type(block).__name__}({content}{tail})"


class _Stack:
    """What Sequential and HybridSequential share: adding children in order, indexing and slicing, repr."""

    def add(self, *blocks):
        """Append `blocks` to the stack, in order."""
        for block in blocks:
            self.register_child(block)

    def __getitem__(self, key):
        layers = list(self._children.values())[key]
        if not isinstance(layers, list):
            return layers
        net = type(self)(prefix=self._prefix)
        with net.name_scope():
            net.add(*layers)
        return net

    def __len__(self):
        return len(self._children)

    def __repr__(self):
        body = "\n".join(f"  ({key}): {_indent_tail(repr(block), 2)}" for key, block in self._children.items())
        return f"{type(self).__name__}(\n{body}\n)"


class Sequential(_Stack, Block):
    """Runs its children one after the other, each on the previous one's output."""

    def __init__(self, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)

    def forward(self, x):
        for block in self._children.values():
            x = block(x)
        return x

    def hybridize(self, active=True, **kwargs):
        """Hybridize the HybridBlock children (MXNet warns that a HybridSequential would serve better when all
        children are HybridBlocks)."""
        if self._children and all(isinstance(c, HybridBlock) for c in self._children.values()):
            warnings.warn(f"All children of this Sequential layer '{self.prefix}' are HybridBlocks. Consider "
                          "using HybridSequential for the best performance.", stacklevel=2)
        super().hybridize(active, **kwargs)


class HybridSequential(_Stack, HybridBlock):
    """Sequential of HybridBlocks; hybridizes as one graph."""

    def __init__(self, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)

    def hybrid_forward(self, F, x):
        for block in self._children.values():
            x = block(x)
        return x


class Dense(HybridBlock):
    """activation(dot(x, weight.T) + bias): weight (units, in_units), bias (units,).

    flatten=True collapses all axes but the first of x; flatten=False applies the layer along the last axis.
    in_units=0 defers the weight's shape to the first forward.
    """

    def __init__(self, units, activation=None, use_bias=True, flatten=True, dtype="float32",
                 weight_initializer=None, bias_initializer="zeros", in_units=0, **kwargs):
        super().__init__(**kwargs)
        self._flatten = flatten
        with self.name_scope():
            self._units = units
            self._in_units = in_units
            self.weight = self.params.get("weight", shape=(units, in_units), init=weight_initializer, dtype=dtype,
                                          allow_deferred_init=True)
            self.bias = self.params.get("bias", shape=(units,), init=bias_initializer, dtype=dtype,
                                        allow_deferred_init=True) if use_bias else None
            self.act = Activation(activation, prefix=activation + "_") if activation is not None else None

    def hybrid_forward(self, F, x, weight, bias=None):
        inputs = (x, weight) if bias is None else (x, weight, bias)
        out = F.FullyConnected(*inputs, no_bias=bias is None, num_hidden=self._units, flatten=self._flatten,
                               name="fwd")
        return self.act(out) if self.act is not None else out

    def __repr__(self):
        units, in_units = self.weight.shape
        return f"{type(self).__name__}({in_units or None} -> {units}, {self.act if self.act else 'linear'})"


class Dropout(HybridBlock):
    """Zeroes a fraction `rate` of the input in training and scales the rest by 1/(1-rate); `axes` share one
    mask. Outside training (and with rate 0) the input passes unchanged."""

    def __init__(self, rate, axes=(), **kwargs):
        super().__init__(**kwargs)
        self._rate = rate
        self._axes = axes

    def hybrid_forward(self, F, x):
        if self._rate > 0:
            return F.Dropout(x, p=self._rate, axes=self._axes, name="fwd", cudnn_off=False)
        return F.identity(x)

    def __repr__(self):
        return f"{type(self).__name__}(p = {self._rate}, axes={self._axes})"


class _BatchNorm(HybridBlock):
    """BatchNorm and BatchNormReLU: parameters gamma, beta, running_mean, running_var of shape (in_channels,);
    in_channels=0 defers them to the first forward. scale=False fixes gamma at 1 (MXNet's fix_gamma); the running
    statistics are updated only by forwards in training mode."""

    def __init__(self, axis=1, momentum=0.9, epsilon=1e-5, center=True, scale=True, use_global_stats=False,
                 fuse_relu=False, beta_initializer="zeros", gamma_initializer="ones",
                 running_mean_initializer="zeros", running_variance_initializer="ones", in_channels=0, **kwargs):
        super().__init__(**kwargs)
        self._kwargs = {"axis": axis, "eps": epsilon, "momentum": momentum, "fix_gamma": not scale,
                        "use_global_stats": use_global_stats}
        self.fuse_relu = fuse_relu
        if in_channels != 0:
            self.in_channels = in_channels
        channels = (in_channels,)
        self.gamma = self.params.get("gamma", grad_req="write" if scale else "null", shape=channels,
                                     init=gamma_initializer, allow_deferred_init=True, differentiable=scale)
        self.beta = self.params.get("beta", grad_req="write" if center else "null", shape=channels,
                                    init=beta_initializer, allow_deferred_init=True, differentiable=center)
        self.running_mean = self.params.get("running_mean", grad_req="null", shape=channels,
                                            init=running_mean_initializer, allow_deferred_init=True,
                                            differentiable=False)
        self.running_var = self.params.get("running_var", grad_req="null", shape=channels,
                                           init=running_variance_initializer, allow_deferred_init=True,
                                           differentiable=False)

    def cast(self, dtype):
        """Cast to `dtype`, but keep float32 for float16: BatchNorm's parameters stay float32 for float16 data."""
        super().cast("float32" if np.dtype(dtype) == np.float16 else dtype)

    def hybrid_forward(self, F, x, gamma, beta, running_mean, running_var):
        batch_norm = F.contrib.BatchNormWithReLU if self.fuse_relu else F.BatchNorm
        return batch_norm(x, gamma, beta, running_mean, running_var, name="fwd", **self._kwargs)

    def __repr__(self):
        channels = self.gamma.shape[0]
        return _kwargs_repr(self, self._kwargs, f", in_channels={channels or None}")


class BatchNorm(_BatchNorm):
    """Batch normalization (Ioffe and Szegedy, 2014) over channel `axis`: batch statistics in training (folded
    into running_mean/running_var by `momentum`), the running ones in inference or with use_global_stats."""

    def __init__(self, axis=1, momentum=0.9, epsilon=1e-5, center=True, scale=True, use_global_stats=False,
                 beta_initializer="zeros", gamma_initializer="ones", running_mean_initializer="zeros",
                 running_variance_initializer="ones", in_channels=0, **kwargs):
        super().__init__(axis, momentum, epsilon, center, scale, use_global_stats, False, beta_initializer,
                         gamma_initializer, running_mean_initializer, running_variance_initializer, in_channels,
                         **kwargs)


class BatchNormReLU(_BatchNorm):
    """BatchNorm followed by ReLU, one `_contrib_BatchNormWithReLU` op."""

    def __init__(self, axis=1, momentum=0.9, epsilon=1e-5, center=True, scale=True, use_global_stats=False,
                 beta_initializer="zeros", gamma_initializer="ones", running_mean_initializer="zeros",
                 running_variance_initializer="ones", in_channels=0, **kwargs):
        super().__init__(axis, momentum, epsilon, center, scale, use_global_stats, True, beta_initializer,
                         gamma_initializer, running_mean_initializer, running_variance_initializer, in_channels,
                         **kwargs)


class Embedding(HybridBlock):
    """Rows of weight (input_dim, output_dim) picked by integer indices: output shape x.shape + (output_dim,).
    sparse_grad=True gives weight a row_sparse gradient."""

    def __init__(self, input_dim, output_dim, dtype="float32", weight_initializer=None, sparse_grad=False,
                 **kwargs):
        super().__init__(**kwargs)
        self._kwargs = {"input_dim": input_dim, "output_dim": output_dim, "dtype": dtype,
                        "sparse_grad": sparse_grad}
        self.weight = self.params.get("weight", shape=(input_dim, output_dim), init=weight_initializer,
                                      dtype=dtype, allow_deferred_init=True,
                                      grad_stype="row_sparse" if sparse_grad else "default")

    def hybrid_forward(self, F, x, weight):
        return F.Embedding(x, weight, name="fwd", **self._kwargs)

    def __repr__(self):
        k = self._kwargs
        return f"{type(self).__name__}({k['input_dim']} -> {k['output_dim']}, {k['dtype']})"


class Flatten(HybridBlock):
    """(N, x1, ..., xn) -> (N, x1 * ... * xn)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)

    def hybrid_forward(self, F, x):
        return F.flatten(x)

    def __repr__(self):
        return type(self).__name__


def _norm_params(block, in_channels, center, scale, beta_initializer, gamma_initializer):
    """gamma and beta of shape (in_channels,), trained only when `scale` / `center`."""
    block.gamma = block.params.get("gamma", grad_req="write" if scale else "null", shape=(in_channels,),
                                   init=gamma_initializer, allow_deferred_init=True)
    block.beta = block.params.get("beta", grad_req="write" if center else "null", shape=(in_channels,),
                                  init=beta_initializer, allow_deferred_init=True)


class InstanceNorm(HybridBlock):
    """Normalizes each (sample, channel) over the remaining axes (channel `axis`), then gamma * x + beta per
    channel (Ulyanov et al., 2016). Note MXNet's default scale=False."""

    def __init__(self, axis=1, epsilon=1e-5, center=True, scale=False, beta_initializer="zeros",
                 gamma_initializer="ones", in_channels=0, **kwargs):
        super().__init__(**kwargs)
        self._kwargs = {"eps": epsilon, "axis": axis, "center": center, "scale": scale}
        self._axis = axis
        self._epsilon = epsilon
        _norm_params(self, in_channels, center, scale, beta_initializer, gamma_initializer)

    def hybrid_forward(self, F, x, gamma, beta):
        if self._axis == 1:
            return F.InstanceNorm(x, gamma, beta, name="fwd", eps=self._epsilon)
        x = F.swapaxes(x, 1, self._axis)
        return F.swapaxes(F.InstanceNorm(x, gamma, beta, name="fwd", eps=self._epsilon), 1, self._axis)

    def __repr__(self):
        return _kwargs_repr(self, self._kwargs, f", in_channels={self.gamma.shape[0]}")


class LayerNorm(HybridBlock):
    """Normalizes over `axis`, then gamma * x + beta along it (Ba et al., 2016)."""

    def __init__(self, axis=-1, epsilon=1e-5, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", in_channels=0, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        self._kwargs = {"eps": epsilon, "axis": axis, "center": center, "scale": scale}
        self._axis = axis
        self._epsilon = epsilon
        _norm_params(self, in_channels, center, scale, beta_initializer, gamma_initializer)

    def hybrid_forward(self, F, data, gamma, beta):
        return F.LayerNorm(data, gamma=gamma, beta=beta, axis=self._axis, eps=self._epsilon)

    def __repr__(self):
        return _kwargs_repr(self, self._kwargs, f", in_channels={self.gamma.shape[0]}")


class GroupNorm(HybridBlock):
    """Splits the channels (axis 1) into num_groups groups, normalizes each (sample, group), then gamma * x +
    beta with one gamma/beta per group, as MXNet 1.9.1 (Wu and He, 2018)."""

    def __init__(self, num_groups=1, epsilon=1e-5, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        self._kwargs = {"eps": epsilon, "num_groups": num_groups, "center": center, "scale": scale}
        self._num_groups = num_groups
        self._epsilon = epsilon
        _norm_params(self, num_groups, center, scale, beta_initializer, gamma_initializer)

    def hybrid_forward(self, F, data, gamma, beta):
        return F.GroupNorm(data, gamma=gamma, beta=beta, num_groups=self._num_groups, eps=self._epsilon)

    def __repr__(self):
        return _kwargs_repr(self, self._kwargs)


def _function_name(function):
    return getattr(function, "__name__", type(function).__name__)


class Lambda(Block):
    """A Block calling `function`: the name of an mx.nd operator, or a callable of the inputs."""

    def __init__(self, function, prefix=None):
        super().__init__(prefix=prefix)
        if isinstance(function, str):
            if not hasattr(ndarray, function):
                raise ValueError(f"Lambda: function name {function!r} is not found in ndarray")
            self._func_impl = getattr(ndarray, function)
        elif callable(function):
            self._func_impl = function
        else:
            raise ValueError(f"Unrecognized function in lambda: {function} of type {type(function)}")

    def forward(self, *args):
        return self._func_impl(*args)

    def __repr__(self):
        return f"{type(self).__name__}({_function_name(self._func_impl)})"


class HybridLambda(HybridBlock):
    """A HybridBlock calling `function`: the name of an operator in both mx.nd and mx.sym, or a callable
    function(F, x, *args)."""

    def __init__(self, function, prefix=None):
        super().__init__(prefix=prefix)
        if isinstance(function, str):
            if not (hasattr(ndarray, function) and hasattr(symbol, function)):
                raise ValueError(f"HybridLambda: function name {function!r} is not found in symbol/ndarray")
            self._func = lambda F, *args: getattr(F, function)(*args)
            self._func_name = function
        elif callable(function):
            self._func = function
            self._func_name = _function_name(function)
        else:
            raise ValueError(f"Unrecognized function in lambda: {function} of type {type(function)}")

    def hybrid_forward(self, F, x, *args):
        return self._func(F, x, *args)

    def __repr__(self):
        return f"{type(self).__name__}({self._func_name})"
