"""The tracer's core: clocks, lanes, the task factory and the one event loop that records a run.

A `TracingLoop` is an ordinary selector event loop that owns everything one run records: every
Task (created, parent, name, each step as a poll, how it ended), marks, series and metrics. On the
virtual clock its `time()` is virtual and it jumps straight to the next timer; on the real clock it
is the wall clock. Nothing here knows about twins, variants or command lines: a harness (the twin
harness in `dojo.harness`, or one that traces a learner's own script) builds on `trace()`.

Standard library only, Python 3.11 or later.
"""

from __future__ import annotations

import asyncio
import collections.abc
import functools
import math
import os
import selectors
import sys
import threading
import time
import traceback
import warnings

__all__ = [
    "FORMAT_VERSION", "Cancelled", "ParentWatch", "Recording", "Rejected", "TracingLoop",
    "VirtualClock", "capture_warnings", "current_loop", "current_recording", "outcome_of", "trace",
]

# The run document's format (docs/run-document.md in asyncdojo's repository): the one asyncdojo's
# reader accepts. 1 was the document before it had a version; 2 added it and the seqs.
FORMAT_VERSION = 3


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


class _VirtualSelector(selectors.DefaultSelector):
    """Polls the real file descriptors without waiting; when none is ready and the loop would
    wait for a timer, moves the virtual clock to that timer instead of sleeping."""

    def __init__(self, clock: VirtualClock) -> None:
        super().__init__()
        self._clock = clock

    def select(self, timeout=None):
        ready = super().select(0)
        if ready or timeout == 0:
            return ready
        if timeout is None:
            # No timer at all: only I/O or another thread can wake the loop. With neither (only
            # the loop's own wake-up pipe registered, no thread but ours), nothing ever will.
            others = [
                t for t in threading.enumerate() if not t.name.startswith(TRACER_THREAD_PREFIX)
            ]
            if len(self.get_map()) <= 1 and len(others) <= 1:
                raise RuntimeError(
                    "deadlock: every task is waiting and no timer is set, so nothing can wake them"
                )
            return super().select(None)
        self._clock.wait(timeout)
        return []


# ---------------------------------------------------------------------------------------------
# The recording


class _Record:
    __slots__ = (
        "id", "name", "parent", "spawned", "spawned_seq", "finished", "finished_seq", "outcome",
        "detail", "polls", "task",
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

    def resolved_name(self):
        if self.name is None and self.task is not None:
            self.name = self.task.get_name()
            self.task = None
        return self.name if self.name is not None else "task %d" % self.id


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


class Recording:
    """Everything one run records. Polls keep the clock's raw readings (cheap to take); they
    become milliseconds when the document is written. `program_files` are the files whose
    lines marks and warnings point at: the program being traced, not the tracer or asyncio.

    Every event takes the next number of `seq`, exactly as asyncdojo's recorder numbers tokio's
    (src/demo/recorder.rs): a spawn, each step (as it starts), a mark, a task's first finish, and
    a series point that is added or changes value. A series call that changes nothing, or undoes
    the point at its instant, takes none; nor does the end of a step. So both runtimes number the
    same program's events alike wherever they happen in the same order."""

    __slots__ = (
        "tasks", "marks", "series", "series_seqs", "metrics", "wakes", "now_ms", "current",
        "active",
        "program_files", "raw", "to_ms", "pairs", "seq",
    )

    def __init__(self, clock: VirtualClock | None, program_files: frozenset[str]) -> None:
        self.tasks: list[_Record] = []
        self.marks: list[dict] = []
        self.series: dict[str, list] = {}
        self.series_seqs: dict[str, list[int]] = {}
        self.metrics: dict[str, object] = {}
        self.wakes: list[dict] = []
        self.seq = 0  # the next event's number
        self.now_ms = 0.0
        self.current: _Record | None = None  # the record of the lane being stepped
        self.active = True  # False once the run is over: the loop's own shutdown gets no lanes
        self.program_files = program_files
        if clock is None:
            t0 = time.monotonic_ns()
            self.raw = time.monotonic_ns
            self.to_ms = lambda raw: (raw - t0) / 1e6

            def pairs(starts, ends):
                return [((a - t0) / 1e6, (b - t0) / 1e6) for a, b in zip(starts, ends)]

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

        self.pairs = pairs

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

    def new_record(self, name, parent):
        rec = _Record(len(self.tasks) + 1, name, parent, self.stamp(), self.next_seq())
        self.tasks.append(rec)
        return rec

    def finish(self, rec, outcome, detail):
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
        files = self.program_files
        while frame is not None:
            if frame.f_code.co_filename in files:
                return frame.f_lineno
            frame = frame.f_back
        return None

    def loop_exception(self, loop, context):
        """Problems the loop would log ("Task exception was never retrieved", "Task was destroyed
        but it is pending!") become marks on the timeline instead of text on stderr."""
        message = context.get("message") or "event loop error"
        exc = context.get("exception")
        if exc is not None:
            message = "%s: %s" % (message, outcome_of(exc)[1])
        self.mark(message, None)

    def document(self, variant: str, total_ms: float, error: str | None) -> dict:
        to_ms = self.to_ms
        last = max((r.polls[-2] for r in self.tasks if r.polls), default=None)
        if last is not None:
            self.now_ms = max(self.now_ms, to_ms(last))
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
            "metrics": self.metrics,
            "wakes": self.wakes,
            "now_ms": self.now_ms,
        }
        if error is not None:
            doc["error"] = error
        return doc


