"""mx.profiler: records each engine operator's start and end (and user Tasks, Frames, Events,
Counters and Markers) while running; dump() writes a Chrome trace (chrome://tracing, Perfetto),
dumps() MXNet's aggregate statistics as a table or JSON.

Operators are timed by swapping `mxcy.engine.push` for a recording wrapper while the profiler runs
and is not paused, so the engine's hot path is untouched otherwise. Times are host wall-clock
microseconds around each operator's Python compute (GPU kernels launch asynchronously).
"""
import json
import os
import threading
import time
import warnings

from . import engine
from .error import MXNetNotImplementedError, MXNetValueError
from .fileio import atomic_write

__all__ = ["set_config", "profiler_set_config", "set_state", "profiler_set_state", "dump", "dump_profile", "dumps",
           "pause", "resume", "set_kvstore_handle", "Domain", "Task", "Frame", "Event", "Counter", "Marker"]

_DEFAULTS = {"filename": "profile.json", "profile_all": False, "profile_symbolic": True,
             "profile_imperative": True, "profile_memory": True, "profile_api": True, "continuous_dump": False,
             "dump_period": 1.0, "aggregate_stats": False, "profile_process": "worker"}
_config = dict(_DEFAULTS)
_state = {"running": False, "paused": False}
_lock = threading.Lock()
_events = []     # Chrome trace events, in the order they ended
_stats = {}      # category -> name -> [count, total, min, max] (microseconds)
_PID = os.getpid()
_CLOCK_ORIGIN = time.perf_counter()


def _now_us():
    return (time.perf_counter() - _CLOCK_ORIGIN) * 1e6


def _record(category, name, start, end):
    """One complete ("X") trace event and its aggregate statistics."""
    duration = end - start
    with _lock:
        _events.append({"name": name, "cat": category, "ph": "X", "ts": start, "dur": duration, "pid": _PID,
                        "tid": threading.get_ident()})
        stat = _stats.setdefault(category, {}).get(name)
        if stat is None:
            _stats[category][name] = [1, duration, duration, duration]
        else:
            stat[0] += 1
            stat[1] += duration
            stat[2] = min(stat[2], duration)
            stat[3] = max(stat[3], duration)


def _recording():
    """Whether events are recorded now (running and not paused)."""
    return _state["running"] and not _state["paused"]


def _op_label(fn):
    target = getattr(fn, "func", fn)
    return getattr(target, "__name__", "<op>")


_custom = threading.local()  # .scope: the Custom operator whose Python code this thread runs, if any


class custom_operator:
    """While a Custom operator's Python forward/backward runs: the range is timed as '<name>::pure_python', and
    the operators it pushes are named '<name>::<op>', all in MXNet's 'Custom Operator' category."""

    def __init__(self, name):
        self.name, self.outer, self.start = name, None, None

    def __enter__(self):
        self.outer, _custom.scope = getattr(_custom, "scope", None), self.name
        self.start = _now_us()
        return self

    def __exit__(self, *exc):
        _custom.scope = self.outer
        if _recording():
            _record("Custom Operator", f"{self.name}::pure_python", self.start, _now_us())


def _profiling_push(fn, reads, writes, ctx=None, priority=0, name=None, light=False):
    """engine.push while profiling: the op's compute is timed as an 'operator' event (a 'Custom Operator' one,
    named after it, when a Custom operator's code pushed it)."""
    label = name or _op_label(fn)
    scope = getattr(_custom, "scope", None)
    category, event = ("operator", label) if scope is None else ("Custom Operator", f"{scope}::{label}")

    def timed():
        start = _now_us()
        try:
            fn()
        finally:
            _record(category, event, start, _now_us())
    return engine.get_engine().push(timed, reads, writes, ctx, priority, label, light)


def _update_hook():
    """Route engine.push through the recorder exactly while operators are to be recorded."""
    on = _recording() and (_config["profile_all"] or _config["profile_imperative"]
                                     or _config["profile_symbolic"])
    engine.push = _profiling_push if on else engine.get_engine().push


def _check_process(profile_process, what):
    if profile_process == "server":
        raise MXNetNotImplementedError(f"{what}: profiling a kvstore server is not yet available in mxcy")
    if profile_process != "worker":
        raise MXNetValueError(f"{what}: profile_process must be 'worker' or 'server', got {profile_process!r}")


def set_config(**kwargs):
    """Configure the profiler: filename, profile_all, profile_symbolic, profile_imperative,
    profile_memory, profile_api, continuous_dump, dump_period, aggregate_stats, profile_process.
    (profile_memory, profile_api, continuous_dump and dump_period are accepted: mxcy records no
    memory or C API events, and writes the trace when dump() is called. Statistics are always kept.)"""
    unknown = sorted(set(kwargs) - set(_DEFAULTS))
    if unknown:
        raise MXNetValueError(f"profiler.set_config: unknown arguments {unknown}; accepted: {sorted(_DEFAULTS)}")
    _check_process(kwargs.get("profile_process", "worker"), "profiler.set_config")
    _config.update(kwargs)
    _update_hook()


