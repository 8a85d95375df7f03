"""Chat rooms over asyncio streams, with a slow client: the asyncio twin of the `chat` demo."""

import asyncio
import collections
import contextlib
import socket

import dojo


class Tally:
    """Counts per client, published as one metric (a JSON object) on every change."""

    def __init__(self, name):
        self.name, self.counts = name, {}
        dojo.metric(name, {})

    def add(self, who, n):
        self.counts[who] = self.counts.get(who, 0) + n
        dojo.metric(self.name, dict(sorted(self.counts.items())))
        if self.name == "lost":
            dojo.series("lost", sum(self.counts.values()))


async def close(writer):
    """Close a stream and wait until it is closed: the socket is really gone when we go on."""
    writer.close()
    with contextlib.suppress(ConnectionError):  # a client that reset it has closed it too
        await writer.wait_closed()


class Member:
    """A connection in a room: a bounded queue, and a sender task that is the only writer to
    the socket. The room puts into the queue and never waits; the sender waits for the client
    (drain), so a slow client holds up its own sender and nobody else."""

    def __init__(self, name, capacity, tally):
        self.name, self.tally = name, tally
        self.queue = asyncio.Queue(maxsize=capacity)
        self.missed = 0  # dropped since the sender last took a message
        self.sent = self.lost = 0

    def deliver(self, line):
        """Never waits. A full queue loses its oldest message, as a lagging tokio broadcast
        receiver does, and the member is told how many it missed before the next one."""
        if self.queue.full():
            self.queue.get_nowait()
            self.missed += 1
        self.queue.put_nowait(line)

    def leave(self):
        """The client is gone: the sender stops after what it is writing now."""
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(None)

    async def send(self, writer, hello):
        """The only writer to this socket: the room's messages out, one at a time, each
        waiting while the client's socket is full. Meanwhile the room moves on."""
        # drain() waits only while more than its high-water mark (64 KiB) is buffered here:
        # at 0 it waits until the kernel has taken every byte, as tokio's write_all does.
        writer.transport.set_write_buffer_limits(high=0)
        try:
            writer.write(hello.encode())
            await writer.drain()
            while (line := await self.queue.get()) is not None:
                if self.missed:
                    n, self.missed = self.missed, 0
                    self.lost += n
                    self.tally.add(self.name, n)
                    dojo.mark(f"{self.name} lagged: lost {n}")
                    writer.write(f"LOST {n}\n".encode())
                writer.write(line.encode())
                self.sent += 1
                await writer.drain()
        except ConnectionError:
            pass  # the client hung up: nothing more to send
        finally:
            await close(writer)
        return f"{self.name}: {self.sent} sent, {self.lost} lost"


class Room:
    def __init__(self, history):
        self.members, self.ended = {}, False
        self.recent = collections.deque(maxlen=history)  # the last `history` messages


class Server:
    def __init__(self, capacity, history):
        self.rooms, self.capacity, self.history = {}, capacity, history
        self.lost = Tally("lost")

    def publish(self, room, sender, text):
        """To every member but the sender, and kept for those who join later. Never waits."""
        line = f"MSG {sender} {text}\n"
        room.recent.append(line)
        self.fan_out(room, sender, line)

    def end(self, room, sender):
        """The talker is done: END to the members now, and to whoever joins later."""
        room.ended = True
        self.fan_out(room, sender, "END\n")

    @staticmethod
    def fan_out(room, sender, line):
        for name, member in room.members.items():
            if name != sender:
                member.deliver(line)

    async def connection(self, conn, reader, writer):
        """One client: `JOIN <room> <name>`, then this task reads its lines while a sender task
        writes the room's messages to it."""
        sock = writer.transport.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # each line goes at once
        hello = (await reader.readline()).decode().rstrip("\n")
        verb, room_name, name = (hello.split(" ", 2) + ["", ""])[:3]
        if verb != "JOIN" or not name:
            await close(writer)
            raise ValueError(f"expected JOIN <room> <name>, got `{hello}`")
        room = self.rooms.setdefault(room_name, Room(self.history))
        member = room.members[name] = Member(name, self.capacity, self.lost)
        dojo.series("members", len(room.members))
        # The history and the membership in one step (no await between): nothing missed or
        # doubled between the two.
        recent = "".join(f"HIST {line}" for line in room.recent)
        end = "END\n" if room.ended else ""
        # The sender is this task's child: it never outlives the connection.
        async with asyncio.TaskGroup() as tg:
            tg.create_task(member.send(writer, f"{recent}JOINED\n{end}"), name=f"{conn} sender")
            try:
                while line := (await reader.readline()).decode():
                    line = line.rstrip("\n")
                    if line.startswith("SAY "):
                        self.publish(room, name, line.removeprefix("SAY "))
                    elif line == "BYE":
                        self.end(room, name)
                        break
            except ConnectionError:
                pass  # the client hung up with data still unread: it left all the same
            finally:
                del room.members[name]
                dojo.series("members", len(room.members))
                member.leave()
        dojo.mark(f"{name} left")
        return f"{name} left"


async def serve(sock, chat, stop):
    """Accept connections until told to stop; each runs in a task of its own."""
    conns = []

    def accepted(reader, writer):
        name = f"conn {len(conns) + 1}"
        conns.append(asyncio.create_task(chat.connection(name, reader, writer), name=name))

    server = await asyncio.start_server(accepted, sock=sock)
    await stop.wait()
    server.close()  # the port closes
    # The clients have hung up: their connections end as they notice; any left are cancelled.
    _, stuck = await asyncio.wait(conns, timeout=1) if conns else ((), ())
    for conn in stuck:
        conn.cancel()
    await asyncio.gather(*stuck, return_exceptions=True)
    # Every connection is closed now: on 3.12 and later wait_closed waits for them too.
    await server.wait_closed()
    return "stopped"


