"""dojo: the asyncdojo tracer for asyncio twins. Standard library only, Python 3.11 or later.

A twin is an ordinary asyncio program whose `main(variant, **params)` runs one variant of a demo.
`dojo.run(main)` runs it once per variant and writes the run document asyncdojo draws: every Task
(created, parent, name, each step as a poll, how it ended), marks, series and metrics.

    python3 gather.py                                   # the defaults of main's signature
    python3 gather.py '{"variants": ["join-all"], "params": {"latencies_ms": [5, 10]}}'

What a twin uses: `dojo.lane(name, coro)` gives a coroutine awaited in place a lane of its own;
`dojo.mark(label)`, `dojo.gauge(name)`, `dojo.series(name, value)`, `dojo.metric(name, value)`;
`dojo.block(ms)` holds the thread as `time.sleep` does. On the virtual clock (the default) the
event loop jumps straight to the next timer, so a run is instant, exact and repeatable.
"""

import sys

# This file keeps to syntax Python 3.6 can parse, so on an older interpreter this check runs and
# says so in one line (the twins themselves are compiled only after it).
if sys.version_info < (3, 11):
    sys.stderr.write(
        "ASYNCDOJO_PYTHON_TOO_OLD %s\n" % sys.version.split()[0]
        + "the asyncio twins need Python 3.11 or later; this is Python %s (%s)\n"
        % (sys.version.split()[0], sys.executable)
    )
    sys.exit(3)

# Twins never use TLS: leaving `ssl` out (asyncio supports its absence) starts the tracer ~20 ms
# sooner.
sys.modules.setdefault("ssl", None)

import asyncio  # noqa: E402
import collections.abc  # noqa: E402
import functools  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import selectors  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
import warnings  # noqa: E402

__all__ = [
    "Cancelled", "Gauge", "Rejected", "SplitMix64", "block", "gauge", "lane", "mark", "metric",
    "polls", "run", "series",
]


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


def _ns_to_ms(ns):
    """Exactly as Rust's `Duration::from_nanos(ns).as_secs_f64() * 1000.0`."""
    secs, nanos = divmod(ns, 1_000_000_000)
    return (float(secs) + float(nanos) / 1e9) * 1000.0


class _VirtualClock:
    """Whole nanoseconds since the start of the run; milliseconds computed the way Rust's
    `Duration::as_secs_f64() * 1000` does, so both runtimes print the very same numbers."""

    __slots__ = ("ns", "s")

    def __init__(self):
        self.ns = 0
        self.s = 0.0

    def advance_ns(self, ns):
        self.ns += ns
        self.s = self.ns / 1e9

    def wait(self, timeout):
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


class _VirtualSelector(selectors.DefaultSelector):
    """Polls the real file descriptors without waiting; when none is ready and the loop would
    wait for a timer, moves the virtual clock to that timer instead of sleeping."""

    def __init__(self, clock):
        super().__init__()
        self._clock = clock

    def select(self, timeout=None):
        ready = super().select(0)
        if ready or timeout == 0:
            return ready
        if timeout is None:
            # No timer at all: only I/O or another thread can wake the loop. With neither (only
            # the loop's own wake-up pipe registered, no thread but ours), nothing ever will.
            others = [t for t in threading.enumerate() if t.name != _WATCHER]
            if len(self.get_map()) <= 1 and len(others) <= 1:
                raise RuntimeError(
                    "deadlock: every task is waiting and no timer is set, so nothing can wake them"
                )
            return super().select(None)
        self._clock.wait(timeout)
        return []


class _VirtualLoop(asyncio.SelectorEventLoop):
    """An ordinary selector event loop whose `time()` is the virtual clock."""

    def __init__(self, clock):
        super().__init__(_VirtualSelector(clock))
        self._virtual = clock
        # Timers due at the same instant fire in the order they were set, as they do on the wall
        # clock (where a later timer always has a later deadline); see `call_at`.
        self._next_free = {}

    def time(self):
        return self._virtual.s

    def call_at(self, when, callback, *args, context=None):
        # The loop's timer heap does not keep insertion order among equal deadlines; a timer set
        # for an instant that already has one is moved one float step later (far below a
        # nanosecond), so ties fire first come, first served.
        free = self._next_free
        at = free.get(when, when)
        free[when] = math.nextafter(at, math.inf)
        if len(free) > 4096:
            now = self._virtual.s
            for k in [k for k in free if k < now]:
                del free[k]
        return super().call_at(at, callback, *args, context=context)


# ---------------------------------------------------------------------------------------------
# The recording


