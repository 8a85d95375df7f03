"""twins/select-loop.py as a learner would write it: no tracer (the reader is a named Task
awaited at once, where the twin gives the coroutine a lane of its own).

asyncio has no `select!` that drops the branch that lost. It has two ways to race a read against
a tick. `asyncio.timeout` cancels the read when the tick comes first: CancelledError is thrown
into the reading coroutine and it is abandoned, so what it kept in its local variables is gone,
as a dropped future's are (`recreated`, `buffer-outside`). `asyncio.wait` never cancels what it
waits for: a read that is a Task of its own stays alive across the tick (`pinned`).
"""

import asyncio
import socket

import sys


class Tally:
    """What the loop saw. Its text is the reader's detail."""

    def __init__(self):
        self.received = self.fragments = self.ticks = 0

    def take(self, item):
        if item.startswith(b"item ") and item.endswith(b"\n"):
            self.received += 1
        else:
            # The second half of an item whose first half was lost.
            self.fragments += 1

    def tick(self):
        self.ticks += 1

    def __str__(self):
        return f"{self.received} whole items"


class Ticker:
    """The other branch: a tick every `every` s from one period after the start (a heartbeat,
    a flush, a status line). A tick missed while busy is due at once."""

    def __init__(self, every):
        self.loop = asyncio.get_running_loop()
        self.start, self.every, self.n = self.loop.time(), every, 1

    def deadline(self):
        return self.start + self.n * self.every

    def done(self):
        self.n += 1


async def read_item(reader):
    """Reads one item, up to its newline, a byte at a time; None at the end of the stream. Not
    cancel-safe: the item so far is a local of this coroutine."""
    partial = bytearray()
    try:
        while True:
            byte = await reader.read(1)
            if not byte:
                return bytes(partial) if partial else None
            partial += byte
            if byte == b"\n":
                return bytes(partial)
    except asyncio.CancelledError:
        # Cancelled before the newline came: the bytes go with the coroutine, and the item
        # with them.
        raise


async def recreated(reader, tick_ms):
    ticker, tally = Ticker(tick_ms / 1000), Tally()
    while True:
        try:
            # A new read_item every time round, given until the next tick. When the tick comes
            # first, asyncio.timeout cancels it, with the half item it holds.
            async with asyncio.timeout_at(ticker.deadline()):
                item = await read_item(reader)
        except TimeoutError:
            ticker.done()
            tally.tick()
            continue
        if item is None:
            break
        tally.take(item)
    return tally


async def pinned(reader, tick_ms):
    loop = asyncio.get_running_loop()
    ticker, tally, reads = Ticker(tick_ms / 1000), Tally(), 1
    # The read is a Task, started once: asyncio.wait does not cancel it when the tick comes
    # first, so it is left half-done but alive, and waited for again next time round.
    next_read = asyncio.create_task(read_item(reader), name=f"read {reads}")
    while True:
        until_tick = max(0.0, ticker.deadline() - loop.time())
        done, _ = await asyncio.wait({next_read}, timeout=until_tick)
        if not done:
            ticker.done()
            tally.tick()
            continue
        item = next_read.result()
        if item is None:
            break
        tally.take(item)
        # The next read starts only now, after this one completed.
        reads += 1
        next_read = asyncio.create_task(read_item(reader), name=f"read {reads}")
    return tally


async def read_until(reader, item):
    """Appends to `item` up to a newline (as tokio's read_until does); returns how many bytes
    it added, 0 at the end of the stream. `item` outlives this coroutine: cancelled half-way,
    nothing it read is lost, and the next call carries on where it stopped."""
    added = 0
    while not item.endswith(b"\n"):
        byte = await reader.read(1)
        if not byte:
            break
        item += byte
        added += 1
    return added


async def buffer_outside(reader, tick_ms):
    ticker, tally = Ticker(tick_ms / 1000), Tally()
    # The progress lives out here. (StreamReader.readuntil(b"\n") keeps it in the reader's own
    # buffer, which outlives every round too.)
    item = bytearray()
    while True:
        try:
            async with asyncio.timeout_at(ticker.deadline()):
                added = await read_until(reader, item)
        except TimeoutError:
            ticker.done()
            tally.tick()
            continue
        if added == 0:
            break
        tally.take(bytes(item))
        item.clear()
    return tally


async def send(writer, items, every_ms, item_ms, sent):
    """The peer: item k is written in two halves, the first at (k - 1) * every_ms, the rest
    item_ms later; then the stream is closed."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    for k in range(1, items + 1):
        await asyncio.sleep(max(0.0, start + (k - 1) * every_ms / 1000 - loop.time()))
        item = f"item {k}\n".encode()
        half = len(item) // 2
        writer.write(item[:half])
        await writer.drain()
        await asyncio.sleep(item_ms / 1000)
        writer.write(item[half:])
        await writer.drain()
        sent[0] += 1
    writer.close()
    await writer.wait_closed()
    return f"{items} items sent"


READERS = {"recreated": recreated, "pinned": pinned, "buffer-outside": buffer_outside}


async def main(variant="recreated", items=6, every_ms=100, item_ms=50, tick_ms=120):
    # A byte stream between two ends of a local socket pair; the reader never falls far enough
    # behind for the sender to wait.
    ours, theirs = socket.socketpair()
    reader, writer = await asyncio.open_connection(sock=ours)
    _, peer = await asyncio.open_connection(sock=theirs)
    sent = [0]
    sender = asyncio.create_task(send(peer, items, every_ms, item_ms, sent), name="sender")
    # The reader stops at the end of the stream, which the sender closes when done.
    tally = await asyncio.create_task(READERS[variant](reader, tick_ms), name="reader")
    await sender
    writer.close()
    await writer.wait_closed()
    print(f"sent {sent[0]}, received {tally.received}, ticks {tally.ticks}")


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:2]))
