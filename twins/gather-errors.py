"""When one child fails: the asyncio twin of the `gather-errors` demo."""

import asyncio

import dojo


class ChildFailed(Exception):
    """What the failing child raises."""


async def child(latency_ms, fails):
    """One child: it waits its latency (a timer stands in for the network), then answers, or
    raises if it is the failing one."""
    await asyncio.sleep(latency_ms / 1000)
    if fails:
        dojo.mark("the child fails")
        raise ChildFailed(f"failed after {latency_ms} ms")
    return f"{latency_ms} ms"


class Children:
    """The failing child first, then the others in order; `start` makes each a named Task and
    keeps the tasks, so main can see which are left running once the caller has returned."""

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
        # gather raised the first error and stopped nothing: cancel the rest ourselves
        # (cancelling the gather now would do nothing, it is already done). cancel() only asks:
        # each task stops at its next step, after we have returned, and nobody waits for it.
        for task in tasks:
            task.cancel()
        raise ChildFailed(f"the first error: {first}") from None
    return f"{len(answers)} answers"


async def gather_all(children):
    # Waits for every child; an exception comes back in its slot, as a value. Nothing is
    # cancelled.
    results = await asyncio.gather(*children.start(), return_exceptions=True)
    failed = sum(isinstance(r, BaseException) for r in results)
    return f"{len(results) - failed} ok, {failed} failed"


async def task_group(children):
    try:
        async with asyncio.TaskGroup() as tg:
            children.start(tg.create_task)
    except* ChildFailed as group:
        # When the first child raised, the TaskGroup cancelled the others and waited for them;
        # only then does it raise an ExceptionGroup of every error, caught here.
        dojo.mark("the others are cancelled")
        raise ChildFailed(f"the first error: {group.exceptions[0]}") from None
    return "every child answered"


async def plain_gather(children):
    # The first exception propagates out of gather at once, and that is all: the other
    # children are not cancelled and keep running after we have returned.
    answers = await asyncio.gather(*children.start())
    return f"{len(answers)} answers"


async def main(variant="try-join-all", fail_ms=100, latencies_ms=(200, 300, 400)):
    loop = asyncio.get_running_loop()
    start = loop.time()
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
        await dojo.lane("caller", caller)
    except ChildFailed:
        pass  # the caller's lane shows its error
    returned_ms = round((loop.time() - start) * 1000, 3)
    left_running = [t for t in children.tasks if not t.done()]
    if left_running:
        # The event loop runs them on after their caller has returned: wait, so the run shows
        # where they end.
        await asyncio.wait(left_running)
    tasks = children.tasks
    cancelled = sum(t.cancelled() for t in tasks)
    failed = sum(not t.cancelled() and t.exception() is not None for t in tasks)
    dojo.metric("completed", len(tasks) - cancelled - failed)
    dojo.metric("failed", failed)
    dojo.metric("cancelled", cancelled)
    dojo.metric("caller_returned_ms", returned_ms)
    dojo.metric("left_running", len(left_running))


if __name__ == "__main__":
    dojo.run(main, variants=("try-join-all", "join-all", "join-set-abort", "detached"))
