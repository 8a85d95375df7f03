"""Coroutines are lazy: the asyncio twin of the `lazy-futures` demo."""

import asyncio

import dojo


async def work(duration_ms):
    """Some work. Its body, this first line included, runs only when the coroutine is awaited."""
    dojo.mark("first poll: the body starts")
    await asyncio.sleep(duration_ms / 1000)
    return f"{duration_ms} ms of work"


async def lazy(delay_ms, work_ms):
    loop = asyncio.get_running_loop()
    start = loop.time()
    # Calling an async function only builds a coroutine object: none of the three has started.
    at_once = dojo.lane("awaited at once", work(work_ms))
    later = dojo.lane("awaited later", work(work_ms))
    never = dojo.lane("never awaited", work(work_ms))
    dojo.mark("three futures created")

    # Awaiting runs it: from 0 to work_ms.
    await at_once
    # Main waits until delay_ms after the start; `later` sits there, not running.
    await asyncio.sleep(max(0.0, start + delay_ms / 1000 - loop.time()))
    # Its body starts now: it runs from delay_ms to delay_ms + work_ms.
    await later
    # Dropped without ever being awaited: its body never ran, and Python warns about it.
    del never
    dojo.mark("never-awaited future dropped: it never started")


async def main(variant="lazy", delay_ms=200, work_ms=100):
    await lazy(delay_ms, work_ms)
    # The tracer saw every step of every lane: count the never-awaited one's.
    dojo.metric("never_awaited_polls", dojo.polls("never awaited"))


if __name__ == "__main__":
    dojo.run(main, variants=("lazy",))
