"""_SVRGOptimizer routes '<name>_full' indices to _AssignmentOptimizer and the rest to the user's optimizer,
which gets every keyword argument; checked through a KVStore as SVRGModule uses them."""
import numpy as np
import pytest

import mxcy as mx
from mxcy.contrib.svrg_optimization.svrg_optimizer import _AssignmentOptimizer, _SVRGOptimizer


def test_updates_are_routed_by_name():
    svrg = _SVRGOptimizer(default_optimizer="sgd", param_idx2name={0: "w", 1: "w_full"}, learning_rate=0.5,
                          momentum=0.9, rescale_grad=0.5)
    assert type(svrg.default_opt).__name__ == "SGD" and svrg.default_opt.momentum == 0.9
    assert isinstance(svrg.aux_opt, _AssignmentOptimizer)
    kv = mx.kv.create("local")
    kv.set_optimizer(svrg)
    kv.init(0, mx.nd.array([1.0, 2.0]))
    kv.init(1, mx.nd.array([5.0, 5.0]))
    for _ in range(2):
        kv.push(0, mx.nd.array([2.0, -2.0]))
        kv.push(1, mx.nd.array([3.0, 4.0]))
    w, w_full = mx.nd.zeros(2), mx.nd.zeros(2)
    kv.pull(0, out=w)
    kv.pull(1, out=w_full)
    # SGD with momentum: m = 0.9 m - lr * rescale * g; w += m, twice with g = [2, -2]
    step = 0.5 * 0.5 * np.array([2.0, -2.0])
    np.testing.assert_allclose(w.asnumpy(), [1.0, 2.0] - step - (0.9 * step + step), rtol=1e-6)
    np.testing.assert_array_equal(w_full.asnumpy(), [3.0, 4.0])  # assigned, not scaled or accumulated


def test_names_work_as_indices_and_states_follow_the_route():
    svrg = _SVRGOptimizer(default_optimizer=mx.optimizer.SGD(momentum=0.5), param_idx2name={0: "w", 1: "w_full"})
    weight = mx.nd.ones(3)
    assert svrg.create_state("w", weight) is not None  # SGD's momentum
    assert svrg.create_state(1, weight) is None
    with pytest.raises(KeyError, match="param_idx2name"):
        svrg.create_state(7, weight)


def test_base_parameters_stay_with_the_wrapper():
    assert _SVRGOptimizer._check_params(learning_rate=0.1, momentum=0.9, wd=0.01) == {"learning_rate": 0.1,
                                                                                       "wd": 0.01}
    svrg = _SVRGOptimizer(default_optimizer="sgd", learning_rate=-1.0)
    assert svrg.lr == -1.0 and svrg.default_opt.lr == -1.0
