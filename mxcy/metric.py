"""mx.metric: online evaluation metrics (accuracy, F1, perplexity, ...) with MXNet 1.9.1's names and arguments.

Metrics compute on the host with NumPy, as MXNet's do: each update copies its labels and predictions
(NDArrays on any context, or NumPy arrays) to host memory.
"""
import math
from collections import OrderedDict

import numpy

from .ndarray import NDArray
from . import registry

__all__ = ["EvalMetric", "CompositeEvalMetric", "Accuracy", "TopKAccuracy", "F1", "MCC", "Perplexity", "MAE",
           "MSE", "RMSE", "CrossEntropy", "NegativeLogLikelihood", "PearsonCorrelation", "PCC", "Loss", "Torch",
           "Caffe", "CustomMetric", "np", "create", "register", "alias", "check_label_shapes"]


def check_label_shapes(labels, preds, wrap=False, shape=False):
    """Raise ValueError unless `labels` and `preds` have the same length (or, with `shape`, the same shape).

    With `wrap`, a single array (NDArray or NumPy) is wrapped in a list; returns (labels, preds).
    """
    if shape:
        label_shape, pred_shape = labels.shape, preds.shape
    else:
        label_shape, pred_shape = len(labels), len(preds)
    if label_shape != pred_shape:
        raise ValueError(f"Shape of labels {label_shape} does not match shape of predictions {pred_shape}")
    if wrap:
        labels, preds = _as_list(labels), _as_list(preds)
    return labels, preds


def _as_list(arrays):
    return [arrays] if isinstance(arrays, (NDArray, numpy.ndarray)) else arrays


def _host(array):
    """`array` (an NDArray on any context, or array-like) as a NumPy array in host memory."""
    return array.asnumpy() if isinstance(array, NDArray) else numpy.asarray(array)


def _name_value_pairs(name, value):
    if not isinstance(name, list):
        name, value = [name], [value]
    return list(zip(name, value))


class EvalMetric:
    """Base class of the metrics: accumulates a sum and an instance count, locally and globally.

    `reset_local` clears the local part only; `get_global` reports everything since the last `reset`
    (when the metric keeps global statistics, `has_global_stats=True`). Extra keyword arguments are
    kept for `get_config`, which `create(**config)` turns back into an equal metric.
    """

    def __init__(self, name, output_names=None, label_names=None, **kwargs):
        self.name = str(name)
        self.output_names = output_names
        self.label_names = label_names
        self._has_global_stats = kwargs.pop("has_global_stats", False)
        self._kwargs = kwargs
        self.reset()

    def __str__(self):
        return f"EvalMetric: {dict(self.get_name_value())}"

    def get_config(self):
        """The constructor arguments as a dict (with 'metric': the class name) for `create(**config)`."""
        config = dict(self._kwargs)
        config.update(metric=type(self).__name__, name=self.name, output_names=self.output_names,
                      label_names=self.label_names)
        return config

    def update_dict(self, label, pred):
        """Update with name -> array dicts, keeping the names in `label_names`/`output_names` (all if None)."""
        preds = list(pred.values()) if self.output_names is None else [pred[n] for n in self.output_names]
        labels = list(label.values()) if self.label_names is None else [label[n] for n in self.label_names]
        self.update(labels, preds)

    def update(self, labels, preds):
        """Add a batch: `labels` and `preds` are lists of arrays (or single arrays for most metrics)."""
        raise NotImplementedError(f"{type(self).__name__}.update")

    def reset(self):
        """Clear the local and global statistics."""
        self.reset_local()
        self.global_num_inst = 0
        self.global_sum_metric = 0.0

    def reset_local(self):
        """Clear the local statistics; the global ones go on accumulating."""
        self.num_inst = 0
        self.sum_metric = 0.0

    def _add(self, value, count):
        self.sum_metric += value
        self.global_sum_metric += value
        self.num_inst += count
        self.global_num_inst += count

    def get(self):
        """(name, value) of the local statistics; the value is NaN before the first update."""
        if self.num_inst == 0:
            return self.name, float("nan")
        return self.name, self.sum_metric / self.num_inst

    def get_global(self):
        """(name, value) since the last `reset` (the local value for metrics without global statistics)."""
        if not self._has_global_stats:
            return self.get()
        if self.global_num_inst == 0:
            return self.name, float("nan")
        return self.name, self.global_sum_metric / self.global_num_inst

    def get_name_value(self):
        """[(name, value), ...] of `get()`."""
        return _name_value_pairs(*self.get())

    def get_global_name_value(self):
        """[(name, value), ...] of `get_global()`."""
        return _name_value_pairs(*self.get_global())


