//! One module per demo: `<demo>.rs` declares it and sets it up, `<demo>/shown.rs` is the code
//! lessons show (the whole file), `<demo>/tests.rs` its tests.
//!
//! Writing a demo (`gather` is the smallest example):
//! - `<demo>.rs`: `mod shown; #[cfg(test)] mod tests;`, the variants with
//!   [`variants!`](crate::demo::variants!), the parameters with [`params!`](crate::demo::params!),
//!   a `static SPEC: DemoSpec` whose `variants` is `Variant::SPECS`, `params` is `Config::PARAMS`,
//!   `source` is `include_str!("<demo>/shown.rs")` and `source_file` that file's path from the
//!   crate root, and the [`DemoProgram`](crate::demo::DemoProgram) impl: an exhaustive `match` on
//!   the variant that calls into `shown`. Setup that the learner need not read (building clients,
//!   temp dirs, metrics) stays here; a setup failure goes to `ctx.setup_failed(lane, SetupError)`.
//! - `<demo>/shown.rs`: the code that runs, whole, as lessons show it. `ctx.mark(label)` made
//!   here carries its line in this file; made anywhere else it carries none.
//! - `<demo>/tests.rs`: on [`demo::testing`](crate::demo::testing) (`run_virtual::<Demo>(&[Variant::X],
//!   &["name=value"])`, `clean`, `task`, `metric`, …).

mod blocking;
mod chat;
mod circuit_breaker;
mod connection_pool;
mod console_lab;
mod crawler;
mod downloader;
mod event_loop;
mod executor_pool;
mod gateway;
mod gather;
mod gather_errors;
mod graceful_shutdown;
mod http_fanout;
mod lazy_futures;
mod loop_lag;
mod pipeline;
mod rate_limiter;
mod request_ids;
mod retry_backoff;
mod scheduler;
mod select_loop;
mod semaphore;
mod slow_reader;
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
    &gather_errors::GatherErrors,
    &connection_pool::ConnectionPool,
    &timeouts::Timeouts,
    &select_loop::SelectLoop,
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
    &slow_reader::SlowReader,
    &request_ids::RequestIds,
    &executor_pool::ExecutorPool,
];

#[cfg(test)]
mod tests {
    use crate::demo::{Params, registry};

    #[test]
    fn every_declared_variant_and_default_reads_into_the_demo_s_own_types() {
        for demo in registry() {
            let spec = demo.spec();
            let defaults = Params::defaults(spec);
            for v in spec.variants {
                demo.check(v.name, &defaults)
                    .unwrap_or_else(|e| panic!("{}: {e}", spec.id));
            }
            for v in spec.default_variants {
                assert!(spec.variant(v).is_some(), "{}: default {v}", spec.id);
            }
            for v in spec.variants {
                for p in v.workers_param.iter().chain(&v.blocking_threads_param) {
                    assert!(
                        matches!(
                            spec.param(p).map(|p| p.kind),
                            Some(crate::demo::ParamKind::Int { .. })
                        ),
                        "{}: {p} sizes threads but is not an integer parameter",
                        spec.id
                    );
                }
            }
        }
    }
}