def profiler_set_config(mode="symbolic", filename="profile.json"):
    """Deprecated: set_config(profile_all=(mode == 'all'), filename=filename)."""
    warnings.warn("profiler.profiler_set_config() is deprecated. Please use profiler.set_config() instead",
                  DeprecationWarning, stacklevel=2)
    if mode not in ("symbolic", "all"):
        raise MXNetValueError(f"profiler_set_config: mode must be 'symbolic' or 'all', got {mode!r}")
    set_config(profile_all=mode == "all", profile_symbolic=True, filename=filename)


def set_state(state="stop", profile_process="worker"):
    """Start ('run') or stop ('stop') recording; either ends a pause."""
    if state not in ("run", "stop"):
        raise MXNetValueError(f"profiler.set_state: state must be 'run' or 'stop', got {state!r}")
    _check_process(profile_process, "profiler.set_state")
    if state == "stop":
        engine.wait_all()  # operators pushed while running finish (and are recorded) first
    _state["running"] = state == "run"
    _state["paused"] = False  # a new state ends a pause (MXNet's tests pause, stop, then run again)
    _update_hook()


def profiler_set_state(state="stop"):
    """Deprecated: set_state(state)."""
    warnings.warn("profiler.profiler_set_state() is deprecated. Please use profiler.set_state() instead",
                  DeprecationWarning, stacklevel=2)
    set_state(state)


def pause(profile_process="worker"):
    """Stop recording until resume() (the profiler stays configured and running)."""
    _check_process(profile_process, "profiler.pause")
    engine.wait_all()
    _state["paused"] = True
    _update_hook()


def resume(profile_process="worker"):
    """Record again after pause()."""
    _check_process(profile_process, "profiler.resume")
    _state["paused"] = False
    _update_hook()


def dump(finished=True, profile_process="worker"):
    """Write the events recorded so far to the configured file as Chrome-trace JSON; with
    `finished`, the recorded events are then dropped (a later dump starts afresh)."""
    _check_process(profile_process, "profiler.dump")
    engine.wait_all()
    with _lock:
        events = list(_events)
        if finished:
            _events.clear()
    meta = [{"name": "process_name", "ph": "M", "pid": _PID, "args": {"name": "mxcy"}}]
    trace = {"traceEvents": meta + sorted(events, key=lambda e: (e["ts"], -e.get("dur", 0))),
             "displayTimeUnit": "ms", "otherData": {"producer": "mxcy.profiler"}}
    atomic_write(_config["filename"], json.dumps(trace).encode(), "profile")


def dump_profile():
    """Deprecated: dump(True)."""
    warnings.warn("profiler.dump_profile() is deprecated. Please use profiler.dump() instead",
                  DeprecationWarning, stacklevel=2)
    dump(True)


_SORT_KEYS = {"total": 1, "avg": None, "min": 2, "max": 3, "count": 0}


def dumps(reset=False, format="table", sort_by="total", ascending=False):  # noqa: A002 - MXNet's name
    """The aggregate statistics (count, total, min, max, average time in ms of each operator and
    user range, by category) as MXNet's table or JSON ({"Time": ..., "Memory": ..., "Unit": ...});
    `reset` clears them afterwards."""
    if format not in ("table", "json"):
        raise MXNetValueError(f"Invalid value provided for format: {format}. Support: 'table', 'json'")
    if sort_by not in _SORT_KEYS:
        raise MXNetValueError(f"Invalid value provided for sort_by: {sort_by}. "
                              "Support: 'total', 'avg', 'min', 'max', 'count'")
    if ascending not in (True, False) or reset not in (True, False):
        raise MXNetValueError("dumps: ascending and reset must be False or True")
    engine.wait_all()
    with _lock:
        stats = {cat: {name: list(v) for name, v in names.items()} for cat, names in _stats.items()}
        if reset:
            _stats.clear()

    def key(item):
        count, total, low, high = item[1]
        return total / count if sort_by == "avg" else item[1][_SORT_KEYS[sort_by]]

    rows = {cat: sorted(names.items(), key=key, reverse=not ascending) for cat, names in sorted(stats.items())}
    if format == "json":
        time_stats = {cat: {name: {"Count": c, "Total": t / 1e3, "Min": lo / 1e3, "Max": hi / 1e3,
                                   "Avg": t / c / 1e3} for name, (c, t, lo, hi) in items}
                      for cat, items in rows.items()}
        return json.dumps({"Time": time_stats, "Memory": {}, "Unit": {"Time": "ms", "Memory": "kB"}}, indent=4)
    lines = ["", "Profile Statistics:", "\tNote the difference in units for different entries.",
             "Device Storage", "=================",
             f"{'Name':<40}{'Total Count':>12}{'Min Use  (kB)':>17}{'Max Use  (kB)':>17}{'Avg Use  (kB)':>17}",
             f"{'----':<40}{'-----------':>12}{'-------------':>17}{'-------------':>17}{'-------------':>17}", ""]
    for cat, items in rows.items():
        lines += [cat, "=================",
                  f"{'Name':<40}{'Total Count':>12}{'Time (ms)':>17}{'Min Time (ms)':>17}{'Max Time (ms)':>17}"
                  f"{'Avg Time (ms)':>17}",
                  f"{'----':<40}{'-----------':>12}{'---------':>17}{'-------------':>17}{'-------------':>17}"
                  f"{'-------------':>17}"]
        lines += [f"{name:<40}{c:>12}{t / 1e3:>17.4f}{lo / 1e3:>17.4f}{hi / 1e3:>17.4f}{t / c / 1e3:>17.4f}"
                  for name, (c, t, lo, hi) in items]
        lines.append("")
    return "\n".join(lines) + "\n"