register = registry.get_register_func(EvalMetric, "metric")
alias = registry.get_alias_func(EvalMetric, "metric")
_create = registry.get_create_func(EvalMetric, "metric")


def create(metric, *args, **kwargs):
    """Make a metric from a registered name or alias (case-insensitive), an EvalMetric (returned as is),
    a config dict or its JSON, a function `feval(label, pred)` (a CustomMetric), or a list of these (a
    CompositeEvalMetric; `args`/`kwargs` go to every child). An unknown name raises MXNetError."""
    if callable(metric):
        return CustomMetric(metric, *args, **kwargs)
    if isinstance(metric, list):
        return CompositeEvalMetric([create(child, *args, **kwargs) for child in metric])
    return _create(metric, *args, **kwargs)


@register
@alias("composite")
class CompositeEvalMetric(EvalMetric):
    """Several metrics updated together; `get` returns ([names], [values])."""

    def __init__(self, metrics=None, name="composite", output_names=None, label_names=None):
        self.metrics = [create(m) for m in (metrics or [])]
        super().__init__(name, output_names=output_names, label_names=label_names, has_global_stats=True)

    def add(self, metric):
        """Append a child metric (anything `create` accepts)."""
        self.metrics.append(create(metric))

    def get_metric(self, index):
        """The child metric at `index`."""
        if not -len(self.metrics) <= index < len(self.metrics):
            raise ValueError(f"CompositeEvalMetric.get_metric: index {index} is out of range for "
                             f"{len(self.metrics)} metrics")
        return self.metrics[index]

    def update_dict(self, labels, preds):  # MXNet names these two differently from the base class's
        if self.label_names is not None:
            labels = OrderedDict((k, v) for k, v in labels.items() if k in self.label_names)
        if self.output_names is not None:
            preds = OrderedDict((k, v) for k, v in preds.items() if k in self.output_names)
        for metric in self.metrics:
            metric.update_dict(labels, preds)

    def update(self, labels, preds):
        for metric in self.metrics:
            metric.update(labels, preds)

    def reset(self):
        for metric in self.metrics:
            metric.reset()

    def reset_local(self):
        for metric in self.metrics:
            metric.reset_local()

    def get(self):
        return self._gather(lambda metric: metric.get())

    def get_global(self):
        return self._gather(lambda metric: metric.get_global())

    def _gather(self, result_of):
        names, values = [], []
        for metric in self.metrics:
            for name, value in _name_value_pairs(*result_of(metric)):
                names.append(name)
                values.append(value)
        return names, values

    def get_config(self):
        config = super().get_config()
        config["metrics"] = [metric.get_config() for metric in self.metrics]
        return config


@register
@alias("acc")
class Accuracy(EvalMetric):
    """Fraction of correct predictions. A prediction whose shape differs from its label's holds class
    scores along `axis` (its argmax is the predicted class); otherwise it holds class indices."""

    def __init__(self, axis=1, name="accuracy", output_names=None, label_names=None):
        super().__init__(name, axis=axis, output_names=output_names, label_names=label_names,
                         has_global_stats=True)
        self.axis = axis

    def update(self, labels, preds):
        labels, preds = check_label_shapes(labels, preds, True)
        for label, pred in zip(labels, preds):
            label, pred = _host(label), _host(pred)
            if pred.shape != label.shape:
                pred = pred.argmax(axis=self.axis)
            pred = pred.astype("int32").ravel()
            label = label.astype("int32").ravel()
            check_label_shapes(label, pred)
            self._add(int((pred == label).sum()), len(pred))


@register
@alias("top_k_accuracy", "top_k_acc")
class TopKAccuracy(EvalMetric):
    """Fraction of samples whose label is among the `top_k` (> 1) highest-scored classes of (N, C) scores."""

    def __init__(self, top_k=1, name="top_k_accuracy", output_names=None, label_names=None):
        super().__init__(name, top_k=top_k, output_names=output_names, label_names=label_names,
                         has_global_stats=True)
        if top_k <= 1:
            raise ValueError(f"TopKAccuracy: top_k must be more than 1 (got {top_k}); use Accuracy for top-1")
        self.top_k = top_k
        self._given_name = self.name
        self.name += f"_{top_k}"

    def get_config(self):
        config = super().get_config()
        config["name"] = self._given_name  # the constructor appends the _k suffix again
        return config

    def update(self, labels, preds):
        labels, preds = check_label_shapes(labels, preds, True)
        for label, pred in zip(labels, preds):
            label, pred = _host(label).astype("int32"), _host(pred).astype("float32")
            if pred.ndim != 2:
                raise ValueError(f"TopKAccuracy: predictions must be (batch, classes) scores, got shape {pred.shape}")
            check_label_shapes(label, pred)
            top_k = min(self.top_k, pred.shape[1])
            best = numpy.argpartition(pred, -top_k, axis=1)[:, -top_k:]
            hits = (best == label.reshape(-1, 1)).any(axis=1)
            self._add(int(hits.sum()), len(pred))


