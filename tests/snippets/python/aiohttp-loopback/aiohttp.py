"""A stand-in for the part of aiohttp's client that the lessons use, for the snippet tests.

aiohttp is not installed where the tests run (standard library only), and there is no network.
This module answers `import aiohttp` with the same names and behaviour for what the snippets
call: ClientSession (one pool, used with `async with`), session.get() as a context manager
(or awaited), ClientTimeout, TCPConnector(limit=, limit_per_host=), and a response with
status, content_type, raise_for_status(), text(), json() and content.iter_chunked(). Every
request really goes over TCP, HTTP/1.1, to a loopback server this module starts on import,
which serves canned pages for any host (the site is below). It is not aiohttp: timeouts are
accepted and not enforced, and there is no TLS, no keep-alive and no redirects.
"""

import asyncio
import atexit
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

__all__ = [
    "ClientError", "ClientResponseError", "ClientSession", "ClientTimeout", "TCPConnector",
]

# The loopback site. example.com (and any other host) is a small linked site whose `?page=N`
# pages are large enough to arrive in several chunks; httpbin.org/get echoes its query as JSON.
_SITE = {
    "/": ["/a", "/b", "/a#top", "https://elsewhere.example/x"],
    "/a": ["/", "/c"],
    "/b": ["/missing", "/c"],
    "/c": [],
}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (the http.server name)
        url = urlsplit(self.path)
        host = self.headers.get("Host", "")
        query = dict(parse_qsl(url.query))
        if host == "httpbin.org" and url.path == "/get":
            self._send(200, "application/json",
                       json.dumps({"args": query, "url": f"https://{host}{self.path}"}).encode())
        elif "page" in query:
            body = f"<html><body><p>page {query['page']}</p>" + "<p>lorem ipsum</p>" * 12_000
            self._send(200, "text/html", (body + "</body></html>").encode())
        elif url.path in _SITE:
            links = "".join(f'<a href="{href}">{href}</a>' for href in _SITE[url.path])
            self._send(200, "text/html", f"<html><body>{links}</body></html>".encode())
        else:
            self._send(404, "text/plain", b"not found")

    def _send(self, status, content_type, body):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # the snippet's output only
        pass


_server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
_thread = threading.Thread(target=_server.serve_forever, name="loopback-site", daemon=True)
_thread.start()


@atexit.register
def _stop_server():
    _server.shutdown()
    _server.server_close()


class ClientError(Exception):
    pass


class ClientResponseError(ClientError):
    def __init__(self, status, message, url):
        super().__init__(f"{status}, message={message!r}, url={url!r}")
        self.status, self.message, self.url = status, message, url


class ClientTimeout:
    def __init__(self, total=None, connect=None, sock_read=None, sock_connect=None):
        self.total, self.connect = total, connect
        self.sock_read, self.sock_connect = sock_read, sock_connect


class TCPConnector:
    def __init__(self, limit=100, limit_per_host=0):
        self.limit, self.limit_per_host = limit, limit_per_host
        self._slots = None

    def _semaphore(self):
        # Made on first use, inside the running loop; the pool's connection limit.
        if self._slots is None:
            cap = min(x for x in (self.limit, self.limit_per_host) if x) if (
                self.limit or self.limit_per_host) else 1_000_000
            self._slots = asyncio.Semaphore(cap)
        return self._slots


class _Content:
    def __init__(self, response):
        self._response = response

    async def iter_chunked(self, n):
        while chunk := await self._response._read(n):
            yield chunk


class ClientResponse:
    def __init__(self, url, status, reason, headers, reader, writer, release):
        self.url, self.status, self.reason, self.headers = url, status, reason, headers
        self.content_type = headers.get("content-type", "application/octet-stream").split(";")[0]
        self.content = _Content(self)
        self._reader, self._writer, self._release = reader, writer, release
        self._left = int(headers.get("content-length", "0"))

    async def _read(self, n=-1):
        if self._left <= 0:
            return b""
        data = await self._reader.read(self._left if n < 0 else min(n, self._left))
        self._left -= len(data)
        return data

    async def read(self):
        parts = []
        while chunk := await self._read(64 * 1024):
            parts.append(chunk)
        return b"".join(parts)

    async def text(self):
        return (await self.read()).decode()

    async def json(self):
        return json.loads(await self.read())

    def raise_for_status(self):
        if self.status >= 400:
            raise ClientResponseError(self.status, self.reason, self.url)

    async def release(self):
        if self._writer is not None:
            writer, self._writer = self._writer, None
            writer.close()
            await writer.wait_closed()
            self._release()


class _RequestContext:
    """What session.get() returns: `async with` it (the body is read inside), or await it."""

    def __init__(self, coro):
        self._coro, self._response = coro, None

    def __await__(self):
        return self._coro.__await__()

    async def __aenter__(self):
        self._response = await self._coro
        return self._response

    async def __aexit__(self, *exc):
        await self._response.release()


class ClientSession:
    def __init__(self, timeout=None, connector=None, **_ignored):
        self.timeout = timeout or ClientTimeout(total=300)
        self.connector = connector or TCPConnector()
        self.closed = False

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await self.close()

    async def close(self):
        self.closed = True

    def get(self, url, **_ignored):
        return _RequestContext(self._get(url))

    async def _get(self, url):
        if self.closed:
            raise RuntimeError("Session is closed")
        slots = self.connector._semaphore()
        await slots.acquire()
        try:
            parts = urlsplit(url)
            target = parts.path or "/"
            if parts.query:
                target += "?" + parts.query
            reader, writer = await asyncio.open_connection(*_server.server_address[:2])
            writer.write(f"GET {target} HTTP/1.1\r\nHost: {parts.hostname}\r\n"
                         "Connection: close\r\n\r\n".encode())
            await writer.drain()
            _, status, reason = (await reader.readline()).decode().rstrip().split(" ", 2)
            headers = {}
            while (line := (await reader.readline()).decode().strip()):
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        except BaseException:
            slots.release()
            raise
        return ClientResponse(url, int(status), reason, headers, reader, writer, slots.release)
