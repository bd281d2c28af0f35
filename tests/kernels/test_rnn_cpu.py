"""rnn_cpu's helpers on their own (the recurrences are tested through the RNN op: tests/ops/test_rnn.py)."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mxcy.kernels import rnn_cpu


@settings(max_examples=20, deadline=None)
@given(m=st.integers(1, 70), n=st.integers(1, 70), dtype=st.sampled_from([np.float32, np.float64]))
def test_transpose_by_blocks(m, n, dtype):
    a = np.random.default_rng(m * 71 + n).standard_normal((m, n)).astype(dtype)
    out = np.full((n, m), np.nan, dtype)
    rnn_cpu._transpose(a, out)
    np.testing.assert_array_equal(out, a.T)
