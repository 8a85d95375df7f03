import asyncio


class MyLoop(asyncio.SelectorEventLoop):
    """A loop of the script's own, as a library might install."""


async def main():
    await asyncio.create_task(asyncio.sleep(0.01), name="inside")
    return "ran on " + type(asyncio.get_running_loop()).__name__


with asyncio.Runner(loop_factory=MyLoop) as runner:
    print(runner.run(main()))
