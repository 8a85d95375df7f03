//! Services the I/O demos start for themselves, on 127.0.0.1 with an ephemeral port, so their
//! timelines show real sockets, real connection reuse and real backpressure.
//!
//! - [`server`]: a loopback HTTP/1.1 server (hyper) tied to the run: every listener is a task
//!   spawned through the run's [`Ctx`](crate::demo::Ctx), stopped by [`server::Server::stop`], by
//!   dropping its handle, or by the run's end or cancel. It counts the TCP connections it accepts
//!   and tags every response with the connection that served it, so a client can tell a new
//!   connection from a reused one.
//! - [`endpoints`]: `/data` (latency, seeded failure rate, status, body size from the query
//!   string) and `/files/...` (a manifest with sha256 sums, and files streamed in paced chunks that
//!   can be cut short or corrupted on purpose).
//! - [`site`]: a generated website: N pages, a seeded link graph, some broken and some off-site
//!   links.
//! - [`instances`]: small service instances, each on its own listener, that can be made
//!   unhealthy and healthy again.
//!
//! The client side is [`client`]: one reqwest client (no TLS, no proxy), whose connection pool is
//! shared by everything that clones it.
//!
//! Nothing here listens on any address but loopback, and every bound is checked: latencies up to
//! [`MAX_LATENCY_MS`], bodies up to [`MAX_BODY`].
//!
//! What cannot be set up (a port that cannot be bound, no temporary directory, no client) comes
//! back as a [`SetupError`] and nothing here reports it: the demo does, with
//! [`Ctx::setup_failed`](crate::demo::Ctx::setup_failed), the one path every setup failure takes.

pub mod endpoints;
pub mod instances;
pub mod server;
pub mod site;

use std::time::Duration;

use super::SetupError;

/// Longest server-side latency any endpoint accepts.
pub const MAX_LATENCY_MS: u64 = 5_000;
/// Largest body any endpoint sends.
pub const MAX_BODY: u64 = 1024 * 1024;
/// Every I/O demo stops what is still in progress after this long, whatever its parameters say:
/// the product of counts and latencies can be large, the run must not be.
pub const RUN_BUDGET: Duration = Duration::from_secs(20);

/// A temporary directory for a demo's files, removed when the returned value is dropped (the run
/// ends or is cancelled); its path is recorded as metric `dir`. A failure goes to
/// [`Ctx::setup_failed`](crate::demo::Ctx::setup_failed), as every setup failure does.
pub fn temp_dir(ctx: &crate::demo::Ctx, prefix: &str) -> Result<tempfile::TempDir, SetupError> {
    let dir = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .map_err(|e| SetupError::new("cannot create a temporary directory", e))?;
    ctx.metric("dir", dir.path().display().to_string());
    Ok(dir)
}

/// A TCP listener on 127.0.0.1 with an ephemeral port, and its address (recorded as metric
/// `port`).
pub async fn listen(
    ctx: &crate::demo::Ctx,
) -> Result<(tokio::net::TcpListener, std::net::SocketAddr), SetupError> {
    let bound = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .and_then(|l| l.local_addr().map(|a| (l, a)))
        .map_err(|e| SetupError::new("cannot listen on 127.0.0.1", e))?;
    ctx.metric("port", bound.1.port());
    Ok(bound)
}

/// The demos' HTTP client: a connection pool shared by every clone, no TLS, no proxy (loopback
/// only), and timeouts so a request to a dead server ends instead of hanging.
pub fn client() -> Result<reqwest::Client, SetupError> {
    reqwest::Client::builder()
        .no_proxy()
        .connect_timeout(Duration::from_secs(2))
        .timeout(RUN_BUDGET)
        .build()
        .map_err(|e| SetupError::new("cannot build the HTTP client", e))
}

/// An error and its causes on one line: "error sending request: client error (Connect):
/// tcp connect error: Connection refused (os error 111)".
pub fn describe_error(e: &(dyn std::error::Error + 'static)) -> String {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !msg.contains(&text) {
            msg.push_str(": ");
            msg.push_str(&text);
        }
        source = s.source();
    }
    msg
}

/// The innermost cause of an error: "end of file before message length reached".
pub fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(s) = cause.source() {
        cause = s;
    }
    cause.to_string()
}

/// A reqwest error without its URL (the lane already says which request it was).
pub fn request_error(e: reqwest::Error) -> String {
    describe_error(&e.without_url())
}

/// Which server connection served a response, from the headers every [`server`] response
/// carries: its number and how many requests it had served including this one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnTag {
    pub conn: u64,
    pub nth: u64,
}

impl ConnTag {
    pub fn of(resp: &reqwest::Response) -> Option<ConnTag> {
        let num =
            |name: &str| -> Option<u64> { resp.headers().get(name)?.to_str().ok()?.parse().ok() };
        Some(ConnTag {
            conn: num(server::CONN_HEADER)?,
            nth: num(server::CONN_REQUEST_HEADER)?,
        })
    }

    /// Was this the connection's first request (a connection just opened)?
    pub fn is_new(self) -> bool {
        self.nth == 1
    }
}

/// The demos' seeded generator: the same seed gives the same site, the same failures and the
/// same file contents on every run and every machine.
pub use super::rng::SplitMix64 as Rng;

/// One seeded draw for item `id`: independent of the order items are asked for.
pub fn draw(seed: u64, id: u64) -> Rng {
    let mut r = Rng::new(seed ^ id.wrapping_mul(0xA076_1D64_78BD_642F));
    r.next_u64();
    r
}

/// The `len` bytes of item `id`: deterministic, so a checksum can be published for them.
pub fn content(seed: u64, id: u64, len: usize) -> Vec<u8> {
    let mut rng = draw(seed, id);
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        out.extend_from_slice(&rng.next_u64().to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Lower-case hex of a digest.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_repeatable_and_independent_of_order() {
        let a: Vec<u64> = (0..5).map(|i| draw(7, i).next_u64()).collect();
        let b: Vec<u64> = (0..5).rev().map(|i| draw(7, i).next_u64()).collect();
        assert_eq!(a, b.into_iter().rev().collect::<Vec<_>>());
        assert_eq!(content(1, 2, 13), content(1, 2, 13));
        assert_eq!(content(1, 2, 13).len(), 13);
        assert_ne!(content(1, 2, 64), content(1, 3, 64));
    }
}
