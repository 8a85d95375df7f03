"""A circuit breaker: the asyncio twin of the `circuit-breaker` demo."""

import asyncio

import dojo


class CircuitOpenError(dojo.Rejected):
    """The breaker turned the call away without running it."""


def now_ms():
    """The event loop's clock in milliseconds (monotonic: immune to wall-clock jumps)."""
    return round(asyncio.get_running_loop().time() * 1000, 3)


class Breaker:
    """closed: calls go through and failures in a row are counted; open: calls are rejected
    until reset_ms has passed; half-open: one trial call decides, the others are rejected."""

    def __init__(self, threshold, reset_ms):
        self.threshold, self.reset_ms = threshold, reset_ms
        self.state, self.failures, self.opened_at = "closed", 0, 0.0
        # Bumped on every change of state: a result counts only in the generation its call was
        # let in under.
        self.generation = 0
        self.rejected = self.trials = self.opened = self.stale = 0
        dojo.series("state", "closed")

    def admit(self):
        """Let a call run, or raise CircuitOpenError. Returns (is_trial, generation)."""
        if self.state == "closed":
            return False, self.generation
        if self.state == "open" and now_ms() - self.opened_at >= self.reset_ms:
            # The first call after the reset period becomes the one trial.
            self.switch("half-open")
            self.trials += 1
            return True, self.generation
        self.rejected += 1
        if self.state == "open":
            raise CircuitOpenError("breaker open")
        raise CircuitOpenError("half-open: the trial call is still running")

    def record(self, generation, ok):
        """How a call that was let in ended; False if its result was stale and ignored."""
        if generation != self.generation:
            # The breaker changed state while the call ran: its result describes the backend as
            # it was, and must not move the breaker now (a late failure would reopen a freshly
            # closed breaker; a late success would close an open one).
            self.stale += 1
            dojo.mark("stale result ignored")
            return False
        # Same generation, so the state is the one the call was let in under: closed, or
        # half-open with this call as its trial.
        if self.state == "half-open":
            if ok:
                self.failures = 0
                self.switch("closed")
            else:
                self.open()
        elif self.state == "closed":
            self.failures = 0 if ok else self.failures + 1
            if self.failures >= self.threshold:
                self.open()
        return True

    def open(self):
        self.opened += 1
        self.opened_at = now_ms()
        self.switch("open")

    def switch(self, to):
        """Every change of state starts a new generation and shows on the timeline: the `state`
        series and a mark."""
        was, self.state = self.state, to
        self.generation += 1
        dojo.series("state", to)
        dojo.mark(f"{was} -> {to}")


# How a call whose result was ignored says so.
STALE = " (stale: the breaker changed state while it ran)"


async def call(breaker, ok, duration_ms):
    """One call through the breaker; a rejected one fails fast, the service never sees it."""
    trial, generation = breaker.admit()
    if duration_ms:
        await asyncio.sleep(duration_ms / 1000)  # the protected service at work
    counted = breaker.record(generation, ok)
    detail = f"{'trial ' if trial else ''}call {'succeeded' if ok else 'failed'}"
    detail += "" if counted else STALE
    if not ok:
        raise ConnectionError(detail)
    return detail


async def run_calls(breaker, script):
    """Start each call at its time, as its own task, then wait for them all."""
    start = now_ms()
    tasks = []
    for k, at_ms, ok, duration_ms in sorted(script, key=lambda c: (c[1], c[0])):
        if (wait_ms := start + at_ms - now_ms()) > 0:
            await asyncio.sleep(wait_ms / 1000)
        tasks.append(asyncio.create_task(call(breaker, ok, duration_ms), name=f"call {k}"))
    await asyncio.gather(*tasks, return_exceptions=True)


def scripted(calls):
    """`AT_MS:ok|fail[:DURATION_MS]` items, numbered from 1 in list order."""
    script = []
    for k, item in enumerate(calls, 1):
        at, result, *duration = item.split(":")
        script.append((k, int(at), result == "ok", int(duration[0]) if duration else 0))
    return script


def random_script(n, failure_pct, seed):
    """`n` instant calls 100 ms apart, each failing with probability failure_pct %."""
    rng = dojo.SplitMix64(seed)
    return [(k, 100 * (k - 1), rng.next_u64() % 100 >= failure_pct, 0) for k in range(1, n + 1)]


async def main(
    variant="breaker",
    threshold=3,
    reset_ms=1000,
    calls=("0:fail", "100:fail", "200:fail", "300:ok", "600:ok", "1300:ok:200", "1400:ok", "1600:ok"),
    failure_pct=0,
    seed=1,
    random_calls=0,
):
    script = random_script(random_calls, failure_pct, seed) if random_calls else scripted(calls)
    breaker = Breaker(threshold, reset_ms)
    await run_calls(breaker, script)
    dojo.metric("rejected", breaker.rejected)
    dojo.metric("trials", breaker.trials)
    dojo.metric("opened", breaker.opened)
    dojo.metric("stale", breaker.stale)


if __name__ == "__main__":
    dojo.run(main, variants=("breaker",))
