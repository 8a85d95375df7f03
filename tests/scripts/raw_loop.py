import asyncio


async def work():
    await asyncio.sleep(0.05)
    return "worked"


loop = asyncio.new_event_loop()
print(loop.run_until_complete(work()))
loop.close()
