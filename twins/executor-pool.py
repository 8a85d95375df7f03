"""A starved thread pool: the asyncio twin of the `executor-pool` demo."""

import asyncio
import concurrent.futures

import dojo


def blocking_call(job_ms, handed_over, loop):
    """One blocking call (a driver's query, a file read), run on a worker thread."""
    # The job runs from here: until a thread was free it waited in the executor's queue.
    waited_ms = round((loop.time() - handed_over) * 1000, 3)
    # time.sleep(job_ms / 1000), as dojo.block (on the virtual clock only this worker thread
    # waits for the clock to move on): the thread is held, the event loop is not.
    dojo.block(job_ms)
    return waited_ms


async def job(job_ms, handed_over, waits):
    loop = asyncio.get_running_loop()
    waited_ms = await asyncio.to_thread(blocking_call, job_ms, handed_over, loop)
    waits.append(waited_ms)
    return f"waited {int(waited_ms)} ms for a thread"


async def ticker(tick_ms, done):
    """Ticks every tick_ms until the jobs are done, and measures the gap since the previous
    tick: a gap longer than the period would mean something held the loop's thread."""
    loop = asyncio.get_running_loop()
    last, max_gap_ms, n = None, 0.0, 0
    while True:
        now = loop.time()
        if last is not None:
            gap_ms = round((now - last) * 1000, 3)
            max_gap_ms = max(max_gap_ms, gap_ms)
            dojo.series("tick_gap_ms", gap_ms)
        last = now
        n += 1
        dojo.mark(f"tick {n}")
        try:
            # Wait for the next tick, unless the jobs are done first.
            async with asyncio.timeout_at(now + tick_ms / 1000):
                await done.wait()
            break
        except TimeoutError:
            pass
    dojo.metric("max_tick_gap_ms", int(max_gap_ms))
    return f"{n} ticks, longest gap {int(max_gap_ms)} ms"


async def main(variant="starved", jobs=6, workers=2, job_ms=100, tick_ms=40):
    loop = asyncio.get_running_loop()
    # to_thread runs on the loop's default executor: `workers` threads (starved) or one per job.
    threads = workers if variant == "starved" else jobs
    loop.set_default_executor(concurrent.futures.ThreadPoolExecutor(max_workers=threads))
    done = asyncio.Event()
    ticking = asyncio.create_task(ticker(tick_ms, done), name="ticker")
    handed_over = loop.time()
    waits = []
    async with asyncio.TaskGroup() as tg:
        for k in range(1, jobs + 1):
            tg.create_task(job(job_ms, handed_over, waits), name=f"job {k}")
    done.set()
    await ticking
    dojo.metric("last_start_ms", int(max(waits)))


if __name__ == "__main__":
    # The executor's jobs hold their worker threads with dojo.block: time them on the virtual clock.
    dojo.run(main, variants=("starved", "sized"), time_threads=True)
