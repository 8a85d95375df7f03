//! Q12: an API gateway in front of service instances, all on 127.0.0.1: a registry kept up to
//! date by periodic health checks, round-robin over the healthy instances, a per-service rate
//! limit that answers 429 at once instead of queueing, and every request forwarded over HTTP.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use tokio_util::sync::CancellationToken;

use crate::demo::services::instances::Instance;
use crate::demo::services::server::{Handler, Options, Request, Server};
use crate::demo::services::{self, RUN_BUDGET};
use crate::demo::{
    Ctx, DemoSpec, Ended, LegacyDemo, ParamKind, ParamSpec, Params, SetupError, VariantSpec,
};

pub struct GatewayDemo;

static SPEC: DemoSpec = DemoSpec {
    id: "gateway",
    title: "An API gateway: health checks, round-robin, a rate limit that rejects",
    about: "A load of requests goes through a gateway to the `users` service's instances, each \
            its own server on 127.0.0.1. Health checks remove instance users-2 when it turns \
            unhealthy and add it back when it recovers; requests go round-robin to the healthy \
            ones; over the rate limit the gateway answers 429 at once.",
    variants: &[
        VariantSpec::real(
            "round-robin",
            "a counter per service: the i-th request goes to healthy instance i mod n",
        ),
        VariantSpec::real(
            "hash-path",
            "the guide's `hash(path) % n`: each path sticks to one instance",
        ),
    ],
    default_variants: &["round-robin"],
    params: &[
        ParamSpec {
            name: "instances",
            kind: ParamKind::Int { min: 2, max: 6 },
            default: "3",
            help: "instances of the users service",
        },
        ParamSpec {
            name: "requests",
            kind: ParamKind::Int { min: 1, max: 2000 },
            default: "80",
            help: "requests the load sends",
        },
        ParamSpec {
            name: "interval_ms",
            kind: ParamKind::Ms { min: 1, max: 1000 },
            default: "12",
            help: "the load sends one request every interval, without waiting for answers",
        },
        ParamSpec {
            name: "latency_ms",
            kind: ParamKind::Ms { min: 0, max: 2000 },
            default: "20",
            help: "how long an instance takes to answer",
        },
        ParamSpec {
            name: "health_ms",
            kind: ParamKind::Ms { min: 20, max: 2000 },
            default: "100",
            help: "how often the gateway checks each instance's /health",
        },
        ParamSpec {
            name: "down_at_ms",
            kind: ParamKind::Ms {
                min: 0,
                max: 20_000,
            },
            default: "250",
            help: "when users-2 turns unhealthy",
        },
        ParamSpec {
            name: "up_at_ms",
            kind: ParamKind::Ms {
                min: 0,
                max: 20_000,
            },
            default: "650",
            help: "when users-2 is healthy again (never, if not after down_at_ms)",
        },
        ParamSpec {
            name: "rate_per_s",
            kind: ParamKind::Int {
                min: 1,
                max: 10_000,
            },
            default: "60",
            help: "the users service's rate limit, requests per second",
        },
        ParamSpec {
            name: "burst",
            kind: ParamKind::Int { min: 1, max: 1000 },
            default: "10",
            help: "requests the limit lets through at once",
        },
    ],
    metrics: &[
        ("forwarded", "requests the gateway sent to each instance"),
        ("ok", "requests answered 2xx"),
        (
            "rejected_429",
            "requests over the rate limit, rejected at once",
        ),
        (
            "failed",
            "other errors (an instance unhealthy before a check noticed)",
        ),
        ("removals", "times an instance was taken out of rotation"),
        ("returns", "times an instance was put back"),
        (
            "addrs",
            "the gateway's and the instances' addresses (closed after the run)",
        ),
    ],
    source: include_str!("gateway.rs"),
    source_file: file!(),
};

/// One run's settings.
#[derive(Debug, Clone)]
struct Config {
    instances: usize,
    requests: usize,
    interval: Duration,
    latency: Duration,
    health: Duration,
    down_at: Duration,
    up_at: Duration,
    rate_per_s: f64,
    burst: f64,
    balance: Balance,
}

