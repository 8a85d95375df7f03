"""twins/gather.py as a learner would write it: no tracer, `python3 gather.py [VARIANT]`."""

import asyncio
import sys


class Gauge:
    """How many requests are in flight, and the most there ever were."""

    def __init__(self):
        self.now = self.max = 0

    def __enter__(self):
        self.now += 1
        self.max = max(self.max, self.now)

    def __exit__(self, *exc):
        self.now -= 1


async def request(in_flight, latency_ms):
    with in_flight:
        await asyncio.sleep(latency_ms / 1000)
    return f"{latency_ms} ms"


async def sequential(in_flight, latencies_ms):
    for i, latency in enumerate(latencies_ms, 1):
        await asyncio.create_task(request(in_flight, latency), name=f"request {i}")


async def join_all(in_flight, latencies_ms):
    await asyncio.gather(
        *(asyncio.create_task(request(in_flight, latency), name=f"request {i}")
          for i, latency in enumerate(latencies_ms, 1))
    )


async def join_set(in_flight, latencies_ms):
    async with asyncio.TaskGroup() as tg:
        for i, latency in enumerate(latencies_ms, 1):
            tg.create_task(request(in_flight, latency), name=f"request {i}")


async def main(variant="sequential", latencies_ms=(100, 200, 300)):
    in_flight = Gauge()
    match variant:
        case "sequential":
            await sequential(in_flight, latencies_ms)
        case "join-all":
            await join_all(in_flight, latencies_ms)
        case "join-set":
            await join_set(in_flight, latencies_ms)
    print("max in flight:", in_flight.max)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:2]))
