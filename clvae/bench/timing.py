"""Timing helpers shared by the benchmark scripts.

``clock`` is ``time.perf_counter`` (wall time, the default) or ``time.process_time``
(this process's CPU time: steadier on a shared machine, and equal to the wall time of a
single-threaded run that is never preempted).
"""

from __future__ import annotations

import statistics
import time
from typing import Callable

import torch

Clock = Callable[[], float]
CLOCKS: dict[str, Clock] = {"wall": time.perf_counter, "cpu": time.process_time}


def median_seconds(fn: Callable[[], object], repeats: int, warmup: int = 1, clock: Clock = time.perf_counter) -> float:
    """Median time of ``fn()`` over ``repeats`` runs after ``warmup`` runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        start = clock()
        fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        times.append(clock() - start)
    return statistics.median(times)


def interleaved_medians(fns: dict[str, Callable[[], object]], repeats: int,
                        clock: Clock = time.perf_counter) -> dict[str, float]:
    """Median time of each function, runs interleaved so machine load hits all alike."""
    for fn in fns.values():
        fn()
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            samples[name].append(median_seconds(fn, repeats=1, warmup=0, clock=clock))
    return {name: statistics.median(times) for name, times in samples.items()}
