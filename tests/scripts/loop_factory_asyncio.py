import asyncio
import sys


async def main():
    await asyncio.create_task(asyncio.sleep(0.03), name="nap")


# A loop factory that makes asyncio's own loops: traced like any other.
with asyncio.Runner(loop_factory=asyncio.new_event_loop) as runner:
    runner.run(main())
if sys.version_info >= (3, 12):
    asyncio.run(main(), loop_factory=asyncio.new_event_loop)
else:
    asyncio.run(main())
