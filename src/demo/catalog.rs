//! One file per demo. Each file's `// region:demo` is the code lessons show.

mod blocking;
mod chat;
mod circuit_breaker;
mod connection_pool;
mod console_lab;
mod crawler;
mod downloader;
mod event_loop;
mod gateway;
mod gather;
mod graceful_shutdown;
mod http_fanout;
mod lazy_futures;
mod loop_lag;
mod pipeline;
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
    &http_fanout::HttpFanout,
    &connection_pool::ConnectionPool,
    &timeouts::Timeouts,
    &circuit_breaker::CircuitBreakerDemo,
    &crawler::Crawler,
    &pipeline::Pipeline,
    &graceful_shutdown::GracefulShutdown,
    &rate_limiter::RateLimiterDemo,
    &downloader::Downloader,
    &gateway::GatewayDemo,
    &chat::Chat,
    &retry_backoff::RetryBackoff,
    &blocking::Blocking,
    &loop_lag::LoopLag,
    &console_lab::ConsoleLab,
    &scheduler::Scheduler,
];
