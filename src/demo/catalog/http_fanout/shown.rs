use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::StreamExt;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::demo::ctx::Gauge;
use crate::demo::services::{self, ConnTag};
use crate::demo::{Ctx, Ended};

/// What every request shares: the run, one client (one connection pool), the in-flight gauge
/// and the counts.
pub struct Fanout {
    pub ctx: Ctx,
    pub client: reqwest::Client,
    pub in_flight: Gauge,
    pub tally: Arc<Tally>,
}

#[derive(Default)]
pub struct Tally {
    pub ok: AtomicUsize,
    pub failed: AtomicUsize,
    pub reused: AtomicUsize,
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

pub async fn sequential(fan: &Fanout, urls: Vec<String>) {
    for (i, url) in urls.into_iter().enumerate() {
        // Each response is read before the next request is even sent.
        let name = format!("request {}", i + 1);
        fan.ctx.instrument(name, fetch(fan, url)).await;
    }
}

pub async fn join_all(fan: &Fanout, urls: Vec<String>) {
    // Every request at once: nothing bounds how many are in flight, so the pool has no idle
    // connection to hand out and opens one per request.
    let requests = urls.into_iter().enumerate().map(|(i, url)| {
        let name = format!("request {}", i + 1);
        fan.ctx.instrument(name, fetch(fan, url))
    });
    futures::future::join_all(requests).await;
}

pub async fn with_semaphore(fan: &Arc<Fanout>, urls: Vec<String>, limit: usize) {
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

pub async fn buffer_unordered(fan: &Fanout, urls: Vec<String>, limit: usize) {
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
