"""mx.metric against scikit-learn / SciPy and hand-computed values: every metric's local and global
value over several updates (NDArray and NumPy inputs), composite metrics, create by name, alias,
instance, callable and list, custom metrics, config round trips and errors."""
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy.stats import pearsonr
from sklearn import metrics as skm

import mxcy as mx

CLASSES = 5


def softmax_batch(rng, n, classes=CLASSES):
    scores = rng.standard_normal((n, classes))
    probs = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    return rng.integers(0, classes, n).astype(np.float32), probs.astype(np.float32)


def binary_batch(rng, n):
    label = rng.permutation(np.arange(n) % 2).astype(np.float32)  # both classes present
    return label, rng.random((n, 2)).astype(np.float32)


def regression_batch(rng, n):
    shape = (n,) if rng.random() < 0.5 else (n, 2)
    return rng.standard_normal(shape).astype(np.float32), rng.standard_normal(shape).astype(np.float32)


def loss_batch(rng, n):
    return None, rng.random(n).astype(np.float32)


def concat(pairs, part):
    return np.concatenate([p[part] for p in pairs])


def every_pair(updates):
    return [pair for update in updates for pair in update]


def per_update_mean(score):
    """Reference for metrics averaging one score per update call (MXNet's 'macro')."""
    def ref(updates):
        return np.mean([score(update) for update in updates])
    return ref


def per_pair_mean(score):
    """Reference for metrics averaging one score per (label, pred) pair."""
    def ref(updates):
        return np.mean([score(label, pred) for label, pred in every_pair(updates)])
    return ref


def over_all(score):
    """Reference for metrics scoring everything seen together."""
    def ref(updates):
        pairs = every_pair(updates)
        return score(concat(pairs, 0) if pairs[0][0] is not None else None, concat(pairs, 1))
    return ref


def f1_of(update):
    return skm.f1_score(concat(update, 0), concat(update, 1).argmax(1), zero_division=0)


def mcc_of(update):
    return skm.matthews_corrcoef(concat(update, 0), concat(update, 1).argmax(1))


def multiclass_mcc(label, pred):
    """sklearn's MCC, except that a single predicted or true class is NaN (MXNet's PCC) rather than 0."""
    classes = pred.argmax(1)
    if len(np.unique(classes)) == 1 or len(np.unique(label)) == 1:
        return math.nan
    return skm.matthews_corrcoef(label, classes)


def perplexity(label, pred, ignore=None):
    keep = label != ignore
    return math.exp(-np.log(pred[np.arange(len(label)), label.astype(int)][keep].astype(np.float64)).mean())


def flat_pearson(label, pred):
    return pearsonr(label.ravel().astype(np.float64), pred.ravel().astype(np.float64))[0]


def pearson_over_all(updates):
    pairs = every_pair(updates)
    return flat_pearson(*(np.concatenate([pair[part].ravel() for pair in pairs]) for part in (0, 1)))


# (name or alias, constructor kwargs, batch maker, reference over a list of updates)
CASES = [
    ("acc", {}, softmax_batch, over_all(lambda y, p: skm.accuracy_score(y, p.argmax(1)))),
    ("top_k_acc", {"top_k": 3}, softmax_batch,
     over_all(lambda y, p: skm.top_k_accuracy_score(y, p, k=3, labels=range(CLASSES)))),
    ("f1", {}, binary_batch, per_update_mean(f1_of)),
    ("f1", {"average": "micro"}, binary_batch, over_all(lambda y, p: f1_of([(y, p)]))),
    ("mcc", {}, binary_batch, per_update_mean(mcc_of)),
    ("mcc", {"average": "micro"}, binary_batch, over_all(lambda y, p: mcc_of([(y, p)]))),
    ("perplexity", {"ignore_label": None}, softmax_batch, over_all(perplexity)),
    ("perplexity", {"ignore_label": 0}, softmax_batch, over_all(lambda y, p: perplexity(y, p, ignore=0))),
    ("mae", {}, regression_batch, per_pair_mean(skm.mean_absolute_error)),
    ("mse", {}, regression_batch, per_pair_mean(skm.mean_squared_error)),
    ("rmse", {}, regression_batch, per_pair_mean(lambda y, p: math.sqrt(skm.mean_squared_error(y, p)))),
    ("ce", {}, softmax_batch, over_all(lambda y, p: skm.log_loss(y, p, labels=range(CLASSES)))),
    ("nll_loss", {}, softmax_batch, over_all(lambda y, p: skm.log_loss(y, p, labels=range(CLASSES)))),
    ("pearsonr", {}, regression_batch, per_pair_mean(flat_pearson)),
    ("pearsonr", {"average": "micro"}, regression_batch, pearson_over_all),
    ("pcc", {}, lambda rng, n: softmax_batch(rng, n, classes=3),
     over_all(multiclass_mcc)),
    ("loss", {}, loss_batch, over_all(lambda _, p: p.mean())),
]
IDS = [f"{name}-{kwargs}" for name, kwargs, _, _ in CASES]


