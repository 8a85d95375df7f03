"""Spawn vs await: the asyncio twin of the `spawn-vs-await` demo."""

import asyncio

import dojo


async def child_work(work_ms):
    """The child's job: `work_ms` of waiting (a timer stands in for I/O)."""
    dojo.mark("child starts")
    await asyncio.sleep(work_ms / 1000)
    return f"{work_ms} ms of work"


async def await_later(work_ms, main_ms):
    # Only a coroutine object: nothing runs until someone awaits it.
    child = dojo.lane("child", child_work(work_ms))
    await asyncio.sleep(main_ms / 1000)  # main's own work
    dojo.mark("main's work done: await the child")
    await child  # the child starts only now: main_ms + work_ms in all


async def spawn(work_ms, main_ms):
    # create_task hands the child to the event loop: it starts as soon as main awaits anything.
    child = asyncio.create_task(child_work(work_ms), name="child")
    await asyncio.sleep(main_ms / 1000)  # main's own work, while the child runs
    dojo.mark("main's work done: join the child")
    await child  # max(main_ms, work_ms) in all


async def spawn_then_cancel(work_ms, abort_after_ms):
    child = asyncio.create_task(child_work(work_ms), name="child")
    await asyncio.sleep(abort_after_ms / 1000)
    # cancel() throws CancelledError into the child at its current await.
    child.cancel()
    dojo.mark("abort the child")
    await asyncio.wait([child])  # until it has really stopped, without re-raising
    dojo.mark("child cancelled" if child.cancelled() else "child had already finished")


async def main(variant="await", work_ms=300, main_ms=100, abort_after_ms=150):
    match variant:
        case "await":
            await await_later(work_ms, main_ms)
        case "spawn":
            await spawn(work_ms, main_ms)
        case "abort":
            await spawn_then_cancel(work_ms, abort_after_ms)


if __name__ == "__main__":
    dojo.run(main, variants=("await", "spawn", "abort"))
