"""NDArray methods that forward to registered operators (x.sum(), x.exp(), x.transpose(), ...)."""

# MXNet 1.9.1's NDArray methods that are thin calls of the operator of the same name.
METHODS = (
    "reshape_like zeros_like ones_like broadcast_axes repeat pad swapaxes split slice slice_axis "
    "slice_like take one_hot pick sort topk argmax argmax_channel argmin clip abs sign "
    "shape_array size_array tile transpose flip depth_to_space space_to_depth diag "
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


def _squeezed_shape(x, axis=None):
    axes = None if axis is None else _axes(axis, x.ndim)
    return tuple(d for i, d in enumerate(x.shape) if d != 1 or (axes is not None and i not in axes)) or (1,)


def _flattened_shape(x):
    rest = 1
    for d in x.shape[1:]:
        rest *= d
    return (x.shape[0], rest)


def _expanded_shape(x, axis):
    at = axis + x.ndim + 1 if axis < 0 else axis
    return x.shape[:at] + (1,) + x.shape[at:]


# MXNet's methods whose `inplace=True` gives a view of the same memory instead of the operator's copy
INPLACE_VIEWS = {"squeeze": _squeezed_shape, "flatten": _flattened_shape, "expand_dims": _expanded_shape}


def _inplace_view_method(fn, view_shape):
    def method(self, *args, inplace=False, **kwargs):
        if inplace and hasattr(self, "_data"):
            return self.reshape(view_shape(self, *args, **kwargs))
        return fn(self, *args, **kwargs)
    method.__name__ = fn.__name__
    method.__doc__ = fn.__doc__
    return method


def _axes(axis, ndim):
    axes = axis if isinstance(axis, (list, tuple)) else (axis,)
    return {a % ndim for a in axes}


def attach_methods(cls, functions):
    """Give `cls` a method for every name in METHODS that the registry defines (squeeze, flatten and
    expand_dims also take MXNet's `inplace` flag, which the operators do not)."""
    for name in [*METHODS, *INPLACE_VIEWS]:
        fn = functions.get(name)
        if fn is not None and name not in cls.__dict__:
            view_shape = INPLACE_VIEWS.get(name)
            setattr(cls, name, _inplace_view_method(fn, view_shape) if view_shape else _method(fn))
