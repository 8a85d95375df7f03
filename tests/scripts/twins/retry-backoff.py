"""twins/retry-backoff.py as a learner would write it: no tracer. Each attempt is a named Task
awaited at once (the twin gives the coroutine a lane with `dojo.lane`)."""

import asyncio
import contextlib
import sys


class SplitMix64:
    """A small seeded generator (SplitMix64): the same seed gives the same numbers."""

    MASK = (1 << 64) - 1

    def __init__(self, seed):
        self.state = seed & self.MASK

    def next_u64(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & self.MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & self.MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & self.MASK
        return z ^ (z >> 31)

    def up_to(self, top):
        return self.next_u64() % (top + 1)


def backoff_ms(n, base_ms, max_delay_ms, jitter, rng):
    delay = min(base_ms * 2 ** (n - 1), max_delay_ms)
    match jitter:
        case "none":
            return delay
        case "full":
            return rng.up_to(delay)
        case "equal":
            return delay // 2 + rng.up_to(delay - delay // 2)


async def attempt(n, failures, hangs, op_ms, limit_ms):
    try:
        async with asyncio.timeout(limit_ms / 1000):
            if n <= min(hangs, failures):
                await asyncio.Event().wait()
            await asyncio.sleep(op_ms / 1000)
    except TimeoutError:
        raise TimeoutError(f"attempt {n}: no answer within {limit_ms} ms") from None
    if n <= failures:
        raise ConnectionError(f"attempt {n} failed")
    return f"attempt {n} succeeded"


async def retry(failures, hangs, max_attempts, base_ms, max_delay_ms, jitter, rng, op_ms,
                limit_ms):
    n = 1
    while True:
        try:
            await asyncio.create_task(
                attempt(n, failures, hangs, op_ms, limit_ms), name=f"attempt {n}"
            )
            succeeded = True
            break
        except (ConnectionError, TimeoutError):
            if n >= max_attempts:
                succeeded = False
                break
        await asyncio.sleep(backoff_ms(n, base_ms, max_delay_ms, jitter, rng) / 1000)
        n += 1
    if not succeeded:
        raise ConnectionError(f"gave up after {n} attempts")
    return f"succeeded on attempt {n}"


async def main(variant="exponential", failures=3, hangs=0, max_attempts=5, base_ms=100,
               max_delay_ms=2000, jitter="full", seed=7, op_ms=0, attempt_timeout_ms=1000):
    caller = asyncio.create_task(
        retry(failures, hangs, max_attempts, base_ms, max_delay_ms, jitter, SplitMix64(seed),
              op_ms, attempt_timeout_ms),
        name="caller",
    )
    with contextlib.suppress(ConnectionError):
        await caller


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:2]))
