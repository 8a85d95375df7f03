"""twins/blocking.py as a learner would write it: no tracer."""

import asyncio
import sys
import time


async def ticker(tick_ms, ticks, block_after, go):
    loop = asyncio.get_running_loop()
    last, max_gap_ms = None, 0.0
    for n in range(1, ticks + 1):
        if n > 1:
            await asyncio.sleep(tick_ms / 1000)
        if last is not None:
            max_gap_ms = max(max_gap_ms, round((loop.time() - last) * 1000, 3))
        last = loop.time()
        if n == block_after:
            go.set()
    return f"longest gap {int(max_gap_ms)} ms"


async def blocker(how, block_ms, go):
    await go.wait()
    match how:
        case "blocking":
            time.sleep(block_ms / 1000)  # holds the thread: the ticker waits too
        case "async-sleep":
            await asyncio.sleep(block_ms / 1000)
        case "spawn-blocking":
            await asyncio.to_thread(time.sleep, block_ms / 1000)
    return f"slept {block_ms} ms"


async def main(variant="blocking", tick_ms=100, block_ms=500, ticks=10, block_after_ticks=2):
    go = asyncio.Event()
    block_after = min(block_after_ticks, ticks)
    async with asyncio.TaskGroup() as tg:
        tg.create_task(ticker(tick_ms, ticks, block_after, go), name="ticker")
        tg.create_task(blocker(variant, block_ms, go), name="blocker")


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:2]))
