"""A file downloader, K at a time, verified, nothing half-written left behind: the asyncio twin
of the `downloader` demo (challenge C2).

The client is HTTP/1.1 written over the standard library's streams (`asyncio.open_connection`):
a request line and a Host header out; a status line, headers and a body in, framed by
Content-Length or chunked. `Client` keeps the connections it finished with for the next request
(keep-alive), which is what the shared-client variant shares. What it leaves out, aiohttp and
httpx do: TLS, redirects, timeouts for each phase, proxies, compression, cookies, and a pool
with limits that closes connections left idle too long.

At the end is the file server the demo starts on 127.0.0.1, the tokio demo's endpoints written
with `asyncio.start_server`: the same files (the same seeded bytes, the same sha256), the same
pieces and pauses, the same faults."""

import asyncio
import contextlib
import hashlib
import http
import os
import struct
import tempfile
import urllib.parse

import dojo

RUN_BUDGET = 20  # seconds: every I/O demo stops what is still in progress after this long


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


# --- The downloader: what the lesson is about ----------------------------------------------------


class Failed(Exception):
    """Why a file was not kept: the task ends in error with this as its detail."""


class PartFile:
    """`NAME.part` being written. Left without `keep` (an error, a cancelled task), it deletes
    itself: no partial file can be left behind, whatever way the download ends."""

    def __init__(self, directory, name):
        self.path = os.path.join(directory, f"{name}.part")
        self.file = open(self.path, "wb")  # closed in __exit__
        self.kept = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.file.close()
        if not self.kept:
            with contextlib.suppress(FileNotFoundError):
                os.remove(self.path)
        return False

    def keep(self, to):
        """Flush to disk and rename `NAME.part` to `NAME`."""
        self.file.flush()
        os.fsync(self.file.fileno())
        os.replace(self.path, to)
        self.kept = True


class Downloads:
    def __init__(self, client, directory, in_flight):
        self.client = client  # None: a new client per file
        self.dir = directory
        self.in_flight = in_flight
        self.ok = self.failed = self.bytes = 0
        self.failures = []


async def fetch_to_disk(d, file, url):
    """Stream one file to `NAME.part`, hashing every chunk as it is written. Returns its size
    if every byte arrived and the sha256 matches the manifest."""
    client = d.client or Client(keep_alive=False)
    resp = await client.get(url)
    try:
        if not 200 <= resp.status < 300:
            raise Failed(f"the server answered {resp.status} {resp.reason}")
        with PartFile(d.dir, file["name"]) as part:
            sha, got = hashlib.sha256(), 0
            try:
                async for chunk in resp.chunks():
                    # A disk write blocks: on a worker thread, as tokio::fs does.
                    await asyncio.to_thread(part.file.write, chunk)
                    sha.update(chunk)
                    got += len(chunk)
                    dojo.series(file["progress"], got * 100 // max(file["size"], 1))
            except BodyCut as e:
                raise Failed(f"cut off after {got} of {file['size']} bytes ({e})") from None
            if got != file["size"]:
                raise Failed(f"{got} bytes instead of {file['size']}")
            if (s := sha.hexdigest()) != file["sha256"]:
                raise Failed(f"sha256 {s[:12]} is not the manifest's {file['sha256'][:12]}")
            await asyncio.to_thread(part.keep, os.path.join(d.dir, file["name"]))
            return got
    finally:
        await resp.release()


async def download(d, file, url, permits):
    async with permits:
        with d.in_flight:
            try:
                got, why = await fetch_to_disk(d, file, url), None
            except (Failed, RequestFailed) as e:
                got, why = 0, e
    if why is not None:
        # The part file was already deleted when its `with` block ended.
        d.failed += 1
        d.failures.append(f"{file['name']}: {why}")
        dojo.mark(f"{file['name']} failed, nothing kept")
        raise Failed(str(why))
    d.ok += 1
    d.bytes += got
    dojo.mark(f"{file['name']} verified")
    return f"{got} B, sha256 ok"


async def download_files(d, files, urls, k):
    """Every file is a task from the start; `k` permits let that many download at once. A
    failed file ends its own task only: the others carry on (no TaskGroup, which would cancel
    them)."""
    permits = asyncio.Semaphore(k)
    tasks = [
        asyncio.create_task(download(d, file, url, permits), name=file["name"])
        for file, url in zip(files, urls)
    ]
    await asyncio.gather(*tasks, return_exceptions=True)


# --- The run around it: manifest, temporary directory, checks ------------------------------------


async def fetch_manifest(client, url):
    resp = await client.get(url)
    try:
        if resp.status != 200:
            raise Failed(f"the server answered {resp.status} {resp.reason}")
        return await resp.text()
    finally:
        await resp.release()


def parse_manifest(text):
    """`file-1.bin 131072 <sha256>` per line."""
    entries = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1].isdigit():
            name, size, sha256 = parts[0], int(parts[1]), parts[2]
            entries.append({"name": name, "size": size, "sha256": sha256,
                            "progress": f"progress {name}"})
    return entries


