//! The parameterised endpoints: everything a request needs is in its query string, so one
//! server serves any mix of latencies, failures, statuses and sizes.
//!
//! - `GET /data?id=7&latency_ms=100&fail_pct=10&seed=1&status=200&size=1024`: waits
//!   `latency_ms` on the server, then answers `status` with `size` bytes; with probability
//!   `fail_pct` percent, drawn from (`seed`, `id`) so the same request always fails or never
//!   does, it answers 500 instead.
//! - `GET /files/manifest?count=6&size=262144&seed=1`: one line per file,
//!   `file-N.bin SIZE SHA256`, the published checksums.
//! - `GET /files/file-N.bin?size=262144&seed=1&chunk=16384&chunk_ms=20`: the file, streamed in
//!   `chunk`-byte pieces `chunk_ms` apart, with its `Content-Length`. Faults on purpose:
//!   `status=500` answers that status instead, `cut_at=BYTES` stops the body there and drops the
//!   connection, `corrupt=1` flips one byte (the checksum will not match).

use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use futures::FutureExt;
use http_body_util::{BodyExt, StreamBody};
use hyper::StatusCode;
use hyper::body::Frame;
use hyper::header::{CONTENT_LENGTH, HeaderValue};
use sha2::{Digest, Sha256};

use super::server::{Handler, Request, Response, full, text};
use super::{MAX_BODY, MAX_LATENCY_MS, content, draw, hex};

/// Most files a manifest lists.
pub const MAX_FILES: u64 = 50;

/// Why a request's query was refused: answered 400 with this message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadQuery {
    #[error("{name}={value} is not a whole number")]
    NotANumber { name: &'static str, value: String },
    #[error("{name}={n} is over the limit of {max}")]
    OverLimit {
        name: &'static str,
        n: u64,
        max: u64,
    },
    #[error("status={0} is not an HTTP status")]
    NotAStatus(u64),
}

/// The handler for `/data` and `/files/...`.
pub fn handler() -> impl Handler {
    |req: Request| {
        let path = req.uri().path().to_owned();
        let query = parse_query(req.uri().query().unwrap_or(""));
        async move {
            let result = if path == "/data" {
                data(&query).await
            } else if path == "/files/manifest" {
                manifest(&query)
            } else if let Some(name) = path.strip_prefix("/files/") {
                file(name, &query)
            } else {
                Ok(text(
                    StatusCode::NOT_FOUND,
                    format!("no such endpoint: {path}"),
                ))
            };
            result.unwrap_or_else(|bad| text(StatusCode::BAD_REQUEST, bad.to_string()))
        }
        .boxed()
    }
}

/// `a=1&b=2` → {a: 1, b: 2}. Values here are numbers, so no percent-decoding is needed.
pub fn parse_query(q: &str) -> HashMap<String, String> {
    q.split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => (kv.to_owned(), String::new()),
        })
        .collect()
}

fn number(
    q: &HashMap<String, String>,
    name: &'static str,
    default: u64,
    max: u64,
) -> Result<u64, BadQuery> {
    let Some(v) = q.get(name) else {
        return Ok(default);
    };
    let n: u64 = v.parse().map_err(|_| BadQuery::NotANumber {
        name,
        value: v.clone(),
    })?;
    if n > max {
        return Err(BadQuery::OverLimit { name, n, max });
    }
    Ok(n)
}

fn status(n: u64) -> Result<StatusCode, BadQuery> {
    u16::try_from(n)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .ok_or(BadQuery::NotAStatus(n))
}

async fn data(q: &HashMap<String, String>) -> Result<Response, BadQuery> {
    let id = number(q, "id", 0, u64::MAX)?;
    let seed = number(q, "seed", 1, u64::MAX)?;
    let latency = number(q, "latency_ms", 0, MAX_LATENCY_MS)?;
    let fail_pct = number(q, "fail_pct", 0, 100)?;
    let status = status(number(q, "status", 200, 599)?)?;
    let size = number(q, "size", 0, MAX_BODY)?;
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    if fails(seed, id, fail_pct) {
        return Ok(text(StatusCode::INTERNAL_SERVER_ERROR, "injected failure"));
    }
    Ok(body_of(status, seed, id, size))
}

/// Bodies up to this size are sent in one piece; bigger ones are generated and sent piece by
/// piece, so a thousand concurrent large responses do not each hold their whole body in memory.
const PIECE: u64 = 64 * 1024;

