import asyncio

import dojo


async def step(n):
    await asyncio.sleep(n / 1000)
    dojo.mark("stepped %d" % n)
