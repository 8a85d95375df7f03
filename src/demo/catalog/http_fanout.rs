//! Q5: many HTTP requests against a real server on 127.0.0.1, one after another, all at once,
//! bounded by a semaphore, and bounded by `buffer_unordered`; with the connections the shared
//! pool opened and reused.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::FutureExt;
use futures::future::BoxFuture;

use crate::demo::services::server::{Options, Server};
use crate::demo::services::{self, RUN_BUDGET, endpoints};
use crate::demo::{Ctx, DemoSpec, Ended, LegacyDemo, ParamKind, ParamSpec, Params, VariantSpec};

pub struct HttpFanout;

static SPEC: DemoSpec = DemoSpec {
    id: "http-fanout",
    title: "Concurrent HTTP requests: unbounded, bounded, one by one",
    about: "Real GETs to a server the demo starts on 127.0.0.1, through one shared connection \
            pool. One by one, a single connection serves everything; all at once, every request \
            opens its own connection; with a semaphore or buffer_unordered, `limit` requests are \
            in flight and `limit` connections are reused for the rest.",
    variants: &[
        VariantSpec::real(
            "sequential",
            "await each request before sending the next: one in flight",
        ),
        VariantSpec::real(
            "join-all",
            "futures::future::join_all over every request: no bound at all",
        ),
        VariantSpec::real(
            "semaphore",
            "every request spawned at once; a Semaphore(limit) lets `limit` of them send",
        ),
        VariantSpec::real(
            "buffer-unordered",
            "a stream of requests through buffer_unordered(limit): only `limit` exist at a time",
        ),
    ],
    default_variants: &["sequential", "join-all", "semaphore", "buffer-unordered"],
    params: &[
        ParamSpec {
            name: "requests",
            kind: ParamKind::Int { min: 1, max: 2000 },
            default: "20",
            help: "how many GET requests to send",
        },
        ParamSpec {
            name: "limit",
            kind: ParamKind::Int { min: 1, max: 500 },
            default: "5",
            help: "requests in flight at once (semaphore, buffer-unordered)",
        },
        ParamSpec {
            name: "latency_ms",
            kind: ParamKind::Ms { min: 0, max: 5000 },
            default: "100",
            help: "how long the server takes to answer each request",
        },
        ParamSpec {
            name: "fail_pct",
            kind: ParamKind::Int { min: 0, max: 100 },
            default: "10",
            help: "percent of requests the server fails with 500 (drawn from seed)",
        },
        ParamSpec {
            name: "size",
            kind: ParamKind::Int {
                min: 0,
                max: 1_048_576,
            },
            default: "1024",
            help: "response body size in bytes",
        },
        ParamSpec {
            name: "seed",
            kind: ParamKind::Int {
                min: 0,
                max: 1_000_000,
            },
            default: "1",
            help: "which requests fail",
        },
    ],
    metrics: &[
        (
            "max_in_flight",
            "most requests waiting for the server at once",
        ),
        (
            "connections_opened",
            "TCP connections the server accepted: what the pool had to open",
        ),
        (
            "connection_reuses",
            "requests sent over a connection the pool already had open",
        ),
        ("requests_ok", "2xx answers"),
        ("requests_failed", "errors and non-2xx answers"),
        ("requests_per_s", "requests / the variant's wall time"),
        (
            "server_addr",
            "where the demo's server listened (closed after the run)",
        ),
    ],
    source: include_str!("http_fanout.rs"),
    source_file: file!(),
};

