"""Tracing a learner's own asyncio program, unmodified: `asyncdojo trace script.py`.

asyncdojo starts the interpreter with `_boot_script.py`, which hands this module the script's path
and its arguments (one JSON object). The script then runs as `__main__`, exactly as
`python3 script.py ARGS` would run it, except that:

- every event loop made on the main thread (`asyncio.run`, `asyncio.Runner`, `new_event_loop`)
  is a `core.TracingLoop`, so every Task gets a lane; each loop is one run (`run 1`, `run 2`...)
  and the coroutine handed to `asyncio.run` / `Runner.run` / `run_until_complete` is lane `main`;
- the process's stdout is not the script's: the tracer keeps it for its channel to asyncdojo and
  points fd 1 at a pipe whose every byte (the script's, its children's, C code's) goes over the
  channel as `stdout` messages, so a script that prints JSON cannot be taken for the tracer.

The channel: JSON lines, one key each, in this order of appearance --
`{"files": [abs paths]}` (index 0 is the script; sent again, longer, before a document uses a new
one), `{"live": document}` (real clock, at most every 200 ms while a run goes on and something
changed), `{"run": document}` (a finished run), `{"stdout": "text"}`, `{"note": "text"}` (what the
tracer cannot follow), and last `{"exit": {"code": N, "error": "traceback" or null}}`.

Standard library only, Python 3.11 or later.
"""

from __future__ import annotations

import asyncio
import asyncio.base_events
import asyncio.events
import asyncio.runners
import codecs
import json
import os
import runpy
import select
import site
import stat
import sys
import sysconfig
import threading
import time
import traceback
import types

from . import core, harness

__all__ = ["ScriptTracer", "main"]

# Threads of the tracer: named so the virtual clock does not count them as the program's (see
# `core._VirtualSelector`).
_STDOUT_THREAD = "dojo-script-stdout"
_LIVE_THREAD = "dojo-script-live"

# At most this many "waited on" notes per run: a server's every connection is the same story.
_WAIT_NOTES = 8

_ASYNCIO_DIR = os.path.dirname(asyncio.__file__) + os.sep


class ScriptError(Exception):
    """The arguments asyncdojo gave are not ones this tracer understands."""


# ---------------------------------------------------------------------------------------------
# The channel


