//! http-fanout with 1,000 requests at limit 100 against the embedded server with zero latency:
//! requests per second through the whole engine (runtime, recorder, a lane per request and per
//! connection, series, marks), and the same fan-out with no recorder at all. The difference is
//! the engine's share of the time.
//!
//!     cargo bench --bench io
//!
//! Read the `fanout_*` rows' items/s as requests per second; the engine's share is
//! 1 - (recorded time / bare time)⁻¹, i.e. (recorded - bare) / recorded.

use std::convert::Infallible;
use std::sync::Arc;

use asyncdojo::demo::services::server::Handler;
use asyncdojo::demo::services::{self, endpoints};
use asyncdojo::demo::{Clock, RunRequest, runner};
use divan::counter::ItemsCount;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

const REQUESTS: usize = 1000;
const LIMIT: usize = 100;

fn main() {
    divan::main();
}

fn recorded(variant: &str) -> f64 {
    let sets = [
        format!("requests={REQUESTS}"),
        format!("limit={LIMIT}"),
        "latency_ms=0".to_owned(),
        "fail_pct=0".to_owned(),
    ];
    let req = RunRequest::build("http-fanout", &[variant.to_owned()], &sets, Clock::Real)
        .expect("valid request");
    let report = runner::run_blocking(req).expect("run");
    let ok = report.runs[0].timeline.metric("requests_ok");
    assert_eq!(ok, Some(REQUESTS as f64));
    report.runs[0].total_ms
}

/// The whole engine, variant `semaphore`: 1,000 tasks, 100 permits.
#[divan::bench(sample_count = 40, sample_size = 1)]
fn fanout_recorded_semaphore(bencher: divan::Bencher) {
    bencher
        .counter(ItemsCount::new(REQUESTS))
        .bench(|| recorded("semaphore"));
}

/// The whole engine, variant `buffer-unordered`: at most 100 request futures exist.
#[divan::bench(sample_count = 40, sample_size = 1)]
fn fanout_recorded_buffer_unordered(bencher: divan::Bencher) {
    bencher
        .counter(ItemsCount::new(REQUESTS))
        .bench(|| recorded("buffer-unordered"));
}

/// The same work with no engine: a fresh current-thread runtime, the same endpoint handler on
/// a plain hyper server, the same client, a Semaphore(100) over 1,000 spawned tasks.
#[divan::bench(sample_count = 40, sample_size = 1)]
fn fanout_bare_semaphore(bencher: divan::Bencher) {
    bencher
        .counter(ItemsCount::new(REQUESTS))
        .bench(|| bare(Fan::Semaphore));
}

/// The same with no engine, through `buffer_unordered(100)`.
#[divan::bench(sample_count = 40, sample_size = 1)]
fn fanout_bare_buffer_unordered(bencher: divan::Bencher) {
    bencher
        .counter(ItemsCount::new(REQUESTS))
        .bench(|| bare(Fan::BufferUnordered));
}

#[derive(Clone, Copy)]
enum Fan {
    Semaphore,
    BufferUnordered,
}

async fn get(client: reqwest::Client, url: String) -> Option<()> {
    let mut resp = client.get(url).send().await.ok()?;
    let ok = resp.status().is_success();
    while resp.chunk().await.ok()?.is_some() {}
    ok.then_some(())
}

fn bare(fan: Fan) -> usize {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let handler = Arc::new(endpoints::handler());
        let server = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                let handler = Arc::clone(&handler);
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let resp = handler.handle(req);
                        async move { Ok::<_, Infallible>(resp.await) }
                    });
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, service)
                        .await;
                });
            }
        });
        let client = services::client().expect("client");
        let urls = (1..=REQUESTS).map(|id| {
            format!("http://{addr}/data?id={id}&latency_ms=0&fail_pct=0&size=1024&seed=1")
        });
        let mut ok = 0;
        match fan {
            Fan::Semaphore => {
                let permits = Arc::new(Semaphore::new(LIMIT));
                let mut set = JoinSet::new();
                for url in urls {
                    let (client, permits) = (client.clone(), Arc::clone(&permits));
                    set.spawn(async move {
                        let _permit = permits.acquire_owned().await.ok()?;
                        get(client, url).await
                    });
                }
                while let Some(done) = set.join_next().await {
                    if matches!(done, Ok(Some(()))) {
                        ok += 1;
                    }
                }
            }
            Fan::BufferUnordered => {
                use futures::StreamExt;
                let results: Vec<Option<()>> = futures::stream::iter(urls)
                    .map(|url| get(client.clone(), url))
                    .buffer_unordered(LIMIT)
                    .collect()
                    .await;
                ok = results.iter().filter(|r| r.is_some()).count();
            }
        }
        server.abort();
        assert_eq!(ok, REQUESTS);
        ok
    })
}

/// The recorder's own work in one recorded fan-out, replayed without the I/O: the same number
/// of lanes, polls, series points and marks into a fresh recorder. Compare with the run's time
/// above for the recorder's share.
#[divan::bench(sample_count = 40, sample_size = 1)]
fn recorder_replay_of_one_fanout(bencher: divan::Bencher) {
    let req = RunRequest::build(
        "http-fanout",
        &["semaphore".to_owned()],
        &[
            format!("requests={REQUESTS}"),
            format!("limit={LIMIT}"),
            "latency_ms=0".to_owned(),
            "fail_pct=0".to_owned(),
        ],
        Clock::Real,
    )
    .expect("valid request");
    let report = runner::run_blocking(req).expect("run");
    let tl = &report.runs[0].timeline;
    let tasks = tl.tasks.len();
    let polls: usize = tl.tasks.iter().map(|t| t.polls.len()).sum();
    let points: usize = tl.series.values().map(Vec::len).sum();
    let marks = tl.marks.len();
    eprintln!(
        "one recorded fan-out: {tasks} lanes, {polls} polls, {points} series points, {marks} marks"
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    let _guard = rt.enter();
    bencher.bench_local(|| {
        let rec = asyncdojo::demo::recorder::Recorder::on(asyncdojo::demo::Clock::Real);
        let ids: Vec<u32> = (0..tasks)
            .map(|i| rec.new_task(format!("request {i}"), None))
            .collect();
        for i in 0..polls {
            rec.poll(ids[i % tasks], rec.poll_start());
        }
        for i in 0..points {
            rec.series(
                "in_flight",
                asyncdojo::demo::timeline::SeriesValue::Num((i % 100) as f64),
            );
        }
        for _ in 0..marks {
            rec.mark(None, "new connection".into(), None);
        }
        for &id in &ids {
            rec.finish(id, asyncdojo::demo::Outcome::Ok, String::new());
        }
        rec.version()
    });
}
