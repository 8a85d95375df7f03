"""A real connection pool over SQLite: the asyncio twin of the `connection-pool` demo.

The standard library has no async database driver and no pool, so the pool is here, over
`sqlite3` connections whose calls run on worker threads (`asyncio.to_thread`), as sqlx runs each
SQLite connection on a thread of its own. Its rules are sqlx's: at most `max_connections` open,
`min_connections` opened up front and kept; a task waits in `acquire`, first come first served,
at most `acquire_timeout_ms`; an idle connection is checked before it is handed out and when it
comes back; connections idle for `idle_timeout_ms` are closed down to the minimum.
"""

import asyncio
import collections
import concurrent.futures
import contextlib
import os
import sqlite3
import tempfile
import threading
import time

import dojo

ACCOUNTS = 4
OPENING_BALANCE = 1000
# The slow read: SQLite counts the combinations of a 200-row table with itself, 40,000 for each
# of ? rows of a longer one: real work on the connection's own thread.
SLOW_READ = "SELECT count(*) FROM units AS a, digits AS b, digits AS c WHERE a.i < ?"
# Rows of `units`: the longest read there can be.
MAX_UNITS = 10_000


class Conn:
    """One SQLite connection. Its calls run on a worker thread, one at a time: a call left
    running by a task that was cancelled meanwhile finishes before the next one starts."""

    def __init__(self, db, number):
        self.db = db
        self.number = number
        self.lock = threading.Lock()
        self.expiry = None  # the timer that closes it once it has been idle too long

    @classmethod
    async def connect(cls, path, number):
        # busy timeout 5 s: a writer that finds the write lock taken waits for it.
        db = await asyncio.to_thread(
            sqlite3.connect, path, timeout=5, isolation_level=None, check_same_thread=False
        )
        return cls(db, number)

    async def call(self, fn, *args):
        """Run `fn(db, *args)` on a worker thread; this task just awaits the answer."""
        try:
            return await asyncio.to_thread(self._locked, fn, *args)
        except asyncio.CancelledError:
            # Nobody waits for the answer any more: SQLite stops the statement it is running.
            with contextlib.suppress(sqlite3.Error):  # closed meanwhile: nothing to stop
                self.db.interrupt()
            raise

    def _locked(self, fn, *args):
        with self.lock:
            return fn(self.db, *args)

    async def healthy(self):
        """The health check: the connection answers, and no transaction was left open on it."""
        try:
            return await self.call(ping)
        except sqlite3.Error:
            return False

    def close_blocking(self):
        self._locked(sqlite3.Connection.close)


def ping(db):
    return not db.in_transaction and db.execute("SELECT 1").fetchone() == (1,)


