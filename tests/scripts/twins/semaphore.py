"""twins/semaphore.py as a learner would write it: no tracer."""

import asyncio
import sys


async def task(semaphore, work_ms):
    async with semaphore:
        await asyncio.sleep(work_ms / 1000)
    return f"{work_ms} ms of work"


async def main(variant="fifo", tasks=8, permits=3, work_ms=100):
    semaphore = asyncio.Semaphore(permits)
    async with asyncio.TaskGroup() as tg:
        for k in range(1, tasks + 1):
            tg.create_task(task(semaphore, work_ms), name=f"task {k}")


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:2]))
