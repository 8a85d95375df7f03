"""Crawl a generated website on 127.0.0.1, one page at a time or with N workers sharing one
queue: the asyncio twin of `crawler`. The client is HTTP/1.1 written over asyncio's streams:
the standard library has no HTTP client for asyncio (aiohttp and httpx are that)."""

import asyncio
import collections
import contextlib
import socket
import time
from urllib.parse import urldefrag, urljoin, urlsplit

import dojo

RUN_BUDGET_S = 20  # the tokio demo's time budget for the crawl
OFFSITE_HOST = "elsewhere.invalid"  # never resolves: nothing leaves this machine


# --- the site: the tokio demo's generated pages, drawn from the same seed ------------------------


def path_of(n):
    return "/" if n == 0 else f"/page/{n}"


class Site:
    """`pages` pages, each linking to `links` others: some broken (a page past the last one),
    some off-site, some absolute, some with a `#fragment`. The same draws as the Rust site."""

    def __init__(self, pages, links, broken_pct, offsite_pct, seed, latency_ms):
        pages = max(pages, 1)
        rng = dojo.SplitMix64(seed)
        below = lambda n: rng.next_u64() % n  # noqa: E731
        broken_pool = max(pages // 4, 3)
        self.latency_ms, self.hits, self.links = latency_ms, collections.Counter(), []
        for _ in range(pages):
            page = []
            for _ in range(links):
                roll = below(100)
                if roll < broken_pct:
                    page.append(("broken", pages + below(broken_pool)))
                elif roll < broken_pct + offsite_pct:
                    page.append(("offsite", below(pages)))
                else:
                    target = below(pages)
                    kind = {0: "absolute", 1: "fragment"}.get(below(8), "page")
                    page.append((kind, target))
            self.links.append(page)

    def html(self, n, host):
        out = f"<html><head><title>Page {n}</title></head><body>\n<h1>Page {n}</h1>\n"
        for kind, target in self.links[n]:
            href = {
                "absolute": f"http://{host}{path_of(target)}",
                "fragment": f"{path_of(target)}#section",
                "offsite": f"http://{OFFSITE_HOST}{path_of(target)}",
            }.get(kind, path_of(target))
            out += f'<p><a href="{href}">{href}</a></p>\n'
        return out + "</body></html>\n"

    def page(self, path, host):
        """(status, body) for a GET of `path`."""
        self.hits[path] += 1
        n = 0 if path == "/" else path.removeprefix("/page/")
        if str(n).isdigit() and int(n) < len(self.links):
            return "200 OK", self.html(int(n), host)
        return "404 Not Found", f"no page at {path}"


class SiteConnection(asyncio.Protocol):
    """One client connection, driven by callbacks inside the site server's lane (as hyper
    drives them inside the Rust server's task): no Task, so no lane of its own."""

    def __init__(self, site, open_conns):
        self.site, self.open_conns, self.buffer = site, open_conns, b""

    def connection_made(self, transport):
        self.transport = transport
        self.open_conns.add(transport)

    def connection_lost(self, exc):
        self.open_conns.discard(self.transport)

    def data_received(self, data):
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            lines = head.decode().split("\r\n")
            path = lines[0].split()[1]
            host = next((h[5:].strip() for h in lines if h.lower().startswith("host:")), "")
            status, body = self.site.page(path, host or "127.0.0.1")
            loop = asyncio.get_running_loop()
            loop.call_later(self.site.latency_ms / 1000, self.respond, status, body.encode())

    def respond(self, status, body):
        if not self.transport.is_closing():
            head = f"HTTP/1.1 {status}\r\ncontent-length: {len(body)}\r\n\r\n"
            self.transport.write(head.encode() + body)


async def serve(site, listener, listening, stop):
    open_conns, accepted = set(), 0

    def connection():
        nonlocal accepted
        accepted += 1
        return SiteConnection(site, open_conns)

    server = await asyncio.get_running_loop().create_server(connection, sock=listener)
    dojo.mark(f"listening on 127.0.0.1:{listener.getsockname()[1]}")
    listening.set()
    await stop.wait()
    server.close()  # the port closes
    for transport in list(open_conns):
        transport.close()
    await server.wait_closed()
    return f"{accepted} connections, {sum(site.hits.values())} requests"


# --- the crawler -------------------------------------------------------------------------------


async def get(url):
    """GET `url` over a connection of its own: (status, body text)."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    try:
        request = f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n\r\n"
        writer.write(request.encode())
        await writer.drain()
        status = (await reader.readline()).decode().split(" ", 1)[1].strip()
        headers = {}
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
        # This server always sends Content-Length (no chunked bodies to decode).
        body = await reader.readexactly(int(headers["content-length"]))
        return status, body.decode()
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


def hrefs(html):
    """Every `href="..."` on a page."""
    return [s.split('"', 1)[0] for s in html.split('href="')[1:]]


class BrokenLink(Exception):
    """A same-site link that answered with an error."""


class Crawl:
    """The crawl's shared state: one queue, one visited set, one count of pages not yet done."""

    def __init__(self, start, max_pages):
        parts = urlsplit(start)
        self.origin = f"{parts.scheme}://{parts.netloc}"  # links elsewhere are not followed
        self.max_pages = max_pages
        # Marked when a URL is *queued*, not when it is fetched: no URL can be queued twice,
        # even by two workers reading pages that link to it at the same moment.
        self.visited = set()
        self.queue = collections.deque()
        self.pending = 0  # queued or being fetched: at zero nothing more can ever be queued
        self.changed = asyncio.Condition()
        self.in_flight = dojo.gauge("in_flight")
        self.fetched, self.broken, self.offsite = 0, [], 0

    def enqueue(self, url, origin_page):
        """Queue `url` (found on `origin_page`) unless off-site, already seen, or over budget."""
        url = urldefrag(url).url  # `/page/3#top` is `/page/3`
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" != self.origin:
            self.offsite += 1
            return
        if len(self.visited) >= self.max_pages or url in self.visited:
            return
        self.visited.add(url)
        self.pending += 1
        self.queue.append((url, origin_page))
        dojo.series("queue_depth", len(self.queue))

    async def next(self):
        """The next URL to fetch; None once the queue is empty and no page is being fetched."""
        async with self.changed:
            await self.changed.wait_for(lambda: self.queue or self.pending == 0)
            if not self.queue:
                return None
            item = self.queue.popleft()
            dojo.series("queue_depth", len(self.queue))
            return item

    async def visit(self, url, origin_page):
        """Fetch one page, queue its links, then count it done."""
        path = urlsplit(url).path
        try:
            with self.in_flight:
                status, html = await get(url)
            if not status.startswith("2"):
                broken = f"{path} (linked from {origin_page})"
                dojo.mark(f"broken link {broken}")
                self.broken.append(broken)
                raise BrokenLink(f"{status}: broken link from {origin_page}")
            for href in hrefs(html):
                self.enqueue(urljoin(url, href), path)
            return status
        finally:
            self.fetched += 1
            # Its links are queued first, so `pending` cannot touch zero while work remains.
            self.pending -= 1
            async with self.changed:
                self.changed.notify_all()  # new URLs to take, or the crawl is over


async def sequential(crawl):
    """The guide's loop: one page at a time, so never more than one request in flight."""
    while item := await crawl.next():
        url, origin_page = item
        with contextlib.suppress(Exception):  # a broken link is reported; the crawl goes on
            await dojo.lane(f"GET {urlsplit(url).path}", crawl.visit(url, origin_page))


async def worker(crawl):
    pages = 0
    while item := await crawl.next():
        url, origin_page = item
        with contextlib.suppress(Exception):
            await dojo.lane(f"GET {urlsplit(url).path}", crawl.visit(url, origin_page))
        pages += 1
    return f"{pages} pages"


async def with_workers(crawl, n):
    """`n` workers take URLs from the shared queue until `next` says the crawl is over."""
    workers = [asyncio.create_task(worker(crawl), name=f"worker {w}") for w in range(1, n + 1)]
    await asyncio.gather(*workers)


async def main(
    variant="sequential",
    pages=30,
    links=3,
    broken_pct=10,
    offsite_pct=10,
    max_pages=100,
    workers=5,
    latency_ms=50,
    seed=1,
):
    site = Site(pages, links, broken_pct, offsite_pct, seed, latency_ms)
    listener = socket.create_server(("127.0.0.1", 0))  # loopback only, any free port
    host, port = listener.getsockname()
    listening, stop = asyncio.Event(), asyncio.Event()
    server = asyncio.create_task(serve(site, listener, listening, stop), name="site server")
    await listening.wait()
    dojo.metric("server_addr", f"{host}:{port}")
    start = f"http://{host}:{port}/"
    crawl = Crawl(start, max_pages)
    crawl.enqueue(start, "(start)")
    started = time.monotonic()
    try:
        async with asyncio.timeout(RUN_BUDGET_S):
            if variant == "sequential":
                await sequential(crawl)
            else:
                await with_workers(crawl, workers)
    except TimeoutError:
        dojo.mark("time budget reached: the crawl stops")
    secs = time.monotonic() - started
    dojo.metric("pages_fetched", crawl.fetched)
    dojo.metric("broken_links", len(crawl.broken))
    dojo.metric("broken", crawl.broken)
    dojo.metric("offsite_links_skipped", crawl.offsite)
    dojo.metric("max_in_flight", crawl.in_flight.max)
    dojo.metric("pages_per_s", round(crawl.fetched / max(secs, 1e-9), 1))
    dojo.metric("duplicate_fetches", sum(1 for n in site.hits.values() if n > 1))
    stop.set()
    await server


if __name__ == "__main__":
    dojo.run(main, variants=("sequential", "workers"), clock="real")
