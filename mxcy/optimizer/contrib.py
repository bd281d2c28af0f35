"""mx.optimizer.contrib: GroupAdaGrad (MXNet 1.9.1's contrib optimizer), on contrib.group_adagrad_update."""
from .. import ndarray as nd
from ..base import MXNetError
from .optimizer import Optimizer, register

__all__ = ["GroupAdaGrad"]


@register
class GroupAdaGrad(Optimizer):
    """AdaGrad with one history value per row of a 2-D weight: history += mean(g^2, axis=1); weight -= lr * g /
    sqrt(history + eps), g = clip(rescale_grad * grad). Weight decay is not supported; a row_sparse gradient
    updates only its rows (lazily), a dense one every row."""

    def __init__(self, eps=1e-5, **kwargs):
        super().__init__(**kwargs)
        self.float_stable_eps = eps

    def create_state(self, index, weight):
        if len(weight.shape) != 2:
            raise MXNetError(f"GroupAdaGrad: weight {index} must be 2-D (rows, columns), got shape {weight.shape}")
        return nd.zeros((weight.shape[0], 1), weight.context, dtype=weight.dtype, stype=weight.stype)

    def update(self, index, weight, grad, state):
        self._update_count(index)
        lr, wd = self._get_lr(index), self._get_wd(index)
        if wd != 0:
            raise MXNetError(f"GroupAdaGrad: weight decay is not supported (weight {index} has wd={wd})")
        nd.contrib.group_adagrad_update(weight, grad, state, out=weight, lr=lr, epsilon=self.float_stable_eps,
                                        rescale_grad=self.rescale_grad, **self._clip_kwargs())