class _Record:
    __slots__ = ("id", "name", "parent", "spawned", "finished", "outcome", "detail", "polls", "task")

    def __init__(self, id_, name, parent, spawned):
        self.id = id_
        self.name = name
        self.parent = parent
        self.spawned = spawned
        self.finished = None
        self.outcome = "running"
        self.detail = ""
        self.polls = []
        self.task = None

    def resolved_name(self):
        if self.name is None and self.task is not None:
            self.name = self.task.get_name()
            self.task = None
        return self.name if self.name is not None else "task %d" % self.id


def _outcome_of(exc):
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


class _Run:
    """Everything one variant's run records. Polls keep the clock's raw readings (cheap to take);
    they become milliseconds when the document is written."""

    __slots__ = (
        "tasks", "marks", "series", "metrics", "now_ms", "current", "recording", "twin_file",
        "raw", "to_ms", "pairs",
    )

    def __init__(self, clock, twin_file):
        self.tasks = []
        self.marks = []
        self.series = {}
        self.metrics = {}
        self.now_ms = 0.0
        self.current = None  # the record of the lane being stepped
        self.recording = True
        self.twin_file = twin_file
        if clock is None:
            t0 = time.monotonic_ns()
            self.raw = time.monotonic_ns
            self.to_ms = lambda raw: (raw - t0) / 1e6

            def pairs(flat):
                return [((a - t0) / 1e6, (b - t0) / 1e6) for a, b in zip(flat[::2], flat[1::2])]

        else:
            self.raw = functools.partial(getattr, clock, "ns")
            self.to_ms = _ns_to_ms
            # A virtual run has few distinct instants: convert each once.
            known = {}

            def pairs(flat):
                ms = [known.get(ns) for ns in flat]
                for i, v in enumerate(ms):
                    if v is None:
                        ms[i] = known[flat[i]] = _ns_to_ms(flat[i])
                return list(zip(ms[::2], ms[1::2]))

        self.pairs = pairs

    def now(self):
        return self.to_ms(self.raw())

    def stamp(self):
        t = self.now()
        if t < self.now_ms:
            t = self.now_ms
        self.now_ms = t
        return t

    def new_record(self, name, parent):
        rec = _Record(len(self.tasks) + 1, name, parent, self.stamp())
        self.tasks.append(rec)
        return rec

    def finish(self, rec, outcome, detail):
        if rec.finished is None:
            rec.finished = self.stamp()
            rec.outcome = outcome
            rec.detail = detail
            rec.resolved_name()

    def mark(self, label, line):
        task = self.current.id if self.current is not None else None
        self.marks.append({"t_ms": self.stamp(), "task": task, "label": label, "line": line})

    def set_series(self, name, value):
        # The same rules as the Rust recorder: one value per instant, no repeated values.
        t = self.stamp()
        points = self.series.setdefault(name, [])
        if points and points[-1][0] == t:
            points[-1][1] = value
            if len(points) >= 2 and points[-2][1] == value:
                points.pop()
            return
        if points and points[-1][1] == value:
            return
        points.append([t, value])

    def loop_exception(self, loop, context):
        """Problems the loop would log ("Task exception was never retrieved", "Task was destroyed
        but it is pending!") become marks on the timeline instead of text on stderr."""
        message = context.get("message") or "event loop error"
        exc = context.get("exception")
        if exc is not None:
            message = "%s: %s" % (message, _outcome_of(exc)[1])
        self.mark(message, None)

    def document(self, variant, total_ms, error):
        to_ms = self.to_ms
        last = max((r.polls[-1] for r in self.tasks if r.polls), default=None)
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
                    "polls": self.pairs(r.polls),
                }
                for r in self.tasks
            ],
            "marks": self.marks,
            "series": self.series,
            "metrics": self.metrics,
            "now_ms": self.now_ms,
        }
        if error is not None:
            doc["error"] = error
        return doc


_run = None  # the run being recorded, if any


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
        outer = run_.current
        run_.current = rec
        try:
            result = self._send(value)
        except BaseException as exc:
            run_.current = outer
            polls = rec.polls
            polls.append(start)
            polls.append(raw())
            run_.finish(rec, *_outcome_of(exc))
            raise
        run_.current = outer
        polls = rec.polls
        polls.append(start)
        polls.append(raw())
        return result

    # A Task steps its coroutine with next() when it sends None: the same thing, one call less.
    __next__ = send

    def throw(self, typ, val=None, tb=None):
        run_ = self._run
        rec = self._rec
        raw = run_.raw
        start = raw()
        outer = run_.current
        run_.current = rec
        try:
            if val is None and tb is None:
                result = self._coro.throw(typ)
            else:
                result = self._coro.throw(typ, val, tb)
        except BaseException as exc:
            run_.current = outer
            polls = rec.polls
            polls.append(start)
            polls.append(raw())
            run_.finish(rec, *_outcome_of(exc))
            raise
        run_.current = outer
        polls = rec.polls
        polls.append(start)
        polls.append(raw())
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


