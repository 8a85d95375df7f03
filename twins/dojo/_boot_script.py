# asyncdojo traces a learner's own script as `python3 -B -c <this file> BUNDLE_LEN SCRIPT ARGS`
# (no -I: the script may need its own sys.path and site-packages) and writes the tracer (dojo.py
# as one file, see _bundle.py) to stdin, which then stays open until asyncdojo is done with us.
# Syntax any Python 3 can parse: the bundle says which versions can run the tracer.
import os
import sys


def _read(n):
    chunks = []
    while n > 0:
        chunk = os.read(0, min(n, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


_bundle = _read(int(sys.argv[1]))
# The pipe stays ours (the tracer exits when asyncdojo closes it); the script reads an empty
# stdin, as it would under `< /dev/null`. os.dup's copy is not inherited by child processes.
_watch_fd = os.dup(0)
_null = os.open(os.devnull, os.O_RDONLY)
os.dup2(_null, 0)
os.close(_null)
_tracer = {"__name__": "__asyncdojo__"}
exec(compile(_bundle, "<asyncdojo>/dojo.py", "exec"), _tracer)
del _bundle, _null, _read
sys.exit(_tracer["launch_script"](sys.argv[2], sys.argv[3], _watch_fd))