class Channel:
    """JSON lines to asyncdojo on a file descriptor of our own (the process's original stdout),
    one object with one key a line. Written from the main thread and the stdout thread, so each
    line is written whole under a lock. When asyncdojo has gone the writes fail: nothing to do
    (the parent watch ends the process)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.lock = threading.Lock()
        self.broken = False

    def send(self, key: str, value: object) -> None:
        # No check for cycles: what is sent is built by the tracer from lists, dicts and
        # scalars (a cycle would still fail, as a RecursionError), and the check's bookkeeping
        # of every list and dict was a sixth of writing a big run's document.
        data = json.dumps({key: value}, separators=(",", ":"), ensure_ascii=False,
                          check_circular=False)
        # A path or text holding lone surrogates (undecodable bytes in a file name) cannot be
        # UTF-8: replaced rather than refused.
        raw = data.encode("utf-8", "replace") + b"\n"
        with self.lock:
            if self.broken:
                return
            view = memoryview(raw)
            try:
                while view:
                    n = os.write(self.fd, view)
                    view = view[n:]
            except OSError:
                self.broken = True


class StdoutCapture:
    """fd 1 pointed at a pipe; a thread forwards what arrives as `stdout` messages. At fd level,
    so whatever writes to fd 1 (print, os.write, a C extension, a child process) is captured."""

    CHUNK = 64 * 1024

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        r, w = os.pipe()
        os.dup2(w, 1)  # inheritable: child processes write into the same pipe
        os.close(w)
        self._r = r
        self._thread = threading.Thread(target=self._pump, name=_STDOUT_THREAD, daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        while True:
            data = self._read()
            # `print(a, b)` writes its pieces one by one: what follows within a few
            # milliseconds, up to the end of a line, goes in the same message.
            while data and not data.endswith(b"\n") and len(data) < self.CHUNK * 16:
                ready, _, _ = select.select([self._r], [], [], 0.005)
                more = self._read() if ready else b""
                if not more:
                    break
                data += more
            text = decoder.decode(data, final=not data)
            if text:
                self.channel.send("stdout", text)
            if not data:
                return

    def _read(self) -> bytes:
        try:
            return os.read(self._r, self.CHUNK)
        except OSError:
            return b""

    def finish(self, wait_s: float = 1.0) -> None:
        """Close our end of the pipe and forward the rest. A child process still holding the pipe
        (one the script left running) would keep it open forever: wait only so long."""
        try:
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)
            os.close(null)
        except OSError:
            pass
        self._thread.join(wait_s)


# ---------------------------------------------------------------------------------------------
# Which files are the user's


class UserFiles:
    """The user's files: any Python file that is not the standard library's, an installed
    package's (site-packages), the tracer's own or an interpreter-made name (`<frozen ...>`).
    Answers `filename in files` (what the tracing loop asks about frames) and numbers the files
    a run's lines point into, in the order asyncdojo is told about them."""

    def __init__(self, script: str, channel: Channel) -> None:
        self.channel = channel
        self.paths = [script]
        self._index = {script: 0}
        self._is_user = {script: True}
        self._sent = 0
        prefixes = set()
        for scheme_vars in ({}, {"base": sys.base_prefix, "platbase": sys.base_exec_prefix}):
            try:
                paths = sysconfig.get_paths(vars=scheme_vars or None)
            except (KeyError, ValueError):
                continue
            for key in ("stdlib", "platstdlib", "purelib", "platlib"):
                if paths.get(key):
                    prefixes.add(paths[key])
        try:
            prefixes.update(site.getsitepackages())
        except AttributeError:  # a virtualenv's old site module
            pass
        user_site = getattr(site, "getusersitepackages", lambda: None)()
        if user_site:
            prefixes.add(user_site)
        prefixes.add(os.path.dirname(_ASYNCIO_DIR.rstrip(os.sep)))
        self._prefixes = tuple(
            os.path.join(os.path.realpath(p), "") for p in prefixes if p
        ) + tuple(os.path.join(os.path.abspath(p), "") for p in prefixes if p)

    def __contains__(self, filename: object) -> bool:
        known = self._is_user.get(filename)
        if known is None:
            known = self._is_user[filename] = self._classify(filename)
        return known

    def __iter__(self):
        return iter(self.paths)

    def __len__(self) -> int:
        return len(self.paths)

    def _classify(self, filename) -> bool:
        if not isinstance(filename, str) or not filename or filename.startswith("<"):
            return False
        path = os.path.abspath(filename)
        if path.startswith(self._prefixes):
            return False
        parts = path.split(os.sep)
        return "site-packages" not in parts and "dist-packages" not in parts

    def index_of(self, filename: str) -> int:
        i = self._index.get(filename)
        if i is None:
            i = self._index[filename] = len(self.paths)
            self.paths.append(os.path.abspath(filename))
        return i

    def announce(self) -> None:
        """Tell asyncdojo of files numbered since it last heard (before a document using them)."""
        if len(self.paths) > self._sent:
            self._sent = len(self.paths)
            self.channel.send("files", list(self.paths))

    def where(self, frame: types.FrameType | None) -> tuple[int, int] | None:
        """(file index, line) of the innermost user frame at or above `frame`, or None. The
        walk stops at the event loop's step: frames outside it (the `asyncio.run(...)` line)
        are not where a callback did anything."""
        while frame is not None:
            code = frame.f_code
            if code is _RUN_ONCE_CODE:
                return None
            if code.co_filename in self:
                return self.index_of(code.co_filename), frame.f_lineno
            frame = frame.f_back
        return None

    def site(self, frame: types.FrameType | None) -> tuple[str | None, str | None]:
        """What the user's code called and where: ("asyncio.open_connection", "client.py:12"),
        either part None when not found."""
        api = None
        while frame is not None:
            code = frame.f_code
            if code is _RUN_ONCE_CODE:
                return api, None
            filename = code.co_filename
            if filename in self:
                return api, "%s:%d" % (os.path.basename(filename), frame.f_lineno)
            if not filename.startswith("<asyncdojo>"):
                api = _api_name(code)
            frame = frame.f_back
        return api, None


def _api_name(code) -> str:
    qual = getattr(code, "co_qualname", code.co_name)
    owner, _, name = qual.rpartition(".")
    if "EventLoop" in owner or owner == "TracingLoop":
        return "loop." + name
    if code.co_filename.startswith(_ASYNCIO_DIR):
        return "asyncio." + qual
    module = os.path.splitext(os.path.basename(code.co_filename))[0]
    return "%s.%s" % (module, qual)


# ---------------------------------------------------------------------------------------------
# The loop


