//! Challenge 2: download N files, K at a time, streamed in chunks to a temporary directory.
//! One file fails (cut short, refused or corrupted, as you choose): it is reported, the others
//! go on, and no partial file is left behind. Every file is checked against the manifest's
//! sha256; the directory is removed afterwards.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use futures::FutureExt;
use futures::future::BoxFuture;
use tempfile::TempDir;

use crate::demo::services::server::{Options, Server};
use crate::demo::services::{self, RUN_BUDGET, endpoints};
use crate::demo::{
    Ctx, DemoSpec, Ended, LegacyDemo, ParamKind, ParamSpec, Params, SetupError, VariantSpec,
};

pub struct Downloader;

const FAILURES: &[&str] = &["cut", "status", "corrupt"];

static SPEC: DemoSpec = DemoSpec {
    id: "downloader",
    title: "A file downloader: K at a time, verified, nothing half-written left behind",
    about: "Downloads `files` files from a server the demo starts on 127.0.0.1, `concurrency` \
            at a time, each streamed in chunks to NAME.part while its sha256 is computed, then \
            renamed to NAME only if it is whole and its checksum matches the manifest. File \
            `broken_file` fails on purpose; it is reported, the rest carry on, and its part file \
            is deleted. The temporary directory is removed at the end.",
    variants: &[
        VariantSpec::real(
            "shared-client",
            "one client, so one connection pool, for every file",
        ),
        VariantSpec::real(
            "client-per-file",
            "the guide's way: a new client, so a new TCP connection, for every file",
        ),
    ],
    default_variants: &["shared-client", "client-per-file"],
    params: &[
        ParamSpec {
            name: "files",
            kind: ParamKind::Int { min: 1, max: 20 },
            default: "6",
            help: "how many files to download",
        },
        ParamSpec {
            name: "concurrency",
            kind: ParamKind::Int { min: 1, max: 10 },
            default: "3",
            help: "downloads in progress at once",
        },
        ParamSpec {
            name: "size_kb",
            kind: ParamKind::Int { min: 1, max: 1024 },
            default: "128",
            help: "size of each file in KiB",
        },
        ParamSpec {
            name: "chunk_kb",
            kind: ParamKind::Int { min: 1, max: 256 },
            default: "16",
            help: "the server sends each file in pieces of this many KiB",
        },
        ParamSpec {
            name: "chunk_ms",
            kind: ParamKind::Ms { min: 0, max: 200 },
            default: "20",
            help: "the server's pause between two pieces",
        },
        ParamSpec {
            name: "broken_file",
            kind: ParamKind::Int { min: 0, max: 20 },
            default: "4",
            help: "which file fails (0: none)",
        },
        ParamSpec {
            name: "failure",
            kind: ParamKind::Choice(FAILURES),
            default: "cut",
            help: "cut: the body stops half-way; status: the server answers 500; corrupt: one \
                   byte differs, so the checksum does not match",
        },
        ParamSpec {
            name: "seed",
            kind: ParamKind::Int {
                min: 0,
                max: 1_000_000,
            },
            default: "1",
            help: "the files' contents",
        },
    ],
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
    source: include_str!("downloader.rs"),
    source_file: file!(),
};

/// One run's settings.
#[derive(Debug, Clone)]
struct Config {
    files: u64,
    concurrency: usize,
    size: u64,
    chunk: u64,
    chunk_ms: u64,
    broken: u64,
    failure: String,
    seed: u64,
    shared_client: bool,
}

impl Config {
    fn new(params: &Params, variant: &str) -> Config {
        Config {
            files: params.count("files") as u64,
            concurrency: params.count("concurrency").max(1),
            size: params.count("size_kb") as u64 * 1024,
            chunk: params.count("chunk_kb") as u64 * 1024,
            chunk_ms: params.ms("chunk_ms").as_millis() as u64,
            broken: params.count("broken_file") as u64,
            failure: params.text("failure").to_owned(),
            seed: params.int("seed") as u64,
            shared_client: variant == "shared-client",
        }
    }

    /// The URL path of file `n`, with the fault asked for if it is the broken one.
    fn path(&self, name: &str, n: u64) -> String {
        let fault = if n != self.broken {
            String::new()
        } else {
            match self.failure.as_str() {
                "status" => "&status=500".to_owned(),
                "corrupt" => "&corrupt=1".to_owned(),
                _ => format!("&cut_at={}", self.size / 2),
            }
        };
        format!(
            "/files/{name}?size={}&seed={}&chunk={}&chunk_ms={}{fault}",
            self.size, self.seed, self.chunk, self.chunk_ms
        )
    }
}

