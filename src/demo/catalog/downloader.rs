//! Challenge 2: download N files, K at a time, streamed in chunks to a temporary directory.
//! One file fails (cut short, refused or corrupted, as you choose): it is reported, the others
//! go on, and no partial file is left behind. Every file is checked against the manifest's
//! sha256; the directory is removed afterwards.

mod shown;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use sha2::{Digest, Sha256};

use crate::demo::params::ChoiceParam;
use crate::demo::services::server::{Options, Server};
use crate::demo::services::{self, RUN_BUDGET, endpoints};
use crate::demo::{
    Ctx, DemoProgram, DemoSpec, DemoVariant, Ended, FromParams, SetupError, VariantSpec, params,
    variants,
};
use shown::{Downloads, Entry};

pub struct Downloader;

variants! {
    pub enum Variant {
        SharedClient => VariantSpec::real(
            "shared-client",
            "one client, so one connection pool, for every file",
        ),
        ClientPerFile => VariantSpec::real(
            "client-per-file",
            "the guide's way: a new client, so a new TCP connection, for every file",
        ),
    }
}

/// How the broken file fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The body stops half-way.
    Cut,
    /// The server answers 500.
    Status,
    /// One byte differs: the checksum does not match.
    Corrupt,
}

impl ChoiceParam for Failure {
    const NAMES: &'static [&'static str] = &["cut", "status", "corrupt"];

    fn from_name(name: &str) -> Option<Failure> {
        match name {
            "cut" => Some(Failure::Cut),
            "status" => Some(Failure::Status),
            "corrupt" => Some(Failure::Corrupt),
            _ => None,
        }
    }
}

params! {
    pub struct Config {
        files: u64 = Int(1..=20), "6", "how many files to download";
        concurrency: usize = Int(1..=10), "3", "downloads in progress at once";
        size_kb: u64 = Int(1..=1024), "128", "size of each file in KiB";
        chunk_kb: u64 = Int(1..=256), "16", "the server sends each file in pieces of this many KiB";
        chunk_ms: Duration = Ms(0..=200), "20", "the server's pause between two pieces";
        broken_file: u64 = Int(0..=20), "4", "which file fails (0: none)";
        failure: Failure = Choice, "cut",
            "cut: the body stops half-way; status: the server answers 500; corrupt: one \
             byte differs, so the checksum does not match";
        seed: u64 = Seed(1_000_000), "1", "the files' contents";
    }
}

impl Config {
    fn size(&self) -> u64 {
        self.size_kb * 1024
    }

    /// The URL path of file `n`, with the fault asked for if it is the broken one.
    fn path(&self, name: &str, n: u64) -> String {
        let fault = if n != self.broken_file {
            String::new()
        } else {
            match self.failure {
                Failure::Status => "&status=500".to_owned(),
                Failure::Corrupt => "&corrupt=1".to_owned(),
                Failure::Cut => format!("&cut_at={}", self.size() / 2),
            }
        };
        format!(
            "/files/{name}?size={}&seed={}&chunk={}&chunk_ms={}{fault}",
            self.size(),
            self.seed,
            self.chunk_kb * 1024,
            self.chunk_ms.as_millis()
        )
    }
}

static SPEC: DemoSpec = DemoSpec {
    id: "downloader",
    title: "A file downloader: K at a time, verified, nothing half-written left behind",
    about: "Downloads `files` files from a server the demo starts on 127.0.0.1, `concurrency` \
            at a time, each streamed in chunks to NAME.part while its sha256 is computed, then \
            renamed to NAME only if it is whole and its checksum matches the manifest. File \
            `broken_file` fails on purpose; it is reported, the rest carry on, and its part file \
            is deleted. The temporary directory is removed at the end.",
    variants: Variant::SPECS,
    default_variants: &[Variant::SharedClient.name(), Variant::ClientPerFile.name()],
    params: Config::PARAMS,
    metrics: &[
        ("files_ok", "files downloaded whole with a matching sha256"),
        (
            "files_failed",
            "files that failed; none of them is left on disk",
        ),
        ("failed", "each failed file and why"),
        ("bytes_written", "bytes of the files kept"),
        (
            "files_left",
            "what the directory held before it was removed: the good files only",
        ),
        (
            "verified_on_disk",
            "kept files read back from disk whose sha256 matches the manifest",
        ),
        ("connections_opened", "TCP connections the server accepted"),
        ("max_in_flight", "most downloads in progress at once"),
        ("dir", "the temporary directory (removed after the run)"),
        ("dir_removed", "whether the directory was removed"),
        (
            "server_addr",
            "where the files were served (closed after the run)",
        ),
    ],
    source: include_str!("downloader/shown.rs"),
    source_file: "src/demo/catalog/downloader/shown.rs",
};

impl DemoProgram for Downloader {
    const SPEC: &'static DemoSpec = &SPEC;
    type Variant = Variant;
    type Config = Config;

    fn run(ctx: Ctx, variant: Variant, cfg: Config) -> BoxFuture<'static, ()> {
        run_in(ctx, variant, cfg, std::env::temp_dir()).boxed()
    }
}

/// The whole run, with the temporary directory made under `base`.
async fn run_in(ctx: Ctx, variant: Variant, cfg: Config, base: PathBuf) {
    let options = Options {
        conn_series: Some("server_connections"),
        ..Options::default()
    };
    let server = match Server::start(&ctx, "file server", options, endpoints::handler()).await {
        Ok(server) => server,
        Err(e) => return ctx.setup_failed("file server", e).await,
    };
    ctx.metric("server_addr", server.addr().to_string());
    let shared_client = match variant {
        Variant::SharedClient => true,
        Variant::ClientPerFile => false,
    };
    if let Err(why) = download_all(&ctx, &cfg, shared_client, &server, &base).await {
        ctx.setup_failed("downloads", why).await;
    }
    ctx.metric("connections_opened", server.accepted());
    server.stop().await;
}

