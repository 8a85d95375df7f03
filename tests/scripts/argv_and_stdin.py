import asyncio
import json
import os
import sys


async def main():
    await asyncio.sleep(0)
    print(json.dumps({
        "argv": sys.argv,
        "path0": sys.path[0],
        "stdin": sys.stdin.read(),
        "cwd": os.getcwd(),
        "name": __name__,
        "file": __file__,
    }))


asyncio.run(main())