impl Config {
    fn new(params: &Params, variant: &str) -> Config {
        Config {
            instances: params.count("instances").max(2),
            requests: params.count("requests"),
            interval: params.ms("interval_ms"),
            latency: params.ms("latency_ms"),
            health: params.ms("health_ms"),
            down_at: params.ms("down_at_ms"),
            up_at: params.ms("up_at_ms"),
            rate_per_s: params.int("rate_per_s") as f64,
            burst: params.int("burst") as f64,
            balance: if variant == "hash-path" {
                Balance::HashPath
            } else {
                Balance::RoundRobin
            },
        }
    }
}

impl LegacyDemo for GatewayDemo {
    fn spec(&self) -> &'static DemoSpec {
        &SPEC
    }

    fn run(&self, ctx: Ctx, variant: &'static str, params: Params) -> BoxFuture<'static, ()> {
        let cfg = Config::new(&params, variant);
        async move {
            if let Err(why) = run(&ctx, &cfg).await {
                ctx.setup_failed("gateway setup", why).await;
            }
        }
        .boxed()
    }
}

async fn run(ctx: &Ctx, cfg: &Config) -> Result<(), SetupError> {
    let mut instances = Vec::new();
    for i in 1..=cfg.instances {
        instances.push(Instance::start(ctx, &format!("users-{i}"), cfg.latency).await?);
    }
    let gw = Arc::new(Gateway::new(ctx, services::client()?, cfg.balance));
    for inst in &instances {
        gw.register(
            "users",
            inst.name(),
            &inst.base_url(),
            cfg.rate_per_s,
            cfg.burst,
        );
    }
    let gateway = Server::start(ctx, "gateway", Options::default(), handler(&gw)).await?;
    let mut addrs = vec![gateway.addr().to_string()];
    addrs.extend(instances.iter().map(|i| i.server().addr().to_string()));
    ctx.metric("addrs", addrs);

    let stop = CancellationToken::new();
    let mut background = tokio::task::JoinSet::new();
    for inst in &instances {
        let checker = health_checker(
            Arc::clone(&gw),
            "users",
            inst.name().to_owned(),
            inst.base_url(),
            cfg.health,
            stop.clone(),
        );
        ctx.spawn_in(&mut background, format!("health {}", inst.name()), checker);
    }
    let instances = Arc::new(instances);
    ctx.spawn_in(
        &mut background,
        "chaos",
        chaos(
            ctx.clone(),
            Arc::clone(&instances),
            cfg.down_at,
            cfg.up_at,
            stop.clone(),
        ),
    );
    let mut load = ctx.spawn(
        "load",
        load(ctx.clone(), gateway.url(""), cfg.requests, cfg.interval),
    );
    if tokio::time::timeout(RUN_BUDGET, &mut load).await.is_err() {
        load.abort();
        ctx.mark("time budget reached: the load stops");
    }
    stop.cancel();
    while background.join_next().await.is_some() {}
    gw.report();
    gateway.stop().await;
    if let Ok(instances) = Arc::try_unwrap(instances) {
        for inst in instances {
            inst.stop().await;
        }
    }
    Ok(())
}

/// Turn the second instance unhealthy at `down_at`, healthy again at `up_at`.
async fn chaos(
    ctx: Ctx,
    instances: Arc<Vec<Instance>>,
    down_at: Duration,
    up_at: Duration,
    stop: CancellationToken,
) -> Ended {
    let Some(victim) = instances.get(1) else {
        return Ended::ok("nothing to break");
    };
    let start = tokio::time::Instant::now();
    tokio::select! {
        () = stop.cancelled() => return Ended::ok("the run ended first"),
        () = tokio::time::sleep_until(start + down_at) => {}
    }
    victim.set_healthy(false);
    ctx.mark(format!("{} turns unhealthy", victim.name()));
    if up_at <= down_at {
        return Ended::ok(format!("{} stays unhealthy", victim.name()));
    }
    tokio::select! {
        () = stop.cancelled() => return Ended::ok("the run ended first"),
        () = tokio::time::sleep_until(start + up_at) => {}
    }
    victim.set_healthy(true);
    ctx.mark(format!("{} is healthy again", victim.name()));
    Ended::ok(format!(
        "{} was down {} ms",
        victim.name(),
        (up_at - down_at).as_millis()
    ))
}

