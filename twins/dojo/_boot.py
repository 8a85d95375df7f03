# asyncdojo starts a twin as `python3 -I -S -B -c <this file> BUNDLE_LEN TWIN_LEN TWIN_FILE ARGS`
# and writes the tracer (dojo.py as one file, see _bundle.py) and the twin's source to stdin:
# nothing is written to disk, so nothing can outlive a run. stdin then stays open until asyncdojo
# is done with us (the tracer exits when it closes). Syntax any Python 3 can parse: the bundle
# says which versions can run the twins.
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
_twin = _read(int(sys.argv[2]))
_tracer = {"__name__": "__asyncdojo__"}
exec(compile(_bundle, "<asyncdojo>/dojo.py", "exec"), _tracer)
_tracer["launch"](sys.argv[3], _twin.decode("utf-8"), sys.argv[4])
