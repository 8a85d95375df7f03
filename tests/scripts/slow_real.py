import asyncio


async def step(i):
    await asyncio.sleep(0.15 * i)
    return i


async def main():
    await asyncio.gather(*(asyncio.create_task(step(i), name="step %d" % i) for i in range(1, 6)))


asyncio.run(main())
asyncio.run(main())
