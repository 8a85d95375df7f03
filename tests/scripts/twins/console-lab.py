"""twins/console-lab.py as a learner would write it: no tracer. Debug mode reports on stderr
(the twin turns its reports into marks)."""

import asyncio
import sys
import time


async def ticker(ticks):
    while True:
        await asyncio.sleep(0.1)
        ticks[0] += 1


async def long_poll(block_ms):
    while True:
        await asyncio.sleep(1)
        time.sleep(block_ms / 1000)  # CPU work: holds the thread


async def self_waker(self_wakes, woke):
    while True:
        for _ in range(self_wakes):
            woke[0] += 1
            await asyncio.sleep(0)
        await asyncio.sleep(0.5)


async def lost_waker():
    await asyncio.get_running_loop().create_future()


async def never_finishes(never):
    await never.wait()


async def send_stats():
    await asyncio.sleep(0.25)
    raise ConnectionError("the stats server is unreachable")


async def lab(run_ms, block_ms, self_wakes):
    ticks, woke = [0], [0]
    never = asyncio.Event()
    tasks = [
        asyncio.create_task(ticker(ticks), name="ticker"),
        asyncio.create_task(long_poll(block_ms), name="long poll"),
        asyncio.create_task(self_waker(self_wakes, woke), name="self-waker"),
        asyncio.create_task(lost_waker(), name="lost waker"),
        asyncio.create_task(never_finishes(never), name="never finishes"),
    ]
    asyncio.create_task(send_stats(), name="fire and forget")
    await asyncio.sleep(run_ms / 1000)
    print("ticks:", ticks[0], "self-wakes:", woke[0])
    return tasks


async def main(variant="inspect", run_ms=30000, block_ms=300, self_wakes=100):
    loop = asyncio.get_running_loop()
    loop.set_debug(True)
    await asyncio.sleep(0)
    await lab(run_ms, block_ms, self_wakes)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:2]))