def set_kvstore_handle(handle):
    """Profiling a distributed kvstore's servers needs mx.kvstore's dist mode (not yet in mxcy)."""
    raise MXNetNotImplementedError(f"profiler.set_kvstore_handle({handle!r}): server profiling needs a "
                                   "distributed kvstore, not yet available in mxcy")


class Domain:
    """A named group of Tasks, Frames, Counters and Markers (their trace category)."""
    def __init__(self, name):
        self.name = name

    def __str__(self):
        return self.name

    def new_task(self, name):
        return Task(self, name)

    def new_frame(self, name):
        return Frame(self, name)

    def new_counter(self, name, value=None):
        return Counter(self, name, value)

    def new_marker(self, name):
        return Marker(self, name)


class _Range:
    """A named time range recorded (as a complete trace event) from start() to stop()."""
    def __init__(self, category, name):
        self.name = name
        self._category = category
        self._start = None

    def start(self):
        self._start = _now_us()

    def stop(self):
        if self._start is None:
            raise MXNetValueError(f"{type(self).__name__} {self.name!r}: stop() without start()")
        if _recording():
            _record(self._category, self.name, self._start, _now_us())
        self._start = None

    def __str__(self):
        return self.name


class Task(_Range):
    """A logical task of a Domain, timed between start() and stop()."""
    def __init__(self, domain, name):
        super().__init__(domain.name, name)
        self.domain = domain


class Frame(_Range):
    """A repeated unit of work (e.g. a training iteration) of a Domain, timed between start() and stop()."""
    def __init__(self, domain, name):
        super().__init__(domain.name, name)
        self.domain = domain


class Event(_Range):
    """A named range outside any Domain (category 'Custom Events'), timed between start() and stop()."""
    def __init__(self, name):
        super().__init__("Custom Events", name)


class Counter:
    """A value tracked over time: each change is a counter ("C") trace event in its domain."""
    def __init__(self, domain, name, value=None):
        self.name = name
        self.domain = domain
        self.value = 0
        if value is not None:
            self.set_value(value)

    def set_value(self, value):
        self.value = int(value)
        if _recording():
            with _lock:
                _events.append({"name": self.name, "cat": self.domain.name, "ph": "C", "ts": _now_us(),
                                "pid": _PID, "args": {self.name: self.value}})

    def increment(self, delta=1):
        self.set_value(self.value + int(delta))

    def decrement(self, delta=1):
        self.set_value(self.value - int(delta))

    def __iadd__(self, delta):
        self.increment(delta)
        return self

    def __isub__(self, delta):
        self.decrement(delta)
        return self

    def __str__(self):
        return self.name


_MARKER_SCOPES = {"global": "g", "process": "p", "thread": "t", "task": "t", "marker": "t"}


class Marker:
    """An instant event of a Domain."""
    def __init__(self, domain, name):
        self.name = name
        self.domain = domain

    def mark(self, scope="process"):
        """Record the instant; scope is 'global', 'process', 'thread', 'task' or 'marker'."""
        if scope not in _MARKER_SCOPES:
            raise MXNetValueError(f"Marker.mark: scope must be one of {sorted(_MARKER_SCOPES)}, got {scope!r}")
        if _recording():
            with _lock:
                _events.append({"name": self.name, "cat": self.domain.name, "ph": "i", "ts": _now_us(),
                                "s": _MARKER_SCOPES[scope], "pid": _PID, "tid": threading.get_ident()})
