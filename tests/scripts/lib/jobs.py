"""A module of the user's own, imported by uses_module.py."""

import asyncio


async def job(ms):
    await asyncio.sleep(ms / 1000)
    return "%d ms" % ms


def start(ms):
    return asyncio.create_task(job(ms), name="job %d" % ms)
