"""mx.profiler: operator events from the engine, user ranges, counters and markers in a Chrome trace;
MXNet's aggregate statistics; the engine's push is untouched while not recording."""
import json

import numpy as np
import pytest

import mxcy as mx
from mxcy import profiler


@pytest.fixture
def trace_file(tmp_path):
    path = tmp_path / "profile.json"
    profiler.set_config(profile_all=True, filename=str(path), aggregate_stats=True)
    profiler.dumps(reset=True)
    profiler.dump(True)  # drop events left by earlier tests
    yield path
    profiler.set_state("stop")
    profiler.resume()
    profiler.set_config(filename="profile.json")


def _operator_events(path):
    return [e for e in json.loads(path.read_text())["traceEvents"] if e.get("cat") == "operator"]


def test_trace_has_one_event_per_op_nested_in_the_task(trace_file):
    profiler.set_state("run")
    assert mx.engine.push is not mx.engine.get_engine().push
    x = mx.nd.zeros((10, 10))
    domain = profiler.Domain("PythonDomain")
    task = domain.new_task("step")
    task.start()
    y = mx.nd.sqrt(x + 1)
    y.wait_to_read()
    task.stop()
    profiler.set_state("stop")
    assert mx.engine.push == mx.engine.get_engine().push  # no recording wrapper on the hot path
    profiler.dump()
    ops = _operator_events(trace_file)
    assert sorted(e["name"] for e in ops) == ["_plus_scalar", "_zeros", "sqrt"]
    (step,) = [e for e in json.loads(trace_file.read_text())["traceEvents"] if e["name"] == "step"]
    assert step["cat"] == "PythonDomain" and step["ph"] == "X"
    for e in ops:
        assert e["ph"] == "X" and e["dur"] >= 0
        if e["name"] != "_zeros":
            assert step["ts"] <= e["ts"] and e["ts"] + e["dur"] <= step["ts"] + step["dur"]
    np.testing.assert_allclose(y.asnumpy(), 1.0)


def test_dump_not_finished_keeps_events_and_file_grows(trace_file):
    profiler.set_state("run")
    mx.nd.ones(3).wait_to_read()
    profiler.dump(False)
    first = trace_file.stat().st_size
    mx.nd.ones(3).wait_to_read()
    profiler.dump(False)
    assert trace_file.stat().st_size > first and len(_operator_events(trace_file)) == 2
    profiler.dump(True)
    profiler.dump(True)
    assert _operator_events(trace_file) == []


def test_paused_operators_are_not_recorded(trace_file):
    profiler.set_state("run")
    profiler.pause()
    mx.nd.ones(2).wait_to_read()
    profiler.resume()
    (mx.nd.ones(2) * 2).wait_to_read()
    profiler.set_state("stop")
    profiler.dump()
    assert sorted(e["name"] for e in _operator_events(trace_file)) == ["_mul_scalar", "_ones"]
    profiler.pause()
    profiler.set_state("run")  # a new state ends the pause
    mx.nd.zeros(1).wait_to_read()
    profiler.dump()
    assert [e["name"] for e in _operator_events(trace_file)] == ["_zeros"]


def test_aggregate_statistics(trace_file):
    profiler.set_state("run")
    x = mx.nd.zeros((4, 4))
    mx.nd.sqrt(x)
    x = x + 1
    x = x + 1
    mx.nd.waitall()
    stats = json.loads(profiler.dumps(format="json"))
    assert set(stats) == {"Time", "Memory", "Unit"} and stats["Unit"] == {"Time": "ms", "Memory": "kB"}
    ops = stats["Time"]["operator"]
    assert ops["sqrt"]["Count"] == 1 and ops["_plus_scalar"]["Count"] == 2
    plus = ops["_plus_scalar"]
    assert plus["Min"] <= plus["Avg"] <= plus["Max"] and plus["Total"] == pytest.approx(2 * plus["Avg"])
    for sort_by, field in (("count", "Count"), ("total", "Total"), ("avg", "Avg"), ("min", "Min"), ("max", "Max")):
        for ascending in (False, True):
            ordered = json.loads(profiler.dumps(format="json", sort_by=sort_by, ascending=ascending))
            values = [v[field] for v in ordered["Time"]["operator"].values()]
            assert values == sorted(values, reverse=not ascending)
    table = profiler.dumps(reset=True)
    assert "Profile Statistics:" in table and "operator\n=================" in table
    assert [line.split()[:2] for line in table.splitlines() if line.startswith("_plus_scalar")] == \
        [["_plus_scalar", "2"]]
    assert json.loads(profiler.dumps(format="json"))["Time"] == {}


