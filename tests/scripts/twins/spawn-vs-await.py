"""twins/spawn-vs-await.py as a learner would write it: no tracer. In `await` the child is a
coroutine awaited in place: no lane of its own (the twin gives it one with `dojo.lane`)."""

import asyncio
import sys


async def child_work(work_ms):
    await asyncio.sleep(work_ms / 1000)
    return f"{work_ms} ms of work"


async def await_later(work_ms, main_ms):
    child = child_work(work_ms)
    await asyncio.sleep(main_ms / 1000)
    await child


async def spawn(work_ms, main_ms):
    child = asyncio.create_task(child_work(work_ms), name="child")
    await asyncio.sleep(main_ms / 1000)
    await child


async def spawn_then_cancel(work_ms, abort_after_ms):
    child = asyncio.create_task(child_work(work_ms), name="child")
    await asyncio.sleep(abort_after_ms / 1000)
    child.cancel()
    await asyncio.wait([child])
    print("child cancelled" if child.cancelled() else "child had already finished")


async def main(variant="await", work_ms=300, main_ms=100, abort_after_ms=150):
    match variant:
        case "await":
            await await_later(work_ms, main_ms)
        case "spawn":
            await spawn(work_ms, main_ms)
        case "abort":
            await spawn_then_cancel(work_ms, abort_after_ms)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:2]))
