"""twins/circuit-breaker.py as a learner would write it: no tracer. A rejected call raises an
ordinary exception (its lane ends in `error`; the twin's `dojo.Rejected` shows `rejected`)."""

import asyncio
import sys


class CircuitOpenError(Exception):
    """The breaker turned the call away without running it."""


def now_ms():
    return round(asyncio.get_running_loop().time() * 1000, 3)


class Breaker:
    def __init__(self, threshold, reset_ms):
        self.threshold, self.reset_ms = threshold, reset_ms
        self.state, self.failures, self.opened_at = "closed", 0, 0.0
        self.generation = 0

    def admit(self):
        if self.state == "closed":
            return False, self.generation
        if self.state == "open" and now_ms() - self.opened_at >= self.reset_ms:
            self.switch("half-open")
            return True, self.generation
        if self.state == "open":
            raise CircuitOpenError("breaker open")
        raise CircuitOpenError("half-open: the trial call is still running")

    def record(self, generation, ok):
        if generation != self.generation:
            return False  # the breaker changed state while the call ran: a stale result
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
        self.opened_at = now_ms()
        self.switch("open")

    def switch(self, to):
        was, self.state = self.state, to
        self.generation += 1
        print(f"{was} -> {to}")


STALE = " (stale: the breaker changed state while it ran)"


async def call(breaker, ok, duration_ms):
    trial, generation = breaker.admit()
    if duration_ms:
        await asyncio.sleep(duration_ms / 1000)
    counted = breaker.record(generation, ok)
    detail = f"{'trial ' if trial else ''}call {'succeeded' if ok else 'failed'}"
    detail += "" if counted else STALE
    if not ok:
        raise ConnectionError(detail)
    return detail


async def run_calls(breaker, script):
    start = now_ms()
    tasks = []
    for k, at_ms, ok, duration_ms in sorted(script, key=lambda c: (c[1], c[0])):
        if (wait_ms := start + at_ms - now_ms()) > 0:
            await asyncio.sleep(wait_ms / 1000)
        tasks.append(asyncio.create_task(call(breaker, ok, duration_ms), name=f"call {k}"))
    await asyncio.gather(*tasks, return_exceptions=True)


def scripted(calls):
    script = []
    for k, item in enumerate(calls, 1):
        at, result, *duration = item.split(":")
        script.append((k, int(at), result == "ok", int(duration[0]) if duration else 0))
    return script


async def main(
    variant="breaker",
    threshold=3,
    reset_ms=1000,
    calls=("0:fail", "100:fail", "200:fail", "300:ok", "600:ok", "1300:ok:200", "1400:ok", "1600:ok"),
):
    await run_calls(Breaker(threshold, reset_ms), scripted(calls))


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:2]))
