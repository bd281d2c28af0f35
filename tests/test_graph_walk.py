"""The shared post-order walk: known orders on small graphs, each node once, deep graphs without recursion."""
import sys

import pytest

from mxcy.graph_walk import post_order

# a -> (b, c), b -> (d,), c -> (d, e): d is shared, as a diamond
GRAPH = {"a": ["b", "c"], "b": ["d"], "c": ["d", "e"], "d": [], "e": []}


@pytest.mark.parametrize("roots, expected", [
    (["a"], ["d", "b", "e", "c", "a"]),
    (["c", "b"], ["d", "e", "c", "b"]),
    (["d", "a", "a"], ["d", "b", "e", "c", "a"]),
    ([], []),
])
def test_depth_first_post_order_with_children_in_order(roots, expected):
    assert post_order(roots, GRAPH.__getitem__) == expected


def test_children_is_asked_once_per_node():
    asked = []

    def children(node):
        asked.append(node)
        return GRAPH[node]
    post_order(["a", "c"], children)
    assert sorted(asked) == ["a", "b", "c", "d", "e"]


def test_nodes_are_told_apart_by_identity():
    class Node:
        def __init__(self, *inputs):
            self.inputs = list(inputs)

        def __eq__(self, other):  # equal-comparing nodes are still distinct nodes
            return True

        __hash__ = object.__hash__
    x, y = Node(), Node()
    top = Node(x, y)
    order = post_order([top], lambda n: n.inputs)
    assert [id(n) for n in order] == [id(x), id(y), id(top)]


def test_a_chain_deeper_than_the_recursion_limit():
    depth = sys.getrecursionlimit() * 3
    order = post_order([depth], lambda n: [n - 1] if n else [])
    assert order == list(range(depth + 1))
