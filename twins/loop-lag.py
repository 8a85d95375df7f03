"""Measuring event-loop lag: the asyncio twin of the `loop-lag` demo."""

import asyncio

import dojo


def ms_since(start):
    """Milliseconds on the event loop's clock since `start` (a loop.time()), to the µs."""
    return round((asyncio.get_running_loop().time() - start) * 1000, 3)


async def monitor(tick_ms, threshold_ms, run_ms, second_tick):
    """Sleep tick_ms in a loop; the lag is how much later than asked each wake-up came. Nothing
    else can make a timer late on an idle loop: lag means something held the thread."""
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
        dojo.series("lag_ms", lag_ms)
        if lag_ms > threshold_ms:
            flagged += 1
            dojo.mark(f"tick {ticks}: {int(lag_ms)} ms late")
        if ticks == 2:
            second_tick.set()  # let the heavy task loose
    dojo.metric("max_lag_ms", int(max_lag_ms))
    dojo.metric("flagged", flagged)
    dojo.metric("ticks", ticks)
    return f"{ticks} ticks, {flagged} flagged"


async def heavy(heavy_ms, second_tick):
    """Holds the thread (CPU work, a blocking call): no other task on this loop can run,
    including the monitor whose timer is already due."""
    await second_tick.wait()
    dojo.mark("holding the thread")
    dojo.block(heavy_ms)
    return f"held the thread {heavy_ms} ms"


async def main(variant="monitor", tick_ms=50, heavy_ms=200, threshold_ms=20, run_ms=500):
    second_tick = asyncio.Event()
    heavy_task = asyncio.create_task(heavy(heavy_ms, second_tick), name="heavy")
    monitor_task = asyncio.create_task(
        monitor(tick_ms, threshold_ms, run_ms, second_tick), name="monitor"
    )
    await monitor_task
    # A run too short for a 2nd tick never lets the heavy task go: stop it.
    heavy_task.cancel()
    await asyncio.wait([heavy_task])


if __name__ == "__main__":
    dojo.run(main, variants=("monitor",))
