"""Graceful shutdown with a grace period: the asyncio twin of `graceful-shutdown`."""

import asyncio
import contextlib
import os
import signal
import socket
import tempfile

import dojo


class Unanswered(dojo.Cancelled):
    """The server hung up without an answer: it cancelled our request. An exception of its
    own, not a CancelledError raised by hand: nobody cancelled this task, and a TaskGroup
    would take a CancelledError for a cancellation and drop the failure."""


async def close(writer):
    """Close a stream and wait until it is closed: the socket is really gone when we go on."""
    writer.close()
    with contextlib.suppress(ConnectionError):  # a peer that reset it has closed it too
        await writer.wait_closed()


async def wait_for_signal(after_ms, shutdown):
    """The shutdown signal: a timer, or a real SIGINT or SIGTERM, whichever comes first."""
    loop = asyncio.get_running_loop()
    received = loop.create_future()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, lambda s=sig: received.done() or received.set_result(s.name))
    dojo.mark("listening for SIGINT/SIGTERM")
    try:
        async with asyncio.timeout(after_ms / 1000):
            source = await received
    except TimeoutError:
        source = "timer"
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    dojo.mark(f"shutdown requested ({source})")
    shutdown.set()  # every task waiting on the event sees it
    return f"shutdown by {source}"


async def handle(reader, writer, n, log, in_flight):
    """One request: read `WORK <ms>`, work that long, answer `DONE`. Logs as it goes."""
    try:
        line = await reader.readline()
        ms = int(line.decode().removeprefix("WORK ").strip() or 0)
        log.put_nowait(f"request {n}: {ms} ms of work")
        with in_flight:  # leaves on the way out, cancelled or not
            await asyncio.sleep(ms / 1000)  # the server's own work
        writer.write(b"DONE\n")
        await writer.drain()
        log.put_nowait(f"request {n}: done")
        return f"{ms} ms of work"
    finally:
        await close(writer)


async def serve(listener, grace_ms, log, shutdown):
    """Accept until the signal; then close the listener, let in-flight requests run until the
    grace deadline, and cancel whatever is still running."""
    in_flight = dojo.gauge("in_flight")
    requests = set()

    def accepted(reader, writer):
        n = len(requests) + 1
        task = asyncio.create_task(handle(reader, writer, n, log, in_flight), name=f"request {n}")
        requests.add(task)

    server = await asyncio.start_server(accepted, sock=listener)
    await shutdown.wait()
    server.close()
    dojo.mark("1. listener closed: no new connections")
    still_running = {task for task in requests if not task.done()}
    finished, pending = set(), set()
    if still_running:
        # Wait for in-flight requests, but only until the deadline.
        finished, pending = await asyncio.wait(still_running, timeout=grace_ms / 1000)
    if pending:
        dojo.mark(f"2. grace over: cancelling {len(pending)}")
        for task in pending:
            task.cancel()
        await asyncio.wait(pending)  # until they are really gone
    else:
        dojo.mark("2. every request finished in the grace period")
    # Every connection is closed now: on 3.12 and later wait_closed waits for them too.
    await server.wait_closed()
    dojo.metric("finished_in_grace", len(finished))
    dojo.metric("cancelled", len(pending))
    log.put_nowait(f"shutdown: {len(finished)} finished, {len(pending)} cancelled")
    log.put_nowait(None)  # nothing logs after the server: the flusher may close the log
    return (
        f"{len(still_running)} in flight at the signal: "
        f"{len(finished)} finished, {len(pending)} cancelled"
    )


async def flusher(path, lines, every_ms):
    """Write buffered log lines every every_ms. Ends when the server says nothing more comes:
    only then is it flushed for the last time and closed."""
    loop = asyncio.get_running_loop()
    buffer, written = [], 0
    with open(path, "w", encoding="utf-8") as log:
        next_flush = loop.time()
        while True:
            try:
                async with asyncio.timeout_at(next_flush):
                    line = await lines.get()
            except TimeoutError:
                log.write("".join(buffer))  # a small local write; big ones go to_thread
                buffer.clear()
                next_flush += every_ms / 1000
                continue
            if line is None:
                break
            buffer.append(line + "\n")
            written += 1
        log.write("".join(buffer))
        log.flush()
        os.fsync(log.fileno())  # on disk before we say so
    dojo.mark("3. log flushed and closed")
    dojo.metric("log_lines_sent", written)
    return f"{written} lines written"


async def client(port, work_ms):
    """One client: connect, ask for work_ms of work, wait for the answer."""
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError as e:
        raise dojo.Rejected(f"cannot connect: {e}") from None
    try:
        writer.write(f"WORK {work_ms}\n".encode())
        await writer.drain()
        reply = await reader.readline()
    finally:
        await close(writer)
    if reply.startswith(b"DONE"):
        return "answered"
    raise Unanswered("the server hung up without an answer")


async def late_client(port, shutdown):
    """A client that arrives just after the signal: the listener is closed, it is refused."""
    await shutdown.wait()
    await asyncio.sleep(0.02)
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError as e:
        raise dojo.Rejected(f"refused after the signal: {e}") from None
    await close(writer)
    raise RuntimeError("connected after the listener was closed")


async def main(
    variant="cancellation-token",
    request_ms=(200, 800, 1400, 3000),
    shutdown_at_ms=500,
    grace_ms=700,
    flush_every_ms=100,
):
    loop = asyncio.get_running_loop()
    with tempfile.TemporaryDirectory(prefix="asyncdojo-shutdown-") as tmp:
        dojo.metric("dir", tmp)
        log_path = os.path.join(tmp, "app.log")
        listener = socket.create_server(("127.0.0.1", 0))  # loopback only, any free port
        port = listener.getsockname()[1]
        dojo.metric("port", port)
        shutdown, log = asyncio.Event(), asyncio.Queue()
        signal_task = asyncio.create_task(
            wait_for_signal(shutdown_at_ms, shutdown), name="shutdown signal"
        )
        server = asyncio.create_task(serve(listener, grace_ms, log, shutdown), name="server")
        flush = asyncio.create_task(flusher(log_path, log, flush_every_ms), name="flusher")
        clients = [
            asyncio.create_task(client(port, ms), name=f"client {i} ({ms} ms)")
            for i, ms in enumerate(request_ms, 1)
        ]
        clients.append(asyncio.create_task(late_client(port, shutdown), name="late client"))
        await shutdown.wait()
        signalled = loop.time()
        await server
        await flush
        await signal_task
        await asyncio.gather(*clients, return_exceptions=True)
        with open(log_path, encoding="utf-8") as f:
            dojo.metric("log_lines", sum(1 for _ in f))
    dojo.mark("4. temporary directory removed")
    dojo.metric("shutdown_ms", round((loop.time() - signalled) * 1000, 1))


if __name__ == "__main__":
    dojo.run(main, variants=("cancellation-token",), clock="real")
