"""mx.init / mx.initializer: weight initializers with MXNet 1.9.1's names, arguments and name-pattern dispatch.

Random initializers draw with mx.random's ops straight into the target array (`out=arr`), so they are
reproducible under mx.random.seed and run on the array's context; every other write is `arr[:] = ...`.
"""
import json
import logging
import re
import warnings
from math import sqrt

import numpy as np

from . import ndarray, random, registry
from .base import MXNetError
from .ndarray import NDArray, load

__all__ = ["InitDesc", "Initializer", "register", "alias", "create", "Load", "Mixed", "Zero", "One", "Constant",
           "Uniform", "Normal", "Orthogonal", "Xavier", "MSRAPrelu", "Bilinear", "LSTMBias", "FusedRNN",
           "NDArray", "load"]


class InitDesc(str):
    """A parameter's name (a str, for old code) carrying its symbol attributes and the global initializer.

    `attrs['__init__']` (an initializer's dumps() JSON, a registered name or an Initializer) overrides the
    name-based choice; `global_init` is what composite initializers (FusedRNN) fall back to.
    """

    def __new__(cls, name, attrs=None, global_init=None):
        desc = super().__new__(cls, name)
        desc.attrs = attrs or {}
        desc.global_init = global_init
        return desc


# Suffix -> (method, label for the verbose log), tried in this order, as MXNet 1.9.1 does for InitDesc names.
_SUFFIX_METHODS = (("weight", "_init_weight"), ("bias", "_init_bias"), ("gamma", "_init_gamma"),
                   ("beta", "_init_beta"), ("min", "_init_zero"), ("max", "_init_one"),
                   ("weight_quantize", "_init_quantized_weight"), ("bias_quantize", "_init_quantized_bias"))

# The legacy path (a plain str name): prefix/suffix rules of MXNet 1.9.1's _legacy_init, in its order.
_LEGACY_RULES = ((("upsampling", None), "_init_bilinear"), (("stn_loc", "weight"), "_init_zero"),
                 (("stn_loc", "bias"), "_init_loc_bias"), ((None, "bias"), "_init_bias"),
                 ((None, "gamma"), "_init_gamma"), ((None, "beta"), "_init_beta"),
                 ((None, "weight"), "_init_weight"), ((None, "moving_mean"), "_init_zero"),
                 ((None, "moving_var"), "_init_one"), ((None, "moving_inv_var"), "_init_zero"),
                 ((None, "moving_avg"), "_init_zero"), ((None, "min"), "_init_zero"),
                 ((None, "max"), "_init_one"))