def _made_by_wait_for():
    frame = sys._getframe(2)
    for _ in range(4):
        if frame is None:
            return False
        if frame.f_code.co_name == "wait_for" and frame.f_code.co_filename == _TASKS_FILE:
            return True
        frame = frame.f_back
    return False


_TASKS_FILE = asyncio.tasks.__file__
_ASYNCIO_DIR = os.path.dirname(_TASKS_FILE) + os.sep


def _is_plumbing(coro):
    """A Task the event loop starts for its own work (accepting a connection for start_server):
    not part of the program, so no lane of its own."""
    code = getattr(coro, "cr_code", None)
    return code is not None and code.co_filename.startswith(_ASYNCIO_DIR)


def _task_factory(loop, coro, **kwargs):
    run_ = _run
    if run_ is not None and run_.recording:
        if isinstance(coro, _Lane):
            return asyncio.Task(coro, loop=loop, **kwargs)
        if _is_plumbing(coro) or (run_.current is not None and _made_by_wait_for()):
            return asyncio.Task(_Through(coro, run_.current, run_), loop=loop, **kwargs)
        parent = run_.current.id if run_.current is not None else None
        rec = run_.new_record(kwargs.get("name"), parent)
        task = asyncio.Task(_Lane(coro, rec, run_), loop=loop, **kwargs)
        if rec.name is None:
            # Python 3.11 and 3.12 name the task after the factory returns.
            rec.task = task
        return task
    return asyncio.Task(coro, loop=loop, **kwargs)


# ---------------------------------------------------------------------------------------------
# What a twin calls


def lane(name, coro):
    """Give a coroutine a lane of its own, as a task has: for coroutines awaited in place
    (`await dojo.lane("request 1", request())`) or handed to gather."""
    run_ = _run
    if run_ is None or not run_.recording:
        return coro
    parent = run_.current.id if run_.current is not None else None
    return _Lane(coro, run_.new_record(name, parent), run_)


def _caller_line(depth=2):
    run_ = _run
    if run_ is None:
        return None
    frame = sys._getframe(depth)
    while frame is not None:
        if frame.f_code.co_filename == run_.twin_file:
            return frame.f_lineno
        frame = frame.f_back
    return None


def mark(label):
    """A labelled instant on the current task's lane, pointing at the line that made it."""
    run_ = _run
    if run_ is not None:
        run_.mark(str(label), _caller_line())


def series(name, value):
    """A point of a step function over time: a number, or a state name."""
    run_ = _run
    if run_ is not None:
        run_.set_series(name, value if isinstance(value, str) else float(value))


def metric(name, value):
    """A number (or text) the run reports once."""
    run_ = _run
    if run_ is not None:
        run_.metrics[name] = value


def polls(name):
    """How many steps the lane named `name` has had so far (0 for a coroutine never awaited)."""
    run_ = _run
    if run_ is None:
        return 0
    return sum(len(r.polls) // 2 for r in run_.tasks if r.resolved_name() == name)


class Gauge:
    """How many of something are in progress, recorded as a series that starts at 0; `max` is
    the most there ever were. `with gauge:` counts the block."""

    __slots__ = ("name", "now", "max")

    def __init__(self, name):
        self.name = name
        self.now = 0
        self.max = 0
        series(name, 0)

    def enter(self):
        self.now += 1
        if self.now > self.max:
            self.max = self.now
        series(self.name, self.now)

    def leave(self):
        self.now = max(self.now - 1, 0)
        series(self.name, self.now)

    def __enter__(self):
        self.enter()
        return self

    def __exit__(self, *exc):
        self.leave()
        return False


def gauge(name):
    return Gauge(name)


_clock = None  # the virtual clock of the run, None on the real clock


def block(ms):
    """Hold the thread for `ms` without yielding, as `time.sleep` (or CPU work) does: no other
    task runs meanwhile. On the virtual clock the clock moves on instead of the thread sleeping."""
    if _clock is not None:
        _clock.advance_ns(round(ms * 1_000_000))
    else:
        time.sleep(ms / 1000)


class SplitMix64:
    """The seeded generator the Rust demos use (SplitMix64): the same seed gives the same
    numbers on both runtimes."""

    _MASK = (1 << 64) - 1

    def __init__(self, seed):
        self.state = seed & self._MASK

    def next_u64(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & self._MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & self._MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & self._MASK
        return z ^ (z >> 31)

    def up_to(self, top):
        """A whole number in 0..=top."""
        return self.next_u64() % (top + 1)


# ---------------------------------------------------------------------------------------------
# Running a twin


def _show_warning(message, category, filename, lineno, file=None, line=None):
    run_ = _run
    if run_ is None:
        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))
        return
    here = lineno if filename == run_.twin_file else _caller_line(2)
    run_.mark("%s: %s" % (category.__name__, message), here)


