import asyncio
import threading


async def background():
    await asyncio.sleep(0.01)
    return "done in the background"


async def main():
    await asyncio.create_task(asyncio.sleep(0.02), name="foreground")


def in_a_thread():
    print(asyncio.run(background()))


t = threading.Thread(target=in_a_thread, name="worker-thread")
t.start()
t.join()
asyncio.run(main())
