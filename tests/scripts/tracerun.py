"""Runs a script under the script tracer exactly as asyncdojo does (`python -B -c BOOT_SCRIPT
BUNDLE_LEN SCRIPT ARGS`, the bundle on stdin, stdin then held open) and parses the channel.
The bundle is built from twins/dojo/ the way src/demo/asyncio/bundle.rs builds it.

    python3 tests/scripts/tracerun.py SCRIPT [--clock virtual] [-- ARGS...]   # prints the channel
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOJO = os.path.join(ROOT, "twins", "dojo")
SCRIPTS = os.path.dirname(os.path.abspath(__file__))
MODULES = [("dojo", "__init__.py"), ("dojo.core", "core.py"), ("dojo.harness", "harness.py"),
           ("dojo.script", "script.py")]


def bundle() -> bytes:
    """The tracer as asyncdojo sends it: the file named by $ASYNCDOJO_TRACER_BUNDLE (the Rust
    test writes `asyncdojo::demo::asyncio::tracer_source()` there), else built here from
    twins/dojo/ the same way."""
    given = os.environ.get("ASYNCDOJO_TRACER_BUNDLE")
    if given:
        with open(given, "rb") as f:
            return f.read()
    with open(os.path.join(DOJO, "_bundle.py"), encoding="utf-8") as f:
        template = f.read()
    table = "_SOURCES = {\n"
    for module, file in MODULES:
        with open(os.path.join(DOJO, file), encoding="utf-8") as f:
            source = f.read()
        table += "    %s: (%s, %s),\n" % (
            json.dumps(module), json.dumps("<asyncdojo>/dojo/" + file), json.dumps(source))
    table += "}\n"
    assert template.count("_SOURCES = {}\n") == 1
    return template.replace("_SOURCES = {}\n", table, 1).encode("utf-8")


def boot() -> str:
    with open(os.path.join(DOJO, "_boot_script.py"), encoding="utf-8") as f:
        return f.read()


class Traced:
    """The messages of one traced run, by kind, in order."""

    def __init__(self, messages, stderr, returncode):
        self.messages = messages
        self.stderr = stderr
        self.returncode = returncode

    def of(self, key):
        return [m[key] for m in self.messages if key in m]

    @property
    def runs(self):
        return [d["runs"][0] for d in self.of("run")]

    @property
    def docs(self):
        return self.of("run")

    @property
    def notes(self):
        return self.of("note")

    @property
    def stdout(self):
        return "".join(self.of("stdout"))

    @property
    def exit(self):
        exits = self.of("exit")
        return exits[-1] if exits else None

    @property
    def files(self):
        files = self.of("files")
        return files[-1] if files else []


def trace(script, args=(), clock="virtual", python=None, timeout=60, extra=None, cwd=None,
          on_message=None, as_typed=False):
    """Run `script` traced. `on_message(message)` sees each message as it arrives; when it
    returns True, stdin is closed: asyncdojo asking the tracer to stop. `as_typed`: `script`
    is passed as it is (relative to `cwd`), as asyncdojo passes what the learner typed."""
    python = python or sys.executable
    path = script if os.path.isabs(script) or as_typed else os.path.join(SCRIPTS, script)
    b = bundle()
    argj = {"args": list(args), "clock": clock}
    argj.update(extra or {})
    proc = subprocess.Popen(
        [python, "-B", "-c", boot(), str(len(b)), path, json.dumps(argj)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        cwd=cwd or SCRIPTS, start_new_session=True,
    )
    proc.stdin.write(b)
    proc.stdin.flush()
    err = []
    t = threading.Thread(target=lambda: err.append(proc.stderr.read()), daemon=True)
    t.start()
    lines = []
    try:
        timer = threading.Timer(timeout, lambda: os.killpg(proc.pid, 9))
        timer.start()
        for line in proc.stdout:
            lines.append(json.loads(line))
            if on_message is not None and not proc.stdin.closed and on_message(lines[-1]):
                proc.stdin.close()
        proc.wait()
        timer.cancel()
    finally:
        try:
            proc.stdin.close()
        except OSError:
            pass
    t.join()
    proc.stdout.close()
    proc.stderr.close()
    for m in lines:
        assert len(m) == 1, m
    return Traced(lines, err[0].decode("utf-8", "replace") if err else "", proc.returncode)


if __name__ == "__main__":
    argv = sys.argv[1:]
    rest = []
    if "--" in argv:
        i = argv.index("--")
        argv, rest = argv[:i], argv[i + 1:]
    clock = "virtual"
    if "--clock" in argv:
        clock = argv[argv.index("--clock") + 1]
    r = trace(os.path.abspath(argv[0]), rest, clock)
    for m in r.messages:
        print(json.dumps(m)[:400])
    sys.stderr.write(r.stderr)
    print("returncode", r.returncode)
