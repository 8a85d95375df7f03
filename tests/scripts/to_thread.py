import asyncio
import time


def blocking_io(ms):
    time.sleep(ms / 1000)
    return "slept %d ms" % ms


async def main():
    ticker = asyncio.create_task(asyncio.sleep(0.05), name="ticker")
    result = await asyncio.to_thread(blocking_io, 100)
    await ticker
    print(result)


asyncio.run(main())