def check_directory(directory, entries):
    """What the directory holds, and how many of its files read back with the manifest's
    sha256 (blocking reads: on a worker thread)."""
    names = sorted(os.listdir(directory))
    verified = 0
    for e in entries:
        with contextlib.suppress(OSError), open(os.path.join(directory, e["name"]), "rb") as f:
            verified += hashlib.sha256(f.read()).hexdigest() == e["sha256"]
    return names, verified


async def verify_on_disk(directory, entries, seen):
    seen["left"], seen["verified"] = await asyncio.to_thread(check_directory, directory, entries)
    return f"{seen['verified']} files match the manifest; {len(seen['left'])} in the directory"


async def download_all(base, shared_client, files, size, concurrency, path_of):
    client = Client()
    try:
        with tempfile.TemporaryDirectory(prefix="asyncdojo-downloads-") as directory:
            dojo.metric("dir", directory)
            dojo.mark(f"created {directory}")
            url = f"{base}/files/manifest?count={files}&size={size}&seed={path_of.seed}"
            manifest = await dojo.lane("GET manifest", fetch_manifest(client, url))
            entries = parse_manifest(manifest)
            if len(entries) != files:
                raise RuntimeError(f"no usable manifest: {manifest!r}")
            d = Downloads(client if shared_client else None, directory, dojo.gauge("in_flight"))
            if not shared_client:
                await client.close()  # as the tokio demo drops it: its idle connection closes
            urls = [base + path_of(e["name"], n) for n, e in enumerate(entries, start=1)]
            try:
                async with asyncio.timeout(RUN_BUDGET):
                    await download_files(d, entries, urls, concurrency)
            except TimeoutError:
                dojo.mark("time budget reached: the rest is cancelled")
            dojo.metric("files_ok", d.ok)
            dojo.metric("files_failed", d.failed)
            dojo.metric("bytes_written", d.bytes)
            dojo.metric("max_in_flight", d.in_flight.max)
            dojo.metric("failed", d.failures)
            # Reading the files back and hashing them is blocking work: off the loop's thread.
            seen = {"left": [], "verified": 0}
            check = verify_on_disk(directory, entries, seen)
            await asyncio.create_task(check, name="verify on disk")
            dojo.metric("files_left", seen["left"])
            dojo.metric("verified_on_disk", seen["verified"])
        dojo.mark(f"removed {directory}")
        dojo.metric("dir_removed", not os.path.exists(directory))
    finally:
        await client.close()


class Paths:
    """The URL path of file `n`, with the fault asked for if it is the broken one."""

    def __init__(self, size, seed, chunk_kb, chunk_ms, broken_file, failure):
        self.size, self.seed, self.broken_file = size, seed, broken_file
        self.query = f"size={size}&seed={seed}&chunk={chunk_kb * 1024}&chunk_ms={chunk_ms}"
        self.fault = {
            "cut": f"&cut_at={size // 2}",
            "status": "&status=500",
            "corrupt": "&corrupt=1",
        }[failure]

    def __call__(self, name, n):
        fault = self.fault if n == self.broken_file else ""
        return f"/files/{name}?{self.query}{fault}"


async def main(
    variant="shared-client",
    files=6,
    concurrency=3,
    size_kb=128,
    chunk_kb=16,
    chunk_ms=20,
    broken_file=4,
    failure="cut",
    seed=1,
):
    if failure not in ("cut", "status", "corrupt"):
        raise ValueError(f"failure={failure}: it is one of cut, status, corrupt")
    size = size_kb * 1024
    path_of = Paths(size, seed, chunk_kb, chunk_ms, broken_file, failure)
    server = FileServer()
    serving = asyncio.create_task(server.serve(), name="file server")
    try:
        base = f"http://127.0.0.1:{await server.port}"
        dojo.metric("server_addr", base.removeprefix("http://"))
        shared_client = variant == "shared-client"
        await download_all(base, shared_client, files, size, concurrency, path_of)
        dojo.metric("connections_opened", server.accepted)
    finally:
        server.stop()
        await serving


# --- The file server the demo starts (the tokio demo's endpoints, not the lesson) ----------------

MASK = (1 << 64) - 1