def _plain(value):
    """JSON form of NumPy scalars (arguments such as np.float32(0.1)), which json cannot write itself."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"initializer argument {value!r} of type {type(value).__name__} cannot be written as JSON")


def _rms(arr):
    """The default verbose statistic: ||x||_2 / sqrt(size)."""
    return str((ndarray.norm(arr) / sqrt(arr.size)).asscalar())


class Initializer:
    """Base class: `init(InitDesc(name, attrs), arr)` fills `arr` by the parameter's name or its own `__init__`."""

    def __init__(self, **kwargs):
        self._kwargs = kwargs
        self._verbose = False
        self._print_func = None

    def set_verbosity(self, verbose=False, print_func=None):
        """Log every initialized array with `print_func(arr)` (default: its root mean square); returns self."""
        self._verbose = verbose
        self._print_func = _rms if print_func is None else print_func
        return self

    def _verbose_print(self, desc, init, arr):
        if self._verbose and self._print_func:
            logging.info("Initialized %s as %s: %s", desc, init, self._print_func(arr))

    def dumps(self):
        """JSON `'["<lower-cased class name>", {constructor arguments}]'`, which `create` reads back."""
        return json.dumps([self.__class__.__name__.lower(), self._kwargs], default=_plain)

    def __call__(self, desc, arr):
        if not isinstance(desc, InitDesc):
            self._legacy_init(desc, arr)
            return
        if desc.global_init is None:
            desc.global_init = self
        own_init = desc.attrs.get("__init__", "")
        if own_init:
            create(own_init)._init_weight(desc, arr)
            self._verbose_print(desc, own_init, arr)
            return
        for suffix, method in _SUFFIX_METHODS:
            if desc.endswith(suffix):
                getattr(self, method)(desc, arr)
                self._verbose_print(desc, suffix, arr)
                return
        self._init_default(desc, arr)

    def _legacy_init(self, name, arr):
        """MXNet's deprecated `init(str, NDArray)` form, with its wider name rules (upsampling, moving_*, ...)."""
        warnings.warn("Calling initializer with init(str, NDArray) has been deprecated. "
                      "Please use init(mx.init.InitDesc(...), NDArray) instead.", DeprecationWarning, stacklevel=3)
        if not isinstance(name, str):
            raise TypeError(f"{type(self).__name__}: name must be a string, got {type(name).__name__}")
        if not isinstance(arr, NDArray):
            raise TypeError(f"{type(self).__name__}: arr must be an NDArray, got {type(arr).__name__}")
        for (prefix, suffix), method in _LEGACY_RULES:
            if (prefix is None or name.startswith(prefix)) and (suffix is None or name.endswith(suffix)):
                getattr(self, method)(name, arr)
                return
        self._init_default(name, arr)

    def _init_bilinear(self, _, arr):
        """Upsampling kernel: w[..., y, x] = (1 - |x/f - c|)(1 - |y/f - c|), f = ceil(kW/2), c = (2f-1-f%2)/(2f).

        MXNet uses f from the last axis for both directions; computed on the host in NumPy."""
        if arr.ndim != 4:
            raise MXNetError(f"{type(self).__name__}: a bilinear kernel must be 4-D (out, in, h, w), "
                             f"got shape {arr.shape}")
        height, width = arr.shape[2:]
        f = np.ceil(width / 2.0)
        c = (2 * f - 1 - f % 2) / (2.0 * f)
        rows = 1 - np.abs(np.arange(height) / f - c)
        cols = 1 - np.abs(np.arange(width) / f - c)
        arr[:] = np.broadcast_to(np.outer(rows, cols).astype(np.float32), arr.shape)

    def _init_loc_bias(self, _, arr):
        """A spatial transformer's localisation bias: the identity affine transform."""
        if arr.shape[0] != 6:
            raise MXNetError(f"{type(self).__name__}: an stn_loc bias must have 6 elements, got shape {arr.shape}")
        arr[:] = np.array([1.0, 0, 0, 0, 1.0, 0])

    def _init_zero(self, _, arr):
        arr[:] = 0.0

    def _init_one(self, _, arr):
        arr[:] = 1.0

    # MXNet's per-role hooks: each name can be overridden on its own by a subclass.
    _init_bias = _init_beta = _init_quantized_bias = _init_zero
    _init_gamma = _init_one

    def _init_weight(self, name, arr):
        raise NotImplementedError(f"{type(self).__name__} must override _init_weight (initializing {name})")

    def _init_quantized_weight(self, _, arr):
        arr[:] = random.randint(-127, 127, shape=arr.shape, dtype="int32", ctx=arr.context)

    def _init_default(self, name, _):
        raise ValueError(f"Unknown initialization pattern for {name}. Default initialization is limited to "
                         f'"weight", "bias", "gamma" (1.0) and "beta" (0.0). '
                         f"Use mx.sym.Variable(init=mx.init.*) to set the initialization pattern")

    def __eq__(self, other):
        if not isinstance(other, Initializer):
            return NotImplemented
        return type(self) is type(other) and self._kwargs == other._kwargs


_register = registry.get_register_func(Initializer, "initializer")
alias = registry.get_alias_func(Initializer, "initializer")
create = registry.get_create_func(Initializer, "initializer")


def register(klass):
    """Register an Initializer subclass so `create` (and Gluon's `init='name'`) finds it by lower-cased name."""
    return _register(klass)