impl LegacyDemo for HttpFanout {
    fn spec(&self) -> &'static DemoSpec {
        &SPEC
    }

    fn run(&self, ctx: Ctx, variant: &'static str, params: Params) -> BoxFuture<'static, ()> {
        let requests = params.count("requests");
        let limit = params.count("limit").max(1);
        let query = format!(
            "latency_ms={}&fail_pct={}&size={}&seed={}",
            params.ms("latency_ms").as_millis(),
            params.int("fail_pct"),
            params.int("size"),
            params.int("seed"),
        );
        async move {
            let options = Options {
                conn_lanes: true,
                conn_series: Some("server_connections"),
                ..Options::default()
            };
            // A port that cannot be bound has already ended the server's lane with the reason.
            let Ok(server) = Server::start(&ctx, "server", options, endpoints::handler()).await
            else {
                return;
            };
            ctx.metric("server_addr", server.addr().to_string());
            let client = match services::client() {
                Ok(c) => c,
                Err(e) => {
                    ctx.setup_failed("client", e).await;
                    return;
                }
            };
            let urls: Vec<String> = (1..=requests)
                .map(|id| server.url(&format!("/data?id={id}&{query}")))
                .collect();
            let fan = Arc::new(Fanout {
                ctx: ctx.clone(),
                client,
                in_flight: ctx.gauge("in_flight"),
                tally: Arc::default(),
            });
            let started = std::time::Instant::now();
            let work = async {
                match variant {
                    "sequential" => sequential(&fan, urls).await,
                    "join-all" => join_all(&fan, urls).await,
                    "semaphore" => with_semaphore(&fan, urls, limit).await,
                    _ => buffer_unordered(&fan, urls, limit).await,
                }
            };
            if tokio::time::timeout(RUN_BUDGET, work).await.is_err() {
                ctx.mark("time budget reached: the rest is cancelled");
            }
            let secs = started.elapsed().as_secs_f64();
            let t = &fan.tally;
            ctx.metric("max_in_flight", fan.in_flight.max());
            ctx.metric("connections_opened", server.accepted());
            ctx.metric("connection_reuses", t.reused.load(Ordering::SeqCst));
            ctx.metric("requests_ok", t.ok.load(Ordering::SeqCst));
            ctx.metric("requests_failed", t.failed.load(Ordering::SeqCst));
            let rate = requests as f64 / secs.max(1e-9);
            ctx.metric("requests_per_s", (rate * 10.0).round() / 10.0);
            // Close the pool's connections, then the server and its port.
            drop(fan);
            server.stop().await;
        }
        .boxed()
    }
}

/// What every request shares: the run, one client (one connection pool), the in-flight gauge
/// and the counts.
struct Fanout {
    ctx: Ctx,
    client: reqwest::Client,
    in_flight: Gauge,
    tally: Arc<Tally>,
}

#[derive(Default)]
struct Tally {
    ok: AtomicUsize,
    failed: AtomicUsize,
    reused: AtomicUsize,
}

impl Tally {
    fn count(&self, ok: bool, reused: bool) {
        let n = if ok { &self.ok } else { &self.failed };
        n.fetch_add(1, Ordering::SeqCst);
        if reused {
            self.reused.fetch_add(1, Ordering::SeqCst);
        }
    }
}

// region:demo
use futures::StreamExt;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::demo::ctx::Gauge;
use crate::demo::services::ConnTag;

/// One GET through the shared client. The body is read to the end here, inside the request,
/// so its connection goes back to the pool for the next request as soon as this one is done.
async fn fetch(fan: &Fanout, url: String) -> Ended {
    fan.in_flight.enter();
    let result = async {
        let mut resp = fan.client.get(&url).send().await?;
        let status = resp.status();
        let conn = ConnTag::of(&resp); // which server connection answered
        let mut bytes = 0;
        while let Some(chunk) = resp.chunk().await? {
            bytes += chunk.len();
        }
        Ok::<_, reqwest::Error>((status, conn, bytes))
    }
    .await;
    fan.in_flight.leave();
    let (status, conn, bytes) = match result {
        Ok(r) => r,
        Err(e) => {
            fan.tally.count(false, false);
            return Ended::error(services::request_error(e));
        }
    };
    let reused = conn.is_some_and(|c| !c.is_new());
    let how = match conn {
        Some(c) if c.is_new() => {
            fan.ctx.mark(format!("new connection {}", c.conn));
            format!("conn {} (new)", c.conn)
        }
        Some(c) => format!("conn {} (reused, request {})", c.conn, c.nth),
        None => "conn ?".to_owned(),
    };
    fan.tally.count(status.is_success(), reused);
    if status.is_success() {
        Ended::ok(format!("{status}, {bytes} B, {how}"))
    } else {
        Ended::error(format!("{status}, {how}"))
    }
}

async fn sequential(fan: &Fanout, urls: Vec<String>) {
    for (i, url) in urls.into_iter().enumerate() {
        // Each response is read before the next request is even sent.
        let name = format!("request {}", i + 1);
        fan.ctx.instrument(name, fetch(fan, url)).await;
    }
}

async fn join_all(fan: &Fanout, urls: Vec<String>) {
    // Every request at once: nothing bounds how many are in flight, so the pool has no idle
    // connection to hand out and opens one per request.
    let requests = urls.into_iter().enumerate().map(|(i, url)| {
        let name = format!("request {}", i + 1);
        fan.ctx.instrument(name, fetch(fan, url))
    });
    futures::future::join_all(requests).await;
}