impl LegacyDemo for Downloader {
    fn spec(&self) -> &'static DemoSpec {
        &SPEC
    }

    fn run(&self, ctx: Ctx, variant: &'static str, params: Params) -> BoxFuture<'static, ()> {
        let cfg = Config::new(&params, variant);
        run_in(ctx, cfg, std::env::temp_dir()).boxed()
    }
}

/// The whole run, with the temporary directory made under `base`.
async fn run_in(ctx: Ctx, cfg: Config, base: PathBuf) {
    let options = Options {
        conn_series: Some("server_connections"),
        ..Options::default()
    };
    let server = match Server::start(&ctx, "file server", options, endpoints::handler()).await {
        Ok(server) => server,
        Err(e) => return ctx.setup_failed("file server", e).await,
    };
    ctx.metric("server_addr", server.addr().to_string());
    if let Err(why) = download_all(&ctx, &cfg, &server, &base).await {
        ctx.setup_failed("downloads", why).await;
    }
    ctx.metric("connections_opened", server.accepted());
    server.stop().await;
}

async fn download_all(
    ctx: &Ctx,
    cfg: &Config,
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
        cfg.files, cfg.size, cfg.seed
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
        client: cfg.shared_client.then_some(client),
        dir: Arc::new(dir),
        in_flight: ctx.gauge("in_flight"),
        tally: Tally::default(),
    });
    let urls = entries
        .iter()
        .enumerate()
        .map(|(i, e)| server.url(&cfg.path(&e.name, i as u64 + 1)))
        .collect();
    if tokio::time::timeout(
        RUN_BUDGET,
        download_files(&downloads, entries.clone(), urls, cfg.concurrency),
    )
    .await
    .is_err()
    {
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

impl Downloads {
    /// The shared client, or (variant client-per-file) a new one with a pool of its own.
    fn client(&self) -> Result<reqwest::Client, String> {
        match &self.client {
            Some(c) => Ok(c.clone()),
            None => services::client().map_err(|e| e.to_string()),
        }
    }

    /// Create `dir/NAME.part`. The blocking create holds the directory, so a run cancelled
    /// meanwhile removes the directory (and the new file) only once the create is over.
    async fn create_part(&self, name: &str) -> Result<PartFile, String> {
        let path = self.dir.path().join(format!("{name}.part"));
        let dir = Arc::clone(&self.dir);
        let create = {
            let path = path.clone();
            tokio::task::spawn_blocking(move || {
                let _dir = dir;
                std::fs::File::create(path)
            })
        };
        match create.await {
            Ok(Ok(file)) => Ok(PartFile {
                file: tokio::fs::File::from_std(file),
                path,
                kept: false,
            }),
            Ok(Err(e)) => Err(format!("cannot create {}: {e}", path.display())),
            Err(e) => Err(format!("cannot create {}: {e}", path.display())),
        }
    }

    fn count(&self, name: &str, result: &Result<u64, String>) {
        let t = &self.tally;
        match result {
            Ok(bytes) => {
                t.ok.fetch_add(1, Ordering::SeqCst);
                t.bytes.fetch_add(*bytes, Ordering::SeqCst);
            }
            Err(why) => {
                t.failed.fetch_add(1, Ordering::SeqCst);
                if let Ok(mut f) = t.failures.lock() {
                    f.push(format!("{name}: {why}"));
                }
            }
        }
    }
}

// region:demo
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use tokio::sync::Semaphore;

use crate::demo::ctx::Gauge;

/// A line of the manifest.
#[derive(Debug, Clone)]
struct Entry {
    name: String,
    size: u64,
    sha256: String,
    progress: String, // the name of its progress series
}

struct Downloads {
    ctx: Ctx,
    client: Option<reqwest::Client>, // None: a new client per file
    dir: Arc<TempDir>,               // removed when the last holder drops it
    in_flight: Gauge,
    tally: Tally,
}

/// A file being written. Dropped before it was kept (an error, a cancelled task), it deletes
/// itself: no partial file can be left behind, whatever way the download ends.
struct PartFile {
    file: tokio::fs::File,
    path: PathBuf,
    kept: bool,
}

impl PartFile {
    /// Flush to disk and rename `NAME.part` to `NAME`.
    async fn keep(mut self, to: &Path) -> Result<(), String> {
        let written = self.file.sync_all().await;
        written.map_err(|e| format!("cannot write {}: {e}", self.path.display()))?;
        let renamed = tokio::fs::rename(&self.path, to).await;
        renamed.map_err(|e| format!("cannot rename to {}: {e}", to.display()))?;
        self.kept = true;
        Ok(())
    }
}

impl Drop for PartFile {
    fn drop(&mut self) {
        if !self.kept {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Stream one file to `NAME.part`, hashing every chunk as it is written. Returns its size if
/// every byte arrived and the sha256 matches the manifest.
async fn fetch_to_disk(d: &Downloads, file: &Entry, url: &str) -> Result<u64, String> {
    let client = d.client()?;
    let mut resp = client
        .get(url)
        .send()
        .await
        .map_err(services::request_error)?;
    if !resp.status().is_success() {
        return Err(format!("the server answered {}", resp.status()));
    }
    let mut part = d.create_part(&file.name).await?;
    let mut sha = Sha256::new();
    let mut got = 0;
    loop {
        let chunk = match resp.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(e) => {
                let why = services::root_cause(&e);
                return Err(format!(
                    "cut off after {got} of {} bytes ({why})",
                    file.size
                ));
            }
        };
        let written = part.file.write_all(&chunk).await;
        written.map_err(|e| format!("cannot write {}: {e}", part.path.display()))?;
        sha.update(&chunk);
        got += chunk.len() as u64;
        d.ctx
            .series(&file.progress, (got * 100 / file.size.max(1)) as usize);
    }
    if got != file.size {
        return Err(format!("{got} bytes instead of {}", file.size));
    }
    let sum = services::hex(&sha.finalize());
    if sum != file.sha256 {
        return Err(format!(
            "sha256 {} is not the manifest's {}",
            &sum[..12],
            &file.sha256[..12]
        ));
    }
    part.keep(&d.dir.path().join(&file.name)).await?;
    Ok(got)
}

async fn download(d: Arc<Downloads>, file: Entry, url: String, permits: Arc<Semaphore>) -> Ended {
    let Ok(_permit) = permits.acquire_owned().await else {
        return Ended::error("semaphore closed");
    };
    d.in_flight.enter();
    let result = fetch_to_disk(&d, &file, &url).await;
    d.in_flight.leave();
    d.count(&file.name, &result);
    match result {
        Ok(bytes) => {
            d.ctx.mark(format!("{} verified", file.name));
            Ended::ok(format!("{bytes} B, sha256 ok"))
        }
        Err(why) => {
            // The part file was already deleted when `part` was dropped.
            d.ctx.mark(format!("{} failed, nothing kept", file.name));
            Ended::error(why)
        }
    }
}

/// Every file is a task from the start; `concurrency` permits let that many download at once.
/// A failed file ends its own task only: the others carry on.
async fn download_files(d: &Arc<Downloads>, files: Vec<Entry>, urls: Vec<String>, k: usize) {
    let permits = Arc::new(Semaphore::new(k));
    let mut tasks = tokio::task::JoinSet::new();
    for (file, url) in files.into_iter().zip(urls) {
        let name = file.name.clone();
        let task = download(Arc::clone(d), file, url, Arc::clone(&permits));
        d.ctx.spawn_in(&mut tasks, name, task);
    }
    while tasks.join_next().await.is_some() {}
}
// endregion:demo

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use super::*;
    use crate::demo::recorder::Recorder;
    use crate::demo::services::testing::{cancel_midway, clean, metric, ports_closed, run};
    use crate::demo::timeline::TimelineSnapshot;
    use crate::demo::{Clock, Outcome};

    const SMALL: &[&str] = &[
        "files=6",
        "concurrency=3",
        "size_kb=64",
        "chunk_kb=8",
        "chunk_ms=5",
    ];

    fn sets(extra: &[&'static str]) -> Vec<&'static str> {
        SMALL.iter().chain(extra).copied().collect()
    }

    fn strings(tl: &TimelineSnapshot, name: &str) -> Vec<String> {
        match tl.metrics.get(name) {
            Some(serde_json::Value::Array(v)) => v
                .iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect(),
            other => panic!("{name}: {other:?}"),
        }
    }

    fn dir_of(tl: &TimelineSnapshot) -> String {
        tl.metrics
            .get("dir")
            .and_then(|d| d.as_str())
            .expect("dir metric")
            .to_owned()
    }

    /// The failed file is reported and absent, the others are on disk with the manifest's
    /// sha256, and the directory is gone.
    fn one_failure(tl: &TimelineSnapshot, failed_name: &str, why: &str) {
        assert_eq!(metric(tl, "files_ok"), 5.0);
        assert_eq!(metric(tl, "files_failed"), 1.0);
        assert_eq!(metric(tl, "verified_on_disk"), 5.0);
        assert_eq!(metric(tl, "bytes_written"), 5.0 * 64.0 * 1024.0);
        let failed = strings(tl, "failed");
        assert_eq!(failed.len(), 1);
        assert!(
            failed[0].starts_with(&format!("{failed_name}: ")),
            "{failed:?}"
        );
        assert!(failed[0].contains(why), "{failed:?}");
        let left = strings(tl, "files_left");
        let expected: Vec<String> = (1..=6)
            .map(|n| format!("file-{n}.bin"))
            .filter(|n| n != failed_name)
            .collect();
        assert_eq!(left, expected, "only whole, verified files; no .part");
        let lane = tl.task(failed_name).expect("lane");
        assert_eq!(lane.outcome, Outcome::Error);
        assert_eq!(metric(tl, "max_in_flight"), 3.0);
        assert_eq!(tl.metrics.get("dir_removed"), Some(&true.into()));
        assert!(!Path::new(&dir_of(tl)).exists());
        ports_closed(tl, "server_addr");
    }

    #[test]
    fn a_cut_file_is_reported_and_leaves_nothing_behind() {
        let report = run("downloader", &[], &sets(&[]));
        for r in &report.runs {
            clean(r);
            let tl = &r.timeline;
            one_failure(tl, "file-4.bin", "cut off after");
            let opened = metric(tl, "connections_opened");
            if r.variant == "shared-client" {
                // The pool's connections are reused; the cut one is replaced.
                assert!((3.0..=4.0).contains(&opened), "{opened}");
            } else {
                // The manifest's, then one per file.
                assert_eq!(opened, 7.0);
            }
        }
    }

    #[test]
    fn a_refused_or_corrupt_file_is_caught_too() {
        for (failure, why) in [("failure=status", "500"), ("failure=corrupt", "sha256")] {
            let report = run(
                "downloader",
                &["shared-client"],
                &sets(&[failure, "broken_file=2"]),
            );
            let r = &report.runs[0];
            clean(r);
            one_failure(&r.timeline, "file-2.bin", why);
        }
    }

    #[test]
    fn without_a_broken_file_everything_is_kept_and_verified() {
        let report = run("downloader", &["shared-client"], &sets(&["broken_file=0"]));
        let r = &report.runs[0];
        clean(r);
        let tl = &r.timeline;
        assert_eq!(metric(tl, "files_ok"), 6.0);
        assert_eq!(metric(tl, "verified_on_disk"), 6.0);
        assert_eq!(strings(tl, "files_left").len(), 6);
        assert!(!Path::new(&dir_of(tl)).exists());
        // Every file's progress reached 100 %.
        for n in 1..=6 {
            let last = tl.series[&format!("progress file-{n}.bin")].last().cloned();
            assert_eq!(last.map(|p| p.1), Some(100usize.into()));
        }
    }

    #[test]
    fn cancelling_mid_download_removes_the_directory() {
        let slow = [
            "size_kb=1024",
            "chunk_kb=16",
            "chunk_ms=100",
            "concurrency=2",
        ];
        let before = cancel_midway("downloader", "shared-client", &slow, 600, "server_addr");
        let dir = dir_of(&before);
        // A create still running on the blocking pool removes the directory when it is done.
        let gone = (0..100).any(|_| {
            std::thread::sleep(Duration::from_millis(10));
            !Path::new(&dir).exists()
        });
        assert!(gone, "{dir} is left behind");
    }

    #[test]
    fn an_unwritable_temp_dir_ends_the_run_with_an_error() {
        let not_a_dir = tempfile::NamedTempFile::new().expect("a file");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let rec = rt.block_on(async { Recorder::new() });
        let ctx = Ctx::new(rec.clone(), Clock::Real, "downloader");
        let params = Params::defaults(&SPEC);
        let cfg = Config::new(&params, "shared-client");
        rt.block_on(run_in(ctx, cfg, not_a_dir.path().to_owned()));
        let tl = rec.snapshot();
        let lane = tl.task("downloads").expect("the failure has a lane");
        assert_eq!(lane.outcome, Outcome::Error);
        assert!(
            lane.detail
                .starts_with("cannot create a temporary directory in"),
            "{}",
            lane.detail
        );
        // The run as a whole says why it failed (so `run` exits 1 and the app shows it).
        assert_eq!(
            rec.run_error().map(|e| e.to_string()),
            Some(lane.detail.clone())
        );
        ports_closed(&tl, "server_addr");
    }
}
