"""Thread-local scopes as MXNet 1.9.1's test_thread_local uses them: `Cls.current = ...` and
`Context.default_ctx = ...` set this thread's value only."""
import warnings

import mxcy as mx
from mxcy.attribute import AttrScope
from mxcy.context import Context
from mxcy.name import NameManager
from tests.test_util import _in_other_thread


def test_assigning_current_scopes_is_per_thread():
    try:
        AttrScope.current = AttrScope(y="hi")
        NameManager.current = NameManager()
        NameManager.current.get(None, "main_thread")
        assert AttrScope.current._attr == {"y": "hi"} and "main_thread" in NameManager.current._counter
        seen = _in_other_thread(lambda: (dict(AttrScope.current._attr), dict(NameManager.current._counter)))
        assert seen == ({}, {})  # another thread keeps its own defaults
        assert mx.sym.var("x", lr_mult=2.0).attr("y") == "hi"  # symbols made here take the scope's attributes
    finally:
        AttrScope.current = AttrScope()
        NameManager.current = NameManager()


def test_assigning_default_ctx_is_per_thread():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        previous = Context.default_ctx
        try:
            Context.default_ctx = Context("cpu", 11)
            assert mx.current_context() == mx.cpu(11) and isinstance(Context.default_ctx, Context)
            assert _in_other_thread(lambda: Context.default_ctx) == mx.cpu(0)
            with mx.cpu(3):
                assert Context.default_ctx == mx.cpu(3)
            assert Context.default_ctx == mx.cpu(11)
        finally:
            Context.default_ctx = previous