def _run_variant(main, variant, params, clock_name, twin_file):
    global _run, _clock
    clock = _VirtualClock() if clock_name == "virtual" else None
    loop = _VirtualLoop(clock) if clock is not None else asyncio.SelectorEventLoop()
    run_ = _Run(clock, twin_file)
    _run, _clock = run_, clock
    loop.set_task_factory(_task_factory)
    loop.set_exception_handler(run_.loop_exception)
    error = None
    try:
        main_task = loop.create_task(main(variant, **params), name="main")
        try:
            loop.run_until_complete(main_task)
        except BaseException as exc:  # the twin itself failed: report it with the run
            error = "the twin raised %s" % _outcome_of(exc)[1]
            traceback.print_exception(exc, file=sys.stderr)
        total_ms = run_.now()
        # Whatever main left running is cancelled, as the tokio runner aborts its leftovers.
        leftovers = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for t in leftovers:
            t.cancel()
        if leftovers:
            loop.run_until_complete(asyncio.gather(*leftovers, return_exceptions=True))
        run_.recording = False
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
    finally:
        loop.close()
    for rec in run_.tasks:
        if rec.finished is None:
            run_.finish(rec, "cancelled", "still pending when the run ended")
    _run, _clock = None, None
    return run_.document(variant, total_ms, error)


def _defaults(main):
    """main's keyword defaults: what a run by hand uses."""
    code = main.__code__
    names = code.co_varnames[: code.co_argcount]
    values = main.__defaults__ or ()
    return dict(zip(names[len(names) - len(values) :], values))


def _plain(value):
    return list(value) if isinstance(value, tuple) else value


_WATCHER = "dojo-parent-watch"


def _watch_parent():
    """asyncdojo keeps our stdin open while it waits for us: when it goes away, so do we."""

    def watch():
        # os.read, not sys.stdin: a daemon thread holding stdin's buffer lock would stall the
        # interpreter's own shutdown.
        try:
            while os.read(0, 4096):
                pass
        except OSError:
            pass
        os._exit(70)

    threading.Thread(target=watch, name=_WATCHER, daemon=True).start()


_ARGS = None  # set by `main()` when asyncdojo launches a twin


def run(main, clock="virtual"):
    """Run `main(variant, **params)` once per variant and write the run document to stdout.
    `clock` is the default when no arguments say otherwise: "real" for twins that talk to real
    sockets and files, which a virtual clock would race past."""
    twin_file = main.__code__.co_filename
    args = _ARGS
    if args is None:
        args = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    defaults = _defaults(main)
    variants = args.get("variants") or [defaults.get("variant", "default")]
    params = {k: _plain(v) for k, v in defaults.items() if k != "variant"}
    params.update(args.get("params") or {})
    clock_name = args.get("clock", clock)
    out = sys.stdout
    # Anything the twin prints goes to stderr: stdout carries only the document.
    sys.stdout = sys.stderr
    warnings.showwarning = _show_warning
    warnings.filterwarnings("always")
    lines = args.get("lines", False)
    runs = []
    try:
        for variant in variants:
            doc = _run_variant(main, variant, params, clock_name, twin_file)
            doc["runtime"] = "asyncio"
            if lines:
                out.write(json.dumps(doc, separators=(",", ":")))
                out.write("\n")
                out.flush()
            else:
                runs.append(doc)
    finally:
        sys.stdout = out
    if not lines:
        document = {
            "demo": args.get("demo") or os.path.splitext(os.path.basename(twin_file))[0],
            "clock": clock_name,
            "runtime": "asyncio",
            "params": params,
            "runs": runs,
        }
        json.dump(document, out, indent=2)
        out.write("\n")
        out.flush()


def main(argv):
    """asyncdojo's entry: `dojo.py TWIN_FILE ARGS_JSON`. The twin runs as `__main__`."""
    global _ARGS
    twin_file, args = argv[0], json.loads(argv[1])
    _ARGS = args
    if args.get("watch_stdin"):
        _watch_parent()
    with open(twin_file, encoding="utf-8") as f:
        code = compile(f.read(), twin_file, "exec")
    sys.argv = [twin_file]
    namespace = {"__name__": "__main__", "__file__": twin_file, "__builtins__": __builtins__}
    sys.modules["dojo"] = sys.modules[__name__]
    exec(code, namespace)


if __name__ == "__main__":
    main(sys.argv[1:])
