import asyncio


class MyLoop(asyncio.SelectorEventLoop):
    pass


class MyPolicy(asyncio.DefaultEventLoopPolicy):
    def new_event_loop(self):
        return MyLoop()


async def main():
    await asyncio.sleep(0.01)
    print("ran on", type(asyncio.get_running_loop()).__name__)


asyncio.set_event_loop_policy(MyPolicy())
asyncio.run(main())
