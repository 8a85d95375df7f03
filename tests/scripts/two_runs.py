import asyncio


async def first():
    await asyncio.sleep(0.1)


async def second():
    await asyncio.create_task(asyncio.sleep(0.2), name="inner")


asyncio.run(first())
asyncio.run(second())
