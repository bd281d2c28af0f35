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
