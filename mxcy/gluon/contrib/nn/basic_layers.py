"""mx.gluon.contrib.nn layers: Concurrent/HybridConcurrent (children side by side, outputs concatenated),
Identity, SparseEmbedding, SyncBatchNorm and PixelShuffle1D/2D/3D; ops through F."""
import warnings

import numpy as np

from .... import context, ndarray
from ...block import Block, HybridBlock
from ...nn import BatchNorm, HybridSequential, Sequential

__all__ = ["Concurrent", "HybridConcurrent", "Identity", "SparseEmbedding", "SyncBatchNorm", "PixelShuffle1D",
           "PixelShuffle2D", "PixelShuffle3D"]


class Concurrent(Sequential):
    """Runs every child on the same input and concatenates their outputs along `axis`."""

    def __init__(self, axis=-1, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        self.axis = axis

    def forward(self, x):
        return ndarray.concat(*[block(x) for block in self._children.values()], dim=self.axis)


class HybridConcurrent(HybridSequential):
    """Concurrent of HybridBlocks; hybridizes as one graph."""

    def __init__(self, axis=-1, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        self.axis = axis

    def hybrid_forward(self, F, x):
        return F.concat(*[block(x) for block in self._children.values()], dim=self.axis)


class Identity(HybridBlock):
    """Returns its input (a placeholder branch in Concurrent blocks)."""

    def __init__(self, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)

    def hybrid_forward(self, F, x):
        return x


class SparseEmbedding(Block):
    """Embedding whose weight is stored row_sparse and whose gradient is row_sparse: each forward pulls only the
    rows its indices name (Parameter.row_sparse_data)."""

    def __init__(self, input_dim, output_dim, dtype="float32", weight_initializer=None, **kwargs):
        super().__init__(**kwargs)
        self._kwargs = {"input_dim": input_dim, "output_dim": output_dim, "dtype": dtype, "sparse_grad": True}
        self.weight = self.params.get("weight", shape=(input_dim, output_dim), init=weight_initializer,
                                      dtype=dtype, grad_stype="row_sparse", stype="row_sparse")

    def forward(self, x):
        return ndarray.Embedding(x, self.weight.row_sparse_data(x), name="fwd", **self._kwargs)

    def __repr__(self):
        k = self._kwargs
        return f"{type(self).__name__}({k['input_dim']} -> {k['output_dim']}, {k['dtype']})"


class SyncBatchNorm(BatchNorm):
    """BatchNorm (channel axis 1) whose statistics are meant to cover the batch slices of `num_devices` devices.

    mxcy's _contrib_SyncBatchNorm takes the statistics of one device's batch, so num_devices must be 1 (a larger
    count is an MXNetError at the first forward); then it is BatchNorm. num_devices=None counts the GPUs (1
    without any), as MXNet does.
    """

    def __init__(self, in_channels=0, num_devices=None, momentum=0.9, epsilon=1e-5, center=True, scale=True,
                 use_global_stats=False, beta_initializer="zeros", gamma_initializer="ones",
                 running_mean_initializer="zeros", running_variance_initializer="ones", **kwargs):
        super().__init__(axis=1, momentum=momentum, epsilon=epsilon, center=center, scale=scale,
                         use_global_stats=use_global_stats, beta_initializer=beta_initializer,
                         gamma_initializer=gamma_initializer, running_mean_initializer=running_mean_initializer,
                         running_variance_initializer=running_variance_initializer, in_channels=in_channels,
                         **kwargs)
        if num_devices is None:
            warnings.warn("Caution using SyncBatchNorm: if not using all the GPUs, please manually set "
                          "num_devices", UserWarning)
            num_devices = max(context.num_gpus(), 1)
        self._kwargs = {"eps": epsilon, "momentum": momentum, "fix_gamma": not scale,
                        "use_global_stats": use_global_stats, "ndev": num_devices, "key": self.prefix}

    def hybrid_forward(self, F, x, gamma, beta, running_mean, running_var):
        return F.contrib.SyncBatchNorm(x, gamma, beta, running_mean, running_var, name="fwd", **self._kwargs)


def _factors(factor, n, layer):
    """`factor` as n ints (an int is repeated)."""
    try:
        return (int(factor),) * n
    except TypeError:
        factors = tuple(int(f) for f in factor)
        if len(factors) != n:
            raise ValueError(f"{layer}: factor must be an int or {n} ints, got {factor}") from None
        return factors


class _PixelShuffle(HybridBlock):
    """Moves groups of channels (axis 1) into blocks of `factors` along the spatial axes:
    (N, C*f1*...*fn, d1, ..., dn) -> (N, C, d1*f1, ..., dn*fn), channel c*prod(f) + (i1, ..., in) going to
    offset (i1, ..., in) of each block. Reshape and transpose ops through F."""
    _ndim = None

    def __init__(self, factor):
        super().__init__()
        self._factors = _factors(factor, self._ndim, type(self).__name__)

    def hybrid_forward(self, F, x):
        n, factors = self._ndim, self._factors
        # (N, C*f1..fn, d1..dn) -> (N, C, F, d1..dn) with F = f1*..*fn; reshape's -4 splits an axis in two, -3
        # merges two. Step i moves d_i before F, splits f_i off F and merges it into d_i: at most n+3 axes are
        # swapped, within transpose's limit of 6.
        x = F.reshape(x, (0, -4, -1, int(np.prod(factors))) + (0,) * n)
        for i in range(n):
            x = F.swapaxes(x, 2 + i, 3 + i)
            if i < n - 1:
                x = F.reshape(x, (0,) * (3 + i) + (-4, factors[i], -1) + (0,) * (n - i - 1))
                x = F.reshape(x, (0,) * (2 + i) + (-3,) + (0,) * (n - i))
            else:
                x = F.reshape(x, (0,) * (2 + i) + (-3,))
        return x

    def __repr__(self):
        factors = self._factors[0] if self._ndim == 1 else self._factors
        return f"{type(self).__name__}({factors})"


class PixelShuffle1D(_PixelShuffle):
    """(N, f*C, W) -> (N, C, W*f)."""
    _ndim = 1


class PixelShuffle2D(_PixelShuffle):
    """(N, f1*f2*C, H, W) -> (N, C, H*f1, W*f2) (Shi et al., 2016)."""
    _ndim = 2


class PixelShuffle3D(_PixelShuffle):
    """(N, f1*f2*f3*C, D, H, W) -> (N, C, D*f1, H*f2, W*f3)."""
    _ndim = 3
