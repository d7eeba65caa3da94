"""How the benchmark times a function: warm-up calls, medians, interleaved rounds.

* :func:`median_time` — time one function a few times, keep the median (and
  the last result): the chapters' stopwatch.
* :func:`time_interleaved` — time several functions in shuffled rounds, the
  reference twice a round, so that a machine that speeds up or slows down
  during the run shifts all of them alike: the benchmark's stopwatch.
* :func:`median_ms` and :func:`spread_ms` — the numbers the report keeps from
  the durations.

>>> seconds, result = median_time(lambda: sum(range(1000)), repeat=3)
>>> result, seconds > 0
(499500, True)
"""

from __future__ import annotations

import gc
import random
import time
from typing import Callable, Mapping, Sequence, TypeVar

import numpy as np

from tutorial_utils.checks import positive_int

__all__ = ["WARMUP", "median_ms", "median_time", "spread_ms", "time_interleaved"]

#: Untimed calls of every function before its timed ones, in the benchmark.
WARMUP = 2

T = TypeVar("T")


def median_time(fn: Callable[[], T], repeat: int = 5, *, warmup: int = 0) -> tuple[float, T]:
    r"""Call ``fn`` ``repeat`` times; return the median duration in seconds and the last call's result.

    With :math:`t_1, \dots, t_n` the wall-clock durations of the ``repeat``
    timed calls (``time.perf_counter``), the time is
    :math:`\operatorname{median}(t_1, \dots, t_n)`, which ignores the few calls
    slowed down by another process. ``warmup`` untimed calls come first, so
    that one-off costs (allocating buffers, choosing kernels, lazy imports) are
    not counted; the benchmark uses :data:`WARMUP`.

    >>> seconds, total = median_time(lambda: sum(range(10)), repeat=3, warmup=1)
    >>> total, seconds >= 0
    (45, True)

    Raises ``ValueError`` for a ``repeat`` that is not a positive integer or a
    negative ``warmup``, and whatever ``fn`` raises.
    """
    repeat = positive_int(repeat, "repeat")
    if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0:
        raise ValueError(f"warmup must be zero or a positive integer, got {warmup!r}")
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), result


def time_interleaved(
    functions: Mapping[str, Callable[[], object]],
    repeats: int,
    *,
    warmup: int = WARMUP,
    reference: str | None = None,
) -> dict[str, list[float]]:
    """Time several functions in rounds; return each one's durations in seconds.

    Every function is first called ``warmup`` times untimed. Then each of
    ``repeats`` rounds calls every function once — ``reference`` twice — so
    that a change of the machine's speed during the run affects all alike.
    Each round has its own order (shuffled with a fixed seed), so that no
    function always runs right after the same other one, whose leftovers
    (caches, memory to free) it would pay for. ``reference`` gets
    ``2 × repeats`` durations.

    >>> durations = time_interleaved({"a": lambda: None, "b": lambda: None}, 3, reference="a")
    >>> len(durations["a"]), len(durations["b"])
    (6, 3)

    Raises ``ValueError`` when ``reference`` is not one of ``functions``, and
    whatever the functions raise.
    """
    if reference is not None and reference not in functions:
        raise ValueError(f"reference {reference!r} is not one of the functions {list(functions)}")
    calls = list(functions) + ([reference] if reference is not None else [])
    for _ in range(warmup):
        for fn in functions.values():
            fn()
    gc.collect()
    shuffler = random.Random(0)
    durations: dict[str, list[float]] = {name: [] for name in functions}
    for _ in range(repeats):
        shuffler.shuffle(calls)
        for name in calls:
            start = time.perf_counter()
            functions[name]()
            durations[name].append(time.perf_counter() - start)
    return durations


def median_ms(seconds: Sequence[float]) -> float:
    """The median of durations in seconds, in milliseconds.

    >>> median_ms([0.001, 0.003, 0.002])
    2.0

    Raises ``ValueError`` for no durations.
    """
    if len(seconds) == 0:
        raise ValueError("no durations to take the median of")
    return float(np.median(seconds) * 1000.0)


def spread_ms(seconds: Sequence[float]) -> list[float]:
    """The 25th and 75th percentiles of durations in seconds, in milliseconds.

    >>> spread_ms([0.001, 0.002, 0.003])
    [1.5, 2.5]

    Raises ``ValueError`` for no durations.
    """
    if len(seconds) == 0:
        raise ValueError("no durations to take percentiles of")
    return [float(v * 1000.0) for v in np.percentile(seconds, [25, 75])]
