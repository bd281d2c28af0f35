"""mx.contrib.io.DataLoaderIter: a gluon DataLoader's batches as DataBatches (cast, named, last batch padded),
and Module.fit training from it as from an NDArrayIter over the same arrays."""
import numpy as np
import pytest

import mxcy as mx
from mxcy.contrib.io import DataLoaderIter


def _arrays():
    rng = np.random.RandomState(0)
    return rng.randn(10, 3).astype(np.float64), rng.randint(0, 2, 10).astype(np.float64)


def _loader(batch_size=4):
    x, y = _arrays()
    return mx.gluon.data.DataLoader(mx.gluon.data.ArrayDataset(x, y), batch_size=batch_size)


def test_batches_padding_and_descs():
    x, y = _arrays()
    it = DataLoaderIter(_loader(), data_name="x", label_name="y")
    assert it.provide_data[0][:2] == ("x", (4, 3)) and it.provide_label[0][:2] == ("y", (4,))
    batches = list(it)
    assert [b.pad for b in batches] == [0, 0, 2]
    assert all(b.data[0].dtype == np.float32 and b.data[0].shape == (4, 3) for b in batches)
    np.testing.assert_allclose(batches[2].data[0].asnumpy(), np.vstack([x[8:], np.zeros((2, 3))]), rtol=1e-6)
    np.testing.assert_array_equal(batches[2].label[0].asnumpy(), np.concatenate([y[8:], [0, 0]]))
    it.reset()
    assert len(list(it)) == 3
    with pytest.raises(ValueError, match="at least one"):
        DataLoaderIter([])


def test_module_fit_from_a_dataloader_equals_ndarrayiter():
    x, y = _arrays()
    net = mx.sym.SoftmaxOutput(mx.sym.FullyConnected(mx.sym.var("data"), num_hidden=2, name="fc"), name="softmax")
    params = {"fc_weight": mx.nd.array(np.full((2, 3), 0.1)), "fc_bias": mx.nd.zeros(2)}
    results = []
    for data in (DataLoaderIter(_loader(5)), mx.io.NDArrayIter(x, y, batch_size=5)):
        mod = mx.mod.Module(net)
        mod.fit(data, num_epoch=2, arg_params=dict(params), optimizer_params={"learning_rate": 0.5})
        results.append(mod.get_params()[0]["fc_weight"].asnumpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-5)