def _binary_counts(label, pred, metric_name):
    """[true pos, false pos, false neg, true neg] of (N,) labels in {0, 1} against (N, 2) class scores."""
    label, pred = _host(label).astype("int32"), _host(pred)
    if pred.ndim != 2 or pred.shape[1] != 2:
        raise ValueError(f"{metric_name}: predictions must be (N, 2) class scores, got shape {pred.shape}")
    check_label_shapes(label, pred)
    if len(numpy.unique(label)) > 2:
        raise ValueError(f"{metric_name} currently only supports binary classification; labels hold "
                         f"{numpy.unique(label).tolist()}")
    pred_true = pred.argmax(axis=1) == 1
    label_true = label == 1
    return numpy.array([(pred_true & label_true).sum(), (pred_true & ~label_true).sum(),
                        (~pred_true & label_true).sum(), (~pred_true & ~label_true).sum()], dtype=numpy.int64)


def _fscore(counts):
    true_pos, false_pos, false_neg, _ = (float(c) for c in counts)
    precision = true_pos / (true_pos + false_pos) if true_pos + false_pos > 0 else 0.0
    recall = true_pos / (true_pos + false_neg) if true_pos + false_neg > 0 else 0.0
    return 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0


def _matthews(counts):
    true_pos, false_pos, false_neg, true_neg = (float(c) for c in counts)
    if not counts.sum():
        return 0.0
    # MXNet's convention: a zero margin leaves the denominator instead of making the score NaN
    margins = [true_pos + false_pos, true_pos + false_neg, true_neg + false_pos, true_neg + false_neg]
    denominator = math.prod(m for m in margins if m != 0)
    return (true_pos * true_neg - false_pos * false_neg) / math.sqrt(denominator)


class _BinaryMetric(EvalMetric):
    """A score of the binary confusion counts. average='macro' averages the score of each update call;
    'micro' scores the counts summed over all updates."""

    def __init__(self, name, output_names, label_names, average):
        if average not in ("macro", "micro"):
            raise ValueError(f"{type(self).__name__}: average must be 'macro' or 'micro', got {average!r}")
        self.average = average
        super().__init__(name, average=average, output_names=output_names, label_names=label_names,
                         has_global_stats=True)

    def reset(self):
        super().reset()
        self._global_counts = numpy.zeros(4, dtype=numpy.int64)

    def reset_local(self):
        super().reset_local()
        self._counts = numpy.zeros(4, dtype=numpy.int64)

    def update(self, labels, preds):
        labels, preds = check_label_shapes(labels, preds, True)
        batch = sum((_binary_counts(label, pred, type(self).__name__) for label, pred in zip(labels, preds)),
                    numpy.zeros(4, dtype=numpy.int64))
        if self.average == "macro":
            self._add(self._score(batch), 1)
            return
        self._counts += batch
        self._global_counts += batch
        self.num_inst, self.global_num_inst = int(self._counts.sum()), int(self._global_counts.sum())
        self.sum_metric = self._score(self._counts) * self.num_inst
        self.global_sum_metric = self._score(self._global_counts) * self.global_num_inst


@register
class F1(_BinaryMetric):
    """F1 score (harmonic mean of precision and recall) of binary classification; class 1 is positive."""
    _score = staticmethod(_fscore)

    def __init__(self, name="f1", output_names=None, label_names=None, average="macro"):
        super().__init__(name, output_names, label_names, average)


@register
class MCC(_BinaryMetric):
    """Matthews correlation coefficient of binary classification; class 1 is positive."""
    _score = staticmethod(_matthews)

    def __init__(self, name="mcc", output_names=None, label_names=None, average="macro"):
        super().__init__(name, output_names, label_names, average)


