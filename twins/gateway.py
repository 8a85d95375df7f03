"""An API gateway in front of service instances: the asyncio twin of the `gateway` demo (Q12).

A registry kept up to date by periodic health checks, round-robin over the healthy instances,
a per-service rate limit that answers 429 at once instead of queueing, and every request
forwarded over HTTP. Everything listens on 127.0.0.1.

The HTTP here is the standard library's streams: `asyncio.start_server` for the gateway and the
instances, and a small HTTP/1.1 client over `asyncio.open_connection` whose `Client` keeps
finished connections for the next request. What it leaves out, aiohttp and httpx do: TLS,
redirects, timeouts for each phase, proxies, compression, cookies, and a pool with limits that
closes connections left idle too long."""

import asyncio
import contextlib
import http
import itertools
import urllib.parse
import zlib

import dojo

RUN_BUDGET = 20  # seconds: every I/O demo stops what is still in progress after this long
CHECK_TIMEOUT = 1  # second: a health check that takes longer counts as failed


# --- A minimal HTTP/1.1 client over asyncio streams ---------------------------------------------

class RequestFailed(Exception):
    """No answer: the connection could not be made or broke before the status line."""


class BodyCut(Exception):
    """The connection ended before the body did."""


async def close(writer):
    """Close a stream and wait until it is closed: the socket is really gone when we go on."""
    writer.close()
    with contextlib.suppress(ConnectionError):  # a peer that reset it has closed it too
        await writer.wait_closed()


def phrase(status):
    """`Not Found` for 404: the reason an HTTP status is given."""
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


class Response:
    def __init__(self, client, where, reader, writer, status, headers):
        self.client, self.where = client, where
        self.reader, self.writer = reader, writer
        self.status, self.headers = status, headers
        self.reason = phrase(status)
        self.chunked = "chunked" in headers.get("transfer-encoding", "")
        self.length = int(headers.get("content-length", 0)) if not self.chunked else None
        self.done = False  # the whole body was read: the connection can carry another request

    async def chunks(self):
        """The body, piece by piece as the socket gives it. Raises `BodyCut` if it ends early."""
        try:
            if self.chunked:
                while size := int((await self.reader.readline()).split(b";")[0], 16):
                    yield await self.reader.readexactly(size)
                    await self.reader.readexactly(2)  # the CRLF after each chunk
                while (await self.reader.readline()) not in (b"\r\n", b""):
                    pass  # trailers
            else:
                left = self.length
                while left > 0:
                    piece = await self.reader.read(min(left, 64 * 1024))
                    if not piece:
                        raise BodyCut("end of file before message length reached")
                    left -= len(piece)
                    yield piece
        except (asyncio.IncompleteReadError, ValueError, ConnectionError) as e:
            raise BodyCut(f"the chunked body broke off: {e}") from None
        self.done = True

    async def text(self):
        return b"".join([piece async for piece in self.chunks()]).decode()

    async def release(self):
        """Hand the connection back to the client's pool if its body was read to the end and
        the server keeps it open; otherwise close it. A small body nobody read (an error page)
        is read and dropped first, so its connection can be reused (hyper and urllib3 do too)."""
        if not self.done and self.length is not None and self.length <= 64 * 1024:
            with contextlib.suppress(BodyCut):
                async for _ in self.chunks():
                    pass
        if self.done and self.headers.get("connection") != "close" and self.client.keep_alive:
            self.client.idle.setdefault(self.where, []).append((self.reader, self.writer))
        else:
            await close(self.writer)


