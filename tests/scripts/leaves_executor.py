import asyncio
import atexit
import concurrent.futures
import threading

pool = concurrent.futures.ThreadPoolExecutor(max_workers=2)  # never shut down


def work():
    return "from a pool thread"


async def main():
    loop = asyncio.get_running_loop()
    print(await loop.run_in_executor(pool, work))


def late():
    print("atexit handler ran")


atexit.register(late)
threading.Thread(target=lambda: print("a thread the script did not join"), name="unjoined").start()
asyncio.run(main())
