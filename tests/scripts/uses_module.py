import asyncio
import json

from lib import jobs


async def main():
    a = jobs.start(100)
    b = asyncio.create_task(jobs.job(50), name="direct")
    await asyncio.gather(a, b)
    print(json.dumps({"fake": "files"}))


asyncio.run(main())
