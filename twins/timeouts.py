"""Timeouts: asyncio.timeout, wait_for and one deadline for many: the asyncio twin of `timeouts`."""

import asyncio

import dojo


async def call(latency_ms):
    """One operation: it answers after its latency (a timer stands in for the remote side)."""
    await asyncio.sleep(latency_ms / 1000)


async def with_timeout(latency_ms, limit_ms):
    """asyncio.timeout: when the limit passes, the call is cancelled and we get TimeoutError."""
    try:
        async with asyncio.timeout(limit_ms / 1000):
            await call(latency_ms)
    except TimeoutError:
        dojo.mark("timed out")
        raise TimeoutError(f"no answer within {limit_ms} ms") from None
    return f"answered in {latency_ms} ms"


async def with_wait_for(latency_ms, limit_ms):
    """asyncio.wait_for races the call against a timer and cancels the call if the timer wins."""
    try:
        await asyncio.wait_for(call(latency_ms), limit_ms / 1000)
    except TimeoutError:
        dojo.mark("timed out")
        raise TimeoutError(f"no answer within {limit_ms} ms") from None
    return f"answered in {latency_ms} ms"


async def each_with_limit(latencies_ms, limit_ms, op):
    """Every operation is its own task with its own limit; main collects them as they end."""
    tasks = [
        asyncio.create_task(op(latency, limit_ms), name=f"op {i}")
        for i, latency in enumerate(latencies_ms, 1)
    ]
    dojo.series("pending", len(tasks))
    completed = timed_out = 0
    for next_done in asyncio.as_completed(tasks):
        try:
            await next_done
            completed += 1
        except TimeoutError:
            timed_out += 1
        dojo.series("pending", len(tasks) - completed - timed_out)
    return completed, timed_out


async def answer(latency_ms):
    await call(latency_ms)
    return f"answered in {latency_ms} ms"


async def one_deadline(latencies_ms, limit_ms):
    """One deadline for them all: collect what answers in time, then cancel the rest."""
    tasks = [
        asyncio.create_task(answer(latency), name=f"op {i}")
        for i, latency in enumerate(latencies_ms, 1)
    ]
    dojo.series("pending", len(tasks))
    completed = timed_out = 0
    try:
        for next_done in asyncio.as_completed(tasks, timeout=limit_ms / 1000):
            await next_done
            completed += 1
            dojo.series("pending", len(tasks) - completed)
    except TimeoutError:
        # as_completed (like asyncio.wait) stops waiting at the deadline but leaves the slow
        # tasks running: cancel them, then wait until they have really stopped.
        dojo.mark("deadline: abort the rest")
        for task in tasks:
            task.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        timed_out = sum(isinstance(r, asyncio.CancelledError) for r in results)
        completed = len(tasks) - timed_out
    dojo.series("pending", 0)
    return completed, timed_out


async def main(variant="timeout", latencies_ms=(100, 300, 600), timeout_ms=250):
    match variant:
        case "timeout":
            completed, timed_out = await each_with_limit(latencies_ms, timeout_ms, with_timeout)
        case "select":
            completed, timed_out = await each_with_limit(latencies_ms, timeout_ms, with_wait_for)
        case "deadline-set":
            completed, timed_out = await one_deadline(latencies_ms, timeout_ms)
    dojo.metric("completed", completed)
    dojo.metric("timed_out", timed_out)


if __name__ == "__main__":
    dojo.run(main, variants=("timeout", "select", "deadline-set"))
