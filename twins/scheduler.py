"""A tiny scheduler: the asyncio twin of the `scheduler` demo."""

import asyncio

import dojo


def ms_since(start):
    """Milliseconds on the event loop's clock since `start` (a loop.time()), to the µs."""
    return round((asyncio.get_running_loop().time() - start) * 1000, 3)


async def job(job_ms, starts, start):
    """One run of a job: job_ms of (async) work."""
    starts.append(ms_since(start))
    dojo.mark(f"run {len(starts)}")
    await asyncio.sleep(job_ms / 1000)


async def fixed_rate(interval_ms, job_ms, starts, start):
    """Fixed rate: runs are due on the grid start + k * interval, however long they take. A late
    run starts at once and the grid points it overran are skipped, not made up back to back
    (tokio's MissedTickBehavior::Skip, which also counts up to 5 ms late as on time)."""
    due = 0
    while True:
        now = ms_since(start)
        if due > now:
            await asyncio.sleep((due - now) / 1000)
        if now > due + 5:
            due = now + interval_ms - (now - due) % interval_ms
        else:
            due += interval_ms
        await job(job_ms, starts, start)


async def fixed_delay(interval_ms, job_ms, starts, start):
    """Fixed delay: wait interval_ms after each run ends, so every run adds job_ms of drift."""
    while True:
        await job(job_ms, starts, start)
        await asyncio.sleep(interval_ms / 1000)


async def once(once_delay_ms, job_ms):
    """A one-shot job: once, after once_delay_ms."""
    await asyncio.sleep(once_delay_ms / 1000)
    dojo.mark("once")
    await asyncio.sleep(job_ms / 1000)
    return "ran once"


async def cancel_all(tasks):
    """Cancel every task, then wait until each has really stopped: cancel() only asks, and a
    task stops at its next await. After this returns none of them can run again."""
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def main(variant="fixed-rate", interval_ms=100, job_ms=30, once_delay_ms=250, cancel_at_ms=970):
    start = asyncio.get_running_loop().time()
    starts = []
    recurring = fixed_rate if variant == "fixed-rate" else fixed_delay
    tasks = [
        asyncio.create_task(recurring(interval_ms, job_ms, starts, start), name="recurring"),
        asyncio.create_task(once(once_delay_ms, job_ms), name="once"),
    ]
    await asyncio.sleep(cancel_at_ms / 1000)
    dojo.mark("cancel all")
    await cancel_all(tasks)
    # A run due exactly at cancel_at_ms may or may not start before the cancel: count only the
    # runs that started before it.
    started = [at for at in starts if at < cancel_at_ms]
    dojo.metric("recurring_runs", len(started))
    drift = int(started[-1]) - interval_ms * (len(started) - 1) if started else 0
    dojo.metric("drift_ms", drift)


if __name__ == "__main__":
    dojo.run(main, variants=("fixed-rate", "fixed-delay"))
