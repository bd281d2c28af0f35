"""mx.gluon.loss: MXNet 1.9.1's loss blocks. Each is a HybridBlock whose hybrid_forward composes registered ops
through F (mx.nd imperatively, mx.sym when hybridized), so losses differentiate and hybridize like any layer."""
import math

from .. import ndarray
from ..base import numeric_types
from .block import HybridBlock

__all__ = ["Loss", "L2Loss", "L1Loss", "SigmoidBinaryCrossEntropyLoss", "SigmoidBCELoss", "SoftmaxCrossEntropyLoss",
           "SoftmaxCELoss", "KLDivLoss", "CTCLoss", "HuberLoss", "HingeLoss", "SquaredHingeLoss", "LogisticLoss",
           "TripletLoss", "PoissonNLLLoss", "CosineEmbeddingLoss", "SDMLLoss"]


def _apply_weighting(F, loss, weight=None, sample_weight=None):
    """loss times sample_weight (broadcast against it) and times the scalar weight, each when given."""
    if sample_weight is not None:
        loss = F.broadcast_mul(loss, sample_weight)
    if weight is not None:
        if not isinstance(weight, numeric_types):
            raise AssertionError(f"weight must be a number, got {weight!r}")
        loss = loss * weight
    return loss


def _reshape_like(F, x, y):
    """x with y's shape (same number of elements)."""
    return x.reshape(y.shape) if F is ndarray else F.reshape_like(x, y)


def _softrelu(F, x):
    return F.Activation(x, act_type="softrelu")


class Loss(HybridBlock):
    """Base class of losses: weight is a global scalar factor (None: none), batch_axis the axis of samples."""

    def __init__(self, weight, batch_axis, **kwargs):
        super().__init__(**kwargs)
        self._weight = weight
        self._batch_axis = batch_axis

    def __repr__(self):
        return f"{type(self).__name__}(batch_axis={self._batch_axis}, w={self._weight})"

    def hybrid_forward(self, F, x, *args, **kwargs):
        raise NotImplementedError

    def _weighted_mean(self, F, loss, weight, sample_weight):
        """The weighted element losses averaged over every axis but the batch axis: one value per sample."""
        return F.mean(_apply_weighting(F, loss, weight, sample_weight), axis=self._batch_axis, exclude=True)


class _PointwiseLoss(Loss):
    """A loss of pred and label element by element (label reshaped to pred's shape), then weighted and averaged
    per sample; subclasses give `_pointwise(F, pred, label)`."""

    def hybrid_forward(self, F, pred, label, sample_weight=None):
        loss = self._pointwise(F, pred, _reshape_like(F, label, pred))
        return self._weighted_mean(F, loss, self._weight, sample_weight)


class L2Loss(Loss):
    """weight / 2 * (label - pred)^2, averaged per sample."""

    def __init__(self, weight=1., batch_axis=0, **kwargs):
        super().__init__(weight, batch_axis, **kwargs)

    def hybrid_forward(self, F, pred, label, sample_weight=None):
        loss = F.square(_reshape_like(F, label, pred) - pred)
        return self._weighted_mean(F, loss, self._weight / 2, sample_weight)


class L1Loss(_PointwiseLoss):
    """|label - pred|, averaged per sample."""

    def __init__(self, weight=None, batch_axis=0, **kwargs):
        super().__init__(weight, batch_axis, **kwargs)

    def _pointwise(self, F, pred, label):
        return F.abs(label - pred)


class SigmoidBinaryCrossEntropyLoss(Loss):
    """Binary cross-entropy of sigmoid(pred) (or of pred itself when from_sigmoid) against labels in [0, 1];
    pos_weight (broadcast against pred) scales the positive term. Logits go through the stable form
    relu(x) - x * label + softrelu(-|x|)."""

    def __init__(self, from_sigmoid=False, weight=None, batch_axis=0, **kwargs):
        super().__init__(weight, batch_axis, **kwargs)
        self._from_sigmoid = from_sigmoid

    def hybrid_forward(self, F, pred, label, sample_weight=None, pos_weight=None):
        label = _reshape_like(F, label, pred)
        if self._from_sigmoid:
            eps = 1e-12
            positive = F.log(pred + eps) * label
            if pos_weight is not None:
                positive = F.broadcast_mul(positive, pos_weight)
            loss = -(positive + F.log(1. - pred + eps) * (1. - label))
        elif pos_weight is None:
            loss = F.relu(pred) - pred * label + _softrelu(F, -F.abs(pred))
        else:
            log_weight = 1 + F.broadcast_mul(pos_weight - 1, label)
            loss = pred - pred * label + log_weight * (_softrelu(F, -F.abs(pred)) + F.relu(-pred))
        return self._weighted_mean(F, loss, self._weight, sample_weight)


SigmoidBCELoss = SigmoidBinaryCrossEntropyLoss


