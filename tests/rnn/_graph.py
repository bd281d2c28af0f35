"""Binding and running an mx.rnn test graph."""
import mxcy as mx


def run_graph(group, shapes, vals, dtype, head_grads=None):
    """(outputs, gradients by argument name) of the group bound with `vals` (inference outputs; gradients of a
    training pass with head_grads, or None)."""
    exe = group.simple_bind(mx.cpu(), grad_req="write", type_dict={n: dtype for n in vals}, **shapes)
    for n, v in vals.items():
        exe.arg_dict[n][:] = v
    outs = [o.asnumpy() for o in exe.forward(is_train=False)]
    if head_grads is None:
        return outs, None
    exe.forward(is_train=True)
    exe.backward([mx.nd.array(g(o.shape), dtype=dtype) for g, o in zip(head_grads, outs)])
    return outs, {n: exe.grad_dict[n].asnumpy() for n in vals}
