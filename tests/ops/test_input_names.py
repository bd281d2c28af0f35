"""ops/_input_names.py, the generated list of operators whose input names MXNet 1.9.1 does not declare."""
from mxcy.ops import registry
from mxcy.ops._input_names import UNLISTED


def test_every_entry_is_a_registered_operator_under_its_own_name():
    # A renamed or dropped op would leave a stale entry that silently stops applying.
    assert UNLISTED <= {op.name for op in registry.all_ops()}


def test_the_field_follows_the_list():
    assert [registry.get(n).lists_input_names for n in ("Activation", "exp", "_MulScalar", "Reshape")] == [False] * 4
    assert all(registry.get(n).lists_input_names for n in ("FullyConnected", "Concat", "elemwise_add", "softmax"))