@register
class Perplexity(EvalMetric):
    """exp of the mean negative log-probability of the labels; `pred` holds probabilities along `axis`.
    Labels equal to `ignore_label` (None: none) are left out."""

    def __init__(self, ignore_label, axis=-1, name="perplexity", output_names=None, label_names=None):
        super().__init__(name, ignore_label=ignore_label, axis=axis, output_names=output_names,
                         label_names=label_names, has_global_stats=True)
        self.ignore_label = ignore_label
        self.axis = axis

    def update(self, labels, preds):
        labels, preds = check_label_shapes(labels, preds, True)
        loss, count = 0.0, 0
        for label, pred in zip(labels, preds):
            label, pred = _host(label).ravel(), _host(pred)
            scores = numpy.moveaxis(pred, self.axis, -1).reshape(-1, pred.shape[self.axis])
            if label.size != len(scores):
                raise ValueError(f"Perplexity: {label.size} labels do not match predictions of shape {pred.shape} "
                                 f"with classes along axis {self.axis}")
            # out-of-range labels are clipped, as MXNet's pick does
            classes = numpy.clip(label.astype("int64"), 0, scores.shape[1] - 1)
            prob = scores[numpy.arange(len(scores)), classes]
            if self.ignore_label is not None:
                kept = label != self.ignore_label
                prob = numpy.where(kept, prob, numpy.ones_like(prob))
                count -= int((~kept).sum())
            loss -= float(numpy.log(numpy.maximum(prob, prob.dtype.type(1e-10))).sum())
            count += prob.size
        self._add(loss, count)

    def get(self):
        if self.num_inst == 0:
            return self.name, float("nan")
        return self.name, math.exp(self.sum_metric / self.num_inst)

    def get_global(self):
        if self.global_num_inst == 0:
            return self.name, float("nan")
        return self.name, math.exp(self.global_sum_metric / self.global_num_inst)


class _RegressionMetric(EvalMetric):
    """The mean over update calls of a per-batch error of label - pred (1-D arrays count as columns)."""

    def __init__(self, name, output_names, label_names):
        super().__init__(name, output_names=output_names, label_names=label_names, has_global_stats=True)

    def update(self, labels, preds):
        labels, preds = check_label_shapes(labels, preds, True)
        for label, pred in zip(labels, preds):
            label, pred = _host(label), _host(pred)
            label = label.reshape(-1, 1) if label.ndim == 1 else label
            pred = pred.reshape(-1, 1) if pred.ndim == 1 else pred
            try:
                diff = label - pred
            except ValueError:
                raise ValueError(f"{type(self).__name__}: labels of shape {label.shape} do not match "
                                 f"predictions of shape {pred.shape}") from None
            self._add(self._batch_error(diff), 1)


@register
class MAE(_RegressionMetric):
    """Mean absolute error."""

    def __init__(self, name="mae", output_names=None, label_names=None):
        super().__init__(name, output_names, label_names)

    @staticmethod
    def _batch_error(diff):
        return numpy.abs(diff).mean()


@register
class MSE(_RegressionMetric):
    """Mean squared error."""

    def __init__(self, name="mse", output_names=None, label_names=None):
        super().__init__(name, output_names, label_names)

    @staticmethod
    def _batch_error(diff):
        return (diff ** 2.0).mean()


@register
class RMSE(_RegressionMetric):
    """Root mean squared error (of each batch, averaged over batches)."""

    def __init__(self, name="rmse", output_names=None, label_names=None):
        super().__init__(name, output_names, label_names)

    @staticmethod
    def _batch_error(diff):
        return numpy.sqrt((diff ** 2.0).mean())


class _LabelLogLoss(EvalMetric):
    """Mean of -log(p[label] + eps) over samples, p being (N, C) class probabilities."""

    def __init__(self, eps, name, output_names, label_names):
        super().__init__(name, eps=eps, output_names=output_names, label_names=label_names,
                         has_global_stats=True)
        self.eps = eps

    def update(self, labels, preds):
        labels, preds = check_label_shapes(labels, preds, True)
        for label, pred in zip(labels, preds):
            label, pred = _host(label).ravel().astype("int64"), _host(pred)
            if pred.ndim != 2 or label.shape[0] != pred.shape[0]:
                raise ValueError(f"{type(self).__name__}: expected (N, classes) predictions and N labels, got "
                                 f"predictions of shape {pred.shape} and {label.shape[0]} labels")
            if label.size and (label.min() < 0 or label.max() >= pred.shape[1]):
                raise ValueError(f"{type(self).__name__}: labels must lie in [0, {pred.shape[1]}), got "
                                 f"[{label.min()}, {label.max()}]")
            prob = pred[numpy.arange(len(label)), label]
            self._add(float((-numpy.log(prob + self.eps)).sum()), len(label))