class Load:
    """Initialize from a dict of NDArrays or a file saved by mx.nd.save; `arg:`/`aux:` prefixes are dropped.

    Names not in the file go to `default_init`.
    """

    def __init__(self, param, default_init=None, verbose=False):
        if isinstance(param, str):
            param = load(param)
        if not isinstance(param, dict):
            raise MXNetError(f"Load: param must be a file name or a dict of name -> NDArray, got "
                             f"{type(param).__name__}")
        self.param = {name[4:] if name.startswith(("arg:", "aux:")) else name: arr for name, arr in param.items()}
        self.default_init = default_init
        self.verbose = verbose

    def __call__(self, name, arr):
        if name in self.param:
            loaded = self.param[name]
            if tuple(arr.shape) != tuple(loaded.shape):
                raise MXNetError(f"Load: parameter {name} cannot be initialized from loading. Shape mismatch, "
                                 f"target {tuple(arr.shape)} vs loaded {tuple(loaded.shape)}")
            arr[:] = loaded
            source = "loading"
        else:
            if self.default_init is None:
                raise MXNetError(f"Load: cannot initialize {name}: not found in the loaded parameters "
                                 f"({', '.join(sorted(self.param))}) and no default_init was given")
            self.default_init(name, arr)
            source = "default"
        if self.verbose:
            logging.info("Initialized %s by %s", name, source)


class Mixed:
    """Initialize each parameter with the initializer of the first regular expression that matches its name."""

    def __init__(self, patterns, initializers):
        if len(patterns) != len(initializers):
            raise MXNetError(f"Mixed: {len(patterns)} patterns but {len(initializers)} initializers")
        self.map = list(zip([re.compile(p) for p in patterns], initializers))

    def __call__(self, name, arr):
        for pattern, init in self.map:
            if pattern.match(name):
                init(name, arr)
                return
        raise ValueError(f"Parameter name {name} did not match any pattern "
                         f"({', '.join(p.pattern for p, _ in self.map)}). "
                         f'Consider adding a ".*" pattern at the end with a default Initializer.')


class _FixedFill(Initializer):
    """An argument-free initializer filling weights with the class's `_value`."""
    _value = None

    def __init__(self):
        super().__init__()

    def _init_weight(self, _, arr):
        arr[:] = self._value


@register
@alias("zeros")
class Zero(_FixedFill):
    """Fill with 0."""
    _value = 0


@register
@alias("ones")
class One(_FixedFill):
    """Fill with 1."""
    _value = 1


@register
class Constant(Initializer):
    """Fill with `value`: a scalar, or an array (NDArray, NumPy, nested lists) broadcastable to the parameter."""

    def __init__(self, value):
        super().__init__(value=value)
        self.value = value

    def _init_weight(self, _, arr):
        arr[:] = self.value

    def dumps(self):
        # MXNet keeps the JSON-able (list) form in _kwargs once dumped; the same is done here.
        value = self._kwargs["value"]
        if not np.isscalar(value):
            self._kwargs["value"] = (value.asnumpy() if isinstance(value, NDArray) else np.asarray(value)).tolist()
        return super().dumps()


@register
class Uniform(Initializer):
    """Draw from U(-scale, scale)."""

    def __init__(self, scale=0.07):
        super().__init__(scale=scale)
        self.scale = scale

    def _init_weight(self, _, arr):
        random.uniform(-self.scale, self.scale, arr.shape, out=arr)


@register
class Normal(Initializer):
    """Draw from N(0, sigma^2)."""

    def __init__(self, sigma=0.01):
        super().__init__(sigma=sigma)
        self.sigma = sigma

    def _init_weight(self, _, arr):
        random.normal(0, self.sigma, arr.shape, out=arr)


