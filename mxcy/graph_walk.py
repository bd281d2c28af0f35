"""The one depth-first post-order walk that autograd's tape and Symbol graphs both use."""

__all__ = ["post_order"]

_EMIT = object()  # on the walk's stack: the node below it has had its children walked


def post_order(roots, children):
    """Every node reachable from the sequence `roots`, each once and after all the nodes it reaches: depth-first
    post-order, roots and the sequences `children(node)` taken in order (nnvm's DFSVisit). Nodes are told apart
    by identity; `children` is called once per node, when the walk first reaches it, so it may also check the
    node. Iterative (deep graphs do not hit Python's recursion limit), and without an object per node on the
    stack, which the tape walk of a long backward feels."""
    order, seen = [], set()
    stack = list(reversed(roots))
    while stack:
        node = stack.pop()
        if node is _EMIT:
            order.append(stack.pop())
        elif id(node) not in seen:
            seen.add(id(node))
            stack.append(node)
            stack.append(_EMIT)
            stack.extend(reversed(children(node)))
    return order
