"""mx.nd.contrib.foreach / while_loop / cond: plain Python loops over NDArrays, so under autograd.record every
operator the body runs is on the tape (MXNet 1.9.1's imperative versions work the same way). Also the nested
list flattening that these and the Symbol versions (symbol/control_flow.py) share."""
from ..base import MXNetError
from .ndarray import NDArray

__all__ = ["foreach", "while_loop", "cond", "flatten", "regroup"]


def flatten(args, leaf, what):
    """(flat list of leaves, format): a leaf's format is 0 (a multi-output Symbol's is its number of
    outputs, which it expands to), a list's the list of its items' formats."""
    if isinstance(args, leaf):
        n = len(args) if leaf is not NDArray else 1
        return ([args], 0) if n == 1 else (list(args), n)
    if not isinstance(args, (list, tuple)):
        raise MXNetError(f"{what} must be a (nested) list of {leaf.__name__}, got {type(args).__name__}")
    flat, fmts = [], []
    for item in args:
        items, fmt = flatten(item, leaf, what)
        flat.extend(items)
        fmts.append(fmt)
    return flat, fmts


def regroup(flat, fmt):
    """The nesting `fmt` (from flatten) rebuilt from the front of `flat`; returns (value, the rest)."""
    if isinstance(fmt, int):
        return (flat[0], flat[1:]) if fmt == 0 else (list(flat[:fmt]), flat[fmt:])
    out = []
    for item in fmt:
        value, flat = regroup(flat, item)
        out.append(value)
    return out, flat


def _scalar(value, kind, what):
    if isinstance(value, NDArray):
        if value.size != 1:
            raise MXNetError(f"{what} must have one element, got shape {value.shape}")
        value = value.asscalar()
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise ValueError(f"Cannot convert {what} to python {kind.__name__}") from None


def foreach(body, data, init_states):
    """Run `body(slice, states) -> (outputs, new_states)` on each slice of `data` along axis 0; returns
    (per-step outputs stacked along axis 0, the last states), nested as body gives them."""
    from .op import stack
    flat_data, _ = flatten(data, NDArray, "foreach data")
    flatten(init_states, NDArray, "foreach init_states")
    if not flat_data:
        raise MXNetError("foreach: data must hold at least one NDArray")
    length = flat_data[0].shape[0]
    if any(d.shape[0] != length for d in flat_data):
        raise MXNetError(f"foreach: the data arrays differ in length along axis 0: {[d.shape for d in flat_data]}")
    states, steps, out_fmt = init_states, [], None
    for t in range(length):
        slices = data[t] if isinstance(data, NDArray) else regroup([d[t] for d in flat_data],
                                                                   flatten(data, NDArray, "")[1])[0]
        outs, states = body(slices, states)
        outs, out_fmt = flatten(outs, NDArray, "foreach output")
        steps.append(outs)
    if out_fmt is None:
        raise MXNetError("foreach: the data has length 0 along axis 0; there is nothing to loop over")
    stacked = [stack(*column, axis=0) for column in zip(*steps)]
    return regroup(stacked, out_fmt)[0], states


def while_loop(cond, func, loop_vars, max_iterations=None):
    """Run `func(*loop_vars) -> (step_output, new_loop_vars)` while `cond(*loop_vars)` holds, at most
    max_iterations times; returns (step outputs stacked along axis 0 and padded to max_iterations rows,
    the last loop_vars). The padding rows are zeros (MXNet leaves them uninitialised)."""
    from .op import concat
    from .utils import zeros
    if max_iterations is None:
        raise ValueError("max_iterations should be specified")
    max_iterations = _scalar(max_iterations, int, "max_iteration")
    if isinstance(loop_vars, (list, tuple)) and not loop_vars:
        raise ValueError("loop_vars should contain at least one element")
    single = isinstance(loop_vars, NDArray)
    loop_vars = [loop_vars] if single else list(loop_vars)
    steps, out_fmt = [], None
    while len(steps) < max_iterations and _scalar(cond(*loop_vars), bool, "Return value of cond"):
        step_output, new_vars = func(*loop_vars)
        step_output = [] if step_output is None else step_output
        new_vars = [] if new_vars is None else new_vars
        new_vars = [new_vars] if isinstance(new_vars, NDArray) else list(new_vars)
        if len(new_vars) != len(loop_vars):
            raise ValueError("The length of loop_vars should be consistent during the loop")
        flat, out_fmt = flatten(list(step_output) if isinstance(step_output, tuple) else step_output,
                                NDArray, "while output")
        if steps and len(flat) != len(steps[0]):
            raise ValueError("Number of elements in step_output should be the same in each step")
        steps.append(flat)
        loop_vars = new_vars
    stacked = []
    for i, column in enumerate(zip(*steps), 1):
        shapes = {x.shape for x in column}
        if len(shapes) > 1:
            raise ValueError(f"Shapes of {i}-th elements in step_outputs are inconsistent, which are: "
                             + ", ".join(f"step {k}: {x.shape}" for k, x in enumerate(column)))
        items = [x.expand_dims(0) for x in column]
        if len(items) < max_iterations:
            first = column[0]
            items.append(zeros((max_iterations - len(items),) + first.shape, ctx=first.context, dtype=first.dtype))
        stacked.append(concat(*items, dim=0))
    if out_fmt is not None:
        stacked = regroup(stacked, out_fmt)[0]
    return stacked, (loop_vars[0] if single else loop_vars)


def cond(pred, then_func, else_func):
    """then_func() when the one-element `pred` is nonzero, else else_func()."""
    return then_func() if _scalar(pred, bool, "pred") else else_func()
