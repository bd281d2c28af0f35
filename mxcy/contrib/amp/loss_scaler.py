"""LossScaler: AMP's dynamic loss scale. It starts at 2**16, halves after a step whose gradients overflowed
(that step is skipped) and doubles, up to 2**24, after 2000 steps in a row without overflow."""
import logging

from ... import autograd
from ... import ndarray as nd

__all__ = ["LossScaler"]


class LossScaler:
    """The current scale is `loss_scale`; has_overflow(params) checks the gradients and moves the scale."""

    def __init__(self):
        self._loss_scale = 2.0 ** 16
        self._next_loss_scale = self._loss_scale
        self._max_loss_scale = 2.0 ** 24
        self._scale_seq_len = 2000
        self._unskipped = 0

    @property
    def loss_scale(self):
        return self._loss_scale

    def has_overflow(self, params):
        """Whether any gradient of the Parameters `params` (first context) holds an inf or NaN; sets the scale
        the next step uses."""
        grads = [p._grad[0] for p in params if p._grad is not None]
        finite = True
        with autograd.pause():
            for start in range(0, len(grads), 200):
                chunk = grads[start:start + 200]
                finite = finite and bool(nd.multi_all_finite(*chunk, num_arrays=len(chunk)).asscalar())
        overflow = not finite
        self._loss_scale = self._next_loss_scale
        if overflow:
            self._next_loss_scale = self._loss_scale / 2.0
            self._unskipped = 0
            logging.info("AMP: decreasing loss scale to %f", self._next_loss_scale)
        else:
            self._unskipped += 1
        if self._unskipped == self._scale_seq_len:
            self._unskipped = 0
            self._next_loss_scale = min(self._max_loss_scale, self._loss_scale * 2.0)
            logging.info("AMP: increasing loss scale to %f", self._next_loss_scale)
        return overflow
