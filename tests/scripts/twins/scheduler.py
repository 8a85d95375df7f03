"""twins/scheduler.py as a learner would write it: no tracer."""

import asyncio
import sys


def ms_since(start):
    return round((asyncio.get_running_loop().time() - start) * 1000, 3)


async def job(job_ms, starts, start):
    starts.append(ms_since(start))
    await asyncio.sleep(job_ms / 1000)


async def fixed_rate(interval_ms, job_ms, starts, start):
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
    while True:
        await job(job_ms, starts, start)
        await asyncio.sleep(interval_ms / 1000)


async def once(once_delay_ms, job_ms):
    await asyncio.sleep(once_delay_ms / 1000)
    await asyncio.sleep(job_ms / 1000)
    return "ran once"


async def cancel_all(tasks):
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def main(variant="fixed-rate", interval_ms=100, job_ms=30, once_delay_ms=250,
               cancel_at_ms=970):
    start = asyncio.get_running_loop().time()
    starts = []
    recurring = fixed_rate if variant == "fixed-rate" else fixed_delay
    tasks = [
        asyncio.create_task(recurring(interval_ms, job_ms, starts, start), name="recurring"),
        asyncio.create_task(once(once_delay_ms, job_ms), name="once"),
    ]
    await asyncio.sleep(cancel_at_ms / 1000)
    await cancel_all(tasks)
    print("runs started:", [at for at in starts if at < cancel_at_ms])


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:2]))
