import asyncio


async def slow(ms):
    await asyncio.sleep(ms / 1000)
    return "%d ms" % ms


async def with_timeout():
    async with asyncio.timeout(0.1):
        await slow(300)


async def with_wait_for():
    return await asyncio.wait_for(slow(50), timeout=0.2)


async def main():
    a = asyncio.create_task(with_timeout(), name="timeout")
    b = asyncio.create_task(with_wait_for(), name="wait_for")
    c = asyncio.create_task(asyncio.wait_for(slow(400), timeout=0.25), name="wait_for late")
    results = await asyncio.gather(a, b, c, return_exceptions=True)
    print([type(r).__name__ if isinstance(r, BaseException) else r for r in results])


asyncio.run(main())