class SoftmaxCrossEntropyLoss(Loss):
    """-log softmax(pred)[label] along `axis` (sparse_label: label holds class indices, pred's shape without
    `axis`), or -sum(label * log softmax(pred)) for label distributions; from_logits: pred is log-probabilities."""

    def __init__(self, axis=-1, sparse_label=True, from_logits=False, weight=None, batch_axis=0, **kwargs):
        super().__init__(weight, batch_axis, **kwargs)
        self._axis = axis
        self._sparse_label = sparse_label
        self._from_logits = from_logits

    def hybrid_forward(self, F, pred, label, sample_weight=None):
        if not self._from_logits:
            pred = F.log_softmax(pred, axis=self._axis)
        if self._sparse_label:
            loss = -F.pick(pred, label, axis=self._axis, keepdims=True)
        else:
            loss = -F.sum(pred * _reshape_like(F, label, pred), axis=self._axis, keepdims=True)
        return self._weighted_mean(F, loss, self._weight, sample_weight)


SoftmaxCELoss = SoftmaxCrossEntropyLoss


class KLDivLoss(Loss):
    """label * (log(label) - pred) summed per sample; pred is log-probabilities (from_logits) or goes through
    log_softmax along `axis`."""

    def __init__(self, from_logits=True, axis=-1, weight=None, batch_axis=0, **kwargs):
        super().__init__(weight, batch_axis, **kwargs)
        self._from_logits = from_logits
        self._axis = axis

    def hybrid_forward(self, F, pred, label, sample_weight=None):
        if not self._from_logits:
            pred = F.log_softmax(pred, axis=self._axis)
        loss = _apply_weighting(F, label * (F.log(label + 1e-12) - pred), self._weight, sample_weight)
        return F.sum(loss, axis=self._batch_axis, exclude=True)


class CTCLoss(Loss):
    """Connectionist temporal classification loss per sequence. pred holds unnormalised activations in `layout`
    ('NTC' or 'TNC') with the last class, alphabet_size - 1, the blank; label holds class indices in
    `label_layout` ('NT' or 'TN') padded with -1, or cut by label_lengths; pred_lengths gives each sequence's
    steps. Runs the CTCLoss operator with blank_label='last'."""

    def __init__(self, layout='NTC', label_layout='NT', weight=None, **kwargs):
        if layout not in ("NTC", "TNC"):
            raise AssertionError(f"Only 'NTC' and 'TNC' layouts for pred are supported. Got: {layout}")
        if label_layout not in ("NT", "TN"):
            raise AssertionError(f"Only 'NT' and 'TN' layouts for label are supported. Got: {label_layout}")
        self._layout = layout
        self._label_layout = label_layout
        super().__init__(weight, label_layout.find("N"), **kwargs)

    def hybrid_forward(self, F, pred, label, pred_lengths=None, label_lengths=None, sample_weight=None):
        if self._layout == "NTC":
            pred = F.swapaxes(pred, 0, 1)
        if self._batch_axis == 1:
            label = F.swapaxes(label, 0, 1)
        lengths = {name: value for name, value in (("data_lengths", pred_lengths), ("label_lengths", label_lengths))
                   if value is not None}
        loss = F.CTCLoss(pred, label, use_data_lengths=pred_lengths is not None,
                         use_label_lengths=label_lengths is not None, blank_label="last", **lengths)
        return _apply_weighting(F, loss, self._weight, sample_weight)


class HuberLoss(_PointwiseLoss):
    """Smoothed L1: (label - pred)^2 / (2 rho) where |label - pred| <= rho, |label - pred| - rho / 2 beyond."""

    def __init__(self, rho=1, weight=None, batch_axis=0, **kwargs):
        super().__init__(weight, batch_axis, **kwargs)
        self._rho = rho

    def _pointwise(self, F, pred, label):
        error = F.abs(label - pred)
        return F.where(error > self._rho, error - 0.5 * self._rho, (0.5 / self._rho) * F.square(error))


class HingeLoss(_PointwiseLoss):
    """max(0, margin - pred * label) for labels -1 and 1."""

    def __init__(self, margin=1, weight=None, batch_axis=0, **kwargs):
        super().__init__(weight, batch_axis, **kwargs)
        self._margin = margin

    def _pointwise(self, F, pred, label):
        return F.relu(self._margin - pred * label)


class SquaredHingeLoss(HingeLoss):
    """max(0, margin - pred * label)^2 for labels -1 and 1."""

    def _pointwise(self, F, pred, label):
        return F.square(super()._pointwise(F, pred, label))


class LogisticLoss(_PointwiseLoss):
    """log(1 + exp(-pred * label)) for labels -1 and 1 (label_format 'signed') or 0 and 1 ('binary')."""

    def __init__(self, weight=None, batch_axis=0, label_format='signed', **kwargs):
        super().__init__(weight, batch_axis, **kwargs)
        if label_format not in ("signed", "binary"):
            raise ValueError(f"label_format can only be signed or binary, recieved {label_format}.")
        self._label_format = label_format

    def _pointwise(self, F, pred, label):
        if self._label_format == "signed":
            label = (label + 1.0) / 2.0
        return F.relu(pred) - pred * label + _softrelu(F, -F.abs(pred))


