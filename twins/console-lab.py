"""Tasks that misbehave, under asyncio's debug mode: the asyncio twin of the `console-lab` demo.

tokio-console watches a running program from outside and lints its tasks. asyncio's own tool is
debug mode (`asyncio.run(main(), debug=True)`, or PYTHONASYNCIODEBUG=1): the event loop itself
logs every step that held the thread longer than `loop.slow_callback_duration`, and says where a
coroutine that was never awaited, or a task whose exception nobody retrieved, was created. This
twin runs the demo's five tasks, and two mistakes only Python reports, with debug mode on, and
records what it reports as marks on the timeline.
"""

import asyncio
import logging
import re
import warnings

import dojo

HERE = __file__
DEBUG_LOG = logging.getLogger("asyncio")  # where debug mode writes


def created_at(text):
    """The line of this file where debug mode says an object was created (its traceback's last
    frame here), or None: without debug mode there is no traceback."""
    lines = re.findall(r'File "(.*)", line (\d+)', text)
    mine = [int(n) for file, n in lines if file == HERE]
    return mine[-1] if mine else None


def where(text):
    line = created_at(text)
    return f" (created at line {line})" if line is not None else ""


class DebugReport(logging.Handler):
    """Each warning or error debug mode logs, as a mark: Python's own words, the object
    named instead of its repr, which differs between versions."""

    def emit(self, record):
        text = record.getMessage()
        if str(record.msg).startswith("Executing") and len(record.args or ()) == 2:
            # A step that held the thread: 'Executing <Task ... name=...> took 0.300 seconds'.
            name = re.search(r"name='([^']*)'", str(record.args[0]))
            what = f"task '{name[1]}'" if name else str(record.args[0])
            dojo.mark(f"Executing {what} took {record.args[1]:.3f} seconds")
        elif text.startswith("Task exception was never retrieved") and record.exc_info:
            name = re.search(r"name='([^']*)'", text)
            exc = record.exc_info[1]
            dojo.mark(
                f"Task exception was never retrieved: '{name[1] if name else '?'}' raised "
                f"{type(exc).__name__}: {exc}{where(text)}"
            )
        else:
            dojo.mark(text.splitlines()[0])


async def ticker(ticks):
    """Healthy: sleeps, wakes, does a little, sleeps again. Debug mode has nothing to say."""
    while True:
        await asyncio.sleep(0.1)
        ticks[0] += 1


async def long_poll(block_ms):
    """Once a second one step holds the thread for block_ms (CPU work, no await inside).
    Debug mode logs every step longer than slow_callback_duration (0.1 s by default)."""
    while True:
        await asyncio.sleep(1)
        dojo.mark("long poll starts")
        dojo.block(block_ms)


async def self_waker(self_wakes, woke):
    """Gives up the thread and is at once ready again, self_wakes times a round: sleep(0)
    schedules the task's own next step. tokio-console lints a task that mostly wakes itself;
    debug mode does not notice."""
    while True:
        for _ in range(self_wakes):
            woke[0] += 1
            await asyncio.sleep(0)
        await asyncio.sleep(0.5)


async def lost_waker():
    """Awaits a future nobody else holds: nothing can ever complete it, so it never runs
    again. tokio-console flags a task that dropped its waker; debug mode cannot tell this
    from waiting."""
    await asyncio.get_running_loop().create_future()


async def never_finishes(never):
    """Waits for an event nobody sets; something could set it, so it is merely idle."""
    await never.wait()


async def announce():
    dojo.mark("lab started")  # never runs: nobody awaits this coroutine


async def send_stats():
    """Meant to run in the background. It fails, and nobody ever looks at its result."""
    await asyncio.sleep(0.25)
    raise ConnectionError("the stats server is unreachable")


async def lab(run_ms, block_ms, self_wakes):
    ticks, woke = [0], [0]
    never = asyncio.Event()
    # The loop keeps only weak references to tasks: these are kept here, or one that waits on
    # what nobody else holds could be collected while the lab runs.
    tasks = [
        asyncio.create_task(ticker(ticks), name="ticker"),
        asyncio.create_task(long_poll(block_ms), name="long poll"),
        asyncio.create_task(self_waker(self_wakes, woke), name="self-waker"),
        asyncio.create_task(lost_waker(), name="lost waker"),
        asyncio.create_task(never_finishes(never), name="never finishes"),
    ]

    # Two mistakes only Python reports. A coroutine called without await never runs:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        announce()
    for w in caught:
        dojo.mark(f"{str(w.message).splitlines()[0]}{where(str(w.message))}")
    # A task nobody keeps or awaits: when it fails and is gone, the loop says so.
    asyncio.create_task(send_stats(), name="fire and forget")

    await asyncio.sleep(run_ms / 1000)
    dojo.metric("ticks", ticks[0])
    dojo.metric("self_wakes", woke[0])
    return tasks  # returning ends the run: the tasks still going are cancelled


async def main(variant="inspect", run_ms=30000, block_ms=300, self_wakes=100):
    loop = asyncio.get_running_loop()
    # What asyncio.run(main(), debug=True) turns on; the loop here is the tracer's, so it is
    # switched on from inside. Debug mode reports through the `asyncio` logger, and through the
    # loop's default exception handler (the tracer installs its own: put the default back).
    loop.set_debug(True)
    await asyncio.sleep(0)  # set from inside, debug mode takes effect at the loop's next turn
    loop.set_exception_handler(None)
    report = DebugReport(logging.WARNING)
    DEBUG_LOG.addHandler(report)
    try:
        await lab(run_ms, block_ms, self_wakes)
    finally:
        DEBUG_LOG.removeHandler(report)


if __name__ == "__main__":
    dojo.run(main, variants=("inspect",))
