"""Sequential awaits vs gather vs a TaskGroup: the asyncio twin of the `gather` demo."""

import asyncio

import dojo


async def request(in_flight: dojo.Gauge, latency_ms: int) -> str:
    """One request: wait its latency (a timer stands in for the network)."""
    with in_flight:
        await asyncio.sleep(latency_ms / 1000)
    dojo.mark("response")
    return f"{latency_ms} ms"


async def sequential(in_flight, latencies_ms):
    for i, latency in enumerate(latencies_ms, 1):
        # Each await finishes before the next request even starts.
        await dojo.lane(f"request {i}", request(in_flight, latency))


async def join_all(in_flight, latencies_ms):
    # gather wraps every coroutine in a Task and waits until all are done.
    await asyncio.gather(
        *(dojo.lane(f"request {i}", request(in_flight, latency))
          for i, latency in enumerate(latencies_ms, 1))
    )


async def join_set(in_flight, latencies_ms):
    # A TaskGroup: each request is a named task; leaving the block waits for them all.
    async with asyncio.TaskGroup() as tg:
        for i, latency in enumerate(latencies_ms, 1):
            tg.create_task(request(in_flight, latency), name=f"request {i}")


async def main(variant="sequential", latencies_ms=(100, 200, 300)):
    in_flight = dojo.gauge("in_flight")
    match variant:
        case "sequential":
            await sequential(in_flight, latencies_ms)
        case "join-all":
            await join_all(in_flight, latencies_ms)
        case "join-set":
            await join_set(in_flight, latencies_ms)
    dojo.metric("max_in_flight", in_flight.max)


if __name__ == "__main__":
    dojo.run(main, variants=("sequential", "join-all", "join-set"))
