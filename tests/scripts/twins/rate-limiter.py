"""twins/rate-limiter.py as a learner would write it: no tracer (and no meter sampling the
bucket for the timeline)."""

import asyncio
import collections
import sys

# Limiter time is kept in ticks of 1/rate ns since the start: window / rate (1000 ms / 3) is
# rarely a whole number of nanoseconds; in ticks it is exactly window_ns, so nothing rounds.


class SlidingWindow:
    """At most `rate` grants in any window: remember when each recent grant happened."""

    def __init__(self, rate, window):
        self.rate, self.window, self.grants = rate, window, collections.deque()

    def expire(self, now):
        """Grants a whole window old no longer count."""
        while self.grants and self.grants[0] + self.window <= now:
            self.grants.popleft()

    def check(self, now):
        """None if a request may go at `now`, else the tick it may go at."""
        self.expire(now)
        # Full: a slot frees when the oldest grant leaves the window.
        if len(self.grants) >= self.rate:
            return self.grants[0] + self.window
        return None

    def take(self, at):
        self.expire(at)
        self.grants.append(at)


class TokenBucket:
    """Up to `burst` tokens, refilled continuously at `rate` per window; a request takes one.
    The level is kept as refill time: one token is `per_token` ticks of refilling."""

    def __init__(self, per_token, burst):
        self.per_token, self.capacity = per_token, per_token * burst
        self.level, self.last = self.capacity, 0  # starts full

    def level_at(self, now):
        return min(self.level + (now - self.last), self.capacity)

    def check(self, now):
        level = self.level_at(now)
        # Short of one token: wait for the rest of it to drip in.
        return now + (self.per_token - level) if level < self.per_token else None

    def take(self, at):
        self.level = max(self.level_at(at) - self.per_token, 0)
        self.last = at

    def tokens_at(self, now):
        # Each number made a float first, then divided, as Rust's `as f64` does.
        return float(self.level_at(now)) / float(self.per_token)

    def full_at(self):
        """When the bucket is full again if nobody takes a token."""
        return self.last + (self.capacity - self.level)


class Gcra:
    """GCRA: one "theoretical arrival time" (tat) instead of tokens. Each grant pushes it one
    interval later; a request may go once tat is at most `tolerance` ahead of now. With
    tolerance = (burst - 1) * interval it grants exactly like the token bucket."""

    def __init__(self, interval, burst):
        self.interval, self.tolerance, self.tat = interval, interval * (burst - 1), 0

    def check(self, now):
        return self.tat - self.tolerance if self.tat > now + self.tolerance else None

    def take(self, at):
        self.tat = max(self.tat, at) + self.interval


class Fair:
    """First come, first served: asyncio.Lock queues waiters in arrival order and is held
    across check, sleep and take, so only the head of the line sleeps and nobody overtakes.
    The limiter's numbers need no lock of their own (the tokio demo keeps them under a plain
    mutex): one thread runs everything and nothing awaits between reading and updating them,
    so the meter can read the bucket while the head of the line sleeps."""

    def __init__(self, limiter, rate):
        self.limiter, self.rate, self.lock = limiter, rate, asyncio.Lock()
        self.epoch = asyncio.get_running_loop().time()

    def now(self):
        return round((asyncio.get_running_loop().time() - self.epoch) * 1e9) * self.rate

    async def acquire(self):
        """Wait for a grant; returns the tick it was granted at."""
        async with self.lock:
            now = at = self.now()
            while (due := self.limiter.check(now)) is not None:
                # Sleep until tick `due`, rounded up to a whole nanosecond, then check again:
                # asyncio runs a timer up to its clock's resolution early.
                await asyncio.sleep((-(-due // self.rate) - now // self.rate) / 1e9)
                now, at = self.now(), due  # granted at the tick it fell due, as tokio counts
            self.limiter.take(at)
            return at


async def request(limiter, grants):
    granted = await limiter.acquire()
    grants.append(granted)
    return f"granted at {granted / limiter.rate / 1e6:.3f} ms"


async def run_requests(limiter, n, gap_ms, grants):
    """Request k arrives (k-1) * gap_ms after the start and waits for its grant."""
    tasks = []
    for k in range(1, n + 1):
        if gap_ms and k > 1:
            await asyncio.sleep(gap_ms / 1000)
        tasks.append(asyncio.create_task(request(limiter, grants), name=f"request {k}"))
    await asyncio.gather(*tasks)


async def main(
    variant="sliding-window", rate=3, window_ms=1000, burst=3, requests=8, arrival_gap_ms=0
):
    per_token = window_ms * 1_000_000
    match variant:
        case "sliding-window":
            limiter = SlidingWindow(rate, per_token * rate)
        case "token-bucket":
            limiter = TokenBucket(per_token, burst)
        case "gcra":
            limiter = Gcra(per_token, burst)
    grants = []
    await run_requests(Fair(limiter, rate), requests, arrival_gap_ms, grants)
    print("last grant at", max(grants, default=0) // (rate * 1_000_000), "ms")


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:2]))