/// `size` bytes of [`content`]`(seed, id, ..)`, with its `Content-Length`.
fn body_of(status: StatusCode, seed: u64, id: u64, size: u64) -> Response {
    if size <= PIECE {
        return full(status, content(seed, id, size as usize));
    }
    // The same bytes as `content`: the generator continues from piece to piece (pieces are a
    // whole number of its 8-byte words).
    let body = futures::stream::unfold((draw(seed, id), size), |(mut rng, left)| async move {
        if left == 0 {
            return None;
        }
        let n = left.min(PIECE) as usize;
        let mut piece = Vec::with_capacity(n + 8);
        while piece.len() < n {
            piece.extend_from_slice(&rng.next_u64().to_le_bytes());
        }
        piece.truncate(n);
        Some((
            Ok::<_, std::io::Error>(Frame::data(Bytes::from(piece))),
            (rng, left - n as u64),
        ))
    });
    let mut resp = hyper::Response::new(StreamBody::new(body).boxed_unsync());
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_LENGTH, HeaderValue::from(size));
    resp
}

/// Does `/data` request `id` fail at `fail_pct` percent with `seed`? A draw of its own, apart
/// from the body's, so the answer depends on nothing else.
pub fn fails(seed: u64, id: u64, fail_pct: u64) -> bool {
    draw(seed ^ 0x5EED, id).percent(fail_pct)
}

/// The number in `file-N.bin`.
fn file_number(name: &str) -> Option<u64> {
    name.strip_prefix("file-")?
        .strip_suffix(".bin")?
        .parse()
        .ok()
}

/// The published checksum of a file: what `/files/manifest` lists.
pub fn file_sha256(seed: u64, n: u64, size: u64) -> String {
    hex(&Sha256::digest(content(seed, n, size as usize)))
}

fn manifest(q: &HashMap<String, String>) -> Result<Response, BadQuery> {
    let count = number(q, "count", 1, MAX_FILES)?;
    let size = number(q, "size", 1024, MAX_BODY)?;
    let seed = number(q, "seed", 1, u64::MAX)?;
    let mut out = String::new();
    for n in 1..=count {
        out.push_str(&format!(
            "file-{n}.bin {size} {}\n",
            file_sha256(seed, n, size)
        ));
    }
    Ok(text(StatusCode::OK, out))
}

fn file(name: &str, q: &HashMap<String, String>) -> Result<Response, BadQuery> {
    let Some(n) = file_number(name) else {
        return Ok(text(StatusCode::NOT_FOUND, format!("no such file: {name}")));
    };
    let size = number(q, "size", 1024, MAX_BODY)?;
    let seed = number(q, "seed", 1, u64::MAX)?;
    let chunk = number(q, "chunk", 16 * 1024, MAX_BODY)?.max(1);
    let chunk_ms = number(q, "chunk_ms", 0, 1000)?;
    let code = number(q, "status", 200, 599)?;
    let cut_at = number(q, "cut_at", size, u64::MAX)?;
    let corrupt = number(q, "corrupt", 0, 1)? == 1;
    if code != 200 {
        return Ok(text(status(code)?, format!("{name}: failing on purpose")));
    }
    let mut bytes = content(seed, n, size as usize);
    if corrupt && let Some(b) = bytes.get_mut(size as usize / 2) {
        *b ^= 0xFF;
    }
    let bytes = Bytes::from(bytes);
    let pause = Duration::from_millis(chunk_ms);
    // State: (bytes, next offset). Each step waits `pause` (not before the first piece), then
    // yields one piece; past `cut_at` it yields an error, which makes hyper drop the connection
    // with the body unfinished.
    let body = futures::stream::unfold((bytes, 0usize), move |(bytes, at)| async move {
        if at >= bytes.len() {
            return None;
        }
        if at as u64 >= cut_at {
            let err = std::io::Error::other(format!("cut off after {at} bytes on purpose"));
            return Some((Err(err), (bytes.clone(), usize::MAX)));
        }
        if at > 0 && !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
        let end = (at + chunk as usize)
            .min(bytes.len())
            .min(cut_at as usize)
            .max(at + 1);
        let piece = bytes.slice(at..end);
        Some((Ok(Frame::data(piece)), (bytes, end)))
    });
    let mut resp = hyper::Response::new(StreamBody::new(body).boxed_unsync());
    resp.headers_mut()
        .insert(CONTENT_LENGTH, HeaderValue::from(size));
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_parse_and_bounds_are_checked() {
        let q = parse_query("id=7&size=10&flag");
        assert_eq!(q.get("id").map(String::as_str), Some("7"));
        assert_eq!(q.get("flag").map(String::as_str), Some(""));
        assert_eq!(number(&q, "size", 0, 100), Ok(10));
        assert_eq!(number(&q, "missing", 3, 100), Ok(3));
        let over = number(&q, "size", 0, 5).unwrap_err();
        assert_eq!(
            over,
            BadQuery::OverLimit {
                name: "size",
                n: 10,
                max: 5
            }
        );
        assert_eq!(over.to_string(), "size=10 is over the limit of 5");
        assert_eq!(
            number(&parse_query("id=x"), "id", 0, 5)
                .unwrap_err()
                .to_string(),
            "id=x is not a whole number"
        );
        assert_eq!(status(42), Err(BadQuery::NotAStatus(42)));
        assert_eq!(file_number("file-12.bin"), Some(12));
        assert_eq!(file_number("file-x.bin"), None);
    }
}