def make_updates(seed, make_batch, n_updates=3):
    rng = np.random.default_rng(seed)
    return [[make_batch(rng, int(rng.integers(4, 9))) for _ in range(int(rng.integers(1, 3)))]
            for _ in range(n_updates)]


def feed(metric, update, as_array):
    metric.update([None if y is None else as_array(y) for y, _ in update], [as_array(p) for _, p in update])


@pytest.mark.parametrize("as_array", [mx.nd.array, np.asarray], ids=["NDArray", "numpy"])
@pytest.mark.parametrize("name, kwargs, make_batch, reference", CASES, ids=IDS)
@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_local_and_global_values_match_the_reference(name, kwargs, make_batch, reference, as_array, seed):
    updates = make_updates(seed, make_batch)
    metric = mx.metric.create(name, **kwargs)
    assert math.isnan(metric.get()[1]) and math.isnan(metric.get_global()[1])
    for update in updates:
        metric.reset_local()
        feed(metric, update, as_array)
    np.testing.assert_allclose(metric.get()[1], reference(updates[-1:]), rtol=1e-5)
    np.testing.assert_allclose(metric.get_global()[1], reference(updates), rtol=1e-5)
    metric.reset()
    assert math.isnan(metric.get()[1]) and math.isnan(metric.get_global()[1])


@pytest.mark.parametrize("name, kwargs, make_batch, reference", CASES, ids=IDS)
def test_without_reset_local_get_and_get_global_agree(name, kwargs, make_batch, reference):
    updates = make_updates(7, make_batch)
    metric = mx.metric.create(name, **kwargs)
    for update in updates:
        feed(metric, update, mx.nd.array)
    np.testing.assert_allclose(metric.get()[1], reference(updates), rtol=1e-5)
    assert metric.get_name_value() == [metric.get()] == metric.get_global_name_value()


# --- hand-computed values -----------------------------------------------------------------------------------------
def test_accuracy_hand_values_axis_and_label_shapes():
    pred = mx.nd.array([[0.3, 0.7], [0, 1.], [0.4, 0.6]])
    acc = mx.metric.Accuracy()
    acc.update([mx.nd.array([0, 1, 1])], [pred])
    assert acc.get() == ("accuracy", 2 / 3)
    by_columns = mx.metric.Accuracy(axis=0)  # classes along axis 0
    by_columns.update([mx.nd.array([1, 1, 1])], [pred.T])
    assert by_columns.get()[1] == 1.0
    indices = mx.metric.Accuracy()  # same shape as the labels: class indices, 2-D labels are flattened
    indices.update([mx.nd.array([[0, 1], [2, 2]])], [mx.nd.array([[0, 1], [1, 2]])])
    assert indices.get()[1] == 0.75
    with pytest.raises(ValueError, match="does not match"):
        acc.update([mx.nd.array([0, 1])], [pred])


