"""Kernel tests run the threaded build of every parallel CPU kernel, whatever their (small) shapes: the ops'
tests reach the serial builds."""
import pytest

from mxcy.kernels import common


@pytest.fixture(autouse=True)
def threaded_builds(monkeypatch):
    monkeypatch.setattr(common, "PARALLEL_MIN_ELEMENTS", 0)
