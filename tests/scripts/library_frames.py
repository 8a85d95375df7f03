import asyncio
import concurrent.futures


def fails():
    raise KeyError("missing")


async def main():
    loop = asyncio.get_running_loop()
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        await loop.run_in_executor(pool, fails)


asyncio.run(main())