class Pool:
    """At most `max_size` connections, `min_size` of them opened up front and kept when idle.
    A task waits in `acquire`, in line, until one is free, for at most the acquire timeout."""

    def __init__(self, path, min_size, max_size, acquire_timeout_ms, idle_timeout_ms):
        self.path = path
        self.max_size = max_size
        self.min_size = min(min_size, max_size)  # as sqlx does: the min never exceeds the max
        self.acquire_timeout = acquire_timeout_ms / 1000
        self.idle_timeout = idle_timeout_ms / 1000 if idle_timeout_ms else None  # 0: never
        self.size = 0  # connections open, in use or idle
        self.opened = 0
        self.idle = collections.deque()
        # One permit per connection handed out; asyncio.Semaphore serves its waiters in order.
        self.permits = asyncio.Semaphore(max_size)
        self.closing = set()  # idle connections being closed on a worker thread
        self.closed = False

    async def open(self):
        """Open `min_size` connections now (and at least one, to be sure the file opens)."""
        while self.size < max(self.min_size, 1):
            self._make_idle(await self._connect())

    async def acquire(self):
        """A connection, within the acquire timeout (TimeoutError otherwise)."""
        async with asyncio.timeout(self.acquire_timeout):
            # With `max_size` connections all in use this waits, in line, until one comes back.
            await self.permits.acquire()
            try:
                return await self._take_or_open()
            except BaseException:
                self.permits.release()
                raise

    async def _take_or_open(self):
        while self.idle:
            conn = self.idle.popleft()  # the one idle longest, as sqlx's queue does
            if conn.expiry is not None:
                conn.expiry.cancel()
            try:
                ok = await conn.healthy()
            except BaseException:  # the acquire timed out meanwhile: this one is not reused
                await self._close(conn)
                raise
            if ok:
                return conn
            await self._close(conn)  # failed its check: a new one takes its place
        return await self._connect()

    async def _connect(self):
        # Counted before it exists, so that nobody else opens past the max meanwhile.
        self.size += 1
        try:
            self.opened += 1
            conn = await Conn.connect(self.path, self.opened)
        except BaseException:
            self.size -= 1
            raise
        try:
            # Each connection gets a number, kept in a TEMP table (which only it can see).
            await conn.call(number_it, conn.number)
        except BaseException:
            await self._close(conn)
            raise
        dojo.mark(f"opened conn #{conn.number}")
        return conn

    async def release(self, conn):
        """Back to the pool: checked, then idle; closed if it fails the check or the pool is
        closed. Then the first task still waiting gets it."""
        try:
            if not self.closed and await conn.healthy():
                self._make_idle(conn)
            else:
                await self._close(conn)
                if not self.closed and self.size < self.min_size:
                    self._make_idle(await self._connect())
        finally:
            self.permits.release()

    def _make_idle(self, conn):
        self.idle.append(conn)
        if self.idle_timeout is not None:
            loop = asyncio.get_running_loop()
            conn.expiry = loop.call_later(self.idle_timeout, self._expire, conn)

    def _expire(self, conn):
        """Idle for idle_timeout: closed, unless the pool would go below its minimum."""
        conn.expiry = None
        if conn in self.idle and self.size > self.min_size:
            self.idle.remove(conn)
            self.size -= 1
            # A timer cannot await: the close runs on a worker thread, and `close()` waits for it.
            loop = asyncio.get_running_loop()
            self.closing.add(loop.run_in_executor(None, conn.close_blocking))

    async def _close(self, conn):
        self.size -= 1
        await asyncio.to_thread(conn.close_blocking)

    async def close(self):
        """Close the idle connections now; one in use is closed when it comes back."""
        self.closed = True
        while self.idle:
            conn = self.idle.popleft()
            if conn.expiry is not None:
                conn.expiry.cancel()
            await self._close(conn)
        await asyncio.gather(*self.closing)


def number_it(db, number):
    db.execute("CREATE TEMP TABLE conn_info AS SELECT ? AS id", (number,))


class Opened:
    """What the `open pool` lane hands back; its text is the lane's detail."""

    def __init__(self, pool, units, query_ms):
        self.pool, self.units, self.query_ms = pool, units, query_ms

    def __str__(self):
        return (
            f"{self.pool.size} connection(s) open; slow read = {self.units} × 40,000 rows "
            f"≈ {self.query_ms} ms"
        )


def make_wal(path):
    # Turning a new file to WAL (readers never block the writer) needs the database to itself:
    # one connection does it before the pool opens several at once. The mode stays in the file.
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
    finally:
        db.close()


def create_tables(db):
    db.executescript(
        """
        CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL);
        CREATE TABLE transfers (task INTEGER, conn INTEGER, from_id INTEGER, to_id INTEGER,
                                amount INTEGER);
        CREATE TABLE digits (i INTEGER PRIMARY KEY);
        INSERT INTO digits (i)
            WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 199)
            SELECT i FROM n;
        CREATE TABLE units (i INTEGER PRIMARY KEY);
        INSERT INTO units (i)
            WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 9999)
            SELECT i FROM n;
        """
    )
    for account in range(1, ACCOUNTS + 1):
        db.execute("INSERT INTO accounts (id, balance) VALUES (?, ?)", (account, OPENING_BALANCE))


