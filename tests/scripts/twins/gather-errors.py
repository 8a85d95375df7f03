"""twins/gather-errors.py as a learner would write it: no tracer. The caller is a named Task
awaited at once (the twin gives the coroutine a lane with `dojo.lane`)."""

import asyncio
import sys


class ChildFailed(Exception):
    pass


async def child(latency_ms, fails):
    await asyncio.sleep(latency_ms / 1000)
    if fails:
        raise ChildFailed(f"failed after {latency_ms} ms")
    return f"{latency_ms} ms"


class Children:
    def __init__(self, fail_ms, latencies_ms):
        self.specs = [("failing", fail_ms, True)]
        self.specs += [(f"child {i}", ms, False) for i, ms in enumerate(latencies_ms, 1)]
        self.tasks = []

    def start(self, create_task=asyncio.create_task):
        self.tasks = [create_task(child(ms, fails), name=name) for name, ms, fails in self.specs]
        return self.tasks


async def gather_then_cancel(children):
    tasks = children.start()
    try:
        answers = await asyncio.gather(*tasks)
    except ChildFailed as first:
        for task in tasks:
            task.cancel()
        raise ChildFailed(f"the first error: {first}") from None
    return f"{len(answers)} answers"


async def gather_all(children):
    results = await asyncio.gather(*children.start(), return_exceptions=True)
    failed = sum(isinstance(r, BaseException) for r in results)
    return f"{len(results) - failed} ok, {failed} failed"


async def task_group(children):
    try:
        async with asyncio.TaskGroup() as tg:
            children.start(tg.create_task)
    except* ChildFailed as group:
        raise ChildFailed(f"the first error: {group.exceptions[0]}") from None
    return "every child answered"


async def plain_gather(children):
    answers = await asyncio.gather(*children.start())
    return f"{len(answers)} answers"


async def main(variant="try-join-all", fail_ms=100, latencies_ms=(200, 300, 400)):
    children = Children(fail_ms, latencies_ms)
    match variant:
        case "try-join-all":
            caller = gather_then_cancel(children)
        case "join-all":
            caller = gather_all(children)
        case "join-set-abort":
            caller = task_group(children)
        case "detached":
            caller = plain_gather(children)
    try:
        await asyncio.create_task(caller, name="caller")
    except ChildFailed as e:
        print("the caller failed:", e)
    left_running = [t for t in children.tasks if not t.done()]
    if left_running:
        await asyncio.wait(left_running)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:2]))
