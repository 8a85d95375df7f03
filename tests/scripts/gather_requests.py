import asyncio


async def request(i, delay_ms):
    await asyncio.sleep(delay_ms / 1000)
    return "%d ms" % delay_ms


async def main():
    results = await asyncio.gather(
        request(1, 100),
        request(2, 300),
        request(3, 200),
    )
    print(results)


asyncio.run(main())
