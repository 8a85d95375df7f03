use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper::StatusCode;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::demo::services::{
    self,
    server::{Response, text},
};
use crate::demo::{Ctx, Ended};

#[derive(Debug, Clone, Copy)]
pub enum Balance {
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

pub struct Gateway {
    ctx: Ctx,
    client: reqwest::Client,
    balance: Balance,
    registry: Mutex<HashMap<String, Service>>,
}

/// The guide's "round-robin": the same path always lands on the same instance.
fn hash(path: &str) -> usize {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    path.hash(&mut h);
    h.finish() as usize
}

impl Gateway {
    pub fn new(ctx: &Ctx, client: reqwest::Client, balance: Balance) -> Gateway {
        Gateway {
            ctx: ctx.clone(),
            client,
            balance,
            registry: Mutex::new(HashMap::new()),
        }
    }

    /// Registering an instance twice changes nothing: one entry, one checker per URL.
    pub fn register(&self, service: &str, name: &str, url: &str, rate: f64, burst: f64) {
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
    pub async fn forward(&self, path: String) -> Response {
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

    /// Metrics: requests forwarded to each instance, removals and returns.
    pub fn report(&self) {
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

/// How long a health check may take before it counts as failed.
const CHECK_TIMEOUT: Duration = Duration::from_secs(1);

/// One checker per instance: GET /health every `every`; a failure or a timeout takes the
/// instance out of rotation, a success puts it back.
pub async fn health_checker(
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
