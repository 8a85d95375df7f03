"""Bounding concurrency with a semaphore: the asyncio twin of the `semaphore` demo."""

import asyncio

import dojo


async def task(semaphore, waiting, in_flight, work_ms):
    waiting.enter()
    # Waits while all permits are out; permits go to the waiters in the order they asked.
    async with semaphore:
        waiting.leave()
        dojo.mark("permit acquired")
        with in_flight:
            await asyncio.sleep(work_ms / 1000)
    # Leaving the block hands the permit back and wakes the first task still waiting.
    return f"{work_ms} ms of work"


async def main(variant="fifo", tasks=8, permits=3, work_ms=100):
    waiting = dojo.gauge("waiting")
    in_flight = dojo.gauge("in_flight")
    semaphore = asyncio.Semaphore(permits)
    async with asyncio.TaskGroup() as tg:
        for k in range(1, tasks + 1):
            tg.create_task(task(semaphore, waiting, in_flight, work_ms), name=f"task {k}")
    dojo.metric("max_in_flight", in_flight.max)


if __name__ == "__main__":
    dojo.run(main, variants=("fifo",))
