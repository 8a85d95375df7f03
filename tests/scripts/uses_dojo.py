"""A twin-shaped program, as a lesson saves it: dojo's API, two variants, one that fails."""

import asyncio
import importlib
import sys

import dojo


async def worker(ms: int) -> str:
    dojo.mark("started")
    dojo.series("busy", 1)
    dojo.block(ms / 2)
    await asyncio.sleep(ms / 2000)
    dojo.series("busy", 0)
    return f"{ms} ms"


async def main(variant: str = "fast", ms: int = 40) -> None:
    if variant == "broken":
        await asyncio.sleep(0.01)
        raise ValueError("broken on purpose")
    async with asyncio.TaskGroup() as tg:
        tg.create_task(worker(ms if variant == "fast" else 2 * ms), name="worker")
        await dojo.lane("inline", asyncio.sleep(ms / 1000))
    dojo.metric("ms", ms)
    try:
        importlib.import_module("dojo.core")
    except ImportError:
        print("only dojo itself is importable")
    print("modules:", sorted(m for m in sys.modules if "dojo" in m))


if __name__ == "__main__":
    dojo.run(main, variants=("fast", "slow", "broken"))