def timed_read(db, units):
    """The slow read, and how long it took, in seconds."""
    t = time.perf_counter()
    db.execute(SLOW_READ, (units,)).fetchone()
    return time.perf_counter() - t


async def open_pool(path, min_connections, max_connections, acquire_timeout_ms, idle_timeout_ms,
                    query_ms):
    """Open the pool, set up the tables and measure how many units of SLOW_READ this machine
    does in query_ms (on one connection, so the pool holds just its minimum, at least one)."""
    await asyncio.to_thread(make_wal, path)
    pool = Pool(path, min_connections, max_connections, acquire_timeout_ms, idle_timeout_ms)
    await pool.open()
    conn = await pool.acquire()
    try:
        await conn.call(create_tables)
        units = 0
        if query_ms > 0:
            # Large enough that a call's fixed cost does not count as rows.
            probe = 16
            best = min([await conn.call(timed_read, probe) for _ in range(3)])
            units = min(max(round(query_ms / 1000 / max(best / probe, 1e-12)), 1), MAX_UNITS)
    except BaseException:
        await pool.release(conn)
        await pool.close()
        raise
    await pool.release(conn)
    return Opened(pool, units, query_ms)


def read(db, units):
    """Which connection this is, then the slow read."""
    (conn_id,) = db.execute("SELECT id FROM conn_info").fetchone()
    db.execute(SLOW_READ, (units,)).fetchone()
    return conn_id


def transfer(db, k, conn_id):
    """Three statements that commit together or not at all."""
    from_id, to_id = k % ACCOUNTS + 1, (k + 1) % ACCOUNTS + 1
    # IMMEDIATE takes the write lock now; a second writer waits (busy timeout) instead of failing.
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute("UPDATE accounts SET balance = balance - 10 WHERE id = ?", (from_id,))
        db.execute("UPDATE accounts SET balance = balance + 10 WHERE id = ?", (to_id,))
        db.execute("INSERT INTO transfers VALUES (?, ?, ?, ?, 10)", (k, conn_id, from_id, to_id))
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")  # nothing of the transfer stays
        raise


async def query(pool, k, units, waiting, waits):
    """One task: wait for a connection, use it, hand it back."""
    loop = asyncio.get_running_loop()
    asked = loop.time()
    waiting.enter()
    try:
        conn = await pool.acquire()
    except TimeoutError:
        conn = None
    finally:
        waiting.leave()
    waited = int(waits.record(loop.time() - asked))
    if conn is None:
        dojo.mark("gave up waiting")
        raise TimeoutError(f"no connection within {waited} ms")
    dojo.mark("acquired")
    try:
        conn_id = await conn.call(read, units)
        dojo.mark("read done")
        await conn.call(transfer, k, conn_id)
        dojo.mark(f"committed on conn #{conn_id}")
    finally:
        await pool.release(conn)  # the first task still waiting gets it
    return f"waited {waited} ms; conn #{conn_id}"


class Waits:
    """How long each task waited for its connection."""

    def __init__(self):
        self.longest = 0.0

    def record(self, seconds):
        """Keep it; return it in milliseconds."""
        self.longest = max(self.longest, seconds)
        return seconds * 1000


async def run_queries(pool, queries, units, waits):
    """Start every task at once: more tasks than connections."""
    waiting = dojo.gauge("waiting")
    tasks = [
        asyncio.create_task(query(pool, k, units, waiting, waits), name=f"query {k}")
        for k in range(1, queries + 1)
    ]
    # A task that fails or times out fails alone: gather collects every outcome, where a
    # TaskGroup would cancel the others at the first failure.
    await asyncio.gather(*tasks, return_exceptions=True)