@register
@alias("ce")
class CrossEntropy(_LabelLogLoss):
    """Cross-entropy of (N, C) predicted probabilities against N class labels."""

    def __init__(self, eps=1e-12, name="cross-entropy", output_names=None, label_names=None):
        super().__init__(eps, name, output_names, label_names)


@register
@alias("nll_loss")
class NegativeLogLikelihood(_LabelLogLoss):
    """Negative log-likelihood of N class labels under (N, C) predicted probabilities."""

    def __init__(self, eps=1e-12, name="nll-loss", output_names=None, label_names=None):
        super().__init__(eps, name, output_names, label_names)


@register
@alias("pearsonr")
class PearsonCorrelation(EvalMetric):
    """Pearson correlation of predictions with labels (flattened). average='macro' averages the
    correlation of each batch; 'micro' correlates everything seen, with streaming sums."""

    def __init__(self, name="pearsonr", output_names=None, label_names=None, average="macro"):
        if average not in ("macro", "micro"):
            raise ValueError(f"PearsonCorrelation: average must be 'macro' or 'micro', got {average!r}")
        self.average = average
        super().__init__(name, average=average, output_names=output_names, label_names=label_names,
                         has_global_stats=True)

    def reset_micro(self):
        """Clear the local streaming sums of average='micro'."""
        self._local_moments = _Moments()

    def reset(self):
        super().reset()
        self._global_moments = _Moments()

    def reset_local(self):
        super().reset_local()
        self.reset_micro()

    def update_variance(self, new_values, *aggregate):
        """(count, mean, sum of squared deviations) = aggregate updated with `new_values`."""
        return _streamed_variance(new_values, *aggregate)

    def update_cov(self, label, pred):
        """Add `label`, `pred` to the co-moments; the label means must already include them."""
        for moments in (self._local_moments, self._global_moments):
            moments.add_cov(label, pred)

    def update(self, labels, preds):
        labels, preds = check_label_shapes(labels, preds, True)
        for label, pred in zip(labels, preds):
            label, pred = _host(label), _host(pred)
            check_label_shapes(label, pred, False, True)
            label, pred = label.ravel().astype(numpy.float64), pred.ravel().astype(numpy.float64)
            if self.average == "macro":
                self._add(numpy.corrcoef(pred, label)[0, 1], 1)
                continue
            self.num_inst += 1
            self.global_num_inst += 1
            for moments in (self._local_moments, self._global_moments):
                moments.add(label, pred)

    def get(self):
        if self.average == "macro" or self.num_inst == 0:
            return super().get()
        return self.name, self._local_moments.correlation()

    def get_global(self):
        if self.average == "macro" or self.global_num_inst == 0:
            return super().get_global()
        return self.name, self._global_moments.correlation()


def _streamed_variance(new_values, count, mean, m_2):
    count += len(new_values)
    new_mean = mean + numpy.sum(new_values - mean) / count
    # Welford's rule for a batch: exact, since the old deviations sum to zero about the old mean
    m_2 += numpy.sum((new_values - mean) * (new_values - new_mean))
    return count, new_mean, m_2


class _Moments:
    """Streaming counts, means, squared deviations and co-moment of labels and predictions."""

    def __init__(self):
        self.label = self.pred = (0, 0.0, 0.0)
        self.cov = 0.0

    def add_cov(self, label, pred):
        # co-moment update with the new label mean and the old prediction mean: exact for a batch
        self.cov += numpy.sum((label - self.label[1]) * (pred - self.pred[1]))

    def add(self, label, pred):
        self.label = _streamed_variance(label, *self.label)
        self.add_cov(label, pred)
        self.pred = _streamed_variance(pred, *self.pred)

    def correlation(self):
        return self.cov / math.sqrt(self.pred[2] * self.label[2])