class _ScriptLoop(core.TracingLoop):
    """The tracing loop, plus what a learner's script needs: the main lane, creation lines in
    any user file, a run number, live documents on the real clock, notes of what the virtual
    clock cannot follow, and its run document sent when it closes."""

    def __init__(self, tracer: ScriptTracer) -> None:
        self._tracer = tracer
        self._where: dict[int, tuple[int, int]] = {}
        self._run_no: int | None = None
        # The run's name in its document ("run 2", or the label the harness gave it) and in notes.
        self._label: str | None = None
        self._called = ""
        self._main_next = False
        self._mains: list = []
        self._noted: set = set()
        self._sent_done = False
        self._live_seq = -1
        self._auto_name = None
        super().__init__(core.VirtualClock() if tracer.virtual else None, tracer.files)
        self.set_exception_handler(_report_and_log)
        if self.clock is None:
            _whole_microseconds(self.recording)
        self.recording.__class__ = _ScriptRecording
        self.recording.park_files = True

    # -- lanes ---------------------------------------------------------------------------------

    def _new_task(self, loop, coro, **kwargs):
        run_ = self.recording
        before = len(run_.tasks)
        # A coroutine handed to Runner.run (asyncio.run) or run_until_complete is the run's main.
        main = self._main_next or (run_.current is None and _called_by_runner(sys._getframe(2)))
        task = super()._new_task(loop, coro, **kwargs)
        self._auto_name = task.get_name()
        if len(run_.tasks) > before:
            rec = run_.tasks[-1]
            where = self._tracer.files.where(sys._getframe(1))
            if where is not None:
                self._where[rec.id] = where
            if main and rec.parent is None:
                self._main_next = False
                rec.name = "main" if not self._mains else "main %d" % (len(self._mains) + 1)
                rec.task = None
                self._mains.append(rec)
        return task

    if sys.version_info >= (3, 13):
        # Python 3.13.0 names a Task made by a task factory `None` when it was given no name
        # (`task.set_name(None)`): the script sees the name it would see untraced. Only there:
        # on 3.11 `wait_for`'s helper Task is told by the frames above the factory.
        def create_task(self, coro, *, name=None, context=None):
            task = super().create_task(coro, name=name, context=context)
            if name is None and self._auto_name is not None and task.get_name() == "None":
                task.set_name(self._auto_name)
            self._auto_name = None
            return task

    async def shutdown_default_executor(self, *args, **kwargs):
        if self.clock is None:
            return await super().shutdown_default_executor(*args, **kwargs)
        # On the virtual clock the timeout (300 s from 3.12) would be over at once, with a
        # warning that the threads did not finish: wait for them for real instead.
        self._executor_shutdown_called = True
        executor = self._default_executor
        if executor is not None:
            executor.shutdown(wait=True)

    def _is_plumbing(self, coro):
        # The loop's own coroutines (accepting a connection, resolving a name, shutting down)
        # are plumbing; asyncio's public ones are the script's when it makes a Task of them:
        # `create_task(asyncio.sleep(1))`, `create_task(asyncio.wait_for(...))`.
        code = getattr(coro, "cr_code", None)
        if code is None:
            return False
        if code.co_filename.startswith("<asyncdojo>"):
            return True  # the tracer's own (this loop's shutdown_default_executor)
        if not code.co_filename.startswith(_ASYNCIO_DIR):
            return False
        return (
            os.path.basename(code.co_filename) in _LOOP_FILES
            or "EventLoop" in getattr(code, "co_qualname", "")
        )

    def run_until_complete(self, future):
        self._main_next = asyncio.iscoroutine(future) and not self._is_plumbing(future)
        try:
            return super().run_until_complete(future)
        finally:
            self._main_next = False

    def run_forever(self):
        if self._run_no is None:
            label = self._tracer.take_label()
            self._run_no = self._tracer.run_started(self)
            self._label = label or "run %d" % self._run_no
            self._called = "the %s run" % label if label else self._label
        try:
            return super().run_forever()
        except RuntimeError as e:
            if str(e).startswith("deadlock:"):
                self._tracer.note(
                    "%s stopped at %s ms on the virtual clock: every task was waiting and "
                    "no timer was set, so nothing could ever wake them (on the real clock the "
                    "script would hang there)" % (self._called, _ms(self.recording.now()))
                )
            raise

    # -- what the virtual clock cannot follow --------------------------------------------------

    def _waited(self, kind: str, frame) -> None:
        if self.clock is None or self._run_no is None:
            return
        api, where = self._tracer.files.site(frame)
        key = where or kind
        if key in self._noted or len(self._noted) > _WAIT_NOTES:
            return
        if kind == "a pipe" and where is None and "a subprocess" in self._noted:
            return  # the subprocess's own pipes: already said
        self._noted.add(key)
        if len(self._noted) > _WAIT_NOTES:
            self._tracer.note(
                "%s: more waits on the world than these on the virtual clock" % self._called
            )
            return
        # Without a line of the user's (a transport's callback), what asyncio called says nothing.
        what = ("%s at %s" % (api, where) if api else where) if where else ""
        if kind == "a thread":
            # The virtual clock waits for a thread's call (see dojo.core.THREAD_HOLD_S).
            how = "the virtual clock stands still while it runs, so its time is not counted"
        else:
            how = (
                "the virtual clock does not wait for it, so its timers may fire first and its "
                "times are not what the program takes"
            )
        self._tracer.note(
            "%s waited on %s%s: %s (trace it with --clock real)"
            % (self._called, kind, " (%s)" % what if what else "", how)
        )

    def _add_reader(self, fd, callback, *args):
        # The loop's own wake-up pipe is added while TracingLoop.__init__ runs, before `clock`.
        if getattr(self, "clock", None) is not None:
            self._waited(_fd_kind(fd), sys._getframe(1))
        return super()._add_reader(fd, callback, *args)

    def _add_writer(self, fd, callback, *args):
        if getattr(self, "clock", None) is not None:
            self._waited(_fd_kind(fd), sys._getframe(1))
        return super()._add_writer(fd, callback, *args)

    def run_in_executor(self, executor, func, *args):
        if self.clock is not None:
            self._waited("a thread", sys._getframe(1))
        return super().run_in_executor(executor, func, *args)

    async def subprocess_exec(self, *args, **kwargs):
        if self.clock is not None:
            self._noted.add("a subprocess")
            self._waited("a subprocess", sys._getframe(1))
        return await super().subprocess_exec(*args, **kwargs)

    async def subprocess_shell(self, *args, **kwargs):
        if self.clock is not None:
            self._noted.add("a subprocess")
            self._waited("a subprocess", sys._getframe(1))
        return await super().subprocess_shell(*args, **kwargs)

    # -- documents -----------------------------------------------------------------------------

    def document(self, final: bool) -> dict:
        run_ = self.recording
        if final:
            for rec in run_.tasks:
                if rec.finished is None:
                    run_.finish(rec, "cancelled", "still pending when the run ended")
        mains = self._mains
        last = mains[-1] if mains else None
        if last is not None and last.finished is not None:
            total_ms = last.finished
        else:
            total_ms = run_.now()
        error = None
        if last is not None and last.outcome == "error":
            error = "the script's main raised %s" % last.detail
        doc = run_.document(self._label, total_ms, error)
        doc["runtime"] = "asyncio"
        where = self._where
        for task in doc["tasks"]:
            w = where.get(task["id"])
            if w is not None:
                task["line"] = w[1]
                if w[0]:
                    task["file"] = w[0]
        # A park's row names its file (the recording keeps parks' files): by its index, and not
        # at all for the script itself.
        files = self._tracer.files
        for park in doc.get("parks") or ():
            if len(park) == 5:
                i = files.index_of(park[4])
                if i:
                    park[4] = i
                else:
                    del park[4]
        return self._tracer.wrap(doc)

    def send_live(self) -> None:
        """On the loop's thread, between two of its steps: the run so far, when it changed."""
        started = time.perf_counter()
        seq = self.recording.seq
        sent = 0
        if not self._sent_done and not self.is_closed() and seq != self._live_seq:
            self._live_seq = seq
            doc = self.document(final=False)
            self._tracer.files.announce()
            self._tracer.channel.send("live", doc)
            sent = max(seq, 1)
        self._tracer.live_done(time.perf_counter() - started, sent)

    def close(self):
        if self.is_running():
            return super().close()  # refused ("Cannot close a running event loop")
        if not self.is_closed() and self._run_no is not None and not self._sent_done:
            self.recording.active = False
            self._tracer.run_ended(self)
        super().close()

    def finish_run(self) -> None:
        if self._sent_done:
            return
        self._sent_done = True
        doc = self.document(final=True)
        dropped = doc["runs"][0].get("metrics", {}).get("events_dropped")
        self._tracer.files.announce()
        self._tracer.channel.send("run", doc)
        if dropped:
            self._tracer.note(
                "%s: %s later events dropped (kept the first %s polls and wakes)"
                % (self._called, format(dropped, ","),
                   format(getattr(core, "EVENT_LIMIT", 1_000_000), ","))
            )