/// Send `requests` requests to the gateway, one every `interval`, without waiting for answers:
/// a load that does not slow down when the gateway is busy. Every other request is for the
/// same hot path, `/users/1`.
async fn load(ctx: Ctx, gateway: String, requests: usize, interval: Duration) -> Ended {
    let client = match services::client() {
        Ok(c) => c,
        Err(e) => return Ended::error(e.to_string()),
    };
    let mut tick = tokio::time::interval(interval);
    let mut set = tokio::task::JoinSet::new();
    for n in 1..=requests {
        tick.tick().await;
        let user = if n % 2 == 1 { 1 } else { n % 7 + 1 };
        let url = format!("{gateway}/users/{user}");
        let request = call(client.clone(), url);
        ctx.spawn_in(&mut set, format!("request {n}"), request);
    }
    let (mut ok, mut rejected, mut failed) = (0, 0, 0);
    while let Some(done) = set.join_next().await {
        match done.map(|e| e.outcome) {
            Ok(crate::demo::Outcome::Ok) => ok += 1,
            Ok(crate::demo::Outcome::Rejected) => rejected += 1,
            _ => failed += 1,
        }
    }
    ctx.metric("ok", ok);
    ctx.metric("rejected_429", rejected);
    ctx.metric("failed", failed);
    Ended::ok(format!("{ok} ok, {rejected} rejected, {failed} failed"))
}

/// One client request: 2xx is ok, 429 is rejected, anything else an error.
async fn call(client: reqwest::Client, url: String) -> Ended {
    let resp = match client.get(url).send().await {
        Ok(r) => r,
        Err(e) => return Ended::error(services::request_error(e)),
    };
    let status = resp.status();
    let body = resp.text().await.unwrap_or_default();
    if status.is_success() {
        Ended::ok(body)
    } else if status == StatusCode::TOO_MANY_REQUESTS {
        Ended::rejected(format!("{status}"))
    } else {
        Ended::error(format!("{status}: {body}"))
    }
}

impl Gateway {
    fn new(ctx: &Ctx, client: reqwest::Client, balance: Balance) -> Gateway {
        Gateway {
            ctx: ctx.clone(),
            client,
            balance,
            registry: Mutex::new(HashMap::new()),
        }
    }

    /// Registering an instance twice changes nothing: one entry, one checker per URL.
    fn register(&self, service: &str, name: &str, url: &str, rate: f64, burst: f64) {
        let Ok(mut registry) = self.registry.lock() else {
            return;
        };
        let svc = registry
            .entry(service.to_owned())
            .or_insert_with(|| Service {
                instances: Vec::new(),
                next: 0,
                limit: TokenBucket {
                    rate,
                    burst,
                    tokens: burst,
                    last: Instant::now(),
                },
            });
        if svc.instances.iter().all(|i| i.url != url) {
            let (name, url) = (name.to_owned(), url.to_owned());
            let entry = Entry {
                name,
                url,
                healthy: true,
                forwarded: 0,
                removals: 0,
                returns: 0,
            };
            svc.instances.push(entry);
        }
        let n = svc.instances.iter().filter(|i| i.healthy).count();
        self.ctx.series("healthy_instances", n);
    }

    /// Metrics: requests forwarded to each instance, removals and returns.
    fn report(&self) {
        let Ok(registry) = self.registry.lock() else {
            return;
        };
        let mut forwarded = serde_json::Map::new();
        let (mut removals, mut returns) = (0, 0);
        for service in registry.values() {
            for i in &service.instances {
                forwarded.insert(i.name.clone(), i.forwarded.into());
                removals += i.removals;
                returns += i.returns;
            }
        }
        self.ctx
            .metric("forwarded", serde_json::Value::Object(forwarded));
        self.ctx.metric("removals", removals);
        self.ctx.metric("returns", returns);
    }
}

/// The guide's "round-robin": the same path always lands on the same instance.
fn hash(path: &str) -> usize {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    path.hash(&mut h);
    h.finish() as usize
}

