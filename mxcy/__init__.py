"""mxcy: Apache MXNet 1.x's Python API on current Python and NumPy.

`import mxcy as mx` gives the MXNet 1.x namespace (mx.nd, mx.autograd, mx.cpu(), ...).
"""
__version__ = "1.9.1"  # the MXNet API level mxcy implements; code compares against it
__mxcy_version__ = "0.1.0"

from . import base, engine, context, runtime, random, autograd  # noqa: E402
from . import random as rnd  # noqa: E402 - MXNet's alias
from . import error, util, log, profiler  # noqa: E402
from .util import is_np_shape, set_np_shape, np_shape, use_np_shape  # noqa: E402
from .util import is_np_array, np_array, use_np_array, use_np  # noqa: E402
from .base import MXNetError  # noqa: E402
from .context import Context, cpu, cpu_pinned, current_context, gpu, num_gpus  # noqa: E402
from . import ndarray  # noqa: E402
from . import ndarray as nd  # noqa: E402
from . import operator  # noqa: E402
from . import name, attribute  # noqa: E402
from .attribute import AttrScope  # noqa: E402
from . import symbol  # noqa: E402
from . import symbol as sym  # noqa: E402
from . import executor, visualization  # noqa: E402
from . import visualization as viz  # noqa: E402
from . import registry, initializer, initializer as init  # noqa: E402
from . import metric  # noqa: E402
from . import test_utils  # noqa: E402 - after ndarray and symbol, whose names it hands out

from . import lr_scheduler, optimizer  # noqa: E402
from . import io  # noqa: E402
from . import recordio  # noqa: E402
from . import image, image as img  # noqa: E402 - Pillow loads on first decode/resize, not here
from . import kvstore, kvstore as kv  # noqa: E402
from . import callback, model, module, module as mod  # noqa: E402
from . import monitor, monitor as mon  # noqa: E402
from . import cached_op, gluon  # noqa: E402
from . import contrib  # noqa: E402
from . import curves  # noqa: E402 - training curves (matplotlib loads on first plot)
from . import rnn  # noqa: E402 - after gluon, whose begin-state helper it uses
from . import numpy, numpy as np, numpy_extension, numpy_extension as npx  # noqa: E402 - mx.np / mx.npx
nd.np = nd.numpy = np  # MXNet's mx.nd.np: the imperative mx.np functions, on mx.np arrays
nd.npx = nd.numpy_extension = npx

nd.Custom = nd.op.Custom = operator.Custom
nd.CachedOp = nd.op.CachedOp = cached_op.CachedOp

__all__ = ["nd", "ndarray", "autograd", "test_utils", "operator", "engine", "context", "runtime", "random", "base",
           "symbol", "sym", "registry", "initializer", "init", "executor", "gluon", "visualization", "viz", "name", "attribute", "AttrScope", "MXNetError", "Context", "cpu", "gpu", "cpu_pinned", "current_context", "num_gpus"]
