"""The twin harness: runs a twin's `main(variant, **params)` once per variant on the tracer's core
and writes the run document.

A twin ends with

    if __name__ == "__main__":
        dojo.run(main, variants=("sequential", "join-all", "join-set"))

Its variants are the ones it declares: asking for another is an error that names them. Its
parameters are main's keyword parameters, their defaults the demo's: each value given must have
the type of its default, and a name main does not take is an error that names the ones it does.
Run by hand, what is not given takes its default; run by asyncdojo (`"strict": true`), every
parameter must be given, so a name that differs between the twin and the demo is an error rather
than a silent default.

Under `asyncdojo trace` (a twin saved to a file and traced as the learner's own script) `dojo.run`
writes no document: it runs `main` once per variant through `asyncio.run`, each the script's own
run, named after its variant (see `_run_in_script`).

The arguments are one JSON object: `python3 gather.py '{"variants": [...], "params": {...}}'`,
with `clock` ("virtual" or "real"), `demo` (the document's name), `lines` (one document per line,
each holding one run, written as the run finishes), `watch_stdin` (exit when asyncdojo goes away) and `strict`.
"""

from __future__ import annotations

import collections.abc
import gc
import json
import linecache
import os
import sys

from . import core

__all__ = ["TwinError", "launch", "main", "run"]


class TwinError(Exception):
    """The twin was asked for something it does not have: a variant, a parameter, a type."""


class _Launch:
    """How asyncdojo started this process: the arguments, and the watch on asyncdojo itself."""

    def __init__(self, args: dict) -> None:
        self.args = args
        self.watch = None
        if args.get("watch_stdin"):
            self.watch = core.ParentWatch()
            self.watch.start()


_launched: _Launch | None = None  # set when asyncdojo (or `dojo.py TWIN ARGS`) starts the twin

# The script tracer (`dojo.script.ScriptTracer`) when this runs inside `asyncdojo trace SCRIPT`.
script_tracer = None


def run(
    main: collections.abc.Callable[..., collections.abc.Coroutine],
    clock: str = "virtual",
    *,
    variants: collections.abc.Sequence[str] | None = None,
    time_threads: bool = False,
) -> None:
    """Run `main(variant, **params)` once per variant and write the run document to stdout.
    `variants` are the twin's (the first run by hand is main's default `variant`); `clock` is the
    default when no arguments say otherwise: "real" for twins that talk to real sockets and
    files, which a virtual clock would race past. `time_threads`: on the virtual clock, jobs of
    the default executor that hold their thread with `dojo.block` are timed by it (see
    `core.VirtualPool`). Exits with status 2, naming what is valid, when asked for a variant or
    a parameter the twin does not have."""
    twin_file = main.__code__.co_filename
    try:
        if script_tracer is not None:
            _run_in_script(main, clock, variants, twin_file, time_threads)
        else:
            _run(main, clock, variants, twin_file, time_threads)
    except TwinError as e:
        sys.stderr.write("dojo: %s\n" % e)
        sys.stderr.flush()
        raise SystemExit(2) from None


def _run(main, default_clock, declared, twin_file, time_threads=False):
    name = os.path.basename(twin_file)
    if _launched is not None:
        launch_ = _launched
    else:
        launch_ = _Launch(_args_from_argv(name))
    args = launch_.args
    _check_keys(name, args)
    defaults = _defaults(main)
    variants = _variants(name, args, defaults, declared)
    params = _params(name, main, defaults, args.get("params") or {}, bool(args.get("strict")))
    clock_name = args.get("clock", default_clock)
    if clock_name not in ("virtual", "real"):
        raise TwinError("clock `%s`: the clocks are virtual and real" % clock_name)
    out = sys.stdout
    # Anything the twin prints goes to stderr: stdout carries only the document.
    sys.stdout = sys.stderr
    core.capture_warnings()
    lines = args.get("lines", False)
    watch = launch_.watch
    program = frozenset((twin_file,))
    runs = []

    def document(runs):
        """The run document (docs/run-document.md in asyncdojo's repository) of `runs`."""
        return {
            "format_version": core.FORMAT_VERSION,
            "demo": args.get("demo") or os.path.splitext(name)[0],
            "clock": clock_name,
            "runtime": "asyncio",
            "params": params,
            "runs": runs,
        }

    # What is loaded by now (the standard library, the tracer, the twin) lives to the end:
    # leaving it out of the collector's passes makes a run of many tasks ~20% faster.
    gc.freeze()
    try:
        for variant in variants:
            doc = core.trace(
                lambda: main(variant, **params),
                virtual=clock_name == "virtual",
                program_files=program,
                variant=variant,
                watch=watch,
                who="the twin",
                pool=time_threads,
            )
            if watch is not None and watch.gone:
                os._exit(70)
            doc["runtime"] = "asyncio"
            if lines:
                out.write(json.dumps(document([doc]), separators=(",", ":")))
                out.write("\n")
                out.flush()
            else:
                runs.append(doc)
    finally:
        sys.stdout = out
    if not lines:
        json.dump(document(runs), out, indent=2)
        out.write("\n")
        out.flush()


