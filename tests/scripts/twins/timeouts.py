"""twins/timeouts.py as a learner would write it: no tracer."""

import asyncio
import sys


async def call(latency_ms):
    await asyncio.sleep(latency_ms / 1000)


async def with_timeout(latency_ms, limit_ms):
    try:
        async with asyncio.timeout(limit_ms / 1000):
            await call(latency_ms)
    except TimeoutError:
        raise TimeoutError(f"no answer within {limit_ms} ms") from None
    return f"answered in {latency_ms} ms"


async def with_wait_for(latency_ms, limit_ms):
    try:
        await asyncio.wait_for(call(latency_ms), limit_ms / 1000)
    except TimeoutError:
        raise TimeoutError(f"no answer within {limit_ms} ms") from None
    return f"answered in {latency_ms} ms"


async def each_with_limit(latencies_ms, limit_ms, op):
    tasks = [
        asyncio.create_task(op(latency, limit_ms), name=f"op {i}")
        for i, latency in enumerate(latencies_ms, 1)
    ]
    completed = timed_out = 0
    for next_done in asyncio.as_completed(tasks):
        try:
            await next_done
            completed += 1
        except TimeoutError:
            timed_out += 1
    return completed, timed_out


async def answer(latency_ms):
    await call(latency_ms)
    return f"answered in {latency_ms} ms"


async def one_deadline(latencies_ms, limit_ms):
    tasks = [
        asyncio.create_task(answer(latency), name=f"op {i}")
        for i, latency in enumerate(latencies_ms, 1)
    ]
    completed = timed_out = 0
    try:
        for next_done in asyncio.as_completed(tasks, timeout=limit_ms / 1000):
            await next_done
            completed += 1
    except TimeoutError:
        for task in tasks:
            task.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        timed_out = sum(isinstance(r, asyncio.CancelledError) for r in results)
        completed = len(tasks) - timed_out
    return completed, timed_out


async def main(variant="timeout", latencies_ms=(100, 300, 600), timeout_ms=250):
    match variant:
        case "timeout":
            completed, timed_out = await each_with_limit(latencies_ms, timeout_ms, with_timeout)
        case "select":
            completed, timed_out = await each_with_limit(latencies_ms, timeout_ms, with_wait_for)
        case "deadline-set":
            completed, timed_out = await one_deadline(latencies_ms, timeout_ms)
    print(f"{completed} completed, {timed_out} timed out")


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:2]))
