import asyncio


async def divide(a, b):
    await asyncio.sleep(0.1)
    return a / b


async def main():
    print("about to divide")
    await divide(1, 0)


asyncio.run(main())