def open_files(path):
    """File descriptors of this process open on the database file (each SQLite connection holds
    one): /proc/self/fd on Linux, None elsewhere."""
    try:
        fds = os.listdir("/proc/self/fd")
    except OSError:
        return None
    n = 0
    for fd in fds:
        try:
            n += os.readlink(f"/proc/self/fd/{fd}") == path
        except OSError:
            pass  # closed meanwhile
    return n


class Watch:
    """What the monitor saw: the pool's own count and the kernel's count of open files."""

    def __init__(self, path):
        self.path = os.path.realpath(path)
        self.max_size = 0
        self.max_files = None


async def monitor(pool, watch, stop):
    """Sample the pool every 2 ms: its size, its idle connections, the open database files."""
    while True:
        dojo.series("pool_size", pool.size)
        dojo.series("pool_idle", len(pool.idle))
        watch.max_size = max(watch.max_size, pool.size)
        files = open_files(watch.path)
        if files is not None:
            watch.max_files = max(watch.max_files or 0, files)
        await asyncio.sleep(0.002)
        if stop.is_set():
            break
    return f"at most {watch.max_size} connection(s) open"


async def shrink_to_min(pool, idle_timeout_ms):
    """Wait (bounded) until the idle connections are closed down to the minimum."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + (idle_timeout_ms * 2 + 200) / 1000
    while loop.time() < deadline and (pool.size != pool.min_size or
                                      len(pool.idle) != pool.min_size):
        await asyncio.sleep(0.005)


def totals(db):
    return db.execute(
        "SELECT (SELECT sum(balance) FROM accounts), (SELECT count(*) FROM transfers)"
    ).fetchone()


async def run_pool(path, queries, min_connections, max_connections, query_ms,
                   acquire_timeout_ms, idle_timeout_ms):
    loop = asyncio.get_running_loop()
    # A worker thread for every connection that can be busy at once, as sqlx has one per
    # connection (the default executor has min(32, CPUs + 4)), and one for the pool's own work.
    loop.set_default_executor(concurrent.futures.ThreadPoolExecutor(max_connections + 2))
    opened = await dojo.lane("open pool", open_pool(
        path, min_connections, max_connections, acquire_timeout_ms, idle_timeout_ms, query_ms
    ))
    pool = opened.pool
    try:
        stop, watch = asyncio.Event(), Watch(path)
        watching = asyncio.create_task(monitor(pool, watch, stop), name="pool monitor")
        waits = Waits()
        await run_queries(pool, queries, opened.units, waits)
        dojo.metric("max_acquire_wait_ms", round(waits.longest * 1000 * 10) / 10)

        conn = await pool.acquire()
        try:
            balance, transfers = await conn.call(totals)
        finally:
            await pool.release(conn)
        dojo.metric("balance_total", balance)
        dojo.metric("transfers_committed", transfers)
        if idle_timeout_ms > 0:
            dojo.mark("work done: idle connections start to age")
            await shrink_to_min(pool, idle_timeout_ms)
        dojo.metric("pool_size_at_end", pool.size)
    finally:
        await pool.close()
    dojo.mark("pool closed")
    stop.set()
    await watching
    dojo.metric("connections_opened", pool.opened)
    dojo.metric("max_pool_size", watch.max_size)
    if watch.max_files is not None:
        dojo.metric("max_open_db_files", watch.max_files)


async def main(
    variant="sqlx-pool",
    queries=8,
    min_connections=1,
    max_connections=3,
    query_ms=100,
    acquire_timeout_ms=5000,
    idle_timeout_ms=200,
):
    # The directory lives as long as this block: a finished or a cancelled run removes it, and
    # the database with it.
    with tempfile.TemporaryDirectory(prefix="asyncdojo-pool-") as tmp:
        dojo.metric("db_dir", tmp)
        await run_pool(os.path.join(tmp, "bank.db"), queries, min_connections, max_connections,
                       query_ms, acquire_timeout_ms, idle_timeout_ms)
    dojo.mark("temporary database removed")


if __name__ == "__main__":
    dojo.run(main, variants=("sqlx-pool",), clock="real")
