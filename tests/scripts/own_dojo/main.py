import asyncio

import dojo


async def main():
    await asyncio.sleep(0.01)
    print("dojo is", dojo.WHOSE)


asyncio.run(main())
