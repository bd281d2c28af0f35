"""The optimizers SVRGModule installs: _SVRGOptimizer sends the parameters' updates to the optimizer the user
chose and the '<name>_full' keys (full gradients gathered in a KVStore) to _AssignmentOptimizer."""
import inspect

from ...optimizer import Optimizer, create

__all__ = ["_AssignmentOptimizer", "_SVRGOptimizer"]


@Optimizer.register
class _AssignmentOptimizer(Optimizer):
    """The 'update' is weight[:] = grad: a KVStore key updated by it holds the sum last pushed to it."""

    def update(self, index, weight, grad, state):
        weight[:] = grad


# The arguments every Optimizer takes; _SVRGOptimizer keeps these for itself and hands all to the inner one.
_BASE_PARAMS = tuple(p for p in inspect.signature(Optimizer.__init__).parameters if p != "self")


@Optimizer.register
class _SVRGOptimizer(Optimizer):
    """Two optimizers behind one: indices whose name (idx2name, or the index itself when it is a name)
    contains 'full' go to an _AssignmentOptimizer, all others to `default_optimizer` (a name, created with
    every keyword argument given here, or an Optimizer)."""

    def __init__(self, default_optimizer, **kwargs):
        super().__init__(**self._check_params(**kwargs))
        self.default_opt = create(default_optimizer, **kwargs) if isinstance(default_optimizer, str) \
            else default_optimizer
        self.aux_opt = create(_AssignmentOptimizer.__name__)

    @staticmethod
    def _check_params(**kwargs):
        """The keyword arguments the base Optimizer accepts."""
        return {k: v for k, v in kwargs.items() if k in _BASE_PARAMS}

    def _check_index(self, index):
        """The parameter name of `index` (an int of idx2name, or already a name)."""
        if index in self.idx2name.values():
            return index
        if index not in self.idx2name:
            raise KeyError(f"_SVRGOptimizer: index {index!r} is neither in param_idx2name nor one of its names")
        return self.idx2name[index]

    def _inner(self, index):
        return self.aux_opt if "full" in self._check_index(index) else self.default_opt

    def create_state(self, index, weight):
        return self._inner(index).create_state(index, weight)

    def create_state_multi_precision(self, index, weight):
        return self._inner(index).create_state_multi_precision(index, weight)

    def update(self, index, weight, grad, state):
        self._inner(index).update(index, weight, grad, state)

    def update_multi_precision(self, index, weight, grad, state):
        self._inner(index).update_multi_precision(index, weight, grad, state)