def _run_in_script(main, default_clock, declared, twin_file, time_threads=False):
    """`dojo.run` in a script traced by `asyncdojo trace`: every variant the twin declares (or
    those its JSON argument asks for, as by hand), each through `asyncio.run`, so the script
    tracer records it as one of the script's runs, named after the variant. The clock is the
    trace's. A variant whose main raises does not stop the others; the first such error is then
    raised, as the script's own. `time_threads` is honoured as in a twin run, so a saved twin
    traces as it runs."""
    import asyncio

    def run_timed(variant, params):
        # asyncio.run's own steps, with the loop told first to time the default executor's jobs
        # as a twin's loop does (see `core.VirtualPool`): main stays the run's first Task.
        with asyncio.Runner() as runner:
            loop = runner.get_loop()
            loop.hold_pool_threads()
            try:
                runner.run(main(variant, **params))
            finally:
                pool = getattr(loop, "_pool", None)
                if pool is not None:
                    pool.release_all()  # a worker held past main's end: nothing would wake it

    tracer = script_tracer
    name = os.path.basename(twin_file)
    args = _args_from_argv(name)
    _check_keys(name, args)
    defaults = _defaults(main)
    if "variants" in args:
        variants = _variants(name, args, defaults, declared)
    else:
        _variants(name, {}, defaults, declared)  # the same checks of the declaration
        variants = list(declared) if declared is not None else [defaults.get("variant", "default")]
    params = _params(name, main, defaults, args.get("params") or {}, False)
    clock_name = "virtual" if tracer.virtual else "real"
    asked = args.get("clock", default_clock)
    if asked not in ("virtual", "real"):
        raise TwinError("clock `%s`: the clocks are virtual and real" % asked)
    if asked == "real" and clock_name == "virtual":
        tracer.note(
            "%s asks for the real clock (it waits on sockets, files or threads): on the virtual "
            "clock its timers may fire before what it waits for, so its runs may not be the "
            "lesson's (trace it with --clock real)" % name
        )
    elif asked != clock_name and "clock" in args:
        tracer.note("%s asks for the %s clock; traced on the %s clock, as asyncdojo trace was "
                    "told" % (name, asked, clock_name))
    core.capture_warnings()
    gc.freeze()
    first_error = None
    for variant in variants:
        tracer.label_next_run(variant)
        try:
            if time_threads:
                run_timed(variant, params)
            else:
                asyncio.run(main(variant, **params))
        except Exception as e:  # noqa: BLE001 (the run records it; the script raises it later)
            if first_error is None:
                first_error = e
            else:
                sys.stderr.write(tracer.traceback_of(e))
        finally:
            tracer.label_next_run(None)
    if first_error is not None:
        raise first_error


# The keys of the argument object: what asyncdojo sends (src/demo/asyncio.rs `run_with`) and what
# the module docstring documents. Any other key is refused: `{"variant": "x"}` for
# `{"variants": ["x"]}` would otherwise run the default variant as if asked for.
_ARG_KEYS = ("variants", "params", "clock", "demo", "lines", "watch_stdin", "strict")


def _check_keys(name, args):
    unknown = [k for k in args if k not in _ARG_KEYS]
    if unknown:
        raise TwinError(
            "%s: its argument has no %s %s: the keys it takes are %s"
            % (name, _plural("key", unknown), _listed(unknown), ", ".join(_ARG_KEYS))
        )


def _args_from_argv(name):
    if len(sys.argv) <= 1:
        return {}
    try:
        args = json.loads(sys.argv[1])
    except ValueError as e:
        raise TwinError("%s takes one JSON object as its argument: %s" % (name, e)) from None
    if not isinstance(args, dict):
        raise TwinError("%s takes one JSON object as its argument" % name)
    return args


