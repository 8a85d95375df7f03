import asyncio
import sys
import os

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import marking  # noqa: E402

import dojo  # noqa: E402


async def main():
    dojo.mark("begin")
    await marking.step(5)


asyncio.run(main())