def test_top_k_accuracy_counts_label_among_the_k_best_and_caps_k_at_the_classes():
    pred = mx.nd.array([[0.1, 0.5, 0.4], [0.7, 0.2, 0.1], [0.2, 0.3, 0.5]])
    label = mx.nd.array([2, 2, 0])
    top2 = mx.metric.TopKAccuracy(top_k=2)
    top2.update([label], [pred])
    assert top2.get() == ("top_k_accuracy_2", 1 / 3)
    top5 = mx.metric.create("top_k_accuracy", top_k=5)
    top5.update([label], [pred])
    assert top5.get()[1] == 1.0
    with pytest.raises(ValueError, match="top_k"):
        mx.metric.TopKAccuracy()
    with pytest.raises(ValueError, match="shape"):
        top2.update([label[0]], [pred[0]])


def test_f1_and_mcc_count_class_one_as_positive():
    # tp = 1 (row 0), fp = 1 (row 3), fn = 1 (row 2), tn = 1 (row 1)
    pred = mx.nd.array([[0.2, 0.8], [0.9, 0.1], [0.6, 0.4], [0.3, 0.7]])
    label = mx.nd.array([1, 0, 1, 0])
    f1, mcc = mx.metric.F1(), mx.metric.MCC()
    for metric in (f1, mcc):
        metric.update([label], [pred])
    assert f1.get()[1] == 0.5 and mcc.get()[1] == 0.0
    with pytest.raises(ValueError, match="binary"):
        f1.update([mx.nd.array([0, 1, 2])], [mx.nd.ones((3, 2))])
    with pytest.raises(ValueError, match=r"MCC: predictions must be \(N, 2\)"):
        mcc.update([label], [pred.argmax(axis=1)])


def test_mcc_with_a_zero_margin_is_zero_not_nan():
    mcc = mx.metric.MCC(average="micro")
    mcc.update([mx.nd.array([0, 0])], [mx.nd.array([[0.9, 0.1], [0.8, 0.2]])])
    assert mcc.get()[1] == 0.0 and mcc.num_inst == 2


def test_perplexity_picks_along_axis_and_skips_ignored_labels():
    probs = np.array([[[0.5, 0.25, 0.25], [0.1, 0.1, 0.8]]], dtype=np.float32)  # (1, 2 steps, 3 classes)
    label = mx.nd.array([[0, 2]])
    last = mx.metric.Perplexity(ignore_label=None)
    last.update([label], [mx.nd.array(probs)])
    np.testing.assert_allclose(last.get()[1], math.exp(-(math.log(0.5) + math.log(0.8)) / 2), rtol=1e-6)
    middle = mx.metric.Perplexity(ignore_label=None, axis=1)
    middle.update([label], [mx.nd.array(probs.transpose(0, 2, 1))])
    assert middle.get()[1] == last.get()[1]
    ignoring = mx.metric.Perplexity(ignore_label=2)
    ignoring.update([label], [mx.nd.array(probs)])
    np.testing.assert_allclose(ignoring.get()[1], 2.0, rtol=1e-6)
    with pytest.raises(ValueError, match="labels do not match"):
        last.update([mx.nd.array([0, 1, 2])], [mx.nd.array(probs)])


def test_regression_metrics_average_per_batch_values():
    mae, mse, rmse = mx.metric.MAE(), mx.metric.MSE(), mx.metric.RMSE()
    for label, pred in [([1.0, 2.0], [2.0, 4.0]), ([0.0, 0.0], [3.0, 3.0])]:
        for metric in (mae, mse, rmse):
            metric.update(mx.nd.array(label), mx.nd.array(pred))  # single arrays are wrapped
    assert mae.get()[1] == (1.5 + 3) / 2
    assert mse.get()[1] == (2.5 + 9) / 2
    np.testing.assert_allclose(rmse.get()[1], (math.sqrt(2.5) + 3) / 2)
    with pytest.raises(ValueError, match="MSE.*shape"):
        mse.update(mx.nd.ones((2, 3)), mx.nd.ones((2, 2)))