class Client:
    """Requests, and the connections to reuse (a pool without a size limit). With
    `keep_alive=False` every request has a connection of its own, closed after it."""

    def __init__(self, keep_alive=True):
        self.keep_alive = keep_alive
        self.idle = {}  # (host, port) -> [(reader, writer)]

    async def get(self, url):
        parts = urllib.parse.urlsplit(url)
        where = (parts.hostname, parts.port or 80)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        pooled = self.idle.get(where)
        try:
            if pooled:
                reader, writer = pooled.pop()
            else:
                reader, writer = await asyncio.open_connection(*where)
            host = f"{where[0]}:{where[1]}"
            writer.write(f"GET {target} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
            await writer.drain()
            status_line = await reader.readline()
            if not status_line:
                raise ConnectionError("the server closed the connection")
            status = int(status_line.split()[1])
            headers = {}
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode().partition(":")
                headers[name.strip().lower()] = value.strip()
        except (OSError, ValueError, IndexError) as e:
            raise RequestFailed(f"error sending request: {e}") from None
        return Response(self, where, reader, writer, status, headers)

    async def close(self):
        for conns in self.idle.values():
            for _, writer in conns:
                await close(writer)
        self.idle.clear()


# --- The gateway: what the lesson is about -------------------------------------------------------


class TokenBucket:
    """`rate` tokens a second, at most `burst` saved up; a request takes one or is rejected."""

    def __init__(self, rate, burst):
        self.rate, self.burst, self.tokens = rate, burst, burst
        self.last = asyncio.get_running_loop().time()

    def try_take(self):
        now = asyncio.get_running_loop().time()
        self.tokens = min(self.tokens + (now - self.last) * self.rate, self.burst)
        self.last = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False  # over the limit: the caller answers 429 now; nobody waits


class Entry:
    """One registered instance. Unhealthy instances stay registered (their checker keeps
    polling them) but get no requests; a passing check puts them back."""

    def __init__(self, name, url):
        self.name, self.url = name, url
        self.healthy = True
        self.forwarded = self.removals = self.returns = 0


class Service:
    def __init__(self, rate, burst):
        self.instances = []
        self.next = 0  # the round-robin counter
        self.limit = TokenBucket(rate, burst)


class Gateway:
    def __init__(self, client, balance):
        self.client = client
        self.balance = balance  # "round-robin" or "hash-path"
        self.registry = {}

    def register(self, service, name, url, rate, burst):
        """Registering an instance twice changes nothing: one entry, one checker per URL."""
        svc = self.registry.setdefault(service, Service(rate, burst))
        if all(i.url != url for i in svc.instances):
            svc.instances.append(Entry(name, url))
        dojo.series("healthy_instances", sum(i.healthy for i in svc.instances))

    def route(self, service, path):
        """Where a request goes: an Entry, or the status to answer at once. Nothing here
        awaits, so no other task can change the registry half-way (tokio's takes a lock)."""
        svc = self.registry.get(service)
        if svc is None:
            return 404, f"no service `{service}`"
        if not svc.limit.try_take():
            return 429, "rate limited"
        healthy = [i for i in svc.instances if i.healthy]
        if not healthy:
            return 503, "no healthy instance"
        if self.balance == "round-robin":
            k = svc.next % len(healthy)
        else:
            # The guide's "round-robin": the same path always lands on the same instance.
            k = zlib.crc32(path.encode()) % len(healthy)
        svc.next += 1
        chosen = healthy[k]
        chosen.forwarded += 1
        dojo.series(f"forwarded {chosen.name}", chosen.forwarded)
        return chosen

    def set_health(self, service, name, healthy):
        """Record a health check's result; a change takes the instance out or puts it back."""
        svc = self.registry.get(service)
        entry = next((i for i in svc.instances if i.name == name), None) if svc else None
        if entry is None or entry.healthy == healthy:
            return
        entry.healthy = healthy
        if healthy:
            entry.returns += 1
        else:
            entry.removals += 1
        dojo.series("healthy_instances", sum(i.healthy for i in svc.instances))
        dojo.mark(f"{name} {'back in rotation' if healthy else 'removed'}")

    async def forward(self, path):
        """Route and forward one request over HTTP: (status, body)."""
        service = path.lstrip("/").split("/")[0]
        chosen = self.route(service, path)
        if not isinstance(chosen, Entry):
            return chosen
        try:
            resp = await self.client.get(f"{chosen.url}{path}")
            try:
                return resp.status, await resp.text()
            finally:
                await resp.release()
        except (RequestFailed, BodyCut) as e:
            return 502, f"{chosen.name}: {e}"

    def report(self):
        """Metrics: requests forwarded to each instance, removals and returns."""
        entries = [i for svc in self.registry.values() for i in svc.instances]
        dojo.metric("forwarded", {i.name: i.forwarded for i in entries})
        dojo.metric("removals", sum(i.removals for i in entries))
        dojo.metric("returns", sum(i.returns for i in entries))


async def check(gw, url):
    """GET /health: True on a 2xx within CHECK_TIMEOUT."""
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            resp = await gw.client.get(f"{url}/health")
            try:
                await resp.text()
            finally:
                await resp.release()
            return 200 <= resp.status < 300
    except (TimeoutError, RequestFailed, BodyCut):
        return False


async def health_checker(gw, service, name, url, every_ms, stop):
    """One checker per instance: GET /health every `every_ms`; a failure or a timeout takes
    the instance out of rotation, a success puts it back."""
    loop = asyncio.get_running_loop()
    checks, tick = 0, loop.time()
    while True:
        # The next tick, or the stop, whichever comes first (a late tick moves the grid on,
        # as tokio's MissedTickBehavior::Delay does).
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout_at(tick):
                await stop.wait()
        if stop.is_set():
            break
        gw.set_health(service, name, await check(gw, url))
        checks += 1
        tick = max(tick + every_ms / 1000, loop.time())
    return f"{checks} checks"


# --- The run around it: instances, chaos, the load -----------------------------------------------


class RateLimited(dojo.Rejected):
    """The gateway answered 429: the request was rejected at once."""


async def call(client, url):
    """One client request: 2xx is ok, 429 is rejected, anything else an error."""
    resp = await client.get(url)
    try:
        body = await resp.text()
    finally:
        await resp.release()
    if 200 <= resp.status < 300:
        return body
    if resp.status == 429:
        raise RateLimited(f"{resp.status} {resp.reason}")
    raise RuntimeError(f"{resp.status} {resp.reason}: {body}")


async def load(gateway, requests, interval_ms):
    """Send `requests` requests to the gateway, one every `interval_ms`, without waiting for
    answers: a load that does not slow down when the gateway is busy. Every other request is
    for the same hot path, `/users/1`."""
    client = Client()
    loop = asyncio.get_running_loop()
    start, tasks = loop.time(), []
    try:
        for n in range(1, requests + 1):
            await asyncio.sleep(max(start + (n - 1) * interval_ms / 1000 - loop.time(), 0))
            user = 1 if n % 2 == 1 else n % 7 + 1
            request = call(client, f"{gateway}/users/{user}")
            tasks.append(asyncio.create_task(request, name=f"request {n}"))
        results = await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        for t in tasks:
            t.cancel()
        await client.close()
    ok = sum(isinstance(r, str) for r in results)
    rejected = sum(isinstance(r, RateLimited) for r in results)
    failed = len(results) - ok - rejected
    dojo.metric("ok", ok)
    dojo.metric("rejected_429", rejected)
    dojo.metric("failed", failed)
    return f"{ok} ok, {rejected} rejected, {failed} failed"


async def chaos(instances, down_at_ms, up_at_ms, stop):
    """Turn the second instance unhealthy at `down_at_ms`, healthy again at `up_at_ms`."""
    if len(instances) < 2:
        return "nothing to break"
    victim = instances[1]
    start = asyncio.get_running_loop().time()

    async def until(ms):
        """Wait until `ms` after the start; False if the run ended first."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout_at(start + ms / 1000):
                await stop.wait()
        return not stop.is_set()

    if not await until(down_at_ms):
        return "the run ended first"
    victim.healthy = False
    dojo.mark(f"{victim.name} turns unhealthy")
    if up_at_ms <= down_at_ms:
        return f"{victim.name} stays unhealthy"
    if not await until(up_at_ms):
        return "the run ended first"
    victim.healthy = True
    dojo.mark(f"{victim.name} is healthy again")
    return f"{victim.name} was down {up_at_ms - down_at_ms} ms"


async def main(
    variant="round-robin",
    instances=3,
    requests=80,
    interval_ms=12,
    latency_ms=20,
    health_ms=100,
    down_at_ms=250,
    up_at_ms=650,
    rate_per_s=60,
    burst=10,
):
    servers = []
    try:
        users = []
        for i in range(1, instances + 1):
            users.append(Instance(f"users-{i}", latency_ms))
            servers.append(await users[-1].start(f"instance users-{i}"))
        gw = Gateway(Client(), variant)
        for inst in users:
            gw.register("users", inst.name, inst.url, rate_per_s, burst)
        gateway = Server(gw.forward)
        servers.append(await gateway.start("gateway"))
        dojo.metric("addrs", [gateway.addr] + [inst.addr for inst in users])

        stop = asyncio.Event()
        background = [
            asyncio.create_task(
                health_checker(gw, "users", inst.name, inst.url, health_ms, stop),
                name=f"health {inst.name}",
            )
            for inst in users
        ]
        background.append(
            asyncio.create_task(chaos(users, down_at_ms, up_at_ms, stop), name="chaos")
        )
        sending = asyncio.create_task(load(gateway.url, requests, interval_ms), name="load")
        try:
            async with asyncio.timeout(RUN_BUDGET):
                await sending
        except TimeoutError:
            dojo.mark("time budget reached: the load stops")
        stop.set()
        await asyncio.gather(*background)
        gw.report()
        await gw.client.close()
    finally:
        for server in servers:
            await server.stop()


# --- The HTTP servers: the gateway's, and each instance's (the demo's, not the lesson) -----------

conn_numbers = itertools.count(1)  # one numbering for every server's connections


class Server:
    """An HTTP/1.1 server on 127.0.0.1 whose `answer(path)` gives (status, body). Its listener
    is a Task (a lane); each connection is a Task of its own, named `conn N`."""

    def __init__(self, answer):
        self.answer = answer
        self.stopping = asyncio.Event()
        self.conns, self.writers = [], set()

    async def start(self, lane):
        listening = asyncio.get_running_loop().create_future()
        self.task = asyncio.create_task(self.serve(listening), name=lane)
        self.addr = await listening
        self.url = f"http://{self.addr}"
        return self

    async def stop(self):
        self.stopping.set()
        await self.task

    async def serve(self, listening):
        def accepted(reader, writer):
            # start_server calls this from the event loop, outside any task: the connection's
            # Task has no parent (tokio's server drives its connections in its own lane).
            name = f"conn {next(conn_numbers)}"
            self.conns.append(asyncio.create_task(self.connection(reader, writer), name=name))

        server = await asyncio.start_server(accepted, "127.0.0.1", 0)
        addr = "127.0.0.1:{}".format(server.sockets[0].getsockname()[1])
        dojo.mark(f"listening on {addr}")
        listening.set_result(addr)
        await self.stopping.wait()
        server.close()
        for writer in list(self.writers):
            await close(writer)
        await asyncio.gather(*self.conns)
        # The connections are closed: on 3.12 and later wait_closed also waits for them.
        await server.wait_closed()
        return f"{len(self.conns)} connections"

    async def connection(self, reader, writer):
        self.writers.add(writer)
        served = 0
        try:
            while request_line := await reader.readline():
                while (await reader.readline()) not in (b"\r\n", b""):
                    pass  # the client's headers: nothing here needs them
                path = urllib.parse.urlsplit(request_line.split()[1].decode()).path
                status, body = await self.answer(path)
                body = body.encode()
                writer.write(
                    f"HTTP/1.1 {status} {phrase(status)}\r\ncontent-type: text/plain\r\n"
                    f"content-length: {len(body)}\r\n\r\n".encode() + body
                )
                await writer.drain()
                served += 1
        except (ConnectionError, IndexError):
            pass
        finally:
            self.writers.discard(writer)
            await close(writer)
        return f"{served} requests"


class Instance:
    """A service instance: `GET /health` answers 200 while it is healthy and 503 while it is
    not; any other path is served after the latency (503 while unhealthy)."""

    def __init__(self, name, latency_ms):
        self.name, self.latency_ms = name, latency_ms
        self.healthy = True

    async def answer(self, path):
        if path == "/health":
            return (200, "ok") if self.healthy else (503, "unhealthy")
        if not self.healthy:
            return 503, f"{self.name} is unhealthy"
        await asyncio.sleep(self.latency_ms / 1000)
        return 200, f"{self.name} served {path}"

    async def start(self, lane):
        server = await Server(self.answer).start(lane)
        self.addr, self.url = server.addr, server.url
        return server


if __name__ == "__main__":
    dojo.run(main, variants=("round-robin", "hash-path"), clock="real")
