"""A short tour of mxcy: MXNet 1.x NDArray code, run unchanged on the threaded engine."""
import mxcy as mx

a = mx.nd.array([[1, 2, 3], [4, 5, 6]])
b = mx.nd.ones((2, 3)) * 0.5
c = mx.nd.exp(a - b).sum(axis=1)
print("exp(a - b).sum(axis=1) =", c.asnumpy())

x = mx.nd.random.uniform(-1, 1, shape=(4, 3))
w = mx.nd.random.normal(0, 0.1, shape=(3, 2))
w.attach_grad()
with mx.autograd.record():
    loss = (mx.nd.dot(x, w) ** 2).mean()
loss.backward()
print("loss =", loss.asscalar(), " d loss / d w =\n", w.grad.asnumpy())

import os, tempfile
path = os.path.join(tempfile.mkdtemp(), "demo.params")
mx.nd.save(path, {"w": w, "x": x})
print("reloaded keys:", sorted(mx.nd.load(path)))
print("engine:", "naive" if mx.engine.is_naive() else "threaded", "| features:",
      [f.name for f in mx.runtime.feature_list() if f.enabled])

# A symbolic LeNet, as MXNet 1.x scripts build it: bind, train a few steps on a toy task, save, reload.
import numpy as np

data = mx.sym.var("data")
net = mx.sym.Convolution(data, kernel=(3, 3), num_filter=8, name="conv1")
net = mx.sym.BatchNorm(net, fix_gamma=False, name="bn1")
net = mx.sym.Activation(net, act_type="relu", name="relu1")
net = mx.sym.Pooling(net, pool_type="max", kernel=(2, 2), stride=(2, 2), name="pool1")
net = mx.sym.FullyConnected(mx.sym.Flatten(net), num_hidden=2, name="fc")
net = mx.sym.SoftmaxOutput(net, name="softmax")
exe = net.simple_bind(mx.cpu(), data=(16, 1, 8, 8))
rng = np.random.default_rng(0)
for name, arr in exe.arg_dict.items():
    if name.endswith("weight"):
        arr[:] = rng.normal(0, 0.3, arr.shape)
    elif name.endswith("gamma"):
        arr[:] = 1
for name, arr in exe.aux_dict.items():
    arr[:] = 1 if name.endswith("var") else 0
images = rng.normal(size=(16, 1, 8, 8)).astype("float32")
labels = (images[:, 0, :4].mean(axis=(1, 2)) > images[:, 0, 4:].mean(axis=(1, 2))).astype("float32")
for step in range(30):  # plain SGD on the bound gradients
    exe.forward(is_train=True, data=mx.nd.array(images), softmax_label=mx.nd.array(labels))
    exe.backward()
    for name, grad in exe.grad_dict.items():
        if name not in ("data", "softmax_label"):
            exe.arg_dict[name][:] -= 0.05 * grad
accuracy = (exe.outputs[0].asnumpy().argmax(axis=1) == labels).mean()
print("LeNet-style net, training accuracy after 30 steps:", accuracy)
mx.viz.print_summary(net, shape={"data": (16, 1, 8, 8)})
folder = tempfile.mkdtemp()
net.save(os.path.join(folder, "lenet-symbol.json"))
mx.nd.save(os.path.join(folder, "lenet-0000.params"),
           {**{f"arg:{k}": v for k, v in exe.arg_dict.items() if k not in ("data", "softmax_label")},
            **{f"aux:{k}": v for k, v in exe.aux_dict.items()}})
reloaded = mx.sym.load(os.path.join(folder, "lenet-symbol.json"))
print("reloaded symbol arguments:", reloaded.list_arguments())

# The same toy task in Gluon: a hybridized network, Trainer, export, and the export imported back.
from mxcy import autograd, gluon

gnet = gluon.nn.HybridSequential()
with gnet.name_scope():
    gnet.add(gluon.nn.Conv2D(8, 3, activation="relu"), gluon.nn.BatchNorm(), gluon.nn.MaxPool2D(),
             gluon.nn.Dense(2))
gnet.initialize(mx.init.Xavier())
gnet.hybridize()
trainer = gluon.Trainer(gnet.collect_params(), "adam", {"learning_rate": 0.01})
loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
x_all, y_all = mx.nd.array(images), mx.nd.array(labels)
for step in range(30):
    with autograd.record():
        step_loss = loss_fn(gnet(x_all), y_all)
    step_loss.backward()
    trainer.step(len(labels))
accuracy = (gnet(x_all).asnumpy().argmax(axis=1) == labels).mean()
print("Gluon net, training accuracy after 30 Adam steps:", accuracy)
prefix = os.path.join(folder, "gluon-net")
gnet.export(prefix)
imported = gluon.SymbolBlock.imports(prefix + "-symbol.json", ["data"], prefix + "-0000.params")
print("imported export gives the same outputs:",
      bool(np.allclose(imported(x_all).asnumpy(), gnet(x_all).asnumpy(), atol=1e-6)))
