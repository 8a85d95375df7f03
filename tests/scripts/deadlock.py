import asyncio


async def waits_forever(event):
    await event.wait()  # nobody ever sets it


async def main():
    await asyncio.sleep(0.25)
    await asyncio.create_task(waits_forever(asyncio.Event()), name="waiter")


asyncio.run(main())
