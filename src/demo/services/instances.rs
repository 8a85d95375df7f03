//! Small service instances, each its own loopback listener and its own lane. `GET /health`
//! answers 200 while the instance is healthy and 503 while it is not; any other path is served
//! after the instance's latency (503 while unhealthy), with an `x-instance` header naming it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use futures::FutureExt;
use hyper::StatusCode;
use hyper::header::HeaderValue;

use super::server::{Options, Request, Server, text};
use crate::demo::{Ctx, Ended, SetupError};

/// Response header naming the instance that served the request.
pub const INSTANCE_HEADER: &str = "x-instance";

#[derive(Debug)]
struct State {
    healthy: AtomicBool,
    served: AtomicU64,
}

#[derive(Debug)]
pub struct Instance {
    name: String,
    state: Arc<State>,
    server: Server,
}

impl Instance {
    /// Start an instance in a lane named `instance NAME`.
    pub async fn start(ctx: &Ctx, name: &str, latency: Duration) -> Result<Instance, SetupError> {
        let state = Arc::new(State {
            healthy: AtomicBool::new(true),
            served: AtomicU64::new(0),
        });
        let handler = {
            let state = Arc::clone(&state);
            let header =
                HeaderValue::from_str(name).map_err(|e| SetupError::new("instance name", e))?;
            let name = name.to_owned();
            move |req: Request| {
                let state = Arc::clone(&state);
                let header = header.clone();
                let name = name.clone();
                let path = req.uri().path().to_owned();
                async move {
                    let healthy = state.healthy.load(Ordering::SeqCst);
                    let mut resp = if path == "/health" {
                        if healthy {
                            text(StatusCode::OK, "ok")
                        } else {
                            text(StatusCode::SERVICE_UNAVAILABLE, "unhealthy")
                        }
                    } else if !healthy {
                        text(
                            StatusCode::SERVICE_UNAVAILABLE,
                            format!("{name} is unhealthy"),
                        )
                    } else {
                        if !latency.is_zero() {
                            tokio::time::sleep(latency).await;
                        }
                        state.served.fetch_add(1, Ordering::SeqCst);
                        text(StatusCode::OK, format!("{name} served {path}"))
                    };
                    resp.headers_mut().insert(INSTANCE_HEADER, header);
                    resp
                }
                .boxed()
            }
        };
        let server =
            Server::start(ctx, format!("instance {name}"), Options::default(), handler).await?;
        Ok(Instance {
            name: name.to_owned(),
            state,
            server,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        self.server.url("")
    }

    pub fn server(&self) -> &Server {
        &self.server
    }

    pub fn set_healthy(&self, healthy: bool) {
        self.state.healthy.store(healthy, Ordering::SeqCst);
    }

    pub fn is_healthy(&self) -> bool {
        self.state.healthy.load(Ordering::SeqCst)
    }

    /// Requests served successfully (health checks not counted).
    pub fn served(&self) -> u64 {
        self.state.served.load(Ordering::SeqCst)
    }

    pub async fn stop(self) -> Ended {
        self.server.stop().await
    }
}