async fn with_semaphore(fan: &Arc<Fanout>, urls: Vec<String>, limit: usize) {
    // Every request is a task from the start; `limit` permits decide which of them may send.
    let permits = Arc::new(Semaphore::new(limit));
    let waiting = fan.ctx.gauge("waiting");
    let mut set = JoinSet::new();
    for (i, url) in urls.into_iter().enumerate() {
        let (task_fan, permits, waiting) = (Arc::clone(fan), Arc::clone(&permits), waiting.clone());
        let request = async move {
            waiting.enter();
            let Ok(_permit) = permits.acquire_owned().await else {
                return Ended::error("semaphore closed");
            };
            waiting.leave();
            fetch(&task_fan, url).await
        };
        fan.ctx
            .spawn_in(&mut set, format!("request {}", i + 1), request);
    }
    while set.join_next().await.is_some() {}
}

async fn buffer_unordered(fan: &Fanout, urls: Vec<String>, limit: usize) {
    // A lazy stream: a request is created only when one of the `limit` slots is free.
    futures::stream::iter(urls.into_iter().enumerate())
        .map(|(i, url)| {
            let name = format!("request {}", i + 1);
            fan.ctx.instrument(name, fetch(fan, url))
        })
        .buffer_unordered(limit)
        .collect::<Vec<Ended>>()
        .await;
}
// endregion:demo

#[cfg(test)]
mod tests {
    use crate::demo::Outcome;
    use crate::demo::services::endpoints::fails;
    use crate::demo::services::testing::{cancel_midway, clean, metric, ports_closed, run};

    const SETS: &[&str] = &[
        "requests=20",
        "limit=4",
        "latency_ms=40",
        "fail_pct=10",
        "seed=3",
    ];

    #[test]
    fn every_variant_counts_requests_connections_and_failures() {
        let report = run("http-fanout", &[], SETS);
        assert_eq!(report.runs.len(), 4);
        let failing = (1..=20).filter(|&id| fails(3, id, 10)).count() as f64;
        assert!(failing > 0.0, "seed 3 fails some requests");
        for r in &report.runs {
            clean(r);
            let tl = &r.timeline;
            let v = r.variant;
            assert_eq!(metric(tl, "requests_ok"), 20.0 - failing, "{v}");
            assert_eq!(metric(tl, "requests_failed"), failing, "{v}");
            // Each request either opened a connection or reused one.
            let opened = metric(tl, "connections_opened");
            assert_eq!(opened + metric(tl, "connection_reuses"), 20.0, "{v}");
            let lanes: Vec<_> = tl
                .tasks
                .iter()
                .filter(|t| t.name.starts_with("request "))
                .collect();
            assert_eq!(lanes.len(), 20, "{v}");
            assert_eq!(
                lanes.iter().filter(|t| t.outcome == Outcome::Error).count() as f64,
                failing,
                "{v}"
            );
            let (max_in_flight, conns) = match v {
                "sequential" => (1.0, 1.0),
                "join-all" => (20.0, 20.0),
                _ => (4.0, 4.0),
            };
            assert_eq!(metric(tl, "max_in_flight"), max_in_flight, "{v}");
            assert_eq!(opened, conns, "{v}: connections opened");
            // The server's connection count went back to zero: the pool's sockets are closed.
            let last = tl.series["server_connections"].last().map(|p| p.1.clone());
            assert_eq!(last, Some(0usize.into()), "{v}");
            ports_closed(tl, "server_addr");
        }
    }

    #[test]
    fn buffer_unordered_creates_requests_only_when_a_slot_is_free() {
        let report = run("http-fanout", &["semaphore", "buffer-unordered"], SETS);
        let spawned = |variant: &str| -> Vec<f64> {
            let tl = &report.run(variant).expect("ran").timeline;
            tl.tasks
                .iter()
                .filter(|t| t.name.starts_with("request "))
                .map(|t| t.spawned_ms)
                .collect()
        };
        // The semaphore's 20 tasks all exist from the start, waiting for permits...
        let sem = spawned("semaphore");
        assert!(sem.iter().all(|&t| t < sem[0] + 30.0), "{sem:?}");
        // ...the stream's requests are made four at a time, one latency apart (40 ms).
        let buf = spawned("buffer-unordered");
        assert!(buf[19] - buf[0] >= 4.0 * 40.0, "{buf:?}");
    }

    #[test]
    fn cancelling_mid_run_closes_the_server_and_every_socket() {
        let sets = ["latency_ms=5000", "requests=50"];
        cancel_midway("http-fanout", "join-all", &sets, 400, "server_addr");
    }
}
