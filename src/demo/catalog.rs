//! One file per demo. Each file's `// region:demo` is the code lessons show.

mod blocking;
mod circuit_breaker;
mod console_lab;
mod event_loop;
mod gather;
mod lazy_futures;
mod loop_lag;
mod rate_limiter;
mod retry_backoff;
mod scheduler;
mod semaphore;
mod spawn_vs_await;
mod timeouts;

use super::Demo;

/// In the order of the guide's questions.
pub(crate) static ALL: &[&dyn Demo] = &[
    &gather::Gather,
    &event_loop::EventLoop,
    &lazy_futures::LazyFutures,
    &spawn_vs_await::SpawnVsAwait,
    &semaphore::SemaphoreDemo,
    &timeouts::Timeouts,
    &circuit_breaker::CircuitBreakerDemo,
    &rate_limiter::RateLimiterDemo,
    &retry_backoff::RetryBackoff,
    &blocking::Blocking,
    &loop_lag::LoopLag,
    &console_lab::ConsoleLab,
    &scheduler::Scheduler,
];
