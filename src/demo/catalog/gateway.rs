//! Q12: an API gateway in front of service instances, all on 127.0.0.1: a registry kept up to
//! date by periodic health checks, round-robin over the healthy instances, a per-service rate
//! limit that answers 429 at once instead of queueing, and every request forwarded over HTTP.

mod shown;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use hyper::StatusCode;
use tokio_util::sync::CancellationToken;

use crate::demo::services::instances::Instance;
use crate::demo::services::server::{Handler, Options, Request, Server};
use crate::demo::services::{self, RUN_BUDGET};
use crate::demo::{
    Ctx, DemoProgram, DemoSpec, DemoVariant, Ended, FromParams, Outcome, SetupError, VariantSpec,
    params, variants,
};
use shown::{Balance, Gateway};

pub struct GatewayDemo;

variants! {
    pub enum Variant {
        RoundRobin => VariantSpec::real(
            "round-robin",
            "a counter per service: the i-th request goes to healthy instance i mod n",
        ),
        HashPath => VariantSpec::real(
            "hash-path",
            "the guide's `hash(path) % n`: each path sticks to one instance",
        ),
    }
}

params! {
    pub struct Config {
        instances: usize = Int(2..=6), "3", "instances of the users service";
        requests: usize = Int(1..=2000), "80", "requests the load sends";
        interval_ms: Duration = Ms(1..=1000), "12",
            "the load sends one request every interval, without waiting for answers";
        latency_ms: Duration = Ms(0..=2000), "20", "how long an instance takes to answer";
        health_ms: Duration = Ms(20..=2000), "100",
            "how often the gateway checks each instance's /health";
        down_at_ms: Duration = Ms(0..=20_000), "250", "when users-2 turns unhealthy";
        up_at_ms: Duration = Ms(0..=20_000), "650",
            "when users-2 is healthy again (never, if not after down_at_ms)";
        rate_per_s: u32 = Int(1..=10_000), "60",
            "the users service's rate limit, requests per second";
        burst: u32 = Int(1..=1000), "10", "requests the limit lets through at once";
    }
}

static SPEC: DemoSpec = DemoSpec {
    id: "gateway",
    title: "An API gateway: health checks, round-robin, a rate limit that rejects",
    about: "A load of requests goes through a gateway to the `users` service's instances, each \
            its own server on 127.0.0.1. Health checks remove instance users-2 when it turns \
            unhealthy and add it back when it recovers; requests go round-robin to the healthy \
            ones; over the rate limit the gateway answers 429 at once.",
    variants: Variant::SPECS,
    default_variants: &[Variant::RoundRobin.name()],
    params: Config::PARAMS,
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
    source: include_str!("gateway/shown.rs"),
    source_file: "src/demo/catalog/gateway/shown.rs",
};

impl DemoProgram for GatewayDemo {
    const SPEC: &'static DemoSpec = &SPEC;
    type Variant = Variant;
    type Config = Config;

    fn run(ctx: Ctx, variant: Variant, cfg: Config) -> BoxFuture<'static, ()> {
        let balance = match variant {
            Variant::RoundRobin => Balance::RoundRobin,
            Variant::HashPath => Balance::HashPath,
        };
        async move {
            if let Err(why) = run(&ctx, &cfg, balance).await {
                ctx.setup_failed("gateway setup", why).await;
            }
        }
        .boxed()
    }
}

async fn run(ctx: &Ctx, cfg: &Config, balance: Balance) -> Result<(), SetupError> {
    let mut instances = Vec::new();
    for i in 1..=cfg.instances {
        instances.push(Instance::start(ctx, &format!("users-{i}"), cfg.latency_ms).await?);
    }
    let gw = Arc::new(Gateway::new(ctx, services::client()?, balance));
    let (rate, burst) = (f64::from(cfg.rate_per_s), f64::from(cfg.burst));
    for inst in &instances {
        gw.register("users", inst.name(), &inst.base_url(), rate, burst);
    }
    let gateway = Server::start(ctx, "gateway", Options::default(), handler(&gw)).await?;
    let mut addrs = vec![gateway.addr().to_string()];
    addrs.extend(instances.iter().map(|i| i.server().addr().to_string()));
    ctx.metric("addrs", addrs);

    let stop = CancellationToken::new();
    let mut background = tokio::task::JoinSet::new();
    for inst in &instances {
        let checker = shown::health_checker(
            Arc::clone(&gw),
            "users",
            inst.name().to_owned(),
            inst.base_url(),
            cfg.health_ms,
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
            cfg.down_at_ms,
            cfg.up_at_ms,
            stop.clone(),
        ),
    );
    let mut load = ctx.spawn(
        "load",
        load(ctx.clone(), gateway.url(""), cfg.requests, cfg.interval_ms),
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
            Ok(Outcome::Ok) => ok += 1,
            Ok(Outcome::Rejected) => rejected += 1,
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

/// The gateway's HTTP handler: every request is forwarded.
fn handler(gw: &Arc<Gateway>) -> impl Handler + use<> {
    let gw = Arc::clone(gw);
    move |req: Request| {
        let gw = Arc::clone(&gw);
        let path = req.uri().path().to_owned();
        async move { gw.forward(path).await }.boxed()
    }
}
