"""twins/event-loop.py as a learner would write it: no tracer."""

import asyncio
import sys
import time


async def worker(steps, work_ms, wait_ms):
    for step in range(1, steps + 1):
        time.sleep(work_ms / 1000)  # CPU work: nothing else runs on this thread meanwhile
        await asyncio.sleep(wait_ms / 1000)
    return f"{steps} steps"


async def main(variant="current-thread", tasks=3, steps=3, work_ms=20, wait_ms=50):
    async with asyncio.TaskGroup() as tg:
        for i in range(1, tasks + 1):
            tg.create_task(worker(steps, work_ms, wait_ms), name=f"task {i}")


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:2]))