/// The gateway's HTTP handler: every request is forwarded.
fn handler(gw: &Arc<Gateway>) -> impl Handler + use<> {
    let gw = Arc::clone(gw);
    move |req: Request| {
        let gw = Arc::clone(&gw);
        let path = req.uri().path().to_owned();
        async move { gw.forward(path).await }.boxed()
    }
}

// region:demo
use std::sync::Mutex;

use hyper::StatusCode;
use tokio::time::Instant;

use crate::demo::services::server::{Response, text};

#[derive(Debug, Clone, Copy)]
enum Balance {
    RoundRobin,
    HashPath,
}

/// One registered instance. Unhealthy instances stay registered (their checker keeps polling
/// them) but get no requests; a passing check puts them back.
struct Entry {
    name: String,
    url: String,
    healthy: bool,
    forwarded: usize,
    removals: usize,
    returns: usize,
}

struct Service {
    instances: Vec<Entry>,
    next: usize, // the round-robin counter
    limit: TokenBucket,
}

/// `rate` tokens a second, at most `burst` saved up; a request takes one or is rejected.
struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    fn try_take(&mut self) -> bool {
        let now = Instant::now();
        let refill = now.duration_since(self.last).as_secs_f64() * self.rate;
        self.tokens = (self.tokens + refill).min(self.burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false // over the limit: the caller answers 429 now; nobody waits
        }
    }
}

enum Route {
    To { name: String, url: String },
    UnknownService,
    NoHealthyInstance,
    RateLimited,
}

struct Gateway {
    ctx: Ctx,
    client: reqwest::Client,
    balance: Balance,
    registry: Mutex<HashMap<String, Service>>,
}

impl Gateway {
    /// Choose where a request goes. Under the registry's lock, so a removal is seen by every
    /// request routed after it.
    fn route(&self, service: &str, path: &str) -> Route {
        let Ok(mut registry) = self.registry.lock() else {
            return Route::UnknownService;
        };
        let Some(svc) = registry.get_mut(service) else {
            return Route::UnknownService;
        };
        if !svc.limit.try_take() {
            return Route::RateLimited;
        }
        let healthy: Vec<usize> = (0..svc.instances.len())
            .filter(|&i| svc.instances[i].healthy)
            .collect();
        if healthy.is_empty() {
            return Route::NoHealthyInstance;
        }
        let k = match self.balance {
            Balance::RoundRobin => svc.next % healthy.len(),
            Balance::HashPath => hash(path) % healthy.len(),
        };
        svc.next += 1;
        let chosen = &mut svc.instances[healthy[k]];
        chosen.forwarded += 1;
        self.ctx
            .series(&format!("forwarded {}", chosen.name), chosen.forwarded);
        Route::To {
            name: chosen.name.clone(),
            url: chosen.url.clone(),
        }
    }

    /// Record a health check's result; a change takes the instance out or puts it back.
    fn set_health(&self, service: &str, name: &str, healthy: bool) {
        let Ok(mut registry) = self.registry.lock() else {
            return;
        };
        let Some(svc) = registry.get_mut(service) else {
            return;
        };
        let Some(entry) = svc.instances.iter_mut().find(|i| i.name == name) else {
            return;
        };
        if entry.healthy == healthy {
            return;
        }
        entry.healthy = healthy;
        if healthy {
            entry.returns += 1;
        } else {
            entry.removals += 1;
        }
        let n = svc.instances.iter().filter(|i| i.healthy).count();
        self.ctx.series("healthy_instances", n);
        let change = if healthy {
            "back in rotation"
        } else {
            "removed"
        };
        self.ctx.mark(format!("{name} {change}"));
    }

    /// Route and forward one request over HTTP.
    async fn forward(&self, path: String) -> Response {
        let service = path.trim_start_matches('/').split('/').next().unwrap_or("");
        let (name, url) = match self.route(service, &path) {
            Route::To { name, url } => (name, url),
            Route::RateLimited => return text(StatusCode::TOO_MANY_REQUESTS, "rate limited"),
            Route::NoHealthyInstance => {
                return text(StatusCode::SERVICE_UNAVAILABLE, "no healthy instance");
            }
            Route::UnknownService => {
                return text(StatusCode::NOT_FOUND, format!("no service `{service}`"));
            }
        };
        let answer = async {
            let resp = self.client.get(format!("{url}{path}")).send().await?;
            Ok::<_, reqwest::Error>((resp.status(), resp.text().await?))
        };
        match answer.await {
            Ok((status, body)) => text(status, body),
            Err(e) => text(
                StatusCode::BAD_GATEWAY,
                format!("{name}: {}", services::request_error(e)),
            ),
        }
    }
}

