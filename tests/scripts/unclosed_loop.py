import asyncio


async def work():
    await asyncio.sleep(0.04)
    return "done"


loop = asyncio.new_event_loop()
loop.run_until_complete(work())
pending = loop.create_task(asyncio.sleep(10), name="left waiting")
# The script ends without running the loop again or closing it.
