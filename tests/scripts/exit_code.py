import asyncio
import sys


async def main():
    await asyncio.sleep(0.05)
    return 3


sys.exit(asyncio.run(main()))
