"""The event loop: one thread, many tasks. The asyncio twin of the `event-loop` demo."""

import asyncio

import dojo


async def worker(running, steps, work_ms, wait_ms):
    """`steps` rounds of CPU work that holds the thread, then an await that gives it back."""
    for step in range(1, steps + 1):
        # No await in here: until the work is done, nothing else runs on this thread.
        with running:
            dojo.block(work_ms)
        dojo.mark(f"step {step} done: await")
        # The await is where this task hands the thread back to the event loop,
        # which runs whichever task is ready next.
        await asyncio.sleep(wait_ms / 1000)
    return f"{steps} steps"


async def main(variant="current-thread", tasks=3, steps=3, work_ms=20, wait_ms=50, workers=2):
    running = dojo.gauge("running")
    async with asyncio.TaskGroup() as tg:
        for i in range(1, tasks + 1):
            tg.create_task(worker(running, steps, work_ms, wait_ms), name=f"task {i}")
        # The tasks start once main awaits (at the end of this block) and gives the thread up.
    dojo.metric("max_running", running.max)


if __name__ == "__main__":
    dojo.run(main, variants=("current-thread",))