def test_cross_entropy_eps_and_label_range():
    ce = mx.metric.CrossEntropy(eps=0.5)
    ce.update([mx.nd.array([1, 0])], [mx.nd.array([[0.5, 0.5], [0.0, 1.0]])])
    np.testing.assert_allclose(ce.get()[1], -(math.log(1.0) + math.log(0.5)) / 2, rtol=1e-6)
    with pytest.raises(ValueError, match="labels must lie in"):
        mx.metric.NegativeLogLikelihood().update([mx.nd.array([2])], [mx.nd.array([[0.5, 0.5]])])


def test_pcc_grows_with_new_classes_and_agrees_with_sklearn():
    labels, preds = [0, 1, 3, 3, 2, 1], [0, 1, 3, 2, 2, 0]
    pcc = mx.metric.PCC()
    for y, p in zip(labels, preds):  # one sample at a time: the matrix grows from 2 to 4 classes
        pcc.update([mx.nd.array([y])], [mx.nd.array([p])])
    np.testing.assert_allclose(pcc.get()[1], skm.matthews_corrcoef(labels, preds))
    assert pcc.k == 4


def test_loss_takes_any_labels_and_torch_caffe_are_losses():
    for cls, name in [(mx.metric.Loss, "loss"), (mx.metric.Torch, "torch"), (mx.metric.Caffe, "caffe")]:
        metric = cls()
        metric.update(None, mx.nd.array([[1.0, 2.0], [3.0, 6.0]]))
        assert metric.get() == (name, 3.0)


# --- custom metrics -------------------------------------------------------------------------------------------------
def test_custom_metric_values_tuples_names_and_extra_outputs():
    def mean_abs(label, pred):
        assert isinstance(label, np.ndarray) and isinstance(pred, np.ndarray)
        return np.abs(label - pred).mean()

    custom = mx.metric.create(mean_abs)
    custom.update([mx.nd.array([1, 2])], [mx.nd.array([2, 4])])
    assert custom.get() == ("mean_abs", 1.5)
    summed = mx.metric.np(lambda label, pred: (float(np.sum(label == pred)), label.size))
    assert summed.name == "custom(<lambda>)"
    summed.update([mx.nd.array([1, 2]), mx.nd.array([3])], [mx.nd.array([1, 0]), mx.nd.array([3])])
    assert summed.get()[1] == 2 / 3
    extra = mx.metric.CustomMetric(mean_abs, name="mae2", allow_extra_outputs=True)
    extra.update([mx.nd.array([1.0])], [mx.nd.array([0.0]), mx.nd.array([99.0])])
    assert extra.get() == ("mae2", 1.0)
    with pytest.raises(ValueError, match="does not match"):
        custom.update([mx.nd.array([1.0])], [mx.nd.array([0.0]), mx.nd.array([99.0])])
    with pytest.raises(NotImplementedError):
        custom.get_config()


# --- composite, update_dict, create, registry, config -----------------------------------------------------------
def test_composite_collects_children_and_resets_locally():
    pred, label = mx.nd.array([[0.3, 0.7], [0, 1.], [0.4, 0.6]]), mx.nd.array([0, 1, 1])
    composite = mx.metric.CompositeEvalMetric([mx.metric.Accuracy(), "f1"])
    composite.add(mx.metric.create(["mse"]))  # a nested composite flattens into the lists
    composite.update([label], [pred])
    names, values = composite.get()
    assert names == ["accuracy", "f1", "mse"]
    np.testing.assert_allclose(values, [2 / 3, 0.8, 2.1 / 6])  # mse: the label column against both columns
    assert str(composite) == f"EvalMetric: {dict(zip(names, values))}"
    composite.reset_local()
    assert all(math.isnan(v) for v in composite.get()[1])
    np.testing.assert_allclose(composite.get_global()[1], values)
    assert composite.get_metric(1).name == "f1"
    with pytest.raises(ValueError, match="out of range"):
        composite.get_metric(3)


def test_update_dict_selects_outputs_and_labels_by_name():
    acc = mx.metric.Accuracy(output_names=["good"], label_names=["y"])
    preds = {"bad": mx.nd.array([0, 0]), "good": mx.nd.array([1, 0])}
    acc.update_dict({"y": mx.nd.array([1, 0]), "other": mx.nd.array([5, 5])}, preds)
    assert acc.get()[1] == 1.0
    composite = mx.metric.CompositeEvalMetric(["acc"], output_names=["good"], label_names=["y"])
    composite.update_dict({"y": mx.nd.array([1, 1]), "other": mx.nd.array([5, 5])}, preds)
    assert composite.get() == (["accuracy"], [0.5])


