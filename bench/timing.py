"""The timing helper of the side-by-side benchmarks: best wall time of N calls, with the process CPU time of
that call (on a shared machine a CPU time near 2x the wall time says both threads were busy)."""
import time


def best_of(fn, repeat=5):
    """(wall seconds, process CPU seconds) of the fastest of `repeat` calls of fn, after one warm-up call."""
    fn()  # warm-up (and compilation)
    best = (float("inf"), 0.0)
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        best = min(best, (wall, cpu))
    return best


def report(lib, name, timing):
    wall, cpu = timing
    print(f"{lib:6s} {name:34s} {wall * 1e3:9.2f} ms  (CPU {cpu * 1e3:9.2f} ms)", flush=True)
