"""Runs a snippet as its lesson's `run` field says: `given` first (the context the snippet
assumes), then the snippet, then `then` (what calls a fragment), all in one namespace named
__main__. Each part is compiled under its own file name, so a traceback names the snippet's own
lines. Usage: runner.py GIVEN SNIPPET THEN, with an empty argument for a part that is absent."""

import sys

namespace = {"__name__": "__main__", "__builtins__": __builtins__, "__file__": sys.argv[2]}
for path in sys.argv[1:4]:
    if path:
        with open(path, encoding="utf-8") as source:
            code = compile(source.read(), path, "exec")
        exec(code, namespace)
