"""2,000 workers x 10 awaits, behind a semaphore, fed by a bounded queue."""
import asyncio
import sys

WORKERS = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
AWAITS = int(sys.argv[2]) if len(sys.argv) > 2 else 10


async def worker(i, sem, queue):
    got = 0
    for _ in range(AWAITS):
        async with sem:
            await asyncio.sleep(0)
        item = await queue.get()
        got += item
    return got


async def feeder(queue, n):
    for i in range(n):
        await queue.put(i)


async def main():
    sem = asyncio.Semaphore(100)
    queue = asyncio.Queue(maxsize=64)
    feed = asyncio.create_task(feeder(queue, WORKERS * AWAITS), name="feeder")
    workers = [asyncio.create_task(worker(i, sem, queue), name="worker %d" % i)
               for i in range(WORKERS)]
    total = sum(await asyncio.gather(*workers))
    await feed
    print(total)


asyncio.run(main())
