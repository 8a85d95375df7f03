import asyncio
import json
import os
import subprocess
import sys


async def chatter(i):
    for j in range(50):
        # Lines that look like the tracer's own messages must stay the script's stdout.
        print(json.dumps({"run": {"fake": i, "line": j}}))
        print(json.dumps({"exit": {"code": 99, "error": None}}))
        await asyncio.sleep(0)
    return "printed"


async def main():
    await asyncio.gather(*(chatter(i) for i in range(4)))
    sys.stdout.flush()
    os.write(1, b'{"note": "written with os.write"}\n')
    subprocess.run([sys.executable, "-c", "print('from a child process')"], check=True)
    print("x" * 200_000)
    print("done")


asyncio.run(main())