def test_counters_markers_and_events(trace_file):
    profiler.set_state("run")
    domain = profiler.Domain("D")
    counter = profiler.Counter(domain, "c", value=5)
    counter += 2
    counter -= 1
    domain.new_marker("m").mark("global")
    event = profiler.Event("e")
    event.start()
    event.stop()
    frame = domain.new_frame("f")
    frame.start()
    frame.stop()
    profiler.set_state("stop")
    profiler.dump()
    events = json.loads(trace_file.read_text())["traceEvents"]
    assert [e["args"]["c"] for e in events if e["ph"] == "C"] == [5, 7, 6] and counter.value == 6
    assert [(e["name"], e["s"]) for e in events if e["ph"] == "i"] == [("m", "g")]
    assert {(e["name"], e["cat"]) for e in events if e["ph"] == "X"} == {("e", "Custom Events"), ("f", "D")}
    with pytest.raises(mx.MXNetError, match="stop"):
        profiler.Task(domain, "t").stop()


def test_bad_arguments():
    with pytest.raises(ValueError, match="state"):
        profiler.set_state("go")
    with pytest.raises(ValueError, match="unknown arguments"):
        profiler.set_config(profile_everything=True)
    with pytest.raises(NotImplementedError, match="not yet"):
        profiler.set_state("run", profile_process="server")
    with pytest.raises(ValueError, match="format"):
        profiler.dumps(format="xml")
    with pytest.raises(ValueError, match="sort_by"):
        profiler.dumps(sort_by="name")
    with pytest.raises(ValueError, match="scope"):
        profiler.Marker(profiler.Domain("D"), "m").mark("galaxy")


def test_deprecated_spellings(trace_file):
    with pytest.warns(DeprecationWarning):
        profiler.profiler_set_config(mode="all", filename=str(trace_file))
    with pytest.warns(DeprecationWarning):
        profiler.profiler_set_state("run")
    mx.nd.ones(1).wait_to_read()
    with pytest.warns(DeprecationWarning):
        profiler.dump_profile()
    assert [e["name"] for e in _operator_events(trace_file)] == ["_ones"]


class _SigmoidOp(mx.operator.CustomOp):
    def forward(self, is_train, req, in_data, out_data, aux):
        self.assign(out_data[0], req[0], 1 / (1 + mx.nd.exp(-in_data[0])))
        mx.nd.zeros((4, 4)).wait_to_read()  # an operator pushed from the Custom op's code

    def backward(self, req, out_grad, in_data, out_data, in_grad, aux):
        y = out_data[0]
        self.assign(in_grad[0], req[0], out_grad[0] * y * (1 - y))


@mx.operator.register("profiled_sigmoid")
class _SigmoidProp(mx.operator.CustomOpProp):
    def create_operator(self, ctx, in_shapes, in_dtypes):
        return _SigmoidOp()


def test_custom_operators_are_profiled_as_mxnet_names_them(trace_file):
    # MXNet 1.9.1's test_custom_operator_profiling: '<op>::pure_python', '_backward_<op>::pure_python' and
    # '<op>::<operator it pushed>' in the 'Custom Operator' category
    profiler.set_state("run")
    x = mx.nd.array([0, 1, 2, 3])
    x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.Custom(x, op_type="profiled_sigmoid")
    y.backward()
    mx.nd.waitall()
    profiler.set_state("stop")
    custom = json.loads(profiler.dumps(format="json"))["Time"]["Custom Operator"]
    assert {"profiled_sigmoid::pure_python", "_backward_profiled_sigmoid::pure_python",
            "profiled_sigmoid::_zeros"} <= set(custom)
    assert custom["profiled_sigmoid::_zeros"]["Count"] == 1
