"""twins/lazy-futures.py as a learner would write it: no tracer. The coroutines are awaited in
place, so (unlike the twin's `dojo.lane`s) they have no lanes of their own."""

import asyncio
import sys


async def work(duration_ms):
    print("first poll: the body starts")
    await asyncio.sleep(duration_ms / 1000)
    return f"{duration_ms} ms of work"


async def lazy(delay_ms, work_ms):
    loop = asyncio.get_running_loop()
    start = loop.time()
    at_once = work(work_ms)
    later = work(work_ms)
    never = work(work_ms)
    await at_once
    await asyncio.sleep(max(0.0, start + delay_ms / 1000 - loop.time()))
    await later
    never.close()  # dropped without ever running (close() spares us the warning)


async def main(variant="lazy", delay_ms=200, work_ms=100):
    await lazy(delay_ms, work_ms)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:2]))
