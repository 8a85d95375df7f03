"""The tracer's core: clocks, lanes, the task factory and the one event loop that records a run.

A `TracingLoop` is an ordinary selector event loop that owns everything one run records: every
Task (created, parent, name, each step as a poll, how it ended), every wake of a Task (what made it
ready again, see `TracingLoop.call_soon`), where each Task was parked after a step (the line of its
innermost await), marks, series and metrics. On the
virtual clock its `time()` is virtual and it jumps straight to the next timer; on the real clock it
is the wall clock. Nothing here knows about twins, variants or command lines: a harness (the twin
harness in `dojo.harness`, or one that traces a learner's own script) builds on `trace()`.

Standard library only, Python 3.11 or later.
"""

from __future__ import annotations

import asyncio
import collections.abc
import concurrent.futures
import contextvars
import functools
import gc
import inspect
import math
import os
import selectors
import sys
import threading
import time
import traceback
import types
import warnings
import weakref

__all__ = [
    "EVENT_LIMIT", "FORMAT_VERSION", "Cancelled", "ParentWatch", "Recording", "Rejected", "TracingLoop",
    "VirtualClock", "capture_warnings", "current_loop", "current_recording", "outcome_of", "trace",
]

# The run document's format (docs/run-document.md in asyncdojo's repository): the one asyncdojo's
# reader accepts. 1 was the document before it had a version; 2 added it and the seqs; 3 the wakes
# and parks.
FORMAT_VERSION = 3

# A run keeps at most this many polls and wakes (counted together), as asyncdojo's recorder does:
# beyond it they are counted, not kept, and the run's metric `events_dropped` says how many. Spawns,
# finishes, marks and series are always kept. Read when a run starts (a test may lower it).
EVENT_LIMIT = 1_000_000


class Rejected(Exception):
    """Raise it (or a subclass) from a task that was turned away without running: the task's
    outcome is `rejected` rather than `error`."""


class Cancelled(Exception):
    """Raise it (or a subclass) from a task whose work someone else called off, such as a
    server that hung up on its request: the task's outcome is `cancelled`. Unlike a
    `CancelledError` raised by hand in a task nobody cancelled, it is an ordinary failure, so
    a TaskGroup or gather reports it instead of taking it for a cancellation."""


# ---------------------------------------------------------------------------------------------
# Clocks


def ns_to_ms(ns: int) -> float:
    """Exactly as Rust's `Duration::from_nanos(ns).as_secs_f64() * 1000.0`."""
    secs, nanos = divmod(ns, 1_000_000_000)
    return (float(secs) + float(nanos) / 1e9) * 1000.0


