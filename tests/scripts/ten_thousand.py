import asyncio


async def work(i):
    await asyncio.sleep((i % 10) / 1000)
    return i


async def main():
    tasks = [asyncio.create_task(work(i), name="work %d" % i) for i in range(10_000)]
    total = sum(await asyncio.gather(*tasks))
    print(total)


asyncio.run(main())
