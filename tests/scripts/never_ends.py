import asyncio


async def tick():
    n = 0
    while True:
        await asyncio.sleep(0.05)
        n += 1


async def main():
    await asyncio.create_task(tick(), name="ticker")


asyncio.run(main())
