"""npx.save / npx.load: mx.np arrays round-trip with their shapes (0-d and zero-size included) and types."""
from mxcy import np, npx


def test_save_and_load_keep_0d_arrays(tmp_path):
    path = str(tmp_path / "arrays")
    npx.save(path, {"scalar": np.array(2.5), "empty": np.zeros((0, 2)), "x": np.arange(3)})
    loaded = npx.load(path)
    assert loaded["scalar"].shape == () and loaded["scalar"].item() == 2.5 and type(loaded["x"]) is np.ndarray
    assert loaded["empty"].shape == (0, 2) and loaded["x"].asnumpy().tolist() == [0.0, 1.0, 2.0]
    npx.save(path, [np.ones((2,))])
    assert [type(a) for a in npx.load(path)] == [np.ndarray]