/// How long a health check may take before it counts as failed.
const CHECK_TIMEOUT: Duration = Duration::from_secs(1);

/// One checker per instance: GET /health every `every`; a failure or a timeout takes the
/// instance out of rotation, a success puts it back.
async fn health_checker(
    gw: Arc<Gateway>,
    service: &'static str,
    name: String,
    url: String,
    every: Duration,
    stop: CancellationToken,
) -> Ended {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut checks = 0;
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            _ = tick.tick() => {}
        }
        let check = gw
            .client
            .get(format!("{url}/health"))
            .timeout(CHECK_TIMEOUT)
            .send()
            .await;
        let healthy = check.is_ok_and(|r| r.status().is_success());
        gw.set_health(service, &name, healthy);
        checks += 1;
    }
    Ended::ok(format!("{checks} checks"))
}
// endregion:demo

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use crate::demo::Outcome;
    use crate::demo::services::testing::{cancel_midway, clean, metric, ports_closed, run};
    use crate::demo::timeline::{SeriesValue, TaskRecord, TimelineSnapshot};

    fn mark_at(tl: &TimelineSnapshot, label: &str) -> f64 {
        tl.marks
            .iter()
            .find(|m| m.label == label)
            .unwrap_or_else(|| panic!("no mark `{label}`"))
            .t_ms
    }

    fn count_at(tl: &TimelineSnapshot, series: &str, t: f64) -> f64 {
        match tl.series_at(series, t) {
            Some(SeriesValue::Num(n)) => *n,
            None => 0.0,
            other => panic!("{series}: {other:?}"),
        }
    }

    fn lanes(tl: &TimelineSnapshot, outcome: Outcome) -> Vec<&TaskRecord> {
        tl.tasks
            .iter()
            .filter(|t| t.name.starts_with("request ") && t.outcome == outcome)
            .collect()
    }

    #[test]
    fn a_removed_instance_gets_nothing_and_the_others_share_evenly() {
        let sets = [
            "requests=60",
            "interval_ms=8",
            "latency_ms=5",
            "health_ms=40",
            "down_at_ms=120",
            "up_at_ms=300",
            "rate_per_s=10000",
            "burst=1000",
        ];
        let report = run("gateway", &["round-robin"], &sets);
        let r = &report.runs[0];
        clean(r);
        let tl = &r.timeline;
        let removed = mark_at(tl, "users-2 removed");
        let back = mark_at(tl, "users-2 back in rotation");
        assert!(mark_at(tl, "users-2 turns unhealthy") < removed);
        assert!(removed < back);
        assert_eq!(metric(tl, "removals"), 1.0);
        assert_eq!(metric(tl, "returns"), 1.0);
        // Nothing routed to users-2 while it was out.
        let to_2 = &tl.series["forwarded users-2"];
        assert!(
            to_2.iter().all(|(t, _)| *t < removed || *t > back),
            "forwarded to users-2 while removed: {to_2:?}"
        );
        assert_eq!(
            tl.series_at("healthy_instances", removed),
            Some(&2usize.into())
        );
        assert_eq!(
            tl.series_at("healthy_instances", back),
            Some(&3usize.into())
        );
        // Round-robin: within each phase the healthy instances' shares differ by at most one.
        let end = tl.now_ms;
        let phases = [
            (0.0, removed, vec![1, 2, 3]),
            (removed, back, vec![1, 3]),
            (back, end, vec![1, 2, 3]),
        ];
        for (from, to, healthy) in phases {
            let share = |i: usize| {
                let s = format!("forwarded users-{i}");
                count_at(tl, &s, to) - count_at(tl, &s, from)
            };
            let shares: Vec<f64> = healthy.iter().map(|&i| share(i)).collect();
            let (lo, hi) = shares
                .iter()
                .fold((f64::MAX, f64::MIN), |(lo, hi), &x| (lo.min(x), hi.max(x)));
            assert!(hi - lo <= 1.0, "phase {from}..{to}: {shares:?}");
            assert!(hi > 0.0, "phase {from}..{to} routed something");
        }
        let ok = metric(tl, "ok");
        let failed = metric(tl, "failed");
        assert_eq!(metric(tl, "rejected_429"), 0.0);
        assert_eq!(ok + failed, 60.0);
        // Only the few requests sent between the failure and the check that noticed it fail.
        assert!(failed <= 8.0, "{failed}");
        assert_eq!(lanes(tl, Outcome::Ok).len() as f64, ok);
        ports_closed(tl, "addrs");
    }

    #[test]
    fn over_the_limit_requests_are_rejected_at_once_not_queued() {
        let sets = [
            "requests=40",
            "interval_ms=2",
            "latency_ms=300",
            "rate_per_s=20",
            "burst=5",
            "health_ms=500",
            "down_at_ms=20000",
        ];
        let report = run("gateway", &["round-robin"], &sets);
        let r = &report.runs[0];
        clean(r);
        let tl = &r.timeline;
        let rejected = lanes(tl, Outcome::Rejected);
        let ok = lanes(tl, Outcome::Ok);
        assert_eq!(rejected.len() + ok.len(), 40);
        assert_eq!(metric(tl, "rejected_429"), rejected.len() as f64);
        // The bucket: 5 at once, then 20 a second over the time the load took to send.
        // Every routing decision was made by the time its answer came back (an accepted one
        // then waited 300 ms for its instance), and the bucket was filled at most from t = 0.
        let finished = |t: &&TaskRecord| t.finished_ms.unwrap_or(0.0);
        let last_decision = rejected
            .iter()
            .map(finished)
            .chain(ok.iter().map(|t| finished(t) - 300.0))
            .fold(0.0, f64::max);
        let allowed = 5.0 + 20.0 * last_decision / 1000.0;
        assert!(
            ok.len() as f64 <= allowed,
            "{} ok, {allowed} allowed",
            ok.len()
        );
        assert!(rejected.len() >= 20, "{}", rejected.len());
        // A rejection comes back before any instance could have answered (300 ms): nothing
        // waited for a slot.
        for t in &rejected {
            let took = t.finished_ms.expect("finished") - t.spawned_ms;
            assert!(took < 300.0, "{} took {took} ms", t.name);
            assert_eq!(t.detail, "429 Too Many Requests");
        }
        for t in &ok {
            assert!(t.finished_ms.expect("finished") - t.spawned_ms >= 300.0);
        }
        ports_closed(tl, "addrs");
    }

    #[test]
    fn the_guides_hash_sends_each_path_to_one_instance() {
        let sets = [
            "requests=30",
            "interval_ms=5",
            "latency_ms=2",
            "down_at_ms=20000",
            "rate_per_s=10000",
            "burst=1000",
        ];
        let report = run("gateway", &["hash-path"], &sets);
        let r = &report.runs[0];
        clean(r);
        let mut by_path: HashMap<String, Vec<String>> = HashMap::new();
        for t in lanes(&r.timeline, Outcome::Ok) {
            // "users-2 served /users/5"
            let (instance, path) = t.detail.split_once(" served ").expect("detail");
            by_path
                .entry(path.to_owned())
                .or_default()
                .push(instance.to_owned());
        }
        assert!(by_path.len() > 1);
        for (path, instances) in &by_path {
            assert!(
                instances.iter().all(|i| i == &instances[0]),
                "{path}: {instances:?}"
            );
        }
        // Half the load is the hot path, so one instance gets at least half of everything.
        let hot = by_path["/users/1"].len();
        assert!(hot >= 15, "{hot}");
    }

    #[test]
    fn cancelling_mid_run_closes_the_gateway_and_every_instance() {
        let sets = ["requests=2000", "interval_ms=5"];
        cancel_midway("gateway", "round-robin", &sets, 500, "addrs");
    }
}
