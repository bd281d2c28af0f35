"""mx.sym / mx.symbol: Symbol, Variable, Group, load/save, and every registered operator as a Symbol
function generated from the same registry records as mx.nd."""
from .. import ops  # noqa: F401  (registers every operator)
from ..ndarray.methods import attach_methods
import sys

from ..ops.frontend import PREFIXES, SPARSE_NAMESPACE, alias_generated_modules
from ..ops import registry
from . import _internal, contrib, image, linalg, op, random, sparse
from .creation import arange, eye, full, histogram, hypot, linspace, maximum, minimum, ones, pow, power, split_v2, zeros  # noqa: A004
from .json_io import load, load_json
from .register import make_symbol_function
from .symbol import Group, Symbol, Variable, var


def _populate(namespaces):
    for key in registry.names():
        fn = make_symbol_function(registry.get(key), key)
        vars(namespaces["_internal"])[key] = fn
        if key in SPARSE_NAMESPACE:
            vars(namespaces["sparse"]).setdefault(key, fn)
        for prefix, module in PREFIXES.items():
            if key.startswith(prefix):
                # MXNet names these symbols after the submodule's function (gemm20, bilinearresize2d0); its
                # mx.sym.random functions are Python wrappers over _internal, named after the op (_random_uniform0).
                short = key[len(prefix):]
                vars(namespaces[module]).setdefault(
                    short, fn if module == "random" else make_symbol_function(registry.get(key), short))
                break
        else:
            if not key.startswith("_"):
                vars(namespaces["op"])[key] = fn


_populate({"_internal": _internal, "op": op, "contrib": contrib, "linalg": linalg, "image": image,
           "random": random, "sparse": sparse})
alias_generated_modules(sys.modules[__name__], {"_internal": _internal, "op": op, "contrib": contrib,
                                                "linalg": linalg, "image": image, "sparse": sparse})
globals().update({k: v for k, v in vars(op).items() if not k.startswith("__") and k not in globals()})
attach_methods(Symbol, vars(op))
