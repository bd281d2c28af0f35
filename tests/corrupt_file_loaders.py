"""The loads of tests/test_corrupt_files.py that take more than one call, each given the path of one (maybe
corrupted) file and reading it the way users do: a whole RecordIO file record by record, a dataset from its folder,
a checkpoint from its prefix, parameters into the network that saved them, states into a trainer."""
import os
import sys

import mxcy as mx

HERE = os.path.dirname(os.path.abspath(__file__))


def _stem(path):
    return os.path.splitext(path)[0]


def nd_load_np_shape(path):
    """mx.nd.load of a file saved under NumPy shape semantics, read under them."""
    with mx.util.np_shape(True):
        return mx.nd.load(path)


def recordio(path):
    """Every record of a RecordIO file, in order."""
    record = mx.recordio.MXRecordIO(path, "r")
    while record.read() is not None:
        pass
    record.close()


def indexed_recordio(path):
    """Every record of an indexed RecordIO pair (path is either file), by key."""
    record = mx.recordio.MXIndexedRecordIO(_stem(path) + ".idx", _stem(path) + ".rec", "r")
    for key in record.keys:
        record.read_idx(key)
    record.close()


def mnist_dataset(path):
    """gluon's MNIST from the folder of an idx file: the train-* (gzipped) or t10k-* pair."""
    mx.gluon.data.vision.MNIST(root=os.path.dirname(path), train=os.path.basename(path).startswith("train"))


def mnist_iter(path):
    """Every batch of mx.io.MNISTIter over the images/labels pair `path` belongs to."""
    image = path.replace("labels-idx1", "images-idx3")
    for _ in mx.io.MNISTIter(image=image, label=image.replace("images-idx3", "labels-idx1"), batch_size=1,
                             shuffle=False, silent=True):
        pass


def cifar10(path):
    mx.gluon.data.vision.CIFAR10(root=os.path.dirname(path), train=False)


def checkpoint(path):
    """mx.model.load_checkpoint of the epoch-3 checkpoint `path` belongs to (prefix-symbol.json, prefix-0003.params)."""
    prefix = path[:-len("-symbol.json")] if path.endswith("-symbol.json") else path[:-len("-0003.params")]
    mx.model.load_checkpoint(prefix, 3)


def gluon_parameters(path):
    """load_parameters into the MLP of tests/gluon/fixtures/models.py, which MXNet saved the file from."""
    sys.path.insert(0, os.path.join(HERE, "gluon", "fixtures"))
    import models
    models.build_mlp(mx).load_parameters(path)


def trainer_states(path):
    """Trainer.load_states into the trainer tests/fixtures/corrupt/make_corrupt_fixtures.py saved from."""
    net = mx.gluon.nn.Dense(2, in_units=3, prefix="dense_")
    net.initialize()
    mx.gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1, "momentum": 0.9},
                     kvstore=None).load_states(path)


def updater_states(data):
    """Updater.set_states on the bytes of a states file."""
    mx.optimizer.get_updater(mx.optimizer.SGD(momentum=0.9)).set_states(data)


def block_load(path):
    """gluon Block.load into the MLP of tests/gluon/fixtures/models.py, of the -model.json/.params pair `path` is
    one of."""
    sys.path.insert(0, os.path.join(HERE, "gluon", "fixtures"))
    import models
    models.build_mlp(mx).load(path[:path.rindex("-model.")])


def module_states(path):
    """Module.load_optimizer_states of a module bound to the MXNet-saved MLP checkpoint of tests/module/fixtures."""
    mod = mx.mod.Module.load(os.path.join(HERE, "module", "fixtures", "mlp"), 3)
    mod.bind(data_shapes=[("data", (4, 4))], label_shapes=[("softmax_label", (4,))])
    mod.init_optimizer(optimizer_params={"learning_rate": 0.1, "momentum": 0.9})
    mod.load_optimizer_states(path)