def _defaults(main):
    """main's keyword defaults: what a run by hand uses, and the parameters' types."""
    code = main.__code__
    names = code.co_varnames[: code.co_argcount]
    values = main.__defaults__ or ()
    return dict(zip(names[len(names) - len(values) :], values))


def _variants(name, args, defaults, declared):
    default = defaults.get("variant", "default")
    if declared is not None:
        declared = list(declared)
        if default not in declared:
            raise TwinError(
                "%s: main's default variant `%s` is not one of its variants (%s)"
                % (name, default, ", ".join(declared))
            )
    asked = args.get("variants") or [default]
    if not isinstance(asked, list) or not all(isinstance(v, str) for v in asked):
        raise TwinError("%s: `variants` is a list of variant names" % name)
    if declared is not None:
        unknown = [v for v in asked if v not in declared]
        if unknown:
            raise TwinError(
                "%s has no %s %s: its variants are %s"
                % (name, _plural("variant", unknown), _listed(unknown), ", ".join(declared))
            )
    return asked


def _plural(word, items):
    return word if len(items) == 1 else word + "s"


def _listed(names):
    return ", ".join("`%s`" % n for n in names)


def _plain(value):
    return list(value) if isinstance(value, tuple) else value


def _params(name, main, defaults, given, strict):
    """The parameters main is called with: its defaults, replaced by the values given, each
    checked against its default's type."""
    known = [k for k in defaults if k != "variant"]
    if not isinstance(given, dict):
        raise TwinError("%s: `params` is an object of parameter names and values" % name)
    unknown = [k for k in given if k not in known]
    if unknown:
        raise TwinError(
            "%s has no %s %s: its parameters are %s"
            % (name, _plural("parameter", unknown), _listed(unknown), ", ".join(known) or "none")
        )
    if strict:
        missing = [k for k in known if k not in given]
        if missing:
            raise TwinError(
                "%s: %s %s not given (asyncdojo gives every parameter of the demo: does the "
                "twin name one the demo does not have?)"
                % (name, _plural("parameter", missing), _listed(missing))
            )
    params = {k: _plain(defaults[k]) for k in known}
    for k, value in given.items():
        problem = _type_problem(value, defaults[k])
        if problem is not None:
            raise TwinError("%s: parameter `%s` %s, not %s" % (name, k, problem, json.dumps(value)))
        params[k] = value
    return params


def _type_problem(value, default):
    """What `value` should be, if it is not of its default's type; else None."""
    if isinstance(default, bool):
        return None if isinstance(value, bool) else "is true or false"
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(default, int):
        return None if number and isinstance(value, int) else "is a whole number"
    if isinstance(default, float):
        return None if number else "is a number"
    if isinstance(default, str):
        return None if isinstance(value, str) else "is text"
    if isinstance(default, (tuple, list)):
        if not isinstance(value, (list, tuple)):
            return "is a list"
        for item in value if default else ():
            problem = _type_problem(item, default[0])
            if problem is not None:
                return "is a list whose every item " + problem
    return None


def _start(args: dict) -> None:
    global _launched
    _launched = _Launch(args)


def _exec_twin(twin_file: str, source: str) -> None:
    """Run the twin's source as `__main__`, its lines attributed to `twin_file`."""
    # Tracebacks show the twin's lines even when no file holds them.
    linecache.cache[twin_file] = (len(source), None, source.splitlines(True), twin_file)
    code = compile(source, twin_file, "exec")
    sys.argv = [twin_file]
    namespace = {"__name__": "__main__", "__file__": twin_file, "__builtins__": __builtins__}
    exec(code, namespace)


def main(argv: list[str]) -> None:
    """`dojo.py TWIN_FILE ARGS_JSON`: run the twin file as `__main__` with these arguments."""
    twin_file, args = argv[0], json.loads(argv[1]) if len(argv) > 1 else {}
    _start(args)
    with open(twin_file, encoding="utf-8") as f:
        source = f.read()
    _exec_twin(twin_file, source)


def launch(twin_file: str, source: str, args_json: str) -> None:
    """asyncdojo's entry: the twin's source came through stdin, not from a file (nothing is
    written to disk, so nothing can be left behind). `twin_file` names it in tracebacks and
    marks."""
    _start(json.loads(args_json))
    _exec_twin(twin_file, source)