class _Lane(collections.abc.Coroutine):
    """A coroutine whose every step (each send or throw from its Task, or from the coroutine
    awaiting it) is recorded as a poll of its lane, and whose end is the lane's outcome."""

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
        try:
            result = self._send(value)
        except BaseException as exc:
            run_.current = outer
            rec.polls.extend((start, raw(), seq))
            run_.finish(rec, *outcome_of(exc))
            raise
        run_.current = outer
        rec.polls.extend((start, raw(), seq))
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
        try:
            if val is None and tb is None:
                result = self._coro.throw(typ)
            else:
                result = self._coro.throw(typ, val, tb)
        except BaseException as exc:
            run_.current = outer
            rec.polls.extend((start, raw(), seq))
            run_.finish(rec, *outcome_of(exc))
            raise
        run_.current = outer
        rec.polls.extend((start, raw(), seq))
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
    version draws the same lanes."""

    __slots__ = ("_coro", "_rec", "_run")

    def __init__(self, coro, rec, run_):
        self._coro = coro
        self._rec = rec
        self._run = run_

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


def lane(recording: Recording, name: str, coro):
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


class TracingLoop(asyncio.SelectorEventLoop):
    """A selector event loop that records the run it runs. `clock` is a `VirtualClock` (time is
    virtual: when nothing is ready the loop jumps to the next timer) or None (the wall clock).
    The recording is `self.recording`; every Task created on the loop gets a lane in it."""

    def __init__(self, clock: VirtualClock | None, program_files: frozenset[str]) -> None:
        super().__init__(_VirtualSelector(clock) if clock is not None else None)
        self.clock = clock
        self.recording = Recording(clock, program_files)
        # Timers due at the same instant fire in the order they were set, as they do on the wall
        # clock (where a later timer always has a later deadline); see `call_at`.
        self._next_free: dict[float, float] = {}
        self.set_task_factory(self._new_task)
        self.set_exception_handler(self.recording.loop_exception)

    def time(self) -> float:
        clock = self.clock
        return clock.s if clock is not None else time.monotonic()

    def call_at(self, when, callback, *args, context=None):
        if self.clock is None:
            return super().call_at(when, callback, *args, context=context)
        # The loop's timer heap does not keep insertion order among equal deadlines; a timer set
        # for an instant that already has one is moved one float step later (far below a
        # nanosecond), so ties fire first come, first served.
        free = self._next_free
        at = free.get(when, when)
        free[when] = math.nextafter(at, math.inf)
        if len(free) > 4096:
            now = self.clock.s
            for k in [k for k in free if k < now]:
                del free[k]
        return super().call_at(at, callback, *args, context=context)

    def _new_task(self, loop, coro, **kwargs):
        run_ = self.recording
        if not run_.active:
            return asyncio.Task(coro, loop=loop, **kwargs)
        if isinstance(coro, _Lane):
            return asyncio.Task(coro, loop=loop, **kwargs)
        if self._is_plumbing(coro) or (run_.current is not None and _made_by_wait_for()):
            return asyncio.Task(_Through(coro, run_.current, run_), loop=loop, **kwargs)
        current = run_.current
        rec = run_.new_record(kwargs.get("name"), current.id if current is not None else None)
        task = asyncio.Task(_Lane(coro, rec, run_), loop=loop, **kwargs)
        if rec.name is None:
            # Python 3.11 and 3.12 name the task after the factory returns.
            rec.task = task
        return task

    # Which Tasks are the loop's own work, not the program's (a subclass may narrow it).
    _is_plumbing = staticmethod(_is_plumbing)

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
) -> dict:
    """Run `main()` as the Task "main" on a new tracing loop until it ends, cancel whatever it
    left running (as the tokio runner aborts its leftovers), and return the run's document.
    When `main` raises, the run's `error` says "<who> raised ..." and the traceback goes to
    stderr."""
    clock = VirtualClock() if virtual else None
    loop = TracingLoop(clock, program_files)
    run_ = loop.recording
    if watch is not None:
        watch.attach(loop)
    error = None
    try:
        main_task = loop.create_task(main(), name="main")
        try:
            loop.run_until_complete(main_task)
        except BaseException as exc:  # the program itself failed: report it with the run
            error = "%s raised %s" % (who, outcome_of(exc)[1])
            traceback.print_exception(exc, file=sys.stderr)
        total_ms = run_.now()
        leftovers = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for t in leftovers:
            t.cancel()
        if leftovers:
            loop.run_until_complete(asyncio.gather(*leftovers, return_exceptions=True))
        run_.active = False
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