class TripletLoss(Loss):
    """max(0, |positive - pred|^2 - |negative - pred|^2 + margin), the squared distances summed per sample."""

    def __init__(self, margin=1, weight=None, batch_axis=0, **kwargs):
        super().__init__(weight, batch_axis, **kwargs)
        self._margin = margin

    def hybrid_forward(self, F, pred, positive, negative):
        gap = F.square(_reshape_like(F, positive, pred) - pred) - F.square(_reshape_like(F, negative, pred) - pred)
        loss = F.relu(F.sum(gap, axis=self._batch_axis, exclude=True) + self._margin)
        return _apply_weighting(F, loss, self._weight, None)


class PoissonNLLLoss(Loss):
    """Poisson negative log-likelihood averaged over every element (one value): exp(pred) - target * pred when
    from_logits, else pred - target * log(pred + epsilon); compute_full adds Stirling's approximation of
    log(target!) where target > 1 (MXNet's formula: a target of 0 gives NaN)."""

    def __init__(self, weight=None, from_logits=True, batch_axis=0, compute_full=False, **kwargs):
        super().__init__(weight, batch_axis, **kwargs)
        self._from_logits = from_logits
        self._compute_full = compute_full

    def hybrid_forward(self, F, pred, target, sample_weight=None, epsilon=1e-08):
        target = _reshape_like(F, target, pred)
        if self._from_logits:
            loss = F.exp(pred) - target * pred
        else:
            loss = pred - target * F.log(pred + epsilon)
        if self._compute_full:
            stirling = target * F.log(target) - target + 0.5 * F.log(2 * target * math.pi)
            loss = loss + stirling * (target > 1)
        return F.mean(_apply_weighting(F, loss, self._weight, sample_weight))


class CosineEmbeddingLoss(Loss):
    """Per pair (input1, input2) along the last axis: 1 - cos_sim where label is 1, max(0, cos_sim - margin)
    where label is -1; shape (batch, 1) as in MXNet."""

    def __init__(self, weight=None, batch_axis=0, margin=0, **kwargs):
        super().__init__(weight, batch_axis, **kwargs)
        self._margin = margin

    def hybrid_forward(self, F, input1, input2, label, sample_weight=None):
        input1 = _reshape_like(F, input1, input2)
        label = label.reshape((-1, 1))
        cos_sim = self._cosine_similarity(F, input1, input2)
        similar = (1 - cos_sim) * (label == 1)
        dissimilar = F.relu((label == -1) * (cos_sim - self._margin))
        return _apply_weighting(F, similar + dissimilar, self._weight, sample_weight)

    @staticmethod
    def _cosine_similarity(F, x, y, axis=-1):
        """x . y / max(|x| |y|, 1e-12) along `axis`, as a column."""
        norms = F.norm(x, axis=axis).reshape((-1, 1)) * F.norm(y, axis=axis).reshape((-1, 1))
        return F.sum(x * y, axis=axis).reshape((-1, 1)) / F.maximum(norms, 1e-12)


class SDMLLoss(Loss):
    """Smoothed deep metric learning (Bonadiman et al. 2019): rows of x1 and x2 with the same index are pairs,
    every other row a negative. KL divergence between log_softmax(-squared distances) per row and the identity
    smoothed to 1 - smoothing_parameter on the diagonal and smoothing_parameter / (batch - 1) elsewhere. As in
    MXNet, `weight` is not applied."""

    def __init__(self, smoothing_parameter=0.3, weight=1., batch_axis=0, **kwargs):
        super().__init__(weight, batch_axis, **kwargs)
        self.kl_loss = KLDivLoss(from_logits=True)
        self.smoothing_parameter = smoothing_parameter

    def _compute_distances(self, F, x1, x2):
        """(batch, batch) squared Euclidean distances between the rows of x1 and of x2."""
        return F.sum(F.square(F.broadcast_sub(F.expand_dims(x1, axis=1), F.expand_dims(x2, axis=0))), axis=2)

    def _compute_labels(self, F, x1):
        """The smoothed identity, built from x1's rows so that it needs no static batch size."""
        ones = F.ones_like(F.sum(x1, axis=1))
        gold = F.diag(ones)
        s = self.smoothing_parameter
        return gold * (1 - s) + F.broadcast_div((1 - gold) * s, F.sum(ones) - 1)

    def hybrid_forward(self, F, x1, x2):
        log_probabilities = F.log_softmax(-self._compute_distances(F, x1, x2), axis=1)
        return self.kl_loss(log_probabilities, self._compute_labels(F, x1))
