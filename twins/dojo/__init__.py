"""dojo: the asyncdojo tracer for asyncio programs. Standard library only, Python 3.11 or later.

A twin is an ordinary asyncio program whose `main(variant, **params)` runs one variant of a demo;
`dojo.run(main, variants=(...))` runs it once per variant and writes the run document asyncdojo
draws: every Task (created, parent, name, each step as a poll, how it ended), marks, series and
metrics.

    python3 gather.py                                   # the defaults of main's signature
    python3 gather.py '{"variants": ["join-all"], "params": {"latencies_ms": [5, 10]}}'

What a program uses: `dojo.lane(name, coro)` gives a coroutine awaited in place a lane of its
own; `dojo.mark(label)`, `dojo.gauge(name)`, `dojo.series(name, value)`, `dojo.metric(name,
value)`; `dojo.block(ms)` holds the thread as `time.sleep` does. On the virtual clock (the
default) the event loop jumps straight to the next timer, so a run is instant, exact and
repeatable. Outside a traced run every call is harmless: nothing is recorded.

The package: `dojo.core` is the tracer (clocks, lanes, the task factory, the tracing loop that
owns a run's recording); `dojo.harness` runs a twin's variants and writes the document;
`dojo.script` runs a learner's own, unmodified asyncio program under the tracer for
`asyncdojo trace SCRIPT`. A script that imports `dojo` and has none of its own (a lesson's model
Python, saved with `asyncdojo show N --code python`) gets this package, whose `dojo.run` then
runs each variant through plain `asyncio.run`, traced as the script's own runs.
"""

from __future__ import annotations

import collections.abc
import time

from .core import Cancelled, Rejected, current_loop, current_recording
from .core import lane as _lane
from .core import pool_of_this_thread as _pool_of_this_thread
from .harness import run

__all__ = [
    "Cancelled", "Gauge", "Rejected", "SplitMix64", "block", "gauge", "lane", "mark", "metric",
    "polls", "run", "series",
]


def lane(name: str, coro: collections.abc.Coroutine) -> collections.abc.Coroutine:
    """Give a coroutine a lane of its own, as a task has: for coroutines awaited in place
    (`await dojo.lane("request 1", request())`) or handed to gather."""
    run_ = current_recording()
    if run_ is None or not run_.active:
        return coro
    return _lane(run_, name, coro)


def mark(label: object) -> None:
    """A labelled instant on the current task's lane, pointing at the line that made it."""
    run_ = current_recording()
    if run_ is not None:
        run_.mark(str(label), run_.caller_line(1))


def series(name: str, value: float | str) -> None:
    """A point of a step function over time: a number, or a state name."""
    run_ = current_recording()
    if run_ is not None:
        run_.set_series(name, value if isinstance(value, str) else float(value))


def metric(name: str, value: object) -> None:
    """A number (or text, or a JSON-able list or dict) the run reports once."""
    run_ = current_recording()
    if run_ is not None:
        run_.metrics[name] = value


def polls(name: str) -> int:
    """How many steps the lane named `name` has had so far (0 for a coroutine never awaited)."""
    run_ = current_recording()
    return run_.polls_of(name) if run_ is not None else 0


class Gauge:
    """How many of something are in progress, recorded as a series that starts at 0; `max` is
    the most there ever were. `with gauge:` counts the block."""

    __slots__ = ("name", "now", "max", "_run")

    def __init__(self, name: str) -> None:
        self.name = name
        self.now = 0
        self.max = 0
        # The run it counts in, found once: a gauge is entered and left once per task.
        self._run = current_recording()
        if self._run is not None:
            self._run.set_series(name, 0.0)

    def enter(self) -> None:
        self.now += 1
        if self.now > self.max:
            self.max = self.now
        if self._run is not None:
            self._run.set_series(self.name, float(self.now))

    def leave(self) -> None:
        self.now = max(self.now - 1, 0)
        if self._run is not None:
            self._run.set_series(self.name, float(self.now))

    def __enter__(self) -> Gauge:
        self.enter()
        return self

    def __exit__(self, *exc: object) -> bool:
        self.leave()
        return False


def gauge(name: str) -> Gauge:
    """A new `Gauge` named `name`."""
    return Gauge(name)


def block(ms: float) -> None:
    """Hold the thread for `ms` without yielding, as `time.sleep` (or CPU work) does: no other
    task runs meanwhile. On the virtual clock the clock moves on instead of the thread sleeping;
    in a job of the default executor (`to_thread`) only that worker thread waits for it."""
    loop = current_loop()
    if loop is not None:
        loop.block(ms)
        return
    pool = _pool_of_this_thread()
    if pool is not None:
        # A job of the default executor on the virtual clock: only this thread waits.
        vpool, pool_loop = pool
        vpool.hold(ms, lambda: pool_loop.call_soon_threadsafe(_nothing))
    else:
        time.sleep(ms / 1000)


def _nothing() -> None:
    """Wakes the loop: a worker thread is now held."""


class SplitMix64:
    """The seeded generator the Rust demos use (SplitMix64): the same seed gives the same
    numbers on both runtimes."""

    _MASK = (1 << 64) - 1

    def __init__(self, seed: int) -> None:
        self.state = seed & self._MASK

    def next_u64(self) -> int:
        self.state = (self.state + 0x9E3779B97F4A7C15) & self._MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & self._MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & self._MASK
        return z ^ (z >> 31)

    def up_to(self, top: int) -> int:
        """A whole number in 0..=top."""
        return self.next_u64() % (top + 1)
