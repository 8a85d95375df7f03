"""Many GETs against a loopback HTTP server, unbounded, bounded and one by one: the asyncio twin
of `http-fanout`. The client is HTTP/1.1 written over asyncio's streams, with a small keep-alive
pool: the standard library has no HTTP client for asyncio (aiohttp and httpx are that)."""

import asyncio
import contextlib
import socket
import time

import dojo

RUN_BUDGET_S = 20  # the tokio demo's time budget for the requests


async def close(writer):
    """Close a stream and wait until it is closed: the socket is really gone when we go on."""
    writer.close()
    with contextlib.suppress(ConnectionError):  # a peer that reset it has closed it too
        await writer.wait_closed()


# --- the server: the tokio demo's `/data` endpoint, each connection a lane ---------------------


def draw(seed, n):
    """The demos' seeded draw for item `n` (SplitMix64), as the Rust server makes it."""
    rng = dojo.SplitMix64(seed ^ ((n * 0xA0761D6478BD642F) & (2**64 - 1)))
    rng.next_u64()
    return rng


def fails(seed, n, fail_pct):
    """Does request `n` fail? The same draw as the Rust server's, so the same requests fail."""
    return draw(seed ^ 0x5EED, n).next_u64() % 100 < fail_pct


def content(seed, n, size):
    rng = draw(seed, n)
    words = b"".join(rng.next_u64().to_bytes(8, "little") for _ in range((size + 7) // 8))
    return words[:size]


async def answer(query):
    """GET /data?id=..&latency_ms=..&fail_pct=..&size=..&seed=..: wait, then 200 or 500."""
    q = dict(kv.split("=", 1) for kv in query.split("&") if "=" in kv)
    n, seed = int(q.get("id", 0)), int(q.get("seed", 1))
    await asyncio.sleep(int(q.get("latency_ms", 0)) / 1000)
    if fails(seed, n, int(q.get("fail_pct", 0))):
        return "500 Internal Server Error", b"injected failure"
    return "200 OK", content(seed, n, int(q.get("size", 0)))


class Server:
    """An HTTP/1.1 server with keep-alive: every response says which connection served it
    (`x-conn`) and how many requests that connection has served (`x-conn-request`)."""

    def __init__(self):
        self.conns, self.open, self.requests = [], 0, 0
        self.listening, self.stop = asyncio.Event(), asyncio.Event()

    async def serve(self, listener):
        server = await asyncio.start_server(self.accepted, sock=listener)
        dojo.mark(f"listening on 127.0.0.1:{listener.getsockname()[1]}")
        self.listening.set()
        await self.stop.wait()
        server.close()  # the port closes
        for _, reader, writer in self.conns:
            if not reader.at_eof():  # the client left it open: the shutdown closes it
                await close(writer)
        await asyncio.gather(*(task for task, _, _ in self.conns))
        await server.wait_closed()
        return f"{len(self.conns)} connections, {self.requests} requests"

    def accepted(self, reader, writer):
        n = len(self.conns) + 1
        task = asyncio.create_task(self.connection(n, reader, writer), name=f"conn {n}")
        self.conns.append((task, reader, writer))

    async def connection(self, n, reader, writer):
        self.open += 1
        dojo.series("server_connections", self.open)
        served = 0
        try:
            # One request after another on the same socket, until the client closes it.
            while request := await reader.readline():
                while await reader.readline() not in (b"\r\n", b""):
                    pass  # the request's headers: nothing here needs them
                served += 1
                self.requests += 1
                path = request.split()[1].decode()
                status, body = await answer(path.partition("?")[2])
                head = (
                    f"HTTP/1.1 {status}\r\ncontent-length: {len(body)}\r\n"
                    f"x-conn: {n}\r\nx-conn-request: {served}\r\n\r\n"
                )
                writer.write(head.encode() + body)
                await writer.drain()
            # Closing already: the shutdown closed it; otherwise the client hung up.
            how = "closed by the client"
            if writer.is_closing():
                how = "closed by the server's shutdown"
        except ConnectionError as e:
            how = f"closed: {e}"
        finally:
            await close(writer)
            self.open -= 1
            dojo.series("server_connections", self.open)
        return f"{served} requests; {how}"


# --- the client ---------------------------------------------------------------------------------


class HttpError(Exception):
    """A non-2xx answer."""


class Pool:
    """Keep-alive: a connection whose response was read to the end waits here for the next
    request; a request that finds none idle opens one."""

    def __init__(self, host, port):
        self.host, self.port, self.idle = host, port, []

    async def get(self, path):
        """GET `path`: (status, body, headers)."""
        if self.idle:
            reader, writer = self.idle.pop()
        else:
            reader, writer = await asyncio.open_connection(self.host, self.port)
        try:
            request = f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n\r\n"
            writer.write(request.encode())
            await writer.drain()
            status = (await reader.readline()).decode().split(" ", 1)[1].strip()
            headers = {}
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode().partition(":")
                headers[name.strip().lower()] = value.strip()
            # This server always sends Content-Length (no chunked bodies to decode).
            body = await reader.readexactly(int(headers["content-length"]))
        except BaseException:
            await close(writer)  # half a response: the socket cannot be reused
            raise
        self.idle.append((reader, writer))  # read to the end: ready for the next request
        return status, body, headers

    async def close(self):
        while self.idle:
            await close(self.idle.pop()[1])


class Fanout:
    """What every request shares: one pool, the in-flight gauge and the counts."""

    def __init__(self, pool):
        self.pool = pool
        self.in_flight = dojo.gauge("in_flight")
        self.ok = self.failed = self.reused = 0


async def fetch(fan, path):
    """One GET through the shared pool, its body read to the end inside the request."""
    try:
        with fan.in_flight:
            status, body, headers = await fan.pool.get(path)
    except (OSError, asyncio.IncompleteReadError) as e:
        fan.failed += 1
        raise ConnectionError(f"error sending request: {e}") from None
    conn, nth = headers["x-conn"], int(headers["x-conn-request"])
    if nth == 1:
        dojo.mark(f"new connection {conn}")
        how = f"conn {conn} (new)"
    else:
        fan.reused += 1
        how = f"conn {conn} (reused, request {nth})"
    if not status.startswith("2"):
        fan.failed += 1
        raise HttpError(f"{status}, {how}")
    fan.ok += 1
    return f"{status}, {len(body)} B, {how}"


async def sequential(fan, paths):
    for i, path in enumerate(paths):
        # Each response is read before the next request is even sent.
        with contextlib.suppress(Exception):
            await dojo.lane(f"request {i + 1}", fetch(fan, path))


async def join_all(fan, paths):
    # Every request at once: nothing bounds how many are in flight, so the pool has no idle
    # connection to hand out and opens one per request.
    requests = [dojo.lane(f"request {i + 1}", fetch(fan, path)) for i, path in enumerate(paths)]
    await asyncio.gather(*requests, return_exceptions=True)


async def with_semaphore(fan, paths, limit):
    # Every request is a task from the start; `limit` permits decide which of them may send.
    permits = asyncio.Semaphore(limit)
    waiting = dojo.gauge("waiting")

    async def request(path):
        with waiting:
            await permits.acquire()
        try:
            return await fetch(fan, path)
        finally:
            permits.release()

    tasks = [
        asyncio.create_task(request(path), name=f"request {i + 1}") for i, path in enumerate(paths)
    ]
    await asyncio.gather(*tasks, return_exceptions=True)


async def buffer_unordered(fan, paths, limit):
    # Lazily: a request is created only when one of the `limit` slots is free.
    pending = iter(enumerate(paths))
    running = set()
    while True:
        for i, path in pending:
            lane = dojo.lane(f"request {i + 1}", fetch(fan, path))
            running.add(asyncio.ensure_future(lane))
            if len(running) == limit:
                break
        if not running:
            return
        done, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
        for finished in done:
            finished.exception()  # a failed request is counted; the rest go on


async def main(
    variant="sequential", requests=20, limit=5, latency_ms=100, fail_pct=10, size=1024, seed=1
):
    listener = socket.create_server(("127.0.0.1", 0))  # loopback only, any free port
    host, port = listener.getsockname()
    server = Server()
    serving = asyncio.create_task(server.serve(listener), name="server")
    await server.listening.wait()  # the server lane has marked that it listens
    dojo.metric("server_addr", f"{host}:{port}")
    query = f"latency_ms={latency_ms}&fail_pct={fail_pct}&size={size}&seed={seed}"
    paths = [f"/data?id={n}&{query}" for n in range(1, requests + 1)]
    fan = Fanout(Pool(host, port))
    started = time.monotonic()
    try:
        async with asyncio.timeout(RUN_BUDGET_S):
            if variant == "sequential":
                await sequential(fan, paths)
            elif variant == "join-all":
                await join_all(fan, paths)
            elif variant == "semaphore":
                await with_semaphore(fan, paths, limit)
            else:
                await buffer_unordered(fan, paths, limit)
    except TimeoutError:
        dojo.mark("time budget reached: the rest is cancelled")
    secs = time.monotonic() - started
    dojo.metric("max_in_flight", fan.in_flight.max)
    dojo.metric("connections_opened", len(server.conns))
    dojo.metric("connection_reuses", fan.reused)
    dojo.metric("requests_ok", fan.ok)
    dojo.metric("requests_failed", fan.failed)
    dojo.metric("requests_per_s", round(requests / max(secs, 1e-9), 1))
    # Close the pool's connections, then the server and its port.
    await fan.pool.close()
    server.stop.set()
    await serving


if __name__ == "__main__":
    dojo.run(main, variants=("sequential", "join-all", "semaphore", "buffer-unordered"), clock="real")
