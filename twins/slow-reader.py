"""write versus drain, a writer and a slow reader over TCP: the asyncio twin of `slow-reader`."""

import asyncio
import socket

import dojo

# The kernel buffers asked for on both sockets (Linux doubles it, and keeps a minimum): small, so
# a few hundred KiB are far more than they hold.
SOCKET_BUFFER = 4096


class Buffered:
    """What the writer's transport holds that the kernel has not yet taken, recorded as the
    `buffered_kb` series (rounded up to whole KiB) each time it is looked at."""

    def __init__(self, transport):
        self.transport, self.max = transport, 0
        dojo.series("buffered_kb", 0)

    def look(self):
        now = self.transport.get_write_buffer_size()
        self.max = max(self.max, now)
        dojo.series("buffered_kb", kib(now))


def kib(size):
    """Whole KiB, rounded up: a byte left is not nothing."""
    return -(-size // 1024)


async def write_without_drain(writer, chunks, chunk_kb, buffered):
    """`no-drain`: write never waits. Whatever the socket does not take at once stays in the
    transport's buffer, in this process's memory, however far behind the reader is."""
    for _ in range(chunks):
        writer.write(b"x" * (chunk_kb * 1024))
        buffered.look()
    dojo.mark("all written")
    writer.write_eof()  # sent once the buffer is: then the reader's read returns b""
    return f"{chunks} chunks handed over, none waited for"


async def write_and_drain(writer, chunks, chunk_kb, buffered):
    """`drain`: after each write, drain waits while the buffer is above the transport's high
    water mark (64 KiB by default), until it is down to the low one."""
    for _ in range(chunks):
        writer.write(b"x" * (chunk_kb * 1024))
        buffered.look()
        await writer.drain()
    dojo.mark("all written")
    writer.write_eof()
    return f"{chunks} chunks written"


async def read_slowly(reader, read_kb, read_every_ms, buffered):
    """The slow reader: a pause, then at most `read_kb`, until the end of the stream."""
    total = reads = 0
    while True:
        await asyncio.sleep(read_every_ms / 1000)
        data = await reader.read(read_kb * 1024)
        if not data:
            break
        total, reads = total + len(data), reads + 1
        buffered.look()  # each read makes room for the writer's transport to send more
    dojo.mark("end of stream")
    dojo.metric("read_kb", total // 1024)
    return f"{total // 1024} KiB in {reads} reads"


def listener():
    """Small kernel buffers on the writer's side (the accepted socket inherits them)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SOCKET_BUFFER)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    return sock


async def connect(port, read_kb):
    """The reader's end: a small receive buffer, and a StreamReader limit of one read, since the
    transport keeps reading from the socket into the StreamReader until it holds twice that."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SOCKET_BUFFER)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    return await asyncio.open_connection(sock=sock, limit=read_kb * 1024)


async def main(variant="no-drain", chunks=32, chunk_kb=16, read_kb=4, read_every_ms=2):
    accepted = asyncio.get_running_loop().create_future()
    server = await asyncio.start_server(lambda r, w: accepted.set_result(w), sock=listener())
    port = server.sockets[0].getsockname()[1]
    dojo.metric("port", port)
    reader, reader_side = await connect(port, read_kb)
    writer = await accepted
    # Each chunk goes as soon as the window allows, not held back for an acknowledgement.
    writer.transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buffered = Buffered(writer.transport)
    write = write_and_drain if variant == "drain" else write_without_drain
    writing = asyncio.create_task(write(writer, chunks, chunk_kb, buffered), name="writer")
    reading = asyncio.create_task(
        read_slowly(reader, read_kb, read_every_ms, buffered), name="reader"
    )
    await asyncio.gather(writing, reading)
    dojo.metric("max_buffered_kb", kib(buffered.max))
    dojo.metric("writer_waits", dojo.polls("writer") - 1)
    for w in (writer, reader_side):
        w.close()
        await w.wait_closed()
    server.close()
    await server.wait_closed()


if __name__ == "__main__":
    dojo.run(main, variants=("no-drain", "drain"), clock="real")