@register
class Orthogonal(Initializer):
    """`scale` times an orthonormal matrix (Saxe et al. 2013) of shape (shape[0], prod(shape[1:])).

    The random matrix is drawn (U(-1, 1) or N(0, 1) by `rand_type`) on the array's context; its SVD runs
    on the host in NumPy, as MXNet does.
    """

    def __init__(self, scale=1.414, rand_type="uniform"):
        super().__init__(scale=scale, rand_type=rand_type)
        self.scale = scale
        self.rand_type = rand_type

    def _init_weight(self, name, arr):
        rows, cols = arr.shape[0], int(np.prod(arr.shape[1:]))
        if self.rand_type == "uniform":
            draw = random.uniform(-1.0, 1.0, shape=(rows, cols), ctx=arr.context)
        elif self.rand_type == "normal":
            draw = random.normal(0.0, 1.0, shape=(rows, cols), ctx=arr.context)
        else:
            raise ValueError(f"Orthogonal: unknown rand_type {self.rand_type!r} for {name}; "
                             f"use 'uniform' or 'normal'")
        draw = draw.asnumpy()
        u, _, v = np.linalg.svd(draw, full_matrices=False)
        # u is (rows, k), v is (k, cols), k = min(rows, cols): whichever has the target's shape.
        basis = u if u.shape == draw.shape else v
        arr[:] = self.scale * basis.reshape(arr.shape)


@register
class Xavier(Initializer):
    """Glorot initialization: U(-s, s) or N(0, s^2) with s = sqrt(magnitude / n).

    n is fan_in, fan_out or their mean (factor_type 'in', 'out', 'avg'), where fan_in = shape[1] * r and
    fan_out = shape[0] * r with r = prod(shape[2:]) (the receptive field of a convolution kernel).
    """

    def __init__(self, rnd_type="uniform", factor_type="avg", magnitude=3):
        super().__init__(rnd_type=rnd_type, factor_type=factor_type, magnitude=magnitude)
        self.rnd_type = rnd_type
        self.factor_type = factor_type
        self.magnitude = float(magnitude)

    def _init_weight(self, name, arr):
        shape = arr.shape
        if len(shape) < 2:
            raise ValueError(f"Xavier initializer cannot be applied to vector {name} of shape {shape}. "
                             f"It requires at least 2D.")
        receptive = float(np.prod(shape[2:])) if len(shape) > 2 else 1.0
        fan_in, fan_out = shape[1] * receptive, shape[0] * receptive
        factors = {"avg": (fan_in + fan_out) / 2.0, "in": fan_in, "out": fan_out}
        if self.factor_type not in factors:
            raise ValueError(f"Incorrect factor type {self.factor_type!r} for {name}; use 'avg', 'in' or 'out'")
        scale = sqrt(self.magnitude / factors[self.factor_type])
        if self.rnd_type == "uniform":
            random.uniform(-scale, scale, arr.shape, out=arr)
        elif self.rnd_type == "gaussian":
            random.normal(0, scale, arr.shape, out=arr)
        else:
            raise ValueError(f"Unknown random type {self.rnd_type!r} for {name}; use 'uniform' or 'gaussian'")


@register
class MSRAPrelu(Xavier):
    """He et al. 2015: Gaussian Xavier with magnitude 2 / (1 + slope^2)."""

    def __init__(self, factor_type="avg", slope=0.25):
        super().__init__("gaussian", factor_type, 2.0 / (1 + slope ** 2))
        self._kwargs = {"factor_type": factor_type, "slope": slope}


@register
class Bilinear(Initializer):
    """Bilinear-interpolation kernel for upsampling (Deconvolution) weights."""

    def __init__(self):
        super().__init__()

    _init_weight = Initializer._init_bilinear


@register
class LSTMBias(Initializer):
    """Zero an LSTM cell's gate biases except the forget gate (the second quarter), set to `forget_bias`."""

    def __init__(self, forget_bias=1.0):
        super().__init__(forget_bias=forget_bias)
        self.forget_bias = forget_bias

    def _init_weight(self, name, arr):
        arr[:] = 0.0
        num_hidden = arr.shape[0] // 4
        arr[num_hidden:2 * num_hidden] = self.forget_bias


_RNN_GATES = {"rnn_relu": ("",), "rnn_tanh": ("",), "lstm": ("_i", "_f", "_c", "_o"), "gru": ("_r", "_z", "_o")}


