"""mx.runtime: one Features instance (as MXNet's), listing what this build has."""
import pytest

import mxcy as mx


def test_features_is_a_singleton_that_answers_by_name():
    features = mx.runtime.Features()
    assert features is mx.runtime.Features()
    assert not features.is_enabled("cuda") and features.is_enabled("THREADED_ENGINE")
    assert [f.name for f in mx.runtime.feature_list()] == list(features)
    with pytest.raises(RuntimeError, match="unknown"):
        features.is_enabled("NO_SUCH_FEATURE")
