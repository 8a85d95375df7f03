import asyncio


async def fetch(name, delay_ms, fail=False):
    await asyncio.sleep(delay_ms / 1000)
    if fail:
        raise ValueError("%s failed" % name)
    return name


async def main():
    try:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(fetch("a", 100), name="a")
            tg.create_task(fetch("b", 200, fail=True), name="b")
            tg.create_task(fetch("c", 500), name="c")
    except* ValueError as eg:
        print("caught", [str(e) for e in eg.exceptions])


asyncio.run(main())
