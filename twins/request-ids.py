"""Request ids across tasks and threads: the asyncio twin of the `request-ids` demo."""

import asyncio
import contextvars

import dojo

# The request id, set in each request's Task: every Task has a context of its own.
request_id: contextvars.ContextVar[int | None] = contextvars.ContextVar("request_id", default=None)

# The `global` variant's one slot for the whole server.
current_request: int | None = None


class Tally:
    """How many places saw another request's id, and how many saw none."""

    def __init__(self):
        self.wrong = 0
        self.missing = 0

    def seen(self, place, own, seen):
        """The mark's label for what `place` saw (`log: request=2`), counted if it is not `own`."""
        if seen is None:
            self.missing += 1
        elif seen != own:
            self.wrong += 1
        return f"{place}: request={'none' if seen is None else seen}"


def read_global():
    return current_request


async def lookup(tally, own, work_ms, read):
    """A child task's work: a lookup (a timer stands in for the database), then a log line with
    the id that `read` finds there."""
    await asyncio.sleep(work_ms / 1000)
    dojo.mark(tally.seen("lookup", own, read()))
    return ""


async def with_context_var(tally, rid, work_ms, to_thread):
    request_id.set(rid)  # this Task's context only
    dojo.mark(f"set request={rid}")
    # create_task copies the current context into the child, id included.
    await asyncio.create_task(lookup(tally, rid, work_ms, request_id.get), name=f"lookup {rid}")
    if to_thread:
        # to_thread runs the call in a copy of this context: the thread reads the id.
        in_thread = await asyncio.to_thread(request_id.get)
    else:
        # run_in_executor runs it in the worker thread's own context: the default, None.
        in_thread = await asyncio.get_running_loop().run_in_executor(None, request_id.get)
    dojo.mark(tally.seen("thread", rid, in_thread))
    await asyncio.sleep(work_ms / 1000)  # the request's own I/O, while the others run
    dojo.mark(tally.seen("log", rid, request_id.get()))
    return f"request {rid}"


async def with_global(tally, rid, work_ms):
    global current_request
    current_request = rid  # the one slot every request writes
    dojo.mark(f"set request={rid}")
    await asyncio.create_task(lookup(tally, rid, work_ms, read_global), name=f"lookup {rid}")
    in_thread = await asyncio.to_thread(read_global)
    dojo.mark(tally.seen("thread", rid, in_thread))
    await asyncio.sleep(work_ms / 1000)  # meanwhile the other requests write the slot
    dojo.mark(tally.seen("log", rid, read_global()))
    return f"request {rid}"


async def serve(variant, requests, arrival_gap_ms, work_ms):
    """The server: a request arrives every arrival_gap_ms, each a Task of its own, all running at
    once."""
    tally = Tally()
    running = []
    for rid in range(1, requests + 1):
        if rid > 1:
            await asyncio.sleep(arrival_gap_ms / 1000)  # until the next request arrives
        match variant:
            case "task-local":
                request = with_context_var(tally, rid, work_ms, to_thread=True)
            case "executor":
                request = with_context_var(tally, rid, work_ms, to_thread=False)
            case "global":
                request = with_global(tally, rid, work_ms)
        running.append(asyncio.create_task(request, name=f"request {rid}"))
    for task in running:
        await task
    return tally


async def main(variant="task-local", requests=3, arrival_gap_ms=10, work_ms=100):
    tally = await serve(variant, requests, arrival_gap_ms, work_ms)
    dojo.metric("wrong_ids", tally.wrong)
    dojo.metric("missing_ids", tally.missing)


if __name__ == "__main__":
    dojo.run(main, variants=("task-local", "executor", "global"))