_RUNNER_RUN_CODE = asyncio.runners.Runner.run.__code__
# asyncio's modules that hold the event loop's machinery rather than what a program awaits.
_LOOP_FILES = frozenset((
    "base_events.py", "selector_events.py", "unix_events.py", "windows_events.py",
    "proactor_events.py", "runners.py", "staggered.py", "sslproto.py", "base_subprocess.py",
))
_RUN_ONCE_CODE = asyncio.base_events.BaseEventLoop._run_once.__code__


class _ScriptRecording(core.Recording):
    """A run's recording whose marks also say which user file their line is in (`dojo.mark` in
    a module of the script's own, not the script). Its `program_files` are the `UserFiles`."""

    __slots__ = ()

    def mark(self, label, line):
        super().mark(label, line)
        if line is not None:
            where = self.program_files.where(sys._getframe(1))
            if where is not None and where[0] and where[1] == line:
                self.marks[-1]["file"] = where[0]


def _whole_microseconds(recording) -> None:
    """Real-clock times in whole microseconds rather than nanoseconds: a wall clock says nothing
    finer, and the shorter numbers make a big run's document about half as slow to write (live
    documents are written over and over). Set before the run records anything."""
    t0 = time.monotonic_ns()

    def to_ms(raw):
        return (raw - t0) // 1000 / 1000

    def pairs(starts, ends):
        return [((a - t0) // 1000 / 1000, (b - t0) // 1000 / 1000) for a, b in zip(starts, ends)]

    def ms_of(raws):
        return [(raw - t0) // 1000 / 1000 for raw in raws]

    recording.to_ms = to_ms
    recording.pairs = pairs
    recording.ms_of = ms_of


def _report_and_log(loop, context):
    """What the loop would log ("Task exception was never retrieved") is a mark on the timeline
    and, as without the tracer, a report on stderr."""
    loop.recording.loop_exception(loop, context)
    loop.default_exception_handler(context)


def _called_by_runner(frame) -> bool:
    """Is this Task made by `Runner.run` (asyncio.run), a frame or two above the factory?"""
    for _ in range(3):
        if frame is None:
            return False
        if frame.f_code is _RUNNER_RUN_CODE:
            return True
        frame = frame.f_back
    return False


def _ms(t: float) -> str:
    return ("%.3f" % t).rstrip("0").rstrip(".")


def _fd_kind(fd) -> str:
    try:
        if not isinstance(fd, int):
            fd = fd.fileno()
        mode = os.fstat(fd).st_mode
    except (OSError, AttributeError, ValueError):
        return "a file descriptor"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISFIFO(mode):
        return "a pipe"
    return "a file descriptor"


class _ScriptPolicy(asyncio.DefaultEventLoopPolicy):
    """The default policy, except that a loop made on the main thread is a tracing loop."""

    def __init__(self, tracer: ScriptTracer) -> None:
        super().__init__()
        self._tracer = tracer

    def new_event_loop(self):
        if threading.current_thread() is threading.main_thread():
            return _ScriptLoop(self._tracer)
        return super().new_event_loop()


# ---------------------------------------------------------------------------------------------
# The tracer


class ScriptTracer:
    """One traced script: its files, its runs, the channel, and the patches that put every
    main-thread event loop under the tracer."""

    def __init__(self, script: str, args: list[str], virtual: bool, channel: Channel,
                 live_ms: float = 200.0) -> None:
        self.script = script
        self.args = args
        self.virtual = virtual
        self.channel = channel
        self.files = UserFiles(script, channel)
        self.runs = 0
        self.foreign_loops = 0
        self.open_loops: list[_ScriptLoop] = []
        self.live_s = max(live_ms, 1.0) / 1000
        # When the next live document may be built (time.monotonic()); inf while one is on its
        # way to the loop's thread.
        self._next_live = 0.0
        self._live_from = 0.0  # when the last live document was done (or the run began)
        # What a live document costs per event of the run so far, learnt from the last one (a
        # first guess before any: about what 50,000 polls cost).
        self._live_s_per_event = 2e-6
        self._live_loop: _ScriptLoop | None = None
        self._live_thread: threading.Thread | None = None
        self._noted: set[str] = set()
        self.watch: core.ParentWatch | None = None
        # What the next run is called instead of `run N` (see `label_next_run`).
        self._next_label: str | None = None

    # -- channel helpers -----------------------------------------------------------------------

    def note(self, text: str) -> None:
        if text not in self._noted:
            self._noted.add(text)
            self.channel.send("note", text)

    def wrap(self, run_doc: dict) -> dict:
        return {
            "format_version": core.FORMAT_VERSION,
            "demo": os.path.basename(self.script),
            "clock": "virtual" if self.virtual else "real",
            "runtime": "asyncio",
            "params": {},
            "runs": [run_doc],
            "origin": {"script": self.script, "args": list(self.args)},
        }

    # -- runs ----------------------------------------------------------------------------------

    def label_next_run(self, label: str | None) -> None:
        """Call the next run this tracer sees `label` rather than `run N`: `dojo.run` in a
        traced script names each run after its variant. None: back to numbers."""
        self._next_label = label

    def traceback_of(self, exc: BaseException) -> str:
        """`exc`'s traceback as the script's exit message gives it: the user's frames."""
        return _user_traceback(exc, self.files)

    def take_label(self) -> str | None:
        label, self._next_label = self._next_label, None
        return label

    def run_started(self, loop: _ScriptLoop) -> int:
        self.runs += 1
        self.open_loops.append(loop)
        if self.watch is not None:
            self.watch.attach(loop)
        if not self.virtual:
            self._live_loop = loop
            self._live_from = time.monotonic()
            self._next_live = self._live_from + self.live_s
            if self._live_thread is None:
                self._live_thread = threading.Thread(
                    target=self._live, name=_LIVE_THREAD, daemon=True
                )
                self._live_thread.start()
        return self.runs

    def run_ended(self, loop: _ScriptLoop) -> None:
        if self._live_loop is loop:
            self._live_loop = None
        if self.watch is not None:
            self.watch.attach(None)
        if loop in self.open_loops:
            self.open_loops.remove(loop)
        loop.finish_run()

    def live_done(self, cost_s: float, events: int) -> None:
        """A live document was sent (`events` > 0) or not needed, having taken `cost_s` on the
        loop's thread."""
        now = time.monotonic()
        if events:
            self._live_s_per_event = cost_s / events
            self._live_from = now
        self._next_live = now + self.live_s

    def _live(self) -> None:
        while True:
            wait = self._next_live - time.monotonic()
            if wait > 0:
                time.sleep(min(wait, self.live_s))
                continue
            loop = self._live_loop
            if loop is None or loop.recording.seq == loop._live_seq:
                self._next_live = time.monotonic() + self.live_s
                continue
            # A live document is the whole run so far: its cost grows with the run. One is made
            # only once ten times its expected cost has passed since the last, so at most about
            # a tenth of the loop's time goes to them however big the run grows.
            due = self._live_from + 10 * loop.recording.seq * self._live_s_per_event
            if due > time.monotonic():
                self._next_live = due
                continue
            # Built on the loop's own thread, between two steps, where the recording is whole.
            # Until it has run (a loop held by a blocking call), no other is asked for.
            self._next_live = float("inf")
            try:
                loop.call_soon_threadsafe(loop.send_live)
            except RuntimeError:  # closed meanwhile
                self._next_live = time.monotonic() + self.live_s

    # -- patches -------------------------------------------------------------------------------

    def install(self) -> None:
        policy = _ScriptPolicy(self)
        asyncio.set_event_loop_policy(policy)
        set_policy = asyncio.events.set_event_loop_policy
        set_running = asyncio.events._set_running_loop
        tracer = self

        def set_event_loop_policy(new):
            if new is None:
                new = _ScriptPolicy(tracer)
            elif not isinstance(new, _ScriptPolicy):
                api, where = tracer.files.site(sys._getframe(1))
                tracer.note(
                    "the script installs its own event loop policy (%s%s): the loops it makes "
                    "are not asyncio's own, and asyncdojo cannot follow their tasks"
                    % (_type_name(new), " at " + where if where else "")
                )
            set_policy(new)

        seen_loops: set[int] = set()

        def _set_running_loop(loop):
            if loop is not None and not isinstance(loop, _ScriptLoop) and id(loop) not in seen_loops:
                seen_loops.add(id(loop))
                tracer.foreign_loop(loop, sys._getframe(1))
            set_running(loop)

        for module in (asyncio, asyncio.events):
            self._patch(module, "set_event_loop_policy", set_event_loop_policy)
        self._patch(asyncio.events, "_set_running_loop", _set_running_loop)
        if self.virtual:
            real_sleep = time.sleep

            def sleep(seconds):
                # On the virtual clock a task that holds the thread moves the clock, as
                # dojo.block does: otherwise a blocking call would take no time at all.
                loop = tracer._live_or_running()
                if loop is not None and loop.clock is not None:
                    loop.block(seconds * 1000)
                else:
                    real_sleep(seconds)

            self._patch(time, "sleep", sleep)

    def _live_or_running(self):
        if threading.current_thread() is not threading.main_thread():
            return None
        loop = asyncio.events._get_running_loop()
        return loop if isinstance(loop, _ScriptLoop) else None

    @staticmethod
    def _patch(obj, name, value) -> None:
        setattr(obj, name, value)

    def foreign_loop(self, loop: asyncio.AbstractEventLoop, frame: types.FrameType | None) -> None:
        self.foreign_loops += 1
        api, where = self.files.site(frame)
        at = ("%s at %s" % (api, where) if api and where else where or api) or ""
        if threading.current_thread() is not threading.main_thread():
            self.note(
                "an event loop ran in another thread (%s%s): asyncdojo follows only the main "
                "thread's loops, so its tasks are not drawn"
                % (threading.current_thread().name, ", " + at if at else "")
            )
            return
        self.note(
            "the script runs an event loop of its own, %s%s, from a loop_factory, a policy or "
            "a library such as uvloop: asyncdojo follows only asyncio's own loop, so its tasks "
            "are not drawn" % (_type_name(loop), " (%s)" % at if at else "")
        )

    # -- the end -------------------------------------------------------------------------------

    def finish(self) -> None:
        for loop in list(self.open_loops):
            # A loop the script never closed: its run is over all the same.
            loop.recording.active = False
            self.run_ended(loop)
        if self.runs == 0 and self.foreign_loops == 0:
            self.note("the script ran no asyncio event loop: there are no tasks to draw")


def _type_name(obj) -> str:
    cls = type(obj)
    module = cls.__module__
    return cls.__qualname__ if module in ("builtins", "__main__") else "%s.%s" % (
        module, cls.__qualname__)


# ---------------------------------------------------------------------------------------------
# Running the script


def _parse_args(args_json: str) -> tuple[list[str], bool, float]:
    try:
        args = json.loads(args_json)
    except ValueError as e:
        raise ScriptError("the arguments are one JSON object: %s" % e) from None
    if not isinstance(args, dict):
        raise ScriptError("the arguments are one JSON object")
    unknown = sorted(set(args) - {"args", "clock", "live_ms"})
    if unknown:
        raise ScriptError("unknown argument %s (known: args, clock, live_ms)" % ", ".join(unknown))
    argv = args.get("args", [])
    if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
        raise ScriptError("`args` is a list of strings")
    clock = args.get("clock", "real")
    if clock not in ("real", "virtual"):
        raise ScriptError("clock `%s`: the clocks are virtual and real" % clock)
    live_ms = args.get("live_ms", 200)
    if isinstance(live_ms, bool) or not isinstance(live_ms, (int, float)) or live_ms <= 0:
        raise ScriptError("`live_ms` is a positive number")
    return argv, clock == "virtual", float(live_ms)


def _exit_code(exc: SystemExit) -> int:
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    # As the interpreter does: any other value is printed and the status is 1.
    try:
        sys.stderr.write("%s\n" % (code,))
    except Exception:  # noqa: BLE001 (stderr itself may be gone)
        pass
    return 1


class _Summarised(traceback.FrameSummary):
    """A run of library frames in a traceback, printed as one line: `(3 asyncio frames)`."""

    def __init__(self, frames: list) -> None:
        super().__init__("<library>", None, "", lookup_line=False)
        self.summary = _frames_line(frames)


class _UserStack(traceback.StackSummary):
    def format_frame_summary(self, frame_summary, **kwargs):
        if isinstance(frame_summary, _Summarised):
            return "  %s\n" % frame_summary.summary
        return super().format_frame_summary(frame_summary, **kwargs)


def _frames_line(frames: list) -> str:
    """`(2 asyncio frames)`, `(1 threading frame)`, `(4 library frames: asyncio, concurrent)`."""
    names = list(dict.fromkeys(_library_of(f.filename) for f in frames))
    n = len(frames)
    plural = "frame" if n == 1 else "frames"
    if len(names) == 1:
        return "(%d %s %s)" % (n, names[0], plural)
    return "(%d library %s: %s)" % (n, plural, ", ".join(names))


def _library_of(filename: str) -> str:
    """The library a frame is in, by its file: `asyncio`, `threading`, `aiohttp`."""
    if filename.startswith(_ASYNCIO_DIR):
        return "asyncio"
    if filename.startswith("<"):
        return filename.strip("<>").split()[-1] if filename.strip("<>") else "library"
    path = os.path.abspath(filename)
    for prefix in sorted(_library_dirs(), key=len, reverse=True):
        if path.startswith(prefix):
            head = path[len(prefix):].split(os.sep, 1)[0]
            return os.path.splitext(head)[0] or "library"
    return "library"


def _library_dirs() -> list[str]:
    dirs = []
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        d = sysconfig.get_paths().get(key)
        if d:
            dirs.append(os.path.join(os.path.abspath(d), ""))
    dirs.append(os.path.join(os.path.dirname(_ASYNCIO_DIR.rstrip(os.sep)), ""))
    return dirs


def _user_stack(stack, files: UserFiles) -> traceback.StackSummary:
    """The user's frames as they are; the tracer's left out; each run of library frames between
    them (asyncio's runner and event loop, mostly) summarised in one line."""
    out = []
    library = []
    for f in stack:
        if f.filename.startswith("<asyncdojo>"):
            continue
        if f.filename in files:
            if library:
                out.append(_Summarised(library))
                library = []
            out.append(f)
        else:
            library.append(f)
    if library:
        out.append(_Summarised(library))
    return _UserStack(out)


def _user_traceback(exc: BaseException, files: UserFiles) -> str:
    """The traceback as Python prints it, starting at the script's first frame, with only the
    user's own frames in full: the tracer's are left out (a lane stepping a coroutine), and
    library frames summarised, `(3 asyncio frames)`."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename not in files:
        tb = tb.tb_next
    te = traceback.TracebackException(type(exc), exc, tb or exc.__traceback__)
    seen = set()
    todo = [te]
    while todo:
        t = todo.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        t.stack = _user_stack(t.stack, files)
        todo.extend(x for x in (t.__cause__, t.__context__) if x is not None)
        todo.extend(getattr(t, "exceptions", None) or ())  # an ExceptionGroup's
    return "".join(te.format())


def _run_as_main(path: str, typed: str) -> None:
    """Run the file at `path` as `__main__`, as `python3 SCRIPT` does: `__file__` and the code's
    file are absolute, but `sys.argv[0]` stays as the learner typed it (runpy would make it
    absolute). A zip file or directory (`python3 app.zip`) goes through runpy."""
    import builtins
    import importlib.machinery
    import io
    import pkgutil
    import types

    if pkgutil.get_importer(path) is not None:
        runpy.run_path(path, run_name="__main__")
        return
    # As runpy reads a file: compiled bytecode (a .pyc) first, else source.
    with io.open_code(path) as f:
        code = pkgutil.read_code(f)
    if code is None:
        with io.open_code(path) as f:
            code = compile(f.read(), path, "exec", dont_inherit=True)
    module = types.ModuleType("__main__")
    module.__dict__.update(
        __file__=path, __cached__=None, __package__=None, __spec__=None,
        __loader__=importlib.machinery.SourceFileLoader("__main__", path),
        __builtins__=builtins,
    )
    sys.modules["__main__"] = module
    sys.argv[0] = typed
    exec(code, module.__dict__)


def main(script: str, args_json: str, watch_fd: int | None = None) -> int:
    """Run `script` traced; returns its exit code once every message is sent. stdin must already
    be what the script should see; `watch_fd` is asyncdojo's pipe (closed when it goes away)."""
    try:
        argv, virtual, live_ms = _parse_args(args_json)
    except ScriptError as e:
        sys.stderr.write("dojo: %s\n" % e)
        return 2
    path = os.path.abspath(script)
    channel = Channel(os.dup(1))
    capture = StdoutCapture(channel)
    # A fresh stdout on the pipe: line-buffered, so what the script prints reaches the app as it
    # runs rather than when a block fills.
    try:
        sys.stdout.flush()
        sys.stdout.reconfigure(line_buffering=True)
    except (AttributeError, OSError, ValueError):
        pass
    tracer = ScriptTracer(path, argv, virtual, channel, live_ms)
    channel.send("files", [path])
    tracer.files._sent = 1
    if watch_fd is not None:
        tracer.watch = core.ParentWatch(fd=watch_fd)
        tracer.watch.start()
    tracer.install()
    # `import dojo` (the twins' API, see _bundle.py) runs twins as the script's own runs.
    harness.script_tracer = tracer
    sys.argv = [script, *argv]
    sys.path[0] = os.path.dirname(path)
    code, error = 0, None
    try:
        _run_as_main(path, script)
    except SystemExit as e:
        code = _exit_code(e)
    except KeyboardInterrupt as e:
        code, error = 130, _user_traceback(e, tracer.files)
    except BaseException as e:  # noqa: BLE001 (the script's failure is reported, not ours)
        code, error = 1, _user_traceback(e, tracer.files)
    finally:
        code, error = _wind_down(tracer, capture, code, error)
    channel.send("exit", {"code": code, "error": error})
    return code


def _wind_down(tracer, capture, code, error):
    """What the interpreter does after `__main__` ends, before we say the script has exited:
    wait for its threads, run its atexit handlers; then the runs it left open, its stdout."""
    try:
        # As the interpreter does at exit: its threading hooks (a ThreadPoolExecutor left open
        # tells its workers to stop), then every non-daemon thread joined; then atexit.
        threading._shutdown()
        import atexit

        atexit._run_exitfuncs()
    except SystemExit as e:
        code = _exit_code(e)
    except BaseException as e:  # noqa: BLE001
        if error is None:
            code, error = 1, _user_traceback(e, tracer.files)
    try:
        tracer.finish()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (AttributeError, OSError, ValueError):
                pass
        capture.finish()
    return code, error