def fused_rnn_layout(mode, num_layers, bidirectional, num_hidden, size):
    """[(name, offset, shape)] of the pieces of MXNet's packed RNN parameter vector of `size` elements.

    All weights come first, then all biases. Within each, for every layer and direction ('l', then 'r'),
    the i2h pieces of each gate precede the h2h pieces. Layer 0's i2h weights are (num_hidden, num_input),
    deeper layers' (num_hidden, directions * num_hidden); h2h weights are square; biases (num_hidden,).
    Names are '<direction><layer>_<i2h|h2h><gate>_<weight|bias>', e.g. 'l0_i2h_f_weight'.
    """
    if mode not in _RNN_GATES:
        raise MXNetError(f"FusedRNN: unknown mode {mode!r}; use one of {', '.join(_RNN_GATES)}")
    gates = _RNN_GATES[mode]
    directions = ("l", "r") if bidirectional else ("l",)
    h, b, m = num_hidden, len(directions), len(gates)
    # size = b*m*h*(num_input + h + 2) + (num_layers - 1)*b*m*h*(b*h + h + 2)
    num_input = size // (b * m * h) - (num_layers - 1) * (b * h + h + 2) - h - 2
    if num_input < 1 or size != b * m * h * (num_input + h + 2 + (num_layers - 1) * (b * h + h + 2)):
        raise MXNetError(f"FusedRNN: {size} parameters do not fit mode={mode}, num_layers={num_layers}, "
                         f"bidirectional={bidirectional}, num_hidden={num_hidden}")
    pieces, offset = [], 0
    for kind, part_shapes in (("weight", lambda layer: ((h, num_input if layer == 0 else b * h), (h, h))),
                              ("bias", lambda layer: ((h,), (h,)))):
        for layer in range(num_layers):
            i2h_shape, h2h_shape = part_shapes(layer)
            for direction in directions:
                for part, shape in (("i2h", i2h_shape), ("h2h", h2h_shape)):
                    for gate in gates:
                        pieces.append((f"{direction}{layer}_{part}{gate}_{kind}", offset, shape))
                        offset += int(np.prod(shape))
    return pieces


@register
class FusedRNN(Initializer):
    """Initialize the packed parameter vector of a fused RNN (mx.rnn.FusedRNNCell, sym.RNN) piece by piece.

    Each unpacked weight and bias is initialized by `init` (or the global initializer when None) under its
    own name, so names ending in 'weight' and 'bias' dispatch as usual; for 'lstm', the i2h and h2h
    forget-gate biases are set to `forget_bias`.
    """

    def __init__(self, init, num_hidden, num_layers, mode, bidirectional=False, forget_bias=1.0):
        if isinstance(init, str):
            init = create(init)
        super().__init__(init=init.dumps() if init is not None else None, num_hidden=num_hidden,
                         num_layers=num_layers, mode=mode, bidirectional=bidirectional, forget_bias=forget_bias)
        self._init = init
        self._num_hidden = num_hidden
        self._num_layers = num_layers
        self._mode = mode
        self._bidirectional = bidirectional
        self._forget_bias = forget_bias

    def _init_weight(self, desc, arr):
        global_init = getattr(desc, "global_init", None)
        piece_init = self._init if self._init is not None else global_init
        if piece_init is None:
            raise MXNetError(f"FusedRNN: no initializer for the pieces of {desc}: give `init` or call it "
                             f"through a global initializer")
        if arr.ndim != 1:
            raise MXNetError(f"FusedRNN: the packed parameters {desc} must be a vector, got shape {arr.shape}")
        for name, offset, shape in fused_rnn_layout(self._mode, self._num_layers, self._bidirectional,
                                                    self._num_hidden, arr.size):
            piece = ndarray.zeros(shape, ctx=arr.context, dtype=arr.dtype)
            if self._mode == "lstm" and name.endswith("_f_bias"):
                piece[:] = self._forget_bias
            else:
                piece_init(InitDesc(name, global_init=global_init), piece)
            arr[offset:offset + piece.size] = piece.reshape((-1,))