def listener():
    """Small kernel buffers (accepted sockets inherit them): a client that reads slowly fills
    them after a few messages rather than a few megabytes."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    return sock


async def join(port, name, slow=False, line_bytes=512):
    """Connect, join the lobby and read up to JOINED: returns the streams and the history."""
    sock = socket.socket()
    # Without it Nagle's algorithm holds each short line until the last is acknowledged, and the
    # server delays its acknowledgements by up to 40 ms: the talker's lines would arrive in
    # bursts of seven or more, enough to overflow a small room. (asyncio sets it on the sockets
    # it opens from an address, not on one made with socket.socket().)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if slow:
        # A small receive window and a small read buffer: the server's writes back up.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    limit = line_bytes + 64 if slow else 2**16
    reader, writer = await asyncio.open_connection(sock=sock, limit=limit)
    writer.write(f"JOIN lobby {name}\n".encode())
    history = []
    while (line := await next_line(reader)) != "JOINED":
        if line is None:
            raise ConnectionError("the server closed the connection while joining")
        history.append(int(line.split(" ")[3]))  # HIST MSG <from> <seq> <text>
    return reader, writer, history


async def next_line(reader):
    """The next line, or None at the end; TimeoutError after 10 s of silence."""
    async with asyncio.timeout(10):
        line = await reader.readline()
    return line.decode().rstrip("\n") if line else None


async def client(port, name, role, arg, joined, sent, report, line_bytes):
    if role == "late":
        async with sent:
            await sent.wait_for(lambda: sent.count >= arg)
    reader, writer, history = await join(port, name, slow=role == "slow", line_bytes=line_bytes)
    joined.release()
    if role == "late":
        dojo.metric("history_sent", len(history))
        dojo.metric("history_seqs", history)
    if history:
        dojo.mark(f"{name} got {len(history)} history lines")
    got, told = [], 0
    try:
        while True:
            if role == "slow":
                await asyncio.sleep(arg / 1000)
            line = await next_line(reader)
            if line is None:
                raise ConnectionError("the server closed the connection")
            if line == "END":
                break
            if line.startswith("LOST "):
                told += int(line.removeprefix("LOST "))
                report["told"].add(name, int(line.removeprefix("LOST ")))
                continue
            got.append(int(line.split(" ")[2]))  # MSG <from> <seq> <text>
            report["received"].add(name, 1)
            if role == "leaver" and len(got) == arg:
                dojo.mark(f"{name} leaves")
                return f"left after {len(got)} messages"
    finally:
        await close(writer)
    # In order, no duplicates; after the history, the live stream picks up where it ended.
    if got != sorted(set(got)) or (history and got and got[0] != history[-1] + 1):
        raise ValueError(f"out of order: history {history}, then {got}")
    return f"{len(got)} received, {told} lost" if told else f"{len(got)} received"


async def talker(port, messages, line_bytes, every_ms, joined, readers, sent):
    """Join, wait until the first readers have joined, send the messages, say BYE."""
    reader, writer, _ = await join(port, "talker")
    async with asyncio.timeout(5):
        for _ in range(readers):
            await joined.acquire()
    for n in range(1, messages + 1):
        head = f"SAY {n} "
        writer.write(f"{head}{'x' * max(line_bytes - len(head) - 12, 1)}\n".encode())
        await writer.drain()
        async with sent:
            sent.count = n
            sent.notify_all()
        await asyncio.sleep(every_ms / 1000)
    writer.write(b"BYE\n")
    await writer.drain()
    while await next_line(reader) is not None:  # the server hangs up once the room has ended
        pass
    await close(writer)
    async with sent:
        sent.count = messages + 1
        sent.notify_all()
    return f"{messages} messages sent"


async def main(
    variant="broadcast",
    fast_clients=2,
    messages=60,
    message_bytes=512,
    send_every_ms=5,
    room_capacity=8,
    slow_read_ms=20,
    history=5,
    late_join_after=30,
    leave_after=20,
):
    sock = listener()
    port = sock.getsockname()[1]
    dojo.metric("port", port)
    stop = asyncio.Event()
    serving = asyncio.create_task(serve(sock, Server(room_capacity, history), stop), name="server")
    joined, sent = asyncio.Semaphore(0), asyncio.Condition()
    sent.count = 0
    report = {"received": Tally("received"), "told": Tally("lost_told")}
    readers = [(f"fast {i}", "fast", 0) for i in range(1, fast_clients + 1)]
    readers += [("slow", "slow", slow_read_ms), ("leaver", "leaver", leave_after)]
    # `messages` or more: after the talker's goodbye.
    late_after = messages + 1 if late_join_after >= messages else late_join_after
    talk = talker(port, messages, message_bytes, send_every_ms, joined, len(readers), sent)
    clients = [asyncio.create_task(talk, name="talker")]
    for name, role, arg in readers + [("late", "late", late_after)]:
        task = client(port, name, role, arg, joined, sent, report, message_bytes)
        clients.append(asyncio.create_task(task, name=name))
    await asyncio.gather(*clients)
    stop.set()
    await serving


if __name__ == "__main__":
    dojo.run(main, variants=("broadcast",), clock="real")
