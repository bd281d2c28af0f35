"""mx.Context details MXNet-era code relies on (more context behaviour is exercised throughout the suite)."""
import pytest

import mxcy as mx


def test_default_ctx_is_a_deprecated_class_property_naming_the_current_context():
    with pytest.warns(DeprecationWarning, match="default_ctx has been deprecated"):
        assert mx.Context.default_ctx is mx.current_context() is mx.cpu()
    with mx.Context("cpu", 1):
        with pytest.warns(DeprecationWarning):
            assert mx.Context.default_ctx is mx.cpu(1)