def content(seed, n, size):
    """File `n`'s bytes: the tokio demo's seeded generator, so the same sha256 on both."""
    rng = dojo.SplitMix64(seed ^ (n * 0xA0761D6478BD642F & MASK))
    rng.next_u64()
    words = (size + 7) // 8
    return struct.pack(f"<{words}Q", *(rng.next_u64() for _ in range(words)))[:size]


class FileServer:
    """`/files/manifest?count&size&seed` and `/files/file-N.bin?size&seed&chunk&chunk_ms`, the
    latter streamed in `chunk`-byte pieces `chunk_ms` apart; `status=500` answers that instead,
    `cut_at=BYTES` drops the connection there, `corrupt=1` flips the middle byte."""

    def __init__(self):
        self.port = asyncio.get_running_loop().create_future()
        self.stopping = asyncio.Event()
        self.accepted = self.open = 0
        self.writers = set()
        self.cache = {}  # (seed, n, size) -> bytes: pure Python makes them slowly

    def stop(self):
        self.stopping.set()

    def file(self, seed, n, size):
        if (seed, n, size) not in self.cache:
            self.cache[(seed, n, size)] = content(seed, n, size)
        return self.cache[(seed, n, size)]

    async def serve(self):
        conns = []

        def accepted(reader, writer):
            # start_server calls this from the event loop, outside any task: the connection's
            # Task has no parent (tokio's server drives its connections in its own lane).
            name = f"conn {len(conns) + 1}"
            conns.append(asyncio.create_task(self.connection(reader, writer), name=name))

        server = await asyncio.start_server(accepted, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        dojo.mark(f"listening on 127.0.0.1:{port}")
        self.port.set_result(port)
        await self.stopping.wait()
        server.close()
        for writer in list(self.writers):
            await close(writer)
        await asyncio.gather(*conns)
        # The connections are closed: on 3.12 and later wait_closed also waits for them.
        await server.wait_closed()
        return f"{self.accepted} connections"

    async def connection(self, reader, writer):
        self.accepted += 1
        self.open += 1
        self.writers.add(writer)
        dojo.series("server_connections", self.open)
        served = 0
        try:
            while request_line := await reader.readline():
                while (await reader.readline()) not in (b"\r\n", b""):
                    pass  # the client's headers: nothing here needs them
                target = request_line.split()[1].decode()
                served += 1
                if not await self.answer(target, writer):
                    break  # cut on purpose: the connection goes with it
        except (ConnectionError, IndexError):
            pass
        finally:
            self.writers.discard(writer)
            await close(writer)
            self.open -= 1
            dojo.series("server_connections", self.open)
        return f"{served} requests"

    async def answer(self, target, writer):
        """Write one response; False if the connection was cut on purpose."""
        parts = urllib.parse.urlsplit(target)
        q = {k: int(v) for k, v in urllib.parse.parse_qsl(parts.query) if v.isdigit()}
        seed, size = q.get("seed", 1), q.get("size", 1024)
        name = parts.path.removeprefix("/files/")
        if name == "manifest":
            lines = (
                f"file-{n}.bin {size} {hashlib.sha256(self.file(seed, n, size)).hexdigest()}\n"
                for n in range(1, q.get("count", 1) + 1)
            )
            return await respond(writer, 200, "".join(lines).encode())
        if not (name.startswith("file-") and name.endswith(".bin") and name[5:-4].isdigit()):
            return await respond(writer, 404, f"no such file: {name}".encode())
        if (code := q.get("status", 200)) != 200:
            return await respond(writer, code, f"{name}: failing on purpose".encode())
        body = bytearray(self.file(seed, int(name[5:-4]), size))
        if q.get("corrupt") == 1:
            body[size // 2] ^= 0xFF
        chunk, pause = max(q.get("chunk", 16384), 1), q.get("chunk_ms", 0)
        cut_at = q.get("cut_at", size)
        writer.write(f"HTTP/1.1 200 OK\r\ncontent-length: {size}\r\n\r\n".encode())
        at = 0
        while at < size:
            if at >= cut_at:
                return False
            if at > 0 and pause:
                await asyncio.sleep(pause / 1000)
            end = min(at + chunk, size, cut_at)
            writer.write(body[at:end])
            await writer.drain()
            at = end
        return True


async def respond(writer, status, body):
    writer.write(
        f"HTTP/1.1 {status} {phrase(status)}\r\ncontent-type: text/plain\r\n"
        f"content-length: {len(body)}\r\n\r\n".encode() + body
    )
    await writer.drain()
    return True


if __name__ == "__main__":
    dojo.run(main, variants=("shared-client", "client-per-file"), clock="real")
