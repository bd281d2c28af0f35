"""Testing support for code built on mxcy (needs hypothesis): see mxcy.testing.strategies."""