@pytest.mark.parametrize("spec, cls", [("acc", mx.metric.Accuracy), ("Accuracy", mx.metric.Accuracy),
                                       ("top_k_accuracy", mx.metric.TopKAccuracy), ("ce", mx.metric.CrossEntropy),
                                       ("nll_loss", mx.metric.NegativeLogLikelihood), ("F1", mx.metric.F1),
                                       ("pearsonr", mx.metric.PearsonCorrelation), ("rmse", mx.metric.RMSE),
                                       ("composite", mx.metric.CompositeEvalMetric)])
def test_create_finds_names_and_aliases_case_insensitively(spec, cls):
    kwargs = {"top_k": 2} if cls is mx.metric.TopKAccuracy else {}
    assert type(mx.metric.create(spec, **kwargs)) is cls


def test_create_returns_instances_and_rejects_unknown_names():
    acc = mx.metric.Accuracy()
    assert mx.metric.create(acc) is acc
    assert [m.name for m in mx.metric.create(["acc", acc, "ce"]).metrics] == ["accuracy", "accuracy", "cross-entropy"]
    with pytest.raises(mx.MXNetError, match="no_such_metric"):
        mx.metric.create("no_such_metric")


def test_register_and_alias_make_a_new_metric_creatable():
    @mx.metric.register
    @mx.metric.alias("count_ones_alias")
    class CountOnes(mx.metric.EvalMetric):
        def __init__(self, name="ones"):
            super().__init__(name)

        def update(self, labels, preds):
            for pred in preds:
                self.sum_metric += float((pred.asnumpy() == 1).sum())
                self.num_inst += pred.size

    for spec in ("countones", "count_ones_alias"):
        metric = mx.metric.create(spec)
        metric.update(None, [mx.nd.array([1, 0, 1, 1])])
        assert metric.get() == ("ones", 0.75)


@pytest.mark.parametrize("metric", [
    mx.metric.Accuracy(axis=0, name="a0"), mx.metric.TopKAccuracy(top_k=3), mx.metric.F1(average="micro"),
    mx.metric.MCC(average="micro"), mx.metric.Perplexity(-1, axis=1), mx.metric.CrossEntropy(eps=1e-3),
    mx.metric.NegativeLogLikelihood(), mx.metric.PearsonCorrelation(average="micro"), mx.metric.PCC(),
    mx.metric.MAE(output_names=["out"], label_names=["lab"]), mx.metric.Torch(),
    mx.metric.create(["acc", "f1", ["mse", "rmse"]])], ids=lambda m: type(m).__name__)
def test_config_round_trips_through_json(metric):
    config = metric.get_config()
    again = mx.metric.create(json.dumps(config))
    assert type(again) is type(metric) and again.get_config() == config and again.name == metric.name
    assert mx.metric.create(config).get_config() == config


def test_check_label_shapes_wraps_single_arrays_and_compares_shapes():
    a, b = mx.nd.ones((2, 3)), np.ones((2, 3))
    assert mx.metric.check_label_shapes(a, b, wrap=True) == ([a], [b])
    mx.metric.check_label_shapes(a, b, shape=True)
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(2, 4\)"):
        mx.metric.check_label_shapes(a, mx.nd.ones((2, 4)), shape=True)
    with pytest.raises(ValueError, match="1 does not match.*2"):
        mx.metric.check_label_shapes([a], [a, a])


def test_base_metric_has_no_update_and_local_only_stats_by_default():
    base = mx.metric.EvalMetric("base", extra=1)
    with pytest.raises(NotImplementedError):
        base.update([], [])
    base.sum_metric, base.num_inst = 3.0, 2
    assert base.get_global() == ("base", 1.5) and base.get_config()["extra"] == 1