class VirtualClock:
    """Whole nanoseconds since the start of the run; milliseconds computed the way Rust's
    `Duration::as_secs_f64() * 1000` does, so both runtimes print the very same numbers."""

    __slots__ = ("ns", "s")

    def __init__(self) -> None:
        self.ns = 0
        self.s = 0.0

    def advance_ns(self, ns: int) -> None:
        self.ns += ns
        self.s = self.ns / 1e9

    def wait(self, timeout: float) -> None:
        """Nothing is ready and the next timer is `timeout` seconds away: go there at once.
        Like the platform selectors (epoll waits in whole milliseconds) and tokio's timer wheel,
        a wait ends on a whole millisecond, rounded up."""
        target = self.ns + round(timeout * 1e9)
        # 100 ns of slack: float seconds put a deadline a hair past the instant it stands for.
        whole_ms = -(-(target - 100) // 1_000_000) * 1_000_000
        if whole_ms > self.ns:
            self.advance_ns(whole_ms - self.ns)
        else:
            # Due now up to float noise: let the loop see it due without moving the clock.
            self.s += timeout


# The thread that watches asyncdojo (see `ParentWatch`): the tracer's own, never the program's.
WATCHER_THREAD = "dojo-parent-watch"
# Every thread of the tracer is named so (the script tracer's stdout and live threads too).
TRACER_THREAD_PREFIX = "dojo-"


class VirtualPool:
    """The default executor's threads on the virtual clock (a twin that asks for it:
    `dojo.run(.., time_threads=True)`).

    A virtual clock cannot time a real thread: it would jump to the next timer while the
    thread works. So a job sent with `run_in_executor(None, ..)` (`to_thread`) that calls
    `dojo.block(ms)` holds its worker thread on an Event until the virtual clock has moved `ms`
    on, and the loop moves the clock only when every job that has a thread (at most the
    executor's `max_workers`) is held: a job a thread just took starts at the instant that
    thread came free. It is how tokio's twin of this times its blocking pool."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self.lock = threading.Lock()
        # Jobs sent and not yet back on the loop: running or waiting in the executor's queue.
        self.live = 0
        # The default executor's size, read as it is used (None: a thread for every job).
        self.threads: int | None = None
        # Held jobs: the virtual ns each is let go at, and the Event its thread waits on.
        self.held: list[tuple[int, threading.Event]] = []

    def settled(self) -> bool:
        """Every job that has a thread is held (call with the lock)."""
        running = self.live if self.threads is None else min(self.live, self.threads)
        return len(self.held) >= running

    def hold(self, ms: float, wake: collections.abc.Callable[[], object]) -> None:
        """In a worker thread: wait until the virtual clock has moved `ms` on."""
        until = threading.Event()
        with self.lock:
            self.held.append((self.clock.ns + round(ms * 1_000_000), until))
        wake()
        until.wait()

    def release_due(self) -> None:
        now = self.clock.ns
        with self.lock:
            due = [e for at, e in self.held if at <= now]
            self.held = [(at, e) for at, e in self.held if at > now]
        for e in due:
            e.set()

    def release_all(self) -> None:
        with self.lock:
            held, self.held = self.held, []
        for _, e in held:
            e.set()


_POOL_THREAD = threading.local()


def pool_of_this_thread() -> tuple[VirtualPool, object] | None:
    """The virtual pool (and its loop) of the job this worker thread runs, if any."""
    return getattr(_POOL_THREAD, "pool", None)


class _VirtualSelector(selectors.DefaultSelector):
    """Polls the real file descriptors without waiting; when none is ready and the loop would
    wait for a timer, moves the virtual clock to that timer instead of sleeping. While a call
    the loop handed to a thread (`run_in_executor`, `to_thread`) runs, the clock stands still
    and the loop waits for its result, as tokio's paused clock does while a `spawn_blocking`
    closure runs: otherwise the clock would jump to the next timer or not, by how fast the
    thread is, and the run would not repeat. A call still running after `THREAD_HOLD_S` of real
    time lets the clock go on, so a thread that never returns cannot stop the timers."""

    def __init__(self, clock: VirtualClock) -> None:
        super().__init__()
        self._clock = clock
        # (the call's asyncio future, the real time until which it holds the clock)
        self.thread_calls: list[tuple[asyncio.Future, float]] = []
        # The default executor timed on the virtual clock, for a twin that asks for it.
        self.pool: VirtualPool | None = None

    def select(self, timeout=None):
        ready = super().select(0)
        if ready or timeout == 0:
            return ready
        pool = self.pool
        if pool is not None and pool.live:
            with pool.lock:
                settled = pool.settled()
                next_ns = min((at for at, _ in pool.held), default=None)
            if not settled:
                # A worker is running in real time: its hold or its result wakes the loop.
                return super().select(None)
            # A worker that has just finished a job hands its result to the loop before it takes
            # the next job and holds: a hold counted above means that result is in the wake-up
            # pipe already, and it belongs to this instant, before the clock moves.
            ready = super().select(0)
            if ready:
                return ready
            timer_ns = None if timeout is None else self._clock.ns + round(timeout * 1e9)
            if next_ns is not None and (timer_ns is None or next_ns <= timer_ns):
                if next_ns > self._clock.ns:
                    self._clock.advance_ns(next_ns - self._clock.ns)
                pool.release_due()
                return []
        held = self._held_until()
        if held is not None:
            ready = super().select(max(held - time.monotonic(), 0.0))
            if ready:
                return ready
        if timeout is None:
            # No timer at all: only I/O or another thread can wake the loop. With neither (only
            # the loop's own wake-up pipe registered, no thread but ours), nothing ever will.
            others = [
                t for t in threading.enumerate() if not t.name.startswith(TRACER_THREAD_PREFIX)
            ]
            # Looked again after counting the threads: one that has just ended may have written
            # to the wake-up pipe since the first look.
            if len(self.get_map()) <= 1 and len(others) <= 1 and not super().select(0):
                raise RuntimeError(
                    "deadlock: every task is waiting and no timer is set, so nothing can wake them"
                )
            return super().select(None)
        self._clock.wait(timeout)
        return []

    def _held_until(self) -> float | None:
        """The real time until which a running thread call holds the clock, if one does."""
        if not self.thread_calls:
            return None
        now = time.monotonic()
        self.thread_calls = [(f, until) for f, until in self.thread_calls
                             if not f.done() and until > now]
        return max((until for _, until in self.thread_calls), default=None)


# How long (real seconds) a call run in a thread holds the virtual clock still at most.
THREAD_HOLD_S = 5.0


# ---------------------------------------------------------------------------------------------
# The recording


class _Record:
    __slots__ = (
        "id", "name", "parent", "spawned", "spawned_seq", "finished", "finished_seq", "outcome",
        "detail", "polls", "task", "scheduled", "top", "inner", "park_line", "park_within",
        "park_memo",
    )

    def __init__(self, id_, name, parent, spawned, spawned_seq):
        self.id = id_
        self.name = name
        self.parent = parent
        self.spawned = spawned
        self.spawned_seq = spawned_seq
        self.finished = None
        self.finished_seq = None
        self.outcome = "running"
        self.detail = ""
        # Three numbers a poll, flat (one list is the cheapest to grow on every step): the raw
        # clock at its start and at its end, and its seq.
        self.polls = []
        self.task = None
        # Woken and not yet polled: a second wake before the poll changes nothing, so it is not
        # recorded (a lane has at most one pending wake).
        self.scheduled = False
        # The lane is a Task's coroutine (False: a coroutine given a lane in place, stepped by
        # whatever awaits it).
        self.top = False
        # The lane given a lane in place that this one awaited when its last step ended: when
        # this lane's Task is woken, so is that one (and what it awaits), innermost first.
        self.inner = None
        # Where it was parked after its last step that left it pending (its last listed park):
        # its line, or `(filename, line)` in a program of several files (`park_files`).
        self.park_line = None
        self.park_within = None
        # (f_lasti, awaited code) of that park when it can be told again from those alone.
        self.park_memo = None

    def resolved_name(self):
        if self.name is None and self.task is not None:
            self.name = self.task.get_name()
            self.task = None
        return self.name if self.name is not None else "task %d" % self.id


# What woke a Task: (who, line, due). `who` is the waking lane's record (cause `task`), `_SELF`, or
# a cause's name; `line` the waker's line when known; `due` the raw time the cause became true when
# that was earlier than the wake was seen (a timer's deadline, a thread's call), else None.
_SELF = "self"
_IO_CAUSE = ("io", None, None)
_SPAWN_CAUSE = ("spawn", None, None)
_SELF_CAUSE = (_SELF, None, None)
_COROUTINE = types.CoroutineType
_GENERATOR = types.GeneratorType
_WITH_METHODS = ("__aenter__", "__aexit__")


def _leaves():
    """asyncio's coroutines that await only futures and asyncio's own coroutines, never one of
    the program's: a task parked in one of them, at the same await of its own coroutine as
    before, is parked where it was (see `Recording.park`). By id: their code objects live as long
    as asyncio."""
    names = (
        "sleep", "wait", "tasks._wait", "to_thread", "open_connection", "start_server",
        "Queue.get", "Queue.put", "Queue.join", "Event.wait", "Lock.acquire", "Semaphore.acquire",
        "Condition.wait", "Barrier.wait", "StreamReader.read", "StreamReader.readline",
        "StreamReader.readexactly", "StreamReader.readuntil", "StreamReader._wait_for_data",
        "StreamWriter.drain", "StreamWriter.wait_closed", "TaskGroup.__aexit__",
    )
    found = set()
    for name in names:
        obj = asyncio
        for part in name.split("."):
            obj = getattr(obj, part, None)
        code = getattr(obj, "__code__", None)
        if code is not None and code.co_flags & inspect.CO_COROUTINE:
            found.add(id(code))
    return frozenset(found)


_LEAVES = _leaves()


def _public_module(module: str) -> str:
    """`asyncio.tasks` is `asyncio` to its users."""
    return "asyncio" if module.startswith("asyncio.") else module


# The tracer's own file, as its code objects name it (when served from the bundle, not a path).
_HERE = _Record.__init__.__code__.co_filename


def outcome_of(exc: BaseException) -> tuple[str, str]:
    """How a step that raised ends the task: (outcome, detail)."""
    if isinstance(exc, StopIteration):
        return "ok", _detail(exc.value)
    if isinstance(exc, asyncio.CancelledError):
        msg = str(exc)
        return "cancelled", "cancelled: " + msg if msg else "cancelled while waiting"
    if isinstance(exc, TimeoutError):
        return "timeout", str(exc) or "timed out"
    if isinstance(exc, Rejected):
        return "rejected", str(exc) or type(exc).__name__
    if isinstance(exc, Cancelled):
        return "cancelled", str(exc) or type(exc).__name__
    if isinstance(exc, GeneratorExit):
        return "cancelled", "closed before it finished"
    msg = str(exc)
    return "error", "%s: %s" % (type(exc).__name__, msg) if msg else type(exc).__name__


def _detail(value):
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def _line_of(where):
    """The line of a park's place: a line, or `(filename, line)` (see `Recording.park_files`)."""
    return where if where is None or type(where) is int else where[1]


class _Verdicts(dict):
    """filename -> whether it is one of the program's files, asked of `files` once per file."""

    __slots__ = ("files",)

    def __init__(self, files) -> None:
        super().__init__()
        self.files = files

    def __missing__(self, filename):
        verdict = self[filename] = filename in self.files
        return verdict


class Recording:
    """Everything one run records. Polls keep the clock's raw readings (cheap to take); they
    become milliseconds when the document is written. `program_files` are the files whose
    lines marks, warnings, wakes and parks point at: the program being traced, not the tracer or
    asyncio.

    Every event takes the next number of `seq`, exactly as asyncdojo's recorder numbers tokio's
    (src/demo/recorder.rs): a spawn, a spawned task's first wake (cause `spawn`, right after its
    spawn), each step (as it starts), each wake (a lane going from waiting to scheduled), a mark,
    a task's first finish, and a series point that is added or changes value. A series call that
    changes nothing, or undoes the point at its instant, takes none; nor does the end of a step,
    a wake of a lane already scheduled, or a park. So both runtimes number the same program's
    events alike wherever they happen in the same order."""

    __slots__ = (
        "tasks", "marks", "series", "series_seqs", "metrics", "wakes", "parks", "now_ms",
        "current", "cause", "active", "room", "dropped", "program_files", "raw", "to_ms", "pairs",
        "ms_of", "seq", "t0", "_within", "is_program", "_shapes", "park_files",
    )

    def __init__(self, clock: VirtualClock | None, program_files: frozenset[str]) -> None:
        self.tasks: list[_Record] = []
        self.marks: list[dict] = []
        self.series: dict[str, list] = {}
        self.series_seqs: dict[str, list[int]] = {}
        self.metrics: dict[str, object] = {}
        # Six values a wake, flat (tuples would be containers for the garbage collector to scan,
        # one per step): seq, raw time, woken record, cause, waking record or None, line or None;
        # in seq order.
        self.wakes: list = []
        # Four values a park, flat: record, raw end of the step, line, within or None; in time
        # order.
        self.parks: list = []
        self.seq = 0  # the next event's number
        self.now_ms = 0.0
        self.current: _Record | None = None  # the record of the lane being stepped
        # What wakes a Task now when no lane is being stepped and no Task's step is running: set
        # by the handles the loop was given through `call_soon`, `call_at` and
        # `call_soon_threadsafe` while they run. Anything else the loop runs is a selector's
        # callback: I/O. (See `TracingLoop.call_soon`.)
        self.cause: tuple = _IO_CAUSE
        self.active = True  # False once the run is over: the loop's own shutdown gets no lanes
        self.room = EVENT_LIMIT  # how many more polls and wakes are kept
        self.dropped = 0  # polls and wakes counted but not kept
        self.program_files = program_files
        # `is_program[filename]`: a dict lookup once a file has been seen, where `in` on a
        # script's files (which sorts out the user's from the libraries') is a Python call; the
        # walks of every step look files up a few times each.
        self.is_program = _Verdicts(program_files)
        # A program of several files (a traced script and its modules): a park's line is kept
        # with its file, `(filename, line)`, and its row says which file (see `document`).
        self.park_files = False
        self._within: dict = {}  # what a library code object or awaitable type is called
        self._shapes: dict = {}  # a park's line and `within` by its await chain's shape (`park`)
        self.t0 = 0
        if clock is None:
            t0 = self.t0 = time.monotonic_ns()
            self.raw = time.monotonic_ns
            self.to_ms = lambda raw: (raw - t0) / 1e6

            def pairs(starts, ends):
                return [((a - t0) / 1e6, (b - t0) / 1e6) for a, b in zip(starts, ends)]

            def ms_of(raws):
                return [(raw - t0) / 1e6 for raw in raws]

        else:
            self.raw = functools.partial(getattr, clock, "ns")
            self.to_ms = ns_to_ms
            # A virtual run has few distinct instants: convert each once.
            known = {}

            def pairs(starts, ends):
                flat = starts + ends
                ms = [known.get(ns) for ns in flat]
                for i, v in enumerate(ms):
                    if v is None:
                        ms[i] = known[flat[i]] = ns_to_ms(flat[i])
                n = len(starts)
                return list(zip(ms[:n], ms[n:]))

            def ms_of(raws):
                got = {raw: ns_to_ms(raw) for raw in set(raws)}
                return [got[raw] for raw in raws]

        # Raw readings to milliseconds as `to_ms` makes them, a list at a time; whoever replaces
        # `to_ms` and `pairs` (a script's whole microseconds) replaces this too, so that wakes
        # and parks are dated as polls are.
        self.pairs = pairs
        self.ms_of = ms_of

    def wake(self, rec: _Record, cause: tuple) -> None:
        """`rec`'s Task was woken by `cause` (see `TracingLoop._cause`): record the wake of its
        lane and of the lanes given in place that it awaits, innermost first (each is polled
        again in the Task's next step), each unless already scheduled."""
        inner = rec.inner
        if inner is None:
            if not rec.scheduled:
                self._wake_one(rec, cause)
            return
        chain = [rec]
        while inner is not None:
            chain.append(inner)
            inner = inner.inner
        for r in reversed(chain):
            if not r.scheduled:
                self._wake_one(r, cause)

    def _wake_one(self, rec, cause):
        who, line, due = cause
        t = self.raw()
        if due is not None and due < t:
            # A timer (or a thread) made the task ready while the thread was held: it has been
            # scheduled since then, not since the loop got round to it.
            t = due
        if who is _SELF or who is rec:
            kind, by, line = "self", None, _line_of(rec.park_line)
        elif type(who) is _Record:
            kind, by = "task", who
        else:
            kind, by = who, None
        rec.scheduled = True
        seq = self.seq
        self.seq = seq + 1
        if self.room:
            self.room -= 1
            self.wakes.extend((seq, t, rec, kind, by, line))
        else:
            self.dropped += 1

    def spawn_wake(self, rec: _Record) -> None:
        """A Task's first schedule."""
        self._wake_one(rec, _SPAWN_CAUSE)

    def live_line(self, frame: types.FrameType | None) -> int | None:
        """The line of the innermost program frame from `frame` outwards (past the tracer's own
        frames it starts in), within the lane being stepped: the walk stops at the tracer's
        frames that start every step."""
        is_program = self.is_program
        while frame is not None and frame.f_code.co_filename == _HERE:
            frame = frame.f_back
        while frame is not None:
            filename = frame.f_code.co_filename
            if is_program[filename]:
                return frame.f_lineno
            if filename == _HERE:
                return None
            frame = frame.f_back
        return None

    def park(
        self, rec: _Record, coro: collections.abc.Coroutine, end: int, awaited: object
    ) -> None:
        """Where `rec` waits after a step that left it pending: the innermost frame of its
        coroutine's await chain that is in the program's files, and, when what it awaits there
        is a library's, what that is ("asyncio.sleep"); `awaited` is what the step yielded to its
        Task (the future it waits for). Nothing when no frame is the program's.
        A park is listed when it differs from the lane's previous one (a loop that parks at the
        same line step after step is listed once, at its first step)."""
        memo = rec.park_memo
        if memo is not None:
            # Parked again at the same await of its own coroutine, in the same library call that
            # awaits nothing of the program's: the same park (a loop around asyncio.sleep).
            awaited = coro.cr_await
            if (type(awaited) is _COROUTINE and awaited.cr_code is memo[1]
                    and coro.cr_frame.f_lasti == memo[0]):
                return
            rec.park_memo = None
        if type(coro) is _COROUTINE:
            # The same await of the same coroutine, in the same library calls (one, or a `with`
            # method and the call it awaits) that await nothing of the program's: the same line
            # and `within` as the last time this shape was walked (a loop that alternates between
            # awaits misses the lane's memo above on every step). Keyed by the code objects'
            # ids (hashing a code object hashes its contents); the entry keeps them alive, so
            # no other object takes an id it holds.
            first = coro.cr_await
            if type(first) is _COROUTINE:
                second = first.cr_await
                t = type(second)
                known = self._shapes.get((
                    id(coro.cr_code), coro.cr_frame.f_lasti, id(first.cr_code),
                    id(second.cr_code) if t is _COROUTINE else (
                        id(second.gi_code) if t is _GENERATOR else None)))
                if known is not None:
                    # The lane's memo too, as the walk would have left it (see `_Lane.send`).
                    rec.park_memo = known[2]
                    line = known[0]
                    within = known[1]
                    if line == rec.park_line and within == rec.park_within:
                        return
                    rec.park_line = line
                    rec.park_within = within
                    self.parks.extend((rec, end, line, within))
                    return
        is_program = self.is_program
        line = None
        lib = None  # the library frame the innermost program frame awaits, if any
        lib_is_with = False
        innermost = None
        c = coro
        while True:
            t = type(c)
            if t is _COROUTINE:
                frame = c.cr_frame
                nxt = c.cr_await
            elif t is _GENERATOR:
                frame = c.gi_frame
                nxt = c.gi_yieldfrom
            else:
                break  # a Future, a lane, or anything else awaitable: the end of the chain
            if frame is None:
                break
            code = frame.f_code
            if is_program[code.co_filename]:
                line = frame.f_lineno
                if self.park_files:
                    line = (code.co_filename, line)
                lib = None
                innermost = c
            elif line is not None and (lib is None or lib_is_with):
                # `async with semaphore:` awaits its __aenter__, which awaits acquire(): name the
                # acquire.
                lib_is_with = lib is None and code.co_name in _WITH_METHODS
                lib = frame
            if nxt is None:
                c = None
                break
            c = nxt
        if line is None:
            return
        leaf = innermost is coro and lib is not None and id(lib.f_code) in _LEAVES
        if leaf:
            rec.park_memo = memo = (coro.cr_frame.f_lasti, lib.f_code)
        if lib is not None:
            # By the code object's id: hashing a code object hashes its contents, every time.
            known = self._within.get(id(lib.f_code))
            within = known[1] if known is not None and known[0] is lib.f_code else (
                self._name_of_code(lib))
            first = coro.cr_await
            if leaf and type(coro) is _COROUTINE and type(first) is _COROUTINE:
                # What `park` looks up first: this shape's line and `within`, which depend on
                # nothing deeper than the leaf, `lib` (the first or the second call down).
                second = first.cr_await
                t = type(second)
                code = (second.cr_code if t is _COROUTINE else (
                    second.gi_code if t is _GENERATOR else None))
                self._shapes[(id(coro.cr_code), coro.cr_frame.f_lasti, id(first.cr_code),
                              None if code is None else id(code))] = (
                    line, within, memo, coro.cr_code, first.cr_code, code)
        elif c is not None and type(c) is not _Lane:
            # The program awaits a future itself (its iterator ends the chain): name the future.
            within = self._name_of_awaitable(awaited if awaited is not None else c)
        else:
            within = None
        if line == rec.park_line and within == rec.park_within:
            return
        rec.park_line = line
        rec.park_within = within
        self.parks.extend((rec, end, line, within))

    def _name_of_code(self, frame):
        code = frame.f_code
        module = frame.f_globals.get("__name__") or ""
        qualname = getattr(code, "co_qualname", code.co_name).split(".<locals>.")[0]
        name = _public_module(module) + "." + qualname
        self._within[id(code)] = (code, name)
        return name

    def _name_of_awaitable(self, obj):
        t = type(obj)
        name = self._within.get(t, False)
        if name is False:
            if isinstance(obj, _TASK_TYPES):
                name = "asyncio.Task"
            elif t.__name__ == "_GatheringFuture":
                name = "asyncio.gather"
            elif isinstance(obj, asyncio.Future):
                name = "asyncio.Future"
            else:
                name = _public_module(t.__module__) + "." + t.__qualname__
            self._within[t] = name
        return name

    def now(self) -> float:
        return self.to_ms(self.raw())

    def stamp(self) -> float:
        t = self.now()
        if t < self.now_ms:
            t = self.now_ms
        self.now_ms = t
        return t

    def next_seq(self) -> int:
        seq = self.seq
        self.seq = seq + 1
        return seq

    def new_record(self, name: str | None, parent: int | None) -> _Record:
        rec = _Record(len(self.tasks) + 1, name, parent, self.stamp(), self.next_seq())
        self.tasks.append(rec)
        return rec

    def polled(self, rec: _Record, start: int, end: int, seq: int) -> bool:
        """Keep a poll, unless the run has kept all the polls and wakes it may (then count it)."""
        if self.room:
            self.room -= 1
            rec.polls.extend((start, end, seq))
            return True
        self.dropped += 1
        return False

    def finish(self, rec: _Record, outcome: str, detail: str) -> None:
        if rec.finished is None:
            rec.finished = self.stamp()
            rec.finished_seq = self.next_seq()
            rec.outcome = outcome
            rec.detail = detail
            rec.resolved_name()

    def current_id(self) -> int | None:
        return self.current.id if self.current is not None else None

    def mark(self, label: str, line: int | None) -> None:
        self.marks.append({"t_ms": self.stamp(), "task": self.current_id(), "label": label,
                           "line": line, "seq": self.next_seq()})

    def set_series(self, name: str, value: float | str) -> None:
        # The same rules as the Rust recorder: one value per instant, no repeated values.
        t = self.stamp()
        points = self.series.setdefault(name, [])
        seqs = self.series_seqs.setdefault(name, [])
        if points and points[-1][0] == t:
            if points[-1][1] == value:
                return
            points[-1][1] = value
            if len(points) >= 2 and points[-2][1] == value:
                # Back to the value before this instant: the step never happened.
                points.pop()
                seqs.pop()
            else:
                seqs[-1] = self.next_seq()
            return
        if points and points[-1][1] == value:
            return
        points.append([t, value])
        seqs.append(self.next_seq())

    def polls_of(self, name: str) -> int:
        return sum(len(r.polls) // 3 for r in self.tasks if r.resolved_name() == name)

    def caller_line(self, depth: int) -> int | None:
        """The line of the innermost program frame at or above `depth` frames up from the
        caller of this method."""
        frame = sys._getframe(depth + 1)
        is_program = self.is_program
        while frame is not None:
            if is_program[frame.f_code.co_filename]:
                return frame.f_lineno
            frame = frame.f_back
        return None

    def loop_exception(self, loop: asyncio.AbstractEventLoop, context: dict) -> None:
        """Problems the loop would log ("Task exception was never retrieved", "Task was destroyed
        but it is pending!") become marks on the timeline instead of text on stderr."""
        message = context.get("message") or "event loop error"
        exc = context.get("exception")
        if exc is not None:
            message = "%s: %s" % (message, outcome_of(exc)[1])
        self.mark(message, None)

    def document(self, variant: str, total_ms: float, error: str | None) -> dict:
        # A big run's document is a few hundred thousand new lists and none is garbage: the
        # collector's passes over them (full ones included) took twice as long as building them.
        enabled = gc.isenabled()
        gc.disable()
        try:
            return self._document(variant, total_ms, error)
        finally:
            if enabled:
                gc.enable()

    def _document(self, variant: str, total_ms: float, error: str | None) -> dict:
        to_ms = self.to_ms
        last = max((r.polls[-2] for r in self.tasks if r.polls), default=None)
        if last is not None:
            self.now_ms = max(self.now_ms, to_ms(last))
        # Wakes and parks are rows, not objects (docs/run-document.md): they are as many as the
        # steps, and a key on each made them most of a big run's document.
        w = self.wakes
        wakes = [
            [seq, t, rec.id, cause, by if by is None else by.id, line]
            for seq, t, rec, cause, by, line in zip(
                w[0::6], self.ms_of(w[1::6]), w[2::6], w[3::6], w[4::6], w[5::6])
        ]
        p = self.parks
        parks = [[rec.id, t, line, within] if type(line) is int
                 # In a program of several files: the row names the file (see `park_files`).
                 else [rec.id, t, line[1], within, line[0]]
                 for rec, t, line, within in zip(p[0::4], self.ms_of(p[1::4]), p[2::4], p[3::4])]
        metrics = self.metrics
        if self.dropped:
            metrics = {**metrics, "events_dropped": self.dropped}
        doc = {
            "variant": variant,
            "total_ms": total_ms,
            "tasks": [
                {
                    "id": r.id,
                    "name": r.resolved_name(),
                    "parent": r.parent,
                    "spawned_ms": r.spawned,
                    "finished_ms": r.finished,
                    "outcome": r.outcome,
                    "detail": r.detail,
                    "polls": self.pairs(r.polls[0::3], r.polls[1::3]),
                    # Its spawn, each step, its finish: as asyncdojo's TaskRecord::seqs.
                    "seqs": [r.spawned_seq, *r.polls[2::3]]
                    + ([] if r.finished_seq is None else [r.finished_seq]),
                }
                for r in self.tasks
            ],
            "marks": self.marks,
            "series": self.series,
            "series_seqs": self.series_seqs,
            "metrics": metrics,
            "wakes": wakes,
            "parks": parks,
            "now_ms": self.now_ms,
        }
        if not parks:
            del doc["parks"]
        if error is not None:
            doc["error"] = error
        return doc


class _Lane(collections.abc.Coroutine):
    """A coroutine whose every step (each send or throw from its Task, or from the coroutine
    awaiting it) is recorded as a poll of its lane, and whose end is the lane's outcome. A step
    that leaves it pending records where it is parked."""

    __slots__ = ("_coro", "_send", "_rec", "_run")

    def __init__(self, coro, rec, run_):
        self._coro = coro
        self._send = coro.send
        self._rec = rec
        self._run = run_

    def send(self, value=None):
        run_ = self._run
        rec = self._rec
        raw = run_.raw
        start = raw()
        seq = run_.seq
        run_.seq = seq + 1
        outer = run_.current
        run_.current = rec
        rec.scheduled = False
        rec.inner = None
        try:
            result = self._send(value)
        except BaseException as exc:
            run_.current = outer
            run_.polled(rec, start, raw(), seq)
            run_.finish(rec, *outcome_of(exc))
            raise
        run_.current = outer
        end = raw()
        if run_.room:
            run_.room -= 1
            rec.polls.extend((start, end, seq))
            # Parked where it was after its last step (`Recording.park`'s memo, checked here:
            # this is most steps of a loop).
            memo = rec.park_memo
            coro = self._coro
            if memo is None or not (
                type(awaited := coro.cr_await) is _COROUTINE
                and awaited.cr_code is memo[1]
                and coro.cr_frame.f_lasti == memo[0]
            ):
                run_.park(rec, coro, end, result)
        else:
            run_.dropped += 1
        if rec.top:
            if result is None:
                # A bare yield (sleep(0)): the Task schedules its own next step as this returns,
                # so it is woken by itself, now.
                if rec.inner is None:
                    seq = run_.seq
                    run_.seq = seq + 1
                    rec.scheduled = True
                    if run_.room:
                        run_.room -= 1
                        run_.wakes.extend(
                            (seq, end, rec, "self", None, _line_of(rec.park_line)))
                    else:
                        run_.dropped += 1
                else:
                    run_.wake(rec, _SELF_CAUSE)
        elif outer is not None:
            # Given its lane in place: it is polled again when `outer` is.
            outer.inner = rec
        return result

    # A Task steps its coroutine with next() when it sends None: the same thing, one call less.
    __next__ = send

    def throw(self, typ, val=None, tb=None):
        run_ = self._run
        rec = self._rec
        raw = run_.raw
        start = raw()
        seq = run_.seq
        run_.seq = seq + 1
        outer = run_.current
        run_.current = rec
        rec.scheduled = False
        rec.inner = None
        try:
            if val is None and tb is None:
                result = self._coro.throw(typ)
            else:
                result = self._coro.throw(typ, val, tb)
        except BaseException as exc:
            run_.current = outer
            run_.polled(rec, start, raw(), seq)
            run_.finish(rec, *outcome_of(exc))
            raise
        run_.current = outer
        end = raw()
        if run_.polled(rec, start, end, seq):
            run_.park(rec, self._coro, end, result)
        if rec.top:
            if result is None:
                run_.wake(rec, _SELF_CAUSE)
        elif outer is not None:
            outer.inner = rec
        return result

    def close(self):
        self._coro.close()
        if self._rec.finished is None:
            self._run.finish(self._rec, "cancelled", "closed before it finished")

    def __await__(self):
        return self

    def __iter__(self):
        return self

    def __del__(self):
        rec = self._rec
        if rec.finished is None:
            detail = (
                "dropped while waiting: cancelled or its run ended"
                if rec.polls
                else "dropped without ever being awaited"
            )
            self._run.finish(rec, "cancelled", detail)


class _Through(collections.abc.Coroutine):
    """A Task that is asyncio's plumbing rather than the program's: the helper task
    `asyncio.wait_for` makes on Python 3.11 (3.12 and later await in place), or the loop's own
    work such as accepting a connection. It gets no lane; its steps count as steps of the task
    that started it (if any), so marks and tasks made inside belong there and every Python
    version draws the same lanes. What woke it last is what its own completion wakes (on 3.11
    the timer that ends `wait_for`'s call wakes the caller, as on 3.12 where there is no helper)."""

    __slots__ = ("_coro", "_rec", "_run", "cause")

    def __init__(self, coro, rec, run_):
        self._coro = coro
        self._rec = rec
        self._run = run_
        self.cause = _IO_CAUSE

    def send(self, value):
        outer = self._run.current
        self._run.current = self._rec
        try:
            return self._coro.send(value)
        finally:
            self._run.current = outer

    def throw(self, typ, val=None, tb=None):
        outer = self._run.current
        self._run.current = self._rec
        try:
            if val is None and tb is None:
                return self._coro.throw(typ)
            return self._coro.throw(typ, val, tb)
        finally:
            self._run.current = outer

    def close(self):
        self._coro.close()

    def __await__(self):
        return self

    def __iter__(self):
        return self

    def __next__(self):
        return self.send(None)


def lane(
    recording: Recording, name: str, coro: collections.abc.Coroutine
) -> collections.abc.Coroutine:
    """`coro` with a lane of its own in `recording`, a child of the lane being stepped."""
    return _Lane(coro, recording.new_record(name, recording.current_id()), recording)


_TASKS_FILE = asyncio.tasks.__file__
_ASYNCIO_DIR = os.path.dirname(_TASKS_FILE) + os.sep


def _made_by_wait_for():
    frame = sys._getframe(2)
    # Five frames: a loop subclass may add one of its own (the script tracer's).
    for _ in range(5):
        if frame is None:
            return False
        if frame.f_code.co_name == "wait_for" and frame.f_code.co_filename == _TASKS_FILE:
            return True
        frame = frame.f_back
    return False


def _is_plumbing(coro):
    """A Task the event loop starts for its own work (accepting a connection for start_server):
    not part of the program, so no lane of its own."""
    code = getattr(coro, "cr_code", None)
    return code is not None and code.co_filename.startswith(_ASYNCIO_DIR)


# ---------------------------------------------------------------------------------------------
# The loop


class _Caused:
    """A callback given to the loop, run with the cause of whatever gave it: a Task it wakes was
    woken by that (a timer's callback, a thread's, or a task's done-callback run later)."""

    __slots__ = ("_callback", "_cause", "_run", "_wake")

    def __init__(self, callback, cause, run_, wake=None):
        self._callback = callback
        self._cause = cause
        self._run = run_
        self._wake = wake

    def __call__(self, *args):
        run_ = self._run
        outer = run_.cause
        run_.cause = self._cause
        try:
            if self._wake is not None:
                self._wake(self._cause)
            return self._callback(*args)
        finally:
            run_.cause = outer

    def __getattr__(self, name):
        # What debug mode and reprs ask of a callback (its name, its task) is the callback's.
        return getattr(self._callback, name)

    def __repr__(self):
        return repr(self._callback)


# How a Task's next step is handed to the loop: the C Task's step wrapper (its type is not
# exported: learnt on first sight), scheduled at its creation and when it yields bare (both wakes
# recorded already); its wakeup, a builtin bound to the Task, scheduled as a future it awaits
# completes (the wake); the pure-Python Task's bound methods of the same names.
_STEPPER = None
_BUILTIN = type(len)
_PY_STEPS = frozenset(v for k, v in vars(asyncio.tasks._PyTask).items() if k.endswith("__step"))
_PY_WAKEUPS = frozenset(
    v for k, v in vars(asyncio.tasks._PyTask).items() if k.endswith("__wakeup")
)
_TASK_TYPES = (asyncio.Task, asyncio.tasks._PyTask)
_current_task = asyncio.current_task
# The loop's own call_soon (TracingLoop's bases define it once), called without super()'s lookup.
_call_soon = asyncio.base_events.BaseEventLoop.call_soon


def _task_of(callback):
    """(the Task, whether `callback` is its wakeup rather than its step) when `callback` is how
    a Task's next step is scheduled, else None."""
    global _STEPPER
    t = type(callback)
    if t is _BUILTIN:
        return (callback.__self__, True) if callback.__name__ == "task_wakeup" else None
    if t is types.MethodType:
        func = callback.__func__
        if func in _PY_WAKEUPS:
            return callback.__self__, True
        return (callback.__self__, False) if func in _PY_STEPS else None
    if t is _STEPPER or t.__name__ == "TaskStepMethWrapper":
        _STEPPER = t
        return callback.__self__, False
    return None


_failed_once = []


def _tracer_failed(exc: Exception) -> None:
    """Something in the tracer itself failed while the program ran: say so once, on stderr, and
    let the program go on."""
    if not _failed_once:
        _failed_once.append(exc)
        sys.stderr.write("dojo: could not record a wake: %s\n" % "".join(
            traceback.format_exception(exc)))


class TracingLoop(asyncio.SelectorEventLoop):
    """A selector event loop that records the run it runs. `clock` is a `VirtualClock` (time is
    virtual: when nothing is ready the loop jumps to the next timer) or None (the wall clock).
    The recording is `self.recording`; every Task created on the loop gets a lane in it.

    Wakes. A Task is woken when its next step is handed to `call_soon` (a future it awaited
    completed, or it yielded): that is when it goes from waiting to scheduled. The cause is
    whoever is running then:
    - the Task itself (`self`: sleep(0), a bare yield, a callback it scheduled itself);
    - another Task's step (`task`, by that Task's lane, or the lane given in place being stepped,
      at its current line): a release, a put, a set, a cancel, its own completion;
    - a callback the loop was given: it carries the cause of whoever gave it (`_Caused`): a
      `call_at` timer (`timer`, as of its deadline when the loop was held past it), a
      `call_soon_threadsafe` callback (`thread`: to_thread's result, another thread's call), or a
      done-callback a Task scheduled (gather's, TaskGroup's: `task`, by that Task);
    - anything else the loop runs is a selector's callback (`io`: a socket or pipe was ready,
      transports and protocols included, and signal handlers, which arrive through the
      selector's wake-up pipe).
    A Task created by `create_task` (TaskGroup's, gather's, an eager one's) is woken with cause
    `spawn` right after its spawn."""

    def __init__(self, clock: VirtualClock | None, program_files: frozenset[str]) -> None:
        self._virtual = _VirtualSelector(clock) if clock is not None else None
        super().__init__(self._virtual)
        self.clock = clock
        self.recording = Recording(clock, program_files)
        # Timers due at the same instant fire in the order they were set, as they do on the wall
        # clock (where a later timer always has a later deadline); see `call_at`.
        self._next_free: dict[float, float] = {}
        # A task factory the program set (asyncio.eager_task_factory, say): it makes the Tasks,
        # with our lanes as their coroutines.
        self._program_factory = None
        # The next Task is the run's main, polled in place by the runner as tokio's is: no spawn
        # wake.
        self._main_in_place = False
        # Tasks that finished within their eager start, and their coroutines: 3.12.0 and 3.12.1
        # crash on `get_coro()` of such a Task (3.13 answers None).
        self._done_eagerly: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        super().set_task_factory(self._new_task)
        self.set_exception_handler(self.recording.loop_exception)

    def time(self) -> float:
        clock = self.clock
        return clock.s if clock is not None else time.monotonic()

    def set_task_factory(self, factory: collections.abc.Callable | None) -> None:
        if factory is not None and not callable(factory):
            raise TypeError("task factory must be a callable or None")
        self._program_factory = factory

    def get_task_factory(self) -> collections.abc.Callable | None:
        return self._program_factory

    # -- wakes -----------------------------------------------------------------------------------

    def call_soon(
        self,
        callback: collections.abc.Callable,
        *args: object,
        context: contextvars.Context | None = None,
    ) -> asyncio.Handle:
        if type(callback) is _STEPPER and not args:
            # A Task's step, scheduled as it is created or yields bare: its wake (spawn, self) is
            # recorded already. (With an argument: an error it is to be stepped with.)
            return _call_soon(self, callback, *args, context=context)
        run_ = self.recording
        if run_.active:
            try:
                found = _task_of(callback)
                if found is not None:
                    task, wakeup = found
                    if wakeup or args:
                        self._woken(task, args)
                else:
                    cause = self._cause(None, args, 2)
                    if cause is not _IO_CAUSE:
                        callback = _Caused(callback, cause, run_)
            except Exception as exc:  # the tracer's own bug: never the program's failure
                _tracer_failed(exc)
        return _call_soon(self, callback, *args, context=context)

    def call_soon_threadsafe(
        self,
        callback: collections.abc.Callable,
        *args: object,
        context: contextvars.Context | None = None,
    ) -> asyncio.Handle:
        run_ = self.recording
        if run_.active:
            cause = ("thread", None, run_.raw())
            found = _task_of(callback)
            wake = functools.partial(self._woken_by, found[0]) if found is not None else None
            callback = _Caused(callback, cause, run_, wake)
        return super().call_soon_threadsafe(callback, *args, context=context)

    def call_at(
        self,
        when: float,
        callback: collections.abc.Callable,
        *args: object,
        context: contextvars.Context | None = None,
    ) -> asyncio.TimerHandle:
        clock = self.clock
        at = when
        if clock is not None:
            # The loop's timer heap does not keep insertion order among equal deadlines; a timer
            # set for an instant that already has one is moved one float step later (far below a
            # nanosecond), so ties fire first come, first served.
            free = self._next_free
            at = free.get(when, when)
            free[when] = math.nextafter(at, math.inf)
            if len(free) > 4096:
                now = clock.s
                for k in [k for k in free if k < now]:
                    del free[k]
        run_ = self.recording
        if run_.active:
            callback = _Caused(callback, ("timer", None, self._due(at)), run_)
        return super().call_at(at, callback, *args, context=context)

    def _due(self, when: float) -> int:
        """The raw time a timer set for `when` fires at when the loop is free: on the virtual
        clock the whole millisecond the clock jumps to (`VirtualClock.wait`)."""
        ns = round(when * 1e9)
        if self.clock is None:
            return ns
        return -(-(ns - 100) // 1_000_000) * 1_000_000

    def _woken(self, task, args) -> None:
        """`task`'s next step was just scheduled."""
        coro = task.get_coro()
        kind = type(coro)
        if kind is _Lane:
            rec = coro._rec
            if not rec.scheduled:
                self.recording.wake(rec, self._cause(task, args, 3))
        elif kind is _Through:
            cause = self._cause(task, args, 3)
            if cause is not _SELF_CAUSE:
                coro.cause = cause

    def _woken_by(self, task, cause) -> None:
        """`task`'s next step was handed to `call_soon_threadsafe`: woken by `cause`."""
        coro = task.get_coro()
        if type(coro) is _Lane and not coro._rec.scheduled:
            self.recording.wake(coro._rec, cause)

    def _cause(self, task, args, depth=1) -> tuple:
        """What is running now, as the cause of a wake of `task` (None: of a callback being
        scheduled with `args`)."""
        run_ = self.recording
        stepping = _current_task(self)
        if stepping is not None and stepping is task:
            return _SELF_CAUSE
        if args:
            # A future's done-callbacks get the future: when it is a Task that has just finished,
            # its completion is what they wake.
            done = args[0]
            if isinstance(done, _TASK_TYPES) and done.done():
                coro = self._done_eagerly.get(done) if self._done_eagerly else None
                if coro is None:
                    coro = done.get_coro()
                kind = type(coro)
                if kind is _Lane:
                    return (coro._rec, None, None)
                if kind is _Through:
                    return coro.cause
        lane = run_.current
        if lane is not None:
            # call_soon's caller and up: asyncio's frames, then the program's.
            # From call_soon's caller (`depth` up: past `call_soon` and `_woken`), so that the
            # tracer's own frames are not made frame objects only to be skipped.
            return (lane, run_.live_line(sys._getframe(depth)), None)
        if stepping is not None:
            # The Task's own machinery around its coroutine's step (passing a cancel on to what
            # it awaits).
            coro = stepping.get_coro()
            kind = type(coro)
            if kind is _Lane:
                return (coro._rec, _line_of(coro._rec.park_line), None)
            if kind is _Through:
                return coro.cause
        return run_.cause

    # -- tasks -----------------------------------------------------------------------------------

    def _new_task(self, loop, coro, **kwargs):
        run_ = self.recording
        if not run_.active:
            return self._make_task(loop, coro, kwargs)
        if isinstance(coro, _Lane):
            # A coroutine given its lane in place that gather (or wait_for on 3.11) makes a Task
            # of: from now on it is a Task's, scheduled by the loop like any.
            rec = coro._rec
            rec.top = True
            if not rec.polls and not rec.scheduled:
                run_.spawn_wake(rec)
            return self._made(self._make_task(loop, coro, kwargs), coro)
        if self._is_plumbing(coro) or (run_.current is not None and _made_by_wait_for()):
            through = _Through(coro, run_.current, run_)
            return self._made(self._make_task(loop, through, kwargs), through)
        current = run_.current
        rec = run_.new_record(kwargs.get("name"), current.id if current is not None else None)
        rec.top = True
        if self._main_in_place:
            self._main_in_place = False
        else:
            run_.spawn_wake(rec)
        lane_ = _Lane(coro, rec, run_)
        task = self._made(self._make_task(loop, lane_, kwargs), lane_)
        if rec.name is None:
            # Python 3.11 and 3.12 name the task after the factory returns.
            rec.task = task
        return task

    # Which Tasks are the loop's own work, not the program's (a subclass may narrow it).
    _is_plumbing = staticmethod(_is_plumbing)

    def _make_task(self, loop, coro, kwargs):
        factory = self._program_factory
        if factory is None:
            return asyncio.Task(coro, loop=loop, **kwargs)
        return factory(loop, coro, **kwargs)

    def _made(self, task, coro):
        if task.done():
            self._done_eagerly[task] = coro
        return task

    def run_main(self, coro: collections.abc.Coroutine, name: str = "main") -> asyncio.Task:
        """The run's main Task. The runner polls it in place, as tokio's runner polls its main
        future: its first step is not a wake (it gets no spawn wake)."""
        self._main_in_place = True
        try:
            return self.create_task(coro, name=name)
        finally:
            self._main_in_place = False

    def hold_pool_threads(self) -> None:
        """Time the default executor's jobs on the virtual clock (see `VirtualPool`)."""
        if self.clock is not None:
            self._pool = VirtualPool(self.clock)
            self._selector.pool = self._pool

    def run_in_executor(
        self,
        executor: concurrent.futures.Executor | None,
        func: collections.abc.Callable,
        *args: object,
    ) -> asyncio.Future:
        pool = getattr(self, "_pool", None)
        if pool is None or executor is not None:
            future = super().run_in_executor(executor, func, *args)
            if self._virtual is not None:
                # The virtual clock waits for it (see `_VirtualSelector`); a job of a timed pool
                # is waited for by the pool's own rule instead (see `VirtualPool`).
                self._virtual.thread_calls.append((future, time.monotonic() + THREAD_HOLD_S))
            return future

        def job():
            _POOL_THREAD.pool = (pool, self)
            try:
                return func(*args)
            finally:
                _POOL_THREAD.pool = None

        with pool.lock:
            pool.live += 1
        future = super().run_in_executor(None, job)
        # asyncio's default executor is a ThreadPoolExecutor, made on first use.
        pool.threads = getattr(self._default_executor, "_max_workers", None)

        def back(_):
            with pool.lock:
                pool.live -= 1

        # Registered before anyone awaits the future: it runs first when the result is back.
        future.add_done_callback(back)
        return future

    def block(self, ms: float) -> None:
        """Hold the thread for `ms` without yielding; on the virtual clock the clock moves on
        instead of the thread sleeping."""
        if self.clock is not None:
            self.clock.advance_ns(round(ms * 1_000_000))
        else:
            time.sleep(ms / 1000)


def current_loop() -> TracingLoop | None:
    """The tracing loop running in this thread, if any."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return None
    return loop if isinstance(loop, TracingLoop) else None


def current_recording() -> Recording | None:
    """The recording of the run in progress in this thread, if any."""
    loop = current_loop()
    return loop.recording if loop is not None else None


# ---------------------------------------------------------------------------------------------
# Running


def trace(
    main: collections.abc.Callable[[], collections.abc.Coroutine],
    *,
    virtual: bool,
    program_files: frozenset[str],
    variant: str,
    watch: ParentWatch | None = None,
    who: str = "the program",
    pool: bool = False,
) -> dict:
    """Run `main()` as the Task "main" on a new tracing loop until it ends, cancel whatever it
    left running (as the tokio runner aborts its leftovers), and return the run's document.
    When `main` raises, the run's `error` says "<who> raised ..." and the traceback goes to
    stderr."""
    clock = VirtualClock() if virtual else None
    loop = TracingLoop(clock, program_files)
    if pool:
        loop.hold_pool_threads()
    run_ = loop.recording
    if watch is not None:
        watch.attach(loop)
    error = None
    try:
        main_task = loop.run_main(main())
        try:
            loop.run_until_complete(main_task)
        except BaseException as exc:  # the program itself failed: report it with the run
            error = "%s raised %s" % (who, outcome_of(exc)[1])
            traceback.print_exception(exc, file=sys.stderr)
        total_ms = run_.now()
        leftovers = [t for t in asyncio.all_tasks(loop) if not t.done()]
        # main's end ends the run: what it left running is cancelled on its behalf (tokio's
        # runner aborts it), so that is what wakes those tasks.
        main_rec = run_.tasks[0] if run_.tasks else None
        if main_rec is not None:
            run_.cause = (main_rec, None, None)
        for t in leftovers:
            t.cancel()
        run_.cause = _IO_CAUSE
        if leftovers:
            loop.run_until_complete(asyncio.gather(*leftovers, return_exceptions=True))
        run_.active = False
        if getattr(loop, "_pool", None) is not None:
            loop._pool.release_all()  # a worker held past main's end: nothing would wake it
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
    finally:
        if watch is not None:
            watch.attach(None)
        loop.close()
    for rec in run_.tasks:
        if rec.finished is None:
            run_.finish(rec, "cancelled", "still pending when the run ended")
    return run_.document(variant, total_ms, error)


def _show_warning(message, category, filename, lineno, file=None, line=None):
    run_ = current_recording()
    if run_ is None:
        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))
        return
    here = lineno if filename in run_.program_files else run_.caller_line(1)
    run_.mark("%s: %s" % (category.__name__, message), here)


def capture_warnings() -> None:
    """Every warning raised during a run becomes a mark on the line of the program that caused
    it ("coroutine ... was never awaited"), each time it happens, instead of text on stderr."""
    warnings.showwarning = _show_warning
    warnings.filterwarnings("always")


class ParentWatch:
    """asyncdojo keeps our stdin open while it waits for us. When it closes, asyncdojo is gone
    (it quit, was killed, or wants the run stopped): the run in progress is cancelled so the
    program's own clean-up runs (a `with TemporaryDirectory()` removes its directory), and the
    process exits soon after, whatever the program does."""

    GRACE_S = 2.5

    def __init__(self, *, fd: int = 0) -> None:
        # The pipe from asyncdojo: stdin for a twin; for a traced script, a private copy of it
        # (the script's own stdin is /dev/null).
        self.fd = fd
        self.gone = False
        self._loop: TracingLoop | None = None

    def start(self) -> None:
        threading.Thread(target=self._watch, name=WATCHER_THREAD, daemon=True).start()

    def attach(self, loop: TracingLoop | None) -> None:
        """The loop whose tasks to cancel when asyncdojo goes away (None between runs)."""
        self._loop = loop
        if loop is not None and self.gone:
            os._exit(70)

    def _watch(self) -> None:
        # os.read, not sys.stdin: a daemon thread holding stdin's buffer lock would stall the
        # interpreter's own shutdown.
        try:
            while os.read(self.fd, 4096):
                pass
        except OSError:
            pass
        # Nobody reads our output any more: writing it must not fail the clean-up.
        try:
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)
            os.dup2(null, 2)
        except OSError:
            pass
        self.gone = True
        loop = self._loop
        if loop is not None:
            try:
                loop.call_soon_threadsafe(_cancel_all, loop)
            except RuntimeError:  # closed meanwhile
                pass
        time.sleep(self.GRACE_S)
        os._exit(70)


def _cancel_all(loop):
    for task in asyncio.all_tasks(loop):
        task.cancel()
