"""Blocking the event loop: the asyncio twin of the `blocking` demo."""

import asyncio
import time

import dojo


def ms_since(start):
    """Milliseconds on the event loop's clock since `start` (a loop.time()), to the µs."""
    return round((asyncio.get_running_loop().time() - start) * 1000, 3)


async def ticker(tick_ms, ticks, block_after, go):
    """Ticks every tick_ms and measures the gap since the previous tick: a gap longer than the
    period means something held the thread when the tick was due."""
    loop = asyncio.get_running_loop()
    last, max_gap_ms = None, 0.0
    for n in range(1, ticks + 1):
        if n > 1:
            # After a late tick, carry on one period later instead of bursting to catch up.
            await asyncio.sleep(tick_ms / 1000)
        if last is not None:
            gap_ms = ms_since(last)
            max_gap_ms = max(max_gap_ms, gap_ms)
            dojo.series("tick_gap_ms", gap_ms)
        last = loop.time()
        dojo.mark(f"tick {n}")
        if n == block_after:
            go.set()  # the blocker starts right after this tick
    dojo.metric("max_tick_gap_ms", int(max_gap_ms))
    return f"longest gap {int(max_gap_ms)} ms"


async def blocker(how, block_ms, go):
    await go.wait()
    dojo.mark("sleep")
    match how:
        case "blocking":
            # time.sleep(block_ms / 1000), as dojo.block: this thread runs nothing else,
            # ticker included, until it returns.
            dojo.block(block_ms)
        case "async-sleep":
            # The task waits; the thread goes back to the event loop and the ticker ticks on time.
            await asyncio.sleep(block_ms / 1000)
        case "spawn-blocking":
            # The blocking call runs on a worker thread; this task just awaits it.
            await asyncio.to_thread(time.sleep, block_ms / 1000)
    dojo.mark("awake")
    return f"slept {block_ms} ms"


async def main(variant="blocking", tick_ms=100, block_ms=500, ticks=10, block_after_ticks=2):
    go = asyncio.Event()
    # Past the last tick there would be no tick to block after.
    block_after = min(block_after_ticks, ticks)
    async with asyncio.TaskGroup() as tg:
        tg.create_task(ticker(tick_ms, ticks, block_after, go), name="ticker")
        tg.create_task(blocker(variant, block_ms, go), name="blocker")


if __name__ == "__main__":
    dojo.run(main, variants=("blocking", "async-sleep", "spawn-blocking"))
