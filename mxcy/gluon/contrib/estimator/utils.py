"""Argument checks the Estimator and its event handlers share: metric lists, metric references,
and the metric suggested for a loss."""
from ...loss import SoftmaxCrossEntropyLoss
from ....metric import Accuracy, CompositeEvalMetric, EvalMetric


def _check_metrics(metrics):
    """A flat list of EvalMetrics from one metric, a composite, a list, or None."""
    if isinstance(metrics, CompositeEvalMetric):
        return [leaf for child in metrics.metrics for leaf in _check_metrics(child)]
    if isinstance(metrics, EvalMetric):
        return [metrics]
    metrics = list(metrics or [])
    bad = [m for m in metrics if not isinstance(m, EvalMetric)]
    if bad:
        raise ValueError(f"metrics must be an EvalMetric or a list of EvalMetric (mxnet.metric), got {bad!r}")
    return metrics


def _check_handler_metric_ref(handler, known_metrics):
    """Every metric a handler keeps (attributes named '*metric*') must be one of the Estimator's.

    MXNet 1.9.1 checks only attributes whose name contains 'metric', so a handler's `monitor`
    may be any metric; this keeps that rule.
    """
    for attribute in dir(handler):
        if "metric" not in attribute:
            continue
        reference = getattr(handler, attribute)
        if not reference:
            continue
        for metric in reference if isinstance(reference, list) else [reference]:
            if metric not in known_metrics:
                raise ValueError(
                    f"Event handler {type(handler).__name__} refers to a metric instance {metric} that is "
                    "not one of the estimator's metrics; use metrics from estimator.train_metrics and "
                    "estimator.val_metrics instead.")


def _suggest_metric_for_loss(loss):
    """Accuracy for a softmax cross-entropy loss, None for every other loss."""
    return Accuracy() if isinstance(loss, SoftmaxCrossEntropyLoss) else None