@register
class PCC(EvalMetric):
    """Multiclass Matthews correlation (Gorodkin's R_K) of a K x K confusion matrix grown as new classes
    appear. Predictions are class indices (label-shaped) or (N, K) scores; local and global matrices."""

    def __init__(self, name="pcc", output_names=None, label_names=None, has_global_stats=True):
        self.k = 2
        super().__init__(name=name, output_names=output_names, label_names=label_names,
                         has_global_stats=has_global_stats)

    def _grow(self, inc):
        self.lcm = numpy.pad(self.lcm, ((0, inc), (0, inc)))
        self.gcm = numpy.pad(self.gcm, ((0, inc), (0, inc)))
        self.k += inc

    @staticmethod
    def _calc_mcc(cmat):
        n = cmat.sum()
        pred_totals, label_totals = cmat.sum(axis=1), cmat.sum(axis=0)
        cov_pp = numpy.sum(pred_totals * (n - pred_totals))
        cov_ll = numpy.sum(label_totals * (n - label_totals))
        if cov_pp == 0 or cov_ll == 0:
            return float("nan")
        cov_pl = numpy.sum(cmat.diagonal() * n - pred_totals * label_totals)
        return cov_pl / (cov_pp * cov_ll) ** 0.5

    def update(self, labels, preds):
        labels, preds = check_label_shapes(labels, preds, True)
        for label, pred in zip(labels, preds):
            label, pred = _host(label).astype("int64"), _host(pred)
            pred = pred.astype("int64") if pred.shape == label.shape else pred.argmax(axis=1)
            label, pred = label.ravel(), pred.ravel()
            check_label_shapes(label, pred)
            if label.size == 0:
                continue
            if min(label.min(), pred.min()) < 0:
                raise ValueError("PCC: class indices must be non-negative")
            n = max(label.max(), pred.max())
            if n >= self.k:
                self._grow(int(n) + 1 - self.k)
            batch = numpy.zeros((self.k, self.k))
            numpy.add.at(batch, (pred, label), 1)
            self.lcm += batch
            self.gcm += batch
        self.num_inst += 1
        self.global_num_inst += 1

    @property
    def sum_metric(self):
        return self._calc_mcc(self.lcm) * self.num_inst

    @property
    def global_sum_metric(self):
        return self._calc_mcc(self.gcm) * self.global_num_inst

    def reset(self):
        self.global_num_inst = 0
        self.gcm = numpy.zeros((self.k, self.k))
        self.reset_local()

    def reset_local(self):
        self.num_inst = 0
        self.lcm = numpy.zeros((self.k, self.k))


@register
class Loss(EvalMetric):
    """Mean of the predictions, which are loss values; labels are ignored."""

    def __init__(self, name="loss", output_names=None, label_names=None):
        super().__init__(name, output_names=output_names, label_names=label_names, has_global_stats=True)

    def update(self, _, preds):
        for pred in _as_list(preds):
            pred = _host(pred)
            self._add(float(pred.sum()), pred.size)


@register
class Torch(Loss):
    """Loss under the name 'torch' (MXNet's Torch plugin outputs)."""

    def __init__(self, name="torch", output_names=None, label_names=None):
        super().__init__(name, output_names=output_names, label_names=label_names)


@register
class Caffe(Loss):
    """Loss under the name 'caffe' (MXNet's Caffe plugin outputs)."""

    def __init__(self, name="caffe", output_names=None, label_names=None):
        super().__init__(name, output_names=output_names, label_names=label_names)


@register
class CustomMetric(EvalMetric):
    """A metric from `feval(label, pred)` on NumPy arrays, returning a value (one instance) or a
    (sum, count) tuple. `allow_extra_outputs` lets preds outnumber labels (extras are ignored)."""

    def __init__(self, feval, name=None, allow_extra_outputs=False, output_names=None, label_names=None):
        if name is None:
            name = feval.__name__
            if "<" in name:
                name = f"custom({name})"
        super().__init__(name, feval=feval, allow_extra_outputs=allow_extra_outputs,
                         output_names=output_names, label_names=label_names, has_global_stats=True)
        self._feval = feval
        self._allow_extra_outputs = allow_extra_outputs

    def update(self, labels, preds):
        if self._allow_extra_outputs:
            labels, preds = _as_list(labels), _as_list(preds)
        else:
            labels, preds = check_label_shapes(labels, preds, True)
        for label, pred in zip(labels, preds):
            result = self._feval(_host(label), _host(pred))
            if isinstance(result, tuple):
                self._add(*result)
            else:
                self._add(result, 1)

    def get_config(self):
        raise NotImplementedError("CustomMetric cannot be serialized: its feval is code")


def np(numpy_feval, name=None, allow_extra_outputs=False):
    """A CustomMetric from `numpy_feval(label, pred)` on NumPy arrays (named after the function)."""
    return CustomMetric(numpy_feval, name, allow_extra_outputs)
