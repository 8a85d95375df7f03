import asyncio


async def producer(queue, n):
    for i in range(n):
        await queue.put(i)
        await asyncio.sleep(0.010)
    await queue.put(None)


async def consumer(queue):
    seen = 0
    while True:
        item = await queue.get()
        if item is None:
            return "consumed %d" % seen
        await asyncio.sleep(0.030)
        seen += 1


async def main():
    queue = asyncio.Queue(maxsize=2)
    prod = asyncio.create_task(producer(queue, 5), name="producer")
    cons = asyncio.create_task(consumer(queue), name="consumer")
    await prod
    print(await cons)


asyncio.run(main())
