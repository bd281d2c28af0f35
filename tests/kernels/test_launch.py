"""Launch shapes follow the device: grid-stride launches are capped at BLOCKS_PER_SM blocks per SM of
the current device (the simulator's, which has no SM count, as a 132-SM GPU)."""
import pytest

from mxcy.kernels import launch


class _Device:
    MULTIPROCESSOR_COUNT = 7


@pytest.fixture
def seven_sm_device(monkeypatch):
    device = _Device()
    monkeypatch.setattr(launch, "_max_blocks", {})
    monkeypatch.setattr(launch.cuda, "get_current_device", lambda: device)


def test_grid_1d_caps_blocks_at_the_devices_sm_count(seven_sm_device):
    assert launch.grid_1d(10 ** 7) == (16 * 7, 256)
    assert launch.grid_1d(1000) == (4, 256)
    assert launch.grid_1d(5) == (1, 5)


def test_rows_launch_caps_blocks_at_the_devices_sm_count(seven_sm_device):
    assert launch.rows_launch(10 ** 6, 1000) == (16 * 7, (256, 1))
    assert launch.rows_launch(10 ** 6, 3) == (16 * 7, (4, 64))
    assert launch.rows_launch(10, 3) == (1, (4, 16))


@pytest.mark.cuda
def test_the_current_device_is_asked():
    from numba import cuda
    sms = getattr(cuda.get_current_device(), "MULTIPROCESSOR_COUNT", launch.SIMULATOR_SMS)
    assert launch.max_blocks() == launch.BLOCKS_PER_SM * sms
    assert launch.grid_1d(10 ** 9)[0] == launch.BLOCKS_PER_SM * sms
