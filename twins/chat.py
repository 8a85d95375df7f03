"""Chat rooms over asyncio streams, with a slow client: the asyncio twin of the `chat` demo."""

import asyncio
import collections
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


class Member:
    """A connection in a room. StreamWriter.write never waits: it buffers. A member whose
    buffer already holds `capacity` messages misses the new ones until it catches up, and is
    then told how many it lost."""

    def __init__(self, name, writer, capacity, tally):
        self.name, self.writer, self.capacity, self.tally = name, writer, capacity, tally
        self.lost = self.lost_in_all = 0

    def send(self, line, droppable=True):
        behind = self.writer.transport.get_write_buffer_size() // max(len(line), 1)
        if droppable and behind >= self.capacity:
            self.lost += 1
            self.lost_in_all += 1
            return
        if self.lost:
            self.tally.add(self.name, self.lost)
            dojo.mark(f"{self.name} lagged: lost {self.lost}")
            self.writer.write(f"LOST {self.lost}\n".encode())
            self.lost = 0
        self.writer.write(line.encode())


class Room:
    def __init__(self, history):
        self.members, self.ended = {}, False
        self.recent = collections.deque(maxlen=history)  # the last `history` messages


class Server:
    def __init__(self, capacity, history):
        self.rooms, self.capacity, self.history = {}, capacity, history
        self.lost = Tally("lost")

    def publish(self, room, sender, text):
        """Send to every member and keep it for those who join later. Never waits."""
        line = f"MSG {sender} {text}\n"
        room.recent.append(line)
        for name, member in room.members.items():
            if name != sender:
                member.send(line)

    async def connection(self, reader, writer):
        """One client: `JOIN <room> <name>`, then its lines in, the room's messages out."""
        hello = (await reader.readline()).decode().rstrip("\n")
        verb, room_name, name = (hello.split(" ", 2) + ["", ""])[:3]
        if verb != "JOIN" or not name:
            writer.close()
            raise ValueError(f"expected JOIN <room> <name>, got `{hello}`")
        room = self.rooms.setdefault(room_name, Room(self.history))
        member = room.members[name] = Member(name, writer, self.capacity, self.lost)
        dojo.series("members", len(room.members))
        # The history and the membership in one step (no await between): nothing missed or
        # doubled between the two.
        recent = "".join(f"HIST {line}" for line in room.recent)
        end = "END\n" if room.ended else ""
        writer.write(f"{recent}JOINED\n{end}".encode())
        try:
            while line := (await reader.readline()).decode():
                line = line.rstrip("\n")
                if line.startswith("SAY "):
                    self.publish(room, name, line.removeprefix("SAY "))
                elif line == "BYE":
                    # The talker is done: END to the members now, and to whoever joins later.
                    room.ended = True
                    for other in room.members.values():
                        if other is not member:
                            other.send("END\n", droppable=False)
                    break
        except ConnectionError:
            pass  # the client hung up with data still unread: it left all the same
        finally:
            del room.members[name]
            dojo.series("members", len(room.members))
            writer.close()
        dojo.mark(f"{name} left")
        return f"{name}: {member.lost_in_all} lost"


async def serve(sock, chat, stop):
    """Accept connections until told to stop; each runs in a task of its own."""
    conns = []

    def accepted(reader, writer):
        name = f"conn {len(conns) + 1}"
        conns.append(asyncio.create_task(chat.connection(reader, writer), name=name))

    server = await asyncio.start_server(accepted, sock=sock)
    await stop.wait()
    server.close()  # the port closes
    # The clients have hung up: their connections end as they notice; any left are cancelled.
    _, stuck = await asyncio.wait(conns, timeout=1) if conns else ((), ())
    for conn in stuck:
        conn.cancel()
    await asyncio.gather(*stuck, return_exceptions=True)
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
        writer.close()
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
    writer.close()
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
    dojo.run(main, clock="real")
