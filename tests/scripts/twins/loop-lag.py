"""twins/loop-lag.py as a learner would write it: no tracer."""

import asyncio
import sys
import time


def ms_since(start):
    return round((asyncio.get_running_loop().time() - start) * 1000, 3)


async def monitor(tick_ms, threshold_ms, run_ms, second_tick):
    loop = asyncio.get_running_loop()
    start = loop.time()
    ticks = flagged = 0
    max_lag_ms = 0.0
    while ms_since(start) < run_ms:
        asked = loop.time()
        await asyncio.sleep(tick_ms / 1000)
        lag_ms = max(0.0, ms_since(asked) - tick_ms)
        ticks += 1
        max_lag_ms = max(max_lag_ms, lag_ms)
        if lag_ms > threshold_ms:
            flagged += 1
            print(f"tick {ticks}: {int(lag_ms)} ms late")
        if ticks == 2:
            second_tick.set()
    return f"{ticks} ticks, {flagged} flagged"


async def heavy(heavy_ms, second_tick):
    await second_tick.wait()
    time.sleep(heavy_ms / 1000)  # holds the thread
    return f"held the thread {heavy_ms} ms"


async def main(variant="monitor", tick_ms=50, heavy_ms=200, threshold_ms=20, run_ms=500):
    second_tick = asyncio.Event()
    heavy_task = asyncio.create_task(heavy(heavy_ms, second_tick), name="heavy")
    monitor_task = asyncio.create_task(
        monitor(tick_ms, threshold_ms, run_ms, second_tick), name="monitor"
    )
    await monitor_task
    heavy_task.cancel()
    await asyncio.wait([heavy_task])


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:2]))
