"""Retry with exponential backoff and jitter: the asyncio twin of the `retry-backoff` demo."""

import asyncio
import contextlib

import dojo


def backoff_ms(n, base_ms, max_delay_ms, jitter, rng):
    """The wait before retry n (1-based): min(max_delay, base * 2^(n-1)), then jitter."""
    delay = min(base_ms * 2 ** (n - 1), max_delay_ms)
    match jitter:
        case "none":  # every client that failed together retries together
            return delay
        case "full":  # anywhere in 0..=delay: spreads retries the most
            return rng.up_to(delay)
        case "equal":  # delay/2 plus up to delay/2: spread, but never much shorter
            return delay // 2 + rng.up_to(delay - delay // 2)


async def attempt(n, failures, hangs, op_ms, limit_ms):
    """An operation that fails its first `failures` attempts, then succeeds; the first `hangs`
    of those never answer. An attempt still running after limit_ms is cancelled: a call that
    hangs must not hang the retry loop."""
    try:
        async with asyncio.timeout(limit_ms / 1000):
            if n <= min(hangs, failures):
                await asyncio.Event().wait()  # no answer, ever
            await asyncio.sleep(op_ms / 1000)
    except TimeoutError:
        raise TimeoutError(f"attempt {n}: no answer within {limit_ms} ms") from None
    if n <= failures:
        raise ConnectionError(f"attempt {n} failed")
    return f"attempt {n} succeeded"


async def retry(failures, hangs, max_attempts, base_ms, max_delay_ms, jitter, rng, op_ms,
                limit_ms):
    n, waited_ms = 1, 0
    while True:
        dojo.mark(f"attempt {n}")
        try:
            # Each attempt is its own lane, so the backoff gaps between them show.
            await dojo.lane(f"attempt {n}", attempt(n, failures, hangs, op_ms, limit_ms))
            succeeded = True
            break
        except (ConnectionError, TimeoutError):  # only failures worth retrying
            if n >= max_attempts:
                succeeded = False
                break
        delay = backoff_ms(n, base_ms, max_delay_ms, jitter, rng)
        dojo.mark(f"backoff {delay} ms")
        await asyncio.sleep(delay / 1000)
        waited_ms += delay
        n += 1
    dojo.metric("attempts", n)
    dojo.metric("backoff_ms", waited_ms)
    if not succeeded:
        raise ConnectionError(f"gave up after {n} attempts")
    return f"succeeded on attempt {n}"


async def main(
    variant="exponential",
    failures=3,
    hangs=0,
    max_attempts=5,
    base_ms=100,
    max_delay_ms=2000,
    jitter="full",
    seed=7,
    op_ms=0,
    attempt_timeout_ms=1000,
):
    rng = dojo.SplitMix64(seed)
    caller = asyncio.create_task(
        retry(failures, hangs, max_attempts, base_ms, max_delay_ms, jitter, rng, op_ms,
              attempt_timeout_ms),
        name="caller",
    )
    with contextlib.suppress(ConnectionError):
        await caller


if __name__ == "__main__":
    dojo.run(main, variants=("exponential",))
