"""Producer -> bounded queue -> workers -> sink: the asyncio twin of the `pipeline` demo."""

import asyncio
import contextlib
import os
import socket
import tempfile

import dojo


def checksum(text):
    """FNV-1a: the service's "work" result, so the file holds something checkable."""
    h = 0x811C9DC5
    for b in text.encode():
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def payload(n):
    return f"item-{n}"


async def close(writer):
    """Close a stream and wait until it is closed: the socket is really gone when we go on."""
    writer.close()
    with contextlib.suppress(ConnectionError):  # a peer that reset it has closed it too
        await writer.wait_closed()


async def serve(listener, fail, work_ms, stop):
    """The service the workers call: one line in (`ITEM <n> <text>`), one line out after
    work_ms (`OK <n> <result>` or `ERR <n> <reason>`)."""
    conns = []

    async def answer(reader, writer):
        served = 0
        try:
            while line := await reader.readline():
                _, n, text = line.decode().rstrip("\n").split(" ", 2)
                await asyncio.sleep(work_ms / 1000)
                if int(n) in fail:
                    writer.write(f"ERR {n} rejected by the service\n".encode())
                else:
                    writer.write(f"OK {n} {checksum(text):08x}\n".encode())
                await writer.drain()
                served += 1
        finally:
            await close(writer)
        return f"{served} item(s)"

    def accepted(reader, writer):
        name = f"service conn {len(conns) + 1}"
        conns.append(asyncio.create_task(answer(reader, writer), name=name))

    server = await asyncio.start_server(accepted, sock=listener)
    await stop.wait()
    server.close()
    await asyncio.gather(*conns)
    # The connections are closed: on 3.12 and later wait_closed also waits for them.
    await server.wait_closed()
    return f"served {len(conns)} connection(s); port closed"


class Depth:
    """The queue's depth as a series, and the most it ever held."""

    def __init__(self, queue):
        self.queue, self.max = queue, 0

    def record(self):
        self.max = max(self.max, self.queue.qsize())
        dojo.series("queue_depth", self.queue.qsize())


async def producer(queue, depth, items):
    loop = asyncio.get_running_loop()
    waits, blocked = 0, 0.0
    for n in range(1, items + 1):
        item = (n, payload(n))
        if queue.full():
            # No room: wait until a worker takes an item (backpressure).
            dojo.mark("queue full: producer waits")
            since = loop.time()
            await queue.put(item)
            waits += 1
            blocked += loop.time() - since
        else:
            queue.put_nowait(item)
        depth.record()
    dojo.mark("all items queued: the queue closes")
    dojo.metric("producer_waits", waits)
    dojo.metric("producer_blocked_ms", int(blocked * 1000))
    return f"{items} items queued; waited {waits} times"


async def worker(queue, depth, port, done):
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError as e:
        raise ConnectionError(f"cannot reach the service: {e}") from None
    ok = failed = 0
    try:
        # `None`: the producer is done and the queue drained, no more work.
        while (item := await queue.get()) is not None:
            depth.record()
            n, text = item
            try:
                writer.write(f"ITEM {n} {text}\n".encode())
                await writer.drain()
                reply = (await reader.readline()).decode().rstrip("\n")
                if not reply:
                    raise ConnectionError(f"item {n}: the service closed the connection")
                # A failed item is reported and the worker goes on to the next one: it must
                # not take the worker (and with it the pipeline) down.
                if reply.startswith("OK "):
                    ok += 1
                    await done.put((n, reply.split(" ", 2)[2]))
                else:
                    failed += 1
                    dojo.mark(f"item {n} failed")
                    await done.put((n, f"FAILED {reply}"))
            finally:
                queue.task_done()
    finally:
        await close(writer)
    return f"{ok} done, {failed} failed"


async def sink(done, path):
    """Append one line per item to the results file; failures are written as such."""
    written = 0
    with open(path, "a", encoding="utf-8") as out:
        # `None`: every worker has finished, all results are in.
        while (result := await done.get()) is not None:
            n, line = result
            out.write(f"{n}\t{line}\n")  # a small local write; big ones go to_thread
            written += 1
    dojo.mark("results flushed")
    return f"{written} lines appended"


async def run_pipeline(port, items, capacity, workers, results):
    queue = asyncio.Queue(maxsize=capacity)
    done = asyncio.Queue(maxsize=capacity)
    depth = Depth(queue)
    produce = asyncio.create_task(producer(queue, depth, items), name="producer")
    working = [
        asyncio.create_task(worker(queue, depth, port, done), name=f"worker {w}")
        for w in range(1, workers + 1)
    ]
    writing = asyncio.create_task(sink(done, results), name="sink")
    await produce
    await queue.join()  # every item taken and answered
    for _ in working:
        await queue.put(None)  # then one "no more work" per worker
    await asyncio.gather(*working)
    await done.put(None)  # the workers are done: the sink may close the file
    await writing
    dojo.metric("max_queue_depth", depth.max)


def check_results(path, items):
    """Read the results file back: every item exactly once, the rejected ones as failures."""
    seen, failed, bad = {}, [], 0
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    for line in lines:
        n, _, result = line.partition("\t")
        if not n.isdigit():
            bad += 1
            continue
        seen[int(n)] = seen.get(int(n), 0) + 1
        if result.startswith("FAILED"):
            failed.append(int(n))
        elif result != f"{checksum(payload(int(n))):08x}":
            bad += 1
    dojo.metric("written", len(lines))
    dojo.metric("failed_items", failed)
    dojo.metric("duplicates", sum(1 for c in seen.values() if c > 1))
    dojo.metric("missing", sum(1 for n in range(1, items + 1) if n not in seen))
    dojo.metric("bad_lines", bad)
    dojo.mark("results file checked")


async def main(variant="mpsc", items=24, capacity=4, workers=3, work_ms=30, fail_items=("7",)):
    with tempfile.TemporaryDirectory(prefix="asyncdojo-pipeline-") as tmp:
        dojo.metric("dir", tmp)
        listener = socket.create_server(("127.0.0.1", 0))  # loopback only, any free port
        port = listener.getsockname()[1]
        dojo.metric("port", port)
        stop = asyncio.Event()
        fail = {int(n) for n in fail_items}
        service = asyncio.create_task(serve(listener, fail, work_ms, stop), name="service")
        results = os.path.join(tmp, "results.txt")
        await run_pipeline(port, items, capacity, workers, results)
        stop.set()
        await service
        check_results(results, items)
    dojo.mark("temporary directory removed")


if __name__ == "__main__":
    dojo.run(main, variants=("mpsc",), clock="real")