async fn download_all(
    ctx: &Ctx,
    cfg: &Config,
    shared_client: bool,
    server: &Server,
    base: &Path,
) -> Result<(), SetupError> {
    let client = services::client()?;
    let dir = tempfile::Builder::new()
        .prefix("asyncdojo-downloads-")
        .tempdir_in(base)
        .map_err(|e| {
            SetupError::new(
                format!("cannot create a temporary directory in {}", base.display()),
                e,
            )
        })?;
    ctx.metric("dir", dir.path().display().to_string());
    ctx.mark(format!("created {}", dir.path().display()));
    let manifest_url = server.url(&format!(
        "/files/manifest?count={}&size={}&seed={}",
        cfg.files,
        cfg.size(),
        cfg.seed
    ));
    let manifest = ctx
        .instrument("GET manifest", fetch_manifest(client.clone(), manifest_url))
        .await;
    let entries = parse_manifest(&manifest.detail);
    if !manifest.is_ok() || entries.len() as u64 != cfg.files {
        return Err(SetupError::new("no usable manifest", manifest.detail));
    }
    let downloads = Arc::new(Downloads {
        ctx: ctx.clone(),
        client: shared_client.then_some(client),
        dir: Arc::new(dir),
        in_flight: ctx.gauge("in_flight"),
        tally: Tally::default(),
    });
    let urls = entries
        .iter()
        .enumerate()
        .map(|(i, e)| server.url(&cfg.path(&e.name, i as u64 + 1)))
        .collect();
    let files = shown::download_files(&downloads, entries.clone(), urls, cfg.concurrency);
    if tokio::time::timeout(RUN_BUDGET, files).await.is_err() {
        ctx.mark("time budget reached: the rest is cancelled");
    }
    let d = &downloads;
    ctx.metric("files_ok", d.tally.ok.load(Ordering::SeqCst));
    ctx.metric("files_failed", d.tally.failed.load(Ordering::SeqCst));
    ctx.metric("bytes_written", d.tally.bytes.load(Ordering::SeqCst));
    ctx.metric("max_in_flight", d.in_flight.max());
    if let Ok(failed) = d.tally.failures.lock() {
        ctx.metric("failed", failed.clone());
    }
    // Reading the files back and hashing them is blocking work: off the runtime's thread.
    let seen = Arc::new(std::sync::Mutex::new((Vec::new(), 0usize)));
    let check = {
        let (dir, files, seen) = (d.dir.path().to_owned(), entries.clone(), Arc::clone(&seen));
        ctx.spawn_blocking("verify on disk", move || {
            check_directory(&dir, &files, &seen)
        })
    };
    let _ = check.await;
    let (left, verified) = seen.lock().map(|s| s.clone()).unwrap_or_default();
    ctx.metric("files_left", left);
    ctx.metric("verified_on_disk", verified);
    // Every download has ended, so this is the last handle on the directory: remove it.
    let dir = Arc::clone(&downloads.dir);
    drop(downloads);
    let path = dir.path().to_owned();
    let removed = match Arc::try_unwrap(dir) {
        Ok(dir) => dir
            .close()
            .map_err(|e| SetupError::new(format!("cannot remove {}", path.display()), e)),
        // A download cut off by the time budget still holds it; the last holder removes it.
        Err(_) => Ok(()),
    };
    removed?;
    ctx.mark(format!("removed {}", path.display()));
    ctx.metric("dir_removed", !path.exists());
    Ok(())
}

async fn fetch_manifest(client: reqwest::Client, url: String) -> Ended {
    let text = async {
        client
            .get(url)
            .send()
            .await?
            .error_for_status()?
            .text()
            .await
    }
    .await;
    match text {
        Ok(t) => Ended::ok(t),
        Err(e) => Ended::error(services::request_error(e)),
    }
}

/// `file-1.bin 131072 <sha256>` per line.
fn parse_manifest(text: &str) -> Vec<Entry> {
    text.lines()
        .filter_map(|line| {
            let mut parts = line.split_whitespace();
            let name = parts.next()?.to_owned();
            let size = parts.next()?.parse().ok()?;
            let sha256 = parts.next()?.to_owned();
            Some(Entry {
                progress: format!("progress {name}"),
                name,
                size,
                sha256,
            })
        })
        .collect()
}

/// What the directory holds, and how many of its files read back with the manifest's sha256.
fn check_directory(
    dir: &Path,
    entries: &[Entry],
    seen: &std::sync::Mutex<(Vec<String>, usize)>,
) -> Ended {
    let mut names: Vec<String> = match std::fs::read_dir(dir) {
        Ok(list) => list
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect(),
        Err(e) => return Ended::error(format!("cannot list {}: {e}", dir.display())),
    };
    names.sort();
    let verified = entries
        .iter()
        .filter(|e| {
            std::fs::read(dir.join(&e.name))
                .is_ok_and(|bytes| services::hex(&Sha256::digest(&bytes)) == e.sha256)
        })
        .count();
    let detail = format!(
        "{verified} files match the manifest; {} in the directory",
        names.len()
    );
    if let Ok(mut s) = seen.lock() {
        *s = (names, verified);
    }
    Ended::ok(detail)
}

#[derive(Default)]
struct Tally {
    ok: AtomicUsize,
    failed: AtomicUsize,
    bytes: AtomicU64,
    failures: std::sync::Mutex<Vec<String>>,
}
