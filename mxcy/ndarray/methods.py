"""NDArray methods that forward to registered operators (x.sum(), x.exp(), x.transpose(), ...)."""

# MXNet 1.9.1's NDArray methods that are thin calls of the operator of the same name.
METHODS = (
    "reshape_like zeros_like ones_like broadcast_axes repeat pad swapaxes split slice slice_axis "
    "slice_like take one_hot pick sort topk argmax argmax_channel argmin clip abs sign flatten "
    "shape_array size_array expand_dims tile transpose flip depth_to_space space_to_depth diag "
    "sum nansum prod nanprod mean max min norm round rint fix floor ceil trunc sin cos tan arcsin "
    "arccos arctan degrees radians sinh cosh tanh arcsinh arccosh arctanh exp expm1 log log10 "
    "log2 log1p sqrt rsqrt cbrt rcbrt square reciprocal relu sigmoid softmax log_softmax softmin "
    "argsort broadcast_to broadcast_like"
).split()


def _method(fn):
    def method(self, *args, **kwargs):
        return fn(self, *args, **kwargs)
    method.__name__ = fn.__name__
    method.__doc__ = fn.__doc__
    return method


def _squeeze_method(squeeze):
    def method(self, axis=None, inplace=False, **kwargs):
        """Drop axes of length 1; MXNet's `inplace=True` gives a view, which reshape already is here."""
        if inplace and hasattr(self, "_data"):
            shape = tuple(d for i, d in enumerate(self.shape)
                          if d != 1 or (axis is not None and i not in _axes(axis, self.ndim)))
            return self.reshape(shape or (1,))
        return squeeze(self, axis=axis, **kwargs)
    return method


def _axes(axis, ndim):
    axes = axis if isinstance(axis, (list, tuple)) else (axis,)
    return {a % ndim for a in axes}


def attach_methods(cls, functions):
    """Give `cls` a method for every name in METHODS that the registry defines, and squeeze (MXNet's
    methods take an `inplace` flag the operator does not)."""
    for name in METHODS:
        fn = functions.get(name)
        if fn is not None and name not in cls.__dict__:
            setattr(cls, name, _method(fn))
    if "squeeze" not in cls.__dict__:
        cls.squeeze = _squeeze_method(functions["squeeze"])
