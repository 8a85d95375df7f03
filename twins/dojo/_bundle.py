"""dojo.py: the asyncdojo tracer as one file, its package's modules held as text below and served
from memory. asyncdojo builds it from twins/dojo/ (this template, with `_SOURCES` filled in).

It runs three ways: imported beside a twin (`python3 gather.py` with this file next to it), it
becomes the package `dojo`; as a script, `python3 dojo.py TWIN_FILE ARGS_JSON` runs the twin file;
and asyncdojo hands it and the twin's source to the interpreter through stdin (see _boot.py), so
nothing is written to disk.
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
    """Finds and loads the modules of `_SOURCES` (a meta path finder and its loader)."""

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name not in _SOURCES:
            return None
        from importlib.machinery import ModuleSpec

        return ModuleSpec(name, cls, origin=_SOURCES[name][0], is_package=name == "dojo")

    @staticmethod
    def create_module(spec):
        return None

    @staticmethod
    def exec_module(module):
        filename, source = _SOURCES[module.__spec__.name]
        exec(compile(source, filename, "exec"), module.__dict__)

    @staticmethod
    def get_source(name):
        # What tracebacks show for the tracer's own lines.
        return _SOURCES[name][1]


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
    _install()
    from dojo.script import main as trace_script

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
