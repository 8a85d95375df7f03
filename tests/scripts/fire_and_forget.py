import asyncio
import gc


async def fails():
    raise ConnectionError("nobody is listening")


async def main():
    asyncio.create_task(fails(), name="forgotten")
    await asyncio.sleep(0.1)
    gc.collect()  # the failed task is gone: the loop says its exception was never retrieved
    await asyncio.sleep(0.1)


asyncio.run(main())
