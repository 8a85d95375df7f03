"""dojo.py: the asyncdojo tracer as one file, its package's modules held as text below and served
from memory. asyncdojo builds it from twins/dojo/ (this template, with `_SOURCES` filled in).

It runs three ways: imported beside a twin (`python3 gather.py` with this file next to it), it
becomes the package `dojo`; as a script, `python3 dojo.py TWIN_FILE ARGS_JSON` runs the twin file;
and asyncdojo hands it and the twin's source to the interpreter through stdin (see _boot.py), so
nothing is written to disk.

Tracing a learner's own script (`asyncdojo trace`, see _boot_script.py), the tracer loads under a
private name and the script sees one module of it: `import dojo`, when nothing on the script's own
path is called `dojo`, gives the twins' API (`dojo.run`, `dojo.mark`...) recording into the traced
runs, so a lesson's model Python saved to a file runs as it reads.
"""

import sys

# This file keeps to syntax Python 3.6 can parse, so on an older interpreter this check runs and
# says so in one line (the package's modules are compiled only after it).
if sys.version_info < (3, 11):
    sys.stderr.write(
        "ASYNCDOJO_PYTHON_TOO_OLD %s\n" % sys.version.split()[0]
        + "the asyncio twins need Python 3.11 or later; this is Python %s (%s)\n"
        % (sys.version.split()[0], sys.executable)
    )
    sys.exit(3)

# module name -> (file name, source); asyncdojo fills it in.
_SOURCES = {}


class _Finder:
    """Finds and loads the modules of `_SOURCES` (a meta path finder and its loader), under the
    names they have there: the package `dojo`."""

    # The package's name in sys.modules: `dojo` for twins; a traced script's tracer uses another.
    PACKAGE = "dojo"

    @classmethod
    def _key(cls, name):
        """The `_SOURCES` key of module `name`, or None when it is not one of ours."""
        head, dot, rest = name.partition(".")
        if head != cls.PACKAGE:
            return None
        key = "dojo" + dot + rest
        return key if key in _SOURCES else None

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        key = cls._key(name)
        if key is None:
            return None
        from importlib.machinery import ModuleSpec

        return ModuleSpec(name, cls, origin=_SOURCES[key][0], is_package=key == "dojo")

    @staticmethod
    def create_module(spec):
        return None

    @classmethod
    def exec_module(cls, module):
        filename, source = _SOURCES[cls._key(module.__spec__.name)]
        exec(compile(source, filename, "exec"), module.__dict__)

    @classmethod
    def get_source(cls, name):
        # What tracebacks show for the tracer's own lines.
        return _SOURCES[cls._key(name)][1]


class _Private(_Finder):
    """The tracer of a traced script, as a package no script would name: the script's own
    `import dojo` must find the script's `dojo.py` first, if it has one, not the tracer."""

    PACKAGE = "_asyncdojo_tracer"


class _ScriptDojo:
    """`import dojo` in a traced script with no `dojo` of its own (last on sys.meta_path, after
    the path finders): the twins' API, one plain module (not the package: `dojo.core` and the
    rest stay the tracer's), bound to the tracer's modules so what it records goes into the
    traced runs."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        if name != "dojo":
            return None
        from importlib.machinery import ModuleSpec

        return ModuleSpec(name, _ScriptDojo, origin=_SOURCES["dojo"][0])

    @staticmethod
    def create_module(spec):
        return None

    @staticmethod
    def exec_module(module):
        filename, source = _SOURCES["dojo"]
        # Its relative imports (`from .core import ...`) are the tracer's modules: while it runs
        # it belongs to the tracer's package (without a spec to disagree with that).
        spec = module.__spec__
        module.__spec__ = None
        module.__package__ = _Private.PACKAGE
        try:
            exec(compile(source, filename, "exec"), module.__dict__)
        finally:
            module.__spec__ = spec
            module.__package__ = ""

    @staticmethod
    def get_source(name):
        return _SOURCES["dojo"][1]


def _install():
    if _Finder not in sys.meta_path:
        sys.meta_path.insert(0, _Finder)


def _for_a_twin():
    _install()
    # Twins never use TLS: leaving `ssl` out (asyncio supports its absence) starts the tracer
    # ~20 ms sooner. (Not for a learner's own script, which gets the whole standard library.)
    sys.modules.setdefault("ssl", None)


def launch(twin_file, source, args_json):
    """asyncdojo's way in: the twin's source, named `twin_file`, and its arguments."""
    _for_a_twin()
    from dojo.harness import launch as launch_twin

    launch_twin(twin_file, source, args_json)


def launch_script(script_file, args_json, watch_fd):
    """asyncdojo's way in for a learner's own script (see _boot_script.py): its exit code."""
    import importlib

    # Every module of the tracer loaded now, under its private name; then nothing finds them.
    sys.meta_path.insert(0, _Private)
    try:
        for key in sorted(_SOURCES):
            importlib.import_module(_Private.PACKAGE + key[len("dojo"):])
    finally:
        sys.meta_path.remove(_Private)
    if _ScriptDojo not in sys.meta_path:
        sys.meta_path.append(_ScriptDojo)
    trace_script = sys.modules[_Private.PACKAGE + ".script"].main
    return trace_script(script_file, args_json, watch_fd)


if __name__ == "__main__":
    _for_a_twin()
    from dojo.harness import main

    main(sys.argv[1:])
elif __name__ == "dojo":
    # Imported as `dojo`: load the package in this module's place (the import system hands out
    # whatever `sys.modules["dojo"]` holds once this file has run).
    _for_a_twin()
    del sys.modules["dojo"]
    import dojo  # noqa: F401 (served by _Finder)
